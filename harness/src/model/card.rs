//! The model card (`card.yaml`) written next to every `model.tflite`.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::confusion::ClassScore;
use super::input::{InputQuant, Normalization};
use super::recipe::{EpochLog, PersonalizeConfig, TrainConfig};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelCard {
    pub name: String,
    /// `tiny`, `small` or `base`.
    pub variant: String,
    /// `int8`.
    pub precision: String,
    /// `generalized` or `personalized:<subject>`.
    pub audience: String,
    pub dataset: DatasetInfo,
    pub classes: Vec<ClassInfo>,
    pub input: InputInfo,
    pub normalization: NormalizationInfo,
    pub architecture: ArchitectureInfo,
    pub recipe: Recipe,
    pub results: Results,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub personalization: Option<PersonalizationStudy>,
    pub file: FileInfo,
    /// The one command that rebuilds this directory.
    pub reproduce: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DatasetInfo {
    pub name: String,
    pub body_position: String,
    pub train_subjects: Vec<String>,
    pub val_subjects: Vec<String>,
    pub test_subjects: Vec<String>,
    /// Held out of training entirely, for the personalization study.
    pub personal_subjects: Vec<String>,
    pub train_windows: usize,
    pub val_windows: usize,
    pub test_windows: usize,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClassInfo {
    pub name: String,
    /// Canonical activity names merged into this class.
    pub activities: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InputInfo {
    pub rate_hz: f64,
    pub window_samples: usize,
    pub window_stride_samples: usize,
    pub channels: Vec<String>,
    /// Units of the values the normalization statistics are in.
    pub units: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NormalizationInfo {
    pub stats: Normalization,
    /// The int8 input tensor's quantization.
    pub input_scale: f32,
    pub input_zero_point: i32,
    /// The band's per-reading conversion (see `harbor::model::input`).
    pub device_conversion: InputQuant,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ArchitectureInfo {
    pub layers: Vec<String>,
    pub params: usize,
    pub macs_per_window: usize,
    pub int8_weight_bytes: usize,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Recipe {
    pub framework: String,
    pub optimizer: String,
    pub loss: String,
    pub train: TrainConfig,
    pub best_epoch: usize,
    pub epochs_run: usize,
    /// Per-epoch loss, validation scores and wall time on the machine that trained it.
    #[serde(default)]
    pub history: Vec<EpochLog>,
    pub calibration_windows: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub personalize: Option<PersonalizeConfig>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Scores {
    pub accuracy: f64,
    pub macro_f1: f64,
    pub per_class: Vec<ClassScore>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Results {
    /// What the scores are measured on, e.g. `test subjects 1601, 1607, ...`.
    pub evaluated_on: String,
    pub windows: usize,
    pub float: Scores,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub int8: Option<Scores>,
    /// Share of windows where float and int8 pick the same class.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub float_int8_agreement: Option<f64>,
    /// How the int8 scores were computed (engine).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub int8_engine: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PersonalizationStudy {
    pub shots_per_class: usize,
    pub users: Vec<UserResult>,
    pub mean_generalized_accuracy: f64,
    pub mean_personalized_accuracy: f64,
    pub published: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UserResult {
    pub subject: String,
    pub eval_windows: usize,
    pub generalized_accuracy: f64,
    pub personalized_accuracy: f64,
    pub generalized_macro_f1: f64,
    pub personalized_macro_f1: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FileInfo {
    pub name: String,
    pub bytes: u64,
    pub sha256: String,
}

/// A card that cannot be read, with the file it came from.
#[derive(Debug, thiserror::Error)]
pub enum CardError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Parse { path: String, message: String },
    /// The card cannot be written as YAML.
    #[error("model card: {0}")]
    Serialize(String),
}

impl ModelCard {
    /// The card as `card.yaml` text.
    pub fn to_yaml(&self) -> Result<String, CardError> {
        serde_saphyr::to_string(self).map_err(|e| CardError::Serialize(e.to_string()))
    }

    /// Reads a `card.yaml`.
    pub fn load(path: &Path) -> Result<ModelCard, CardError> {
        let text = std::fs::read_to_string(path).map_err(|source| CardError::Io {
            path: path.display().to_string(),
            source,
        })?;
        serde_saphyr::from_str(&text).map_err(|e| CardError::Parse {
            path: path.display().to_string(),
            message: e.to_string(),
        })
    }
}

/// Lower-case hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
