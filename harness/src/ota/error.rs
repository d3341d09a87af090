//! Why an OTA scenario could not run (a case that ends otherwise than expected is a result,
//! not an error).

use std::path::PathBuf;

use crate::board::BoardError;
use crate::cloud::CloudError;
use crate::cloud::release::ReleaseError;
use crate::ota::device::OtaDeviceError;
use crate::ota::personalized::PersonalizeError;
use crate::ota::radio::RadioError;
use crate::ota::sweep::SweepError;

/// An OTA scenario run that stopped.
#[derive(Debug, thiserror::Error)]
pub enum OtaError {
    #[error("board profile: {0}")]
    Board(#[from] BoardError),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("release image: {0}")]
    Release(#[from] ReleaseError),
    #[error("mock cloud: {0}")]
    Cloud(#[from] CloudError),
    #[error("firmware image {} does not exist: run scripts/build-firmware", .0.display())]
    MissingFirmware(PathBuf),
    #[error("case `{0}` runs on an emulated band: set `firmware:`")]
    NeedsBand(String),
    #[error("board `{0}`: its name is not a hardware id")]
    HardwareId(String),
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
    #[error("case `{case}`: {source}")]
    Case {
        case: String,
        source: Box<CaseError>,
    },
}

/// Why one case could not run to an outcome.
#[derive(Debug, thiserror::Error)]
pub enum CaseError {
    #[error("the cloud offered no update")]
    NoUpdate,
    #[error("poll: {0}")]
    Poll(RadioError),
    #[error("download: {0}")]
    Download(RadioError),
    #[error("offered release {0}, not the personalization job's")]
    NotTheJobsRelease(String),
    #[error("{0} does not decode")]
    BadManifest(&'static str),
    #[error("the cloud's store has no image for release {0}")]
    MissingImage(String),
    #[error(transparent)]
    Cloud(#[from] CloudError),
    #[error("{step}: {source}")]
    Device {
        step: &'static str,
        source: OtaDeviceError,
    },
    #[error("power-cut sweep: {0}")]
    Sweep(#[from] SweepError),
    #[error("personalization: {0}")]
    Personalize(#[from] PersonalizeError),
    #[error("temporary flash folder: {0}")]
    TempDir(std::io::Error),
}

impl CaseError {
    /// `step` of talking to the band failed.
    pub fn device(step: &'static str) -> impl Fn(OtaDeviceError) -> CaseError {
        move |source| CaseError::Device { step, source }
    }
}
