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
    /// The board profile could not be read.
    #[error("board profile: {0}")]
    Board(#[from] BoardError),
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// The model directory does not hold the model its card describes.
    #[error(transparent)]
    Model(Box<crate::model::IntegrityError>),
    /// The release image could not be built.
    #[error("release image: {0}")]
    Release(#[from] ReleaseError),
    /// The mock cloud could not start or publish.
    #[error("mock cloud: {0}")]
    Cloud(#[from] CloudError),
    /// The band firmware image does not exist.
    #[error("firmware image {} does not exist: run scripts/build-firmware", .0.display())]
    MissingFirmware(PathBuf),
    /// A case needs an emulated band but the scenario names no firmware.
    #[error("case `{0}` runs on an emulated band: set `firmware:`")]
    NeedsBand(String),
    /// The board's name cannot serve as a hardware id.
    #[error("board `{0}`: its name is not a hardware id")]
    HardwareId(String),
    /// The async runtime could not start.
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
    /// One case could not run to an outcome.
    #[error("case `{case}`: {source}")]
    Case {
        /// The case's name.
        case: String,
        /// Why it stopped.
        source: Box<CaseError>,
    },
}

/// Why one case could not run to an outcome.
#[derive(Debug, thiserror::Error)]
pub enum CaseError {
    /// The cloud offered no update where the case needs one.
    #[error("the cloud offered no update")]
    NoUpdate,
    /// Polling the release API failed.
    #[error("poll: {0}")]
    Poll(RadioError),
    /// Downloading the release failed.
    #[error("download: {0}")]
    Download(RadioError),
    /// The cloud offered another release than the personalization job made.
    #[error("offered release {0}, not the personalization job's")]
    NotTheJobsRelease(String),
    /// A manifest field does not decode.
    #[error("{0} does not decode")]
    BadManifest(&'static str),
    /// The cloud's store has no image for the offered release.
    #[error("the cloud's store has no image for release {0}")]
    MissingImage(String),
    /// The mock cloud failed.
    #[error(transparent)]
    Cloud(#[from] CloudError),
    /// The emulated band failed at one step.
    #[error("{step}: {source}")]
    Device {
        /// The step (e.g. `OtaBegin`).
        step: &'static str,
        /// What the band or its link said.
        source: OtaDeviceError,
    },
    /// The power-cut sweep stopped.
    #[error("power-cut sweep: {0}")]
    Sweep(#[from] SweepError),
    /// The personalization case stopped.
    #[error("personalization: {0}")]
    Personalize(#[from] PersonalizeError),
    /// The temporary folder for flash images could not be made.
    #[error("temporary flash folder: {0}")]
    TempDir(std::io::Error),
}

impl CaseError {
    /// The harness's own trouble behind this error (an emulator that stalled or was killed
    /// mid-case), if that is what it is: the case is then an infrastructure failure, not a
    /// result of the band's.
    pub fn infrastructure(&self) -> Option<&crate::dut::TargetError> {
        match self {
            Self::Device { source, .. } => source.infrastructure(),
            Self::Sweep(e) => e.infrastructure(),
            Self::Personalize(PersonalizeError::Infer(e)) if e.is_infrastructure() => Some(e),
            _ => None,
        }
    }

    /// `step` of talking to the band failed.
    pub fn device(step: &'static str) -> impl Fn(OtaDeviceError) -> CaseError {
        move |source| CaseError::Device { step, source }
    }
}
