//! Shard reports (`harbor run --shard i/n`) back into one report of the whole matrix.
//!
//! Shard `i` of `n` holds the cells whose matrix position is `i - 1` modulo `n`, in matrix
//! order, so interleaving the shards round-robin restores the unsharded order exactly.

use super::{Report, RunStatus, Shard};

/// Why shard reports cannot be merged into one.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum MergeError {
    /// No report was given.
    #[error("no reports to merge")]
    Empty,
    /// A report without a `shard` field (the path).
    #[error(
        "{0} is not a shard report (it has no `shard`); merge takes the reports of `harbor run --shard i/n`"
    )]
    NotAShard(String),
    /// Shards split the matrix a different number of ways.
    #[error(
        "{path} is shard {index}/{count}, but {first} is shard of {first_count}: every shard must come from the same --shard …/n"
    )]
    CountMismatch {
        /// The report that differs.
        path: String,
        /// Its shard index.
        index: usize,
        /// Its shard count.
        count: usize,
        /// The first report.
        first: String,
        /// The first report's shard count.
        first_count: usize,
    },
    /// Shards come from different scenarios.
    #[error("{path} is from scenario `{scenario}`, {first} from `{first_scenario}`")]
    ScenarioMismatch {
        /// The report that differs.
        path: String,
        /// Its scenario.
        scenario: String,
        /// The first report.
        first: String,
        /// The first report's scenario.
        first_scenario: String,
    },
    /// Shards have different `schema_version`s.
    #[error("{path} has schema_version {version}, {first} has {first_version}")]
    SchemaMismatch {
        /// The report that differs.
        path: String,
        /// Its schema version.
        version: u32,
        /// The first report.
        first: String,
        /// The first report's schema version.
        first_version: u32,
    },
    /// The same shard was given twice.
    #[error("shard {index}/{count} appears twice: {a} and {b}")]
    Duplicate {
        /// Shard index.
        index: usize,
        /// Shard count.
        count: usize,
        /// One report.
        a: String,
        /// The other.
        b: String,
    },
    /// A shard of the split is not among the reports.
    #[error("shard {index}/{count} is missing")]
    Missing {
        /// Shard index.
        index: usize,
        /// Shard count.
        count: usize,
    },
    /// A shard holds another number of cells than its part of the matrix.
    #[error(
        "shard {index}/{count} ({path}) has {has} cells, but a {total}-cell matrix split {count} ways gives it {expected}"
    )]
    CellCount {
        /// Shard index.
        index: usize,
        /// Shard count.
        count: usize,
        /// The report.
        path: String,
        /// Cells it has.
        has: usize,
        /// Cells of the whole matrix.
        total: usize,
        /// Cells it should have.
        expected: usize,
    },
}

/// Merges `(source, report)` pairs, one per shard, in any order. The result has no `shard`,
/// the shards' largest `jobs` and the longest `wall_s` (shards run side by side).
pub fn merge(reports: Vec<(String, Report)>) -> Result<Report, MergeError> {
    let (first_path, first) = reports.first().ok_or(MergeError::Empty)?;
    let count = first
        .shard
        .ok_or_else(|| MergeError::NotAShard(first_path.clone()))?
        .count;
    let mut slots: Vec<Option<(String, Report)>> = vec![None; count];
    for (path, report) in &reports {
        let Some(Shard { index, count: c }) = report.shard else {
            return Err(MergeError::NotAShard(path.clone()));
        };
        if c != count || index == 0 || index > count {
            return Err(MergeError::CountMismatch {
                path: path.clone(),
                index,
                count: c,
                first: first_path.clone(),
                first_count: count,
            });
        }
        if report.scenario != first.scenario {
            return Err(MergeError::ScenarioMismatch {
                path: path.clone(),
                scenario: report.scenario.clone(),
                first: first_path.clone(),
                first_scenario: first.scenario.clone(),
            });
        }
        if report.schema_version != first.schema_version {
            return Err(MergeError::SchemaMismatch {
                path: path.clone(),
                version: report.schema_version,
                first: first_path.clone(),
                first_version: first.schema_version,
            });
        }
        if let Some((a, _)) = &slots[index - 1] {
            return Err(MergeError::Duplicate {
                index,
                count,
                a: a.clone(),
                b: path.clone(),
            });
        }
        slots[index - 1] = Some((path.clone(), report.clone()));
    }
    let shards: Vec<(String, Report)> = slots
        .into_iter()
        .enumerate()
        .map(|(i, s)| {
            s.ok_or(MergeError::Missing {
                index: i + 1,
                count,
            })
        })
        .collect::<Result<_, _>>()?;
    let total: usize = shards.iter().map(|(_, r)| r.results.len()).sum();
    for (i, (path, r)) in shards.iter().enumerate() {
        let expected = total.saturating_sub(i).div_ceil(count);
        if r.results.len() != expected {
            return Err(MergeError::CellCount {
                index: i + 1,
                count,
                path: path.clone(),
                has: r.results.len(),
                total,
                expected,
            });
        }
    }
    let mut merged = shards[0].1.clone();
    merged.shard = None;
    merged.jobs = shards
        .iter()
        .map(|(_, r)| r.jobs)
        .max()
        .unwrap_or(merged.jobs);
    merged.wall_s = shards.iter().map(|(_, r)| r.wall_s).fold(0.0, f64::max);
    if let Some(cut) = shards
        .iter()
        .find(|(_, r)| r.status == RunStatus::Interrupted)
    {
        merged.status = RunStatus::Interrupted;
        merged.interrupted_by = cut.1.interrupted_by;
    }
    merged.results = (0..total)
        .map(|k| shards[k % count].1.results[k / count].clone())
        .collect();
    Ok(merged)
}
