//! HTTP `Range` requests (RFC 9110 §14) for artifact downloads: one byte range, so an
//! interrupted download resumes where it stopped.

/// What a `Range` header asks of a representation of `len` bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RangeRequest {
    /// No usable range (absent, malformed, several ranges or another unit): send it all.
    Full,
    /// Bytes `start..=end` (inclusive, already clamped to the representation).
    Partial {
        /// First byte.
        start: u64,
        /// Last byte (inclusive).
        end: u64,
    },
    /// The range lies wholly past the end: 416 with `Content-Range: bytes */len`.
    Unsatisfiable,
}

/// Parses `header` against a representation of `len` bytes. Malformed or multi-range headers
/// are ignored (a server may always answer 200 with the whole body), as the RFC allows.
pub fn parse(header: Option<&str>, len: u64) -> RangeRequest {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return RangeRequest::Full;
    };
    if spec.contains(',') {
        return RangeRequest::Full;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return RangeRequest::Full;
    };
    let number = |s: &str| -> Option<u64> {
        let s = s.trim();
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()
    };
    match (first.trim().is_empty(), last.trim().is_empty()) {
        // `bytes=-N`: the last N bytes.
        (true, false) => match number(last) {
            Some(n) if n == 0 || len == 0 => RangeRequest::Unsatisfiable,
            Some(n) => RangeRequest::Partial {
                start: len.saturating_sub(n),
                end: len - 1,
            },
            None => RangeRequest::Full,
        },
        // `bytes=S-`: from S to the end.
        (false, true) => match number(first) {
            Some(s) if s >= len => RangeRequest::Unsatisfiable,
            Some(s) => RangeRequest::Partial {
                start: s,
                end: len - 1,
            },
            None => RangeRequest::Full,
        },
        (false, false) => match (number(first), number(last)) {
            (Some(s), Some(e)) if s > e => RangeRequest::Full,
            (Some(s), Some(_)) if s >= len => RangeRequest::Unsatisfiable,
            (Some(s), Some(e)) => RangeRequest::Partial {
                start: s,
                end: e.min(len - 1),
            },
            _ => RangeRequest::Full,
        },
        (true, true) => RangeRequest::Full,
    }
}

/// `Content-Range` value of a partial response.
pub fn content_range(start: u64, end: u64, len: u64) -> String {
    format!("bytes {start}-{end}/{len}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_of_one_range() {
        assert_eq!(parse(None, 10), RangeRequest::Full);
        assert_eq!(
            parse(Some("bytes=2-5"), 10),
            RangeRequest::Partial { start: 2, end: 5 }
        );
        assert_eq!(
            parse(Some("bytes=4-"), 10),
            RangeRequest::Partial { start: 4, end: 9 }
        );
        assert_eq!(
            parse(Some("bytes=-3"), 10),
            RangeRequest::Partial { start: 7, end: 9 }
        );
        assert_eq!(
            parse(Some("bytes=-30"), 10),
            RangeRequest::Partial { start: 0, end: 9 }
        );
        assert_eq!(
            parse(Some("bytes=8-100"), 10),
            RangeRequest::Partial { start: 8, end: 9 }
        );
    }

    #[test]
    fn past_the_end_is_unsatisfiable_and_junk_is_ignored() {
        assert_eq!(parse(Some("bytes=10-"), 10), RangeRequest::Unsatisfiable);
        assert_eq!(parse(Some("bytes=12-20"), 10), RangeRequest::Unsatisfiable);
        assert_eq!(parse(Some("bytes=-0"), 10), RangeRequest::Unsatisfiable);
        assert_eq!(parse(Some("bytes=0-"), 0), RangeRequest::Unsatisfiable);
        for junk in [
            "items=0-1",
            "bytes=a-b",
            "bytes=5-2",
            "bytes=0-1,3-4",
            "bytes=-",
            "bytes=+1-2",
        ] {
            assert_eq!(parse(Some(junk), 10), RangeRequest::Full, "{junk}");
        }
    }
}
