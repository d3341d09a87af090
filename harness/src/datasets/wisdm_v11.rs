//! WISDM v1.1 raw file (Kwapisz et al. 2010): `WISDM_ar_v1.1_raw.txt`, one phone in the
//! front trouser pocket, accelerometer only, 20 Hz.
//!
//! Records are `user,activity,timestamp,x,y,z;` with the activity as a word, the timestamp in
//! nanoseconds of phone uptime and x/y/z in m/s² (gravity included, Android device frame).
//! The published file is known to be sloppy; the quirks below are tolerated on purpose and
//! every record dropped because of them is reported as a [`Skipped`] with its line:
//! - several `;`-terminated records on one line (each is read);
//! - a trailing comma before the `;` (`x,y,z,;`: the record is complete and is read);
//! - a record with the wrong number of fields, an empty value or a zero timestamp (skipped);
//! - a timestamp equal to the previous one (skipped) or earlier (starts a new recording).
//!
//! Anything else (an unknown activity word, a value that is not a number, bytes that are not
//! UTF-8) means the file is not what we think it is, and is an error naming file and line.

use std::path::{Path, PathBuf};

use super::{
    Activity, BodyPosition, DatasetError, LabelTable, LoadOptions, Loaded, Progress, Recording,
    Skipped, text,
};

/// Name of the published raw file.
pub const FILE_NAME: &str = "WISDM_ar_v1.1_raw.txt";
const DATASET: &str = "wisdm-v1.1";
const NOMINAL_RATE_HZ: f64 = 20.0;
const FIELDS: usize = 6;

/// One accepted accelerometer record.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    /// User id.
    pub user: String,
    /// The record's activity.
    pub activity: Activity,
    /// Timestamp in nanoseconds.
    pub t_ns: i64,
    /// Acceleration (m/s²), in the band's axes.
    pub accel: [f32; 3],
}

/// What one `;`-terminated record turned out to be.
#[derive(Clone, Debug, PartialEq)]
pub enum Record {
    /// An accepted sample.
    Sample(Sample),
    /// A record of a kind the published file is known to contain; the reason says which.
    Skip(String),
}

/// Loads `WISDM_ar_v1.1_raw.txt` from `root` (the file itself, its folder, or a folder holding
/// `WISDM_ar_v1.1/`).
pub fn load(
    root: &Path,
    opts: &LoadOptions,
    progress: &dyn Progress,
) -> Result<Loaded, DatasetError> {
    let path = find_raw_file(root)?;
    progress.start(text::total_size([path.as_path()]));
    let bytes = text::read_file(&path, progress)?;
    let mut builder = Builder::new(&path);
    for (line_no, line) in text::lines(&bytes) {
        let records =
            parse_line(line).map_err(|reason| DatasetError::malformed(&path, line_no, reason))?;
        for record in records {
            match record {
                Record::Skip(reason) => builder.skip(line_no, reason),
                Record::Sample(s) if opts.wants_subject(&s.user) => builder.push(line_no, s),
                Record::Sample(_) => {}
            }
        }
    }
    let mut loaded = builder.finish();
    loaded.bytes_read = bytes.len() as u64;
    if loaded.recordings.is_empty() && opts.subjects.is_empty() {
        return Err(DatasetError::Empty {
            root: path,
            what: "accelerometer records".into(),
            expected: "lines like `33,Jogging,49105962326000,-0.69,12.68,0.50;`".into(),
        });
    }
    Ok(loaded)
}

fn find_raw_file(root: &Path) -> Result<PathBuf, DatasetError> {
    let candidates = [
        root.to_path_buf(),
        root.join(FILE_NAME),
        root.join("WISDM_ar_v1.1").join(FILE_NAME),
    ];
    candidates
        .into_iter()
        .find(|p| p.is_file())
        .ok_or_else(|| DatasetError::Empty {
            root: root.to_path_buf(),
            what: FILE_NAME.into(),
            expected: format!("{FILE_NAME} in this folder or in WISDM_ar_v1.1/"),
        })
}

/// Parses one physical line into its records. `Err` only for content no known quirk explains.
pub fn parse_line(line: &[u8]) -> Result<Vec<Record>, String> {
    let line = std::str::from_utf8(line).map_err(|e| format!("not UTF-8 ({e})"))?;
    if line.trim().is_empty() {
        return Ok(vec![Record::Skip("empty line".into())]);
    }
    let mut records = Vec::new();
    let mut parts = line.split(';').peekable();
    while let Some(part) = parts.next() {
        let is_last = parts.peek().is_none();
        // The text after the final `;` is normally empty: that is the terminator, not a record.
        if is_last && part.trim().is_empty() {
            break;
        }
        records.push(parse_record(part)?);
    }
    Ok(records)
}

fn parse_record(record: &str) -> Result<Record, String> {
    let mut fields: Vec<&str> = record.split(',').map(str::trim).collect();
    // `x,y,z,;`: a stray comma after a complete record.
    if fields.len() == FIELDS + 1 && fields[FIELDS].is_empty() {
        fields.pop();
    }
    if fields.len() != FIELDS {
        return Ok(Record::Skip(format!(
            "{} fields instead of {FIELDS} in `{}`",
            fields.len(),
            record.trim()
        )));
    }
    if let Some(i) = fields.iter().position(|f| f.is_empty()) {
        return Ok(Record::Skip(format!(
            "empty {} in `{}`",
            FIELD_NAMES[i],
            record.trim()
        )));
    }
    let activity = parse_activity(fields[1])?;
    let t_ns: i64 = fields[2]
        .parse()
        .map_err(|_| format!("timestamp `{}` is not an integer", fields[2]))?;
    if t_ns == 0 {
        return Ok(Record::Skip("zero timestamp".into()));
    }
    if t_ns < 0 {
        return Err(format!("negative timestamp `{}`", fields[2]));
    }
    let mut accel = [0f32; 3];
    for (axis, field) in accel.iter_mut().zip(&fields[3..]) {
        *axis = text::parse_f32(field.as_bytes(), "acceleration")?;
    }
    Ok(Record::Sample(Sample {
        user: fields[0].to_string(),
        activity,
        t_ns,
        accel,
    }))
}

const FIELD_NAMES: [&str; FIELDS] = ["user", "activity", "timestamp", "x", "y", "z"];

fn parse_activity(word: &str) -> Result<Activity, String> {
    Ok(match word {
        "Walking" => Activity::Walking,
        "Jogging" => Activity::Jogging,
        "Upstairs" => Activity::Upstairs,
        "Downstairs" => Activity::Downstairs,
        "Sitting" => Activity::Sitting,
        "Standing" => Activity::Standing,
        other => {
            return Err(format!(
                "unknown activity `{other}` (expected Walking, Jogging, Upstairs, Downstairs, Sitting or Standing)"
            ));
        }
    })
}

/// Groups accepted records into recordings: one per contiguous run of one user and activity,
/// split where the clock goes backwards.
struct Builder<'p> {
    path: &'p Path,
    current: Option<Run>,
    recordings: Vec<Recording>,
    skipped: Vec<Skipped>,
}

struct Run {
    user: String,
    activity: Activity,
    first_line: usize,
    t_ns: Vec<i64>,
    accel: Vec<[f32; 3]>,
}

impl<'p> Builder<'p> {
    fn new(path: &'p Path) -> Self {
        Builder {
            path,
            current: None,
            recordings: Vec::new(),
            skipped: Vec::new(),
        }
    }

    fn skip(&mut self, line: usize, reason: String) {
        self.skipped.push(Skipped {
            path: self.path.to_path_buf(),
            line,
            reason,
        });
    }

    fn push(&mut self, line: usize, s: Sample) {
        if let Some(run) = &self.current
            && run.user == s.user
            && run.activity == s.activity
            && let Some(&last) = run.t_ns.last()
        {
            if s.t_ns == last {
                self.skip(
                    line,
                    format!("timestamp {} repeats the previous record's", s.t_ns),
                );
                return;
            }
            if s.t_ns > last {
                let run = self.current.as_mut().expect("checked above");
                run.t_ns.push(s.t_ns);
                run.accel.push(s.accel);
                return;
            }
        }
        self.close_run();
        self.current = Some(Run {
            user: s.user,
            activity: s.activity,
            first_line: line,
            t_ns: vec![s.t_ns],
            accel: vec![s.accel],
        });
    }

    fn close_run(&mut self) {
        let Some(run) = self.current.take() else {
            return;
        };
        let mut table = LabelTable::default();
        let label = table.id(&run.activity);
        let n = run.t_ns.len();
        self.recordings.push(Recording {
            dataset: DATASET.into(),
            subject: run.user,
            // The line a run starts on names it uniquely and lets a user find it in the file.
            session: format!("line{}", run.first_line),
            position: BodyPosition::Pocket,
            sources: vec![self.path.to_path_buf()],
            nominal_rate_hz: NOMINAL_RATE_HZ,
            t_ns: run.t_ns,
            accel: run.accel,
            gyro: None,
            labels: vec![label; n],
            activities: table.into_activities(),
        });
    }

    fn finish(mut self) -> Loaded {
        self.close_run();
        Loaded {
            recordings: self.recordings,
            skipped: self.skipped,
            bytes_read: 0,
            joins: Vec::new(),
            units: Default::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(r: &Record) -> &Sample {
        match r {
            Record::Sample(s) => s,
            Record::Skip(why) => panic!("expected a sample, got skip: {why}"),
        }
    }

    #[test]
    fn reads_the_documented_example_line() {
        let recs =
            parse_line(b"33,Jogging,49105962326000,-0.6946377,12.680544,0.50395286;").unwrap();
        assert_eq!(recs.len(), 1);
        let s = sample(&recs[0]);
        assert_eq!(
            (s.user.as_str(), &s.activity, s.t_ns),
            ("33", &Activity::Jogging, 49_105_962_326_000)
        );
        assert_eq!(s.accel, [-0.6946377, 12.680544, 0.50395286]);
    }

    #[test]
    fn tolerates_known_quirks() {
        let two = parse_line(b"1,Walking,10,1,2,3;1,Walking,20,4,5,6;").unwrap();
        assert_eq!(two.len(), 2);
        assert_eq!(sample(&two[1]).t_ns, 20);
        assert_eq!(
            sample(&parse_line(b"1,Walking,10,1,2,3,;").unwrap()[0]).accel,
            [1.0, 2.0, 3.0]
        );
        // A record that misses its terminator is still read.
        assert_eq!(parse_line(b"1,Walking,10,1,2,3").unwrap().len(), 1);
        for quirk in [
            &b"1,Walking,10,1,2,;"[..],
            b"1,Walking,10,1,2;",
            b"1,Walking,0,0,0,0;",
            b"",
        ] {
            let recs = parse_line(quirk).unwrap();
            assert!(
                matches!(recs[..], [Record::Skip(_)]),
                "{:?}: {recs:?}",
                String::from_utf8_lossy(quirk)
            );
        }
    }

    #[test]
    fn rejects_what_no_quirk_explains() {
        assert!(
            parse_line(b"1,Flying,10,1,2,3;")
                .unwrap_err()
                .contains("Flying")
        );
        assert!(
            parse_line(b"1,Walking,10,1,abc,3;")
                .unwrap_err()
                .contains("abc")
        );
        assert!(
            parse_line(b"1,Walking,1.5e3,1,2,3;")
                .unwrap_err()
                .contains("timestamp")
        );
        assert!(parse_line(&[0xff, b';']).unwrap_err().contains("UTF-8"));
    }
}
