//! Scenario files (`scenarios/*.yaml`): what `harbor run` replays, into which targets, how.
//!
//! The schema is deliberately small and grows by adding optional keys (thresholds and
//! matrices come next); unknown keys are errors so a typo never silently means "default".
//! Relative paths resolve against the scenario file's folder, dataset roots against
//! [`crate::datasets::data_root`]. Errors name the file, line and column.

mod error;
mod schema;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use serde_saphyr::Location;

pub use error::ScenarioError;
pub use schema::{Mode, Subjects, TargetKind};

use crate::datasets::DatasetKind;

/// A scenario with every path resolved and every name checked.
#[derive(Clone, Debug)]
pub struct Scenario {
    pub path: PathBuf,
    pub name: String,
    pub board: String,
    pub jobs: usize,
    pub boot_timeout: Duration,
    pub exchange_timeout: Duration,
    pub datasets: Vec<DatasetEntry>,
    pub models: Vec<ModelEntry>,
    pub targets: Vec<TargetEntry>,
    pub modes: Vec<Mode>,
}

#[derive(Clone, Debug)]
pub struct DatasetEntry {
    pub name: String,
    pub kind: DatasetKind,
    pub root: PathBuf,
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
}

impl Scenario {
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
            let root = PathBuf::from(&d.root);
            datasets.push(DatasetEntry {
                name: d.name.unwrap_or_else(|| kind.name().to_string()),
                kind,
                root: if root.is_absolute() {
                    root
                } else {
                    crate::datasets::data_root().join(root)
                },
                subjects: d.subjects,
                max_windows: d.max_windows,
            });
        }
        let models = raw
            .models
            .value
            .into_iter()
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
        let targets = raw
            .targets
            .value
            .into_iter()
            .map(|t| TargetEntry {
                name: t.name,
                kind: t.kind,
                firmware: base.join(t.firmware),
            })
            .collect();
        Ok(Scenario {
            path: path.to_path_buf(),
            name: raw.name,
            board: raw.board,
            jobs: raw.jobs.value,
            boot_timeout: Duration::from_secs_f64(raw.timeouts.boot_s),
            exchange_timeout: Duration::from_secs_f64(raw.timeouts.exchange_s),
            datasets,
            models,
            targets,
            modes: raw.modes.value,
        })
    }
}

#[cfg(test)]
mod tests;
