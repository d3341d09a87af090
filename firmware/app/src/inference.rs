//! Runs the loaded model with harbor-core's int8 interpreter, measuring only `invoke`.

use harbor_core::interpreter::Interpreter;
use harbor_core::tflite::Model;

use crate::board::Board;

/// Most logits a reply carries (HAR models have a handful of classes).
pub const MAX_LOGITS: usize = 64;

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
    let needed =
        Interpreter::arena_required(&parsed).map_err(|_| Failure::Invalid { arena_needed: 0 })?;
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
    let interpreter =
        Interpreter::new(parsed, arena).map_err(|_| Failure::Invalid { arena_needed: 0 })?;
    let info = interpreter.input_info(0).map_err(|_| Failure::Failed)?;
    Ok(info.len())
}

/// One inference of `model` on `input`; the output's int8 values go to `logits`.
pub fn run(
    board: &impl Board,
    model: &[u8],
    arena: &mut [u8],
    input: &[i8],
    logits: &mut [i8; MAX_LOGITS],
) -> Result<Outcome, Failure> {
    let parsed = Model::parse(model).map_err(|_| Failure::Invalid { arena_needed: 0 })?;
    let mut interpreter =
        Interpreter::new(parsed, arena).map_err(|_| Failure::Invalid { arena_needed: 0 })?;
    let expected = interpreter
        .input_info(0)
        .map_err(|_| Failure::Failed)?
        .len();
    if input.len() != expected {
        return Err(Failure::InputSize { expected });
    }
    interpreter
        .set_input(0, input)
        .map_err(|_| Failure::Failed)?;
    let wall_clock = board.measures_wall_time();
    let started_us = if wall_clock { board.micros() } else { 0 };
    let before = board.instructions();
    interpreter.invoke().map_err(|_| Failure::Failed)?;
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
        arena_used: interpreter.arena_used() as u32,
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
    if Interpreter::arena_required(&parsed).map_or(true, |n| n > arena.len()) {
        return false;
    }
    let Ok(interpreter) = Interpreter::new(parsed, arena) else {
        return false;
    };
    let (Ok(input), Ok(output)) = (interpreter.input_info(0), interpreter.output_info(0)) else {
        return false;
    };
    input.len() == contract.input_len()
        && output.len() == usize::from(contract.classes)
        && input.scale.to_bits() == contract.input_scale.to_bits()
        && input.zero_point == i32::from(contract.input_zero_point)
}
