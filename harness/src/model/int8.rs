//! Runs an int8 `.tflite` on the host with harbor-core's interpreter: the same code and
//! arithmetic as the band, so these are the host int8 reference outputs.

use harbor_core::interpreter::Interpreter;
use harbor_core::tflite::{self, Model};

/// Why harbor-core cannot load or run a model.
#[derive(Debug, thiserror::Error)]
pub enum Int8Error {
    /// The bytes are not a model harbor-core runs (not `.tflite`, not int8, unknown op).
    #[error("not a model harbor-core can run: {0}")]
    Parse(#[source] tflite::Error),
    /// The model parses but its tensors cannot be laid out in the arena.
    #[error("cannot plan the model: {0}")]
    Plan(#[source] tflite::Error),
    /// Setting the input, invoking or reading the output failed.
    #[error("{0}")]
    Run(#[source] tflite::Error),
    /// The windows are not the model's input size.
    #[error(
        "windows of {window} samples × {channels} channels ({} values), but the model input takes {expected} values",
        window * channels
    )]
    WindowLength {
        /// Samples per window.
        window: usize,
        /// Channels per sample.
        channels: usize,
        /// Values the model input takes.
        expected: usize,
    },
}

/// A parsed model with its arena, ready to classify windows.
pub struct HostInt8<'m> {
    interpreter: Interpreter<'m, 'm>,
    /// Input element count, for checks and buffers.
    pub input_len: usize,
    /// Output element count.
    pub output_len: usize,
    /// Output dequantization scale.
    pub output_scale: f32,
    /// Output dequantization zero point.
    pub output_zero_point: i32,
}

impl<'m> HostInt8<'m> {
    /// Parses `bytes` and plans it in `arena` (size it with [`arena_bytes`]).
    pub fn new(bytes: &'m [u8], arena: &'m mut [u8]) -> Result<Self, Int8Error> {
        let model = Model::parse(bytes).map_err(Int8Error::Parse)?;
        let interpreter = Interpreter::new(model, arena).map_err(Int8Error::Plan)?;
        let input = interpreter.input_info(0).map_err(Int8Error::Run)?;
        let output = interpreter.output_info(0).map_err(Int8Error::Run)?;
        Ok(HostInt8 {
            input_len: input.len(),
            output_len: output.len(),
            output_scale: output.scale,
            output_zero_point: output.zero_point,
            interpreter,
        })
    }

    /// The int8 output for one int8 input window.
    pub fn run(&mut self, input: &[i8]) -> Result<Vec<i8>, Int8Error> {
        self.interpreter
            .set_input(0, input)
            .map_err(Int8Error::Run)?;
        self.interpreter.invoke().map_err(Int8Error::Run)?;
        let out = self.interpreter.output(0).map_err(Int8Error::Run)?;
        Ok(out.iter().collect())
    }

    /// The real value of an int8 output.
    pub fn dequantize(&self, q: i8) -> f32 {
        (i32::from(q) - self.output_zero_point) as f32 * self.output_scale
    }
}

/// Arena bytes the model needs (what the band must reserve).
pub fn arena_bytes(bytes: &[u8]) -> Result<usize, Int8Error> {
    let model = Model::parse(bytes).map_err(Int8Error::Parse)?;
    Interpreter::arena_required(&model).map_err(Int8Error::Run)
}

/// int8 outputs of every window (already quantized inputs).
pub fn run_all(bytes: &[u8], inputs: &[Vec<i8>]) -> Result<Vec<Vec<i8>>, Int8Error> {
    let mut arena = vec![0u8; arena_bytes(bytes)?];
    let mut host = HostInt8::new(bytes, &mut arena)?;
    inputs.iter().map(|w| host.run(w)).collect()
}
