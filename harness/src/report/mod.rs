//! The run report: one [`CellResult`] per (model × dataset × target × mode) of a replay
//! scenario, or the cases of an OTA scenario ([`Report::ota`]), written as `report.json`
//! (stable fields, docs/report-json.md), `report.md`, `report.junit.xml` and `report.html`
//! (docs/reports.md).
//!
//! The numbers come from [`crate::metrics`]; this module compares and formats them.

mod diff;
mod html;
mod junit;
mod markdown;
mod merge;
mod ota;
mod plots;

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::board::BoardProfile;
use crate::ota::OtaResults;

pub use crate::metrics::{CellResult, CheckResult, CompareOp, Status, Tolerance};
pub use crate::shutdown::Stop;
pub use diff::{CellDiff, Diff, MetricDelta, Tolerances, TolerancesError, diff};
pub use html::{confusion_id, to_html};
pub use junit::{escape_xml, failure_message, to_junit};
pub use markdown::{diff_markdown, markdown_table, summary_rows, to_markdown};
pub use merge::{MergeError, merge};
pub use ota::markdown as ota_markdown;
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
    /// An OTA scenario's cases; absent for replay runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ota: Option<OtaResults>,
    /// `complete`, or `interrupted` when a signal stopped the run: the results then hold
    /// what completed before it.
    #[serde(default)]
    pub status: RunStatus,
    /// The signal that interrupted the run (`SIGINT`, `SIGTERM`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interrupted_by: Option<Stop>,
}

/// Whether a run went through all its cells or cases.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Every cell (or case) ran.
    #[default]
    Complete,
    /// A signal stopped the run; the cells it cut off are failed with kind `interrupted`.
    Interrupted,
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

impl BoardSummary {
    /// The figures of `board`.
    pub fn of(board: &BoardProfile) -> Self {
        BoardSummary {
            name: board.name.clone(),
            clock_hz: board.mcu.as_ref().map(|m| m.clock_hz),
            cycles_per_instruction: board.mcu.as_ref().map(|m| m.cycles_per_instruction),
            cpi_source: board.mcu.as_ref().map(|m| m.cpi_source.clone()),
        }
    }
}

impl Report {
    /// Reads a `report.json` back (for merge and diff).
    pub fn from_json(text: &str) -> serde_json::Result<Self> {
        serde_json::from_str(text)
    }

    /// Every cell passed every check, and every OTA case ended as expected.
    pub fn passed(&self) -> bool {
        self.status == RunStatus::Complete
            && self.results.iter().all(CellResult::passed)
            && self.ota.as_ref().is_none_or(|o| o.passed)
    }

    /// Whether the replay parts (summary, thresholds, plots) belong in the writers' output:
    /// not for a report that holds only OTA cases.
    pub fn has_replay(&self) -> bool {
        !self.results.is_empty() || self.ota.is_none()
    }

    /// Writes the four report files into `dir` (created if missing).
    pub fn write(&self, dir: &Path) -> std::io::Result<()> {
        self.write_with_baseline(dir, None)
    }

    /// Writes report.json, report.md, report.junit.xml and report.html into `dir`; a
    /// baseline comparison, if any, becomes a section of the Markdown and HTML.
    ///
    /// All four are rendered, then written to temp files in `dir`, then renamed into place
    /// ([`REPORT_FILES`] order, `report.json` last): a failure (a full disk) leaves no
    /// truncated file, and the error names the file.
    pub fn write_with_baseline(&self, dir: &Path, baseline: Option<&Diff>) -> std::io::Result<()> {
        std::fs::create_dir_all(dir).map_err(|e| naming(dir, e))?;
        let json = serde_json::to_string_pretty(self).map_err(std::io::Error::other)? + "\n";
        let html = to_html(self, baseline).map_err(std::io::Error::other)?;
        let contents = [to_markdown(self, baseline), to_junit(self), html, json];
        let mut staged = Vec::new();
        for (name, text) in REPORT_FILES.iter().zip(contents) {
            let path = dir.join(name);
            let file = stage(dir, name, text.as_bytes()).map_err(|e| naming(&path, e))?;
            staged.push((file, path));
        }
        for (file, path) in staged {
            file.persist(&path).map_err(|e| naming(&path, e.error))?;
        }
        Ok(())
    }
}

/// The files of a report set, in the order [`Report::write`] puts them in place.
pub const REPORT_FILES: [&str; 4] = [
    "report.md",
    "report.junit.xml",
    "report.html",
    "report.json",
];

/// `bytes` in a complete, synced temp file in `dir`, readable like any report file.
fn stage(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<tempfile::NamedTempFile> {
    use std::io::Write as _;
    use std::os::unix::fs::PermissionsExt as _;
    let mut file = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .tempfile_in(dir)?;
    file.write_all(bytes)?;
    file.as_file()
        .set_permissions(std::fs::Permissions::from_mode(0o644))?;
    file.as_file().sync_all()?;
    Ok(file)
}

/// `e` with `path` in front: which file failed.
fn naming(path: &Path, e: std::io::Error) -> std::io::Error {
    std::io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

impl Report {
    /// Checks, changing nothing, that [`Report::prepare_output`] can succeed: `dir` is a
    /// folder harbor can write in, or its nearest existing ancestor is one (the folders
    /// would be created). `harbor validate` and `harbor run` share it, so both reject an
    /// unwritable `--out` with the same message. The error names the folder.
    pub fn check_output(dir: &Path) -> std::io::Result<()> {
        let mut existing = dir;
        while !existing.as_os_str().is_empty() && !existing.exists() {
            existing = existing.parent().unwrap_or(Path::new(""));
        }
        let existing = if existing.as_os_str().is_empty() {
            Path::new(".")
        } else {
            existing
        };
        if !existing.is_dir() {
            let e = std::io::Error::new(std::io::ErrorKind::NotADirectory, "not a folder");
            return Err(naming(existing, e));
        }
        // An anonymous temporary file: proves a file can be made, leaves nothing behind.
        tempfile::tempfile_in(existing)
            .map(drop)
            .map_err(|e| naming(existing, e))
    }

    /// Checks `dir` can take a report set before a run (created if missing, a file can be
    /// made there) and removes an older set, so a run that fails later never leaves an
    /// older report looking current. The error names the folder or file.
    pub fn prepare_output(dir: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(dir).map_err(|e| naming(dir, e))?;
        tempfile::tempfile_in(dir).map_err(|e| naming(dir, e))?;
        Self::retire_older(dir)
    }

    /// Removes an older report set from `dir` (nothing else, and nothing is created): a run
    /// rejected before it starts must not leave the previous run's report looking current.
    pub fn retire_older(dir: &Path) -> std::io::Result<()> {
        for name in REPORT_FILES {
            let path = dir.join(name);
            match std::fs::remove_file(&path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(naming(&path, e)),
                _ => {}
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
