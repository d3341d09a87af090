//! `harbor validate <scenario.yaml>`: checks a scenario of any kind without running it, with
//! the checks `harbor run` makes before it starts anything (same messages, same exit codes).

use std::path::PathBuf;

use clap::Args;

use super::{CliError, CliResult, Exit, preflight};
use crate::scenario::Scenario;

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// The scenario file (e.g. scenarios/ci.yaml).
    scenario: PathBuf,
    /// The report folder `harbor run` would write (default reports/<scenario name>): checked
    /// writable, left unchanged.
    #[arg(long)]
    out: Option<PathBuf>,
    /// As `harbor run --max-windows`: at least 1, replay scenarios only.
    #[arg(long, value_parser = preflight::max_windows_parser())]
    max_windows: Option<usize>,
}

/// Exit 0 with the scenario's size; 2 with every problem at its `file:line:column`; 3 when
/// the report folder cannot be written.
pub fn run(args: &ValidateArgs) -> CliResult {
    let scenario = Scenario::load(&args.scenario).map_err(CliError::usage)?;
    if matches!(scenario, Scenario::Ota(_)) && args.max_windows.is_some() {
        return Err(preflight::replay_only_flag("--max-windows", &args.scenario));
    }
    preflight::check_inputs(&scenario)?;
    preflight::check_output(&preflight::output_dir(args.out.as_deref(), &scenario))?;
    match &scenario {
        Scenario::Replay(s) => {
            let thresholds: usize = s.cells.iter().map(|c| c.thresholds.len()).sum();
            println!(
                "{}: ok — {} models × {} datasets × {} targets × {} modes → {} cells, {} thresholds",
                args.scenario.display(),
                s.models.len(),
                s.datasets.len(),
                s.targets.len(),
                s.modes.len(),
                s.cells.len(),
                thresholds
            );
        }
        Scenario::Ota(s) => println!(
            "{}: ok — OTA scenario, {} cases",
            args.scenario.display(),
            s.cases.len()
        ),
    }
    Ok(Exit::Ok)
}
