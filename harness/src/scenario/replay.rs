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
    pub path: PathBuf,
    pub name: String,
    pub board: String,
    pub board_at: Location,
    pub jobs: usize,
    pub boot_timeout: Duration,
    pub exchange_timeout: Duration,
    pub datasets: Vec<DatasetEntry>,
    pub models: Vec<ModelEntry>,
    pub targets: Vec<TargetEntry>,
    pub modes: Vec<Mode>,
    /// The expanded matrix in matrix order (models, then datasets, targets, modes).
    pub cells: Vec<MatrixCell>,
}

#[derive(Clone, Debug)]
pub struct DatasetEntry {
    pub name: String,
    pub kind: DatasetKind,
    pub root: PathBuf,
    pub root_at: Location,
    pub subjects: Subjects,
    /// At most this many windows, chosen evenly over the dataset's order (deterministic).
    pub max_windows: Option<usize>,
}

#[derive(Clone, Debug)]
pub struct ModelEntry {
    /// The model directory's name (e.g. `small-int8-generalized`).
    pub name: String,
    pub dir: PathBuf,
}

#[derive(Clone, Debug)]
pub struct TargetEntry {
    pub name: String,
    pub kind: TargetKind,
    pub firmware: PathBuf,
    pub firmware_at: Location,
    /// The device to open (its timeouts are set from the scenario when it runs).
    pub device: DeviceConfig,
}

impl ReplayScenario {
    /// Reads and parses a replay scenario file.
    pub fn load(path: &Path) -> Result<Self, ScenarioError> {
        let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(path, &text)
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
            boot_timeout: Duration::from_secs_f64(raw.timeouts.boot_s),
            exchange_timeout: Duration::from_secs_f64(raw.timeouts.exchange_s),
            datasets,
            models,
            targets,
            modes,
            cells,
        })
    }
}
