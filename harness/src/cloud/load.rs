//! Load benchmark of the cloud (`harbor cloud bench`): N devices, each on its own
//! keep-alive connection, concurrently send M requests cycling upload (one window), poll
//! (`releases/latest`) and ranged download (one 4 KiB `Range` of its release image) to a
//! real server over loopback. Reports throughput and latency percentiles per kind, and
//! checks every acknowledged upload was stored exactly once.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::samples::{LabelledWindow, upload_body};
use super::{CloudConfig, CloudError, CloudServer, HttpClient};

/// Largest device count the bench accepts.
pub const MAX_DEVICES: usize = 1024;
/// Largest request count per device (a third are uploads; a device holds 4,096 windows).
pub const MAX_REQUESTS: usize = 3 * 4096;
const CHUNK: u64 = 4096;
const HARDWARE: &str = "esp32c3-band";

/// What to run.
#[derive(Clone, Debug)]
pub struct LoadPlan {
    /// The model directory the server is started with (its `model.tflite` is the release).
    pub model_dir: PathBuf,
    /// Concurrent devices.
    pub devices: usize,
    /// Requests per device.
    pub requests: usize,
    /// Stop issuing requests after this long (the report says so).
    pub max_duration: Duration,
    /// Keep the server's state in a temporary directory (the default) or in memory.
    pub persist: bool,
}

/// Why the bench could not run.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The plan is out of bounds.
    #[error("{0}")]
    Plan(String),
    /// The server could not start or be set up.
    #[error(transparent)]
    Cloud(#[from] CloudError),
    /// The temporary state directory or the runtime could not be made.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Figures of one request kind.
#[derive(Clone, Debug, Serialize)]
pub struct KindStats {
    /// `upload`, `poll` or `download`.
    pub kind: &'static str,
    /// Requests sent.
    pub count: usize,
    /// Requests without the expected status (201, 200, 206) or without an answer.
    pub errors: usize,
    /// Median latency (ms).
    pub p50_ms: f64,
    /// 99th percentile latency (ms).
    pub p99_ms: f64,
    /// Slowest (ms).
    pub max_ms: f64,
}

/// The bench's result (`harbor cloud bench --json` prints it).
#[derive(Clone, Debug, Serialize)]
pub struct LoadReport {
    /// Concurrent devices.
    pub devices: usize,
    /// Requests per device planned.
    pub requests_per_device: usize,
    /// Requests sent (less than planned when `truncated`).
    pub requests: usize,
    /// Whether the time bound stopped it early.
    pub truncated: bool,
    /// Wall time of the load (s).
    pub seconds: f64,
    /// Requests per second over the wall time.
    pub throughput_rps: f64,
    /// State on disk (`true`) or in memory.
    pub persisted: bool,
    /// Per request kind.
    pub kinds: Vec<KindStats>,
    /// Uploads the server acknowledged (201).
    pub uploads_acknowledged: usize,
    /// Windows the server holds afterwards; equals `uploads_acknowledged` when none was
    /// lost or stored twice.
    pub windows_stored: usize,
}

const KINDS: [&str; 3] = ["upload", "poll", "download"];

struct Sample {
    kind: usize,
    ok: bool,
    latency: Duration,
}

/// Runs the plan against a fresh server and reports.
pub fn run(plan: &LoadPlan) -> Result<LoadReport, LoadError> {
    if !(1..=MAX_DEVICES).contains(&plan.devices) {
        return Err(LoadError::Plan(format!(
            "--devices {}: use 1 to {MAX_DEVICES}",
            plan.devices
        )));
    }
    if !(1..=MAX_REQUESTS).contains(&plan.requests) {
        return Err(LoadError::Plan(format!(
            "--requests {}: use 1 to {MAX_REQUESTS}",
            plan.requests
        )));
    }
    let state_dir = if plan.persist {
        Some(
            tempfile::Builder::new()
                .prefix("harbor-cloud-bench-")
                .tempdir()?,
        )
    } else {
        None
    };
    let config = CloudConfig {
        state_dir: state_dir.as_ref().map(|d| d.path().to_path_buf()),
        ..CloudConfig::new(&plan.model_dir)
    };
    let server = CloudServer::start(config)?;
    let model = std::fs::read(plan.model_dir.join("model.tflite"))?;
    server.add_user("bench")?;
    let mut devices = Vec::with_capacity(plan.devices);
    for i in 0..plan.devices {
        let id = format!("band-{i:04}");
        let token = server.add_device("bench", &id, HARDWARE)?;
        let release = server.publish(&id, &model, 2, None)?;
        devices.push((id, token, release));
    }
    let contract = server.contract().clone();
    let url = server.base_url().to_string();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let deadline = Instant::now() + plan.max_duration;
    let started = Instant::now();
    let samples: Vec<Sample> = runtime.block_on(async {
        let tasks: Vec<_> = devices
            .iter()
            .enumerate()
            .map(|(d, (id, token, release))| {
                let client = HttpClient::new(&url, Some(token));
                let body_window = |i: usize| LabelledWindow {
                    class: i % contract.classes.len(),
                    // A marker per device and request, the rest a ramp.
                    samples: (0..contract.window * contract.channels)
                        .map(|k| match k {
                            0 => d as i16,
                            1 => i as i16,
                            _ => (k % 2000) as i16,
                        })
                        .collect(),
                };
                let uploads: Vec<Vec<u8>> = (0..plan.requests)
                    .filter(|i| i % 3 == 0)
                    .map(|i| upload_body(&contract, &[body_window(i)]))
                    .collect();
                let upload_path = format!("/api/v0/devices/{id}/samples");
                let poll_path = format!(
                    "/api/v0/releases/latest?device={id}&hardware_version={HARDWARE}&current_version=1"
                );
                let artifact = release.artifact_url.clone();
                let size = release.size;
                let requests = plan.requests;
                async move {
                    let mut out = Vec::with_capacity(requests);
                    for i in 0..requests {
                        if Instant::now() >= deadline {
                            break;
                        }
                        let kind = i % 3;
                        let t = Instant::now();
                        let ok = match kind {
                            0 => client
                                .post(&upload_path, uploads[i / 3].clone())
                                .await
                                .is_ok_and(|r| r.status == 201),
                            1 => client
                                .get(&poll_path, &[])
                                .await
                                .is_ok_and(|r| r.status == 200),
                            _ => {
                                let start = ((i / 3) as u64 * CHUNK) % size;
                                let end = (start + CHUNK).min(size) - 1;
                                let range = format!("bytes={start}-{end}");
                                client
                                    .get(&artifact, &[("range", &range)])
                                    .await
                                    .is_ok_and(|r| {
                                        r.status == 206 && r.body.len() as u64 == end - start + 1
                                    })
                            }
                        };
                        out.push(Sample {
                            kind,
                            ok,
                            latency: t.elapsed(),
                        });
                    }
                    out
                }
            })
            .collect();
        futures_util::future::join_all(tasks)
            .await
            .into_iter()
            .flatten()
            .collect()
    });
    let seconds = started.elapsed().as_secs_f64();
    let windows_stored = devices
        .iter()
        .map(|(id, ..)| server.samples(id).len())
        .sum();
    server.stop();
    let uploads_acknowledged = samples.iter().filter(|s| s.kind == 0 && s.ok).count();
    let kinds = KINDS
        .iter()
        .enumerate()
        .map(|(k, name)| {
            let mut lat: Vec<f64> = samples
                .iter()
                .filter(|s| s.kind == k)
                .map(|s| s.latency.as_secs_f64() * 1e3)
                .collect();
            lat.sort_by(f64::total_cmp);
            KindStats {
                kind: name,
                count: lat.len(),
                errors: samples.iter().filter(|s| s.kind == k && !s.ok).count(),
                p50_ms: percentile(&lat, 0.50),
                p99_ms: percentile(&lat, 0.99),
                max_ms: lat.last().copied().unwrap_or(0.0),
            }
        })
        .collect();
    Ok(LoadReport {
        devices: plan.devices,
        requests_per_device: plan.requests,
        requests: samples.len(),
        truncated: samples.len() < plan.devices * plan.requests,
        seconds,
        throughput_rps: samples.len() as f64 / seconds.max(1e-9),
        persisted: plan.persist,
        kinds,
        uploads_acknowledged,
        windows_stored,
    })
}

/// Nearest-rank percentile of sorted values (0 for none).
fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}
