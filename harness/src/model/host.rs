//! Runs a `.tflite` int8 model on the host with harbor-core's interpreter.

use std::path::{Path, PathBuf};

use harbor_core::interpreter::{Interpreter, TensorInfo};
use harbor_core::tflite::{self, Model};

/// Why a model could not be loaded or run; always names the model file.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("{}: {source}", path.display())]
    /// The model file cannot be read.
    Io {
        /// The model file.
        path: PathBuf,
        #[source]
        /// The I/O error.
        source: std::io::Error,
    },
    #[error("{}: {source}", path.display())]
    /// harbor-core refuses the model.
    Model {
        /// The model file.
        path: PathBuf,
        #[source]
        /// harbor-core's reason.
        source: tflite::Error,
    },
    #[error("{}: window has {got} values, the model input takes {expected}", path.display())]
    /// A window does not match the input tensor.
    WindowLength {
        /// The model file.
        path: PathBuf,
        /// Values in the window.
        got: usize,
        /// Values the input takes.
        expected: usize,
    },
}

/// One inference result.
#[derive(Clone, Debug, PartialEq)]
pub struct Prediction {
    /// Raw int8 outputs, exactly as the band produces them.
    pub quantized: Vec<i8>,
    /// Dequantized outputs: `scale · (q − zero_point)`.
    pub scores: Vec<f32>,
    /// Index of the largest output (first on ties).
    pub class: usize,
}

/// A validated model file plus what is needed to run it.
pub struct HostModel {
    path: PathBuf,
    bytes: Vec<u8>,
    arena_bytes: usize,
    input: TensorInfo,
    output: TensorInfo,
}

impl HostModel {
    /// Reads and validates `path` (same checks as on the band).
    pub fn load(path: &Path) -> Result<Self, ModelError> {
        let bytes = std::fs::read(path).map_err(|source| ModelError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_bytes(path, bytes)
    }

    /// Validates in-memory model bytes; `name` is used in errors.
    pub fn from_bytes(name: &Path, bytes: Vec<u8>) -> Result<Self, ModelError> {
        let fail = |source| ModelError::Model {
            path: name.to_path_buf(),
            source,
        };
        let (arena_bytes, input, output) = {
            let model = Model::parse(&bytes).map_err(fail)?;
            let arena_bytes = Interpreter::arena_required(&model).map_err(fail)?;
            let mut arena = vec![0u8; arena_bytes];
            let interpreter = Interpreter::new(model, &mut arena).map_err(fail)?;
            let input = interpreter.input_info(0).map_err(fail)?;
            let output = interpreter.output_info(0).map_err(fail)?;
            (arena_bytes, input, output)
        };
        Ok(HostModel {
            path: name.to_path_buf(),
            bytes,
            arena_bytes,
            input,
            output,
        })
    }

    /// Arena bytes the band must reserve for this model.
    pub fn arena_bytes(&self) -> usize {
        self.arena_bytes
    }

    /// Model size in bytes (what goes into a flash slot).
    pub fn model_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Shape and quantization of the input.
    pub fn input(&self) -> TensorInfo {
        self.input
    }

    /// Shape and quantization of the output.
    pub fn output(&self) -> TensorInfo {
        self.output
    }

    /// Quantizes a float window with the input's scale and zero point
    /// (`round(x / scale) + zp`, half away from zero as TFLite's QUANTIZE, clamped to int8).
    pub fn quantize_input(&self, window: &[f32]) -> Vec<i8> {
        let (scale, zp) = (self.input.scale, self.input.zero_point);
        window
            .iter()
            .map(|&x| ((x / scale).round() as i32 + zp).clamp(-128, 127) as i8)
            .collect()
    }

    /// Runs already-quantized windows (one interpreter, prepared once).
    pub fn run_quantized<'w>(
        &self,
        windows: impl IntoIterator<Item = &'w [i8]>,
    ) -> Result<Vec<Prediction>, ModelError> {
        let fail = |source| ModelError::Model {
            path: self.path.clone(),
            source,
        };
        let model = Model::parse(&self.bytes).map_err(fail)?;
        let mut arena = vec![0u8; self.arena_bytes];
        let mut interpreter = Interpreter::new(model, &mut arena).map_err(fail)?;
        let (scale, zp) = (self.output.scale, self.output.zero_point);
        let mut predictions = Vec::new();
        for window in windows {
            if window.len() != self.input.len() {
                return Err(ModelError::WindowLength {
                    path: self.path.clone(),
                    got: window.len(),
                    expected: self.input.len(),
                });
            }
            interpreter.set_input(0, window).map_err(fail)?;
            interpreter.invoke().map_err(fail)?;
            let out = interpreter.output(0).map_err(fail)?;
            let quantized: Vec<i8> = out.iter().collect();
            predictions.push(Prediction {
                scores: quantized
                    .iter()
                    .map(|&q| scale * (i32::from(q) - zp) as f32)
                    .collect(),
                class: out.argmax().unwrap_or(0),
                quantized,
            });
        }
        Ok(predictions)
    }

    /// Quantizes and runs float windows.
    pub fn run<'w>(
        &self,
        windows: impl IntoIterator<Item = &'w [f32]>,
    ) -> Result<Vec<Prediction>, ModelError> {
        let quantized: Vec<Vec<i8>> = windows
            .into_iter()
            .map(|w| self.quantize_input(w))
            .collect();
        self.run_quantized(quantized.iter().map(Vec::as_slice))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../fixtures/models")
            .join(name)
    }

    #[test]
    fn runs_the_golden_har_model_like_tflm() {
        let model = HostModel::load(&fixture("har_conv1d.tflite")).unwrap();
        assert_eq!(model.input().len(), 60 * 6);
        assert_eq!(
            (model.output().scale, model.output().zero_point),
            (1.0 / 256.0, -128)
        );
        // First golden record (TFLM output) from the .golden file, see docs/int8.md.
        let golden = std::fs::read(fixture("har_conv1d.golden")).unwrap();
        let (input, expected) = (&golden[16..16 + 360], &golden[16 + 360..16 + 367]);
        let input: Vec<i8> = input.iter().map(|&b| b as i8).collect();
        let expected: Vec<i8> = expected.iter().map(|&b| b as i8).collect();
        let prediction = &model.run_quantized([input.as_slice()]).unwrap()[0];
        assert_eq!(prediction.quantized, expected);
        let total: f32 = prediction.scores.iter().sum();
        assert!((total - 1.0).abs() < 0.07, "softmax scores sum to {total}");
        let best = expected
            .iter()
            .enumerate()
            .max_by_key(|&(i, &v)| (v, std::cmp::Reverse(i)));
        assert_eq!(Some(prediction.class), best.map(|(i, _)| i));
    }

    #[test]
    fn errors_name_the_file() {
        let float = fixture("float_relu6.tflite");
        let err = HostModel::load(&float).err().unwrap().to_string();
        assert!(err.starts_with(&float.display().to_string()), "{err}");
        assert!(err.contains("not int8"), "{err}");
        let missing = fixture("no_such_model.tflite");
        let err = HostModel::load(&missing).err().unwrap().to_string();
        assert!(err.contains("no_such_model.tflite"), "{err}");
        let model = HostModel::load(&fixture("relu6_same_stride2.tflite")).unwrap();
        let err = model
            .run([[0.0f32; 5].as_slice()])
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains("window has 5 values, the model input takes 360"),
            "{err}"
        );
    }

    #[test]
    fn quantize_input_rounds_to_nearest_and_clamps() {
        let model = HostModel::load(&fixture("har_conv1d.tflite")).unwrap();
        let (s, zp) = (model.input().scale, model.input().zero_point);
        let q = model.quantize_input(&[0.0, 2.4 * s, 2.6 * s, -2.6 * s, 1e6, -1e6]);
        let expected = [zp, zp + 2, zp + 3, zp - 3, 127, -128];
        assert_eq!(q, expected.map(|v| v as i8).to_vec());
    }
}
