//! Errors and skip reports shared by all dataset loaders.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

/// Why a dataset could not be loaded. Every variant names the file (and line, where there is one).
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    /// A file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A line does not follow the format.
    #[error("{}:{line}: {reason}", path.display())]
    Malformed {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// A file breaks the format as a whole (header, shape, metadata).
    #[error("{}: {reason}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The root holds none of the files the format needs.
    #[error("{}: no {what} found (expected {expected})", root.display())]
    Empty {
        /// The folder searched.
        root: PathBuf,
        /// What was looked for.
        what: String,
        /// Where it was expected.
        expected: String,
    },
    /// A kind name `harbor datasets list` does not know.
    #[error("unknown dataset kind `{0}` (see `harbor datasets list`)")]
    UnknownKind(String),
}

impl DatasetError {
    /// An I/O error on `path`.
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        DatasetError::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    /// A malformed line of `path`.
    pub fn malformed(path: &Path, line: usize, reason: impl Into<String>) -> Self {
        DatasetError::Malformed {
            path: path.to_path_buf(),
            line,
            reason: reason.into(),
        }
    }

    /// A file that breaks the format as a whole.
    pub fn invalid(path: &Path, reason: impl Into<String>) -> Self {
        DatasetError::Invalid {
            path: path.to_path_buf(),
            reason: reason.into(),
        }
    }
}

/// A line a loader skipped on purpose because the format is known to contain such lines
/// (e.g. WISDM v1.1's empty values). Skips are counted and reported, never silent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// The file.
    pub path: PathBuf,
    /// 1-based line number.
    pub line: usize,
    /// Why it was skipped.
    pub reason: String,
}

impl fmt::Display for Skipped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.path.display(), self.line, self.reason)
    }
}
