//! The server's data: registry, uploaded windows, jobs, releases, artifacts and faults,
//! behind one mutex (never held across an await).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use harbor_core::ota::manifest::InputContract as ManifestContract;
use serde::{Deserialize, Serialize};

use super::CloudConfig;
use super::faults::Faults;
use super::limits::SharedLimiter;
use super::registry::{Registry, opaque_id};
use super::release::{self, Release, ReleaseError, ReleaseInfo, SigningKey};
use super::samples::{InputContract, LabelledWindow};
use super::store::{MetaRef, STATE_FORMAT, Store, StoreError, StoredRelease};

/// A personalization job's state, as `GET /api/v0/jobs/{id}` reports it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
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
    /// The release could not be stored in the state directory.
    #[error(transparent)]
    State(#[from] StoreError),
}

/// A personalization job: its device and where it stands.
#[derive(Clone, Debug, Serialize, Deserialize)]
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
    /// Uploads stored per device (names the next sample file).
    pub uploads: BTreeMap<String, u64>,
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
    /// Where the state persists (`None`: in memory only).
    pub store: Option<Store>,
    /// Rate-limit buckets per token.
    pub limiter: SharedLimiter,
    /// One queue per device: its uploads are written in the order they are numbered.
    pub upload_queues: Mutex<BTreeMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl AppState {
    pub fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves plain data; keep serving.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Writes `state.json` from `inner` (nothing without a state directory).
    pub fn save(&self, inner: &Inner) -> Result<(), StoreError> {
        let Some(store) = &self.store else {
            return Ok(());
        };
        store.save_meta(&MetaRef {
            format: STATE_FORMAT,
            seed: self.config.seed,
            ids: inner.ids,
            registry: &inner.registry,
            jobs: &inner.jobs,
            releases: inner
                .releases
                .iter()
                .map(|r| StoredRelease {
                    id: r.id.clone(),
                    device: r.device.clone(),
                    manifest: super::client::hex(&r.manifest.encode()),
                    artifact: r.artifact.clone(),
                })
                .collect(),
        })
    }

    /// Stores `windows` as `device`'s next upload, on disk first: acknowledged windows are
    /// stored exactly once, refused ones not at all. Returns the device's new total. One
    /// device's uploads queue behind each other; the file is written off the async thread,
    /// so other devices' requests go on meanwhile.
    pub async fn store_upload(
        self: &Arc<Self>,
        device: &str,
        windows: Vec<LabelledWindow>,
    ) -> Result<usize, super::error::ApiError> {
        use super::error::ApiError;
        let queue = self
            .upload_queues
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(device.to_string())
            .or_default()
            .clone();
        let _turn = queue.lock().await;
        let seq = {
            let inner = self.lock();
            let held = inner.samples.get(device).map_or(0, Vec::len);
            if held + windows.len() > self.config.max_windows_per_device {
                return Err(ApiError::field(
                    "windows",
                    format!(
                        "the device holds {held} windows; {} more exceed its limit of {}",
                        windows.len(),
                        self.config.max_windows_per_device
                    ),
                ));
            }
            inner.uploads.get(device).copied().unwrap_or(0)
        };
        let windows = if self.store.is_some() {
            let state = self.clone();
            let name = device.to_string();
            let (written, windows) = tokio::task::spawn_blocking(move || {
                let written = match &state.store {
                    Some(store) => store.write_samples(&name, seq, &windows, &state.contract),
                    None => Ok(()),
                };
                (written, windows)
            })
            .await
            .map_err(|e| ApiError::internal(format!("upload writer: {e}")))?;
            written.map_err(|e| {
                eprintln!("harbor cloud: upload for {device} refused: {e}");
                ApiError::internal("cannot store the upload; nothing was stored")
            })?;
            windows
        } else {
            windows
        };
        let mut inner = self.lock();
        *inner.uploads.entry(device.to_string()).or_default() += 1;
        let stored = inner.samples.entry(device.to_string()).or_default();
        stored.extend(windows);
        Ok(stored.len())
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
        if let Some(store) = &self.store {
            store.write_artifact(&artifact, &image)?;
        }
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
        if let Err(e) = self.save(&inner) {
            inner.releases.pop();
            inner.artifacts.remove(&artifact_id(&info));
            return Err(e.into());
        }
        Ok(info)
    }

    /// Registers a user or device through `change`, kept only if the state is saved.
    pub fn change_registry<T>(
        &self,
        change: impl FnOnce(&mut super::registry::Registry) -> Result<T, super::CloudError>,
    ) -> Result<T, super::CloudError> {
        let mut inner = self.lock();
        let before = inner.registry.clone();
        let out = change(&mut inner.registry)?;
        if let Err(e) = self.save(&inner) {
            inner.registry = before;
            return Err(e.into());
        }
        Ok(out)
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

fn artifact_id(info: &ReleaseInfo) -> String {
    info.artifact_url
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_string()
}
