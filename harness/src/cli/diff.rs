//! `harbor diff <old.json> <new.json>`: per-cell metric deltas; exit 1 on a regression.

use std::path::{Path, PathBuf};

use clap::Args;

use super::{CliError, CliResult, Exit};
use crate::report::{Diff, Report, SCHEMA_VERSION, Tolerances, diff, diff_markdown};

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The baseline: a report.json, or a folder holding one.
    old: PathBuf,
    /// The report to judge against it.
    new: PathBuf,
    /// Override a tolerance: `metric=value`, absolute (`accuracy=0.01`) or relative
    /// (`flash_bytes=2%`); repeatable. Defaults in docs/reports.md.
    #[arg(long = "tolerance", value_name = "METRIC=VALUE")]
    tolerances: Vec<String>,
}

/// `path` itself, or `path/report.json` when it is a folder.
fn json_path(path: &Path) -> PathBuf {
    if path.is_dir() {
        path.join("report.json")
    } else {
        path.to_path_buf()
    }
}

/// Reads a report.json written by this schema version; anything else is a usage error (2).
pub fn read_report(path: &Path) -> Result<Report, CliError> {
    let path = json_path(path);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| CliError::usage(format!("{}: {e}", path.display())))?;
    let value: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| CliError::usage(format!("{}: not JSON: {e}", path.display())))?;
    match value
        .get("schema_version")
        .and_then(serde_json::Value::as_u64)
    {
        Some(v) if v == u64::from(SCHEMA_VERSION) => {}
        Some(v) => {
            return Err(CliError::usage(format!(
                "{}: schema_version {v}, this harbor reads {SCHEMA_VERSION}: re-run the scenario with this harbor",
                path.display()
            )));
        }
        None => {
            return Err(CliError::usage(format!(
                "{}: no schema_version: not a harbor report.json",
                path.display()
            )));
        }
    }
    Report::from_json(&text).map_err(|e| CliError::usage(format!("{}: {e}", path.display())))
}

pub fn tolerances(specs: &[String]) -> Result<Tolerances, CliError> {
    let mut t = Tolerances::default();
    for spec in specs {
        t.set(spec)
            .map_err(|e| CliError::usage(format!("--tolerance {e}")))?;
    }
    Ok(t)
}

/// Compares `new` with the baseline file at `baseline`.
pub fn against_baseline(
    baseline: &Path,
    new: &Report,
    tolerances: &Tolerances,
) -> Result<Diff, CliError> {
    let old = read_report(baseline)?;
    Ok(diff(
        &json_path(baseline).display().to_string(),
        &old,
        new,
        tolerances,
    ))
}

pub fn run(args: DiffArgs) -> CliResult {
    let tolerances = tolerances(&args.tolerances)?;
    let new = read_report(&args.new)?;
    let d = against_baseline(&args.old, &new, &tolerances)?;
    print!("{}", diff_markdown(&d));
    Ok(if d.has_regressions() {
        Exit::ChecksFailed
    } else {
        Exit::Ok
    })
}
