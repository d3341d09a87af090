//! From canonical recordings to what the band's IMU produces and what its model consumes:
//! resampling, int16 quantization, windowing and subject-wise splits.
//!
//! The chain ([`prepare`]): [`resample`] to the IMU's rate by timestamp (splitting at gaps),
//! [`quantize`] to raw int16 readings, convert to the model rate with the firmware's own
//! `harbor_core::rate` converter ([`model_rate`]), then [`window`] into labelled windows.
//! [`split`] assigns subjects to train/val/test or to the personalization protocol;
//! [`subjects`] splits by explicit subject lists.
//! See `docs/signal.md` for the design choices and their justification.

mod clock;
mod error;
pub mod export;
pub mod model_rate;
pub mod pipeline;
pub mod quantize;
pub mod resample;
pub mod split;
pub mod subjects;
pub mod window;

pub use clock::Rate;
pub use error::SignalError;
pub use export::{PreparedFile, Provenance};
pub use pipeline::{PrepareReport, Prepared, prepare};
pub use quantize::{ClipCounts, ImuQuantizer};
pub use resample::{GapThreshold, ResampleConfig};
pub use window::{WindowSpec, Windows};
