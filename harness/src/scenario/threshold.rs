//! Threshold strings: `">= 0.70"`, `"== 1.0"`, `"<= 128KiB"`.

use crate::metrics::{CompareOp, Metric, UnknownMetric, metric};

/// A check a cell must pass: `metric op expected`, from `origin` (`file:line:column`).
#[derive(Clone, Debug, PartialEq)]
pub struct Threshold {
    /// A metrics-table name.
    pub metric: String,
    /// How measured and expected compare.
    pub op: CompareOp,
    /// The value, size units expanded.
    pub expected: f64,
    /// Where it was written, `file:line:column`.
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

/// A threshold that cannot be used; each message says what was expected.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ThresholdError {
    #[error(transparent)]
    /// A metric name the metrics table does not have.
    UnknownMetric(#[from] UnknownMetric),
    #[error(
        "threshold `{text}` for `{metric}`: expected an operator (>=, <=, ==, >, <) and a \
         number, e.g. {example} (quote it: a leading `>` starts a YAML block)"
    )]
    /// No comparison operator in front of the number.
    NoOperator {
        text: String,
        metric: String,
        example: &'static str,
    },
    #[error("threshold `{text}` for `{metric}`: `{number}` is not a number, e.g. {example}")]
    /// The value is not a number.
    NotANumber {
        text: String,
        metric: String,
        number: String,
        example: &'static str,
    },
    #[error("threshold `{text}` for `{metric}`: not a finite number")]
    /// The value is infinite or NaN.
    NotFinite { text: String, metric: String },
    #[error(
        "threshold `{text}` for `{metric}`: unknown size unit `{unit}`; expected \
         B, KiB, MiB (1024) or kB, KB, MB (1000)"
    )]
    /// A size unit that is none of the known ones.
    UnknownUnit {
        text: String,
        metric: String,
        unit: String,
    },
    #[error(
        "threshold `{text}` for `{metric}`: `{unit}` after the number; only *_bytes \
         metrics take a size unit"
    )]
    /// A unit after the number of a metric that is not in bytes.
    UnitOnNonByteMetric {
        text: String,
        metric: String,
        unit: String,
    },
}

/// The metric thresholds call `name`, if the metrics table has it.
pub fn check_metric(name: &str) -> Result<&'static Metric, ThresholdError> {
    Ok(metric(name)?)
}

/// Parses `"<op> <number>[unit]"` for `metric` into (op, expected value).
pub fn parse(name: &str, text: &str) -> Result<(CompareOp, f64), ThresholdError> {
    let m = check_metric(name)?;
    let text = text.trim();
    let example = if m.is_bytes() {
        "\"<= 128KiB\""
    } else {
        "\">= 0.70\""
    };
    let Some((op, rest)) = CompareOp::ALL.iter().find_map(|op| {
        text.strip_prefix(op.symbol())
            .map(|rest| (*op, rest.trim()))
    }) else {
        return Err(ThresholdError::NoOperator {
            text: text.to_string(),
            metric: name.to_string(),
            example,
        });
    };
    let split = rest
        .find(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | '_')))
        .unwrap_or(rest.len());
    // `1e3` is a number but `1eKiB` is not: let the number parser judge the digits.
    let (number, unit) = (rest[..split].trim(), rest[split..].trim());
    let value: f64 = number
        .replace('_', "")
        .parse()
        .map_err(|_| ThresholdError::NotANumber {
            text: text.to_string(),
            metric: name.to_string(),
            number: number.to_string(),
            example,
        })?;
    if !value.is_finite() {
        return Err(ThresholdError::NotFinite {
            text: text.to_string(),
            metric: name.to_string(),
        });
    }
    let scale = if unit.is_empty() {
        1.0
    } else if m.is_bytes() {
        UNITS
            .iter()
            .find(|(u, _)| *u == unit)
            .map(|(_, s)| *s)
            .ok_or_else(|| ThresholdError::UnknownUnit {
                text: text.to_string(),
                metric: name.to_string(),
                unit: unit.to_string(),
            })?
    } else {
        return Err(ThresholdError::UnitOnNonByteMetric {
            text: text.to_string(),
            metric: name.to_string(),
            unit: unit.to_string(),
        });
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
        let err = parse("accuracy", "0.7").unwrap_err().to_string();
        assert!(err.contains("expected an operator"), "{err}");
        let err = parse("accuracy", "=> 0.7").unwrap_err().to_string();
        assert!(err.contains("expected an operator"), "{err}");
        let err = parse("flash_bytes", "<= 128kib").unwrap_err().to_string();
        assert!(
            err.contains("unknown size unit `kib`") && err.contains("KiB"),
            "{err}"
        );
        let err = parse("accuracy", ">= 70%").unwrap_err().to_string();
        assert!(err.contains("only *_bytes"), "{err}");
        let err = parse("accuracy", ">= high").unwrap_err().to_string();
        assert!(err.contains("not a number"), "{err}");
        let err = parse("acuracy", ">= 0.7").unwrap_err().to_string();
        assert!(
            err.contains("unknown metric `acuracy`") && err.contains("macro_f1"),
            "{err}"
        );
    }

    #[test]
    fn an_unknown_metric_is_rejected_with_every_name_of_the_table() {
        let err = check_metric("flash").unwrap_err();
        assert_eq!(
            err,
            ThresholdError::UnknownMetric(UnknownMetric {
                name: "flash".into()
            })
        );
        let message = err.to_string();
        assert!(message.starts_with("unknown metric `flash`"), "{message}");
        for m in crate::metrics::METRICS {
            assert!(
                message.contains(m.name),
                "{} missing from: {message}",
                m.name
            );
        }
        assert!(parse("flash", "<= 1KiB").is_err());
    }
}
