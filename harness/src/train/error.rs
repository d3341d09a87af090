//! Why a training or personalization run cannot produce a model.

use harbor_core::writer::WriteError;

use crate::model::ArchError;
use crate::model::int8::Int8Error;

/// A training or personalization run that cannot go on.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// Training needs windows in every split part.
    #[error("empty split: {train} train, {val} validation, {test} test windows")]
    EmptySplit {
        /// Training windows.
        train: usize,
        /// Validation windows.
        val: usize,
        /// Test windows.
        test: usize,
    },
    /// The variant does not fit the windows or classes.
    #[error(transparent)]
    Arch(#[from] ArchError),
    /// The quantized or float model cannot be written as `.tflite`.
    #[error("cannot write the .tflite: {0}")]
    Export(#[from] WriteError),
    /// harbor-core cannot run the exported model.
    #[error(transparent)]
    Int8(#[from] Int8Error),
    /// Personalization was given no labelled windows.
    #[error("no labelled windows to fine-tune on")]
    NoShots,
    /// The user has no windows of any class the model predicts.
    #[error("the user has no labelled windows of the model's classes")]
    NoUserWindows,
}
