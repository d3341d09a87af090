//! Reads one data file of a custom dataset according to a resolved spec.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use super::join::Series;
use super::spec::{Column, Resolved, Sensor, Separator, Source, SourceKind, Time};
use crate::datasets::{
    Activity, BadLinePolicy, DatasetError, LabelTable, LoadOptions, Loaded, Recording, Skipped,
    text,
};

/// Column indices after the header is known.
struct Columns {
    accel: [usize; 3],
    gyro: Option<[usize; 3]>,
    time: Option<usize>,
    label: Option<usize>,
    subject: Option<usize>,
    session: Option<usize>,
}

/// A per-file value (label, subject, session): fixed for the file, or read from a column.
enum Value {
    Fixed(String),
    Column(usize),
}

/// Whether a file holds every sensor, or only the accelerometer of a multi-file trial.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Every described column is in this file.
    Whole,
    /// The accel file of a trial: gyro columns are in a sibling file.
    AccelOnly,
}

/// One data file and what its path says.
pub struct FileRef<'a> {
    /// The file.
    pub path: &'a Path,
    /// Its path relative to the spec, with `/`.
    pub rel: &'a str,
    /// Values of `recording.path`'s named groups (empty without `recording`).
    pub groups: &'a BTreeMap<String, String>,
    /// Which columns this file holds.
    pub role: Role,
}

/// Lines with their 1-based numbers.
type NumberedLines<'a> = Box<dyn Iterator<Item = (usize, &'a [u8])> + 'a>;

/// The lines of a file after its header block, and the header's column names.
struct Body<'a> {
    header: Option<(usize, Vec<String>)>,
    lines: NumberedLines<'a>,
}

fn body<'a>(spec: &Resolved, path: &Path, bytes: &'a [u8]) -> Result<Body<'a>, DatasetError> {
    let mut lines: NumberedLines<'a> = Box::new(text::lines(bytes));
    if let Some(marker) = &spec.data_after {
        let found = lines
            .by_ref()
            .any(|(n, line)| utf8(path, n, line).is_ok_and(|l| l.trim() == marker));
        if !found {
            return Err(DatasetError::invalid(
                path,
                format!("has no line `{marker}` (`data_after`)"),
            ));
        }
    }
    for i in 0..spec.skip_lines {
        if lines.next().is_none() {
            return Err(DatasetError::invalid(
                path,
                format!(
                    "has {i} lines, fewer than `skip_lines: {}`",
                    spec.skip_lines
                ),
            ));
        }
    }
    let header = if spec.header {
        let (n, line) = loop {
            let Some((n, line)) = lines.next() else {
                return Err(DatasetError::invalid(path, "ends before the header line"));
            };
            let line = utf8(path, n, line)?;
            if !is_comment(spec, line) {
                break (n, line);
            }
        };
        let names: Vec<String> = split(spec.separator, line).map(str::to_string).collect();
        Some((n, names))
    } else {
        None
    };
    Ok(Body { header, lines })
}

fn is_comment(spec: &Resolved, line: &str) -> bool {
    spec.comment
        .as_deref()
        .is_some_and(|c| line.trim_start().starts_with(c))
}

/// What to do with a malformed line: stop with its error, or count it and go on.
fn on_bad_line(
    opts: &LoadOptions,
    err: DatasetError,
    skipped: &mut Vec<Skipped>,
) -> Result<(), DatasetError> {
    match (opts.on_bad_line, err) {
        (BadLinePolicy::Skip, DatasetError::Malformed { path, line, reason }) => {
            skipped.push(Skipped { path, line, reason });
            Ok(())
        }
        (_, err) => Err(err),
    }
}

/// Skipping rows that go back in time must not silently drop a file written in reverse.
fn check_not_reversed(path: &Path, backwards: usize, kept: usize) -> Result<(), DatasetError> {
    if backwards > 0 && backwards >= kept {
        return Err(DatasetError::invalid(
            path,
            format!(
                "timestamps run backwards: {backwards} rows are earlier than the row before them \
                 and only {kept} are not; the file looks written in reverse (sort it by time)"
            ),
        ));
    }
    Ok(())
}

pub fn read_file(
    spec: &Resolved,
    file: &FileRef<'_>,
    bytes: &[u8],
    opts: &LoadOptions,
    out: &mut Loaded,
) -> Result<(), DatasetError> {
    let path = file.path;
    let Body { header, lines } = body(spec, path, bytes)?;
    let header_ref = header.as_ref().map(|(n, names)| (*n, names.as_slice()));
    let resolve = |c: &Column| column_index(path, c, header_ref);
    let cols = Columns {
        accel: resolve_three(&spec.accel, &resolve)?,
        gyro: match file.role {
            Role::Whole => spec
                .gyro
                .as_ref()
                .map(|g| resolve_three(g, &resolve))
                .transpose()?,
            Role::AccelOnly => None,
        },
        time: match &spec.time {
            Time::Column { column, .. } => Some(resolve(column)?),
            Time::Rate { .. } => None,
        },
        label: source_column(&spec.label, &resolve)?,
        subject: source_column(&spec.subject, &resolve)?,
        session: spec
            .session
            .as_ref()
            .map(|s| source_column(s, &resolve))
            .transpose()?
            .flatten(),
    };
    let label = file_value(file, "label", &spec.label, cols.label)?;
    let subject = file_value(file, "subject", &spec.subject, cols.subject)?;
    let rel = file.rel;
    let default_session = rel
        .rsplit_once('.')
        .map_or(rel, |(stem, _)| stem)
        .to_string();
    let session = match &spec.session {
        Some(s) => file_value(file, "session", s, cols.session)?,
        None => Value::Fixed(default_session),
    };

    let mut runs = Runs {
        spec,
        path,
        done: Vec::new(),
        current: None,
        used_keys: HashSet::new(),
    };
    let (mut kept, mut backwards) = (0, 0);
    for (n, line) in lines {
        let line = utf8(path, n, line)?;
        if is_comment(spec, line) {
            continue;
        }
        if line.trim().is_empty() {
            out.skipped.push(Skipped {
                path: path.to_path_buf(),
                line: n,
                reason: "blank line".into(),
            });
            continue;
        }
        let fields: Vec<&str> = split(spec.separator, line).collect();
        let row = Row {
            path,
            line: n,
            fields: &fields,
        };
        let parsed = (|| {
            let subject = row.value(&subject, &spec.subject, "subject")?;
            if !opts.wants_subject(&subject) {
                return Ok(None);
            }
            let session = row.value(
                &session,
                spec.session.as_ref().unwrap_or(&spec.subject),
                "session",
            )?;
            let activity = Activity::from_name(&row.value(&label, &spec.label, "label")?);
            let accel = row.xyz(cols.accel, spec.accel.scale, "accel")?;
            let gyro = cols
                .gyro
                .zip(spec.gyro.as_ref())
                .map(|(c, g)| row.xyz(c, g.scale, "gyro"))
                .transpose()?;
            let t_ns = match (&spec.time, cols.time) {
                (Time::Column { ns_per_unit, .. }, Some(c)) => {
                    Some(row.timestamp(c, *ns_per_unit)?)
                }
                _ => None,
            };
            let sample = Sample {
                accel: map_axes(spec, accel),
                gyro: gyro.map(|g| map_axes(spec, g)),
                t_ns,
                activity,
            };
            Ok(Some(((subject, session), sample)))
        })();
        let pushed = match parsed {
            Ok(None) => continue,
            Ok(Some((key, sample))) => runs.push(n, key, sample).inspect_err(|_| backwards += 1),
            Err(e) => Err(e),
        };
        match pushed {
            Ok(()) => kept += 1,
            Err(e) => on_bad_line(opts, e, &mut out.skipped)?,
        }
    }
    check_not_reversed(path, backwards, kept)?;
    out.recordings.extend(runs.finish());
    Ok(())
}

/// Reads the gyro file of a multi-file trial: its times and readings, nothing else.
pub fn read_series(
    spec: &Resolved,
    path: &Path,
    bytes: &[u8],
    opts: &LoadOptions,
    skipped: &mut Vec<Skipped>,
) -> Result<Series, DatasetError> {
    let gyro = spec.gyro.as_ref().ok_or_else(|| {
        DatasetError::invalid(path, "read as a gyro file but the spec has no gyro")
    })?;
    let Body { header, lines } = body(spec, path, bytes)?;
    let header_ref = header.as_ref().map(|(n, names)| (*n, names.as_slice()));
    let resolve = |c: &Column| column_index(path, c, header_ref);
    let cols = resolve_three(gyro, &resolve)?;
    let time = match &spec.time {
        Time::Column {
            column,
            ns_per_unit,
        } => Some((resolve(column)?, *ns_per_unit)),
        Time::Rate { .. } => None,
    };
    let mut series = Series {
        path: path.to_path_buf(),
        t_ns: Vec::new(),
        xyz: Vec::new(),
    };
    let mut last_line = 0;
    let mut backwards = 0;
    for (n, line) in lines {
        let line = utf8(path, n, line)?;
        if is_comment(spec, line) {
            continue;
        }
        if line.trim().is_empty() {
            skipped.push(Skipped {
                path: path.to_path_buf(),
                line: n,
                reason: "blank line".into(),
            });
            continue;
        }
        let fields: Vec<&str> = split(spec.separator, line).collect();
        let row = Row {
            path,
            line: n,
            fields: &fields,
        };
        let parsed = (|| {
            let xyz = row.xyz(cols, gyro.scale, "gyro")?;
            let t = match (time, &spec.time) {
                (Some((c, ns_per_unit)), _) => row.timestamp(c, ns_per_unit)?,
                (None, Time::Rate { period_ns, .. }) => {
                    (series.t_ns.len() as f64 * period_ns).round() as i64
                }
                (None, Time::Column { .. }) => unreachable!("resolved above"),
            };
            if let Some(&prev) = series.t_ns.last()
                && t <= prev
            {
                backwards += 1;
                return Err(row.error(format!(
                    "timestamp {t} ns is not after the previous row's {prev} ns (line {last_line})"
                )));
            }
            Ok((t, xyz))
        })();
        match parsed {
            Ok((t, xyz)) => {
                series.t_ns.push(t);
                series.xyz.push(map_axes(spec, xyz));
                last_line = n;
            }
            Err(e) => on_bad_line(opts, e, skipped)?,
        }
    }
    check_not_reversed(path, backwards, series.t_ns.len())?;
    Ok(series)
}

/// Decodes a line; a UTF-8 byte-order mark at the start of the file is dropped.
fn utf8<'a>(path: &Path, n: usize, line: &'a [u8]) -> Result<&'a str, DatasetError> {
    let text = std::str::from_utf8(line)
        .map_err(|e| DatasetError::malformed(path, n, format!("not UTF-8 ({e})")))?;
    Ok(if n == 1 {
        text.trim_start_matches('\u{feff}')
    } else {
        text
    })
}

/// Splits a line into trimmed fields; surrounding double quotes are removed.
fn split(sep: Separator, line: &str) -> Box<dyn Iterator<Item = &str> + '_> {
    fn clean(f: &str) -> &str {
        let f = f.trim();
        f.strip_prefix('"')
            .and_then(|g| g.strip_suffix('"'))
            .unwrap_or(f)
    }
    match sep {
        Separator::Whitespace => Box::new(line.split_whitespace().map(clean)),
        Separator::Char(c) => Box::new(line.split(c).map(clean)),
    }
}

fn column_index(
    path: &Path,
    column: &Column,
    header: Option<(usize, &[String])>,
) -> Result<usize, DatasetError> {
    match (column, header) {
        (Column::Index(i), _) => Ok(*i),
        (Column::Name(name), Some((n, names))) => {
            names.iter().position(|h| h == name).ok_or_else(|| {
                DatasetError::malformed(
                    path,
                    n,
                    format!(
                        "no column `{name}` in the header (it has: {})",
                        names.join(", ")
                    ),
                )
            })
        }
        // The spec check rejects names without a header; this keeps the reader honest anyway.
        (Column::Name(name), None) => Err(DatasetError::invalid(
            path,
            format!("column `{name}` named but no header"),
        )),
    }
}

fn resolve_three(
    sensor: &Sensor,
    resolve: &impl Fn(&Column) -> Result<usize, DatasetError>,
) -> Result<[usize; 3], DatasetError> {
    Ok([
        resolve(&sensor.columns[0])?,
        resolve(&sensor.columns[1])?,
        resolve(&sensor.columns[2])?,
    ])
}

fn source_column(
    source: &Source,
    resolve: &impl Fn(&Column) -> Result<usize, DatasetError>,
) -> Result<Option<usize>, DatasetError> {
    match &source.kind {
        SourceKind::Column(c) => resolve(c).map(Some),
        _ => Ok(None),
    }
}

/// A value fixed for the whole file (from its path or the spec), mapped once.
fn file_value(
    file: &FileRef<'_>,
    what: &str,
    source: &Source,
    column: Option<usize>,
) -> Result<Value, DatasetError> {
    let (path, rel) = (file.path, file.rel);
    let raw = match (&source.kind, column) {
        (SourceKind::Group(g), _) => file.groups.get(g).cloned().ok_or_else(|| {
            DatasetError::invalid(path, format!("`{what}.group`: no group `{g}` in `{rel}`"))
        })?,
        (SourceKind::Column(_), Some(c)) => return Ok(Value::Column(c)),
        (SourceKind::Path(re), _) => re
            .captures(rel)
            .and_then(|c| c.get(1))
            .map(|m| m.as_str().to_string())
            .ok_or_else(|| {
                DatasetError::invalid(
                    path,
                    format!(
                        "`{what}.from_path` `{}` does not match `{rel}`",
                        re.as_str()
                    ),
                )
            })?,
        (SourceKind::Value(v), _) => v.clone(),
        (SourceKind::Column(_), None) => {
            return Err(DatasetError::invalid(
                path,
                format!("`{what}` column unresolved"),
            ));
        }
    };
    apply_map(&raw, what, source)
        .map(Value::Fixed)
        .map_err(|r| DatasetError::invalid(path, r))
}

fn apply_map(raw: &str, what: &str, source: &Source) -> Result<String, String> {
    let Some(map) = &source.map else {
        return Ok(raw.to_string());
    };
    map.get(raw).cloned().ok_or_else(|| {
        let keys: Vec<&str> = map.keys().map(String::as_str).collect();
        format!(
            "{what} `{raw}` is not in `{what}.map` (it has: {})",
            keys.join(", ")
        )
    })
}

struct Row<'a> {
    path: &'a Path,
    line: usize,
    fields: &'a [&'a str],
}

impl Row<'_> {
    fn field(&self, index: usize, what: &str) -> Result<&str, DatasetError> {
        self.fields.get(index).copied().ok_or_else(|| {
            self.error(format!(
                "{} fields, so {what} (0-based column {index}) is missing",
                self.fields.len()
            ))
        })
    }

    fn error(&self, reason: String) -> DatasetError {
        DatasetError::malformed(self.path, self.line, reason)
    }

    fn value(&self, v: &Value, source: &Source, what: &str) -> Result<String, DatasetError> {
        match v {
            Value::Fixed(s) => Ok(s.clone()),
            Value::Column(c) => {
                let raw = self.field(*c, what)?;
                if raw.is_empty() {
                    return Err(self.error(format!("{what} (column {c}) is empty")));
                }
                apply_map(raw, what, source).map_err(|r| self.error(r))
            }
        }
    }

    fn number(&self, index: usize, what: &str) -> Result<f64, DatasetError> {
        let s = self.field(index, what)?;
        match s.parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(v),
            _ => Err(self.error(format!(
                "{what} (column {index}): `{s}` is not a finite number"
            ))),
        }
    }

    fn xyz(&self, cols: [usize; 3], scale: f64, sensor: &str) -> Result<[f64; 3], DatasetError> {
        let mut v = [0.0; 3];
        for ((out, col), axis) in v.iter_mut().zip(cols).zip(["x", "y", "z"]) {
            *out = self.number(col, &format!("{sensor} {axis}"))? * scale;
        }
        Ok(v)
    }

    /// Integers are converted exactly (ns timestamps do not fit an f64); decimals are rounded.
    fn timestamp(&self, col: usize, ns_per_unit: i64) -> Result<i64, DatasetError> {
        let s = self.field(col, "timestamp")?;
        let bad = || {
            self.error(format!(
                "timestamp (column {col}): `{s}` is not a time in the spec's unit"
            ))
        };
        if let Ok(i) = s.parse::<i64>() {
            return i.checked_mul(ns_per_unit).ok_or_else(bad);
        }
        let ns = s.parse::<f64>().map_err(|_| bad())? * ns_per_unit as f64;
        if !ns.is_finite() || ns.abs() >= i64::MAX as f64 {
            return Err(bad());
        }
        Ok(ns.round() as i64)
    }
}

fn map_axes(spec: &Resolved, src: [f64; 3]) -> [f32; 3] {
    spec.axes.map(|(index, sign)| (sign * src[index]) as f32)
}

struct Sample {
    accel: [f32; 3],
    gyro: Option<[f32; 3]>,
    /// `None` when the spec gives a fixed rate.
    t_ns: Option<i64>,
    activity: Activity,
}

/// Contiguous rows of one (subject, session) become one recording.
struct Runs<'a> {
    spec: &'a Resolved,
    path: &'a Path,
    done: Vec<Recording>,
    current: Option<Run>,
    used_keys: HashSet<(String, String)>,
}

struct Run {
    key: (String, String),
    first_line: usize,
    last_line: usize,
    t_ns: Vec<i64>,
    accel: Vec<[f32; 3]>,
    gyro: Option<Vec<[f32; 3]>>,
    labels: Vec<u16>,
    table: LabelTable,
}

impl Runs<'_> {
    fn push(&mut self, line: usize, key: (String, String), s: Sample) -> Result<(), DatasetError> {
        if self.current.as_ref().is_none_or(|r| r.key != key) {
            self.close();
            self.current = Some(Run {
                key,
                first_line: line,
                last_line: line,
                t_ns: Vec::new(),
                accel: Vec::new(),
                gyro: s.gyro.map(|_| Vec::new()),
                labels: Vec::new(),
                table: LabelTable::default(),
            });
        }
        let run = self.current.as_mut().expect("opened above");
        let t = match (s.t_ns, &self.spec.time) {
            (Some(t), _) => t,
            (None, Time::Rate { period_ns, .. }) => {
                (run.t_ns.len() as f64 * period_ns).round() as i64
            }
            (None, Time::Column { .. }) => {
                unreachable!("a timestamp column always yields a timestamp")
            }
        };
        if let Some(&prev) = run.t_ns.last()
            && t <= prev
        {
            return Err(DatasetError::malformed(
                self.path,
                line,
                format!(
                    "timestamp {t} ns is not after the previous row's {prev} ns (line {})",
                    run.last_line
                ),
            ));
        }
        run.t_ns.push(t);
        run.accel.push(s.accel);
        if let (Some(g), Some(v)) = (run.gyro.as_mut(), s.gyro) {
            g.push(v);
        }
        let id = run.table.id(&s.activity);
        run.labels.push(id);
        run.last_line = line;
        Ok(())
    }

    fn close(&mut self) {
        let Some(run) = self.current.take() else {
            return;
        };
        let (subject, mut session) = run.key.clone();
        // A later run of an already seen subject/session gets its first line as a suffix.
        if !self.used_keys.insert(run.key) {
            session = format!("{session}-line{}", run.first_line);
        }
        let mut rec = Recording {
            dataset: self.spec.name.clone(),
            subject,
            session,
            position: self.spec.position,
            sources: vec![self.path.to_path_buf()],
            nominal_rate_hz: 0.0,
            t_ns: run.t_ns,
            accel: run.accel,
            gyro: run.gyro,
            labels: run.labels,
            activities: run.table.into_activities(),
        };
        rec.nominal_rate_hz = match self.spec.time {
            Time::Rate { rate_hz, .. } => rate_hz,
            // With timestamps the spec states no rate; the measured one is the best nominal.
            Time::Column { .. } => rec.effective_rate_hz().unwrap_or(0.0),
        };
        self.done.push(rec);
    }

    fn finish(mut self) -> Vec<Recording> {
        self.close();
        self.done
    }
}
