//! HTTP(S) downloads into a `.part` file that resume with `Range` where they broke off.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::FetchError;
use crate::datasets::Progress;

/// Downloads `url` to `dest`. Bytes go to `dest` + `.part` first; a `.part` left by an
/// interrupted run is continued with a `Range` request. `dest` appears only when the
/// transfer is complete (and, when `size` is known, exactly that long).
pub fn download(
    url: &str,
    dest: &Path,
    size: Option<u64>,
    progress: &dyn Progress,
) -> Result<(), FetchError> {
    let part = part_path(dest);
    let have = std::fs::metadata(&part).map_or(0, |m| m.len());
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_connect(Some(Duration::from_secs(30)))
        // A stalled transfer fails after a minute without data, however long the file.
        .timeout_per_read(Some(Duration::from_secs(60)))
        .build()
        .into();
    let mut request = agent.get(url);
    if have > 0 {
        request = request.header("Range", &format!("bytes={have}-"));
    }
    let transfer = |reason: String| FetchError::Transfer {
        url: url.to_string(),
        reason,
    };
    let response = request.call().map_err(|e| transfer(e.to_string()))?;
    let status = response.status().as_u16();
    let append = match status {
        206 => true,
        200 => false,
        // The .part already holds everything the server has.
        416 if have > 0 && size.is_none_or(|s| s == have) => {
            return finish(&part, dest, size, url);
        }
        _ => {
            return Err(FetchError::Status {
                url: url.to_string(),
                status,
            });
        }
    };
    let start = if append { have } else { 0 };
    let total = response
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .map(|len| len + start)
        .or(size);
    progress.start(total.unwrap_or(0));
    progress.advance(start);
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .append(append)
        .truncate(!append)
        .open(&part)
        .map_err(|e| FetchError::io(&part, e))?;
    let mut body = response.into_body().into_reader();
    let mut buf = vec![0u8; 1 << 16];
    let mut got = start;
    loop {
        let n = match body.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) => {
                file.flush().map_err(|e| FetchError::io(&part, e))?;
                return Err(transfer(format!(
                    "the transfer broke off after {got} bytes ({e}); run the same command again to resume from there"
                )));
            }
        };
        file.write_all(&buf[..n])
            .map_err(|e| FetchError::io(&part, e))?;
        got += n as u64;
        progress.advance(n as u64);
    }
    file.sync_all().map_err(|e| FetchError::io(&part, e))?;
    if let Some(t) = total
        && got < t
    {
        return Err(transfer(format!(
            "the transfer ended after {got} of {t} bytes; run the same command again to resume"
        )));
    }
    finish(&part, dest, size, url)
}

fn part_path(dest: &Path) -> PathBuf {
    let mut name = dest.file_name().unwrap_or_default().to_os_string();
    name.push(".part");
    dest.with_file_name(name)
}

fn finish(part: &Path, dest: &Path, size: Option<u64>, url: &str) -> Result<(), FetchError> {
    let got = std::fs::metadata(part).map_or(0, |m| m.len());
    if let Some(s) = size
        && got != s
    {
        std::fs::remove_file(part).map_err(|e| FetchError::io(part, e))?;
        return Err(FetchError::Transfer {
            url: url.to_string(),
            reason: format!("got {got} bytes, the registry says {s}; the partial file was removed"),
        });
    }
    std::fs::rename(part, dest).map_err(|e| FetchError::io(dest, e))
}
