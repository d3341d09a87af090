//! Runs a float32 `.tflite` on the host with harbor-core's float reference kernels: the
//! desktop reference (`agreement_float`) for a model harbor did not train, from the float
//! file its own framework exported. Same ops as the int8 interpreter.

use std::path::{Path, PathBuf};

use harbor_core::float::FloatInterpreter;
use harbor_core::tflite::Model;

use super::host::ModelError;

/// A validated float32 model, ready to run windows.
pub struct HostFloat {
    path: PathBuf,
    interpreter: FloatInterpreter,
}

impl HostFloat {
    /// Reads and prepares `path` (a float32 `.tflite`: float input, weights and output).
    pub fn load(path: &Path) -> Result<Self, ModelError> {
        let bytes = std::fs::read(path).map_err(|source| ModelError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_bytes(path, &bytes)
    }

    /// Prepares in-memory model bytes; `name` is used in errors.
    pub fn from_bytes(name: &Path, bytes: &[u8]) -> Result<Self, ModelError> {
        let fail = |source| ModelError::Model {
            path: name.to_path_buf(),
            source,
        };
        let model = Model::parse_float32(bytes).map_err(fail)?;
        let interpreter = FloatInterpreter::new(&model).map_err(fail)?;
        Ok(HostFloat {
            path: name.to_path_buf(),
            interpreter,
        })
    }

    /// Values per input window (the input shape without its batch of 1).
    pub fn input_len(&self) -> usize {
        self.interpreter.input_shape().iter().product()
    }

    /// Values per output.
    pub fn output_len(&self) -> usize {
        self.interpreter.output_shape().iter().product()
    }

    /// Input shape, batch dimension included.
    pub fn input_shape(&self) -> &[usize] {
        self.interpreter.input_shape()
    }

    /// Float outputs of every window.
    pub fn run<'w>(
        &self,
        windows: impl IntoIterator<Item = &'w [f32]>,
    ) -> Result<Vec<Vec<f32>>, ModelError> {
        windows
            .into_iter()
            .map(|w| {
                if w.len() != self.input_len() {
                    return Err(ModelError::WindowLength {
                        path: self.path.clone(),
                        got: w.len(),
                        expected: self.input_len(),
                    });
                }
                self.interpreter.run(w).map_err(|source| ModelError::Model {
                    path: self.path.clone(),
                    source,
                })
            })
            .collect()
    }
}
