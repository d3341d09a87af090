//! The mock cloud: a real HTTP server on 127.0.0.1 (axum on tokio) that plays the band's
//! backend for OTA tests. See docs/cloud.md.
//!
//! - users own devices; each has a bearer token ([`registry`]);
//! - the dashboard uploads labelled windows, a job fine-tunes the model's last layer on them
//!   and publishes a signed release ([`samples`], [`jobs`], [`release`]);
//! - devices ask for the latest release and download the image with `Range` ([`range`]);
//! - the harness injects faults through [`CloudServer::inject`] ([`faults`]);
//! - with a state directory everything persists across restarts ([`store`]); request sizes
//!   and a per-token rate are bounded ([`limits`]); [`load`] measures it under load.

mod api;
pub mod client;
pub mod error;
pub mod faults;
mod jobs;
pub mod limits;
pub mod load;
pub mod range;
pub mod registry;
pub mod release;
pub mod samples;
mod state;
pub mod store;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use harbor_core::ota::TrustedKey;
use tokio::sync::oneshot;

pub use client::{HttpClient, HttpResponse};
pub use faults::{Fault, FaultHit, FaultTarget};
pub use jobs::JobError;
pub use limits::RateLimit;
pub use registry::RegistryError;
pub use release::{ReleaseError, ReleaseInfo, SigningKey};
pub use samples::{InputContract, LabelledWindow};
pub use state::{JobStatus, PublishError};
pub use store::StoreError;

/// How the cloud is set up.
#[derive(Clone, Debug)]
pub struct CloudConfig {
    /// The generalized model directory (`card.yaml`, `model.tflite`, `float.json`): its card
    /// gives the input contract, and it is the base personalization fine-tunes.
    pub model_dir: PathBuf,
    /// Hardware versions the release API knows.
    pub hardware: Vec<String>,
    /// Seeds ids, tokens and fine-tuning: same seed, same run.
    pub seed: u64,
    /// Signing keys; the first signs releases.
    pub keys: Vec<SigningKey>,
    /// Largest request body accepted (bytes); larger ones get 413.
    pub max_body_bytes: usize,
    /// Most windows one upload may carry.
    pub max_windows_per_upload: usize,
    /// Most windows the cloud stores for one device.
    pub max_windows_per_device: usize,
    /// A personalization job needs at least this many windows of every class.
    pub min_windows_per_class: usize,
    /// Epochs of last-layer fine-tuning per personalization job.
    pub personalize_epochs: usize,
    /// Version of the model devices ship with; personalized releases count up from it.
    pub factory_version: u32,
    /// Where to listen (default `127.0.0.1:0`: the OS picks the port).
    pub addr: SocketAddr,
    /// Listen on an address other than loopback (off: the mock cloud has no TLS).
    pub allow_remote: bool,
    /// Keep the state in this directory across restarts (`None`: in memory).
    pub state_dir: Option<PathBuf>,
    /// Requests per second per bearer token (`None`: unlimited); over it, 429.
    pub rate_limit: Option<RateLimit>,
    /// Largest request head (header names and values); larger ones get 431.
    pub max_header_bytes: usize,
    /// Longest request URI (path and query); longer ones get 414.
    pub max_uri_bytes: usize,
}

impl CloudConfig {
    /// Defaults around `model_dir`: hardware `esp32c3-band`, harbor-core's development key.
    pub fn new(model_dir: impl Into<PathBuf>) -> Self {
        CloudConfig {
            model_dir: model_dir.into(),
            hardware: vec!["esp32c3-band".into()],
            seed: 2019,
            keys: vec![SigningKey {
                id: harbor_core::ota::keys::DEV_KEY_ID,
                seed: harbor_core::ota::keys::DEV_KEY_SEED,
            }],
            // 15 windows x 8 classes of 60x6 int16 as JSON is ~350 KB.
            max_body_bytes: 1 << 20,
            max_windows_per_upload: 256,
            max_windows_per_device: 4096,
            min_windows_per_class: 1,
            #[cfg(feature = "train")]
            personalize_epochs: crate::model::recipe::PersonalizeConfig::default().epochs,
            #[cfg(not(feature = "train"))]
            personalize_epochs: 0,
            factory_version: 1,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            allow_remote: false,
            state_dir: None,
            rate_limit: None,
            max_header_bytes: 16 << 10,
            max_uri_bytes: 4 << 10,
        }
    }
}

/// Why the cloud could not start or publish.
#[derive(Debug, thiserror::Error)]
pub enum CloudError {
    /// The base model directory could not be read.
    #[error("cloud model {path}: {message}")]
    Model {
        /// The model directory.
        path: PathBuf,
        /// What was wrong with it.
        message: String,
    },
    /// The server could not bind or start.
    #[error("cannot start the cloud server: {0}")]
    Start(String),
    /// The device and user registry refused a change.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// A release could not be built or signed.
    #[error(transparent)]
    Publish(#[from] PublishError),
    /// The state directory could not be read or written.
    #[error(transparent)]
    State(#[from] StoreError),
    /// The address is not loopback and `allow_remote` is off.
    #[error("{0} is not a loopback address; the mock cloud has no TLS (allow it explicitly)")]
    NotLoopback(SocketAddr),
}

/// A running cloud; stops (gracefully) when dropped.
pub struct CloudServer {
    addr: SocketAddr,
    base_url: String,
    state: Arc<state::AppState>,
    shutdown: Mutex<Option<oneshot::Sender<()>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

fn contract_from(model_dir: &Path) -> Result<InputContract, CloudError> {
    let model_err = |message: String| CloudError::Model {
        path: model_dir.to_path_buf(),
        message,
    };
    // The model file is checked against the card: the cloud serves the carded model only.
    let card = crate::model::load_checked(model_dir)
        .map_err(|e| model_err(e.to_string()))?
        .card;
    Ok(InputContract {
        window: card.input.window_samples,
        channels: card.input.channels.len(),
        classes: card.classes.iter().map(|c| c.name.clone()).collect(),
    })
}

impl CloudServer {
    /// Loads the model card (and base model), binds 127.0.0.1 on a port the OS picks, and
    /// serves on a thread of its own.
    pub fn start(mut config: CloudConfig) -> Result<CloudServer, CloudError> {
        if config.keys.is_empty() {
            return Err(CloudError::Start("no signing key".into()));
        }
        if !config.allow_remote && !config.addr.ip().is_loopback() {
            return Err(CloudError::NotLoopback(config.addr));
        }
        let contract = contract_from(&config.model_dir)?;
        let (store, inner) = match &config.state_dir {
            Some(dir) => {
                let (store, meta) = store::Store::open(dir, config.seed)?;
                let inner = restore(&store, meta, &contract, &mut config)?;
                (Some(store), inner)
            }
            None => (
                None,
                state::Inner {
                    registry: registry::Registry::new(config.seed),
                    ..Default::default()
                },
            ),
        };
        #[cfg(feature = "train")]
        let base = Some(Arc::new(
            crate::model::Trained::load(&config.model_dir).map_err(|e| CloudError::Model {
                path: config.model_dir.clone(),
                message: e.to_string(),
            })?,
        ));
        let state = Arc::new(state::AppState {
            keys: config.keys.clone(),
            contract,
            #[cfg(feature = "train")]
            base,
            inner: Mutex::new(inner),
            store,
            limiter: Default::default(),
            upload_queues: Default::default(),
            config,
        });
        // Jobs a previous run left running are now failed: save that before serving.
        state.save(&state.lock())?;
        let addr = state.config.addr;
        let listener = std::net::TcpListener::bind(addr)
            .map_err(|e| CloudError::Start(format!("bind {addr}: {e}")))?;
        listener
            .set_nonblocking(true)
            .map_err(|e| CloudError::Start(e.to_string()))?;
        let addr = listener
            .local_addr()
            .map_err(|e| CloudError::Start(e.to_string()))?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| CloudError::Start(format!("tokio runtime: {e}")))?;
        let (tx, rx) = oneshot::channel::<()>();
        let router = api::router(state.clone());
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("harbor-cloud".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let listener = match tokio::net::TcpListener::from_std(listener) {
                        Ok(l) => l,
                        Err(e) => {
                            let _ = ready_tx.send(Err(e.to_string()));
                            return;
                        }
                    };
                    let _ = ready_tx.send(Ok(()));
                    let _ = axum::serve(listener, router)
                        .with_graceful_shutdown(async {
                            let _ = rx.await;
                        })
                        .await;
                });
            })
            .map_err(|e| CloudError::Start(format!("server thread: {e}")))?;
        ready_rx
            .recv()
            .map_err(|e| CloudError::Start(e.to_string()))?
            .map_err(CloudError::Start)?;
        Ok(CloudServer {
            addr,
            base_url: format!("http://{addr}"),
            state,
            shutdown: Mutex::new(Some(tx)),
            thread: Mutex::new(Some(thread)),
        })
    }

    /// The server's base URL (`http://127.0.0.1:PORT`).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The model's input contract and class names (from its card).
    pub fn contract(&self) -> &InputContract {
        &self.state.contract
    }

    /// The keys a band should trust to accept this cloud's releases.
    pub fn trusted_keys(&self) -> Vec<TrustedKey> {
        self.state.keys.iter().map(SigningKey::trusted).collect()
    }

    /// Registers a user; returns its bearer token.
    pub fn add_user(&self, user: &str) -> Result<String, CloudError> {
        self.state
            .change_registry(|r| r.add_user(user).map_err(CloudError::from))
    }

    /// Registers `owner`'s device with its hardware version; returns the device's token.
    pub fn add_device(
        &self,
        owner: &str,
        device: &str,
        hardware: &str,
    ) -> Result<String, CloudError> {
        self.state.change_registry(|r| {
            r.add_device(owner, device, hardware)
                .map_err(CloudError::from)
        })
    }

    /// Lets the release API offer `device` a release older than the one it runs.
    pub fn allow_downgrade(&self, device: &str, allow: bool) -> Result<(), CloudError> {
        self.state.change_registry(|r| {
            let d = r
                .device_mut(device)
                .ok_or_else(|| RegistryError::Missing("device", device.into()))?;
            d.allow_downgrade = allow;
            Ok(())
        })
    }

    /// Every window `device` has stored, in upload order.
    pub fn samples(&self, device: &str) -> Vec<LabelledWindow> {
        self.state
            .lock()
            .samples
            .get(device)
            .cloned()
            .unwrap_or_default()
    }

    /// Releases published so far, oldest first.
    pub fn releases(&self) -> Vec<ReleaseInfo> {
        self.state
            .lock()
            .releases
            .iter()
            .map(|r| r.info(&r.manifest))
            .collect()
    }

    /// Publishes `model` (a `.tflite`) as a signed release for `device` at `version`; the
    /// self-test window is `golden` (int8) or all zero points.
    pub fn publish(
        &self,
        device: &str,
        model: &[u8],
        version: u32,
        golden: Option<&[i8]>,
    ) -> Result<ReleaseInfo, CloudError> {
        self.state
            .publish(device, model, version, golden)
            .map_err(CloudError::from)
    }

    /// The image bytes behind a release's artifact (what a correct download must equal).
    pub fn artifact_bytes(&self, release: &ReleaseInfo) -> Option<Vec<u8>> {
        let id = release.artifact_url.rsplit('/').next()?;
        self.state
            .lock()
            .artifacts
            .get(id)
            .map(|a| a.bytes.as_ref().clone())
    }

    /// Arms `fault` on `target` for `times` requests (`None`: until [`Self::clear_faults`]).
    pub fn inject(&self, target: FaultTarget, fault: Fault, times: Option<u32>) {
        self.state.lock().faults.inject(target, fault, times);
    }

    /// Removes every injected fault.
    pub fn clear_faults(&self) {
        self.state.lock().faults.clear();
    }

    /// Every fault that hit a request so far, in order.
    pub fn fault_log(&self) -> Vec<FaultHit> {
        self.state.lock().faults.log().to_vec()
    }

    /// Stops serving and waits for the server thread (also done on drop).
    pub fn stop(&self) {
        if let Some(tx) = self
            .shutdown
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = t.join();
        }
    }
}

/// The in-memory state from a state directory: every file checked (manifests decode,
/// images match their manifest's size and SHA-256, samples fit the model's contract).
fn restore(
    store: &store::Store,
    meta: store::Meta,
    contract: &InputContract,
    config: &mut CloudConfig,
) -> Result<state::Inner, CloudError> {
    let state_file = store.dir().join("state.json");
    let corrupt = |path: PathBuf, message: String| StoreError::Corrupt { path, message };
    config.seed = meta.seed;
    let mut inner = state::Inner {
        registry: meta.registry,
        ids: meta.ids,
        ..Default::default()
    };
    for (_, device) in inner.registry.devices() {
        if !config.hardware.contains(&device.hardware) {
            config.hardware.push(device.hardware.clone());
        }
    }
    for (id, mut job) in meta.jobs {
        if job.status == JobStatus::Running {
            job.status = JobStatus::Failed {
                error: "interrupted: the cloud stopped before the job finished".into(),
            };
        }
        inner.jobs.insert(id, job);
    }
    for r in meta.releases {
        let manifest = client::unhex(&r.manifest)
            .ok_or_else(|| "not hex".to_string())
            .and_then(|b| {
                harbor_core::ota::manifest::Manifest::decode(&b).map_err(|e| e.to_string())
            })
            .map_err(|e| {
                corrupt(
                    state_file.clone(),
                    format!("release {}: manifest: {e}", r.id),
                )
            })?;
        let bytes = store.read_artifact(&r.artifact)?;
        let path = store
            .dir()
            .join("artifacts")
            .join(format!("{}.bin", r.artifact));
        if bytes.len() as u64 != u64::from(manifest.image_size)
            || release::sha256(&bytes) != manifest.image_sha256
        {
            return Err(corrupt(
                path,
                format!(
                    "{} bytes that do not match release {}'s manifest ({} bytes, sha256 {})",
                    bytes.len(),
                    r.id,
                    manifest.image_size,
                    client::hex(&manifest.image_sha256)
                ),
            )
            .into());
        }
        inner.artifacts.insert(
            r.artifact.clone(),
            state::Artifact {
                device: r.device.clone(),
                etag: format!("\"{}\"", client::hex(&manifest.image_sha256)),
                bytes: Arc::new(bytes),
            },
        );
        inner.releases.push(release::Release {
            id: r.id,
            device: r.device,
            manifest,
            artifact: r.artifact,
        });
    }
    for (device, (windows, uploads)) in store.load_samples(contract)? {
        inner.samples.insert(device.clone(), windows);
        inner.uploads.insert(device, uploads);
    }
    Ok(inner)
}

impl Drop for CloudServer {
    fn drop(&mut self) {
        self.stop();
    }
}
