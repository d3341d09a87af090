//! Threshold checks: a metric of a cell compared with an expected value.
//!
//! The scenario says which checks apply to which cell (`scenario::thresholds`); this module
//! evaluates one check on one cell, reading the metric through the [`super::METRICS`] table.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{CellResult, STATUS_OK, metric};

/// How a measured value is compared with the expected one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CompareOp {
    /// `>=`
    #[serde(rename = ">=")]
    Ge,
    /// `<=`
    #[serde(rename = "<=")]
    Le,
    /// `==`
    #[serde(rename = "==")]
    Eq,
    /// `>`
    #[serde(rename = ">")]
    Gt,
    /// `<`
    #[serde(rename = "<")]
    Lt,
}

impl CompareOp {
    /// Every operator, longest spelling first (so `>=` is tried before `>`).
    pub const ALL: [CompareOp; 5] = [
        CompareOp::Ge,
        CompareOp::Le,
        CompareOp::Eq,
        CompareOp::Gt,
        CompareOp::Lt,
    ];

    /// The operator as thresholds write it.
    pub fn symbol(self) -> &'static str {
        match self {
            CompareOp::Ge => ">=",
            CompareOp::Le => "<=",
            CompareOp::Eq => "==",
            CompareOp::Gt => ">",
            CompareOp::Lt => "<",
        }
    }

    /// Whether `measured op expected` holds.
    pub fn holds(self, measured: f64, expected: f64) -> bool {
        match self {
            CompareOp::Ge => measured >= expected,
            CompareOp::Le => measured <= expected,
            // Exact: the values compared this way are ratios of counts (agreement 1.0).
            CompareOp::Eq => measured == expected,
            CompareOp::Gt => measured > expected,
            CompareOp::Lt => measured < expected,
        }
    }
}

impl fmt::Display for CompareOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.symbol())
    }
}

/// One threshold evaluated on one cell.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckResult {
    /// A [`super::METRICS`] name, e.g. `accuracy`, `flash_bytes`, `status_ok`.
    pub metric: String,
    /// How measured and expected compare.
    pub op: CompareOp,
    /// The threshold, size units expanded.
    pub expected: f64,
    /// `None`: the metric could not be measured, so the check fails.
    pub measured: Option<f64>,
    /// The comparison held on a measured value.
    pub passed: bool,
    /// Where the threshold came from, e.g. `scenarios/ci.yaml:14:5`.
    pub origin: String,
}

impl CheckResult {
    /// Evaluates `name op expected` on `cell`; a name not in the table is never measured.
    pub fn evaluate(
        cell: &CellResult,
        name: &str,
        op: CompareOp,
        expected: f64,
        origin: String,
    ) -> Self {
        let measured = metric(name).ok().and_then(|m| m.value(cell));
        CheckResult {
            metric: name.to_string(),
            op,
            expected,
            measured,
            passed: measured.is_some_and(|m| op.holds(m, expected)),
            origin,
        }
    }

    /// The implicit check every cell gets: it ended with status `ok`.
    pub fn status_ok(cell: &CellResult) -> Self {
        Self::evaluate(
            cell,
            STATUS_OK.name,
            CompareOp::Eq,
            1.0,
            "harbor: every cell must answer every window".to_string(),
        )
    }
}

impl fmt::Display for CheckResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let measured = self
            .measured
            .map_or_else(|| "not measured".to_string(), |m| format!("{m}"));
        write!(
            f,
            "{} {} {}: measured {} ({}, from {})",
            self.metric,
            self.op,
            self.expected,
            measured,
            if self.passed { "passed" } else { "FAILED" },
            self.origin
        )
    }
}
