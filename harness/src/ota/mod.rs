//! Over-the-air updates from the harness's side: the band's radio link to the mock cloud, the
//! band's OTA protocol, and the runner of OTA scenarios (`kind: ota`, parsed by
//! [`crate::scenario`]; docs/cloud.md). Results go into the shared run report.

mod band;
mod case;
pub mod device;
mod error;
pub mod link_model;
mod outcome;
pub mod personalized;
pub mod radio;
mod runner;
pub mod sweep;
mod verdict;

pub use error::{CaseError, OtaError};
pub use outcome::{
    AccuracyGain, CaseResult, CaseStatus, DeviceOutcome, INFRASTRUCTURE_ERROR, InfrastructureError,
    OtaResults,
};
pub use runner::{run, run_report, run_until};
pub use verdict::host_verdict;
