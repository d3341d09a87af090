//! Errors and skip reports shared by all dataset loaders.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

/// Why a dataset could not be loaded. Every variant names the file (and line, where there is one).
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}:{line}: {reason}", path.display())]
    Malformed { path: PathBuf, line: usize, reason: String },
    #[error("{}: {reason}", path.display())]
    Invalid { path: PathBuf, reason: String },
    #[error("{}: no {what} found (expected {expected})", root.display())]
    Empty { root: PathBuf, what: String, expected: String },
    #[error("unknown dataset kind `{0}` (see `harbor datasets list`)")]
    UnknownKind(String),
}

impl DatasetError {
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        DatasetError::Io { path: path.to_path_buf(), source }
    }

    pub fn malformed(path: &Path, line: usize, reason: impl Into<String>) -> Self {
        DatasetError::Malformed { path: path.to_path_buf(), line, reason: reason.into() }
    }

    pub fn invalid(path: &Path, reason: impl Into<String>) -> Self {
        DatasetError::Invalid { path: path.to_path_buf(), reason: reason.into() }
    }
}

/// A line a loader skipped on purpose because the format is known to contain such lines
/// (e.g. WISDM v1.1's empty values). Skips are counted and reported, never silent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Skipped {
    pub path: PathBuf,
    pub line: usize,
    pub reason: String,
}

impl fmt::Display for Skipped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.path.display(), self.line, self.reason)
    }
}
