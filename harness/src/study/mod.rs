//! Research studies on the band: subject-wise splits, fine-tuning strategies (Rd, PF, PU),
//! cross-dataset (LODO, transfer) and personalization (BandX) studies, scored as float and
//! int8 on the host and int8 on the emulated band, and their reports. See `docs/studies.md`.

pub mod cross;
pub mod device;
pub mod personalize;
pub mod phases;
pub mod report;
pub mod score;
pub mod sources;
pub mod split;
pub mod strategy;

mod error;
pub use error::StudyError;
