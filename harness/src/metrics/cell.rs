//! One result row: metrics of a cell computed from the device's answers and the references.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{
    CellOutcome, CheckResult, Confusion, ElfSizes, EnergyEstimate, FloatOutputCheck, Footprint,
    InstructionStats, Int8Mismatch, ShardFailure, agreement_float, float_output_agreement,
    int8_agreement,
};
use crate::board::BoardProfile;
use crate::dut::Inference;
use crate::scenario::Mode;

/// How a cell ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Every window has a device result.
    Ok,
    /// Some windows failed (see `failures`); metrics cover the completed ones.
    Partial,
    /// No window completed.
    Failed,
    /// The firmware cannot run this mode.
    Unsupported,
}

/// One cell's result: what ran, how it ended, and every metric (report.json's `results`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CellResult {
    /// Model directory name.
    pub model: String,
    /// Scenario target name.
    pub target: String,
    /// Scenario dataset name.
    pub dataset: String,
    /// Tensor or stream.
    pub mode: Mode,
    /// How the cell ended.
    pub status: Status,
    /// Windows sent (or meant to be sent) to the device.
    pub windows: usize,
    /// Windows with a device result (the metrics cover these).
    pub windows_completed: usize,
    /// Windows of the model's classes in the slice before `max_windows` thinned them.
    pub windows_available: usize,
    /// Stream mode: windows the device inferred that carry no host label (not scored).
    pub windows_unscored: u64,
    /// Which windows of the slice were replayed: `all`, `evenly_spread` (tensor mode thinned
    /// to `max_windows`) or `whole_segments` (stream mode: whole segments from the slice's
    /// start). Tensor and stream cells of one slice score different windows.
    pub window_selection: String,
    /// Windows of activities outside the model's classes (not replayed), by activity.
    pub left_out: BTreeMap<String, usize>,
    /// Class names; `confusion` indexes this list.
    pub classes: Vec<String>,
    /// On-device scores over the completed windows.
    pub accuracy: Option<f64>,
    /// Mean F1 over classes present in the truth.
    pub macro_f1: Option<f64>,
    /// Rows true class, columns the device's prediction.
    pub confusion: Option<Confusion>,
    /// The host references over the same windows.
    pub host_int8_accuracy: Option<f64>,
    /// The float model's accuracy over the same windows.
    pub float_accuracy: Option<f64>,
    /// Fraction of completed windows whose every int8 logit equals the host reference.
    pub agreement_int8: Option<f64>,
    /// Every window whose device logits differ from the host's.
    pub int8_mismatches: Vec<Int8Mismatch>,
    /// Fraction of completed windows where the device picks the float model's class.
    pub agreement_float: Option<f64>,
    /// A device printing float outputs (`kind: mlperf`, `outputs: float`): fraction of
    /// completed windows whose every output is within the tolerance of the host reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agreement_outputs: Option<f64>,
    /// Retired instructions per inference.
    pub instructions: Option<InstructionStats>,
    /// An estimate: median instructions × CPI / clock of the board profile.
    pub est_latency_ms: Option<f64>,
    /// Measured: median wall time the device's own timer reported per inference; `None`
    /// from an emulator. Never filled from instructions, so the two are not mixed.
    pub measured_latency_ms: Option<f64>,
    /// Firmware image plus model bytes in flash.
    pub flash_bytes: Option<u64>,
    /// Static RAM plus the arena in use and the stack high-water mark.
    pub ram_bytes: Option<u64>,
    /// Stack high-water mark, max over the cell.
    pub stack_bytes: Option<u64>,
    /// Interpreter arena the model uses, max over the cell.
    pub arena_bytes: Option<u64>,
    /// Energy proxy per inference (µJ), from `est_latency_ms`.
    pub energy_uj: Option<f64>,
    /// The energy budget per window hop and the figures it rests on.
    pub energy: Option<EnergyEstimate>,
    /// Replayed subjects the model trained or validated on; empty for a held-out slice.
    pub subjects_seen_in_training: Vec<String>,
    /// Named failures of parts of the cell.
    pub failures: Vec<ShardFailure>,
    /// The scenario's thresholds evaluated on this cell (plus `status_ok`), in scenario order.
    pub checks: Vec<CheckResult>,
}

/// The windows a cell replayed, as scoring sees them: one entry per window in each slice.
#[derive(Clone, Copy, Debug)]
pub struct ScoredWindows<'a> {
    /// True class per window (index into the model's classes).
    pub truth: &'a [usize],
    /// Host int8 reference logits and class per window.
    pub host_logits: &'a [Vec<i8>],
    /// Host int8 reference class per window.
    pub host_class: &'a [usize],
    /// The float model's class per window; empty when the model has no float reference.
    pub float_class: &'a [usize],
    /// Windows of the model's classes before `max_windows` thinned them.
    pub available: usize,
    /// Windows of activities outside the model's classes, by activity (not replayed).
    pub left_out: &'a BTreeMap<String, usize>,
    /// Replayed subjects the model trained or validated on.
    pub seen_in_training: &'a [String],
}

impl ScoredWindows<'_> {
    /// Windows replayed.
    pub fn len(&self) -> usize {
        self.truth.len()
    }

    /// No window was replayed.
    pub fn is_empty(&self) -> bool {
        self.truth.is_empty()
    }
}

/// What a cell's numbers are computed from besides the device's answers.
pub struct CellContext<'a> {
    /// Names of the cell's model, target and dataset.
    pub model: &'a str,
    /// Scenario target name.
    pub target: &'a str,
    /// Scenario dataset name.
    pub dataset: &'a str,
    /// Tensor or stream.
    pub mode: Mode,
    /// The model's class names.
    pub classes: &'a [String],
    /// The replayed windows and their host references.
    pub windows: ScoredWindows<'a>,
    /// The board profile latency and energy estimates rest on.
    pub board: &'a BoardProfile,
    /// Section sizes of the target's firmware, if it has an ELF.
    pub elf: Option<&'a ElfSizes>,
    /// Size of the model file (counted in flash).
    pub model_bytes: u64,
    /// Seconds between inferences (for the energy budget per window).
    pub hop_s: f64,
    /// How a device that prints floats is compared with the host reference; `None` when
    /// it reports int8 logits (compared bit for bit).
    pub float_outputs: Option<FloatOutputCheck>,
}

/// Median of measured µs in ms (mean of the middle two for an even count); `None` for none.
fn median_ms(elapsed_us: impl Iterator<Item = u32>) -> Option<f64> {
    let mut sorted: Vec<u32> = elapsed_us.collect();
    sorted.sort_unstable();
    let n = sorted.len();
    let mid_us = match n {
        0 => return None,
        _ if n % 2 == 1 => f64::from(sorted[n / 2]),
        _ => (f64::from(sorted[n / 2 - 1]) + f64::from(sorted[n / 2])) / 2.0,
    };
    Some(mid_us / 1000.0)
}

impl CellResult {
    /// Computes every metric of a cell from the device's answers; `checks` start empty.
    pub fn new(cx: &CellContext<'_>, outcome: &CellOutcome) -> Self {
        let w = &cx.windows;
        let done: Vec<(usize, &Inference)> = outcome
            .inferences
            .iter()
            .enumerate()
            .filter_map(|(i, inf)| inf.as_ref().map(|inf| (i, inf)))
            .collect();
        let n_classes = cx.classes.len();
        let any = !done.is_empty();
        let confusion_of = |pred: &dyn Fn(usize, &Inference) -> usize| {
            let mut c = Confusion::new(n_classes);
            for &(i, inf) in &done {
                c.add(w.truth[i], pred(i, inf).min(n_classes.saturating_sub(1)));
            }
            c
        };
        let device = confusion_of(&|_, inf| usize::from(inf.predicted));
        let host = confusion_of(&|i, _| w.host_class[i]);
        // Models without a float reference (imported, user windows) have no float classes.
        let has_float = w.float_class.len() == w.truth.len() && !w.truth.is_empty();
        let float = has_float.then(|| confusion_of(&|i, _| w.float_class[i]));
        // int8 logits are compared bit for bit, printed floats within a tolerance.
        let (agreement_int8, int8_mismatches) = int8_agreement(
            done.iter()
                .filter(|(_, inf)| inf.outputs.is_none())
                .map(|&(i, inf)| (i, inf.logits.as_slice(), w.host_logits[i].as_slice())),
        );
        let agreement_outputs = cx.float_outputs.and_then(|check| {
            float_output_agreement(
                done.iter().filter_map(|&(i, inf)| {
                    Some((inf.outputs.as_deref()?, w.host_logits[i].as_slice()))
                }),
                check,
            )
        });
        let agreement_float = agreement_float(
            done.iter()
                .filter(|_| has_float)
                .map(|&(i, inf)| (usize::from(inf.predicted), w.float_class[i])),
        );
        let instructions =
            InstructionStats::of(done.iter().filter_map(|(_, inf)| inf.instructions));
        let est_latency_ms = match (&instructions, &cx.board.mcu) {
            (Some(s), Some(mcu)) => Some(mcu.estimate_ms(s.median)),
            _ => None,
        };
        let measured_latency_ms = median_ms(done.iter().filter_map(|(_, inf)| inf.elapsed_us));
        let stack = done
            .iter()
            .filter_map(|(_, inf)| inf.stack_high_water.map(u64::from))
            .max();
        let arena = done
            .iter()
            .filter_map(|(_, inf)| inf.arena_used.map(u64::from))
            .max();
        let footprint = match (cx.elf, &outcome.device, stack, arena) {
            (Some(elf), Some(dev), Some(stack), Some(arena)) => Some(Footprint::of(
                elf,
                cx.model_bytes,
                u64::from(dev.arena_size),
                arena,
                stack,
            )),
            _ => None,
        };
        let energy = match (est_latency_ms, &cx.board.power) {
            (Some(ms), Some(power)) => Some(EnergyEstimate::new(power, ms, cx.hop_s)),
            _ => None,
        };
        let status = if outcome.failures.iter().any(|f| f.kind == "unsupported") {
            Status::Unsupported
        } else if !any && !w.is_empty() {
            Status::Failed
        } else if outcome.failures.is_empty() {
            Status::Ok
        } else {
            Status::Partial
        };
        CellResult {
            model: cx.model.to_string(),
            target: cx.target.to_string(),
            dataset: cx.dataset.to_string(),
            mode: cx.mode,
            status,
            windows: w.len(),
            windows_completed: done.len(),
            windows_available: w.available,
            windows_unscored: outcome.unscored_windows,
            left_out: w.left_out.clone(),
            classes: cx.classes.to_vec(),
            accuracy: any.then(|| device.accuracy()),
            macro_f1: any.then(|| device.macro_f1()),
            confusion: any.then_some(device),
            host_int8_accuracy: any.then(|| host.accuracy()),
            float_accuracy: float.filter(|_| any).map(|f| f.accuracy()),
            agreement_int8,
            int8_mismatches,
            agreement_float,
            agreement_outputs,
            instructions,
            est_latency_ms,
            measured_latency_ms,
            flash_bytes: footprint.map(|f| f.flash_bytes),
            ram_bytes: footprint.map(|f| f.ram_bytes),
            stack_bytes: footprint.map(|f| f.stack_bytes),
            arena_bytes: footprint.map(|f| f.arena_bytes),
            energy_uj: energy.as_ref().map(|e| e.inference_uj),
            energy,
            subjects_seen_in_training: w.seen_in_training.to_vec(),
            failures: outcome.failures.clone(),
            window_selection: match cx.mode {
                Mode::Stream => "whole_segments",
                Mode::Tensor if w.len() < w.available => "evenly_spread",
                Mode::Tensor => "all",
            }
            .to_string(),
            checks: Vec::new(),
        }
    }

    /// A stable id, `model/dataset/target/mode`: shards, JUnit names, merge and diff key on it.
    pub fn id(&self) -> String {
        format!(
            "{}/{}/{}/{}",
            self.model,
            self.dataset,
            self.target,
            self.mode.name()
        )
    }

    /// Every check passed (a cell without checks passes only if its status is ok).
    pub fn passed(&self) -> bool {
        self.status == Status::Ok && self.checks.iter().all(|c| c.passed)
    }
}
