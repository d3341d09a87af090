//! The expanded matrix: models × datasets × targets × modes minus `exclude`, each cell with
//! its thresholds after `overrides`, and the deterministic shard partition of it.

use std::path::Path;

use serde_saphyr::{Location, Spanned};

use super::error::ScenarioError;
use super::schema::{RawMatch, RawOverride, RawThresholds};
use super::threshold::{self, Threshold};
use super::{Mode, Scenario};
use crate::report::Shard;

/// One cell, by index into the scenario's lists, with the thresholds that apply to it.
#[derive(Clone, Debug, PartialEq)]
pub struct MatrixCell {
    /// Index into the scenario's models.
    pub model: usize,
    /// Index into the scenario's datasets.
    pub dataset: usize,
    /// Index into the scenario's targets.
    pub target: usize,
    /// Tensor or stream mode.
    pub mode: Mode,
    /// The thresholds that apply.
    pub thresholds: Vec<Threshold>,
}

impl Scenario {
    /// `model/dataset/target/mode`, the same id as [`crate::report::CellResult::id`].
    pub fn cell_id(&self, cell: &MatrixCell) -> String {
        format!(
            "{}/{}/{}/{}",
            self.models[cell.model].name,
            self.datasets[cell.dataset].name,
            self.targets[cell.target].name,
            cell.mode.name()
        )
    }

    /// The cells of shard `index`/`count` (1-based): those whose position in matrix order is
    /// `index - 1` modulo `count`. Every cell is in exactly one shard of a given count.
    pub fn shard_cells(&self, shard: Option<Shard>) -> Vec<MatrixCell> {
        self.cells
            .iter()
            .enumerate()
            .filter(|(i, _)| shard.is_none_or(|s| i % s.count == s.index - 1))
            .map(|(_, c)| c.clone())
            .collect()
    }
}

/// Parses `--shard i/n` (1 ≤ i ≤ n).
pub fn parse_shard(text: &str) -> Result<Shard, String> {
    let bad = || format!("`{text}`: expected i/n with 1 <= i <= n, e.g. 2/4");
    let (i, n) = text.split_once('/').ok_or_else(bad)?;
    let index: usize = i.trim().parse().map_err(|_| bad())?;
    let count: usize = n.trim().parse().map_err(|_| bad())?;
    if index == 0 || index > count {
        return Err(bad());
    }
    Ok(Shard { index, count })
}

/// A resolved `match`/`exclude` entry.
struct Selector {
    model: Option<usize>,
    dataset: Option<usize>,
    target: Option<usize>,
    mode: Option<Mode>,
    at: Location,
}

impl Selector {
    fn selects(&self, model: usize, dataset: usize, target: usize, mode: Mode) -> bool {
        self.model.is_none_or(|m| m == model)
            && self.dataset.is_none_or(|d| d == dataset)
            && self.target.is_none_or(|t| t == target)
            && self.mode.is_none_or(|m| m == mode)
    }
}

/// What the matrix is built from: the resolved lists' names and the raw selection keys.
pub(super) struct MatrixInput<'a> {
    pub path: &'a Path,
    pub models: Vec<&'a str>,
    pub datasets: Vec<&'a str>,
    pub targets: Vec<&'a str>,
    pub modes: &'a [Mode],
    pub exclude: &'a [Spanned<RawMatch>],
    pub thresholds: &'a RawThresholds,
    pub overrides: &'a [RawOverride],
}

impl MatrixInput<'_> {
    pub(super) fn expand(&self) -> Result<Vec<MatrixCell>, ScenarioError> {
        let base = self.thresholds(self.thresholds)?;
        let exclude = self
            .exclude
            .iter()
            .map(|m| self.selector(m))
            .collect::<Result<Vec<_>, _>>()?;
        let overrides = self
            .overrides
            .iter()
            .map(|o| Ok((self.selector(&o.selector)?, self.thresholds(&o.thresholds)?)))
            .collect::<Result<Vec<_>, ScenarioError>>()?;
        let mut excluded_any = vec![false; exclude.len()];
        let mut overridden_any = vec![false; overrides.len()];
        let mut cells = Vec::new();
        for model in 0..self.models.len() {
            for dataset in 0..self.datasets.len() {
                for target in 0..self.targets.len() {
                    for &mode in self.modes {
                        let hits = |s: &Selector| s.selects(model, dataset, target, mode);
                        let mut out = false;
                        for (e, hit) in exclude.iter().zip(&mut excluded_any) {
                            if hits(e) {
                                (*hit, out) = (true, true);
                            }
                        }
                        if out {
                            continue;
                        }
                        let mut thresholds = base.clone();
                        for ((selector, extra), hit) in overrides.iter().zip(&mut overridden_any) {
                            if hits(selector) {
                                *hit = true;
                                merge(&mut thresholds, extra);
                            }
                        }
                        cells.push(MatrixCell {
                            model,
                            dataset,
                            target,
                            mode,
                            thresholds,
                        });
                    }
                }
            }
        }
        let unused = exclude
            .iter()
            .zip(&excluded_any)
            .chain(overrides.iter().map(|(s, _)| s).zip(&overridden_any))
            .find(|(_, hit)| !**hit);
        if let Some((selector, _)) = unused {
            return Err(self.error(
                selector.at,
                "this `match` selects no cell of the matrix (after `exclude`)".into(),
            ));
        }
        if cells.is_empty() {
            return Err(self.error(
                self.exclude
                    .first()
                    .map_or(Location::UNKNOWN, |e| e.referenced),
                "`exclude` leaves no cell to run".into(),
            ));
        }
        Ok(cells)
    }

    fn error(&self, at: Location, reason: String) -> ScenarioError {
        ScenarioError::at(self.path, at, reason)
    }

    fn selector(&self, raw: &Spanned<RawMatch>) -> Result<Selector, ScenarioError> {
        let m = &raw.value;
        if m.model.is_none() && m.dataset.is_none() && m.target.is_none() && m.mode.is_none() {
            return Err(self.error(
                raw.referenced,
                "an empty `match`: give any of model, dataset, target, mode".into(),
            ));
        }
        let find = |key: &Option<Spanned<String>>, names: &[&str], what: &str| {
            key.as_ref()
                .map(|k| {
                    names.iter().position(|n| *n == k.value).ok_or_else(|| {
                        self.error(
                            k.referenced,
                            format!(
                                "no {what} named `{}` in this scenario; expected one of: {}",
                                k.value,
                                names.join(", ")
                            ),
                        )
                    })
                })
                .transpose()
        };
        let mode = match &m.mode {
            Some(mode) if !self.modes.contains(&mode.value) => {
                return Err(self.error(
                    mode.referenced,
                    format!(
                        "mode `{}` is not among the scenario's `modes`",
                        mode.value.name()
                    ),
                ));
            }
            other => other.as_ref().map(|m| m.value),
        };
        Ok(Selector {
            model: find(&m.model, &self.models, "model")?,
            dataset: find(&m.dataset, &self.datasets, "dataset")?,
            target: find(&m.target, &self.targets, "target")?,
            mode,
            at: raw.referenced,
        })
    }

    /// Thresholds in file order, each with its origin.
    fn thresholds(&self, raw: &RawThresholds) -> Result<Vec<Threshold>, ScenarioError> {
        let mut entries: Vec<_> = raw.iter().collect();
        entries.sort_by_key(|(k, _)| (k.referenced.line(), k.referenced.column()));
        entries
            .into_iter()
            .map(|(metric, text)| {
                threshold::check_metric(&metric.value)
                    .map_err(|e| self.error(metric.referenced, e.to_string()))?;
                let (op, expected) = threshold::parse(&metric.value, &text.value)
                    .map_err(|e| self.error(text.referenced, e.to_string()))?;
                Ok(Threshold {
                    metric: metric.value.clone(),
                    op,
                    expected,
                    origin: format!(
                        "{}:{}:{}",
                        self.path.display(),
                        metric.referenced.line(),
                        metric.referenced.column()
                    ),
                })
            })
            .collect()
    }
}

/// Replaces thresholds of the same metric, appends new ones.
fn merge(into: &mut Vec<Threshold>, extra: &[Threshold]) {
    for t in extra {
        match into.iter_mut().find(|have| have.metric == t.metric) {
            Some(have) => *have = t.clone(),
            None => into.push(t.clone()),
        }
    }
}
