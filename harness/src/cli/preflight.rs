//! The checks `harbor validate` and `harbor run` share, in the same order and with the same
//! messages and exit codes, so validate rejects whatever run would reject before it starts
//! an emulator (docs/scenarios.md, "validate and run agree").

use std::path::{Path, PathBuf};

use super::CliError;
use crate::replay::RecordingCache;
use crate::report::Report;
use crate::scenario::Scenario;

/// `--max-windows`: a count of at least 1 (0 would replay nothing and pass).
pub fn max_windows_parser() -> clap::builder::RangedU64ValueParser<usize> {
    clap::builder::RangedU64ValueParser::<usize>::new().range(1..)
}

/// Every input the scenario needs (board, datasets and subjects, models, firmware images),
/// all problems at once, each at its place in the file (exit 2).
pub fn check_inputs(scenario: &Scenario) -> Result<(), CliError> {
    check_inputs_keeping(scenario, &RecordingCache::default())
}

/// [`check_inputs`], keeping the recordings it loads in `recordings` for the run.
pub fn check_inputs_keeping(
    scenario: &Scenario,
    recordings: &RecordingCache,
) -> Result<(), CliError> {
    let problems = scenario.check_inputs_with(recordings);
    if problems.is_empty() {
        return Ok(());
    }
    let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
    Err(CliError::usage(text.join("\nerror: ")))
}

/// The report folder: `--out`, else `reports/<scenario name>`.
pub fn output_dir(out: Option<&Path>, scenario: &Scenario) -> PathBuf {
    out.map_or_else(|| default_out(scenario.name()), Path::to_path_buf)
}

/// That the report folder can be written, changing nothing (exit 3).
pub fn check_output(out: &Path) -> Result<(), CliError> {
    Report::check_output(out).map_err(not_writable)
}

/// The message for a report folder that cannot take files.
pub fn not_writable(e: std::io::Error) -> CliError {
    CliError::infrastructure(format!("output folder not writable: {e}"))
}

/// `reports/<name>`, the name reduced to characters safe in a folder name.
fn default_out(name: &str) -> PathBuf {
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect();
    PathBuf::from("reports").join(safe.trim_start_matches('.'))
}

/// A flag of replay scenarios given for an OTA scenario (exit 2).
pub fn replay_only_flag(flag: &str, scenario: &Path) -> CliError {
    CliError::usage(format!(
        "{flag} applies to replay scenarios; {} is an OTA scenario",
        scenario.display()
    ))
}
