//! Scenario errors: always the file, and the line and column when the YAML has them.

use std::path::{Path, PathBuf};

use serde_saphyr::Location;

/// Why a scenario file cannot be used; errors name the file, line and column.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The file could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A problem at a place in the file.
    #[error("{}:{line}:{column}: {reason}", path.display())]
    At {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: u64,
        /// 1-based column.
        column: u64,
        /// What is wrong there.
        reason: String,
    },
}

impl ScenarioError {
    /// An error at `loc` in `path`.
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
