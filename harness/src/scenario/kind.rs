//! Which kind of scenario a file holds: read by parsing its top-level `kind` key.

use std::path::Path;

use serde::Deserialize;
use serde_saphyr::Spanned;

use super::ScenarioError;

/// The scenario kinds `harbor run` knows; a file without `kind` is a replay scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScenarioKind {
    /// A matrix of models × datasets × targets × modes replayed on devices.
    Replay,
    /// Update cases against the mock cloud (docs/cloud.md).
    Ota,
}

impl ScenarioKind {
    /// Every kind, in the order the docs list them.
    pub const ALL: [ScenarioKind; 2] = [ScenarioKind::Replay, ScenarioKind::Ota];

    /// The `kind:` value naming it.
    pub fn name(self) -> &'static str {
        match self {
            ScenarioKind::Replay => "replay",
            ScenarioKind::Ota => "ota",
        }
    }
}

/// Only the `kind` key; every other key is left to the kind's own schema.
#[derive(Deserialize)]
struct KindOnly {
    #[serde(default)]
    kind: Option<Spanned<String>>,
}

/// The kind of the scenario in `text`; an unknown kind is an error at its line and column.
pub fn kind_of(path: &Path, text: &str) -> Result<ScenarioKind, ScenarioError> {
    let head: KindOnly =
        serde_saphyr::from_str(text).map_err(|e| ScenarioError::from_yaml(path, &e))?;
    let Some(kind) = head.kind else {
        return Ok(ScenarioKind::Replay);
    };
    ScenarioKind::ALL
        .into_iter()
        .find(|k| k.name() == kind.value)
        .ok_or_else(|| {
            let known: Vec<&str> = ScenarioKind::ALL.iter().map(|k| k.name()).collect();
            ScenarioError::at(
                path,
                kind.referenced,
                format!(
                    "unknown scenario kind `{}`: use one of {}",
                    kind.value,
                    known.join(", ")
                ),
            )
        })
}
