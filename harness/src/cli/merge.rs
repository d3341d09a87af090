//! `harbor merge <dir>... --out <dir>`: shard reports back into one, with all four outputs.

use std::path::PathBuf;

use clap::Args;

use super::diff::read_report;
use super::{CliError, CliResult, Exit};
use crate::report::merge;

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Shard report folders (or their report.json), one per shard, any order.
    #[arg(required = true)]
    shards: Vec<PathBuf>,
    /// Folder for the merged report.json, report.md, report.junit.xml and report.html.
    #[arg(long)]
    out: PathBuf,
}

pub fn run(args: MergeArgs) -> CliResult {
    let mut reports = Vec::new();
    for path in &args.shards {
        reports.push((path.display().to_string(), read_report(path)?));
    }
    let merged = merge(reports).map_err(CliError::usage)?;
    merged
        .write(&args.out)
        .map_err(|e| CliError::infrastructure(format!("{}: {e}", args.out.display())))?;
    println!(
        "merged {} shard(s), {} cell(s) into {}",
        args.shards.len(),
        merged.results.len(),
        args.out.display()
    );
    Ok(if merged.passed() {
        Exit::Ok
    } else {
        Exit::ChecksFailed
    })
}
