//! Training the band's model (burn, CPU): fitting, head-only personalization and the
//! pipeline from windows to a model directory. Behind feature `train`; the model itself
//! (architecture, quantization, export, cards, scoring) is `crate::model`. See
//! `docs/models.md`.

#![warn(missing_docs)]

pub mod cnn;
mod error;
pub mod fit;
pub mod personalize;
pub mod pipeline;

pub use error::TrainError;
