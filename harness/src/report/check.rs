//! Threshold checks: a metric of a cell compared with an expected value.
//!
//! The scenario says which checks apply to which cell (`scenario::thresholds`); this module
//! names the metrics a check can read and evaluates one check on one cell.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{CellResult, Status};

/// How a measured value is compared with the expected one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CompareOp {
    #[serde(rename = ">=")]
    Ge,
    #[serde(rename = "<=")]
    Le,
    #[serde(rename = "==")]
    Eq,
    #[serde(rename = ">")]
    Gt,
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

    pub fn symbol(self) -> &'static str {
        match self {
            CompareOp::Ge => ">=",
            CompareOp::Le => "<=",
            CompareOp::Eq => "==",
            CompareOp::Gt => ">",
            CompareOp::Lt => "<",
        }
    }

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
    /// A [`METRICS`] name, e.g. `accuracy`, `flash_bytes`; or [`STATUS_OK`].
    pub metric: String,
    pub op: CompareOp,
    pub expected: f64,
    /// `None`: the metric could not be measured, so the check fails.
    pub measured: Option<f64>,
    pub passed: bool,
    /// Where the threshold came from, e.g. `scenarios/ci.yaml:14:5`.
    pub origin: String,
}

impl CheckResult {
    /// Evaluates `metric op expected` on `cell`.
    pub fn evaluate(
        cell: &CellResult,
        metric: &str,
        op: CompareOp,
        expected: f64,
        origin: String,
    ) -> Self {
        let measured = metric_value(cell, metric);
        CheckResult {
            metric: metric.to_string(),
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
            STATUS_OK,
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

/// The implicit metric "the cell's status is ok": 1.0 when it is, else 0.0.
pub const STATUS_OK: &str = "status_ok";

/// Metric names thresholds may use: the numeric fields of [`CellResult`].
pub const METRICS: &[&str] = &[
    "accuracy",
    "macro_f1",
    "host_int8_accuracy",
    "float_accuracy",
    "agreement_int8",
    "agreement_float",
    "int8_mismatches",
    "instructions_min",
    "instructions_median",
    "instructions_max",
    "est_latency_ms",
    "measured_latency_ms",
    "flash_bytes",
    "ram_bytes",
    "stack_bytes",
    "arena_bytes",
    "energy_uj",
    "energy_uj_per_window",
    "mah_per_day",
    "windows",
    "windows_completed",
    "windows_unscored",
    "failures",
];

/// Metrics measured in bytes: their thresholds may carry a size unit (`128KiB`).
pub fn is_byte_metric(metric: &str) -> bool {
    metric.ends_with("_bytes")
}

/// The value of `metric` in `cell`, `None` when it was not measured (or is unknown).
pub fn metric_value(cell: &CellResult, metric: &str) -> Option<f64> {
    let int = |v: u64| Some(v as f64);
    match metric {
        STATUS_OK => Some(if cell.status == Status::Ok { 1.0 } else { 0.0 }),
        "accuracy" => cell.accuracy,
        "macro_f1" => cell.macro_f1,
        "host_int8_accuracy" => cell.host_int8_accuracy,
        "float_accuracy" => cell.float_accuracy,
        "agreement_int8" => cell.agreement_int8,
        "agreement_float" => cell.agreement_float,
        "int8_mismatches" => int(cell.int8_mismatches.len() as u64),
        "instructions_min" => cell.instructions.map(|s| s.min as f64),
        "instructions_median" => cell.instructions.map(|s| s.median as f64),
        "instructions_max" => cell.instructions.map(|s| s.max as f64),
        "est_latency_ms" => cell.est_latency_ms,
        "measured_latency_ms" => cell.measured_latency_ms,
        "flash_bytes" => cell.flash_bytes.map(|v| v as f64),
        "ram_bytes" => cell.ram_bytes.map(|v| v as f64),
        "stack_bytes" => cell.stack_bytes.map(|v| v as f64),
        "arena_bytes" => cell.arena_bytes.map(|v| v as f64),
        "energy_uj" => cell.energy_uj,
        "energy_uj_per_window" => cell.energy.as_ref().map(|e| e.total_uj_per_window),
        "mah_per_day" => cell.energy.as_ref().map(|e| e.mah_per_day),
        "windows" => int(cell.windows as u64),
        "windows_completed" => int(cell.windows_completed as u64),
        "windows_unscored" => int(cell.windows_unscored),
        "failures" => int(cell.failures.len() as u64),
        _ => None,
    }
}
