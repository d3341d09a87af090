//! Baselines: per-cell, per-metric deltas between two reports and the regressions among them.
//!
//! Runs are deterministic (icount, seeds), so an unchanged firmware and model give identical
//! numbers; the default tolerances only absorb deliberate small changes. A metric that was
//! measured before and is not any more is a regression, as is a cell that was `ok` and is not.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::{CellResult, Report, Status, metric_value};

/// Which way a metric gets worse.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Worse {
    Lower,
    Higher,
}

/// How far a metric may move the wrong way before it counts as a regression.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tolerance {
    /// In the metric's own unit (e.g. 0.005 accuracy, 256 bytes).
    Absolute(f64),
    /// A fraction of the old value (`2%` on the command line is 0.02).
    Relative(f64),
}

impl Tolerance {
    fn allows(self, old: f64, worsening: f64) -> bool {
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
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let (number, relative) = match s.strip_suffix('%') {
            Some(n) => (n.trim(), true),
            None => (s, false),
        };
        let v: f64 = number
            .parse()
            .map_err(|_| format!("`{s}` is not a tolerance: expected a number such as 0.01 or a percentage such as 2%"))?;
        if !v.is_finite() || v < 0.0 {
            return Err(format!("tolerance `{s}` must be a number ≥ 0"));
        }
        Ok(if relative {
            Tolerance::Relative(v / 100.0)
        } else {
            Tolerance::Absolute(v)
        })
    }
}

/// The metrics a baseline gates on, which way each gets worse, and its default tolerance.
const GATED: &[(&str, Worse, Tolerance)] = &[
    ("accuracy", Worse::Lower, Tolerance::Absolute(0.005)),
    ("macro_f1", Worse::Lower, Tolerance::Absolute(0.005)),
    // Bit-exactness with the host reference is all or nothing.
    ("agreement_int8", Worse::Lower, Tolerance::Absolute(0.0)),
    ("agreement_float", Worse::Lower, Tolerance::Absolute(0.005)),
    ("flash_bytes", Worse::Higher, Tolerance::Relative(0.01)),
    ("ram_bytes", Worse::Higher, Tolerance::Relative(0.01)),
    ("stack_bytes", Worse::Higher, Tolerance::Relative(0.01)),
    (
        "instructions_median",
        Worse::Higher,
        Tolerance::Relative(0.01),
    ),
    ("instructions_max", Worse::Higher, Tolerance::Relative(0.01)),
    ("energy_uj", Worse::Higher, Tolerance::Relative(0.01)),
];

/// Per-metric tolerances: the defaults, with any overrides from `--tolerance metric=value`.
#[derive(Clone, Debug)]
pub struct Tolerances(BTreeMap<&'static str, Tolerance>);

impl Default for Tolerances {
    fn default() -> Self {
        Tolerances(GATED.iter().map(|&(m, _, t)| (m, t)).collect())
    }
}

impl Tolerances {
    /// The metrics a baseline compares.
    pub fn metrics() -> impl Iterator<Item = &'static str> {
        GATED.iter().map(|&(m, _, _)| m)
    }

    /// Applies `metric=value` (e.g. `accuracy=0.01`, `flash_bytes=2%`).
    pub fn set(&mut self, spec: &str) -> Result<(), String> {
        let (metric, value) = spec.split_once('=').ok_or_else(|| {
            format!("`{spec}`: expected metric=value, e.g. accuracy=0.01 or flash_bytes=2%")
        })?;
        let metric = metric.trim();
        let key = Self::metrics().find(|m| *m == metric).ok_or_else(|| {
            format!(
                "`{metric}` is not a metric a baseline compares; one of: {}",
                Self::metrics().collect::<Vec<_>>().join(", ")
            )
        })?;
        self.0.insert(key, value.parse()?);
        Ok(())
    }

    pub fn get(&self, metric: &str) -> Tolerance {
        self.0
            .get(metric)
            .copied()
            .unwrap_or(Tolerance::Absolute(0.0))
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MetricDelta {
    pub metric: String,
    pub old: Option<f64>,
    pub new: Option<f64>,
    /// `new - old` when both were measured.
    pub delta: Option<f64>,
    pub tolerance: Tolerance,
    pub regression: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CellDiff {
    /// `model/dataset/target/mode`.
    pub cell: String,
    pub old_status: Status,
    pub new_status: Status,
    /// It was `ok` and is not any more.
    pub status_regression: bool,
    pub metrics: Vec<MetricDelta>,
}

impl CellDiff {
    pub fn regressions(&self) -> usize {
        usize::from(self.status_regression) + self.metrics.iter().filter(|m| m.regression).count()
    }
}

/// What changed from a baseline report to a new one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Diff {
    /// Where the baseline came from (a path, as given).
    pub baseline: String,
    /// Cells in both reports, in the new report's order.
    pub cells: Vec<CellDiff>,
    /// Cell ids only in the new report.
    pub added: Vec<String>,
    /// Cell ids only in the baseline.
    pub removed: Vec<String>,
    /// Metric and status regressions beyond tolerance, over all cells.
    pub regressions: usize,
}

impl Diff {
    pub fn has_regressions(&self) -> bool {
        self.regressions > 0
    }
}

fn metric_delta(
    metric: &str,
    worse: Worse,
    tolerance: Tolerance,
    old: &CellResult,
    new: &CellResult,
) -> MetricDelta {
    let (o, n) = (metric_value(old, metric), metric_value(new, metric));
    let delta = o.zip(n).map(|(o, n)| n - o);
    let regression = match (o, n) {
        (Some(_), None) => true,
        (Some(o), Some(n)) => {
            let worsening = match worse {
                Worse::Lower => o - n,
                Worse::Higher => n - o,
            };
            worsening > 0.0 && !tolerance.allows(o, worsening)
        }
        _ => false,
    };
    MetricDelta {
        metric: metric.to_string(),
        old: o,
        new: n,
        delta,
        tolerance,
        regression,
    }
}

/// Compares `new` with the baseline `old`, cell by cell (cells match by id).
pub fn diff(baseline: &str, old: &Report, new: &Report, tolerances: &Tolerances) -> Diff {
    let old_cells: BTreeMap<String, &CellResult> =
        old.results.iter().map(|c| (c.id(), c)).collect();
    let new_ids: std::collections::BTreeSet<String> =
        new.results.iter().map(CellResult::id).collect();
    let mut cells = Vec::new();
    let mut added = Vec::new();
    for cell in &new.results {
        let id = cell.id();
        let Some(before) = old_cells.get(&id) else {
            added.push(id);
            continue;
        };
        let metrics = GATED
            .iter()
            .map(|&(m, worse, _)| metric_delta(m, worse, tolerances.get(m), before, cell))
            .collect();
        cells.push(CellDiff {
            cell: id,
            old_status: before.status,
            new_status: cell.status,
            status_regression: before.status == Status::Ok && cell.status != Status::Ok,
            metrics,
        });
    }
    let removed = old
        .results
        .iter()
        .map(CellResult::id)
        .filter(|id| !new_ids.contains(id))
        .collect();
    let regressions = cells.iter().map(CellDiff::regressions).sum();
    Diff {
        baseline: baseline.to_string(),
        cells,
        added,
        removed,
        regressions,
    }
}
