//! Parses one WISDM 2019 raw line, `1600,A,90426708196641,7.091625,-0.5916671,8.195502;`,
//! straight from bytes: the watch set is ~330 MB, so no per-line allocation.

/// One parsed raw row.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Row {
    /// Subject id (1600..).
    pub subject: u32,
    /// Activity code letter (`A`..`S`, no `N`); validated by the caller.
    pub code: u8,
    /// Device uptime in nanoseconds.
    pub t_ns: i64,
    /// The three axis values as written.
    pub xyz: [f32; 3],
}

/// Parses `line` (without its line ending). The trailing `;` is required: a line without it
/// is a truncated write.
pub fn parse(line: &[u8]) -> Result<Row, String> {
    let line = line.trim_ascii_end();
    let body = line
        .strip_suffix(b";")
        .ok_or("line does not end with `;` (truncated?)")?;
    let mut fields = body.split(|&b| b == b',');
    let mut next = |what: &str| {
        fields
            .next()
            .ok_or_else(|| format!("missing field `{what}` (expected 6 comma-separated fields)"))
    };
    let subject = parse_uint(next("subject")?)
        .and_then(|s| u32::try_from(s).ok())
        .ok_or("subject: not an unsigned 32-bit integer")?;
    let code = match next("activity")?.trim_ascii() {
        [c] => *c,
        other => {
            return Err(format!(
                "activity: `{}` is not a single letter",
                String::from_utf8_lossy(other)
            ));
        }
    };
    let t_ns = parse_uint(next("timestamp")?)
        .and_then(|t| i64::try_from(t).ok())
        .ok_or("timestamp: not a non-negative integer of at most 63 bits")?;
    let xyz = [
        parse_finite(next("x")?, "x")?,
        parse_finite(next("y")?, "y")?,
        parse_finite(next("z")?, "z")?,
    ];
    if fields.next().is_some() {
        return Err("more than 6 comma-separated fields".into());
    }
    Ok(Row {
        subject,
        code,
        t_ns,
        xyz,
    })
}

fn parse_uint(field: &[u8]) -> Option<u64> {
    let digits = field.trim_ascii();
    if digits.is_empty() || digits.len() > 19 {
        return None;
    }
    digits.iter().try_fold(0u64, |acc, &b| {
        b.is_ascii_digit().then(|| acc * 10 + u64::from(b - b'0'))
    })
}

fn parse_finite(field: &[u8], what: &str) -> Result<f32, String> {
    let text = std::str::from_utf8(field.trim_ascii()).map_err(|_| format!("{what}: not UTF-8"))?;
    if text.is_empty() {
        return Err(format!("{what}: empty field"));
    }
    // std's parser is correctly rounded and fast (Eisel-Lemire); it also accepts `inf`/`NaN`,
    // which the format never contains, so reject them.
    match text.parse::<f32>() {
        Ok(v) if v.is_finite() => Ok(v),
        _ => Err(format!("{what}: `{text}` is not a finite number")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_the_documented_example() {
        let row = parse(b"1600,A,90426708196641,7.091625,-0.5916671,8.195502;").unwrap();
        assert_eq!(
            row,
            Row {
                subject: 1600,
                code: b'A',
                t_ns: 90426708196641,
                xyz: [7.091625, -0.5916671, 8.195502]
            }
        );
        // Trailing CR/space after the `;` is tolerated, exponent notation too.
        let row = parse(b"1601,S,5,1e-3,-2.5E1,0; \r").unwrap();
        assert_eq!(row.xyz, [0.001, -25.0, 0.0]);
    }

    #[test]
    fn rejects_malformed_lines_with_a_reason() {
        let cases: [(&[u8], &str); 10] = [
            (b"1600,A,1,1,2,3", "`;`"),
            (b"1600,A,1,1,2;", "missing field `z`"),
            (b"1600,A,1,1,2,3,4;", "more than 6"),
            (b"1600,A,1,1,,3;", "y: empty"),
            (b"1600,A,1,NaN,2,3;", "x: `NaN` is not a finite"),
            (b"1600,A,1,inf,2,3;", "not a finite"),
            (b"1600,AB,1,1,2,3;", "single letter"),
            (b"16x0,A,1,1,2,3;", "subject"),
            (b"1600,A,-5,1,2,3;", "timestamp"),
            (b"1600,A,99999999999999999999,1,2,3;", "timestamp"),
        ];
        for (line, wanted) in cases {
            let err = parse(line).unwrap_err();
            assert!(
                err.contains(wanted),
                "{:?}: got `{err}`, wanted `{wanted}`",
                String::from_utf8_lossy(line)
            );
        }
    }

    proptest! {
        #[test]
        fn never_panics_on_random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
            let _ = parse(&bytes);
        }

        #[test]
        fn round_trips_generated_rows(subject in 0u32..100_000, code in b'A'..=b'S', t in 0i64..i64::MAX,
                                      x in -80f32..80.0, y in -80f32..80.0, z in -80f32..80.0) {
            let line = format!("{subject},{},{t},{x},{y},{z};", code as char);
            let row = parse(line.as_bytes()).unwrap();
            prop_assert_eq!(row, Row { subject, code, t_ns: t, xyz: [x, y, z] });
        }

        #[test]
        fn never_panics_on_mutated_valid_lines(pos in 0usize..52, byte in any::<u8>()) {
            let mut line = b"1600,A,90426708196641,7.091625,-0.5916671,8.195502;".to_vec();
            let i = pos % line.len();
            line[i] = byte;
            let _ = parse(&line);
        }
    }
}
