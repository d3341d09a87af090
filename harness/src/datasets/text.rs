//! Small, fast helpers for reading the line-oriented text formats of HAR datasets.

use std::path::Path;

use super::{DatasetError, Progress};

/// Errors unless `path` is a regular file: reading a FIFO would wait for a writer forever,
/// and a device may never end.
pub fn check_regular_file(path: &Path) -> Result<(), DatasetError> {
    let meta = std::fs::metadata(path).map_err(|e| DatasetError::io(path, e))?;
    if meta.is_file() {
        return Ok(());
    }
    let kind = file_kind(&meta.file_type());
    Err(DatasetError::invalid(
        path,
        format!("is {kind}, not a regular file; give the recording itself"),
    ))
}

#[cfg(unix)]
fn file_kind(t: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO (named pipe)"
    } else if t.is_char_device() || t.is_block_device() {
        "a device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "a special file"
    }
}

#[cfg(not(unix))]
fn file_kind(t: &std::fs::FileType) -> &'static str {
    if t.is_dir() {
        "a directory"
    } else {
        "a special file"
    }
}

/// Reads a whole regular file (see [`check_regular_file`]).
pub fn read_regular(path: &Path) -> Result<Vec<u8>, DatasetError> {
    check_regular_file(path)?;
    std::fs::read(path).map_err(|e| DatasetError::io(path, e))
}

/// Reads a whole regular file, reporting its size to `progress`.
pub fn read_file(path: &Path, progress: &dyn Progress) -> Result<Vec<u8>, DatasetError> {
    let bytes = read_regular(path)?;
    progress.advance(bytes.len() as u64);
    Ok(bytes)
}

/// Iterates the lines of `bytes` with their 1-based line numbers, without the line ending
/// (`\n` or `\r\n`). A final line without a newline is yielded too.
pub fn lines(bytes: &[u8]) -> impl Iterator<Item = (usize, &[u8])> {
    let body = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    let mut iter = (!bytes.is_empty())
        .then(|| body.split(|&b| b == b'\n'))
        .into_iter()
        .flatten();
    let mut n = 0;
    std::iter::from_fn(move || {
        let line = iter.next()?;
        n += 1;
        Some((n, line.strip_suffix(b"\r").unwrap_or(line)))
    })
}

/// Parses one numeric field, naming it in the error.
pub fn parse_f32(field: &[u8], what: &str) -> Result<f32, String> {
    let s = std::str::from_utf8(field)
        .map_err(|_| format!("{what}: not UTF-8"))?
        .trim();
    if s.is_empty() {
        return Err(format!("{what}: empty field"));
    }
    let v: f32 = s
        .parse()
        .map_err(|_| format!("{what}: `{s}` is not a number"))?;
    if !v.is_finite() {
        return Err(format!("{what}: `{s}` is not finite"));
    }
    Ok(v)
}

/// Sum of the sizes of `paths`, for progress totals.
pub fn total_size<'a>(paths: impl IntoIterator<Item = &'a Path>) -> u64 {
    paths
        .into_iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_lines_and_strips_crlf() {
        let got: Vec<_> = lines(b"a\r\nb\n\nc").collect();
        assert_eq!(
            got,
            vec![
                (1, &b"a"[..]),
                (2, &b"b"[..]),
                (3, &b""[..]),
                (4, &b"c"[..])
            ]
        );
        assert_eq!(lines(b"").count(), 0);
        assert_eq!(lines(b"x\n").count(), 1);
    }

    #[test]
    fn rejects_nan_and_empty() {
        assert!(parse_f32(b"NaN", "x").is_err());
        assert!(parse_f32(b" ", "x").unwrap_err().contains("empty"));
        assert_eq!(parse_f32(b" -1.5e-1 ", "x").unwrap(), -0.15);
    }
}
