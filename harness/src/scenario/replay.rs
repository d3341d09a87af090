//! Replay scenarios (`kind: replay`, the default): what `harbor run` replays, into which
//! targets, how.
//!
//! A replay scenario is a matrix (models × datasets × targets × modes, minus `exclude`) with
//! thresholds per cell (docs/scenarios.md). Unknown keys are errors so a typo never silently
//! means "default". Relative paths resolve against the scenario file's folder, dataset roots
//! against [`crate::datasets::data_root`]. Errors name the file, line and column.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use serde_saphyr::Location;

use super::matrix::{self, MatrixCell};
use super::schema::{self, Mode, RawDataset, RawModel, Subjects, TargetKind};
use super::{ScenarioError, ScenarioKind};
use crate::datasets::DatasetKind;
use crate::dut::DeviceConfig;

/// A replay scenario with every path resolved and every name checked.
#[derive(Clone, Debug)]
pub struct ReplayScenario {
    /// The scenario file.
    pub path: PathBuf,
    /// The scenario's name (`name:`).
    pub name: String,
    /// Board profile name or path (IMU rate and range, currents).
    pub board: String,
    /// Where `board:` is in the file.
    pub board_at: Location,
    /// Cells replayed at once, each on its own device.
    pub jobs: usize,
    /// How long a device may take to boot and answer Hello.
    pub boot_timeout: Duration,
    /// How long one exchange with a device may take.
    pub exchange_timeout: Duration,
    /// The recordings to replay.
    pub datasets: Vec<DatasetEntry>,
    /// The models to replay them into.
    pub models: Vec<ModelEntry>,
    /// The devices to run them on.
    pub targets: Vec<TargetEntry>,
    /// How to feed them: tensor windows or the IMU stream.
    pub modes: Vec<Mode>,
    /// The expanded matrix in matrix order (models, then datasets, targets, modes).
    pub cells: Vec<MatrixCell>,
}

/// One dataset of a scenario, resolved.
#[derive(Clone, Debug)]
pub struct DatasetEntry {
    /// Its name in the report (`name:`, or the kind's).
    pub name: String,
    /// Where its windows come from.
    pub source: DatasetSource,
    /// Which of its subjects to replay.
    pub subjects: Subjects,
    /// At most this many windows, chosen evenly over the dataset's order (deterministic).
    pub max_windows: Option<usize>,
}

/// Where a dataset's windows come from.
#[derive(Clone, Debug)]
pub enum DatasetSource {
    /// Recordings in a published format, cut into each model's windows by harbor.
    Recordings {
        /// Which reader loads it.
        kind: DatasetKind,
        /// Its folder, resolved against the data root.
        root: PathBuf,
        /// Where `root:` is in the file.
        root_at: Location,
    },
    /// `kind: windows`: the user's own prepared windows and labels, replayed as they are.
    Windows {
        /// The `.npz` (`x`, `y`) or `.npy` of windows.
        path: PathBuf,
        /// The labels `.npy` beside an `.npy` of windows.
        labels: Option<PathBuf>,
        /// The user's float reference outputs (`.npy` `[N, classes]`), if given.
        reference: Option<PathBuf>,
        /// Where `path:` is in the file.
        at: Location,
    },
}

impl DatasetEntry {
    /// The recordings' format and root, unless this is a `windows` dataset.
    pub fn recordings(&self) -> Option<(DatasetKind, &Path)> {
        match &self.source {
            DatasetSource::Recordings { kind, root, .. } => Some((*kind, root)),
            DatasetSource::Windows { .. } => None,
        }
    }
}

/// One model of a scenario, resolved.
#[derive(Clone, Debug)]
pub struct ModelEntry {
    /// The model's name in cell ids: the directory's or the `.tflite`'s (e.g.
    /// `small-int8-generalized`).
    pub name: String,
    /// The model directory, or the bare `.tflite` of an inline entry.
    pub dir: PathBuf,
    /// An inline entry's input description (what `harbor models import` asks).
    pub inline: Option<crate::model::import::ImportSpec>,
    /// Where the entry is in the file.
    pub at: Location,
}

/// One target of a scenario, resolved.
#[derive(Clone, Debug)]
pub struct TargetEntry {
    /// Its name in the report.
    pub name: String,
    /// Which backend runs it.
    pub kind: TargetKind,
    /// The firmware ELF it runs.
    pub firmware: PathBuf,
    /// Where `firmware:` is in the file.
    pub firmware_at: Location,
    /// The device to open (its timeouts are set from the scenario when it runs).
    pub device: DeviceConfig,
}

impl ReplayScenario {
    /// Reads and parses a replay scenario file.
    pub fn load(path: &Path) -> Result<Self, ScenarioError> {
        Self::parse(path, &super::read(path)?)
    }

    /// Parses `text` as if read from `path` (used for errors and relative paths).
    pub fn parse(path: &Path, text: &str) -> Result<Self, ScenarioError> {
        let raw: schema::RawScenario =
            serde_saphyr::from_str(text).map_err(|e| ScenarioError::from_yaml(path, &e))?;
        let base = path.parent().unwrap_or(Path::new("")).to_path_buf();
        let at = |loc: Location, reason: String| ScenarioError::at(path, loc, reason);
        if let Some(kind) = &raw.kind
            && kind.value != ScenarioKind::Replay.name()
        {
            return Err(at(
                kind.referenced,
                format!("kind `{}` is not a replay scenario", kind.value),
            ));
        }

        if raw.jobs.value == 0 {
            return Err(at(raw.jobs.referenced, "`jobs` must be at least 1".into()));
        }
        for (empty, loc, key) in [
            (
                raw.datasets.value.is_empty(),
                raw.datasets.referenced,
                "datasets",
            ),
            (raw.models.value.is_empty(), raw.models.referenced, "models"),
            (
                raw.targets.value.is_empty(),
                raw.targets.referenced,
                "targets",
            ),
            (raw.modes.value.is_empty(), raw.modes.referenced, "modes"),
        ] {
            if empty {
                return Err(at(loc, format!("`{key}` needs at least one entry")));
            }
        }

        let mut datasets = Vec::new();
        for d in raw.datasets.value {
            if d.max_windows == Some(0) {
                return Err(at(
                    d.kind.referenced,
                    "`max_windows` must be at least 1".into(),
                ));
            }
            let source = dataset_source(&d, &base).map_err(|(l, m)| at(l, m))?;
            let default_name = match &source {
                DatasetSource::Recordings { kind, .. } => kind.name().to_string(),
                DatasetSource::Windows { path, .. } => path
                    .file_stem()
                    .map_or_else(|| WINDOWS_KIND.into(), |s| s.to_string_lossy().into_owned()),
            };
            let (name, name_at) = d.name.map_or_else(
                || (default_name, d.kind.referenced),
                |n| (n.value, n.referenced),
            );
            if datasets.iter().any(|e: &DatasetEntry| e.name == name) {
                return Err(at(
                    name_at,
                    format!("a second dataset named `{name}`: give each a distinct `name`"),
                ));
            }
            datasets.push(DatasetEntry {
                name,
                source,
                subjects: d.subjects,
                max_windows: d.max_windows,
            });
        }
        let models = raw
            .models
            .value
            .iter()
            .map(|m| model_entry(&m.value, m.referenced, &base).map_err(|r| at(m.referenced, r)))
            .collect::<Result<Vec<_>, _>>()?;
        if let Some(pos) =
            (1..models.len()).find(|&i| models[..i].iter().any(|m| m.name == models[i].name))
        {
            return Err(at(
                raw.models.value[pos].referenced,
                format!("model `{}` is listed twice", models[pos].name),
            ));
        }
        let mut targets: Vec<TargetEntry> = Vec::new();
        for t in &raw.targets.value {
            if targets.iter().any(|e| e.name == t.name.value) {
                return Err(at(
                    t.name.referenced,
                    format!("a second target named `{}`", t.name.value),
                ));
            }
            targets.push(TargetEntry {
                name: t.name.value.clone(),
                kind: t.kind.value,
                firmware: base.join(&t.firmware.value),
                firmware_at: t.firmware.referenced,
                device: t
                    .device(base.join(&t.firmware.value))
                    .map_err(|(location, message)| at(location, message))?,
            });
        }
        let mut modes: Vec<Mode> = Vec::new();
        for &m in &raw.modes.value {
            if modes.contains(&m) {
                return Err(at(
                    raw.modes.referenced,
                    format!("mode `{}` is listed twice", m.name()),
                ));
            }
            modes.push(m);
        }
        let [boot_timeout, exchange_timeout] = [
            ("boot_s", &raw.timeouts.boot_s),
            ("exchange_s", &raw.timeouts.exchange_s),
        ]
        .map(|(key, seconds)| schema::timeout(key, seconds));
        let boot_timeout = boot_timeout.map_err(|(loc, m)| at(loc, m))?;
        let exchange_timeout = exchange_timeout.map_err(|(loc, m)| at(loc, m))?;
        let cells = matrix::MatrixInput {
            path,
            models: models.iter().map(|m| m.name.as_str()).collect(),
            datasets: datasets.iter().map(|d| d.name.as_str()).collect(),
            targets: targets.iter().map(|t| t.name.as_str()).collect(),
            modes: &modes,
            exclude: &raw.exclude,
            thresholds: &raw.thresholds,
            overrides: &raw.overrides,
        }
        .expand()?;
        let streamed_windows = cells
            .iter()
            .find_map(|c| match &datasets[c.dataset].source {
                DatasetSource::Windows { at, .. } if c.mode == Mode::Stream => {
                    Some((*at, &datasets[c.dataset].name))
                }
                _ => None,
            });
        if let Some((loc, name)) = streamed_windows {
            return Err(at(
                loc,
                format!(
                    "dataset `{name}` is `kind: windows`: stream mode streams recordings, not \
                     windows; exclude its stream cells (`exclude: [{{ dataset: {name}, mode: stream }}]`)"
                ),
            ));
        }
        Ok(ReplayScenario {
            path: path.to_path_buf(),
            name: raw.name,
            board: raw.board.value,
            board_at: raw.board.referenced,
            jobs: raw.jobs.value,
            boot_timeout,
            exchange_timeout,
            datasets,
            models,
            targets,
            modes,
            cells,
        })
    }
}

/// The `kind` of a dataset of the user's own windows.
pub const WINDOWS_KIND: &str = "windows";

/// A dataset entry's source; an error names the key at fault.
fn dataset_source(d: &RawDataset, base: &Path) -> Result<DatasetSource, (Location, String)> {
    let only = |key: &str, value: &Option<serde_saphyr::Spanned<String>>, kinds: &str| {
        value.as_ref().map_or(Ok(()), |v| {
            Err((v.referenced, format!("`{key}` is for {kinds} only")))
        })
    };
    if d.kind.value == WINDOWS_KIND {
        only(
            "root",
            &d.root,
            "recordings (a `harbor datasets list` kind)",
        )?;
        if d.subjects != Subjects::All {
            return Err((
                d.kind.referenced,
                "`subjects` selects recordings' users; a `windows` dataset replays all its windows"
                    .into(),
            ));
        }
        let path = d.path.as_ref().ok_or_else(|| {
            (
                d.kind.referenced,
                "a `windows` dataset needs `path`: an .npz with `x` (windows) and `y` (labels), \
                 or an .npy of windows with `labels`"
                    .to_string(),
            )
        })?;
        let file = base.join(&path.value);
        let is_npz = file
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("npz"));
        if !is_npz && d.labels.is_none() {
            return Err((
                path.referenced,
                "an .npy of windows needs `labels` (an .npy of class indices); an .npz holds both"
                    .into(),
            ));
        }
        return Ok(DatasetSource::Windows {
            path: file,
            labels: d.labels.as_ref().map(|l| base.join(&l.value)),
            reference: d.reference.as_ref().map(|r| base.join(&r.value)),
            at: path.referenced,
        });
    }
    let kind = DatasetKind::from_str(&d.kind.value).map_err(|e| {
        (
            d.kind.referenced,
            format!("{e}; or `{WINDOWS_KIND}` for your own prepared windows"),
        )
    })?;
    only("path", &d.path, "`kind: windows` datasets")?;
    only("labels", &d.labels, "`kind: windows` datasets")?;
    only("reference", &d.reference, "`kind: windows` datasets")?;
    let root = d.root.as_ref().ok_or_else(|| {
        (
            d.kind.referenced,
            "a recordings dataset needs `root` (relative to $HARBOR_DATA or target/datasets)"
                .to_string(),
        )
    })?;
    let path = PathBuf::from(&root.value);
    Ok(DatasetSource::Recordings {
        kind,
        root: if path.is_absolute() {
            path
        } else {
            crate::datasets::data_root().join(path)
        },
        root_at: root.referenced,
    })
}

/// A model entry: a directory with `model.tflite`, or an inline bare `.tflite`.
fn model_entry(raw: &RawModel, at: Location, base: &Path) -> Result<ModelEntry, String> {
    match raw {
        RawModel::Dir(path) => {
            let dir = base.join(path);
            if dir.is_file() {
                return Err(format!(
                    "{} is a file: a bare .tflite needs its input described inline, \
                     `{{ tflite: {path}, classes: [...] }}` (or import it: harbor models import)",
                    dir.display()
                ));
            }
            if !dir.join("model.tflite").is_file() {
                return Err(format!(
                    "model directory {} has no model.tflite",
                    dir.display()
                ));
            }
            let name = dir
                .file_name()
                .map_or_else(|| path.clone(), |n| n.to_string_lossy().into_owned());
            Ok(ModelEntry {
                name,
                dir,
                inline: None,
                at,
            })
        }
        RawModel::Inline(m) => {
            let file = base.join(&m.tflite);
            if !file.is_file() {
                return Err(format!("model file {} does not exist", file.display()));
            }
            let name = m.name.clone().unwrap_or_else(|| {
                file.file_stem()
                    .map_or_else(|| m.tflite.clone(), |n| n.to_string_lossy().into_owned())
            });
            Ok(ModelEntry {
                name,
                dir: file,
                inline: Some(crate::model::import::ImportSpec {
                    classes: m.classes.clone(),
                    rate_hz: m.rate_hz,
                    window: m.window,
                    hop: m.hop,
                    mean: m.mean.clone(),
                    std: m.std.clone(),
                }),
                at,
            })
        }
    }
}
