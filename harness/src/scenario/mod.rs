//! Scenario files (`scenarios/*.yaml`): what `harbor run` runs, and how.
//!
//! Every file has a `kind` (docs/scenarios.md), read by parsing: `replay` (the default when
//! `kind` is absent) replays a matrix of models × datasets × targets × modes with thresholds
//! per cell; `ota` runs update cases against the mock cloud (docs/cloud.md). Unknown keys are
//! errors so a typo never silently means "default". Relative paths resolve against the
//! scenario file's folder, dataset roots against [`crate::datasets::data_root`]. Errors name
//! the file, line and column.

mod error;
mod kind;
mod matrix;
mod ota;
mod ota_schema;
mod replay;
mod resolve;
mod schema;
mod threshold;

use std::path::Path;

pub use error::ScenarioError;
pub use kind::{ScenarioKind, kind_of};
pub use matrix::{MatrixCell, parse_shard};
pub use ota::{
    CaseKind, FaultSpec, LinkSpec, OtaCase, OtaScenario, PersonalizeSpec, Radio, is_known_outcome,
};
pub use replay::{
    DatasetEntry, DatasetSource, ModelEntry, ReplayScenario, TargetEntry, WINDOWS_KIND,
};
pub use schema::{Mode, Subjects, TargetKind};
pub use threshold::Threshold;

/// A parsed scenario of any kind.
#[derive(Clone, Debug)]
pub enum Scenario {
    /// `kind: replay` (or no `kind`).
    Replay(ReplayScenario),
    /// `kind: ota`.
    Ota(OtaScenario),
}

/// A scenario file's text; the error names the file.
fn read(path: &Path) -> Result<String, ScenarioError> {
    std::fs::read_to_string(path).map_err(|source| ScenarioError::Io {
        path: path.to_path_buf(),
        source,
    })
}

impl Scenario {
    /// Reads and parses a scenario file of any kind.
    pub fn load(path: &Path) -> Result<Self, ScenarioError> {
        Self::parse(path, &read(path)?)
    }

    /// Parses `text` as if read from `path`: its `kind` picks the schema.
    pub fn parse(path: &Path, text: &str) -> Result<Self, ScenarioError> {
        Ok(match kind_of(path, text)? {
            ScenarioKind::Replay => Scenario::Replay(ReplayScenario::parse(path, text)?),
            ScenarioKind::Ota => Scenario::Ota(OtaScenario::parse(path, text)?),
        })
    }

    /// Its kind.
    pub fn kind(&self) -> ScenarioKind {
        match self {
            Scenario::Replay(_) => ScenarioKind::Replay,
            Scenario::Ota(_) => ScenarioKind::Ota,
        }
    }

    /// The scenario's `name`.
    pub fn name(&self) -> &str {
        match self {
            Scenario::Replay(s) => &s.name,
            Scenario::Ota(s) => &s.name,
        }
    }

    /// Every missing input a run needs (board, firmware, datasets), each at its place.
    pub fn check_inputs(&self) -> Vec<ScenarioError> {
        self.check_inputs_with(&crate::replay::RecordingCache::default())
    }

    /// [`Self::check_inputs`], keeping the recordings a replay scenario's checks load in
    /// `recordings`, so the run that follows does not load them again.
    pub fn check_inputs_with(
        &self,
        recordings: &crate::replay::RecordingCache,
    ) -> Vec<ScenarioError> {
        match self {
            Scenario::Replay(s) => s.check_inputs_with(recordings),
            Scenario::Ota(s) => s.check_inputs(),
        }
    }
}

#[cfg(test)]
mod ota_tests;
#[cfg(test)]
mod tests;
