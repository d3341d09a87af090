//! What `harbor validate` checks beyond the file's shape: the files and names a run needs.

use super::{ReplayScenario, ScenarioError};
use crate::board::BoardProfile;

impl ReplayScenario {
    /// Every missing input, each at its place in the file: the board profile, dataset roots
    /// and firmware images. (Models and dataset kinds are checked when the file is parsed.)
    pub fn check_inputs(&self) -> Vec<ScenarioError> {
        let mut problems = Vec::new();
        if let Err(e) = BoardProfile::load(&self.board) {
            problems.push(ScenarioError::at(&self.path, self.board_at, e.to_string()));
        }
        for d in &self.datasets {
            if !d.root.is_dir() {
                problems.push(ScenarioError::at(
                    &self.path,
                    d.root_at,
                    format!(
                        "dataset root {} does not exist (roots are relative to $HARBOR_DATA \
                         or target/datasets)",
                        d.root.display()
                    ),
                ));
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
