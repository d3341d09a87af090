//! UCI HAPT (Smartphone-Based Recognition of Human Activities and Postural Transitions, v2.1),
//! `RawData/`: `acc_expXX_userYY.txt` (g) and `gyro_expXX_userYY.txt` (rad/s), three
//! space-separated values per line at 50 Hz without timestamps, and `labels.txt`
//! (`exp user activity start end`, 1-based inclusive sample indices).
//!
//! One [`Recording`] per experiment; samples no label covers are [`Activity::Unlabelled`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::{
    Activity, BodyPosition, DatasetError, LabelTable, LoadOptions, Loaded, Progress, Recording,
    STANDARD_GRAVITY, text,
};

/// The rate HAPT documents.
pub const RATE_HZ: f64 = 50.0;
const PERIOD_NS: i64 = 20_000_000;

/// Maps an id of `activity_labels.txt` to the canonical vocabulary.
pub fn activity(id: u32) -> Option<Activity> {
    let transition = |name: &str| Some(Activity::Transition(name.to_string()));
    match id {
        1 => Some(Activity::Walking),
        2 => Some(Activity::Upstairs),
        3 => Some(Activity::Downstairs),
        4 => Some(Activity::Sitting),
        5 => Some(Activity::Standing),
        6 => Some(Activity::Lying),
        7 => transition("stand_to_sit"),
        8 => transition("sit_to_stand"),
        9 => transition("sit_to_lie"),
        10 => transition("lie_to_sit"),
        11 => transition("stand_to_lie"),
        12 => transition("lie_to_stand"),
        _ => None,
    }
}

/// One row of `labels.txt`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LabelSpan {
    /// Experiment number (the `expNN` of the file names).
    pub experiment: u32,
    /// User number.
    pub user: u32,
    /// Activity id of `activity_labels.txt`.
    pub activity: u32,
    /// 1-based first sample.
    pub start: usize,
    /// 1-based last sample, inclusive.
    pub end: usize,
    /// Line in `labels.txt`, for errors.
    pub line: usize,
}

/// Loads every labelled experiment under `root` (the folder holding `RawData/`).
pub fn load(
    root: &Path,
    opts: &LoadOptions,
    progress: &dyn Progress,
) -> Result<Loaded, DatasetError> {
    let raw = raw_dir(root)?;
    let experiments = list_experiments(&raw)?;
    let labels_path = raw.join("labels.txt");
    let labels_bytes = text::read_file(&labels_path, progress)?;
    let mut spans = group_labels(
        &labels_path,
        parse_labels(&labels_path, &labels_bytes)?,
        &experiments,
    )?;

    let wanted: Vec<_> = experiments
        .iter()
        .filter(|((_, user), _)| opts.wants_subject(&user.to_string()))
        .collect();
    progress.start(text::total_size(
        wanted
            .iter()
            .flat_map(|(_, (acc, gyro))| [acc.as_path(), gyro.as_path()]),
    ));
    let mut loaded = Loaded {
        bytes_read: labels_bytes.len() as u64,
        ..Loaded::default()
    };
    for (&(experiment, user), (acc_path, gyro_path)) in wanted {
        let acc_bytes = text::read_file(acc_path, progress)?;
        let gyro_bytes = text::read_file(gyro_path, progress)?;
        loaded.bytes_read += (acc_bytes.len() + gyro_bytes.len()) as u64;
        let mut accel = parse_triples(acc_path, &acc_bytes)?;
        let gyro = parse_triples(gyro_path, &gyro_bytes)?;
        if accel.len() != gyro.len() {
            let (short, n) = if accel.len() < gyro.len() {
                (acc_path, accel.len())
            } else {
                (gyro_path, gyro.len())
            };
            let reason = format!(
                "file ends after {n} samples but its partner has {} (truncated?)",
                accel.len().max(gyro.len())
            );
            return Err(DatasetError::malformed(short, n + 1, reason));
        }
        accel
            .iter_mut()
            .flatten()
            .for_each(|v| *v *= STANDARD_GRAVITY as f32);
        let (labels, activities) = label_samples(
            &labels_path,
            spans.remove(&(experiment, user)).unwrap_or_default(),
            accel.len(),
        )?;
        loaded.recordings.push(Recording {
            dataset: "hapt".into(),
            subject: user.to_string(),
            session: format!("exp{experiment:02}"),
            position: BodyPosition::Waist,
            sources: vec![acc_path.clone(), gyro_path.clone(), labels_path.clone()],
            nominal_rate_hz: RATE_HZ,
            t_ns: (0..accel.len() as i64).map(|i| i * PERIOD_NS).collect(),
            accel,
            gyro: Some(gyro),
            labels,
            activities,
        });
    }
    Ok(loaded)
}

/// Accepts `RawData/` itself, the `HAPT Data Set/` folder or the folder holding it.
fn raw_dir(root: &Path) -> Result<PathBuf, DatasetError> {
    [
        root.to_path_buf(),
        root.join("RawData"),
        root.join("HAPT Data Set").join("RawData"),
    ]
    .into_iter()
    .find(|dir| dir.join("labels.txt").is_file())
    .ok_or_else(|| DatasetError::Empty {
        root: root.to_path_buf(),
        what: "HAPT RawData/labels.txt".into(),
        expected: "RawData/ with labels.txt, acc_expXX_userYY.txt and gyro_expXX_userYY.txt".into(),
    })
}

type Experiments = BTreeMap<(u32, u32), (PathBuf, PathBuf)>;

/// (experiment, user) → (acc file, gyro file). Every acc file needs its gyro file.
fn list_experiments(raw: &Path) -> Result<Experiments, DatasetError> {
    let entries = std::fs::read_dir(raw).map_err(|e| DatasetError::io(raw, e))?;
    let mut found = Experiments::new();
    for entry in entries {
        let path = entry.map_err(|e| DatasetError::io(raw, e))?.path();
        let Some(key) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| parse_file_name(n, "acc_"))
        else {
            continue;
        };
        let gyro = raw.join(format!("gyro_exp{:02}_user{:02}.txt", key.0, key.1));
        if !gyro.is_file() {
            return Err(DatasetError::invalid(
                &gyro,
                "missing: every acc_expXX_userYY.txt needs its gyro file",
            ));
        }
        found.insert(key, (path, gyro));
    }
    if found.is_empty() {
        let expected = "acc_expXX_userYY.txt and gyro_expXX_userYY.txt".into();
        return Err(DatasetError::Empty {
            root: raw.to_path_buf(),
            what: "HAPT experiment files".into(),
            expected,
        });
    }
    Ok(found)
}

/// `acc_exp01_user01.txt` → (1, 1).
fn parse_file_name(name: &str, prefix: &str) -> Option<(u32, u32)> {
    let rest = name
        .strip_prefix(prefix)?
        .strip_prefix("exp")?
        .strip_suffix(".txt")?;
    let (exp, user) = rest.split_once("_user")?;
    Some((exp.parse().ok()?, user.parse().ok()?))
}

/// Parses `labels.txt`: five unsigned integers per line.
pub fn parse_labels(path: &Path, bytes: &[u8]) -> Result<Vec<LabelSpan>, DatasetError> {
    let mut spans = Vec::new();
    for (n, line) in text::lines(bytes) {
        let fields: Vec<&[u8]> = line
            .split(u8::is_ascii_whitespace)
            .filter(|f| !f.is_empty())
            .collect();
        let [exp, user, act, start, end] = fields[..] else {
            let reason = format!(
                "expected 5 fields `exp user activity start end`, found {}",
                fields.len()
            );
            return Err(DatasetError::malformed(path, n, reason));
        };
        let int = |f: &[u8], what: &str| -> Result<u32, DatasetError> {
            std::str::from_utf8(f)
                .ok()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| {
                    DatasetError::malformed(
                        path,
                        n,
                        format!(
                            "{what}: `{}` is not an unsigned 32-bit integer",
                            f.escape_ascii()
                        ),
                    )
                })
        };
        let span = LabelSpan {
            experiment: int(exp, "experiment")?,
            user: int(user, "user")?,
            activity: int(act, "activity")?,
            start: int(start, "start")? as usize,
            end: int(end, "end")? as usize,
            line: n,
        };
        if activity(span.activity).is_none() {
            return Err(DatasetError::malformed(
                path,
                n,
                format!("unknown activity id {} (1-12)", span.activity),
            ));
        }
        if span.start == 0 || span.end < span.start {
            let reason = format!(
                "bad sample range {}..={} (1-based, inclusive)",
                span.start, span.end
            );
            return Err(DatasetError::malformed(path, n, reason));
        }
        spans.push(span);
    }
    if spans.is_empty() {
        return Err(DatasetError::invalid(path, "no labels"));
    }
    Ok(spans)
}

fn group_labels(
    path: &Path,
    spans: Vec<LabelSpan>,
    experiments: &Experiments,
) -> Result<BTreeMap<(u32, u32), Vec<LabelSpan>>, DatasetError> {
    let mut grouped: BTreeMap<_, Vec<_>> = BTreeMap::new();
    for span in spans {
        let key = (span.experiment, span.user);
        if !experiments.contains_key(&key) {
            let reason = format!(
                "labels experiment {} of user {}, but RawData has no such acc/gyro files",
                key.0, key.1
            );
            return Err(DatasetError::malformed(path, span.line, reason));
        }
        grouped.entry(key).or_default().push(span);
    }
    Ok(grouped)
}

/// Per-sample label ids for one experiment of `len` samples.
fn label_samples(
    path: &Path,
    mut spans: Vec<LabelSpan>,
    len: usize,
) -> Result<(Vec<u16>, Vec<Activity>), DatasetError> {
    let mut table = LabelTable::default();
    let unlabelled = table.id(&Activity::Unlabelled);
    let mut labels = vec![unlabelled; len];
    spans.sort_by_key(|s| s.start);
    let mut covered_to = 0; // last 1-based sample labelled so far
    for span in spans {
        if span.end > len {
            let reason = format!(
                "label ends at sample {} but the experiment has {len} samples",
                span.end
            );
            return Err(DatasetError::malformed(path, span.line, reason));
        }
        if span.start <= covered_to {
            let reason = format!(
                "label {}..={} overlaps the previous label (ends at {covered_to})",
                span.start, span.end
            );
            return Err(DatasetError::malformed(path, span.line, reason));
        }
        let id = table.id(&activity(span.activity).unwrap_or(Activity::Unlabelled));
        labels[span.start - 1..span.end].fill(id);
        covered_to = span.end;
    }
    Ok((labels, table.into_activities()))
}

/// Parses a RawData file: three whitespace-separated finite numbers per line.
fn parse_triples(path: &Path, bytes: &[u8]) -> Result<Vec<[f32; 3]>, DatasetError> {
    let mut out = Vec::with_capacity(bytes.len() / 56);
    for (n, line) in text::lines(bytes) {
        let mut fields = line
            .split(u8::is_ascii_whitespace)
            .filter(|f| !f.is_empty());
        let mut value = [0f32; 3];
        for (axis, v) in ["x", "y", "z"].iter().zip(value.iter_mut()) {
            let field = fields.next().ok_or_else(|| {
                DatasetError::malformed(path, n, format!("missing {axis} (3 values per line)"))
            })?;
            *v = text::parse_f32(field, axis)
                .map_err(|reason| DatasetError::malformed(path, n, reason))?;
        }
        if fields.next().is_some() {
            return Err(DatasetError::malformed(path, n, "more than 3 values"));
        }
        out.push(value);
    }
    if out.is_empty() {
        return Err(DatasetError::invalid(path, "file has no samples"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(start: usize, end: usize, activity: u32, line: usize) -> LabelSpan {
        LabelSpan {
            experiment: 1,
            user: 1,
            activity,
            start,
            end,
            line,
        }
    }

    #[test]
    fn labels_are_one_based_and_inclusive() {
        let p = Path::new("labels.txt");
        let (labels, acts) = label_samples(p, vec![span(5, 6, 7, 2), span(2, 3, 5, 1)], 7).unwrap();
        let names: Vec<_> = labels.iter().map(|&l| acts[l as usize].name()).collect();
        assert_eq!(
            names,
            [
                "unlabelled",
                "standing",
                "standing",
                "unlabelled",
                "stand_to_sit",
                "stand_to_sit",
                "unlabelled"
            ]
        );
    }

    #[test]
    fn overlapping_or_out_of_range_labels_name_their_line() {
        let p = Path::new("labels.txt");
        let err = label_samples(p, vec![span(1, 4, 5, 1), span(4, 6, 4, 2)], 10)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("labels.txt:2:") && err.contains("overlaps"),
            "{err}"
        );
        let err = label_samples(p, vec![span(1, 11, 5, 9)], 10)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("labels.txt:9:") && err.contains("10 samples"),
            "{err}"
        );
    }

    #[test]
    fn parses_label_lines_and_rejects_bad_ones() {
        let p = Path::new("labels.txt");
        let spans = parse_labels(p, b"1 1 5 250 1232\n1 1 7 1233 1392\n").unwrap();
        assert_eq!(
            spans[1],
            LabelSpan {
                experiment: 1,
                user: 1,
                activity: 7,
                start: 1233,
                end: 1392,
                line: 2
            }
        );
        for (bytes, wanted) in [
            (&b"1 1 5 250\n"[..], "labels.txt:1: expected 5 fields"),
            (
                b"1 1 5 250 1232\n1 1 13 1 2\n",
                "labels.txt:2: unknown activity id 13",
            ),
            (b"1 1 5 0 3\n", "labels.txt:1: bad sample range"),
            (b"1 1 5 x 3\n", "labels.txt:1: start: `x`"),
        ] {
            let err = parse_labels(p, bytes).unwrap_err().to_string();
            assert!(err.starts_with(wanted), "got `{err}`, wanted `{wanted}`");
        }
    }

    #[test]
    fn parses_raw_triples_and_rejects_bad_lines() {
        let p = Path::new("acc.txt");
        let v = parse_triples(p, b"0.5 -1 2e-1\n1 2 3\n").unwrap();
        assert_eq!(v, vec![[0.5, -1.0, 0.2], [1.0, 2.0, 3.0]]);
        for (bytes, wanted) in [
            (&b"1 2 3\n1 2\n"[..], "acc.txt:2: missing z"),
            (b"1 2 3 4\n", "acc.txt:1: more than 3"),
            (b"1 NaN 3\n", "acc.txt:1: y: `NaN` is not finite"),
            (b"", "acc.txt: file has no samples"),
        ] {
            let err = parse_triples(p, bytes).unwrap_err().to_string();
            assert!(err.starts_with(wanted), "got `{err}`, wanted `{wanted}`");
        }
    }

    #[test]
    fn file_names_carry_experiment_and_user() {
        assert_eq!(
            parse_file_name("acc_exp07_user04.txt", "acc_"),
            Some((7, 4))
        );
        assert_eq!(parse_file_name("gyro_exp07_user04.txt", "acc_"), None);
        assert_eq!(parse_file_name("labels.txt", "acc_"), None);
    }
}
