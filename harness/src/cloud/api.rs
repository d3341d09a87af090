//! HTTP routes of the mock cloud.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::error::ApiError;
use super::faults::{Fault, Stage};
use super::range::{self, RangeRequest};
use super::registry::{Principal, valid_name, valid_opaque_id};
use super::release::apply_manifest_fault;
use super::samples::parse_upload;
use super::state::{AppState, Job, JobStatus};

type Shared = Arc<AppState>;
type ApiResult = Result<Response, ApiError>;

pub fn router(state: Shared) -> Router {
    let limit = state.config.max_body_bytes;
    Router::new()
        .route(
            "/api/v0/devices/{device}/samples",
            post(upload_samples).get(sample_counts),
        )
        .route(
            "/api/v0/devices/{device}/personalize",
            post(start_personalization),
        )
        .route("/api/v0/jobs/{job}", get(job_status))
        .route("/api/v0/releases/latest", get(latest_release))
        .route("/api/v0/artifacts/{artifact}", get(artifact))
        .layer(DefaultBodyLimit::max(limit))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            super::limits::enforce,
        ))
        .with_state(state)
}

fn json(status: StatusCode, value: &impl serde::Serialize) -> Response {
    let body = serde_json::to_vec(value).unwrap_or_default();
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

fn device_name(device: &str) -> Result<(), ApiError> {
    if valid_name(device) {
        Ok(())
    } else {
        Err(ApiError::field(
            "device",
            "not a device id (1-64 of [A-Za-z0-9_-])",
        ))
    }
}

/// The caller, allowed on `device`.
fn authorize(state: &AppState, headers: &HeaderMap, device: &str) -> Result<Principal, ApiError> {
    let inner = state.lock();
    let who = inner.registry.authenticate(headers)?;
    inner.registry.check(&who, device)?;
    Ok(who)
}

async fn upload_samples(
    State(state): State<Shared>,
    Path(device): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    device_name(&device)?;
    authorize(&state, &headers, &device)?;
    let windows = parse_upload(&body, &state.contract, state.config.max_windows_per_upload)?;
    let accepted = windows.len();
    // A task of its own: a client that hangs up cannot cancel it between the file and the
    // in-memory commit.
    let worker = state.clone();
    let name = device.clone();
    let total = tokio::spawn(async move { worker.store_upload(&name, windows).await })
        .await
        .map_err(|e| ApiError::internal(format!("upload task: {e}")))??;
    Ok(json(
        StatusCode::CREATED,
        &serde_json::json!({"accepted": accepted, "total": total}),
    ))
}

fn per_class(state: &AppState, device: &str) -> BTreeMap<String, usize> {
    let inner = state.lock();
    let mut counts: BTreeMap<String, usize> = state
        .contract
        .classes
        .iter()
        .map(|c| (c.clone(), 0))
        .collect();
    for w in inner.samples.get(device).into_iter().flatten() {
        *counts
            .entry(state.contract.classes[w.class].clone())
            .or_default() += 1;
    }
    counts
}

async fn sample_counts(
    State(state): State<Shared>,
    Path(device): Path<String>,
    headers: HeaderMap,
) -> ApiResult {
    device_name(&device)?;
    authorize(&state, &headers, &device)?;
    let counts = per_class(&state, &device);
    let total: usize = counts.values().sum();
    Ok(json(
        StatusCode::OK,
        &serde_json::json!({"total": total, "per_class": counts}),
    ))
}

async fn start_personalization(
    State(state): State<Shared>,
    Path(device): Path<String>,
    headers: HeaderMap,
) -> ApiResult {
    device_name(&device)?;
    authorize(&state, &headers, &device)?;
    let short: Vec<String> = per_class(&state, &device)
        .into_iter()
        .filter(|(_, n)| *n < state.config.min_windows_per_class)
        .map(|(c, n)| format!("{c} ({n})"))
        .collect();
    if !short.is_empty() {
        return Err(ApiError::field(
            "samples",
            format!(
                "need at least {} labelled windows of every class; short: {}",
                state.config.min_windows_per_class,
                short.join(", ")
            ),
        ));
    }
    let job = {
        let mut inner = state.lock();
        let id = inner.next_id(state.config.seed, "job");
        inner.jobs.insert(
            id.clone(),
            Job {
                device: device.clone(),
                status: JobStatus::Running,
            },
        );
        if let Err(e) = state.save(&inner) {
            inner.jobs.remove(&id);
            eprintln!("harbor cloud: job for {device} refused: {e}");
            return Err(ApiError::internal("cannot store the job; none was started"));
        }
        id
    };
    let worker = state.clone();
    let job_id = job.clone();
    // Fine-tuning takes seconds of CPU: keep it off the async workers.
    tokio::task::spawn_blocking(move || {
        let status = match super::jobs::personalize(&worker, &device) {
            Ok(release) => JobStatus::Succeeded { release },
            Err(error) => JobStatus::Failed {
                error: error.to_string(),
            },
        };
        let mut inner = worker.lock();
        if let Some(j) = inner.jobs.get_mut(&job_id) {
            j.status = status;
        }
        if let Err(e) = worker.save(&inner) {
            eprintln!("harbor cloud: job {job_id} finished but its state was not saved: {e}");
        }
    });
    Ok(json(
        StatusCode::ACCEPTED,
        &serde_json::json!({"job": job, "status_url": format!("/api/v0/jobs/{job}")}),
    ))
}

async fn job_status(
    State(state): State<Shared>,
    Path(job): Path<String>,
    headers: HeaderMap,
) -> ApiResult {
    if !valid_opaque_id(&job) {
        return Err(ApiError::field("job", "not a job id"));
    }
    let inner = state.lock();
    let who = inner.registry.authenticate(&headers)?;
    let job = inner
        .jobs
        .get(&job)
        .ok_or_else(|| ApiError::not_found("job"))?;
    inner.registry.check(&who, &job.device)?;
    Ok(json(StatusCode::OK, &job.status))
}

#[derive(Debug, Deserialize)]
struct LatestQuery {
    device: Option<String>,
    hardware_version: Option<String>,
    current_version: Option<String>,
}

/// Faults that delay or refuse a request; the rest are returned for the caller to apply.
async fn stall_or_refuse(faults: Vec<Fault>) -> Result<Vec<Fault>, ApiError> {
    let mut rest = Vec::new();
    for f in faults {
        match f {
            Fault::Stall { delay } => tokio::time::sleep(delay).await,
            Fault::Unavailable { retry_after_s } => {
                return Err(ApiError::unavailable(retry_after_s));
            }
            other => rest.push(other),
        }
    }
    Ok(rest)
}

async fn latest_release(
    State(state): State<Shared>,
    Query(q): Query<LatestQuery>,
    headers: HeaderMap,
) -> ApiResult {
    let who = state.lock().registry.authenticate(&headers)?;
    let device = q
        .device
        .ok_or_else(|| ApiError::field("device", "missing"))?;
    device_name(&device)?;
    let (hardware, allow_downgrade) = {
        let inner = state.lock();
        inner.registry.check(&who, &device)?;
        let d = inner
            .registry
            .device(&device)
            .ok_or_else(ApiError::forbidden)?;
        (d.hardware.clone(), d.allow_downgrade)
    };
    let hw = q
        .hardware_version
        .ok_or_else(|| ApiError::field("hardware_version", "missing"))?;
    if !state.config.hardware.contains(&hw) {
        return Err(ApiError::field(
            "hardware_version",
            format!("unknown hardware `{hw}`"),
        ));
    }
    if hw != hardware {
        return Err(ApiError::field(
            "hardware_version",
            format!("`{hw}` is not this device's hardware"),
        ));
    }
    let current: u32 = q
        .current_version
        .ok_or_else(|| ApiError::field("current_version", "missing"))?
        .parse()
        .map_err(|_| ApiError::field("current_version", "not a version number (u32)"))?;
    let faults = state.lock().faults.take(Stage::Release, &device, None);
    let faults = stall_or_refuse(faults).await?;
    let inner = state.lock();
    let mine: Vec<_> = inner
        .releases
        .iter()
        .filter(|r| r.device == device)
        .collect();
    let older_forced = faults.contains(&Fault::OlderVersion);
    let newest = mine.iter().max_by_key(|r| r.manifest.version);
    let chosen = match newest {
        Some(r) if r.manifest.version > current || older_forced => Some(*r),
        Some(r) if allow_downgrade && r.manifest.version != current => Some(*r),
        _ => None,
    };
    let Some(release) = chosen else {
        return Ok(StatusCode::NO_CONTENT.into_response());
    };
    let release = release.clone();
    drop(inner);
    // Manifest faults set on the artifact ride along too.
    let mut faults = faults;
    faults.extend(
        state
            .lock()
            .faults
            .take(Stage::Release, "", Some(&release.artifact)),
    );
    let mut manifest = release.manifest;
    for f in faults.iter().filter(|f| f.is_manifest_fault()) {
        manifest = apply_manifest_fault(&manifest, f, state.signing_key(), current);
    }
    Ok(json(StatusCode::OK, &release.info(&manifest)))
}

async fn artifact(
    State(state): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult {
    // Ids are opaque and never touch the file system; reject anything else before lookup.
    if !valid_opaque_id(&id) {
        return Err(ApiError::field("artifact", "not an artifact id"));
    }
    let (artifact, faults) = {
        let mut inner = state.lock();
        let who = inner.registry.authenticate(&headers)?;
        let artifact = inner
            .artifacts
            .get(&id)
            .cloned()
            .ok_or_else(|| ApiError::not_found("artifact"))?;
        inner.registry.check(&who, &artifact.device)?;
        let faults = inner
            .faults
            .take(Stage::Download, &artifact.device, Some(&id));
        (artifact, faults)
    };
    let faults = stall_or_refuse(faults).await?;
    let mut bytes: Vec<u8> = artifact.bytes.as_ref().clone();
    let mut reset_after = None;
    for f in &faults {
        match *f {
            Fault::Truncate { len } => bytes.truncate(usize::try_from(len).unwrap_or(usize::MAX)),
            Fault::CorruptByte { offset } => {
                if let Some(b) = usize::try_from(offset).ok().and_then(|o| bytes.get_mut(o)) {
                    *b ^= 0xFF;
                }
            }
            Fault::ResetMidBody { after } => reset_after = Some(after),
            _ => {}
        }
    }
    let len = bytes.len() as u64;
    // If-Range: resume only if the representation is still the one the client started.
    let range_header = headers.get(header::RANGE).and_then(|v| v.to_str().ok());
    let if_range_ok = headers
        .get(header::IF_RANGE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| v == artifact.etag);
    let request = if if_range_ok {
        range::parse(range_header, len)
    } else {
        RangeRequest::Full
    };
    let (status, start, end) = match request {
        RangeRequest::Full => (StatusCode::OK, 0, len),
        RangeRequest::Partial { start, end } => (StatusCode::PARTIAL_CONTENT, start, end + 1),
        RangeRequest::Unsatisfiable => {
            let mut r = ApiError::new(StatusCode::RANGE_NOT_SATISFIABLE, "range not satisfiable")
                .into_response();
            r.headers_mut().insert(
                header::CONTENT_RANGE,
                HeaderValue::from_str(&format!("bytes */{len}"))
                    .unwrap_or(HeaderValue::from_static("bytes */0")),
            );
            return Ok(r);
        }
    };
    let part = Bytes::from(bytes[start as usize..end as usize].to_vec());
    let body = match reset_after {
        Some(after) if after < part.len() as u64 => {
            // The prefix, then an I/O error: hyper drops the connection mid-body. The pause
            // lets hyper flush the prefix first (it flushes when the body is pending).
            let prefix = part.slice(..after as usize);
            let stream = futures_util::stream::unfold(Some(prefix), |prefix| async move {
                match prefix {
                    Some(p) => Some((Ok(p), None)),
                    None => {
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                        let cut = std::io::Error::new(
                            std::io::ErrorKind::ConnectionReset,
                            "fault: reset mid-body",
                        );
                        Some((Err::<Bytes, _>(cut), None))
                    }
                }
            });
            Body::from_stream(stream)
        }
        _ => Body::from(part.clone()),
    };
    let mut response = Response::new(body);
    *response.status_mut() = status;
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(end - start));
    if let Ok(v) = HeaderValue::from_str(&artifact.etag) {
        h.insert(header::ETAG, v);
    }
    if status == StatusCode::PARTIAL_CONTENT
        && let Ok(v) = HeaderValue::from_str(&range::content_range(start, end - 1, len))
    {
        h.insert(header::CONTENT_RANGE, v);
    }
    Ok(response)
}
