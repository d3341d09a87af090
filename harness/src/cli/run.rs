//! `harbor run <scenario.yaml>`: replay a scenario's matrix (or one shard of it), evaluate its
//! thresholds and write the reports; or run an OTA scenario's cases into the same report
//! files. `--dry-run` prints a replay scenario's expanded matrix instead.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use clap::Args;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

use super::{CliError, CliResult, Exit, preflight};
use crate::dut::TargetError;
use crate::npz::{self, NpyArray, NpyData};
use crate::ota::OtaError;
use crate::replay::{
    CellOutputs, RecordingCache, RunError, RunOptions, RunProgress, run_scenario_with_outputs,
};
use crate::report::{Report, Shard, summary_rows};
use crate::scenario::{OtaScenario, ReplayScenario, Scenario, parse_shard};

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The scenario file (e.g. scenarios/ci.yaml).
    scenario: PathBuf,
    /// Folder for the reports (report.json, report.md, ...); default reports/<scenario name>.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Emulators in parallel (default: the scenario's `jobs`). Results do not depend on it.
    #[arg(long)]
    jobs: Option<usize>,
    /// Replay at most this many windows per dataset (evenly spread), e.g. for a smoke test.
    #[arg(long, value_parser = preflight::max_windows_parser())]
    max_windows: Option<usize>,
    /// Run only shard i of n (1-based): the matrix cells whose position is i-1 modulo n.
    #[arg(long, value_name = "i/n", value_parser = parse_shard)]
    shard: Option<Shard>,
    /// Print the expanded matrix (one cell id per line, with its thresholds); run nothing.
    #[arg(long)]
    dry_run: bool,
    /// Compare with this earlier report.json (or its folder) after the run: the deltas go into
    /// the reports, and a regression beyond tolerance exits 1 (docs/reports.md).
    #[arg(long, value_name = "JSON")]
    baseline: Option<PathBuf>,
    /// Also write each cell's per-window int8 device outputs as .npy, [windows, outputs], in
    /// `outputs/` beside report.json (one file per cell, named after its id).
    #[arg(long)]
    save_outputs: bool,
    /// With --baseline: override a tolerance, `metric=value` or `metric=N%`; repeatable.
    #[arg(long = "tolerance", value_name = "METRIC=VALUE", requires = "baseline")]
    tolerances: Vec<String>,
}

/// Stage messages, one bar per matrix cell and an overall bar, on stderr (hidden when
/// stderr is not a terminal).
struct Bars {
    multi: MultiProgress,
    stage: ProgressBar,
    cells: Mutex<Vec<ProgressBar>>,
    total: Mutex<Option<ProgressBar>>,
}

impl Bars {
    fn new() -> Self {
        let multi = MultiProgress::new();
        let stage = multi.add(ProgressBar::new_spinner());
        stage
            .set_style(ProgressStyle::with_template("  {spinner} {msg}").expect("static template"));
        Bars {
            multi,
            stage,
            cells: Mutex::new(Vec::new()),
            total: Mutex::new(None),
        }
    }

    fn finish(&self) {
        self.stage.finish_and_clear();
        for bar in self
            .cells
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
        {
            bar.finish_and_clear();
        }
        if let Some(total) = self
            .total
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
        {
            total.finish_and_clear();
        }
    }
}

impl RunProgress for Bars {
    fn stage(&self, message: &str) {
        self.stage.set_message(message.to_string());
        self.stage.tick();
    }

    fn start_replay(&self, cells: &[(String, u64)]) {
        self.stage.finish_and_clear();
        let style = |template: &str| {
            ProgressStyle::with_template(template)
                .expect("static template")
                .progress_chars("=> ")
        };
        let width = cells.iter().map(|(id, _)| id.len()).max().unwrap_or(0);
        let bars = cells
            .iter()
            .map(|(id, windows)| {
                let bar = self.multi.add(ProgressBar::new(*windows));
                bar.set_style(style("  {prefix} [{bar:24}] {pos}/{len} windows eta {eta}"));
                bar.set_prefix(format!("{id:<width$}"));
                bar
            })
            .collect();
        *self.cells.lock().unwrap_or_else(PoisonError::into_inner) = bars;
        let total = self
            .multi
            .add(ProgressBar::new(cells.iter().map(|(_, n)| n).sum()));
        total.set_style(style(
            "  all cells [{bar:24}] {pos}/{len} windows {per_sec} eta {eta}",
        ));
        *self.total.lock().unwrap_or_else(PoisonError::into_inner) = Some(total);
    }

    fn windows_done(&self, cell: usize, n: u64) {
        if let Some(bar) = self
            .cells
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(cell)
        {
            bar.inc(n);
        }
        if let Some(total) = self
            .total
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
        {
            total.inc(n);
        }
    }
}

pub fn run(args: RunArgs) -> CliResult {
    let loaded = Scenario::load(&args.scenario).map_err(CliError::usage)?;
    let scenario = match &loaded {
        Scenario::Replay(s) => s,
        Scenario::Ota(s) => return run_ota(s, &loaded, args),
    };
    if args.jobs == Some(0) {
        return Err(CliError::usage("--jobs must be at least 1"));
    }
    if args.dry_run {
        print_matrix(scenario, args.shard);
        return Ok(Exit::Ok);
    }
    // Read the baseline before replaying anything: a bad one is a usage error, not a late surprise.
    let baseline = match &args.baseline {
        Some(path) => Some((path, super::diff::read_report(path)?)),
        None => None,
    };
    let tolerances = super::diff::tolerances(&args.tolerances)?;
    // What validate checks, in its order: nothing starts before the inputs are known good.
    let recordings = Arc::new(RecordingCache::default());
    let out = preflight::output_dir(args.out.as_deref(), &loaded);
    preflight::check_inputs_keeping(&loaded, &recordings).inspect_err(|_| retire_older(&out))?;
    preflight::check_output(&out)?;
    prepare_output(&out)?;
    let bars = Arc::new(Bars::new());
    let options = RunOptions {
        jobs: args.jobs,
        max_windows: args.max_windows,
        shard: args.shard,
        stop_on_signals: true,
        recordings,
    };
    let (report, outputs) =
        run_scenario_with_outputs(scenario, &options, bars.clone()).map_err(|e| match e {
            RunError::Runtime(_) => CliError::infrastructure(e),
            _ => CliError::usage(e),
        })?;
    bars.finish();
    let comparison = baseline.map(|(path, old)| {
        crate::report::diff(&path.display().to_string(), &old, &report, &tolerances)
    });
    let written = report.write_with_baseline(&out, comparison.as_ref());
    // The summary reaches stdout even when the files cannot be written.
    if args.save_outputs && written.is_ok() {
        save_outputs(&out, &outputs)?;
    }
    print_summary(&report);
    if let Some(comparison) = &comparison {
        out!("{}", crate::report::diff_markdown(comparison));
    }
    written.map_err(not_written)?;
    outln!("wrote {}", out.join("report.json").display());
    if let Some(stop) = report.interrupted_by {
        return Ok(interrupted(stop));
    }
    let exit = exit_of(&report);
    Ok(match &comparison {
        Some(c) if c.has_regressions() && exit == Exit::Ok => Exit::ChecksFailed,
        _ => exit,
    })
}

/// An OTA scenario: every input checked first, then its cases into the report files.
fn run_ota(scenario: &OtaScenario, loaded: &Scenario, args: RunArgs) -> CliResult {
    let replay_only = [
        ("--jobs", args.jobs.is_some()),
        ("--max-windows", args.max_windows.is_some()),
        ("--shard", args.shard.is_some()),
        ("--dry-run", args.dry_run),
        ("--baseline", args.baseline.is_some()),
        ("--save-outputs", args.save_outputs),
    ];
    if let Some((flag, _)) = replay_only.iter().find(|(_, given)| *given) {
        return Err(preflight::replay_only_flag(flag, &args.scenario));
    }
    let out = preflight::output_dir(args.out.as_deref(), loaded);
    preflight::check_inputs(loaded).inspect_err(|_| retire_older(&out))?;
    preflight::check_output(&out)?;
    prepare_output(&out)?;
    let report = crate::ota::run_report(scenario, true).map_err(|e| match e {
        OtaError::Board(_)
        | OtaError::Io { .. }
        | OtaError::Release(_)
        | OtaError::HardwareId(_)
        | OtaError::NeedsBand(_)
        | OtaError::Model(_) => CliError::usage(e),
        _ => CliError::infrastructure(e),
    })?;
    let written = report.write(&out);
    if let Some(ota) = &report.ota {
        out!("{}", crate::report::ota_markdown(ota));
    }
    written.map_err(not_written)?;
    outln!("wrote {}", out.join("report.json").display());
    if let Some(stop) = report.interrupted_by {
        return Ok(interrupted(stop));
    }
    let infrastructure = report.ota.iter().flat_map(|o| o.infrastructure_errors());
    let mut exit = if report.passed() {
        Exit::Ok
    } else {
        Exit::ChecksFailed
    };
    for case in infrastructure {
        let message = case
            .infrastructure_error
            .as_ref()
            .map(|e| e.message.as_str());
        eprintln!(
            "harbor: case `{}`: infrastructure error: {}",
            case.name,
            message.unwrap_or_default()
        );
        exit = Exit::Infrastructure;
    }
    Ok(exit)
}

/// Before anything runs: `out` takes files (exit 3 if not), and an older report set there
/// is gone, so a run that fails later cannot leave it looking current.
fn prepare_output(out: &std::path::Path) -> Result<(), CliError> {
    Report::prepare_output(out).map_err(preflight::not_writable)
}

/// A rejected run leaves no older report looking current. Best effort: the rejection is
/// what the user needs to read, and an unwritable folder is reported by its own check.
fn retire_older(out: &std::path::Path) {
    let _ = Report::retire_older(out);
}

/// A report set that could not be written (exit 3): the error names the file.
fn not_written(e: std::io::Error) -> CliError {
    CliError::infrastructure(format!("writing the report: {e}"))
}

/// Says a signal stopped the run; its exit code (130 or 143).
fn interrupted(stop: crate::shutdown::Stop) -> Exit {
    eprintln!("harbor: {stop} stopped the run; the report holds what completed before it");
    Exit::from(stop)
}

/// The folder `--save-outputs` writes into, beside report.json.
pub const OUTPUTS_DIR: &str = "outputs";

/// One `.npy` per cell whose every window answered: `outputs/<model>__<dataset>__<target>__<mode>.npy`.
/// A cell with unanswered windows is named on stdout and not written (its rows would not line
/// up with its windows).
fn save_outputs(out: &std::path::Path, cells: &[CellOutputs]) -> Result<(), CliError> {
    let dir = out.join(OUTPUTS_DIR);
    std::fs::create_dir_all(&dir)
        .map_err(|e| CliError::infrastructure(format!("{}: {e}", dir.display())))?;
    for cell in cells {
        let rows: Option<Vec<&Vec<i8>>> = cell.outputs.iter().map(Option::as_ref).collect();
        let Some(rows) = rows else {
            let missing = cell.outputs.iter().filter(|o| o.is_none()).count();
            outln!(
                "{}: outputs not saved: {missing} of {} windows got no answer",
                cell.id,
                cell.outputs.len()
            );
            continue;
        };
        let values = rows.first().map_or(0, |r| r.len());
        let data: Vec<i8> = rows.iter().flat_map(|r| r.iter().copied()).collect();
        let path = dir.join(format!("{}.npy", cell.id.replace('/', "__")));
        let array = NpyArray::new(vec![rows.len(), values], NpyData::I8(data))
            .map_err(|e| CliError::infrastructure(format!("{}: {e}", path.display())))?;
        npz::write_npy(&path, &array).map_err(CliError::infrastructure)?;
    }
    outln!("wrote per-window device outputs to {}", dir.display());
    Ok(())
}

/// `--dry-run`: the cells this run (or shard) would replay, with their thresholds.
fn print_matrix(scenario: &ReplayScenario, shard: Option<Shard>) {
    let cells = scenario.shard_cells(shard);
    let shard_note = shard.map_or_else(String::new, |s| {
        format!(
            " (shard {}/{} of {})",
            s.index,
            s.count,
            scenario.cells.len()
        )
    });
    outln!("{}: {} cells{shard_note}", scenario.name, cells.len());
    for cell in &cells {
        let thresholds: Vec<String> = cell
            .thresholds
            .iter()
            .map(|t| format!("{} {} {}", t.metric, t.op, t.expected))
            .collect();
        outln!(
            "{}  [{}]",
            scenario.cell_id(cell),
            if thresholds.is_empty() {
                "status ok only".to_string()
            } else {
                thresholds.join(", ")
            }
        );
    }
}

/// The summary table, every failure and failed check, and the verdict.
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
        outln!("{}", cells.join("  ").trim_end());
    }
    for r in &report.results {
        for f in &r.failures {
            outln!("{}: {} — {}", r.id(), f.kind, f.message);
        }
        for c in r.checks.iter().filter(|c| !c.passed) {
            outln!("{}: {c}", r.id());
        }
    }
    let checks: Vec<_> = report.results.iter().flat_map(|r| &r.checks).collect();
    let failed_cells: BTreeMap<String, usize> = report
        .results
        .iter()
        .filter(|r| !r.passed())
        .map(|r| (r.id(), r.checks.iter().filter(|c| !c.passed).count()))
        .collect();
    outln!(
        "{} of {} checks passed; {} of {} cells passed{}",
        checks.iter().filter(|c| c.passed).count(),
        checks.len(),
        report.results.len() - failed_cells.len(),
        report.results.len(),
        report
            .shard
            .map_or_else(String::new, |s| format!(" (shard {}/{})", s.index, s.count))
    );
    outln!(
        "latencies are estimates at the board's clock and CPI; {:.1} s wall with {} emulator(s)",
        report.wall_s,
        report.jobs
    );
}

/// 3 when the emulator, firmware or board's port is missing, 1 when a cell failed a check, else 0.
fn exit_of(report: &Report) -> Exit {
    let failures = || report.results.iter().flat_map(|r| &r.failures);
    if failures().any(|f| TargetError::INFRASTRUCTURE_KINDS.contains(&f.kind.as_str())) {
        Exit::Infrastructure
    } else if report.passed() {
        Exit::Ok
    } else {
        Exit::ChecksFailed
    }
}
