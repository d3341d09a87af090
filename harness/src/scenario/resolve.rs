//! What `harbor validate` checks beyond the file's shape: the files and names a run needs,
//! loaded the way `harbor run` loads them (a model that fails its card's checks, windows that
//! do not fit a model), so validate rejects whatever run would.

use super::replay::DatasetSource;
use super::{ReplayScenario, ScenarioError};
use crate::board::BoardProfile;
use crate::replay::{ModelBundle, ReplayWindows};

impl ReplayScenario {
    /// Every missing or unusable input, each at its place in the file: the board profile,
    /// dataset roots and windows files, models (integrity, inline import) and firmware images.
    pub fn check_inputs(&self) -> Vec<ScenarioError> {
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
        if let Some(board) = &board {
            for m in &self.models {
                let model = match ModelBundle::load_entry(m, board) {
                    Ok(model) => model,
                    Err(e) => {
                        problems.push(ScenarioError::at(&self.path, m.at, e.to_string()));
                        continue;
                    }
                };
                for d in &self.datasets {
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
            }
        }
        problems
    }
}
