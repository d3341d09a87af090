//! A small HTTP/1 client over plain TCP (hyper), for tests, scenarios and the radio bridge.
//!
//! It keeps whatever body bytes arrived before a connection drops, so a download can resume
//! from there with `Range`.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::HeaderMap;
use hyper::{Method, Request};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

/// One response; `body_error` says why the body ended early, if it did.
#[derive(Clone, Debug)]
pub struct HttpResponse {
    /// HTTP status code.
    pub status: u16,
    /// Response headers.
    pub headers: HeaderMap,
    /// The body as far as it arrived.
    pub body: Vec<u8>,
    /// Why the body ended before its length, if it did (e.g. the connection was reset).
    pub body_error: Option<String>,
}

impl HttpResponse {
    /// The value of header `name`, if present and text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body as JSON (for API answers).
    pub fn json(&self) -> Result<serde_json::Value, NotJson> {
        serde_json::from_slice(&self.body).map_err(|source| NotJson {
            status: self.status,
            source,
            body: String::from_utf8_lossy(&self.body).into_owned(),
        })
    }
}

/// An API answer whose body is not JSON.
#[derive(Debug, thiserror::Error)]
#[error("HTTP {status}: body is not JSON ({source}): {body}")]
pub struct NotJson {
    /// HTTP status code of the answer.
    pub status: u16,
    /// What the JSON parser said.
    pub source: serde_json::Error,
    /// The body, as text, for the message.
    pub body: String,
}

/// Why a request got no response at all.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The method, path or header could not form a request.
    #[error("bad request `{0}`")]
    Request(String),
    /// No connection, or it broke before the response head.
    #[error("connection to the cloud failed: {0}")]
    Connect(String),
    /// The response did not come within the client's timeout.
    #[error("no response within {0:?}")]
    Timeout(Duration),
}

/// How long a request may take before the client gives up (a band's radio uses it; a
/// `stall` fault of an OTA case must stay within it).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// A small HTTP/1.1 client for the cloud's API, as a band or a test uses it.
#[derive(Clone)]
pub struct HttpClient {
    client: Client<HttpConnector, Full<Bytes>>,
    base_url: String,
    token: Option<String>,
    timeout: Duration,
}

impl HttpClient {
    /// A client for `base_url` (e.g. `http://127.0.0.1:41234`) sending `token` as bearer.
    pub fn new(base_url: &str, token: Option<&str>) -> Self {
        HttpClient {
            client: Client::builder(TokioExecutor::new()).build_http(),
            base_url: base_url.trim_end_matches('/').to_string(),
            token: token.map(str::to_string),
            timeout: REQUEST_TIMEOUT,
        }
    }

    /// The same client sending another bearer token (or none).
    pub fn with_token(&self, token: Option<&str>) -> Self {
        HttpClient {
            token: token.map(str::to_string),
            ..self.clone()
        }
    }

    /// The same client with another per-request timeout (default 60 s).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// GET `path` (relative to the base URL) with extra `headers` (e.g. `Range`).
    pub async fn get(
        &self,
        path: &str,
        headers: &[(&str, &str)],
    ) -> Result<HttpResponse, ClientError> {
        self.send(Method::GET, path, headers, Vec::new()).await
    }

    /// POST `body` to `path` (relative to the base URL).
    pub async fn post(&self, path: &str, body: Vec<u8>) -> Result<HttpResponse, ClientError> {
        self.send(
            Method::POST,
            path,
            &[("content-type", "application/json")],
            body,
        )
        .await
    }

    /// Sends one request; `path` starts with `/` (or is an absolute URL).
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Result<HttpResponse, ClientError> {
        let url = if path.starts_with("http://") {
            path.to_string()
        } else {
            format!("{}{path}", self.base_url)
        };
        let mut req = Request::builder().method(method).uri(&url);
        if let Some(t) = &self.token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let req = req
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| ClientError::Request(format!("{url}: {e}")))?;
        let exchange = async {
            let response = self
                .client
                .request(req)
                .await
                .map_err(|e| ClientError::Connect(format!("{url}: {e:?}")))?;
            let (parts, mut incoming) = response.into_parts();
            let mut body = Vec::new();
            let mut body_error = None;
            while let Some(frame) = incoming.frame().await {
                match frame {
                    Ok(f) => {
                        if let Some(data) = f.data_ref() {
                            body.extend_from_slice(data);
                        }
                    }
                    Err(e) => {
                        body_error = Some(e.to_string());
                        break;
                    }
                }
            }
            Ok(HttpResponse {
                status: parts.status.as_u16(),
                headers: parts.headers,
                body,
                body_error,
            })
        };
        tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| ClientError::Timeout(self.timeout))?
    }
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Bytes of an even-length hex string.
pub fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}
