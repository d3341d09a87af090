//! An imported model's desktop reference: the float32 `.tflite` its framework exported
//! (`model_f32.tflite`, checked against the card's `float_file`), run by [`HostFloat`] on the
//! same windows as the int8 model. It gives `agreement_float` and the float accuracy for a
//! model harbor did not train.

use std::path::{Path, PathBuf};

use harbor_core::rate::AXES;

use super::card::ModelCard;
use super::confusion::argmax;
use super::host::{HostModel, ModelError};
use super::host_float::HostFloat;
use super::integrity::{IntegrityError, check_file};
use crate::board::{BoardError, BoardProfile};

/// Why a model directory's float reference cannot be used; names the file at fault.
#[derive(Debug, thiserror::Error)]
pub enum FloatReferenceError {
    /// The file is missing, unreadable, or not the one the card describes.
    #[error(transparent)]
    Integrity(#[from] IntegrityError),
    /// harbor-core's float kernels refuse the file.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// The board whose IMU the card's conversion was computed for cannot be loaded.
    #[error("{}: normalization.board `{board}`: {source}", card.display())]
    Board {
        /// The card.
        card: PathBuf,
        /// The board named there.
        board: String,
        /// Why it cannot be loaded.
        #[source]
        source: BoardError,
    },
    /// The float model's input or output size is not the int8 model's.
    #[error("{}: {what} has {float} values, the int8 model's {int8}: not the same network", path.display())]
    Shape {
        /// The float model file.
        path: PathBuf,
        /// `input` or `output`.
        what: &'static str,
        /// Values in the float model.
        float: usize,
        /// Values in the int8 model.
        int8: usize,
    },
}

/// The float32 network of an imported model and how raw IMU counts become its input.
pub struct FloatReference {
    model: HostFloat,
    mean: Vec<f32>,
    std: Vec<f32>,
    /// Physical units (m/s², rad/s) per raw count, per channel.
    units_per_count: Vec<f64>,
}

impl FloatReference {
    /// The float reference of model directory `dir` (card `card`, int8 model `int8`), or
    /// `None` when the card lists no `float_file`.
    pub fn load(
        dir: &Path,
        card: &ModelCard,
        int8: &HostModel,
    ) -> Result<Option<Self>, FloatReferenceError> {
        let Some(info) = &card.float_file else {
            return Ok(None);
        };
        let path = dir.join(&info.name);
        let bytes = std::fs::read(&path).map_err(|source| IntegrityError::Io {
            path: path.clone(),
            source,
        })?;
        check_file(info, "float_file", &path, &bytes)?;
        let model = HostFloat::from_bytes(&path, &bytes)?;
        for (what, float, int8) in [
            ("input", model.input_len(), int8.input().len()),
            ("output", model.output_len(), int8.output().len()),
        ] {
            if float != int8 {
                return Err(FloatReferenceError::Shape {
                    path,
                    what,
                    float,
                    int8,
                });
            }
        }
        let board_name = card
            .normalization
            .board
            .clone()
            .unwrap_or_else(|| BoardProfile::DEFAULT.to_string());
        let board =
            BoardProfile::load(&board_name).map_err(|source| FloatReferenceError::Board {
                card: dir.join(super::saved::CARD_FILE),
                board: board_name,
                source,
            })?;
        let units_per_count = (0..AXES)
            .map(|c| {
                if c < 3 {
                    board.imu.accel_scale()
                } else {
                    board.imu.gyro_scale()
                }
            })
            .collect();
        Ok(Some(FloatReference {
            model,
            mean: card.normalization.stats.mean.clone(),
            std: card.normalization.stats.std.clone(),
            units_per_count,
        }))
    }

    /// The model input of a window of raw counts (`[sample][channel]`, flattened): physical
    /// units, then the card's normalization.
    pub fn input_of_counts(&self, counts: &[f32]) -> Vec<f32> {
        counts
            .iter()
            .enumerate()
            .map(|(i, &v)| {
                let c = i % AXES;
                let physical = f64::from(v) * self.units_per_count[c];
                ((physical - f64::from(self.mean[c])) / f64::from(self.std[c])) as f32
            })
            .collect()
    }

    /// The float model's class of each window of raw counts.
    pub fn classes_of_counts<'w>(
        &self,
        windows: impl IntoIterator<Item = &'w [f32]>,
    ) -> Result<Vec<usize>, ModelError> {
        let inputs: Vec<Vec<f32>> = windows
            .into_iter()
            .map(|w| self.input_of_counts(w))
            .collect();
        self.classes_of_inputs(inputs.iter().map(Vec::as_slice))
    }

    /// The float model's class of each model input (already normalized windows).
    pub fn classes_of_inputs<'w>(
        &self,
        inputs: impl IntoIterator<Item = &'w [f32]>,
    ) -> Result<Vec<usize>, ModelError> {
        Ok(self.model.run(inputs)?.iter().map(|o| argmax(o)).collect())
    }
}
