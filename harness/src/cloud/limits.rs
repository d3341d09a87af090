//! Request limits applied before any handler: URI and header sizes (414, 431) and a
//! token bucket per bearer token (429 + `Retry-After`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use super::state::AppState;

/// A token bucket per caller: `rate` requests per second on average, `burst` at once.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RateLimit {
    /// Sustained requests per second (> 0).
    pub rate: f64,
    /// Bucket size: requests allowed back to back (≥ 1).
    pub burst: u32,
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

/// Buckets by bearer token.
#[derive(Debug, Default)]
pub struct Limiter {
    buckets: HashMap<String, Bucket>,
}

impl Limiter {
    /// Takes one request from `key`'s bucket at `now`; `Err(seconds)` to wait when empty.
    pub fn take(&mut self, key: &str, limit: RateLimit, now: Instant) -> Result<(), f64> {
        let burst = f64::from(limit.burst.max(1));
        let bucket = self.buckets.entry(key.to_string()).or_insert(Bucket {
            tokens: burst,
            last: now,
        });
        let elapsed = now.saturating_duration_since(bucket.last).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * limit.rate).min(burst);
        bucket.last = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err((1.0 - bucket.tokens) / limit.rate)
        }
    }
}

/// The URI and header limits, then the caller's rate limit. Only tokens the registry
/// knows get a bucket (a flood of made-up tokens cannot grow the table; it gets 403).
pub async fn enforce(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let config = &state.config;
    let uri_len = request.uri().to_string().len();
    if uri_len > config.max_uri_bytes {
        return ApiError::new(
            StatusCode::URI_TOO_LONG,
            format!("URI of {uri_len} bytes, at most {}", config.max_uri_bytes),
        )
        .into_response();
    }
    let header_bytes: usize = request
        .headers()
        .iter()
        .map(|(k, v)| k.as_str().len() + v.len() + 4)
        .sum();
    if header_bytes > config.max_header_bytes {
        return ApiError::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            format!(
                "headers of {header_bytes} bytes, at most {}",
                config.max_header_bytes
            ),
        )
        .into_response();
    }
    if let Some(limit) = config.rate_limit {
        let token = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        if let Some(token) = token.filter(|t| state.lock().registry.knows_token(t)) {
            let waited = state
                .limiter
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take(token, limit, Instant::now());
            if let Err(wait_s) = waited {
                return ApiError::too_many_requests(wait_s.ceil().max(1.0) as u32).into_response();
            }
        }
    }
    next.run(request).await
}

/// A limiter shared by the handlers.
pub type SharedLimiter = Mutex<Limiter>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn bucket_allows_burst_then_refills_at_rate() {
        let limit = RateLimit {
            rate: 10.0,
            burst: 3,
        };
        let mut l = Limiter::default();
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(l.take("a", limit, t0).is_ok());
        }
        let wait = l.take("a", limit, t0).unwrap_err();
        assert!((wait - 0.1).abs() < 1e-9, "{wait}");
        // Another token has its own bucket.
        assert!(l.take("b", limit, t0).is_ok());
        // 100 ms later one request is back, not two.
        let t1 = t0 + Duration::from_millis(100);
        assert!(l.take("a", limit, t1).is_ok());
        assert!(l.take("a", limit, t1).is_err());
    }
}
