//! BasicMotions (UEA multivariate archive) in sktime/aeon `.ts` format: `#` comment lines,
//! `@key value` header lines up to `@data`, then one case per line with the dimensions
//! separated by `:`, values by `,` and the class label last.
//!
//! Six dimensions, 100 samples at 10 Hz per case: 0–2 accelerometer (m/s², gravity already
//! removed by the watch), 3–5 gyroscope (rad/s); see `docs/datasets.md` for the evidence.
//! UEA publishes no subject ids, so each case is its own recording, subject `unknown`.

use std::path::{Path, PathBuf};

use super::{Activity, BodyPosition, DatasetError, LoadOptions, Loaded, Progress, Recording, text};

/// The rate BasicMotions documents.
pub const RATE_HZ: f64 = 10.0;
const PERIOD_NS: i64 = 100_000_000;
const DIMENSIONS: usize = 6;
/// Subject id of every case: the dataset does not name its subjects.
pub const SUBJECT: &str = "unknown";

/// The two published splits, both read.
const SPLITS: [(&str, &str); 2] = [
    ("train", "BasicMotions_TRAIN.ts"),
    ("test", "BasicMotions_TEST.ts"),
];

/// Maps a class label to the canonical vocabulary.
pub fn activity(label: &str) -> Option<Activity> {
    match label {
        "Walking" => Some(Activity::Walking),
        "Running" => Some(Activity::Running),
        "Standing" => Some(Activity::Standing),
        "Badminton" => Some(Activity::Other("badminton".into())),
        _ => None,
    }
}

/// Loads the train and test `.ts` files under `root` as one recording per case.
pub fn load(
    root: &Path,
    opts: &LoadOptions,
    progress: &dyn Progress,
) -> Result<Loaded, DatasetError> {
    let dir = data_dir(root)?;
    let paths: Vec<PathBuf> = SPLITS.iter().map(|(_, file)| dir.join(file)).collect();
    let mut loaded = Loaded::default();
    if !opts.wants_subject(SUBJECT) {
        return Ok(loaded);
    }
    progress.start(text::total_size(paths.iter().map(PathBuf::as_path)));
    for ((split, _), path) in SPLITS.iter().zip(&paths) {
        let bytes = text::read_file(path, progress)?;
        loaded.bytes_read += bytes.len() as u64;
        for case in parse_ts(path, &bytes)? {
            let n = case.accel.len();
            loaded.recordings.push(Recording {
                dataset: "basicmotions".into(),
                subject: SUBJECT.into(),
                session: format!("{split}_{:03}", case.number),
                position: BodyPosition::Wrist,
                sources: vec![path.clone()],
                nominal_rate_hz: RATE_HZ,
                t_ns: (0..n as i64).map(|i| i * PERIOD_NS).collect(),
                accel: case.accel,
                gyro: Some(case.gyro),
                labels: vec![0; n],
                activities: vec![case.activity],
            });
        }
    }
    Ok(loaded)
}

/// Accepts `BasicMotions/` itself or the folder holding it.
fn data_dir(root: &Path) -> Result<PathBuf, DatasetError> {
    [root.join("BasicMotions"), root.to_path_buf()]
        .into_iter()
        .find(|dir| dir.join(SPLITS[0].1).is_file() || dir.join(SPLITS[1].1).is_file())
        .ok_or_else(|| DatasetError::Empty {
            root: root.to_path_buf(),
            what: "BasicMotions .ts files".into(),
            expected: "BasicMotions/BasicMotions_TRAIN.ts and BasicMotions_TEST.ts".into(),
        })
}

/// One case (line) of a `.ts` file.
#[derive(Debug)]
pub struct Case {
    /// 1-based case number within its file.
    pub number: usize,
    /// Accelerometer samples (m/s²).
    pub accel: Vec<[f32; 3]>,
    /// Gyroscope samples (rad/s).
    pub gyro: Vec<[f32; 3]>,
    /// The case's class.
    pub activity: Activity,
}

/// Parses a `.ts` file holding six equal-length dimensions per case.
pub fn parse_ts(path: &Path, bytes: &[u8]) -> Result<Vec<Case>, DatasetError> {
    let mut classes: Option<Vec<String>> = None;
    let mut dimensions = None;
    let mut series_length = None;
    let mut in_data = false;
    let mut cases = Vec::new();
    let mut last_line = 0;
    for (n, line) in text::lines(bytes) {
        last_line = n;
        let line = line.trim_ascii();
        if !in_data {
            if line.is_empty() || line.starts_with(b"#") {
                continue;
            }
            let text = std::str::from_utf8(line)
                .map_err(|_| DatasetError::malformed(path, n, "header line is not UTF-8"))?;
            let Some(rest) = text.strip_prefix('@') else {
                return Err(DatasetError::malformed(
                    path,
                    n,
                    "data before the `@data` line",
                ));
            };
            let (key, value) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
            let value = value.trim();
            let number = || {
                value.parse::<usize>().map_err(|_| {
                    DatasetError::malformed(path, n, format!("@{key}: `{value}` is not a count"))
                })
            };
            match key.to_ascii_lowercase().as_str() {
                "data" => in_data = true,
                "dimensions" => dimensions = Some(number()?),
                "serieslength" => series_length = Some(number()?),
                "timestamps" if value != "false" => {
                    return Err(DatasetError::malformed(
                        path,
                        n,
                        "timestamped .ts files are not supported",
                    ));
                }
                "univariate" if value != "false" => {
                    return Err(DatasetError::malformed(
                        path,
                        n,
                        "expected a multivariate problem",
                    ));
                }
                "classlabel" => {
                    let mut words = value.split_whitespace();
                    if words.next() != Some("true") {
                        return Err(DatasetError::malformed(
                            path,
                            n,
                            "expected `@classLabel true <labels>`",
                        ));
                    }
                    classes = Some(words.map(str::to_string).collect());
                }
                _ => {} // @problemName, @missing, @equalLength: informational
            }
            continue;
        }
        if line.is_empty() {
            continue; // blank lines between cases carry no data
        }
        if dimensions.is_some_and(|d| d != DIMENSIONS) {
            return Err(DatasetError::invalid(
                path,
                format!("@dimensions is {dimensions:?}, BasicMotions has {DIMENSIONS}"),
            ));
        }
        let Some(classes) = classes.as_deref() else {
            return Err(DatasetError::malformed(
                path,
                n,
                "no `@classLabel true ...` line before the data",
            ));
        };
        cases.push(parse_case(
            path,
            n,
            line,
            cases.len() + 1,
            classes,
            series_length,
        )?);
    }
    if !in_data {
        return Err(DatasetError::malformed(
            path,
            last_line,
            "file ends before the `@data` line (truncated?)",
        ));
    }
    if cases.is_empty() {
        return Err(DatasetError::invalid(path, "no cases after `@data`"));
    }
    Ok(cases)
}

fn parse_case(
    path: &Path,
    n: usize,
    line: &[u8],
    number: usize,
    classes: &[String],
    series_length: Option<usize>,
) -> Result<Case, DatasetError> {
    let parts: Vec<&[u8]> = line.split(|&b| b == b':').collect();
    let [dims @ .., label] = &parts[..] else {
        unreachable!("split yields at least one part")
    };
    if dims.len() != DIMENSIONS {
        let reason = format!(
            "{} dimensions before the class label, expected {DIMENSIONS} (truncated line?)",
            dims.len()
        );
        return Err(DatasetError::malformed(path, n, reason));
    }
    let label = String::from_utf8_lossy(label.trim_ascii());
    if !classes.iter().any(|c| *c == label) {
        return Err(DatasetError::malformed(
            path,
            n,
            format!("class `{label}` is not in @classLabel {classes:?}"),
        ));
    }
    let activity = activity(&label)
        .ok_or_else(|| DatasetError::malformed(path, n, format!("unknown class `{label}`")))?;
    let mut values: Vec<Vec<f32>> = Vec::with_capacity(DIMENSIONS);
    for (d, dim) in dims.iter().enumerate() {
        let series = dim
            .split(|&b| b == b',')
            .enumerate()
            .map(|(i, v)| text::parse_f32(v, &format!("dimension {d} value {i}")))
            .collect::<Result<Vec<f32>, String>>()
            .map_err(|reason| DatasetError::malformed(path, n, reason))?;
        let expected = series_length.unwrap_or(values.first().map_or(series.len(), Vec::len));
        if series.len() != expected {
            let reason = format!(
                "dimension {d} has {} values, expected {expected}",
                series.len()
            );
            return Err(DatasetError::malformed(path, n, reason));
        }
        values.push(series);
    }
    let triple =
        |first: usize, i: usize| [values[first][i], values[first + 1][i], values[first + 2][i]];
    let len = values[0].len();
    Ok(Case {
        number,
        accel: (0..len).map(|i| triple(0, i)).collect(),
        gyro: (0..len).map(|i| triple(3, i)).collect(),
        activity,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "#comment\n@problemName BasicMotions\n@timeStamps false\n@univariate false\n@dimensions 6\n@seriesLength 2\n@classLabel true Standing Running Walking Badminton\n@data\n";

    #[test]
    fn splits_dimensions_into_accel_and_gyro() {
        let ts = format!("{HEADER}1,2:3,4:5,6:7,8:9,10:11,12:Badminton\n");
        let cases = parse_ts(Path::new("t.ts"), ts.as_bytes()).unwrap();
        assert_eq!(cases.len(), 1);
        assert_eq!(cases[0].accel, vec![[1.0, 3.0, 5.0], [2.0, 4.0, 6.0]]);
        assert_eq!(cases[0].gyro, vec![[7.0, 9.0, 11.0], [8.0, 10.0, 12.0]]);
        assert_eq!(cases[0].activity, Activity::Other("badminton".into()));
    }

    #[test]
    fn broken_cases_name_file_and_line() {
        let p = Path::new("t.ts");
        for (data, wanted) in [
            ("1,2:3,4:5,6:7,8:9,10:Walking\n", "t.ts:9: 5 dimensions"),
            (
                "1,2:3,4:5,6:7,8:9,10:11:Walking\n",
                "t.ts:9: dimension 5 has 1 values, expected 2",
            ),
            (
                "1,2:3,4:5,6:7,8:9,10:11,?:Walking\n",
                "t.ts:9: dimension 5 value 1: `?` is not a number",
            ),
            (
                "1,2:3,4:5,6:7,8:9,10:11,:Walking\n",
                "t.ts:9: dimension 5 value 1: empty field",
            ),
            (
                "1,2:3,4:5,6:7,8:9,10:11,12:Jumping\n",
                "t.ts:9: class `Jumping` is not in @classLabel",
            ),
            ("", "t.ts: no cases"),
        ] {
            let err = parse_ts(p, format!("{HEADER}{data}").as_bytes())
                .unwrap_err()
                .to_string();
            assert!(err.starts_with(wanted), "got `{err}`, wanted `{wanted}`");
        }
        let err = parse_ts(p, b"#only a comment\n@problemName X\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("t.ts:2: file ends before the `@data`"),
            "{err}"
        );
    }
}
