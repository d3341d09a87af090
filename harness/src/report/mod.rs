//! The run report: one [`CellResult`] per (model × dataset × target × mode), written as
//! `report.json` (stable fields, docs/report-json.md) and `report.md`.

mod cell;
mod markdown;

use std::path::Path;

use serde::Serialize;

pub use cell::{CellContext, CellResult, Status};
pub use markdown::{summary_rows, to_markdown};

/// Bumped when a field changes meaning or disappears (adding fields does not bump it).
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub schema_version: u32,
    pub harbor_version: String,
    pub scenario: String,
    pub scenario_file: String,
    pub board: BoardSummary,
    pub jobs: usize,
    /// Wall-clock seconds of the replay (not deterministic, unlike everything in `results`).
    pub wall_s: f64,
    pub results: Vec<CellResult>,
}

/// The board figures latency and energy estimates rest on.
#[derive(Clone, Debug, Serialize)]
pub struct BoardSummary {
    pub name: String,
    pub clock_hz: Option<u64>,
    pub cycles_per_instruction: Option<f64>,
    pub cpi_source: Option<String>,
}

impl Report {
    /// Writes `report.json` and `report.md` into `dir` (created if missing).
    pub fn write(&self, dir: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        let json = serde_json::to_string_pretty(self).map_err(std::io::Error::other)?;
        std::fs::write(dir.join("report.json"), json + "\n")?;
        std::fs::write(dir.join("report.md"), to_markdown(self))
    }
}
