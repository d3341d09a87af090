//! Runs replay cells on devices: shards, a pool of at most `jobs` devices, and per-window
//! results merged by index.

use std::collections::VecDeque;
use std::ops::Range;
use std::sync::{Arc, Mutex, PoisonError};

use crate::dut::mlperf::{self, MlperfFormat};
use crate::dut::{DeviceConfig, DeviceInfo, Dut, Inference, Target, TargetError};
use crate::metrics::{CellOutcome, ShardFailure};
use crate::shutdown::{Stop, StopSignal};

use super::Mode;
use super::stream::StreamWorkload;

/// One cell to run: a model's windows into one firmware in one mode.
#[derive(Clone)]
pub struct CellPlan {
    pub mode: Mode,
    pub config: DeviceConfig,
    pub model: Arc<Vec<u8>>,
    /// int8 input tensors, in window order (one slot per scored window).
    pub inputs: Arc<Vec<Vec<i8>>>,
    /// Stream mode's segments and window mapping; `None` runs the mode as unsupported.
    pub stream: Option<Arc<StreamWorkload>>,
}

struct Shard {
    cell: usize,
    windows: Range<usize>,
}

struct ShardResult {
    cell: usize,
    first: usize,
    /// (window slot, result), in slot order.
    inferences: Vec<(usize, Inference)>,
    failure: Option<ShardFailure>,
    device: Option<DeviceInfo>,
    unscored: u64,
}

/// Contiguous shards: at most `jobs` per cell, so a single cell still uses every emulator.
fn shards(cells: &[CellPlan], jobs: usize) -> VecDeque<Shard> {
    let mut queue = VecDeque::new();
    for (cell, plan) in cells.iter().enumerate() {
        let n = plan.inputs.len();
        // Stream mode is one shard: the device's windowing state spans the stream.
        let parts = if plan.mode == Mode::Stream {
            1
        } else {
            jobs.clamp(1, n.max(1))
        };
        for p in 0..parts {
            let windows = p * n / parts..(p + 1) * n / parts;
            if !windows.is_empty() || n == 0 {
                queue.push_back(Shard { cell, windows });
            }
        }
    }
    queue
}

/// Runs every cell with at most `jobs` emulators at once. `progress` is called with a cell's
/// index and the number of its windows finished (successfully or not) as they finish.
/// Once `stop` fires, running shards stop their emulators and every shard not finished
/// is failed with kind `interrupted`; what completed before stays.
pub async fn run_cells(
    cells: &[CellPlan],
    jobs: usize,
    progress: Arc<dyn Fn(usize, u64) + Send + Sync>,
    stop: &StopSignal,
) -> Vec<CellOutcome> {
    // A port or probe takes one opener at a time: with a board in the run, one worker.
    let jobs = if cells.iter().any(|c| c.config.exclusive()) {
        1
    } else {
        jobs
    };
    let queue = Arc::new(Mutex::new(shards(cells, jobs)));
    let plans = Arc::new(cells.to_vec());
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..jobs.max(1) {
        let (queue, plans, progress, stop) =
            (queue.clone(), plans.clone(), progress.clone(), stop.clone());
        workers.spawn(async move {
            let mut done = Vec::new();
            loop {
                // The lock is never held across an await.
                let next = queue
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .pop_front();
                let Some(shard) = next else { break };
                let cell = shard.cell;
                let tick = |n| progress(cell, n);
                done.push(run_shard(&plans[cell], shard, &tick, &stop).await);
            }
            done
        });
    }
    let mut outcomes: Vec<CellOutcome> = cells
        .iter()
        .map(|c| CellOutcome {
            inferences: vec![None; c.inputs.len()],
            ..CellOutcome::default()
        })
        .collect();
    let mut results = Vec::new();
    while let Some(joined) = workers.join_next().await {
        match joined {
            Ok(done) => results.extend(done),
            // A panicking worker is a harbor bug: surface it rather than report partial data.
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        }
    }
    // Merge in (cell, first window) order so failure lists do not depend on scheduling.
    results.sort_by_key(|r| (r.cell, r.first));
    for r in results {
        let outcome = &mut outcomes[r.cell];
        for (slot, inference) in r.inferences {
            outcome.inferences[slot] = Some(inference);
        }
        outcome.failures.extend(r.failure);
        outcome.unscored_windows += r.unscored;
        if outcome.device.is_none() {
            outcome.device = r.device;
        }
    }
    outcomes
}

async fn run_shard(
    plan: &CellPlan,
    shard: Shard,
    progress: &(dyn Fn(u64) + Send + Sync),
    stop: &StopSignal,
) -> ShardResult {
    let mut result = ShardResult {
        cell: shard.cell,
        first: shard.windows.start,
        inferences: Vec::with_capacity(shard.windows.len()),
        failure: None,
        device: None,
        unscored: 0,
    };
    let windows = shard.windows.clone();
    let fail = |result: &mut ShardResult,
                kind: &str,
                message: String,
                during: &str,
                window: Option<usize>| {
        let first_lost = shard.windows.start + result.inferences.len();
        progress((windows.end - first_lost) as u64);
        result.failure = Some(ShardFailure {
            kind: kind.to_string(),
            message,
            during: during.to_string(),
            window,
            windows_lost: first_lost..windows.end,
        });
    };
    let target_failure = |result: &mut ShardResult, e: TargetError, during: &str, window| {
        fail(result, e.kind(), e.to_string(), during, window)
    };

    let interrupted = |result: &mut ShardResult, stop: Stop, during: &str| {
        let message = format!("{stop} stopped the run; this shard did not finish");
        fail(result, INTERRUPTED, message, during, None)
    };
    if let Some(signal) = stop.get() {
        interrupted(&mut result, signal, "waiting to start");
        return result;
    }
    if let DeviceConfig::Mlperf(_) = &plan.config
        && plan.mode == Mode::Stream
    {
        fail(
            &mut result,
            "unsupported",
            "stream mode is not supported by a `kind: mlperf` device: the MLPerf Tiny protocol carries prepared input tensors, not a sample stream".into(),
            "checking stream support",
            None,
        );
        return result;
    }
    let opened = tokio::select! {
        opened = crate::dut::open(&plan.config) => opened,
        signal = stop.requested() => {
            interrupted(&mut result, signal, "launching");
            return result;
        }
    };
    match opened {
        Ok(mut target) => {
            let stopped = {
                let work = async {
                    match &plan.config {
                        DeviceConfig::Mlperf(c) => {
                            let format = &c.format;
                            drive_mlperf(
                                &mut target,
                                format,
                                plan,
                                &shard,
                                &mut result,
                                progress,
                                &fail,
                            )
                            .await;
                        }
                        _ => drive(&mut target, plan, &shard, &mut result, progress, &fail).await,
                    }
                };
                tokio::select! {
                    () = work => None,
                    signal = stop.requested() => Some(signal),
                }
            };
            // Kills the emulator (at once when interrupted) and waits for it.
            target.shutdown().await;
            if let Some(signal) = stopped {
                interrupted(&mut result, signal, "replaying");
            }
        }
        Err(e) => {
            let during = if plan.config.opens_a_port() {
                "opening the port"
            } else {
                "launching"
            };
            target_failure(&mut result, e, during, None);
        }
    }
    result
}

/// Identifies the firmware, loads the model and runs the shard's windows (tensor) or the
/// stream; stops at the first failure, recorded in `result`.
async fn drive<T: Target>(
    target: &mut T,
    plan: &CellPlan,
    shard: &Shard,
    result: &mut ShardResult,
    progress: &(dyn Fn(u64) + Send + Sync),
    fail: &FailFn<'_>,
) {
    let target_failure = |result: &mut ShardResult, e: TargetError, during: &str, window| {
        fail(result, e.kind(), e.to_string(), during, window)
    };
    match target.info().await {
        Ok(info) => result.device = Some(info),
        Err(e) => {
            target_failure(result, e, "identifying the firmware", None);
            return;
        }
    }
    if plan.mode == Mode::Stream && plan.stream.is_none() {
        let name = result.device.as_ref().map_or_else(String::new, |d| {
            format!(
                " ({} {}.{}.{})",
                d.name, d.version[0], d.version[1], d.version[2]
            )
        });
        fail(
            result,
            "unsupported",
            format!(
                "stream mode is not supported by this firmware{name}: it does not window or infer a sample stream"
            ),
            "checking stream support",
            None,
        );
        return;
    }
    if let Err(e) = target.load_model(&plan.model).await {
        target_failure(result, e, "loading the model", None);
        return;
    }
    if let Some(stream) = &plan.stream {
        run_stream(target, stream, result, progress, fail).await;
        return;
    }
    let indices: Vec<usize> = shard.windows.clone().collect();
    for batch in indices.chunks(WINDOWS_PER_BATCH) {
        let windows: Vec<&[i8]> = batch.iter().map(|&i| plan.inputs[i].as_slice()).collect();
        let mut inferences = Vec::with_capacity(batch.len());
        let outcome = target.infer_many(&windows, &mut inferences).await;
        progress(inferences.len() as u64);
        result
            .inferences
            .extend(batch.iter().copied().zip(inferences));
        if let Err((failed, e)) = outcome {
            target_failure(result, e, "inferring", Some(batch[failed]));
            return;
        }
    }
}

/// Windows handed to [`Target::infer_many`] at once: an emulated band with a shared-RAM
/// mailbox runs them with one request; others still answer one TensorInfer per window.
const WINDOWS_PER_BATCH: usize = 64;

/// The failure kind of a shard that a stop signal cut off.
pub const INTERRUPTED: &str = "interrupted";

/// An MLPerf Tiny device: nothing to load (the model is compiled in); each window goes into
/// its `db` buffer and `infer 1 0` runs it.
async fn drive_mlperf(
    target: &mut Dut,
    format: &MlperfFormat,
    plan: &CellPlan,
    shard: &Shard,
    result: &mut ShardResult,
    progress: &(dyn Fn(u64) + Send + Sync),
    fail: &FailFn<'_>,
) {
    if let Err(e) = mlperf::identify(target).await {
        return fail(
            result,
            e.kind(),
            e.to_string(),
            "identifying the firmware",
            None,
        );
    }
    // mlperf::infer sends a window again when noise garbled it (docs/mlperf.md).
    for i in shard.windows.clone() {
        match mlperf::infer(target, format, &plan.inputs[i]).await {
            Ok(inference) => {
                result.inferences.push((i, inference));
                progress(1);
            }
            Err(e) => return fail(result, e.kind(), e.to_string(), "inferring", Some(i)),
        }
    }
}

type FailFn<'a> = dyn Fn(&mut ShardResult, &str, String, &str, Option<usize>) + Send + Sync + 'a;

/// Configures the band's input conversion and windowing, then streams every segment; the
/// windows it reports are stored at their slots, unscored ones dropped.
async fn run_stream<T: Target>(
    target: &mut T,
    stream: &StreamWorkload,
    result: &mut ShardResult,
    progress: &(dyn Fn(u64) + Send + Sync),
    fail: &FailFn<'_>,
) {
    if let Err(e) = target.configure_input(&stream.input).await {
        return fail(
            result,
            unsupported_or(&e),
            e.to_string(),
            "configuring the input conversion",
            None,
        );
    }
    if let Err(e) = target.configure_stream(stream.config).await {
        return fail(
            result,
            unsupported_or(&e),
            e.to_string(),
            "configuring the stream",
            None,
        );
    }
    for (segment, samples) in stream.segments.iter().enumerate() {
        match target.stream(0, samples).await {
            Ok(outcome) => {
                let before = result.inferences.len();
                for w in outcome.windows {
                    match stream.slots.get(&(segment as u32, w.index)) {
                        Some(&slot) => result.inferences.push((slot, w.inference)),
                        None => result.unscored += 1,
                    }
                }
                progress((result.inferences.len() - before) as u64);
            }
            Err(e) => {
                let next = result.inferences.last().map_or(0, |(slot, _)| slot + 1);
                let window = (next < stream.windows.len()).then_some(next);
                return fail(result, e.kind(), e.to_string(), "streaming samples", window);
            }
        }
    }
}

/// A firmware that does not know a stream message refuses it: that is "unsupported".
fn unsupported_or(e: &TargetError) -> &'static str {
    match e {
        TargetError::Rejected { cause, .. }
            if *cause == harbor_core::protocol::ErrorCause::UnknownMessage =>
        {
            "unsupported"
        }
        other => other.kind(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(n: usize, mode: Mode) -> CellPlan {
        CellPlan {
            mode,
            config: DeviceConfig::Qemu(crate::dut::QemuConfig::new("unused.elf")),
            model: Arc::new(Vec::new()),
            inputs: Arc::new(vec![Vec::new(); n]),
            stream: None,
        }
    }

    #[test]
    fn shards_cover_every_window_once_in_order() {
        for jobs in 1..6 {
            let queue = shards(
                &[
                    plan(10, Mode::Tensor),
                    plan(2, Mode::Tensor),
                    plan(7, Mode::Stream),
                ],
                jobs,
            );
            for (cell, n) in [(0, 10), (1, 2), (2, 7)] {
                let covered: Vec<usize> = queue
                    .iter()
                    .filter(|s| s.cell == cell)
                    .flat_map(|s| s.windows.clone())
                    .collect();
                assert_eq!(
                    covered,
                    (0..n).collect::<Vec<_>>(),
                    "jobs {jobs} cell {cell}"
                );
            }
            assert_eq!(
                queue.iter().filter(|s| s.cell == 2).count(),
                1,
                "stream is one shard"
            );
            assert!(queue.iter().filter(|s| s.cell == 0).count() <= jobs);
        }
    }
}
