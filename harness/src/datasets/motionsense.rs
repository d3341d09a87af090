//! MotionSense (Malekzadeh et al., 2019), `A_DeviceMotion_data/<act>_<trial>/sub_<n>.csv`:
//! iOS CoreMotion device-motion at 50 Hz without timestamps, phone in the front trouser pocket.
//!
//! CoreMotion's `gravity` points down (face-up phone: z = -1 g) and `userAcceleration` has the
//! same sign, the opposite of an Android accelerometer. So the band-frame accel is
//! `-(gravity + userAcceleration) · g`; `rotationRate` is right-handed in the same device axes
//! as Android and is taken as-is. One [`Recording`] per subject × trial.

use std::path::{Path, PathBuf};

use super::{
    Activity, BodyPosition, DatasetError, LoadOptions, Loaded, Progress, Recording,
    STANDARD_GRAVITY, text,
};

/// The rate MotionSense documents.
pub const RATE_HZ: f64 = 50.0;
const PERIOD_NS: i64 = 20_000_000;

/// The columns harbor needs, by header name; their order in the file does not matter.
const COLUMNS: [&str; 9] = [
    "gravity.x",
    "gravity.y",
    "gravity.z",
    "rotationRate.x",
    "rotationRate.y",
    "rotationRate.z",
    "userAcceleration.x",
    "userAcceleration.y",
    "userAcceleration.z",
];

/// Maps a trial folder's activity code to the canonical vocabulary.
pub fn activity(code: &str) -> Option<Activity> {
    match code {
        "dws" => Some(Activity::Downstairs),
        "ups" => Some(Activity::Upstairs),
        "wlk" => Some(Activity::Walking),
        "jog" => Some(Activity::Jogging),
        "sit" => Some(Activity::Sitting),
        "std" => Some(Activity::Standing),
        _ => None,
    }
}

/// Loads every trial CSV under `root` (the `A_DeviceMotion_data` folder or its parent).
pub fn load(
    root: &Path,
    opts: &LoadOptions,
    progress: &dyn Progress,
) -> Result<Loaded, DatasetError> {
    let data_dir = data_dir(root)?;
    let mut files = Vec::new();
    for trial_dir in sorted_entries(&data_dir)?
        .into_iter()
        .filter(|p| p.is_dir())
    {
        let Some(name) = trial_dir
            .file_name()
            .and_then(|n| n.to_str())
            .map(str::to_string)
        else {
            continue;
        };
        let (code, trial) = name.split_once('_').unwrap_or((&name, ""));
        let activity = activity(code).filter(|_| trial.parse::<u32>().is_ok()).ok_or_else(|| {
            DatasetError::invalid(&trial_dir, "folder name is not `<act>_<trial>` with act one of dws, ups, wlk, jog, sit, std")
        })?;
        let mut found = 0;
        for file in sorted_entries(&trial_dir)? {
            let subject = file
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_prefix("sub_")?.strip_suffix(".csv"));
            let Some(subject) = subject.map(str::to_string) else {
                continue;
            };
            found += 1;
            if opts.wants_subject(&subject) {
                files.push((file, subject, name.clone(), activity.clone()));
            }
        }
        if found == 0 {
            let expected = "sub_<n>.csv files".into();
            return Err(DatasetError::Empty {
                root: trial_dir,
                what: "subject CSV".into(),
                expected,
            });
        }
    }
    if files.is_empty() && opts.subjects.is_empty() {
        let expected = "folders <act>_<trial> holding sub_<n>.csv".into();
        return Err(DatasetError::Empty {
            root: data_dir,
            what: "MotionSense trials".into(),
            expected,
        });
    }

    progress.start(text::total_size(files.iter().map(|(p, ..)| p.as_path())));
    let mut loaded = Loaded::default();
    for (path, subject, session, activity) in files {
        let bytes = text::read_file(&path, progress)?;
        loaded.bytes_read += bytes.len() as u64;
        let (accel, gyro) = parse_csv(&path, &bytes)?;
        loaded.recordings.push(Recording {
            dataset: "motionsense".into(),
            subject,
            session,
            position: BodyPosition::Pocket,
            sources: vec![path],
            nominal_rate_hz: RATE_HZ,
            t_ns: (0..accel.len() as i64).map(|i| i * PERIOD_NS).collect(),
            labels: vec![0; accel.len()],
            accel,
            gyro: Some(gyro),
            activities: vec![activity],
        });
    }
    Ok(loaded)
}

/// Accepts `A_DeviceMotion_data/` itself or the folder holding it.
fn data_dir(root: &Path) -> Result<PathBuf, DatasetError> {
    let nested = root.join("A_DeviceMotion_data");
    if nested.is_dir() {
        return Ok(nested);
    }
    if root.file_name().is_some_and(|n| n == "A_DeviceMotion_data") && root.is_dir() {
        return Ok(root.to_path_buf());
    }
    let expected = "A_DeviceMotion_data/<act>_<trial>/sub_<n>.csv".into();
    Err(DatasetError::Empty {
        root: root.to_path_buf(),
        what: "A_DeviceMotion_data folder".into(),
        expected,
    })
}

fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>, DatasetError> {
    let mut paths = std::fs::read_dir(dir)
        .map_err(|e| DatasetError::io(dir, e))?
        .map(|e| e.map(|e| e.path()).map_err(|e| DatasetError::io(dir, e)))
        .collect::<Result<Vec<_>, _>>()?;
    paths.sort();
    Ok(paths)
}

/// Band-frame accel (m/s²) and gyro (rad/s) of one trial.
type AccelGyro = (Vec<[f32; 3]>, Vec<[f32; 3]>);

/// Parses one `sub_<n>.csv` into band-frame accel and gyro.
fn parse_csv(path: &Path, bytes: &[u8]) -> Result<AccelGyro, DatasetError> {
    let mut lines = text::lines(bytes);
    let (_, header) = lines
        .next()
        .ok_or_else(|| DatasetError::invalid(path, "empty file (no header)"))?;
    let header: Vec<&[u8]> = header
        .strip_prefix(b"\xEF\xBB\xBF")
        .unwrap_or(header)
        .split(|&b| b == b',')
        .collect();
    if header
        .first()
        .is_none_or(|first| !first.trim_ascii().is_empty())
    {
        return Err(DatasetError::malformed(
            path,
            1,
            "header must start with the unnamed row-index column",
        ));
    }
    let mut index = [0usize; COLUMNS.len()];
    for (slot, name) in index.iter_mut().zip(COLUMNS) {
        *slot = header
            .iter()
            .position(|h| h.trim_ascii() == name.as_bytes())
            .ok_or_else(|| {
                DatasetError::malformed(path, 1, format!("header has no `{name}` column"))
            })?;
    }

    let g = STANDARD_GRAVITY as f32;
    let (mut accel, mut gyro) = (Vec::new(), Vec::new());
    let mut fields = Vec::with_capacity(header.len());
    for (n, line) in lines {
        fields.clear();
        fields.extend(line.split(|&b| b == b','));
        if fields.len() != header.len() {
            let reason = format!("{} fields, the header has {}", fields.len(), header.len());
            return Err(DatasetError::malformed(path, n, reason));
        }
        let row_index = accel.len();
        if fields[0].trim_ascii() != row_index.to_string().as_bytes() {
            let reason = format!(
                "row index `{}`, expected {row_index} (rows missing or reordered?)",
                fields[0].escape_ascii()
            );
            return Err(DatasetError::malformed(path, n, reason));
        }
        let mut v = [0f32; COLUMNS.len()];
        for ((value, &col), name) in v.iter_mut().zip(&index).zip(COLUMNS) {
            *value = text::parse_f32(fields[col], name)
                .map_err(|reason| DatasetError::malformed(path, n, reason))?;
        }
        accel.push(std::array::from_fn(|k| -(v[k] + v[6 + k]) * g));
        gyro.push([v[3], v[4], v[5]]);
    }
    if accel.is_empty() {
        return Err(DatasetError::invalid(path, "file has a header but no rows"));
    }
    Ok((accel, gyro))
}

/// One row of `data_subjects_info.csv`.
#[derive(Clone, Debug, PartialEq)]
pub struct SubjectInfo {
    /// Subject code (the `sub_N` of the file names).
    pub code: u32,
    /// Weight in kg.
    pub weight_kg: f32,
    /// Height in cm.
    pub height_cm: f32,
    /// Age in years.
    pub age_years: f32,
    /// 1 = male, 0 = female, as published.
    pub gender: u8,
}

/// Reads `data_subjects_info.csv` (it starts with a UTF-8 byte-order mark).
pub fn read_subjects_info(path: &Path) -> Result<Vec<SubjectInfo>, DatasetError> {
    let bytes = text::read_regular(path)?;
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    let mut lines = text::lines(bytes);
    match lines.next() {
        Some((_, header)) if header.trim_ascii() == b"code,weight,height,age,gender" => {}
        _ => {
            return Err(DatasetError::malformed(
                path,
                1,
                "header is not `code,weight,height,age,gender`",
            ));
        }
    }
    let mut subjects = Vec::new();
    for (n, line) in lines {
        let f: Vec<&[u8]> = line.split(|&b| b == b',').collect();
        let [code, weight, height, age, gender] = f[..] else {
            return Err(DatasetError::malformed(
                path,
                n,
                format!("{} fields, expected 5", f.len()),
            ));
        };
        let num = |field: &[u8], what: &str| {
            text::parse_f32(field, what).map_err(|r| DatasetError::malformed(path, n, r))
        };
        let code = num(code, "code")?;
        let gender = num(gender, "gender")?;
        if code.fract() != 0.0 || code < 1.0 || !(gender == 0.0 || gender == 1.0) {
            return Err(DatasetError::malformed(
                path,
                n,
                "code must be a positive integer and gender 0 or 1",
            ));
        }
        subjects.push(SubjectInfo {
            code: code as u32,
            weight_kg: num(weight, "weight")?,
            height_cm: num(height, "height")?,
            age_years: num(age, "age")?,
            gender: gender as u8,
        });
    }
    Ok(subjects)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = ",attitude.roll,attitude.pitch,attitude.yaw,gravity.x,gravity.y,gravity.z,rotationRate.x,rotationRate.y,rotationRate.z,userAcceleration.x,userAcceleration.y,userAcceleration.z";

    #[test]
    fn face_up_at_rest_reads_plus_g_on_z() {
        // CoreMotion, phone face up and still: gravity = (0, 0, -1) g, no user acceleration.
        let csv =
            format!("{HEADER}\n0,0,0,0,0,0,-1,0.1,0.2,0.3,0,0,0\n1,0,0,0,0,0,-1,0,0,0,0,0,0.5\n");
        let (accel, gyro) = parse_csv(Path::new("s.csv"), csv.as_bytes()).unwrap();
        assert_eq!(accel[0], [0.0, 0.0, 9.80665]);
        assert_eq!(gyro[0], [0.1, 0.2, 0.3]);
        // userAcceleration adds with gravity's sign: +0.5 g there is 0.5 g less specific force.
        assert!((accel[1][2] - 0.5 * 9.80665).abs() < 1e-5);
    }

    #[test]
    fn malformed_rows_name_file_and_line() {
        let p = Path::new("s.csv");
        for (body, wanted) in [
            (
                "0,0,0,0,0,0,-1,0,0,0,0,0\n",
                "s.csv:2: 12 fields, the header has 13",
            ),
            (
                "0,0,0,0,0,0,-1,0,0,0,0,0,0\n2,0,0,0,0,0,-1,0,0,0,0,0,0\n",
                "s.csv:3: row index `2`, expected 1",
            ),
            (
                "0,0,0,0,0,0,,0,0,0,0,0,0\n",
                "s.csv:2: gravity.z: empty field",
            ),
            (
                "0,0,0,0,0,0,-1,0,0,0,nan,0,0\n",
                "s.csv:2: userAcceleration.x: `nan` is not finite",
            ),
            ("", "s.csv: file has a header but no rows"),
        ] {
            let err = parse_csv(p, format!("{HEADER}\n{body}").as_bytes())
                .unwrap_err()
                .to_string();
            assert!(err.starts_with(wanted), "got `{err}`, wanted `{wanted}`");
        }
        let err = parse_csv(p, b"a,b\n").unwrap_err().to_string();
        assert!(err.starts_with("s.csv:1: header must start"), "{err}");
        let err = parse_csv(p, HEADER.replace("gravity.y", "g.y").as_bytes())
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("s.csv:1: header has no `gravity.y`"),
            "{err}"
        );
    }
}
