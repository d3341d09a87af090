//! `harbor run <scenario.yaml> --out <dir>`: replay a scenario and write report.json/.md.

use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use super::{CliError, CliResult, Exit};
use crate::replay::{RunError, RunOptions, RunProgress, run_scenario};
use crate::report::{Report, Status, summary_rows};
use crate::scenario::Scenario;

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The scenario file (e.g. scenarios/quickstart.yaml).
    scenario: PathBuf,
    /// Folder for report.json and report.md.
    #[arg(long)]
    out: PathBuf,
    /// Emulators in parallel (default: the scenario's `jobs`). Results do not depend on it.
    #[arg(long)]
    jobs: Option<usize>,
    /// Replay at most this many windows per dataset (evenly spread), e.g. for a smoke test.
    #[arg(long)]
    max_windows: Option<usize>,
}

/// Stage messages and a window bar on stderr (hidden when it is not a terminal).
struct Bars {
    bar: ProgressBar,
}

impl RunProgress for Bars {
    fn stage(&self, message: &str) {
        self.bar.set_message(message.to_string());
        self.bar.tick();
    }

    fn start_replay(&self, windows: u64) {
        self.bar.set_style(
            ProgressStyle::with_template(
                "  replaying [{bar:30}] {pos}/{len} windows {per_sec} eta {eta}",
            )
            .expect("static template")
            .progress_chars("=> "),
        );
        self.bar.set_length(windows);
    }

    fn windows_done(&self, n: u64) {
        self.bar.inc(n);
    }
}

pub fn run(args: RunArgs) -> CliResult {
    let scenario = Scenario::load(&args.scenario).map_err(CliError::usage)?;
    if args.jobs == Some(0) {
        return Err(CliError::usage("--jobs must be at least 1"));
    }
    for target in &scenario.targets {
        if !target.firmware.is_file() {
            return Err(CliError::infrastructure(format!(
                "target `{}`: firmware image {} does not exist: run scripts/build-firmware",
                target.name,
                target.firmware.display()
            )));
        }
    }
    let bar = ProgressBar::new_spinner();
    bar.set_style(ProgressStyle::with_template("  {spinner} {msg}").expect("static template"));
    let bars = Arc::new(Bars { bar: bar.clone() });
    let options = RunOptions {
        jobs: args.jobs,
        max_windows: args.max_windows,
    };
    let report = run_scenario(&scenario, &options, bars).map_err(|e| match e {
        RunError::Runtime(_) => CliError::infrastructure(e),
        _ => CliError::usage(e),
    })?;
    bar.finish_and_clear();
    report
        .write(&args.out)
        .map_err(|e| CliError::infrastructure(format!("{}: {e}", args.out.display())))?;
    print_summary(&report);
    println!(
        "wrote {} and report.md",
        args.out.join("report.json").display()
    );
    Ok(exit_of(&report))
}

fn print_summary(report: &Report) {
    let rows = summary_rows(&report.results);
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    for row in &rows {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(v, w)| format!("{v:<w$}"))
            .collect();
        println!("{}", cells.join("  ").trim_end());
    }
    for r in &report.results {
        for f in &r.failures {
            println!(
                "{} · {} · {} · {}: {} — {}",
                r.model,
                r.dataset,
                r.target,
                r.mode.name(),
                f.kind,
                f.message
            );
        }
    }
    println!(
        "latencies are estimates at the board's clock and CPI; {:.1} s wall with {} emulator(s)",
        report.wall_s, report.jobs
    );
}

/// 3 when the emulator itself is missing, 1 when any cell did not complete, else 0.
fn exit_of(report: &Report) -> Exit {
    let failures = || report.results.iter().flat_map(|r| &r.failures);
    if failures().any(|f| {
        matches!(
            f.kind.as_str(),
            "emulator-missing" | "emulator-failed" | "firmware-missing"
        )
    }) {
        Exit::Infrastructure
    } else if report.results.iter().any(|r| r.status != Status::Ok) {
        Exit::ChecksFailed
    } else {
        Exit::Ok
    }
}
