//! Runs the loaded model with harbor-core's int8 interpreter, measuring only `invoke`.

use harbor_core::interpreter::{Interpreter, StreamPlan};
use harbor_core::tflite::Model;

use crate::board::Board;
use crate::stream::Stream;

/// Most logits a reply carries (HAR models have a handful of classes).
pub const MAX_LOGITS: usize = 64;

/// Operators that compute (views are free) the band's interpreter table holds: harbor's
/// models have 5 to 8; each slot is 136 B of stack while a model runs.
pub const MAX_STEPS: usize = 12;
/// Tensors the band's interpreter plans (harbor's models have 18 to 26): 8 B of stack each
/// while a model runs, ~30 B each while it is planned.
pub const MAX_TENSORS: usize = 48;

/// The band's interpreter: tables sized for HAR models, not for any model the parser reads.
type BandInterpreter<'m, 'a> = Interpreter<'m, 'a, MAX_STEPS, MAX_TENSORS>;

/// Where an inference's int8 input comes from; it is written straight into the arena.
pub enum Input<'x> {
    /// int8 values as bytes (a TensorInfer payload, the `db` buffer).
    Bytes(&'x [u8]),
    /// Stream mode's current window.
    Window(&'x Stream),
}

impl Input<'_> {
    fn len(&self) -> usize {
        match self {
            Self::Bytes(b) => b.len(),
            Self::Window(s) => s.window_values(),
        }
    }

    fn copy_to(&self, out: &mut [u8]) {
        match self {
            Self::Bytes(b) => out.copy_from_slice(b),
            Self::Window(s) => s.copy_window(out),
        }
    }
}

pub struct Outcome {
    pub predicted: u8,
    pub n_logits: usize,
    /// Retired instructions of `invoke` alone.
    pub instructions: u64,
    /// Wall time of `invoke` in µs, on a board with a real clock.
    pub elapsed_us: Option<u32>,
    pub arena_used: u32,
}

pub enum Failure {
    /// The window's length differs from the model input's.
    InputSize { expected: usize },
    /// The model cannot run here; the arena it needs if known (else 0).
    Invalid { arena_needed: usize },
    /// The interpreter failed while running.
    Failed,
}

/// Checks at load time that `model` parses, is supported and fits the arena.
pub fn check_model(model: &[u8], arena_size: usize) -> Result<usize, Failure> {
    let parsed = Model::parse(model).map_err(|_| Failure::Invalid { arena_needed: 0 })?;
    let needed = BandInterpreter::arena_required_sized(&parsed)
        .map_err(|_| Failure::Invalid { arena_needed: 0 })?;
    if needed > arena_size {
        return Err(Failure::Invalid {
            arena_needed: needed,
        });
    }
    Ok(needed)
}

/// The model's input length in int8 values (for stream mode's window check).
pub fn input_len(model: &[u8], arena: &mut [u8]) -> Result<usize, Failure> {
    let parsed = Model::parse(model).map_err(|_| Failure::Invalid { arena_needed: 0 })?;
    BandInterpreter::scoped(parsed, arena, |interpreter| {
        interpreter.input_info(0).map(|info| info.len())
    })
    .map_err(|_| Failure::Invalid { arena_needed: 0 })?
    .map_err(|_| Failure::Failed)
}

/// One inference of `model` on `input`; the output's int8 values go to `logits`.
pub fn run(
    board: &impl Board,
    model: &[u8],
    arena: &mut [u8],
    input: Input<'_>,
    logits: &mut [i8; MAX_LOGITS],
) -> Result<Outcome, Failure> {
    let parsed = Model::parse(model).map_err(|_| Failure::Invalid { arena_needed: 0 })?;
    BandInterpreter::scoped(parsed, arena, |interpreter| {
        invoke(board, interpreter, input, None, logits)
    })
    .map_err(|_| Failure::Invalid { arena_needed: 0 })?
}

/// Runs windows `0..count` (`input(i)` is window i) through one preparation of `model`:
/// a batch parses the model and plans the arena once, not per window. `done(i, outcome,
/// logits)` gets each result and returns `false` to stop the batch.
pub fn run_batch<'x>(
    board: &impl Board,
    model: &[u8],
    arena: &mut [u8],
    count: usize,
    mut input: impl FnMut(usize) -> &'x [u8],
    logits: &mut [i8; MAX_LOGITS],
    mut done: impl FnMut(usize, Result<Outcome, Failure>, &[i8; MAX_LOGITS]) -> bool,
) -> Result<(), Failure> {
    let parsed = Model::parse(model).map_err(|_| Failure::Invalid { arena_needed: 0 })?;
    BandInterpreter::scoped(parsed, arena, |interpreter| {
        for i in 0..count {
            let outcome = invoke(board, interpreter, Input::Bytes(input(i)), None, logits);
            if !done(i, outcome, logits) {
                break;
            }
        }
    })
    .map_err(|_| Failure::Invalid { arena_needed: 0 })
}

/// A stream's windows, completed one at a time as its samples are consumed.
pub trait WindowFeed {
    /// Consumes samples until one completes a window: that window's index; `None` once the
    /// samples are used up.
    fn next_window(&mut self) -> Option<u32>;
    /// The window the last [`WindowFeed::next_window`] completed.
    fn window(&self) -> Input<'_>;
    /// Input bytes from one window to the next (hop × bytes per sample).
    fn shift(&self) -> usize;
    /// The window whose columns the arena's stream cache holds, if any.
    fn cached(&mut self) -> &mut Option<u32>;
}

/// Runs every window `feed` completes through one preparation of `model`, made when the
/// first window completes (samples that complete none prepare nothing). A window that
/// follows the one the stream cache holds reuses the overlap's convolution columns
/// (`Interpreter::invoke_stream`), across requests too. `done(board, index, outcome,
/// logits)` gets each result; its error ends the run and is returned inside `Ok`.
pub fn run_stream<B: Board, E>(
    board: &mut B,
    model: &[u8],
    arena: &mut [u8],
    feed: &mut impl WindowFeed,
    logits: &mut [i8; MAX_LOGITS],
    mut done: impl FnMut(&mut B, u32, Result<Outcome, Failure>, &[i8; MAX_LOGITS]) -> Result<(), E>,
) -> Result<Result<(), E>, Failure> {
    let Some(first) = feed.next_window() else {
        return Ok(Ok(()));
    };
    let parsed = Model::parse(model).map_err(|_| Failure::Invalid { arena_needed: 0 })?;
    BandInterpreter::scoped(parsed, arena, |interpreter| {
        let plan = interpreter.stream_plan(feed.shift());
        let mut index = first;
        loop {
            let cached = feed.cached();
            let continues = index > 0 && *cached == Some(index - 1);
            // Until this window's inference completes, the cache holds no window.
            *cached = None;
            let stream = Some((&plan, continues));
            let outcome = invoke(&*board, interpreter, feed.window(), stream, logits);
            if outcome.is_ok() {
                *feed.cached() = Some(index);
            }
            done(board, index, outcome, logits)?;
            match feed.next_window() {
                Some(next) => index = next,
                None => return Ok(()),
            }
        }
    })
    .map_err(|_| Failure::Invalid { arena_needed: 0 })
}

/// One inference: `invoke`, or with `stream` (plan, continues) `invoke_stream`.
fn invoke(
    board: &impl Board,
    interpreter: &mut BandInterpreter<'_, '_>,
    input: Input<'_>,
    stream: Option<(&StreamPlan<MAX_STEPS>, bool)>,
    logits: &mut [i8; MAX_LOGITS],
) -> Result<Outcome, Failure> {
    let dest = interpreter
        .input_bytes_mut(0)
        .map_err(|_| Failure::Failed)?;
    if input.len() != dest.len() {
        return Err(Failure::InputSize {
            expected: dest.len(),
        });
    }
    input.copy_to(dest);
    let wall_clock = board.measures_wall_time();
    let started_us = if wall_clock { board.micros() } else { 0 };
    let before = board.instructions();
    let (ran, cache) = match stream {
        Some((plan, continues)) => (
            interpreter.invoke_stream(plan, continues),
            plan.cache_bytes(),
        ),
        None => (interpreter.invoke(), 0),
    };
    ran.map_err(|_| Failure::Failed)?;
    let instructions = board.instructions() - before;
    let elapsed_us =
        wall_clock.then(|| u32::try_from(board.micros() - started_us).unwrap_or(u32::MAX));
    let output = interpreter.output(0).map_err(|_| Failure::Failed)?;
    let n_logits = output.len().min(MAX_LOGITS);
    for (slot, v) in logits.iter_mut().zip(output.iter()) {
        *slot = v;
    }
    let predicted = output.argmax().unwrap_or(0) as u8;
    Ok(Outcome {
        predicted,
        n_logits,
        instructions,
        elapsed_us,
        arena_used: (interpreter.arena_used() + cache) as u32,
    })
}

/// Whether `model` runs here with the input/output a release's manifest promises.
pub fn matches_contract(
    model: &[u8],
    arena: &mut [u8],
    contract: &harbor_core::ota::InputContract,
) -> bool {
    let Ok(parsed) = Model::parse(model) else {
        return false;
    };
    if BandInterpreter::arena_required_sized(&parsed).map_or(true, |n| n > arena.len()) {
        return false;
    }
    BandInterpreter::scoped(parsed, arena, |interpreter| {
        let (Ok(input), Ok(output)) = (interpreter.input_info(0), interpreter.output_info(0))
        else {
            return false;
        };
        input.len() == contract.input_len()
            && output.len() == usize::from(contract.classes)
            && input.scale.to_bits() == contract.input_scale.to_bits()
            && input.zero_point == i32::from(contract.input_zero_point)
    })
    .unwrap_or(false)
}
