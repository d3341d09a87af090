//! `harbor validate <scenario.yaml>`: checks a scenario without running it.

use std::path::PathBuf;

use clap::Args;

use super::{CliError, CliResult, Exit};
use crate::scenario::Scenario;

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// The scenario file (e.g. scenarios/ci.yaml).
    scenario: PathBuf,
}

/// Exit 0 with the matrix size, or 2 with every problem at its `file:line:column`.
pub fn run(args: &ValidateArgs) -> CliResult {
    // `kind: ota` scenarios have their own schema (harbor::ota::scenario, docs/cloud.md).
    if crate::ota::scenario::is_ota_scenario(&args.scenario) {
        let ota =
            crate::ota::scenario::OtaScenario::load(&args.scenario).map_err(CliError::usage)?;
        println!(
            "{}: ok — OTA scenario, {} cases",
            args.scenario.display(),
            ota.cases.len()
        );
        return Ok(Exit::Ok);
    }
    let scenario = Scenario::load(&args.scenario).map_err(CliError::usage)?;
    let problems = scenario.check_inputs();
    if !problems.is_empty() {
        let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
        return Err(CliError::usage(text.join("\nerror: ")));
    }
    let thresholds: usize = scenario.cells.iter().map(|c| c.thresholds.len()).sum();
    println!(
        "{}: ok — {} models × {} datasets × {} targets × {} modes → {} cells, {} thresholds",
        args.scenario.display(),
        scenario.models.len(),
        scenario.datasets.len(),
        scenario.targets.len(),
        scenario.modes.len(),
        scenario.cells.len(),
        thresholds
    );
    Ok(Exit::Ok)
}
