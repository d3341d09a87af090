//! UCI HAR "Inertial Signals" (Anguita et al. 2013): a waist-worn phone at 50 Hz, published
//! only as 128-sample windows with 50 % overlap.
//!
//! Each split (`train/`, `test/`) has one row per window in `subject_<split>.txt`,
//! `y_<split>.txt` and in every `Inertial Signals/<signal>_<axis>_<split>.txt` (128
//! whitespace-separated values in scientific notation). We read `total_acc` (g, gravity
//! included) and `body_gyro` (rad/s); `body_acc` is total_acc minus a low-pass gravity estimate
//! and would only duplicate information.
//!
//! **Stitching.** A band sees a continuous stream, not windows, so consecutive rows are joined
//! back together when they belong to the same subject and the second half of row i equals the
//! first half of row i+1 exactly in all six channels (verifiable, so never a guess); otherwise
//! a new recording starts. A sample inside an overlap keeps the label of the earlier window.
//! There are no timestamps: sample k of a stream is at k × 20 ms.

use std::path::{Path, PathBuf};

use super::{
    Activity, BodyPosition, DatasetError, LabelTable, LoadOptions, Loaded, Progress, Recording,
    STANDARD_GRAVITY, text,
};

const DATASET: &str = "uci-har";
/// Folder name of the published archive.
pub const DATASET_DIR: &str = "UCI HAR Dataset";
/// Samples per published window.
pub const WINDOW: usize = 128;
const OVERLAP: usize = WINDOW / 2;
const NOMINAL_RATE_HZ: f64 = 50.0;
const SAMPLE_PERIOD_NS: i64 = 20_000_000;
const AXES: [&str; 3] = ["x", "y", "z"];

/// The published train/test split.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Split {
    /// The `train/` folder.
    Train,
    /// The `test/` folder.
    Test,
}

impl Split {
    /// Both splits, train first.
    pub const BOTH: [Split; 2] = [Split::Train, Split::Test];

    /// The split's folder name.
    pub fn name(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Test => "test",
        }
    }
}

/// Who and what one window row is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WindowMeta {
    /// Subject id from `subject_<split>.txt`.
    pub subject: String,
    /// The `y_<split>.txt` value, an id of `activity_labels.txt`.
    pub activity_id: u32,
}

/// Loads both splits from `root` (the `UCI HAR Dataset` folder or the folder holding it).
pub fn load(
    root: &Path,
    opts: &LoadOptions,
    progress: &dyn Progress,
) -> Result<Loaded, DatasetError> {
    let base = dataset_dir(root)?;
    let labels = read_activity_labels(&base.join("activity_labels.txt"))?;
    let signal_paths: Vec<PathBuf> = Split::BOTH
        .iter()
        .flat_map(|&s| signal_files(&base, s))
        .collect();
    progress.start(text::total_size(signal_paths.iter().map(PathBuf::as_path)));
    let mut loaded = Loaded::default();
    for split in Split::BOTH {
        let meta = read_windows_metadata(&base, split)?;
        let mut channels = Vec::with_capacity(6);
        for path in signal_files(&base, split) {
            let bytes = text::read_file(&path, progress)?;
            loaded.bytes_read += bytes.len() as u64;
            channels.push(parse_signal_file(&path, &bytes, meta.len())?);
        }
        let windows = Windows {
            split,
            meta: &meta,
            channels: &channels,
            sources: signal_files(&base, split),
        };
        for stream in windows.streams() {
            if opts.wants_subject(&meta[stream.first].subject) {
                loaded
                    .recordings
                    .push(windows.recording(&stream, &labels, &base)?);
            }
        }
    }
    Ok(loaded)
}

/// Resolves `root` to the folder holding `activity_labels.txt`.
pub fn dataset_dir(root: &Path) -> Result<PathBuf, DatasetError> {
    [root.join(DATASET_DIR), root.to_path_buf()]
        .into_iter()
        .find(|d| d.join("activity_labels.txt").is_file())
        .ok_or_else(|| DatasetError::Empty {
            root: root.to_path_buf(),
            what: "UCI HAR dataset".into(),
            expected: format!("`{DATASET_DIR}/activity_labels.txt` or `activity_labels.txt`"),
        })
}

/// The six signal files we read, in channel order: total_acc x/y/z, body_gyro x/y/z.
fn signal_files(base: &Path, split: Split) -> Vec<PathBuf> {
    let dir = base.join(split.name()).join("Inertial Signals");
    ["total_acc", "body_gyro"]
        .iter()
        .flat_map(|signal| {
            AXES.iter()
                .map(move |axis| format!("{signal}_{axis}_{}.txt", split.name()))
        })
        .map(|name| dir.join(name))
        .collect()
}

/// Reads `subject_<split>.txt` and `y_<split>.txt` (one integer per line, same row count).
pub fn read_windows_metadata(base: &Path, split: Split) -> Result<Vec<WindowMeta>, DatasetError> {
    let dir = base.join(split.name());
    let subjects = read_integer_column(&dir.join(format!("subject_{}.txt", split.name())))?;
    let y_path = dir.join(format!("y_{}.txt", split.name()));
    let ys = read_integer_column(&y_path)?;
    if subjects.len() != ys.len() {
        return Err(DatasetError::invalid(
            &y_path,
            format!(
                "{} rows but subject_{}.txt has {}",
                ys.len(),
                split.name(),
                subjects.len()
            ),
        ));
    }
    Ok(subjects
        .into_iter()
        .zip(ys)
        .map(|(s, y)| WindowMeta {
            subject: s.to_string(),
            activity_id: y,
        })
        .collect())
}

fn read_integer_column(path: &Path) -> Result<Vec<u32>, DatasetError> {
    let bytes = text::read_regular(path)?;
    text::lines(&bytes)
        .map(|(n, line)| {
            let s = std::str::from_utf8(line)
                .map_err(|_| DatasetError::malformed(path, n, "not UTF-8"))?
                .trim();
            s.parse().map_err(|_| {
                DatasetError::malformed(path, n, format!("`{s}` is not a positive integer"))
            })
        })
        .collect()
}

/// Reads `activity_labels.txt` (`1 WALKING` ...) into canonical activities by id.
fn read_activity_labels(path: &Path) -> Result<Vec<(u32, Activity)>, DatasetError> {
    let bytes = text::read_regular(path)?;
    let mut labels = Vec::new();
    for (n, line) in text::lines(&bytes) {
        let line =
            std::str::from_utf8(line).map_err(|_| DatasetError::malformed(path, n, "not UTF-8"))?;
        let mut parts = line.split_whitespace();
        let (Some(id), Some(name), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(DatasetError::malformed(
                path,
                n,
                format!("expected `<id> <NAME>`, found `{line}`"),
            ));
        };
        let id = id.parse().map_err(|_| {
            DatasetError::malformed(path, n, format!("id `{id}` is not an integer"))
        })?;
        labels.push((id, canonical_activity(name)));
    }
    Ok(labels)
}

fn canonical_activity(name: &str) -> Activity {
    match name {
        "WALKING_UPSTAIRS" => Activity::Upstairs,
        "WALKING_DOWNSTAIRS" => Activity::Downstairs,
        "LAYING" => Activity::Lying,
        other => Activity::from_name(other),
    }
}

/// Parses one signal file into `rows` windows of [`WINDOW`] values.
fn parse_signal_file(
    path: &Path,
    bytes: &[u8],
    rows: usize,
) -> Result<Vec<[f32; WINDOW]>, DatasetError> {
    let mut windows = Vec::with_capacity(rows);
    for (n, line) in text::lines(bytes) {
        if n > rows {
            return Err(DatasetError::malformed(
                path,
                n,
                format!("more rows than the {rows} of the subject/y files"),
            ));
        }
        windows
            .push(parse_window(line).map_err(|reason| DatasetError::malformed(path, n, reason))?);
    }
    if windows.len() != rows {
        return Err(DatasetError::invalid(
            path,
            format!("{} rows but the subject/y files have {rows}", windows.len()),
        ));
    }
    Ok(windows)
}

/// Parses one row: exactly [`WINDOW`] whitespace-separated numbers.
pub fn parse_window(line: &[u8]) -> Result<[f32; WINDOW], String> {
    let mut window = [0f32; WINDOW];
    let mut count = 0;
    for field in line
        .split(|b| b.is_ascii_whitespace())
        .filter(|f| !f.is_empty())
    {
        if count < WINDOW {
            window[count] = text::parse_f32(field, &format!("value {}", count + 1))?;
        }
        count += 1;
    }
    if count != WINDOW {
        return Err(format!("{count} values instead of {WINDOW}"));
    }
    Ok(window)
}

/// One split's windows, with all six channels parsed.
struct Windows<'a> {
    split: Split,
    meta: &'a [WindowMeta],
    /// total_acc x/y/z, body_gyro x/y/z; each one window per row.
    channels: &'a [Vec<[f32; WINDOW]>],
    sources: Vec<PathBuf>,
}

/// A run of rows `first..=last` that stitch into one stream.
struct Stream {
    first: usize,
    last: usize,
}

impl Windows<'_> {
    /// True when row `i + 1` continues row `i`: same subject and an exactly repeated half window.
    fn continues(&self, i: usize) -> bool {
        self.meta[i].subject == self.meta[i + 1].subject
            && self
                .channels
                .iter()
                .all(|ch| ch[i][OVERLAP..] == ch[i + 1][..OVERLAP])
    }

    fn streams(&self) -> Vec<Stream> {
        let mut streams = Vec::new();
        let mut first = 0;
        for i in 0..self.meta.len() {
            if i + 1 == self.meta.len() || !self.continues(i) {
                streams.push(Stream { first, last: i });
                first = i + 1;
            }
        }
        streams
    }

    fn recording(
        &self,
        s: &Stream,
        labels: &[(u32, Activity)],
        base: &Path,
    ) -> Result<Recording, DatasetError> {
        let n = WINDOW + OVERLAP * (s.last - s.first);
        let mut accel = Vec::with_capacity(n);
        let mut gyro = Vec::with_capacity(n);
        let mut ids = Vec::with_capacity(n);
        let mut table = LabelTable::default();
        for row in s.first..=s.last {
            let meta = &self.meta[row];
            let activity = labels
                .iter()
                .find(|(id, _)| *id == meta.activity_id)
                .map(|(_, a)| a)
                .ok_or_else(|| {
                    let y_path = base
                        .join(self.split.name())
                        .join(format!("y_{}.txt", self.split.name()));
                    DatasetError::malformed(
                        &y_path,
                        row + 1,
                        format!(
                            "activity {} is not in activity_labels.txt",
                            meta.activity_id
                        ),
                    )
                })?;
            let label = table.id(activity);
            // The first window contributes all its samples, each later one only its new half.
            let start = if row == s.first { 0 } else { OVERLAP };
            for k in start..WINDOW {
                let at = |c: usize| self.channels[c][row][k];
                let g = STANDARD_GRAVITY as f32;
                accel.push([at(0) * g, at(1) * g, at(2) * g]);
                gyro.push([at(3), at(4), at(5)]);
                ids.push(label);
            }
        }
        Ok(Recording {
            dataset: DATASET.into(),
            subject: self.meta[s.first].subject.clone(),
            // Row numbers are the 1-based line numbers of the split's files.
            session: format!("{}-rows{}-{}", self.split.name(), s.first + 1, s.last + 1),
            position: BodyPosition::Waist,
            sources: self.sources.clone(),
            nominal_rate_hz: NOMINAL_RATE_HZ,
            t_ns: (0..accel.len() as i64)
                .map(|k| k * SAMPLE_PERIOD_NS)
                .collect(),
            accel,
            gyro: Some(gyro),
            labels: ids,
            activities: table.into_activities(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_row_in_the_published_number_format() {
        // Two leading spaces before a positive value, one before a negative, as published.
        let line = "  1.012817e+00 -1.232167e-01".repeat(WINDOW / 2);
        let w = parse_window(line.as_bytes()).unwrap();
        assert_eq!((w[0], w[1], w[127]), (1.012817, -0.1232167, -0.1232167));
        assert!(
            parse_window(b"  1.0e+00  2.0e+00")
                .unwrap_err()
                .contains("2 values")
        );
        let long = format!("{line}  1.0e+00");
        assert!(
            parse_window(long.as_bytes())
                .unwrap_err()
                .contains("129 values")
        );
        // Some re-published copies print three exponent digits (Windows C runtime).
        let wide = "  1.0128170e+000 -1.2321670e-001".repeat(WINDOW / 2);
        assert_eq!(parse_window(wide.as_bytes()).unwrap()[1], -0.1232167);
    }

    #[test]
    fn maps_uci_names_to_canonical_activities() {
        assert_eq!(canonical_activity("WALKING"), Activity::Walking);
        assert_eq!(canonical_activity("WALKING_UPSTAIRS"), Activity::Upstairs);
        assert_eq!(
            canonical_activity("WALKING_DOWNSTAIRS"),
            Activity::Downstairs
        );
        assert_eq!(canonical_activity("SITTING"), Activity::Sitting);
        assert_eq!(canonical_activity("STANDING"), Activity::Standing);
        assert_eq!(canonical_activity("LAYING"), Activity::Lying);
    }
}
