//! `harbor validate <scenario.yaml>`: checks a scenario of any kind without running it.

use std::path::PathBuf;

use clap::Args;

use super::{CliError, CliResult, Exit};
use crate::scenario::Scenario;

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// The scenario file (e.g. scenarios/ci.yaml).
    scenario: PathBuf,
}

/// Exit 0 with the scenario's size, or 2 with every problem at its `file:line:column`.
pub fn run(args: &ValidateArgs) -> CliResult {
    let scenario = Scenario::load(&args.scenario).map_err(CliError::usage)?;
    let problems = scenario.check_inputs();
    if !problems.is_empty() {
        let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
        return Err(CliError::usage(text.join("\nerror: ")));
    }
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
