//! A whole scenario: the expanded matrix (or one shard of it), workloads, the parallel
//! replay, the report and its threshold checks.

use std::sync::Arc;
use std::time::Instant;

use crate::board::{BoardError, BoardProfile};
use crate::dut::DeviceConfig;
use crate::dut::mlperf::OutputFormat;
use crate::metrics::{CellContext, CellResult, CheckResult, ElfSizes, FloatOutputCheck};
use crate::report::{BoardSummary, Report, RunStatus, SCHEMA_VERSION, Shard};
use crate::scenario::{ReplayScenario, Threshold};
use crate::shutdown::StopSignal;

use super::{
    CellPlan, Mode, ModelBundle, RecordingCache, ReplayWindows, StreamWorkload, WorkloadError,
    run_cells,
};

/// Overrides of the scenario from the command line.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Parallel devices (`--jobs`); `None`: the scenario's or the default.
    pub jobs: Option<usize>,
    /// Caps every dataset's `max_windows`.
    pub max_windows: Option<usize>,
    /// Run only this shard of the expanded matrix (`--shard i/n`).
    pub shard: Option<Shard>,
    /// Stop on SIGINT or SIGTERM during the replay (the CLI): emulators are stopped and the
    /// report holds what completed, `status: interrupted`. Off, the process keeps its
    /// default signal handling.
    pub stop_on_signals: bool,
    /// Recordings already loaded (by the preflight's checks): the replay loads the rest
    /// through it and frees them once its workloads are built.
    pub recordings: Arc<RecordingCache>,
}

/// Reports progress to the caller (the CLI draws bars; tests stay quiet).
pub trait RunProgress: Send + Sync {
    /// A new stage of the run began (e.g. preparing windows).
    fn stage(&self, _message: &str) {}
    /// The cells about to run, in report order: id and windows of each.
    fn start_replay(&self, _cells: &[(String, u64)]) {}
    /// `n` more windows of cell `cell` (an index into `start_replay`'s list) finished.
    fn windows_done(&self, _cell: usize, _n: u64) {}
}

/// A [`RunProgress`] that reports nothing.
pub struct Quiet;
impl RunProgress for Quiet {}

/// Why a replay scenario could not run.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// A board profile could not be loaded.
    #[error(transparent)]
    Board(#[from] BoardError),
    /// A model or the windows could not be prepared.
    #[error(transparent)]
    Workload(#[from] WorkloadError),
    /// The async runtime or a worker failed (the reason).
    #[error("{0}")]
    Runtime(String),
}

/// Runs `scenario` (its shard, if any) and returns its report, every threshold evaluated.
pub fn run_scenario(
    scenario: &ReplayScenario,
    options: &RunOptions,
    progress: Arc<dyn RunProgress>,
) -> Result<Report, RunError> {
    run_scenario_with_outputs(scenario, options, progress).map(|(report, _)| report)
}

/// One cell's per-window device outputs (`None`: the window got no answer).
#[derive(Clone, Debug)]
pub struct CellOutputs {
    /// The cell id (`model/dataset/target/mode`).
    pub id: String,
    /// The int8 outputs, in window order.
    pub outputs: Vec<Option<Vec<i8>>>,
}

/// [`run_scenario`], also returning every cell's per-window device outputs, in report order.
pub fn run_scenario_with_outputs(
    scenario: &ReplayScenario,
    options: &RunOptions,
    progress: Arc<dyn RunProgress>,
) -> Result<(Report, Vec<CellOutputs>), RunError> {
    let board = BoardProfile::load(&scenario.board)?;
    let jobs = options.jobs.unwrap_or(scenario.jobs).max(1);
    let cells = scenario.shard_cells(options.shard);

    let mut models = Vec::new();
    for m in &scenario.models {
        progress.stage(&format!("loading model {}", m.name));
        models.push(ModelBundle::load_entry(m, &board)?);
    }
    // Windows per (model, dataset) some cell of this run needs: each model has its own
    // rate, window and classes.
    let n_datasets = scenario.datasets.len();
    let mut workloads: Vec<Option<ReplayWindows>> = Vec::new();
    let mut streams: Vec<Option<Arc<StreamWorkload>>> = Vec::new();
    for (mi, model) in models.iter().enumerate() {
        for (di, dataset) in scenario.datasets.iter().enumerate() {
            let needs = |mode: Mode| {
                cells
                    .iter()
                    .any(|c| c.model == mi && c.dataset == di && c.mode == mode)
            };
            let mut entry = dataset.clone();
            if let Some(cap) = options.max_windows {
                entry.max_windows = Some(entry.max_windows.map_or(cap, |m| m.min(cap)));
            }
            workloads.push(if needs(Mode::Tensor) {
                progress.stage(&format!("preparing {} for {}", dataset.name, model.name));
                Some(ReplayWindows::build(
                    model,
                    &entry,
                    &board,
                    &options.recordings,
                )?)
            } else {
                None
            });
            streams.push(if needs(Mode::Stream) {
                progress.stage(&format!("cutting {} into IMU-rate segments", dataset.name));
                Some(Arc::new(StreamWorkload::build(
                    model,
                    &entry,
                    &board,
                    &options.recordings,
                )?))
            } else {
                None
            });
        }
    }
    options.recordings.clear();
    // An unreadable image loses the footprint figures only; launching reports it by name.
    let elf_sizes: Vec<Option<ElfSizes>> = scenario
        .targets
        .iter()
        .map(|t| ElfSizes::read(&t.firmware).ok())
        .collect();

    let model_bytes: Vec<Arc<Vec<u8>>> = models
        .iter()
        .map(|m| Arc::new(m.host.model_bytes().to_vec()))
        .collect();
    let tensor_inputs: Vec<Option<Arc<Vec<Vec<i8>>>>> = workloads
        .iter()
        .map(|w| w.as_ref().map(|w| Arc::new(w.int8.clone())))
        .collect();
    let plans: Vec<CellPlan> = cells
        .iter()
        .map(|cell| {
            let wi = cell.model * n_datasets + cell.dataset;
            let target = &scenario.targets[cell.target];
            let mut config = target.device.clone();
            config.set_timeouts(scenario.boot_timeout, scenario.exchange_timeout);
            let stream = match cell.mode {
                Mode::Tensor => None,
                Mode::Stream => streams[wi].clone(),
            };
            let inputs = match &stream {
                Some(s) => Arc::new(s.windows.int8.clone()),
                None => tensor_inputs[wi]
                    .clone()
                    .expect("built for every tensor cell"),
            };
            CellPlan {
                mode: cell.mode,
                config,
                model: model_bytes[cell.model].clone(),
                inputs,
                stream,
            }
        })
        .collect();

    let listing: Vec<(String, u64)> = cells
        .iter()
        .zip(&plans)
        .map(|(c, p)| (scenario.cell_id(c), p.inputs.len() as u64))
        .collect();
    progress.start_replay(&listing);
    let started = Instant::now();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| RunError::Runtime(format!("cannot start the async runtime: {e}")))?;
    let tick = progress.clone();
    let (outcomes, interrupted_by) = runtime.block_on(async {
        let stop = if options.stop_on_signals {
            StopSignal::listen()
                .map_err(|e| RunError::Runtime(format!("cannot watch for signals: {e}")))?
        } else {
            StopSignal::never()
        };
        let progress = Arc::new(move |cell, n| tick.windows_done(cell, n));
        let outcomes = run_cells(&plans, jobs, progress, &stop).await;
        Ok::<_, RunError>((outcomes, stop.get()))
    })?;
    let wall_s = started.elapsed().as_secs_f64();

    let results = cells
        .iter()
        .zip(&plans)
        .zip(&outcomes)
        .map(|((cell, plan), outcome)| {
            let model = &models[cell.model];
            let wi = cell.model * n_datasets + cell.dataset;
            let mut result = CellResult::new(
                &CellContext {
                    model: &model.name,
                    target: &scenario.targets[cell.target].name,
                    dataset: &scenario.datasets[cell.dataset].name,
                    mode: plan.mode,
                    classes: &model.class_names,
                    windows: match &plan.stream {
                        Some(s) => &s.windows,
                        None => workloads[wi].as_ref().expect("built for every tensor cell"),
                    }
                    .scored(),
                    board: &board,
                    elf: elf_sizes[cell.target].as_ref(),
                    model_bytes: plan.model.len() as u64,
                    hop_s: model.hop_s(),
                    float_outputs: float_outputs(&plan.config, model),
                },
                outcome,
            );
            result.checks = evaluate(&result, &cell.thresholds);
            result
        })
        .collect();
    let outputs = cells
        .iter()
        .zip(&outcomes)
        .map(|(cell, outcome)| CellOutputs {
            id: scenario.cell_id(cell),
            outputs: outcome
                .inferences
                .iter()
                .map(|i| i.as_ref().map(|i| i.logits.clone()))
                .collect(),
        })
        .collect();
    let report = Report {
        schema_version: SCHEMA_VERSION,
        harbor_version: env!("CARGO_PKG_VERSION").to_string(),
        scenario: scenario.name.clone(),
        scenario_file: scenario.path.display().to_string(),
        board: BoardSummary {
            name: board.name.clone(),
            clock_hz: board.mcu.as_ref().map(|m| m.clock_hz),
            cycles_per_instruction: board.mcu.as_ref().map(|m| m.cycles_per_instruction),
            cpi_source: board.mcu.as_ref().map(|m| m.cpi_source.clone()),
        },
        jobs,
        shard: options.shard,
        wall_s,
        results,
        ota: None,
        status: match interrupted_by {
            Some(_) => RunStatus::Interrupted,
            None => RunStatus::Complete,
        },
        interrupted_by,
    };
    Ok((report, outputs))
}

/// The comparison for a device that prints dequantized floats (`kind: mlperf`).
fn float_outputs(config: &DeviceConfig, model: &ModelBundle) -> Option<FloatOutputCheck> {
    match config {
        DeviceConfig::Mlperf(c) if c.format.outputs == OutputFormat::Float => {
            let output = model.host.output();
            Some(FloatOutputCheck {
                scale: output.scale,
                zero_point: output.zero_point,
                tolerance: c.format.tolerance,
            })
        }
        _ => None,
    }
}

/// The implicit `status_ok` check, then the cell's thresholds in scenario order.
pub fn evaluate(cell: &CellResult, thresholds: &[Threshold]) -> Vec<CheckResult> {
    std::iter::once(CheckResult::status_ok(cell))
        .chain(
            thresholds.iter().map(|t| {
                CheckResult::evaluate(cell, &t.metric, t.op, t.expected, t.origin.clone())
            }),
        )
        .collect()
}
