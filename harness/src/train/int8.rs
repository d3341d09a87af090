//! Runs an int8 `.tflite` on the host with harbor-core's interpreter: the same code and
//! arithmetic as the band, so these are the host int8 reference outputs.

use harbor_core::interpreter::Interpreter;
use harbor_core::tflite::Model;

/// A parsed model with its arena, ready to classify windows.
pub struct HostInt8<'m> {
    interpreter: Interpreter<'m, 'm>,
    /// Input and output element counts, for checks and buffers.
    pub input_len: usize,
    pub output_len: usize,
    /// Output dequantization.
    pub output_scale: f32,
    pub output_zero_point: i32,
}

impl<'m> HostInt8<'m> {
    /// Parses `bytes` and plans it in `arena` (size it with [`arena_bytes`]).
    pub fn new(bytes: &'m [u8], arena: &'m mut [u8]) -> Result<Self, String> {
        let model =
            Model::parse(bytes).map_err(|e| format!("not a model harbor-core can run: {e}"))?;
        let interpreter =
            Interpreter::new(model, arena).map_err(|e| format!("cannot plan the model: {e}"))?;
        let input = interpreter.input_info(0).map_err(|e| e.to_string())?;
        let output = interpreter.output_info(0).map_err(|e| e.to_string())?;
        Ok(HostInt8 {
            input_len: input.len(),
            output_len: output.len(),
            output_scale: output.scale,
            output_zero_point: output.zero_point,
            interpreter,
        })
    }

    /// The int8 output for one int8 input window.
    pub fn run(&mut self, input: &[i8]) -> Result<Vec<i8>, String> {
        self.interpreter
            .set_input(0, input)
            .map_err(|e| e.to_string())?;
        self.interpreter.invoke().map_err(|e| e.to_string())?;
        let out = self.interpreter.output(0).map_err(|e| e.to_string())?;
        Ok(out.iter().collect())
    }

    pub fn dequantize(&self, q: i8) -> f32 {
        (i32::from(q) - self.output_zero_point) as f32 * self.output_scale
    }
}

/// Arena bytes the model needs (what the band must reserve).
pub fn arena_bytes(bytes: &[u8]) -> Result<usize, String> {
    let model = Model::parse(bytes).map_err(|e| format!("not a model harbor-core can run: {e}"))?;
    Interpreter::arena_required(&model).map_err(|e| e.to_string())
}

/// int8 outputs of every window (already quantized inputs).
pub fn run_all(bytes: &[u8], inputs: &[Vec<i8>]) -> Result<Vec<Vec<i8>>, String> {
    let mut arena = vec![0u8; arena_bytes(bytes)?];
    let mut host = HostInt8::new(bytes, &mut arena)?;
    inputs.iter().map(|w| host.run(w)).collect()
}
