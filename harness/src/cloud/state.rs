//! The server's data: registry, uploaded windows, jobs, releases, artifacts and faults,
//! behind one mutex (never held across an await).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use harbor_core::ota::manifest::InputContract as ManifestContract;
use serde::Serialize;

use super::CloudConfig;
use super::faults::Faults;
use super::registry::{Registry, opaque_id};
use super::release::{self, Release, ReleaseError, ReleaseInfo, SigningKey};
use super::samples::{InputContract, LabelledWindow};

/// A personalization job's state, as `GET /api/v0/jobs/{id}` reports it.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum JobStatus {
    /// Still fine-tuning.
    Running,
    /// Done: the release it published.
    Succeeded {
        /// The new release.
        release: ReleaseInfo,
    },
    /// Failed.
    Failed {
        /// Why.
        error: String,
    },
}

/// Why a release could not be published.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// A release could not be built.
    #[error(transparent)]
    Release(#[from] ReleaseError),
    /// No device with that id.
    #[error("no device `{0}`")]
    NoDevice(String),
    /// The model does not fit the contract devices were given.
    #[error("{0}")]
    Contract(String),
}

#[derive(Clone, Debug)]
pub struct Job {
    pub device: String,
    pub status: JobStatus,
}

/// Artifact bytes and who they belong to.
#[derive(Clone, Debug)]
pub struct Artifact {
    pub device: String,
    pub bytes: Arc<Vec<u8>>,
    /// Strong validator: the image's SHA-256 (hex), quoted.
    pub etag: String,
}

#[derive(Debug, Default)]
pub struct Inner {
    pub registry: Registry,
    pub samples: BTreeMap<String, Vec<LabelledWindow>>,
    pub jobs: BTreeMap<String, Job>,
    pub releases: Vec<Release>,
    pub artifacts: BTreeMap<String, Artifact>,
    pub faults: Faults,
    pub ids: u64,
}

impl Inner {
    pub fn next_id(&mut self, seed: u64, purpose: &str) -> String {
        self.ids += 1;
        opaque_id(seed, purpose, self.ids)
    }
}

/// Everything the handlers share.
pub struct AppState {
    pub config: CloudConfig,
    pub contract: InputContract,
    pub keys: Vec<SigningKey>,
    /// The generalized model every device starts from (personalization base).
    #[cfg(feature = "train")]
    pub base: Option<Arc<crate::model::Trained>>,
    pub inner: Mutex<Inner>,
}

impl AppState {
    pub fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves plain data; keep serving.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn signing_key(&self) -> &SigningKey {
        &self.keys[0]
    }

    /// Builds, signs and stores a release of `model` for `device` at `version`.
    pub fn publish(
        &self,
        device: &str,
        model: &[u8],
        version: u32,
        golden: Option<&[i8]>,
    ) -> Result<ReleaseInfo, PublishError> {
        let (image, contract) = release::build_image(model, golden)?;
        self.check_contract(&contract)?;
        let hardware = {
            let inner = self.lock();
            inner
                .registry
                .device(device)
                .ok_or_else(|| PublishError::NoDevice(device.into()))?
                .hardware
                .clone()
        };
        let manifest = release::sign(
            version,
            &image,
            model.len(),
            &hardware,
            contract,
            self.signing_key(),
        )?;
        let mut inner = self.lock();
        let artifact = inner.next_id(self.config.seed, "artifact");
        let id = inner.next_id(self.config.seed, "release");
        inner.artifacts.insert(
            artifact.clone(),
            Artifact {
                device: device.to_string(),
                etag: format!("\"{}\"", super::client::hex(&manifest.image_sha256)),
                bytes: Arc::new(image),
            },
        );
        let release = Release {
            id,
            device: device.to_string(),
            manifest,
            artifact,
        };
        let info = release.info(&release.manifest);
        inner.releases.push(release);
        Ok(info)
    }

    /// A release must fit what devices were given (window and channels of the card).
    fn check_contract(&self, c: &ManifestContract) -> Result<(), PublishError> {
        if usize::from(c.window_len) != self.contract.window
            || usize::from(c.channels) != self.contract.channels
            || usize::from(c.classes) != self.contract.classes.len()
        {
            return Err(PublishError::Contract(format!(
                "model takes {}x{} and has {} classes; the cloud's contract is {}x{} with {} classes",
                c.window_len,
                c.channels,
                c.classes,
                self.contract.window,
                self.contract.channels,
                self.contract.classes.len()
            )));
        }
        Ok(())
    }
}
