//! PAMAP2 (Reiss & Stricker 2012): `Protocol/subjectNNN.dat` and `Optional/subjectNNN.dat`,
//! three Colibri IMUs (hand = wrist of the dominant arm, chest, ankle) at 100 Hz.
//!
//! Each line has 54 space-separated columns: timestamp (s), activityID, heart rate, then one
//! 17-column block per IMU (temperature, acc ±16 g, acc ±6 g, gyro, magnetometer, 4 invalid
//! orientation values). We read the ±16 g accelerometer (the readme recommends it: the ±6 g one
//! saturates) and the gyro of the IMU chosen by [`LoadOptions::pamap2_imu`].
//!
//! - A sample where the chosen IMU's acc or gyro is NaN (a wireless drop) is skipped and
//!   reported; NaN elsewhere (heart rate, the other IMUs) does not matter.
//! - activityID 0 ("other, transient activities") is kept as [`Activity::Unlabelled`] so the
//!   stream stays continuous; windowing excludes it like any unlabelled span.
//! - Aborted sessions were spliced together inside transient spans, so a recording is split
//!   where the clock goes backwards or jumps by more than [`MAX_GAP_NS`].

use std::path::{Path, PathBuf};

use super::{
    Activity, BodyPosition, DatasetError, LabelTable, LoadOptions, Loaded, Pamap2Imu, Progress,
    Recording, Skipped, text,
};

const DATASET: &str = "pamap2";
const NOMINAL_RATE_HZ: f64 = 100.0;
/// Columns of a `.dat` line.
pub const COLUMNS: usize = 54;
const IMU_COLUMNS: usize = 17;
const FIRST_IMU_COLUMN: usize = 3;
/// Offsets inside an IMU block.
const ACC16_OFFSET: usize = 1;
const GYRO_OFFSET: usize = 7;
/// Gaps longer than this are splices of separate sessions, not wireless drops (those last tens of ms).
pub const MAX_GAP_NS: i64 = 1_000_000_000;
const SESSION_FOLDERS: [&str; 2] = ["Protocol", "Optional"];

/// One parsed line.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// Timestamp in nanoseconds.
    pub t_ns: i64,
    /// The line's activity.
    pub activity: Activity,
    /// `None` when the chosen IMU dropped this sample (NaN acc or gyro).
    pub imu: Option<ImuSample>,
}

/// One sample of the chosen IMU.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ImuSample {
    /// Acceleration (m/s², ±16 g sensor).
    pub accel: [f32; 3],
    /// Angular rate (rad/s).
    pub gyro: [f32; 3],
}

/// Loads every `subjectNNN.dat` under `root/Protocol` and `root/Optional` (`root` may also be
/// the folder holding `PAMAP2_Dataset/`).
pub fn load(
    root: &Path,
    opts: &LoadOptions,
    progress: &dyn Progress,
) -> Result<Loaded, DatasetError> {
    let files = find_files(root)?;
    progress.start(text::total_size(files.iter().map(|f| f.path.as_path())));
    let mut loaded = Loaded::default();
    for file in files.iter().filter(|f| opts.wants_subject(&f.subject)) {
        let bytes = text::read_file(&file.path, progress)?;
        loaded.bytes_read += bytes.len() as u64;
        let mut builder = Builder::new(file, opts.pamap2_imu);
        for (line_no, line) in text::lines(&bytes) {
            let row = parse_line(line, opts.pamap2_imu)
                .map_err(|r| DatasetError::malformed(&file.path, line_no, r))?;
            builder.push(line_no, row, &mut loaded.skipped);
        }
        loaded.recordings.extend(builder.finish());
    }
    Ok(loaded)
}

struct DatFile {
    path: PathBuf,
    subject: String,
    /// `protocol` or `optional`.
    folder: String,
}

fn find_files(root: &Path) -> Result<Vec<DatFile>, DatasetError> {
    let base = if root.join("PAMAP2_Dataset").is_dir() {
        root.join("PAMAP2_Dataset")
    } else {
        root.to_path_buf()
    };
    let mut files = Vec::new();
    for folder in SESSION_FOLDERS {
        let dir = base.join(folder);
        if !dir.is_dir() {
            continue;
        }
        let entries = std::fs::read_dir(&dir).map_err(|e| DatasetError::io(&dir, e))?;
        for entry in entries {
            let path = entry.map_err(|e| DatasetError::io(&dir, e))?.path();
            let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            let Some(subject) = name
                .strip_prefix("subject")
                .and_then(|n| n.strip_suffix(".dat"))
            else {
                continue;
            };
            let subject = subject.to_string();
            files.push(DatFile {
                path,
                subject,
                folder: folder.to_ascii_lowercase(),
            });
        }
    }
    if files.is_empty() {
        return Err(DatasetError::Empty {
            root: root.to_path_buf(),
            what: "PAMAP2 recordings".into(),
            expected: "Protocol/subjectNNN.dat or Optional/subjectNNN.dat".into(),
        });
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

/// Parses one line of a `.dat` file, reading the IMU `imu`.
pub fn parse_line(line: &[u8], imu: Pamap2Imu) -> Result<Row, String> {
    let line = std::str::from_utf8(line).map_err(|e| format!("not UTF-8 ({e})"))?;
    let fields: Vec<&str> = line.split_ascii_whitespace().collect();
    if fields.len() != COLUMNS {
        return Err(format!("{} columns instead of {COLUMNS}", fields.len()));
    }
    let t_s: f64 = fields[0]
        .parse()
        .map_err(|_| format!("timestamp `{}` is not a number", fields[0]))?;
    // Range check keeps the ns conversion exact and overflow-free.
    if !t_s.is_finite() || !(0.0..1e9).contains(&t_s) {
        return Err(format!(
            "timestamp `{}` is not a time in seconds",
            fields[0]
        ));
    }
    let activity = activity_from_id(fields[1])?;
    let block = FIRST_IMU_COLUMN + IMU_COLUMNS * imu_index(imu);
    let accel = read_xyz(&fields, block + ACC16_OFFSET)?;
    let gyro = read_xyz(&fields, block + GYRO_OFFSET)?;
    let dropped = accel.iter().chain(&gyro).any(|v| v.is_nan());
    Ok(Row {
        t_ns: (t_s * 1e9).round() as i64,
        activity,
        imu: (!dropped).then_some(ImuSample { accel, gyro }),
    })
}

fn imu_index(imu: Pamap2Imu) -> usize {
    match imu {
        Pamap2Imu::Hand => 0,
        Pamap2Imu::Chest => 1,
        Pamap2Imu::Ankle => 2,
    }
}

/// Reads three columns from `first`; NaN is allowed (a drop), infinities and text are not.
fn read_xyz(fields: &[&str], first: usize) -> Result<[f32; 3], String> {
    let mut xyz = [0f32; 3];
    for (i, v) in xyz.iter_mut().enumerate() {
        let col = first + i;
        let s = fields[col];
        *v = s
            .parse()
            .map_err(|_| format!("column {}: `{s}` is not a number", col + 1))?;
        if v.is_infinite() {
            return Err(format!("column {}: `{s}` is infinite", col + 1));
        }
    }
    Ok(xyz)
}

/// Activity ids as listed in the PAMAP2 readme (section II.2).
fn activity_from_id(id: &str) -> Result<Activity, String> {
    let n: u32 = id
        .parse()
        .map_err(|_| format!("activityID `{id}` is not an integer"))?;
    Ok(match n {
        0 => Activity::Unlabelled,
        1 => Activity::Lying,
        2 => Activity::Sitting,
        3 => Activity::Standing,
        4 => Activity::Walking,
        5 => Activity::Running,
        6 => Activity::Cycling,
        12 => Activity::Upstairs,
        13 => Activity::Downstairs,
        other => {
            let name = match other {
                7 => "nordic_walking",
                9 => "watching_tv",
                10 => "computer_work",
                11 => "car_driving",
                16 => "vacuum_cleaning",
                17 => "ironing",
                18 => "folding_laundry",
                19 => "house_cleaning",
                20 => "playing_soccer",
                24 => "rope_jumping",
                _ => return Err(format!("activityID {n} is not in the PAMAP2 readme")),
            };
            Activity::Other(name.into())
        }
    })
}

/// Collects one file's rows into recordings, splitting at splices.
struct Builder<'f> {
    file: &'f DatFile,
    position: BodyPosition,
    done: Vec<Recording>,
    current: Option<Segment>,
}

struct Segment {
    first_line: usize,
    t_ns: Vec<i64>,
    accel: Vec<[f32; 3]>,
    gyro: Vec<[f32; 3]>,
    labels: Vec<u16>,
    table: LabelTable,
}

impl<'f> Builder<'f> {
    fn new(file: &'f DatFile, imu: Pamap2Imu) -> Self {
        let position = match imu {
            Pamap2Imu::Hand => BodyPosition::Wrist,
            Pamap2Imu::Chest => BodyPosition::Chest,
            Pamap2Imu::Ankle => BodyPosition::Ankle,
        };
        Builder {
            file,
            position,
            done: Vec::new(),
            current: None,
        }
    }

    fn push(&mut self, line: usize, row: Row, skipped: &mut Vec<Skipped>) {
        let Some(imu) = row.imu else {
            skipped.push(Skipped {
                path: self.file.path.clone(),
                line,
                reason: "NaN in the chosen IMU's acc or gyro (wireless drop)".into(),
            });
            return;
        };
        let last = self.current.as_ref().and_then(|s| s.t_ns.last()).copied();
        if last == Some(row.t_ns) {
            skipped.push(Skipped {
                path: self.file.path.clone(),
                line,
                reason: format!("timestamp {} ns repeats the previous line's", row.t_ns),
            });
            return;
        }
        let continues = last.is_some_and(|last| row.t_ns > last && row.t_ns - last <= MAX_GAP_NS);
        if !continues {
            self.close();
            self.current = Some(Segment {
                first_line: line,
                t_ns: Vec::new(),
                accel: Vec::new(),
                gyro: Vec::new(),
                labels: Vec::new(),
                table: LabelTable::default(),
            });
        }
        let seg = self.current.as_mut().expect("opened above");
        seg.t_ns.push(row.t_ns);
        seg.accel.push(imu.accel);
        seg.gyro.push(imu.gyro);
        let label = seg.table.id(&row.activity);
        seg.labels.push(label);
    }

    fn close(&mut self) {
        let Some(seg) = self.current.take() else {
            return;
        };
        let session = if self.done.is_empty() {
            self.file.folder.clone()
        } else {
            format!("{}-line{}", self.file.folder, seg.first_line)
        };
        self.done.push(Recording {
            dataset: DATASET.into(),
            subject: self.file.subject.clone(),
            session,
            position: self.position,
            sources: vec![self.file.path.clone()],
            nominal_rate_hz: NOMINAL_RATE_HZ,
            t_ns: seg.t_ns,
            accel: seg.accel,
            gyro: Some(seg.gyro),
            labels: seg.labels,
            activities: seg.table.into_activities(),
        });
    }

    fn finish(mut self) -> Vec<Recording> {
        self.close();
        self.done
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first line of a real PAMAP2 file as quoted in several public projects.
    const REAL_LINE: &str = "8.38 0 104 30 2.37223 8.60074 3.51048 2.43954 8.76165 3.35465 -0.0922174 0.0568115 -0.0158445 14.6806 -69.2128 -5.58905 1 0 0 0 31.8125 0.23808 9.80003 -1.68896 0.265304 9.81549 -1.41344 -0.00506495 -0.00678097 -0.00566295 0.47196 -51.0499 43.2903 1 0 0 0 30.3125 9.65918 -1.65569 -0.0997967 9.64689 -1.55576 0.310404 0.00830026 0.00925038 -0.0175803 -61.1888 -38.9599 -58.1438 1 0 0 0";

    #[test]
    fn reads_each_imu_block_of_a_real_line() {
        let hand = parse_line(REAL_LINE.as_bytes(), Pamap2Imu::Hand).unwrap();
        assert_eq!(hand.t_ns, 8_380_000_000);
        assert_eq!(hand.activity, Activity::Unlabelled);
        let imu = hand.imu.unwrap();
        assert_eq!(imu.accel, [2.37223, 8.60074, 3.51048]);
        assert_eq!(imu.gyro, [-0.0922174, 0.0568115, -0.0158445]);
        let chest = parse_line(REAL_LINE.as_bytes(), Pamap2Imu::Chest)
            .unwrap()
            .imu
            .unwrap();
        assert_eq!(chest.accel, [0.23808, 9.80003, -1.68896]);
        assert_eq!(chest.gyro, [-0.00506495, -0.00678097, -0.00566295]);
        let ankle = parse_line(REAL_LINE.as_bytes(), Pamap2Imu::Ankle)
            .unwrap()
            .imu
            .unwrap();
        assert_eq!(ankle.accel, [9.65918, -1.65569, -0.0997967]);
        assert_eq!(ankle.gyro, [0.00830026, 0.00925038, -0.0175803]);
    }

    #[test]
    fn nan_in_the_chosen_imu_is_a_drop_elsewhere_irrelevant() {
        let mut cols: Vec<&str> = REAL_LINE.split(' ').collect();
        cols[2] = "NaN"; // heart rate
        cols[21] = "NaN"; // chest acc x
        let line = cols.join(" ");
        assert!(
            parse_line(line.as_bytes(), Pamap2Imu::Hand)
                .unwrap()
                .imu
                .is_some()
        );
        assert!(
            parse_line(line.as_bytes(), Pamap2Imu::Chest)
                .unwrap()
                .imu
                .is_none()
        );
    }

    #[test]
    fn splits_at_splices_and_skips_repeated_timestamps() {
        let file = DatFile {
            path: PathBuf::from("subject101.dat"),
            subject: "101".into(),
            folder: "protocol".into(),
        };
        let mut builder = Builder::new(&file, Pamap2Imu::Hand);
        let mut skipped = Vec::new();
        let imu = Some(ImuSample {
            accel: [0.0, 0.0, 9.8],
            gyro: [0.0; 3],
        });
        let rows = [
            (1, 10_000_000),
            (2, 20_000_000),
            (3, 20_000_000),
            (4, 1_020_000_001),
            (5, 1_030_000_001),
            (6, 5),
        ];
        for (line, t_ns) in rows {
            builder.push(
                line,
                Row {
                    t_ns,
                    activity: Activity::Walking,
                    imu,
                },
                &mut skipped,
            );
        }
        let recs = builder.finish();
        let shape: Vec<(&str, usize)> =
            recs.iter().map(|r| (r.session.as_str(), r.len())).collect();
        assert_eq!(
            shape,
            [
                ("protocol", 2),
                ("protocol-line4", 2),
                ("protocol-line6", 1)
            ]
        );
        assert_eq!(skipped.iter().map(|s| s.line).collect::<Vec<_>>(), [3]);
    }

    #[test]
    fn maps_every_readme_activity_and_rejects_others() {
        let ids = [
            1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 16, 17, 18, 19, 20, 24,
        ];
        let names: Vec<String> = ids
            .iter()
            .map(|i| activity_from_id(&i.to_string()).unwrap().name().to_string())
            .collect();
        assert_eq!(
            names,
            [
                "lying",
                "sitting",
                "standing",
                "walking",
                "running",
                "cycling",
                "nordic_walking",
                "watching_tv",
                "computer_work",
                "car_driving",
                "upstairs",
                "downstairs",
                "vacuum_cleaning",
                "ironing",
                "folding_laundry",
                "house_cleaning",
                "playing_soccer",
                "rope_jumping"
            ]
        );
        assert!(activity_from_id("8").unwrap_err().contains("8"));
        assert!(
            parse_line(b"1 2 3", Pamap2Imu::Hand)
                .unwrap_err()
                .contains("3 columns")
        );
    }
}
