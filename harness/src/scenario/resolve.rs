//! What `harbor validate` checks beyond the file's shape: the files and names a run needs,
//! loaded the way `harbor run` loads them (a model that fails its card's checks, windows that
//! do not fit a model), so validate rejects whatever run would.

use super::replay::DatasetSource;
use super::{ReplayScenario, ScenarioError};
use crate::board::BoardProfile;
use crate::replay::workload::check_subjects;
use crate::replay::{ModelBundle, RecordingCache, ReplayWindows};

impl ReplayScenario {
    /// Every missing or unusable input, each at its place in the file: the board profile,
    /// dataset roots and windows files, selected subjects, models (integrity, inline import)
    /// and firmware images (an RV32 executable for the target, a harbor band image).
    pub fn check_inputs(&self) -> Vec<ScenarioError> {
        self.check_inputs_with(&RecordingCache::default())
    }

    /// [`Self::check_inputs`], keeping the recordings it loads in `recordings` for the replay.
    pub fn check_inputs_with(&self, recordings: &RecordingCache) -> Vec<ScenarioError> {
        let mut problems = Vec::new();
        let board = match BoardProfile::load(&self.board) {
            Ok(board) => Some(board),
            Err(e) => {
                problems.push(ScenarioError::at(&self.path, self.board_at, e.to_string()));
                None
            }
        };
        for d in &self.datasets {
            match &d.source {
                DatasetSource::Recordings { root, root_at, .. } if !root.is_dir() => {
                    problems.push(ScenarioError::at(
                        &self.path,
                        *root_at,
                        format!(
                            "dataset root {} does not exist (roots are relative to $HARBOR_DATA \
                             or target/datasets)",
                            root.display()
                        ),
                    ));
                }
                DatasetSource::Windows {
                    path,
                    labels,
                    reference,
                    at,
                } => {
                    for file in std::iter::once(path).chain(labels).chain(reference) {
                        if !file.is_file() {
                            problems.push(ScenarioError::at(
                                &self.path,
                                *at,
                                format!("windows file {} does not exist", file.display()),
                            ));
                        }
                    }
                }
                DatasetSource::Recordings { .. } => {}
            }
        }
        let mut subjects_checked: Vec<(usize, Vec<String>)> = Vec::new();
        if let Some(board) = &board {
            for (mi, m) in self.models.iter().enumerate() {
                let model = match ModelBundle::load_entry(m, board) {
                    Ok(model) => model,
                    Err(e) => {
                        problems.push(ScenarioError::at(&self.path, m.at, e.to_string()));
                        continue;
                    }
                };
                if !model.has_float() {
                    problems.extend(self.float_thresholds_without_float(mi, &m.name));
                }
                for (di, d) in self.datasets.iter().enumerate() {
                    if let DatasetSource::Recordings { root, root_at, .. } = &d.source
                        && root.is_dir()
                    {
                        // Models sharing a selection (the same card subjects) load it once.
                        let key = (di, crate::replay::workload::selected_subjects(&model, d));
                        if !subjects_checked.contains(&key) {
                            if let Err(e) = check_subjects(&model, d, recordings) {
                                problems.push(ScenarioError::at(
                                    &self.path,
                                    *root_at,
                                    e.to_string(),
                                ));
                            }
                            subjects_checked.push(key);
                        }
                    }
                    if let DatasetSource::Windows {
                        at,
                        path,
                        labels,
                        reference,
                    } = &d.source
                        && path.is_file()
                        && labels.as_ref().is_none_or(|l| l.is_file())
                        && reference.as_ref().is_none_or(|r| r.is_file())
                        && let Err(e) = ReplayWindows::read_user_windows(&model, d)
                    {
                        problems.push(ScenarioError::at(
                            &self.path,
                            *at,
                            format!("model `{}`: {e}", m.name),
                        ));
                    }
                }
            }
        }
        for t in &self.targets {
            if !t.firmware.is_file() {
                problems.push(ScenarioError::at(
                    &self.path,
                    t.firmware_at,
                    format!(
                        "firmware image {} does not exist: run scripts/build-firmware",
                        t.firmware.display()
                    ),
                ));
            } else if let Err(e) = t.device.check_firmware() {
                problems.push(ScenarioError::at(&self.path, t.firmware_at, e.to_string()));
            }
        }
        problems
    }
}

/// Metrics computed from a model's float weights (`float.json`).
const FLOAT_METRICS: [&str; 2] = ["float_accuracy", "agreement_float"];

impl ReplayScenario {
    /// Thresholds on a float metric in the cells of model `mi`, which has no float weights:
    /// each would fail as "not measured" after the whole replay. One problem per threshold.
    fn float_thresholds_without_float(&self, mi: usize, name: &str) -> Vec<ScenarioError> {
        let mut origins: Vec<&str> = Vec::new();
        for t in self
            .cells
            .iter()
            .filter(|c| c.model == mi)
            .flat_map(|c| &c.thresholds)
        {
            if FLOAT_METRICS.contains(&t.metric.as_str()) && !origins.contains(&t.origin.as_str()) {
                origins.push(&t.origin);
            }
        }
        origins
            .into_iter()
            .map(|origin| {
                let reason = format!(
                    "model `{name}` has no float reference (float.json, or a float32 .tflite from \
                     `harbor models import --float`), so {} cannot be measured on recordings: give \
                     it one, or keep this threshold off its cells (`exclude` them here)",
                    FLOAT_METRICS.join(" and ")
                );
                at_origin(&self.path, origin, reason)
            })
            .collect()
    }
}

/// An error at a threshold's `origin` (`file:line:column`).
fn at_origin(path: &std::path::Path, origin: &str, reason: String) -> ScenarioError {
    let mut parts = origin.rsplitn(3, ':');
    let column = parts.next().and_then(|c| c.parse().ok()).unwrap_or(0);
    let line = parts.next().and_then(|l| l.parse().ok()).unwrap_or(0);
    ScenarioError::At {
        path: path.to_path_buf(),
        line,
        column,
        reason,
    }
}
