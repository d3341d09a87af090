//! Baselines: per-cell, per-metric deltas between two reports and the regressions among them.
//!
//! Runs are deterministic (icount, seeds), so an unchanged firmware and model give identical
//! numbers; the default tolerances only absorb deliberate small changes. A metric that was
//! measured before and is not any more is a regression, as is a cell that was `ok` and is not.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Report;
use crate::metrics::{
    Better, CellResult, Metric, Status, Tolerance, ToleranceError, compared, names,
};

/// A `--tolerance metric=value` that cannot be applied.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum TolerancesError {
    #[error("`{0}`: expected metric=value, e.g. accuracy=0.01 or flash_bytes=2%")]
    /// Not `metric=value`.
    NotAnAssignment(String),
    #[error(
        "`{metric}` is not a metric a baseline compares; one of: {}",
        names(compared())
    )]
    /// A metric baselines do not compare (or no metric at all).
    NotCompared {
        /// The name as given.
        metric: String,
    },
    #[error(transparent)]
    /// The value is not a tolerance.
    Value(#[from] ToleranceError),
}

/// Per-metric tolerances: the table's defaults, with overrides from `--tolerance metric=value`.
#[derive(Clone, Debug)]
pub struct Tolerances(BTreeMap<&'static str, Tolerance>);

impl Default for Tolerances {
    fn default() -> Self {
        Tolerances(
            compared()
                .filter_map(|m| Some((m.name, m.diff_tolerance?)))
                .collect(),
        )
    }
}

impl Tolerances {
    /// The metrics a baseline compares.
    pub fn metrics() -> impl Iterator<Item = &'static str> {
        compared().map(|m| m.name)
    }

    /// Applies `metric=value` (e.g. `accuracy=0.01`, `flash_bytes=2%`).
    pub fn set(&mut self, spec: &str) -> Result<(), TolerancesError> {
        let (metric, value) = spec
            .split_once('=')
            .ok_or_else(|| TolerancesError::NotAnAssignment(spec.to_string()))?;
        let metric = metric.trim();
        let key =
            Self::metrics()
                .find(|m| *m == metric)
                .ok_or_else(|| TolerancesError::NotCompared {
                    metric: metric.to_string(),
                })?;
        self.0.insert(key, value.parse()?);
        Ok(())
    }

    /// The tolerance of `metric` (0 for a metric baselines do not compare).
    pub fn get(&self, metric: &str) -> Tolerance {
        self.0
            .get(metric)
            .copied()
            .unwrap_or(Tolerance::Absolute(0.0))
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
/// One metric of one cell, before and after.
pub struct MetricDelta {
    /// The metric's table name.
    pub metric: String,
    /// The baseline's value.
    pub old: Option<f64>,
    /// The new report's value.
    pub new: Option<f64>,
    /// `new - old` when both were measured.
    pub delta: Option<f64>,
    /// The tolerance applied.
    pub tolerance: Tolerance,
    /// Worse beyond the tolerance, or no longer measured.
    pub regression: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
/// One cell in both reports: its status and gated metrics, before and after.
pub struct CellDiff {
    /// `model/dataset/target/mode`.
    pub cell: String,
    /// Status in the baseline.
    pub old_status: Status,
    /// Status now.
    pub new_status: Status,
    /// It was `ok` and is not any more.
    pub status_regression: bool,
    /// The compared metrics, in table order.
    pub metrics: Vec<MetricDelta>,
}

impl CellDiff {
    /// Status and metric regressions of this cell.
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
    /// At least one regression beyond tolerance.
    pub fn has_regressions(&self) -> bool {
        self.regressions > 0
    }
}

fn metric_delta(
    metric: &Metric,
    tolerance: Tolerance,
    old: &CellResult,
    new: &CellResult,
) -> MetricDelta {
    let (o, n) = (metric.value(old), metric.value(new));
    let delta = o.zip(n).map(|(o, n)| n - o);
    let regression = match (o, n) {
        (Some(_), None) => true,
        (Some(o), Some(n)) => {
            let worsening = match metric.better {
                Better::Higher => o - n,
                Better::Lower => n - o,
                Better::Neither => 0.0,
            };
            worsening > 0.0 && !tolerance.allows(o, worsening)
        }
        _ => false,
    };
    MetricDelta {
        metric: metric.name.to_string(),
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
        let metrics = compared()
            .map(|m| metric_delta(m, tolerances.get(m.name), before, cell))
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
