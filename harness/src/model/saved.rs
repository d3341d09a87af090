//! A model directory on disk: `model.tflite`, `card.yaml`, `float.json` and the optional
//! float32 reference and golden inputs, and what loading it can go wrong with.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::card::ModelCard;
use super::float_net::FloatNet;
use super::input::{InputQuant, Normalization};
use super::quantize::QuantModel;
use super::windows::WindowSet;

/// The int8 model file inside a model directory.
pub const MODEL_FILE: &str = "model.tflite";
/// The model card inside a model directory.
pub const CARD_FILE: &str = "card.yaml";
/// The float32 reference with the same graph (input: normalized windows).
pub const MODEL_F32_FILE: &str = "model_f32.tflite";
/// Float weights, normalization and quantization parameters (for eval and personalization).
pub const FLOAT_FILE: &str = "float.json";

/// Test windows kept as golden inputs: enough to cover every class, small to commit.
pub const GOLDEN_WINDOWS: usize = 64;

/// A model directory's file that cannot be read; names the file.
#[derive(Debug, thiserror::Error)]
pub enum ModelDirError {
    /// The file is missing or unreadable.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        #[source]
        /// The I/O error.
        source: std::io::Error,
    },
    /// `model.tflite` is not the model its card describes (or the card is unreadable).
    #[error(transparent)]
    Integrity(Box<super::integrity::IntegrityError>),
    /// `float.json` is not the float model harbor writes.
    #[error("{}: {source}", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        #[source]
        /// The parse error.
        source: serde_json::Error,
    },
}

/// Everything a model directory holds.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Trained {
    /// Float weights (the trained network).
    pub net: FloatNet,
    /// Per-channel input statistics the network was trained with.
    pub norm: Normalization,
    /// int8 parameters of every layer.
    pub quant: QuantModel,
    /// Class names, in output order.
    pub classes: Vec<String>,
    /// The int8 `.tflite`.
    #[serde(skip)]
    pub tflite: Vec<u8>,
    /// The float32 reference as `.tflite` (empty when not exported).
    #[serde(skip)]
    pub tflite_f32: Vec<u8>,
    /// The model card, when this run wrote one.
    #[serde(skip)]
    pub card: Option<ModelCard>,
    /// int8 inputs (after the band's input conversion) of a few test windows, for golden
    /// vectors from TFLite Micro.
    #[serde(skip)]
    pub golden_inputs: Vec<Vec<i8>>,
}

impl Trained {
    /// Reads a model directory: `model.tflite` checked against its card (size, SHA-256,
    /// classes), then `float.json`.
    pub fn load(dir: &Path) -> Result<Trained, ModelDirError> {
        let checked = super::integrity::load_checked(dir)
            .map_err(|e| ModelDirError::Integrity(Box::new(e)))?;
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| ModelDirError::Io { path, source }
        };
        let path = dir.join(FLOAT_FILE);
        let text = std::fs::read_to_string(&path).map_err(io(&path))?;
        let mut trained: Trained =
            serde_json::from_str(&text).map_err(|source| ModelDirError::Json {
                path: path.clone(),
                source,
            })?;
        trained.tflite = checked.host.model_bytes().to_vec();
        trained.card = Some(checked.card);
        Ok(trained)
    }
}

/// Every `len / n`-th window's int8 input, so the sample spans all subjects and classes.
pub fn golden_inputs(
    norm: &Normalization,
    quant: &QuantModel,
    set: &WindowSet,
    n: usize,
) -> Vec<Vec<i8>> {
    let conv = InputQuant::new(norm, quant.input.scale, quant.input.zero_point);
    let step = (set.len() / n.max(1)).max(1);
    (0..set.len())
        .step_by(step)
        .take(n)
        .map(|i| conv.quantize_window(set.get(i), set.channels))
        .collect()
}
