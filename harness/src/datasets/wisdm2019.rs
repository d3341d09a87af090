//! WISDM Smartphone and Smartwatch Activity and Biometrics Dataset (Weiss, 2019), raw files:
//! `raw/<device>/<sensor>/data_<subject>_<sensor>_<device>.txt`.
//!
//! One [`Recording`] per subject × activity block. Accel and gyro are separate files on the same
//! device clock; they are put on the accel timestamps ([`align`]). Rows whose timestamp does not
//! increase are dropped and reported; bursts (Δt < 10 ms) and gaps are real and kept.

mod align;
mod line;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::{
    Activity, BodyPosition, DatasetError, LoadOptions, Loaded, Progress, Recording, Skipped, text,
};
use align::{DropReason, Series};

pub use line::{Row, parse as parse_line};

/// Which WISDM 2019 device's files to read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Device {
    /// The smartwatch.
    Watch,
    /// The smartphone.
    Phone,
}

impl Device {
    fn dir_name(self) -> &'static str {
        match self {
            Device::Watch => "watch",
            Device::Phone => "phone",
        }
    }

    fn dataset_name(self) -> &'static str {
        match self {
            Device::Watch => "wisdm2019-watch",
            Device::Phone => "wisdm2019-phone",
        }
    }

    fn position(self) -> BodyPosition {
        match self {
            // "a smartwatch placed on his/her dominant hand and a smartphone in their pocket".
            Device::Watch => BodyPosition::Wrist,
            Device::Phone => BodyPosition::Pocket,
        }
    }
}

/// The documented rate; the real spacing varies (see `docs/datasets.md`).
pub const NOMINAL_RATE_HZ: f64 = 20.0;

/// Maps an activity code of `activity_key.txt` to the canonical vocabulary.
pub fn activity(code: u8) -> Option<Activity> {
    let other = |name: &str| Some(Activity::Other(name.to_string()));
    match code {
        b'A' => Some(Activity::Walking),
        b'B' => Some(Activity::Jogging),
        b'C' => Some(Activity::Stairs),
        b'D' => Some(Activity::Sitting),
        b'E' => Some(Activity::Standing),
        b'F' => other("typing"),
        b'G' => other("brushing_teeth"),
        b'H' => other("eating_soup"),
        b'I' => other("eating_chips"),
        b'J' => other("eating_pasta"),
        b'K' => other("drinking"),
        b'L' => other("eating_sandwich"),
        b'M' => other("kicking"),
        b'O' => other("catch"),
        b'P' => other("dribbling"),
        b'Q' => other("writing"),
        b'R' => other("clapping"),
        b'S' => other("folding"),
        _ => None,
    }
}

/// Loads the device's accelerometer and gyroscope files under `root`, aligned by timestamp.
pub fn load(
    root: &Path,
    device: Device,
    opts: &LoadOptions,
    progress: &dyn Progress,
) -> Result<Loaded, DatasetError> {
    let device_dir = device_dir(root, device)?;
    let accel_files = list_sensor_files(&device_dir, "accel", device)?;
    let gyro_files = list_sensor_files(&device_dir, "gyro", device)?;
    let expected = format!(
        "{}/{{accel,gyro}}/data_<subject>_<sensor>_{}.txt",
        device_dir.display(),
        device.dir_name()
    );
    if accel_files.is_empty() {
        return Err(DatasetError::Empty {
            root: device_dir.join("accel"),
            what: "accel files".into(),
            expected,
        });
    }

    let mut loaded = Loaded::default();
    let mut pairs = Vec::new();
    for (&subject, accel) in &accel_files {
        if !opts.wants_subject(&subject.to_string()) {
            continue;
        }
        match gyro_files.get(&subject) {
            Some(gyro) => pairs.push((subject, accel.clone(), gyro.clone())),
            None => loaded.skipped.push(skip_file(
                accel,
                "subject has no gyro file: not loaded (harbor replays accel+gyro)",
            )),
        }
    }
    for (&subject, gyro) in &gyro_files {
        if opts.wants_subject(&subject.to_string()) && !accel_files.contains_key(&subject) {
            loaded.skipped.push(skip_file(
                gyro,
                "subject has no accel file: not loaded (harbor replays accel+gyro)",
            ));
        }
    }
    if pairs.is_empty() {
        return Err(DatasetError::Empty {
            root: device_dir,
            what: "subject with both accel and gyro files".into(),
            expected,
        });
    }

    progress.start(text::total_size(
        pairs
            .iter()
            .flat_map(|(_, a, g)| [a.as_path(), g.as_path()]),
    ));
    for (subject, accel_path, gyro_path) in pairs {
        let accel_bytes = text::read_file(&accel_path, progress)?;
        let accel = read_blocks(&accel_path, &accel_bytes, subject, &mut loaded.skipped)?;
        let gyro_bytes = text::read_file(&gyro_path, progress)?;
        let gyro = read_blocks(&gyro_path, &gyro_bytes, subject, &mut loaded.skipped)?;
        loaded.bytes_read += (accel_bytes.len() + gyro_bytes.len()) as u64;
        pair_blocks(
            device,
            subject,
            (&accel_path, accel),
            (&gyro_path, gyro),
            &mut loaded,
        );
    }
    Ok(loaded)
}

/// Accepts the folder holding `wisdm-dataset/`, `wisdm-dataset/` itself or its `raw/`.
fn device_dir(root: &Path, device: Device) -> Result<PathBuf, DatasetError> {
    [
        root.join("wisdm-dataset").join("raw"),
        root.join("raw"),
        root.to_path_buf(),
    ]
    .into_iter()
    .map(|raw| raw.join(device.dir_name()))
    .find(|dir| dir.is_dir())
    .ok_or_else(|| DatasetError::Empty {
        root: root.to_path_buf(),
        what: format!("WISDM 2019 {} folder", device.dir_name()),
        expected: format!(
            "wisdm-dataset/raw/{}/, raw/{0}/ or {0}/ under the root",
            device.dir_name()
        ),
    })
}

/// Subject id → file, for files named `data_<subject>_<sensor>_<device>.txt`; other files
/// (e.g. `.DS_Store`) are not part of the format and are ignored.
fn list_sensor_files(
    device_dir: &Path,
    sensor: &str,
    device: Device,
) -> Result<BTreeMap<u32, PathBuf>, DatasetError> {
    let dir = device_dir.join(sensor);
    let entries = std::fs::read_dir(&dir).map_err(|e| DatasetError::io(&dir, e))?;
    let suffix = format!("_{sensor}_{}.txt", device.dir_name());
    let mut files = BTreeMap::new();
    for entry in entries {
        let path = entry.map_err(|e| DatasetError::io(&dir, e))?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let subject = name
            .strip_prefix("data_")
            .and_then(|n| n.strip_suffix(suffix.as_str()))
            .and_then(|s| s.parse().ok());
        if let Some(subject) = subject {
            files.insert(subject, path);
        }
    }
    Ok(files)
}

fn skip_file(path: &Path, reason: &str) -> Skipped {
    Skipped {
        path: path.to_path_buf(),
        line: 0,
        reason: reason.to_string(),
    }
}

/// One contiguous run of rows with the same activity code.
struct Block {
    code: u8,
    /// 0 for the first block of this code in the file, 1 for a second one, ...
    occurrence: usize,
    first_line: usize,
    series: Series,
}

/// Splits a raw file into activity blocks, dropping (and reporting) rows whose timestamp
/// does not increase.
fn read_blocks(
    path: &Path,
    bytes: &[u8],
    subject: u32,
    skipped: &mut Vec<Skipped>,
) -> Result<Vec<Block>, DatasetError> {
    let mut blocks: Vec<Block> = Vec::with_capacity(20);
    for (n, raw) in text::lines(bytes) {
        let row = line::parse(raw).map_err(|reason| DatasetError::malformed(path, n, reason))?;
        if row.subject != subject {
            return Err(DatasetError::malformed(
                path,
                n,
                format!("subject {} in a file of subject {subject}", row.subject),
            ));
        }
        if activity(row.code).is_none() {
            let reason = format!(
                "unknown activity code `{}` (activity_key.txt has A-S without N)",
                row.code.escape_ascii()
            );
            return Err(DatasetError::malformed(path, n, reason));
        }
        if blocks.last().is_none_or(|b| b.code != row.code) {
            let occurrence = blocks.iter().filter(|b| b.code == row.code).count();
            blocks.push(Block {
                code: row.code,
                occurrence,
                first_line: n,
                series: Series::default(),
            });
        }
        let Some(block) = blocks.last_mut() else {
            unreachable!("a block was pushed above")
        };
        let series = &mut block.series;
        if let (Some(&prev), Some(&prev_line)) = (series.t_ns.last(), series.lines.last())
            && row.t_ns <= prev
        {
            let kind = if row.t_ns == prev {
                "duplicate timestamp"
            } else {
                "timestamp goes backwards"
            };
            let reason = format!(
                "{kind}: {} after {prev} (line {prev_line}); row dropped",
                row.t_ns
            );
            skipped.push(Skipped {
                path: path.to_path_buf(),
                line: n,
                reason,
            });
            continue;
        }
        let line = u32::try_from(n)
            .map_err(|_| DatasetError::malformed(path, n, "file has more than 4 billion lines"))?;
        series.push(row.t_ns, row.xyz, line);
    }
    if blocks.is_empty() {
        return Err(DatasetError::invalid(path, "file has no rows"));
    }
    Ok(blocks)
}

/// Turns matching accel/gyro blocks into recordings; a block without a partner is reported.
fn pair_blocks(
    device: Device,
    subject: u32,
    accel: (&Path, Vec<Block>),
    gyro: (&Path, Vec<Block>),
    loaded: &mut Loaded,
) {
    let (accel_path, accel_blocks) = accel;
    let (gyro_path, mut gyro_blocks) = gyro;
    for a in accel_blocks {
        let Some(gi) = gyro_blocks
            .iter()
            .position(|g| g.code == a.code && g.occurrence == a.occurrence)
        else {
            let reason = format!(
                "activity block `{}` has no gyro block in {}; not loaded",
                a.code as char,
                gyro_path.display()
            );
            loaded.skipped.push(Skipped {
                path: accel_path.to_path_buf(),
                line: a.first_line,
                reason,
            });
            continue;
        };
        let g = gyro_blocks.swap_remove(gi);
        let (aligned, dropped) = align::align(&a.series, &g.series);
        for run in dropped {
            let why = match run.reason {
                DropReason::OutsideGyroSpan => {
                    "outside the time span of the gyro block".to_string()
                }
                DropReason::GyroGap => format!(
                    "gyro has a gap > {} ms there",
                    align::MAX_GYRO_BRACKET_NS / 1_000_000
                ),
            };
            let reason = format!(
                "{} accel row(s), lines {}-{}, dropped: {why}",
                run.rows, run.first_line, run.last_line
            );
            loaded.skipped.push(Skipped {
                path: accel_path.to_path_buf(),
                line: run.first_line as usize,
                reason,
            });
        }
        if aligned.t_ns.is_empty() {
            continue;
        }
        let activity = activity(a.code).unwrap_or(Activity::Unlabelled);
        let session = match a.occurrence {
            0 => activity.name().to_string(),
            k => format!("{}_{}", activity.name(), k + 1),
        };
        loaded.recordings.push(Recording {
            dataset: device.dataset_name().to_string(),
            subject: subject.to_string(),
            session,
            position: device.position(),
            sources: vec![accel_path.to_path_buf(), gyro_path.to_path_buf()],
            nominal_rate_hz: NOMINAL_RATE_HZ,
            labels: vec![0; aligned.t_ns.len()],
            t_ns: aligned.t_ns,
            accel: aligned.accel,
            gyro: Some(aligned.gyro),
            activities: vec![activity],
        });
    }
    for g in gyro_blocks {
        let reason = format!(
            "activity block `{}` has no accel block in {}; not loaded",
            g.code as char,
            accel_path.display()
        );
        loaded.skipped.push(Skipped {
            path: gyro_path.to_path_buf(),
            line: g.first_line,
            reason,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Files with repeated, backwards and out-of-order timestamps and activity changes:
        /// every row ends up in a block or in a skip report, and blocks are strictly increasing.
        #[test]
        fn every_row_is_kept_or_reported(rows in proptest::collection::vec((0usize..3, 0i64..40), 1..80)) {
            let codes = [b'A', b'D', b'S'];
            let text: String = rows
                .iter()
                .map(|&(c, t)| format!("1600,{},{},1.5,-2,9.8;\n", codes[c] as char, t * 10_000_000))
                .collect();
            let mut skipped = Vec::new();
            let blocks = read_blocks(Path::new("f.txt"), text.as_bytes(), 1600, &mut skipped).unwrap();
            let kept: usize = blocks.iter().map(|b| b.series.t_ns.len()).sum();
            prop_assert_eq!(kept + skipped.len(), rows.len());
            for b in &blocks {
                prop_assert!(b.series.t_ns.windows(2).all(|w| w[0] < w[1]));
            }
            for s in &skipped {
                let (_, t) = rows[s.line - 1];
                prop_assert!(s.reason.contains(&(t * 10_000_000).to_string()), "{}", s);
            }
            // Occurrence numbers count earlier blocks with the same code.
            for (i, b) in blocks.iter().enumerate() {
                prop_assert_eq!(b.occurrence, blocks[..i].iter().filter(|p| p.code == b.code).count());
            }
        }

        #[test]
        fn random_file_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = read_blocks(Path::new("f.txt"), &bytes, 1600, &mut Vec::new());
        }
    }

    #[test]
    fn unknown_code_and_foreign_subject_are_errors_with_lines() {
        let mut skipped = Vec::new();
        let err = read_blocks(
            Path::new("f.txt"),
            b"1600,A,1,0,0,0;\n1600,T,2,0,0,0;\n",
            1600,
            &mut skipped,
        );
        assert!(
            err.err()
                .unwrap()
                .to_string()
                .starts_with("f.txt:2: unknown activity code `T`")
        );
        let err = read_blocks(Path::new("f.txt"), b"1601,A,1,0,0,0;\n", 1600, &mut skipped);
        assert!(
            err.err()
                .unwrap()
                .to_string()
                .starts_with("f.txt:1: subject 1601")
        );
        let err = read_blocks(Path::new("f.txt"), b"", 1600, &mut skipped);
        assert!(err.err().unwrap().to_string().contains("no rows"));
    }
}
