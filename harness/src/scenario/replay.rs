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
use super::schema::{self, Mode, Subjects, TargetKind};
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
    /// Which reader loads it.
    pub kind: DatasetKind,
    /// Its folder, resolved against the data root.
    pub root: PathBuf,
    /// Where `root:` is in the file.
    pub root_at: Location,
    /// Which of its subjects to replay.
    pub subjects: Subjects,
    /// At most this many windows, chosen evenly over the dataset's order (deterministic).
    pub max_windows: Option<usize>,
}

/// One model of a scenario, resolved.
#[derive(Clone, Debug)]
pub struct ModelEntry {
    /// The model directory's name (e.g. `small-int8-generalized`).
    pub name: String,
    /// The model directory (card, model.tflite).
    pub dir: PathBuf,
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
            let kind = DatasetKind::from_str(&d.kind.value)
                .map_err(|e| at(d.kind.referenced, e.to_string()))?;
            if d.max_windows == Some(0) {
                return Err(at(
                    d.kind.referenced,
                    "`max_windows` must be at least 1".into(),
                ));
            }
            let root = PathBuf::from(&d.root.value);
            let (name, name_at) = d.name.map_or_else(
                || (kind.name().to_string(), d.kind.referenced),
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
                kind,
                root: if root.is_absolute() {
                    root
                } else {
                    crate::datasets::data_root().join(root)
                },
                root_at: d.root.referenced,
                subjects: d.subjects,
                max_windows: d.max_windows,
            });
        }
        let models = raw
            .models
            .value
            .iter()
            .map(|m| {
                let dir = base.join(&m.value);
                if !dir.join("model.tflite").is_file() {
                    return Err(at(
                        m.referenced,
                        format!("model directory {} has no model.tflite", dir.display()),
                    ));
                }
                let name = dir
                    .file_name()
                    .map_or_else(|| m.value.clone(), |n| n.to_string_lossy().into_owned());
                Ok(ModelEntry { name, dir })
            })
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
