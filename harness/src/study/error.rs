//! Why a study cannot run.

use std::path::PathBuf;

/// Why a study cannot run; each names what it was working on.
#[derive(Debug, thiserror::Error)]
pub enum StudyError {
    /// A dataset has too few subjects (split units) for the split's parts.
    #[error("{dataset}: {subjects} subjects, the split needs at least {needed}")]
    TooFewSubjects {
        /// The dataset.
        dataset: String,
        /// Subjects it has.
        subjects: usize,
        /// Subjects the split needs.
        needed: usize,
    },
    /// A part the study needs has no windows.
    #[error("{dataset}: no {part} windows")]
    NoWindows {
        /// The dataset (or user).
        dataset: String,
        /// Which part.
        part: String,
    },
    /// The study's settings do not make sense.
    #[error("{0}")]
    Settings(String),
    /// The datasets cannot be loaded.
    #[error(transparent)]
    Source(#[from] crate::model::source::SourceError),
    /// The variant does not fit the windows or classes.
    #[error(transparent)]
    Arch(#[from] crate::model::arch::ArchError),
    /// A model cannot be written as `.tflite`.
    #[error("cannot write the .tflite: {0}")]
    Export(harbor_core::writer::WriteError),
    /// harbor-core cannot run a model on the host.
    #[error(transparent)]
    Int8(crate::model::int8::Int8Error),
    /// A file cannot be written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// An output cannot be laid out (card, windows, report).
    #[error("cannot write study output: {0}")]
    Output(String),
    /// The generated scenario does not load.
    #[error("{}: {message}", path.display())]
    Scenario {
        /// The scenario file.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// The device run failed (emulator missing, no window answered).
    #[error("device: {0}")]
    Device(String),
}
