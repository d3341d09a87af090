//! Scenario errors: always the file, and the line and column when the YAML has them.

use std::path::{Path, PathBuf};

use serde_saphyr::Location;

#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}:{line}:{column}: {reason}", path.display())]
    At {
        path: PathBuf,
        line: u64,
        column: u64,
        reason: String,
    },
}

impl ScenarioError {
    pub fn at(path: &Path, loc: Location, reason: String) -> Self {
        ScenarioError::At {
            path: path.to_path_buf(),
            line: loc.line(),
            column: loc.column(),
            reason,
        }
    }

    pub(super) fn from_yaml(path: &Path, e: &serde_saphyr::Error) -> Self {
        let (line, column) = e.location().map_or((0, 0), |l| (l.line(), l.column()));
        // The error's text repeats the position and adds a snippet: keep only the message.
        let text = e.to_string();
        let first = text.lines().next().unwrap_or("invalid scenario");
        let position = format!("line {line} column {column}: ");
        let reason = first
            .split_once(&position)
            .map_or(first, |(_, m)| m)
            .to_string();
        ScenarioError::At {
            path: path.to_path_buf(),
            line,
            column,
            reason,
        }
    }
}
