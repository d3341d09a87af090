//! The band's radio, played by the harness: it polls the cloud's release API and downloads
//! the image with HTTP `Range` (resuming after resets and modelled link cuts), while a
//! [`Link`] accounts the time, radio-on time and energy the band's radio would spend.

use std::time::Duration;

use crate::cloud::client::{ClientError, HttpClient, HttpResponse};
use crate::cloud::release::ReleaseInfo;

use super::device::{self, OtaDeviceError, Pushed};
use super::link_model::{Link, LinkTotals};
use crate::dut::Target;

/// What the release API said.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Poll {
    /// A release newer than the device's.
    Update(ReleaseInfo),
    /// The device is up to date.
    NoUpdate,
}

/// Why the radio could not get a release.
#[derive(Debug, thiserror::Error)]
pub enum RadioError {
    /// The request got no response.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The release API refused the request.
    #[error("release API answered {status}: {body}")]
    Refused {
        /// HTTP status code.
        status: u16,
        /// The answer's body.
        body: String,
    },
    /// The cloud kept answering 503.
    #[error("cloud still unavailable after {attempts} attempts (503 with Retry-After)")]
    Unavailable {
        /// Requests made.
        attempts: u32,
    },
    /// A download stopped making progress.
    #[error("download of {url} made no progress in {attempts} attempts")]
    Stuck {
        /// The artifact's URL.
        url: String,
        /// Range requests that added no byte.
        attempts: u32,
    },
    /// The answer was not what the release API promises.
    #[error("bad response: {0}")]
    Protocol(String),
}

/// A finished download: the bytes the band received and how it got them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Download {
    /// The image bytes, as received.
    pub bytes: Vec<u8>,
    /// The server's representation ended at `release.size` (false when it was shorter).
    pub complete: bool,
    /// Range requests after the first, to resume after a cut or reset.
    pub resumes: u32,
    /// HTTP requests made, the first included.
    pub requests: u32,
}

/// The bridge between one band and the cloud.
pub struct RadioBridge {
    client: HttpClient,
    /// The device id it polls as.
    pub device: String,
    /// The device's hardware id.
    pub hardware: String,
    /// The radio link model (throughput, latency, loss) and its totals.
    pub link: Link,
    /// Bytes asked for per Range request (the band's download buffer).
    pub chunk: usize,
    /// Attempts per request before giving up (503s, cuts without progress).
    pub max_attempts: u32,
}

/// `Retry-After` in seconds (delta form), 1 s when absent or unreadable.
fn retry_after(r: &HttpResponse) -> Duration {
    Duration::from_secs(
        r.header("retry-after")
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(1),
    )
}

/// Total length from `Content-Range: bytes a-b/len`.
fn range_total(r: &HttpResponse) -> Option<u64> {
    r.header("content-range")?
        .rsplit('/')
        .next()?
        .trim()
        .parse()
        .ok()
}

impl RadioBridge {
    /// A bridge for `device` of `hardware` talking through `client` over `link`.
    pub fn new(client: HttpClient, device: &str, hardware: &str, link: Link) -> Self {
        RadioBridge {
            client,
            device: device.to_string(),
            hardware: hardware.to_string(),
            link,
            chunk: 4096,
            max_attempts: 8,
        }
    }

    /// Asks for a release newer than `current_version`, honouring 503 + Retry-After (the
    /// wait is modelled, radio off; the real request is repeated at once).
    pub async fn poll(&mut self, current_version: u32) -> Result<Poll, RadioError> {
        let path = format!(
            "/api/v0/releases/latest?device={}&hardware_version={}&current_version={current_version}",
            self.device, self.hardware
        );
        for _ in 0..self.max_attempts {
            let r = self.client.get(&path, &[]).await?;
            let got = self.link.exchange(0, r.body.len());
            match r.status {
                503 => {
                    self.link.wait(retry_after(&r));
                    continue;
                }
                // The answer was lost (the link model already charged the listening).
                _ if got.cut => continue,
                204 => return Ok(Poll::NoUpdate),
                200 => {
                    let info = serde_json::from_slice(&r.body)
                        .map_err(|e| RadioError::Protocol(format!("release JSON: {e}")))?;
                    return Ok(Poll::Update(info));
                }
                status => {
                    return Err(RadioError::Refused {
                        status,
                        body: String::from_utf8_lossy(&r.body).into_owned(),
                    });
                }
            }
        }
        Err(RadioError::Unavailable {
            attempts: self.max_attempts,
        })
    }

    /// Downloads `release`'s image in `chunk`-byte Range requests, resuming from the last
    /// byte received after a reset or a modelled cut.
    pub async fn download(&mut self, release: &ReleaseInfo) -> Result<Download, RadioError> {
        let mut bytes: Vec<u8> = Vec::new();
        let mut etag: Option<String> = None;
        let mut total = release.size;
        let (mut requests, mut resumes, mut stalled) = (0u32, 0u32, 0u32);
        while (bytes.len() as u64) < total {
            let start = bytes.len() as u64;
            let end = (start + self.chunk as u64).min(total) - 1;
            let range = format!("bytes={start}-{end}");
            let mut headers = vec![("range", range.as_str())];
            if let Some(tag) = &etag {
                headers.push(("if-range", tag.as_str()));
            }
            let r = self.client.get(&release.artifact_url, &headers).await?;
            requests += 1;
            let got = self.link.exchange(0, r.body.len());
            let body = &r.body[..got.bytes.min(r.body.len())];
            let interrupted = got.cut || r.body_error.is_some();
            match r.status {
                206 => {
                    if let Some(t) = range_total(&r) {
                        total = t.min(release.size);
                    }
                    bytes.extend_from_slice(body);
                }
                // The server sent the whole representation (range ignored or validator
                // changed): start over with it.
                200 => {
                    bytes.clear();
                    bytes.extend_from_slice(body);
                    total = if interrupted {
                        release.size
                    } else {
                        body.len() as u64
                    };
                }
                // Shorter than the release says: nothing more to get.
                416 => break,
                503 => {
                    self.link.wait(retry_after(&r));
                }
                status => {
                    return Err(RadioError::Refused {
                        status,
                        body: String::from_utf8_lossy(&r.body).into_owned(),
                    });
                }
            }
            if etag.is_none() {
                etag = r.header("etag").map(str::to_string);
            }
            if interrupted || r.status == 503 {
                resumes += 1;
                if bytes.len() as u64 == start {
                    stalled += 1;
                    if stalled >= self.max_attempts {
                        return Err(RadioError::Stuck {
                            url: release.artifact_url.clone(),
                            attempts: stalled,
                        });
                    }
                } else {
                    stalled = 0;
                }
            }
        }
        Ok(Download {
            complete: bytes.len() as u64 == release.size,
            bytes,
            resumes,
            requests,
        })
    }

    /// The bridge's HTTP client (the device's token), for API calls outside the link model.
    pub fn client(&self) -> &HttpClient {
        &self.client
    }

    /// Bytes, requests and air time so far.
    pub fn totals(&self) -> &LinkTotals {
        self.link.totals()
    }
}

/// Hands a downloaded release to the band over its framed link (`ota::device::push_update`):
/// the band checks the manifest and the image itself, and refuses with a named error.
pub async fn deliver(
    target: &mut impl Target,
    release: &ReleaseInfo,
    download: &Download,
    chunk: usize,
) -> Result<Pushed, OtaDeviceError> {
    // A manifest that is not even hex goes to the band as no bytes: it refuses it by name.
    let manifest = crate::cloud::client::unhex(&release.manifest).unwrap_or_default();
    device::push_update(target, &manifest, &download.bytes, chunk, |_, _| {}).await
}
