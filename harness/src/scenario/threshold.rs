//! Threshold strings: `">= 0.70"`, `"== 1.0"`, `"<= 128KiB"`.

use crate::report::{CompareOp, METRICS, STATUS_OK, is_byte_metric};

/// A check a cell must pass: `metric op expected`, from `origin` (`file:line:column`).
#[derive(Clone, Debug, PartialEq)]
pub struct Threshold {
    pub metric: String,
    pub op: CompareOp,
    pub expected: f64,
    pub origin: String,
}

/// Size units byte metrics accept (binary and decimal; `kB` and `KB` are both 1000).
const UNITS: [(&str, f64); 7] = [
    ("KiB", 1024.0),
    ("MiB", 1024.0 * 1024.0),
    ("kB", 1e3),
    ("KB", 1e3),
    ("MB", 1e6),
    ("B", 1.0),
    ("", 1.0),
];

/// Checks that `metric` is one thresholds may use.
pub fn check_metric(metric: &str) -> Result<(), String> {
    if METRICS.contains(&metric) || metric == STATUS_OK {
        Ok(())
    } else {
        Err(format!(
            "unknown metric `{metric}`; expected one of: {}",
            METRICS.join(", ")
        ))
    }
}

/// Parses `"<op> <number>[unit]"` for `metric` into (op, expected value).
pub fn parse(metric: &str, text: &str) -> Result<(CompareOp, f64), String> {
    check_metric(metric)?;
    let text = text.trim();
    let example = if is_byte_metric(metric) {
        "\"<= 128KiB\""
    } else {
        "\">= 0.70\""
    };
    let Some((op, rest)) = CompareOp::ALL.iter().find_map(|op| {
        text.strip_prefix(op.symbol())
            .map(|rest| (*op, rest.trim()))
    }) else {
        return Err(format!(
            "threshold `{text}` for `{metric}`: expected an operator (>=, <=, ==, >, <) and a \
             number, e.g. {example} (quote it: a leading `>` starts a YAML block)"
        ));
    };
    let split = rest
        .find(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | '_')))
        .unwrap_or(rest.len());
    // `1e3` is a number but `1eKiB` is not: let the number parser judge the digits.
    let (number, unit) = (rest[..split].trim(), rest[split..].trim());
    let value: f64 = number.replace('_', "").parse().map_err(|_| {
        format!("threshold `{text}` for `{metric}`: `{number}` is not a number, e.g. {example}")
    })?;
    if !value.is_finite() {
        return Err(format!(
            "threshold `{text}` for `{metric}`: not a finite number"
        ));
    }
    let scale = if unit.is_empty() {
        1.0
    } else if is_byte_metric(metric) {
        UNITS
            .iter()
            .find(|(u, _)| *u == unit)
            .map(|(_, s)| *s)
            .ok_or_else(|| {
                format!(
                    "threshold `{text}` for `{metric}`: unknown size unit `{unit}`; expected \
                     B, KiB, MiB (1024) or kB, KB, MB (1000)"
                )
            })?
    } else {
        return Err(format!(
            "threshold `{text}` for `{metric}`: `{unit}` after the number; only *_bytes \
             metrics take a size unit"
        ));
    };
    Ok((op, value * scale))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operators_numbers_and_size_units() {
        assert_eq!(parse("accuracy", ">= 0.70"), Ok((CompareOp::Ge, 0.70)));
        assert_eq!(parse("accuracy", ">0.7"), Ok((CompareOp::Gt, 0.7)));
        assert_eq!(parse("agreement_int8", "== 1.0"), Ok((CompareOp::Eq, 1.0)));
        assert_eq!(parse("est_latency_ms", "< 10"), Ok((CompareOp::Lt, 10.0)));
        assert_eq!(
            parse("measured_latency_ms", "<= 5"),
            Ok((CompareOp::Le, 5.0))
        );
        assert_eq!(
            parse("flash_bytes", "<= 128KiB"),
            Ok((CompareOp::Le, 131_072.0))
        );
        assert_eq!(
            parse("ram_bytes", "<= 1.5 MiB"),
            Ok((CompareOp::Le, 1_572_864.0))
        );
        assert_eq!(parse("ram_bytes", "<= 64kB"), Ok((CompareOp::Le, 64_000.0)));
        assert_eq!(parse("ram_bytes", "<= 64KB"), Ok((CompareOp::Le, 64_000.0)));
        assert_eq!(
            parse("stack_bytes", "<= 40_000 B"),
            Ok((CompareOp::Le, 40_000.0))
        );
        assert_eq!(
            parse("instructions_median", "<= 1e6"),
            Ok((CompareOp::Le, 1e6))
        );
    }

    #[test]
    fn bad_operators_units_and_metrics_say_what_was_expected() {
        let err = parse("accuracy", "0.7").unwrap_err();
        assert!(err.contains("expected an operator"), "{err}");
        let err = parse("accuracy", "=> 0.7").unwrap_err();
        assert!(err.contains("expected an operator"), "{err}");
        let err = parse("flash_bytes", "<= 128kib").unwrap_err();
        assert!(
            err.contains("unknown size unit `kib`") && err.contains("KiB"),
            "{err}"
        );
        let err = parse("accuracy", ">= 70%").unwrap_err();
        assert!(err.contains("only *_bytes"), "{err}");
        let err = parse("accuracy", ">= high").unwrap_err();
        assert!(err.contains("not a number"), "{err}");
        let err = parse("acuracy", ">= 0.7").unwrap_err();
        assert!(
            err.contains("unknown metric `acuracy`") && err.contains("macro_f1"),
            "{err}"
        );
    }
}
