//! How far a metric may move the wrong way before a baseline comparison calls it a regression.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A tolerance, absolute or relative to the baseline value.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tolerance {
    /// In the metric's own unit (e.g. 0.005 accuracy, 256 bytes).
    Absolute(f64),
    /// A fraction of the old value (`2%` on the command line is 0.02).
    Relative(f64),
}

/// A tolerance that does not parse.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ToleranceError {
    #[error("`{0}` is not a tolerance: expected a number such as 0.01 or a percentage such as 2%")]
    /// Neither a number nor a percentage.
    NotANumber(String),
    #[error("tolerance `{0}` must be a number ≥ 0")]
    /// Negative or not finite.
    Negative(String),
}

impl Tolerance {
    /// Whether moving `worsening` the wrong way from `old` stays within the tolerance.
    pub fn allows(self, old: f64, worsening: f64) -> bool {
        match self {
            Tolerance::Absolute(t) => worsening <= t,
            Tolerance::Relative(t) => worsening <= t * old.abs(),
        }
    }
}

impl fmt::Display for Tolerance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tolerance::Absolute(t) => write!(f, "{t}"),
            Tolerance::Relative(t) => write!(f, "{}%", t * 100.0),
        }
    }
}

impl FromStr for Tolerance {
    type Err = ToleranceError;

    fn from_str(s: &str) -> Result<Self, ToleranceError> {
        let s = s.trim();
        let (number, relative) = match s.strip_suffix('%') {
            Some(n) => (n.trim(), true),
            None => (s, false),
        };
        let v: f64 = number
            .parse()
            .map_err(|_| ToleranceError::NotANumber(s.to_string()))?;
        if !v.is_finite() || v < 0.0 {
            return Err(ToleranceError::Negative(s.to_string()));
        }
        Ok(if relative {
            Tolerance::Relative(v / 100.0)
        } else {
            Tolerance::Absolute(v)
        })
    }
}
