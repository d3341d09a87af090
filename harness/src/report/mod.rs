//! The run report: one [`CellResult`] per (model × dataset × target × mode), written as
//! `report.json` (stable fields, docs/report-json.md), `report.md`, `report.junit.xml` and
//! `report.html` (docs/reports.md).
//!
//! The numbers come from [`crate::metrics`]; this module compares and formats them.

mod diff;
mod html;
mod junit;
mod markdown;
mod merge;
mod plots;

use std::path::Path;

use serde::{Deserialize, Serialize};

pub use crate::metrics::{CellResult, CheckResult, CompareOp, Status, Tolerance};
pub use diff::{CellDiff, Diff, MetricDelta, Tolerances, TolerancesError, diff};
pub use html::{confusion_id, to_html};
pub use junit::{escape_xml, failure_message, to_junit};
pub use markdown::{diff_markdown, markdown_table, summary_rows, to_markdown};
pub use merge::{MergeError, merge};
pub use plots::PlotError;

/// Bumped when a field changes meaning or disappears (adding fields does not bump it).
/// 2: `checks`, `window_selection` and `shard` (docs/report-json.md).
pub const SCHEMA_VERSION: u32 = 2;

/// A whole run: the scenario, the board, and one result per cell (report.json).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// [`SCHEMA_VERSION`] of the writer.
    pub schema_version: u32,
    /// The crate version that wrote the report.
    pub harbor_version: String,
    /// The scenario's `name`.
    pub scenario: String,
    /// The scenario file, as given.
    pub scenario_file: String,
    /// The board figures estimates rest on.
    pub board: BoardSummary,
    /// Devices that ran in parallel.
    pub jobs: usize,
    /// Set when this report holds one shard of the scenario's cells (`--shard i/n`).
    pub shard: Option<Shard>,
    /// Wall-clock seconds of the replay (not deterministic, unlike everything in `results`).
    pub wall_s: f64,
    /// One result per cell, in matrix order.
    pub results: Vec<CellResult>,
}

/// `index` of `count` (1-based): the cells whose position in matrix order is
/// `index - 1` modulo `count`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// This shard, from 1.
    pub index: usize,
    /// Shards in all.
    pub count: usize,
}

/// The board figures latency and energy estimates rest on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BoardSummary {
    /// Board profile name.
    pub name: String,
    /// CPU clock.
    pub clock_hz: Option<u64>,
    /// Cycles per instruction the latency estimate uses.
    pub cycles_per_instruction: Option<f64>,
    /// Where the CPI figure comes from.
    pub cpi_source: Option<String>,
}

impl Report {
    /// Reads a `report.json` back (for merge and diff).
    pub fn from_json(text: &str) -> serde_json::Result<Self> {
        serde_json::from_str(text)
    }

    /// Every cell passed every check.
    pub fn passed(&self) -> bool {
        self.results.iter().all(CellResult::passed)
    }

    /// Writes the four report files into `dir` (created if missing).
    pub fn write(&self, dir: &Path) -> std::io::Result<()> {
        self.write_with_baseline(dir, None)
    }

    /// Writes report.json, report.md, report.junit.xml and report.html into `dir`; a
    /// baseline comparison, if any, becomes a section of the Markdown and HTML.
    pub fn write_with_baseline(&self, dir: &Path, baseline: Option<&Diff>) -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        let json = serde_json::to_string_pretty(self).map_err(std::io::Error::other)?;
        std::fs::write(dir.join("report.json"), json + "\n")?;
        std::fs::write(dir.join("report.md"), to_markdown(self, baseline))?;
        std::fs::write(dir.join("report.junit.xml"), to_junit(self))?;
        let html = to_html(self, baseline).map_err(std::io::Error::other)?;
        std::fs::write(dir.join("report.html"), html)
    }
}

#[cfg(test)]
mod tests;
