//! The YAML spec a user writes to describe a CSV-like dataset (see `docs/custom-datasets.md`).
//!
//! Parsing is two steps: serde (unknown keys and unknown units are rejected there, with line
//! and column), then [`Spec::resolve`], which checks what serde cannot (exactly one time source,
//! an axis permutation, regexes with a capture group) and points at the offending YAML node.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use regex_lite::Regex;
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use serde_saphyr::{Location, Spanned};

use super::join::JoinBase;
use crate::datasets::plausibility::DeclaredUnits;
use crate::datasets::{BodyPosition, DatasetError, STANDARD_GRAVITY};

/// The spec as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// Written into every recording's `dataset` field.
    #[serde(default = "default_name")]
    pub name: String,
    /// Globs relative to the spec file's folder.
    pub files: Spanned<Vec<String>>,
    /// One character, or `whitespace` for runs of spaces and tabs.
    #[serde(default = "default_separator")]
    pub separator: Spanned<String>,
    /// Lines to drop at the top of every file, before the header if there is one.
    #[serde(default)]
    pub skip_lines: usize,
    /// Whether the first line after `skip_lines` names the columns.
    #[serde(default)]
    pub header: bool,
    /// Lines starting with this text are comments, wherever they are in a file.
    #[serde(default)]
    pub comment: Option<Spanned<String>>,
    /// Every line up to and including the first line equal to this marker is header.
    #[serde(default)]
    pub data_after: Option<String>,
    /// How the per-sensor files of one trial are grouped and joined; absent: one file holds
    /// every sensor.
    #[serde(default)]
    pub recording: Option<Spanned<RecordingSpec>>,
    /// Where the device was worn.
    #[serde(default)]
    pub position: Position,
    /// Either a timestamp column with its unit, or a fixed rate.
    pub time: Spanned<TimeSpec>,
    /// Accelerometer columns and unit.
    pub accel: SensorSpec<AccelUnit>,
    /// Gyroscope columns and unit, if the files have them.
    #[serde(default)]
    pub gyro: Option<SensorSpec<GyroUnit>>,
    /// Band axis ← source axis, e.g. `[y, -x, z]`; applied to accel and gyro alike.
    #[serde(default)]
    pub axes: Option<Spanned<Vec<String>>>,
    /// Where each sample's activity label comes from.
    pub label: Spanned<SourceSpec>,
    /// Where the subject id comes from.
    pub subject: Spanned<SourceSpec>,
    /// Where the session id comes from; default: the file's path.
    #[serde(default)]
    pub session: Option<Spanned<SourceSpec>>,
}

fn default_name() -> String {
    "custom".into()
}

fn default_separator() -> Spanned<String> {
    Spanned {
        value: ",".into(),
        referenced: Location::UNKNOWN,
        defined: Location::UNKNOWN,
    }
}

/// Body position as written in a spec (`position:`).
#[derive(Clone, Copy, Debug, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Position {
    /// On the wrist.
    Wrist,
    /// Held in the hand.
    Hand,
    /// On the waist or belt.
    Waist,
    /// In a trouser pocket.
    Pocket,
    /// On the chest.
    Chest,
    /// On the ankle.
    Ankle,
    /// Not stated.
    #[default]
    Unknown,
}

impl From<Position> for BodyPosition {
    fn from(p: Position) -> Self {
        match p {
            Position::Wrist => BodyPosition::Wrist,
            Position::Hand => BodyPosition::Hand,
            Position::Waist => BodyPosition::Waist,
            Position::Pocket => BodyPosition::Pocket,
            Position::Chest => BodyPosition::Chest,
            Position::Ankle => BodyPosition::Ankle,
            Position::Unknown => BodyPosition::Unknown,
        }
    }
}

/// Per-sensor files of one trial: which files belong together and how they are joined.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordingSpec {
    /// A regex on each file's path relative to the spec. Its named group `sensor` says which
    /// sensor a file holds; its other named groups identify the trial (and can feed
    /// `subject`, `label` and `session` with `group:`).
    pub path: String,
    /// Value of the `sensor` group → `accel` or `gyro`.
    pub sensors: BTreeMap<String, SensorKind>,
    /// The joined recording's time base: the accel's timestamps, or a regular grid.
    #[serde(default)]
    pub join: JoinKind,
    /// The grid's rate, for `join: grid`.
    #[serde(default)]
    pub grid_hz: Option<f64>,
}

/// Which sensor a file holds.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum SensorKind {
    /// The accelerometer: its file also gives the labels read from columns.
    Accel,
    /// The gyroscope.
    Gyro,
}

/// The time base of a joined recording.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum JoinKind {
    /// The accelerometer's timestamps.
    #[default]
    Accel,
    /// A regular grid at `grid_hz`.
    Grid,
}

/// How sample times are given: a timestamp column with its unit, or a fixed rate.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeSpec {
    /// The timestamp column.
    pub column: Option<Column>,
    /// Unit of the timestamp column.
    pub unit: Option<TimeUnit>,
    /// Fixed sample rate, for files without timestamps.
    pub rate_hz: Option<f64>,
}

/// Unit of a timestamp column.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
pub enum TimeUnit {
    /// `ns`.
    #[serde(rename = "ns")]
    Nanoseconds,
    /// `us`.
    #[serde(rename = "us")]
    Microseconds,
    /// `ms`.
    #[serde(rename = "ms")]
    Milliseconds,
    /// `s`.
    #[serde(rename = "s")]
    Seconds,
}

impl TimeUnit {
    /// Nanoseconds in one unit.
    pub fn ns_per_unit(self) -> i64 {
        match self {
            TimeUnit::Nanoseconds => 1,
            TimeUnit::Microseconds => 1_000,
            TimeUnit::Milliseconds => 1_000_000,
            TimeUnit::Seconds => 1_000_000_000,
        }
    }
}

/// Three axis columns of one sensor and their unit.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SensorSpec<U> {
    /// The x, y and z columns in the file's own axes.
    pub columns: Spanned<Vec<Column>>,
    /// Unit of the values.
    pub unit: U,
    /// Accelerometer only: whether the values include gravity (default `included`).
    #[serde(default)]
    pub gravity: Option<Spanned<Gravity>>,
}

/// Whether an accelerometer's values include gravity.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Gravity {
    /// Raw acceleration: about 1 g at rest (most IMUs and datasets).
    #[default]
    Included,
    /// Linear acceleration, gravity subtracted by the device or the publisher.
    Removed,
}

/// Accelerometer unit.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq)]
pub enum AccelUnit {
    /// `m/s2` (also `m/s²`, `m/s^2`).
    #[serde(rename = "m/s2", alias = "m/s²", alias = "m/s^2")]
    MetersPerSecondSquared,
    /// `g`, standard gravity.
    #[serde(rename = "g")]
    G,
    /// `mg`, thousandths of standard gravity.
    #[serde(rename = "mg")]
    MilliG,
}

/// Gyroscope unit.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq)]
pub enum GyroUnit {
    /// `rad/s`.
    #[serde(rename = "rad/s")]
    RadiansPerSecond,
    /// `deg/s` (also `dps`).
    #[serde(rename = "deg/s", alias = "dps")]
    DegreesPerSecond,
    /// `mdps`, thousandths of a degree per second.
    #[serde(rename = "mdps")]
    MilliDegreesPerSecond,
}

/// Multiplies a reading into the canonical unit (m/s² or rad/s).
pub trait Unit: Copy {
    /// Multiplier into SI units (m/s² or rad/s).
    fn scale(self) -> f64;
}

impl Unit for AccelUnit {
    fn scale(self) -> f64 {
        match self {
            AccelUnit::MetersPerSecondSquared => 1.0,
            AccelUnit::G => STANDARD_GRAVITY,
            AccelUnit::MilliG => STANDARD_GRAVITY / 1000.0,
        }
    }
}

impl Unit for GyroUnit {
    fn scale(self) -> f64 {
        match self {
            GyroUnit::RadiansPerSecond => 1.0,
            GyroUnit::DegreesPerSecond => std::f64::consts::PI / 180.0,
            GyroUnit::MilliDegreesPerSecond => std::f64::consts::PI / 180_000.0,
        }
    }
}

/// Where a label, subject or session comes from: a column (optionally mapped) or the file path.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceSpec {
    /// Read the value from this column.
    pub column: Option<Column>,
    /// A regex matched against the file path relative to the spec (with `/`); group 1 is the value.
    pub from_path: Option<String>,
    /// A fixed value for every file.
    pub value: Option<String>,
    /// A named capture group of `recording.path`.
    pub group: Option<String>,
    /// Raw value → canonical value (activity names for `label`). A raw value missing from a
    /// given map is an error, so a typo never becomes a new class.
    pub map: Option<BTreeMap<String, String>>,
}

/// A column by 0-based index or by header name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Column {
    /// 0-based column index.
    Index(usize),
    /// Column named in the header line.
    Name(String),
}

impl fmt::Display for Column {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Column::Index(i) => write!(f, "column {i}"),
            Column::Name(n) => write!(f, "column `{n}`"),
        }
    }
}

impl<'de> Deserialize<'de> for Column {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct ColumnVisitor;
        impl Visitor<'_> for ColumnVisitor {
            type Value = Column;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a 0-based column index or a header name")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Column, E> {
                usize::try_from(v)
                    .map(Column::Index)
                    .map_err(|_| E::custom("column index too large"))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Column, E> {
                usize::try_from(v)
                    .map(Column::Index)
                    .map_err(|_| E::custom("a column index cannot be negative"))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Column, E> {
                Ok(Column::Name(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Column, E> {
                Err(E::custom(format!(
                    "a column name here was read as the boolean `{v}`: YAML reads unquoted y, n, \
                     yes, no, on, off, true and false as booleans; quote the name, \
                     e.g. columns: [\"x\", \"y\", \"z\"]"
                )))
            }
        }
        d.deserialize_any(ColumnVisitor)
    }
}

/// The spec after the checks serde cannot do, ready for the reader.
#[derive(Debug)]
pub struct Resolved {
    /// Dataset name recorded in each [`Recording`](crate::datasets::Recording).
    pub name: String,
    /// File patterns relative to the spec.
    pub globs: Vec<String>,
    /// Field separator.
    pub separator: Separator,
    /// Lines to drop at the top of every file.
    pub skip_lines: usize,
    /// Whether the first kept line names the columns.
    pub header: bool,
    /// Prefix of comment lines.
    pub comment: Option<String>,
    /// The line that ends a file's header block.
    pub data_after: Option<String>,
    /// How per-sensor files are grouped and joined; `None`: one file per recording.
    pub recording: Option<Trials>,
    /// Where the device was worn.
    pub position: BodyPosition,
    /// How sample times are read.
    pub time: Time,
    /// Accelerometer columns and scale.
    pub accel: Sensor,
    /// Gyroscope columns and scale, if any.
    pub gyro: Option<Sensor>,
    /// For each band axis: (source axis index, sign).
    pub axes: [(usize, f64); 3],
    /// Where the label comes from.
    pub label: Source,
    /// Where the subject comes from.
    pub subject: Source,
    /// Where the session comes from; `None`: the file's path.
    pub session: Option<Source>,
    /// The units as declared, for the plausibility checks.
    pub units: DeclaredUnits,
}

/// Resolved grouping of per-sensor files into trials.
#[derive(Debug)]
pub struct Trials {
    /// Matched against each file's path relative to the spec.
    pub path: Regex,
    /// The named groups other than `sensor`: together they identify a trial.
    pub key_groups: Vec<String>,
    /// Value of the `sensor` group → sensor.
    pub sensors: BTreeMap<String, SensorKind>,
    /// The joined recording's time base.
    pub base: JoinBase,
}

/// How fields are separated on a line.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Separator {
    /// One character, e.g. `,` or `;`.
    Char(char),
    /// Any run of spaces and tabs.
    Whitespace,
}

/// Resolved sample timing.
#[derive(Debug)]
pub enum Time {
    /// Timestamps read from a column.
    Column {
        /// The timestamp column.
        column: Column,
        /// Nanoseconds per timestamp unit.
        ns_per_unit: i64,
    },
    /// A fixed rate: sample `i` is at `i · period_ns`.
    Rate {
        /// Nanoseconds between samples.
        period_ns: f64,
        /// The rate in Hz.
        rate_hz: f64,
    },
}

/// Resolved sensor columns and unit scale.
#[derive(Debug)]
pub struct Sensor {
    /// The x, y and z columns in the file's own axes.
    pub columns: [Column; 3],
    /// Multiplier into m/s² or rad/s.
    pub scale: f64,
}

/// Where a resolved per-file value comes from.
#[derive(Debug)]
pub enum SourceKind {
    /// A column of every row.
    Column(Column),
    /// Group 1 of a regex on the file path.
    Path(Regex),
    /// The same value for every file.
    Value(String),
    /// A named capture group of `recording.path`.
    Group(String),
}

/// A resolved label, subject or session source.
#[derive(Debug)]
pub struct Source {
    /// Where the raw value comes from.
    pub kind: SourceKind,
    /// Raw value → canonical value; a raw value missing from it is an error.
    pub map: Option<BTreeMap<String, String>>,
}

/// Parses a spec file's text; errors carry the spec's path, line and column.
pub fn parse(path: &Path, yaml: &str) -> Result<Resolved, DatasetError> {
    let spec: Spec = serde_saphyr::from_str(yaml).map_err(|e| {
        let (line, col) = e.location().map_or((0, 0), |l| (l.line(), l.column()));
        // The error's own text repeats the position and adds a snippet: keep only the message.
        let text = e.to_string();
        let first = text.lines().next().unwrap_or("invalid spec");
        let position = format!("line {line} column {col}: ");
        let message = first.split_once(&position).map_or(first, |(_, m)| m);
        DatasetError::malformed(path, line as usize, format!("column {col}: {message}"))
    })?;
    spec.resolve(path)
}

fn at(path: &Path, loc: Location, reason: impl fmt::Display) -> DatasetError {
    DatasetError::malformed(
        path,
        loc.line() as usize,
        format!("column {}: {reason}", loc.column()),
    )
}

impl Spec {
    /// Checks what serde cannot (columns, units, axes, regexes) relative to the spec's `path`.
    pub fn resolve(self, path: &Path) -> Result<Resolved, DatasetError> {
        if self.files.value.is_empty() {
            return Err(at(
                path,
                self.files.referenced,
                "`files` needs at least one glob",
            ));
        }
        let separator = match self.separator.value.as_str() {
            "whitespace" => Separator::Whitespace,
            s if s.chars().count() == 1 => Separator::Char(s.chars().next().unwrap_or(',')),
            s => {
                return Err(at(
                    path,
                    self.separator.referenced,
                    format!(
                        "separator `{s}` must be one character (e.g. \",\", \";\", \"\\t\") or `whitespace`"
                    ),
                ));
            }
        };
        let time = resolve_time(path, &self.time)?;
        let accel = resolve_sensor(path, "accel", &self.accel.columns, self.accel.unit)?;
        if let Some(g) = self.gyro.as_ref().and_then(|g| g.gravity.as_ref()) {
            return Err(at(
                path,
                g.referenced,
                "`gravity` says whether the accelerometer includes gravity: put it under `accel`"
                    .to_string(),
            ));
        }
        let gyro = self
            .gyro
            .as_ref()
            .map(|g| resolve_sensor(path, "gyro", &g.columns, g.unit))
            .transpose()?;
        let axes = match &self.axes {
            None => [(0, 1.0), (1, 1.0), (2, 1.0)],
            Some(a) => parse_axes(&a.value).map_err(|r| at(path, a.referenced, r))?,
        };
        let uses_names = self
            .accel
            .columns
            .value
            .iter()
            .chain(gyro_columns(&self.gyro))
            .any(is_name)
            || matches!(&self.time.value.column, Some(Column::Name(_)))
            || [
                Some(&self.label),
                Some(&self.subject),
                self.session.as_ref(),
            ]
            .into_iter()
            .flatten()
            .any(|s| s.value.column.as_ref().is_some_and(is_name));
        if uses_names && !self.header {
            return Err(at(
                path,
                self.accel.columns.referenced,
                "columns are named but `header: true` is not set; use 0-based indices or declare the header",
            ));
        }
        let comment = match self.comment {
            Some(c) if c.value.is_empty() => {
                return Err(at(path, c.referenced, "`comment` must not be empty"));
            }
            c => c.map(|c| c.value),
        };
        let recording = self
            .recording
            .map(|r| resolve_trials(path, r, self.gyro.is_some()))
            .transpose()?;
        let group_names = recording.as_ref().map(|r| r.key_groups.clone());
        let groups = group_names.as_deref();
        Ok(Resolved {
            name: self.name,
            globs: self.files.value,
            separator,
            skip_lines: self.skip_lines,
            header: self.header,
            comment,
            data_after: self.data_after,
            recording,
            position: self.position.into(),
            time,
            accel,
            gyro,
            axes,
            label: resolve_source(path, "label", self.label, groups)?,
            subject: resolve_source(path, "subject", self.subject, groups)?,
            session: self
                .session
                .map(|s| resolve_source(path, "session", s, groups))
                .transpose()?,
            units: DeclaredUnits {
                accel: Some(self.accel.unit),
                gyro: self.gyro.as_ref().map(|g| g.unit),
                time: self.time.value.unit,
                gravity_removed: self
                    .accel
                    .gravity
                    .is_some_and(|g| g.value == Gravity::Removed),
            },
        })
    }
}

fn is_name(c: &Column) -> bool {
    matches!(c, Column::Name(_))
}

fn gyro_columns(gyro: &Option<SensorSpec<GyroUnit>>) -> impl Iterator<Item = &Column> {
    gyro.iter().flat_map(|g| g.columns.value.iter())
}

fn resolve_time(path: &Path, time: &Spanned<TimeSpec>) -> Result<Time, DatasetError> {
    let t = &time.value;
    match (&t.column, t.unit, t.rate_hz) {
        (Some(column), Some(unit), None) => Ok(Time::Column {
            column: column.clone(),
            ns_per_unit: unit.ns_per_unit(),
        }),
        (Some(_), None, None) => Err(at(
            path,
            time.referenced,
            "`time.column` needs a `unit` (ns, us, ms or s)",
        )),
        (None, None, Some(rate)) if rate.is_finite() && rate > 0.0 => Ok(Time::Rate {
            period_ns: 1e9 / rate,
            rate_hz: rate,
        }),
        (None, None, Some(rate)) => Err(at(
            path,
            time.referenced,
            format!("`rate_hz` must be positive, not {rate}"),
        )),
        _ => Err(at(
            path,
            time.referenced,
            "`time` needs either `column` with `unit`, or `rate_hz` alone (not both)",
        )),
    }
}

fn resolve_sensor<U: Unit>(
    path: &Path,
    what: &str,
    columns: &Spanned<Vec<Column>>,
    unit: U,
) -> Result<Sensor, DatasetError> {
    let [x, y, z] = columns.value.as_slice() else {
        return Err(at(
            path,
            columns.referenced,
            format!("`{what}.columns` needs 3 columns (x, y, z)"),
        ));
    };
    Ok(Sensor {
        columns: [x.clone(), y.clone(), z.clone()],
        scale: unit.scale(),
    })
}

/// `[y, -x, z]` → band x = source y, band y = −source x, band z = source z.
fn parse_axes(axes: &[String]) -> Result<[(usize, f64); 3], String> {
    let [a, b, c] = axes else {
        return Err(format!(
            "`axes` needs 3 entries like [y, -x, z], found {}",
            axes.len()
        ));
    };
    let mut out = [(0, 1.0); 3];
    for (slot, text) in out.iter_mut().zip([a, b, c]) {
        let t = text.trim();
        let (sign, name) = match t.strip_prefix('-') {
            Some(rest) => (-1.0, rest),
            None => (1.0, t.strip_prefix('+').unwrap_or(t)),
        };
        let index = match name.trim() {
            "x" => 0,
            "y" => 1,
            "z" => 2,
            _ => {
                return Err(format!(
                    "axis `{t}` is not one of x, y, z with an optional `-`"
                ));
            }
        };
        *slot = (index, sign);
    }
    let mut seen = [false; 3];
    for (i, _) in out {
        seen[i] = true;
    }
    if seen.contains(&false) {
        return Err(format!(
            "`axes` must use each of x, y, z once, found [{a}, {b}, {c}]"
        ));
    }
    Ok(out)
}

fn resolve_trials(
    path: &Path,
    spec: Spanned<RecordingSpec>,
    has_gyro: bool,
) -> Result<Trials, DatasetError> {
    let loc = spec.referenced;
    let r = spec.value;
    let regex = Regex::new(&r.path)
        .map_err(|e| at(path, loc, format!("`recording.path` is not a regex: {e}")))?;
    let names: Vec<String> = regex
        .capture_names()
        .flatten()
        .map(str::to_string)
        .collect();
    if !names.iter().any(|n| n == "sensor") {
        return Err(at(
            path,
            loc,
            "`recording.path` needs a named group `sensor`, e.g. '_(?P<sensor>acc|gyro)_'",
        ));
    }
    let key_groups: Vec<String> = names.into_iter().filter(|n| n != "sensor").collect();
    if key_groups.is_empty() {
        return Err(at(
            path,
            loc,
            "`recording.path` needs named groups besides `sensor` that identify a trial, e.g. '(?P<subject>\\d+)'",
        ));
    }
    let has = |k: SensorKind| r.sensors.values().any(|&v| v == k);
    if !has(SensorKind::Accel) {
        return Err(at(
            path,
            loc,
            "`recording.sensors` maps no value to `accel`",
        ));
    }
    if has(SensorKind::Gyro) != has_gyro {
        return Err(at(
            path,
            loc,
            if has_gyro {
                "`gyro` is described but `recording.sensors` maps no value to `gyro`"
            } else {
                "`recording.sensors` has gyro files but the spec has no `gyro` section"
            },
        ));
    }
    let base = match (r.join, r.grid_hz) {
        (JoinKind::Accel, None) => JoinBase::Accel,
        (JoinKind::Grid, Some(rate)) if rate.is_finite() && rate > 0.0 => {
            JoinBase::Grid { rate_hz: rate }
        }
        (JoinKind::Grid, _) => {
            return Err(at(path, loc, "`join: grid` needs a positive `grid_hz`"));
        }
        (JoinKind::Accel, Some(_)) => {
            return Err(at(path, loc, "`grid_hz` applies only to `join: grid`"));
        }
    };
    Ok(Trials {
        path: regex,
        key_groups,
        sensors: r.sensors,
        base,
    })
}

fn resolve_source(
    path: &Path,
    what: &str,
    spec: Spanned<SourceSpec>,
    groups: Option<&[String]>,
) -> Result<Source, DatasetError> {
    let loc = spec.referenced;
    let s = spec.value;
    let kind = match (s.column, s.from_path, s.value, s.group) {
        (None, None, None, Some(g)) => match groups {
            None => {
                return Err(at(
                    path,
                    loc,
                    format!("`{what}.group` needs a `recording.path` regex with that group"),
                ));
            }
            Some(names) if !names.contains(&g) => {
                return Err(at(
                    path,
                    loc,
                    format!(
                        "`{what}.group`: `recording.path` has no group `{g}` (it has: {})",
                        names.join(", ")
                    ),
                ));
            }
            Some(_) => SourceKind::Group(g),
        },
        (Some(c), None, None, None) => SourceKind::Column(c),
        (None, Some(re), None, None) => {
            let regex = Regex::new(&re)
                .map_err(|e| at(path, loc, format!("`{what}.from_path` is not a regex: {e}")))?;
            if regex.captures_len() < 2 {
                return Err(at(
                    path,
                    loc,
                    format!("`{what}.from_path` needs a capture group, e.g. 'subject(\\d+)'"),
                ));
            }
            SourceKind::Path(regex)
        }
        (None, None, Some(v), None) => SourceKind::Value(v),
        _ => {
            return Err(at(
                path,
                loc,
                format!("`{what}` needs exactly one of `column`, `from_path`, `value` or `group`"),
            ));
        }
    };
    Ok(Source { kind, map: s.map })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_maps_must_be_signed_permutations() {
        assert_eq!(
            parse_axes(&["y".into(), "-x".into(), "z".into()]).unwrap(),
            [(1, 1.0), (0, -1.0), (2, 1.0)]
        );
        assert!(
            parse_axes(&["x".into(), "x".into(), "z".into()])
                .unwrap_err()
                .contains("once")
        );
        assert!(
            parse_axes(&["x".into(), "w".into(), "z".into()])
                .unwrap_err()
                .contains("`w`")
        );
        assert!(
            parse_axes(&["x".into(), "y".into()])
                .unwrap_err()
                .contains("3 entries")
        );
    }

    #[test]
    fn units_scale_into_canonical_units() {
        assert_eq!(AccelUnit::G.scale(), STANDARD_GRAVITY);
        assert!((AccelUnit::MilliG.scale() * 1000.0 - STANDARD_GRAVITY).abs() < 1e-12);
        assert!((GyroUnit::DegreesPerSecond.scale() * 180.0 - std::f64::consts::PI).abs() < 1e-12);
        assert!(
            (GyroUnit::MilliDegreesPerSecond.scale() * 180_000.0 - std::f64::consts::PI).abs()
                < 1e-12
        );
        assert_eq!(TimeUnit::Microseconds.ns_per_unit(), 1_000);
    }
}

#[cfg(test)]
mod yaml_tests {
    use super::*;

    const MINIMAL: &str =
        "files: ['*.csv']\ntime: {rate_hz: 50}\naccel: {columns: [0, 1, 2], unit: g}\n";

    fn parse_str(yaml: &str) -> Result<Resolved, String> {
        parse(Path::new("spec.yaml"), yaml).map_err(|e| e.to_string())
    }

    #[test]
    fn numeric_map_keys_and_values_read_as_text() {
        let yaml = format!(
            "{MINIMAL}label: {{column: 3, map: {{1: walking, 2: sitting}}}}\nsubject: {{value: 7}}\n"
        );
        let spec = parse_str(&yaml).unwrap();
        let map = spec.label.map.unwrap();
        assert_eq!(map.get("1").map(String::as_str), Some("walking"));
        assert!(matches!(spec.subject.kind, SourceKind::Value(ref v) if v == "7"));
    }

    #[test]
    fn named_columns_need_a_header() {
        let yaml = "files: ['*.csv']\ntime: {rate_hz: 50}\naccel: {columns: [ax, ay, az], unit: g}\nlabel: {value: walking}\nsubject: {value: a}\n";
        let err = parse_str(yaml).unwrap_err();
        assert!(err.starts_with("spec.yaml:3: column "), "{err}");
        assert!(err.contains("header"), "{err}");
    }

    #[test]
    fn source_needs_exactly_one_origin_and_a_capture_group() {
        let both =
            format!("{MINIMAL}label: {{column: 3, value: walking}}\nsubject: {{value: a}}\n");
        assert!(parse_str(&both).unwrap_err().contains("exactly one"));
        let no_group =
            format!("{MINIMAL}label: {{value: walking}}\nsubject: {{from_path: 'subject\\d+'}}\n");
        let err = parse_str(&no_group).unwrap_err();
        assert!(
            err.starts_with("spec.yaml:5: ") && err.contains("capture group"),
            "{err}"
        );
    }

    #[test]
    fn unquoted_boolean_looking_names_say_to_quote_them() {
        let yaml = "files: ['*.csv']\nheader: true\ntime: {rate_hz: 50}\naccel: {columns: [x, y, z], unit: g}\nlabel: {value: walking}\nsubject: {value: a}\n";
        let err = parse_str(yaml).unwrap_err();
        assert!(err.starts_with("spec.yaml:4: column "), "{err}");
        assert!(err.contains("quote"), "{err}");
        let quoted = yaml.replace("[x, y, z]", "[\"x\", \"y\", \"z\"]");
        let spec = parse_str(&quoted).unwrap();
        assert_eq!(spec.accel.columns[1], Column::Name("y".into()));
    }

    #[test]
    fn unknown_gyro_unit_lists_the_valid_ones() {
        let yaml = format!(
            "{MINIMAL}gyro: {{columns: [3, 4, 5], unit: rpm}}\nlabel: {{value: walking}}\nsubject: {{value: a}}\n"
        );
        let err = parse_str(&yaml).unwrap_err();
        assert!(err.starts_with("spec.yaml:4: column "), "{err}");
        assert!(
            err.contains("rad/s") && err.contains("deg/s") && err.contains("mdps"),
            "{err}"
        );
    }
}
