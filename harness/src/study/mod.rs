//! Research studies on the band: subject-wise splits, fine-tuning strategies, scores on the
//! host and on the emulated device, and their reports. See `docs/studies.md`.

pub mod sources;
pub mod split;

mod error;
pub use error::StudyError;
