//! A whole scenario: workloads, cells, the parallel replay, and the report.

use std::sync::Arc;
use std::time::Instant;

use crate::board::{BoardError, BoardProfile};
use crate::footprint::ElfSizes;
use crate::report::{BoardSummary, CellContext, CellResult, Report, SCHEMA_VERSION};
use crate::scenario::{Scenario, TargetKind};
use crate::target::QemuConfig;

use super::{CellPlan, Mode, ModelBundle, ReplayWindows, StreamWorkload, WorkloadError, run_cells};

/// Overrides of the scenario from the command line.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    pub jobs: Option<usize>,
    /// Caps every dataset's `max_windows`.
    pub max_windows: Option<usize>,
}

/// Reports progress to the caller (the CLI draws bars; tests stay quiet).
pub trait RunProgress: Send + Sync {
    fn stage(&self, _message: &str) {}
    fn start_replay(&self, _windows: u64) {}
    fn windows_done(&self, _n: u64) {}
}

pub struct Quiet;
impl RunProgress for Quiet {}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Board(#[from] BoardError),
    #[error(transparent)]
    Workload(#[from] WorkloadError),
    #[error("{0}")]
    Runtime(String),
}

/// Runs `scenario` and returns its report (not yet written anywhere).
pub fn run_scenario(
    scenario: &Scenario,
    options: &RunOptions,
    progress: Arc<dyn RunProgress>,
) -> Result<Report, RunError> {
    let board = BoardProfile::load(&scenario.board)?;
    let jobs = options.jobs.unwrap_or(scenario.jobs).max(1);

    let mut models = Vec::new();
    for m in &scenario.models {
        progress.stage(&format!("loading model {}", m.name));
        models.push(ModelBundle::load(&m.name, &m.dir)?);
    }
    // Windows per (model, dataset): each model has its own rate, window and classes.
    let mut workloads = Vec::new();
    let mut streams = Vec::new();
    let stream_mode = scenario.modes.contains(&Mode::Stream);
    for model in &models {
        for dataset in &scenario.datasets {
            progress.stage(&format!("preparing {} for {}", dataset.name, model.name));
            let mut entry = dataset.clone();
            if let Some(cap) = options.max_windows {
                entry.max_windows = Some(entry.max_windows.map_or(cap, |m| m.min(cap)));
            }
            workloads.push(ReplayWindows::build(model, &entry, &board)?);
            streams.push(if stream_mode {
                progress.stage(&format!("cutting {} into IMU-rate segments", dataset.name));
                Some(Arc::new(StreamWorkload::build(model, &entry, &board)?))
            } else {
                None
            });
        }
    }
    // An unreadable image loses the footprint figures only; launching reports it by name.
    let elf_sizes: Vec<Option<ElfSizes>> = scenario
        .targets
        .iter()
        .map(|t| ElfSizes::read(&t.firmware).ok())
        .collect();

    struct CellKey {
        model: usize,
        dataset: usize,
        target: usize,
        workload: usize,
    }
    let mut keys = Vec::new();
    let mut plans = Vec::new();
    for (mi, model) in models.iter().enumerate() {
        let model_bytes = Arc::new(model.host.model_bytes().to_vec());
        for di in 0..scenario.datasets.len() {
            let wi = mi * scenario.datasets.len() + di;
            let inputs = Arc::new(workloads[wi].int8.clone());
            for (ti, target) in scenario.targets.iter().enumerate() {
                let TargetKind::Qemu = target.kind;
                let mut config = QemuConfig::new(&target.firmware);
                config.boot_timeout = scenario.boot_timeout;
                config.exchange_timeout = scenario.exchange_timeout;
                for &mode in &scenario.modes {
                    keys.push(CellKey {
                        model: mi,
                        dataset: di,
                        target: ti,
                        workload: wi,
                    });
                    let stream = match mode {
                        Mode::Tensor => None,
                        Mode::Stream => streams[wi].clone(),
                    };
                    plans.push(CellPlan {
                        mode,
                        config: config.clone(),
                        model: model_bytes.clone(),
                        inputs: stream.as_ref().map_or_else(
                            || inputs.clone(),
                            |s: &Arc<StreamWorkload>| Arc::new(s.windows.int8.clone()),
                        ),
                        stream,
                    });
                }
            }
        }
    }

    let total: usize = plans.iter().map(|p| p.inputs.len()).sum();
    progress.start_replay(total as u64);
    let started = Instant::now();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| RunError::Runtime(format!("cannot start the async runtime: {e}")))?;
    let tick = progress.clone();
    let outcomes = runtime.block_on(run_cells(
        &plans,
        jobs,
        Arc::new(move |n| tick.windows_done(n)),
    ));
    let wall_s = started.elapsed().as_secs_f64();

    let results = keys
        .iter()
        .zip(&plans)
        .zip(&outcomes)
        .map(|((k, plan), outcome)| {
            let model = &models[k.model];
            CellResult::new(
                &CellContext {
                    model: &model.name,
                    target: &scenario.targets[k.target].name,
                    dataset: &scenario.datasets[k.dataset].name,
                    mode: plan.mode,
                    classes: &model.class_names,
                    windows: match (&plan.stream, plan.mode) {
                        (Some(s), Mode::Stream) => &s.windows,
                        _ => &workloads[k.workload],
                    },
                    board: &board,
                    elf: elf_sizes[k.target].as_ref(),
                    model_bytes: plan.model.len() as u64,
                    hop_s: model.hop_s(),
                },
                outcome,
            )
        })
        .collect();
    Ok(Report {
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
        shard: None,
        wall_s,
        results,
    })
}
