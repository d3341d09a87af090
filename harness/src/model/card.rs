//! The model card (`card.yaml`) written next to every `model.tflite`.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::arch::Arch;
use super::confusion::ClassScore;
use super::input::{InputQuant, Normalization};
use super::quantize::ActQuant;
use super::recipe::{EpochLog, PersonalizeConfig, TrainConfig};

/// The model card: what a model is, what it was trained on, how, and how well it scores.
///
/// Only `name`, `precision`, `classes`, `input`, `normalization` and `file` are required: the
/// training provenance (dataset, architecture, recipe, results, personalization, reproduce)
/// is absent from the cards of models harbor did not train (docs/models.md, card fields).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelCard {
    /// The model directory's name.
    pub name: String,
    /// `trained` (by `harbor models train`) or `imported` (`harbor models import`).
    #[serde(default = "trained")]
    pub provenance: String,
    /// `tiny`, `small` or `base` for harbor's variants.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub variant: String,
    /// `int8`.
    pub precision: String,
    /// `generalized` or `personalized:<subject>`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub audience: String,
    /// The dataset and its subject-wise split.
    #[serde(default, skip_serializing_if = "is_default")]
    pub dataset: DatasetInfo,
    /// Output classes, in order.
    pub classes: Vec<ClassInfo>,
    /// What one input window is.
    pub input: InputInfo,
    /// Normalization statistics and the band's input conversion.
    pub normalization: NormalizationInfo,
    /// Layers and their counts.
    #[serde(default, skip_serializing_if = "is_default")]
    pub architecture: ArchitectureInfo,
    /// How the model was trained.
    #[serde(default, skip_serializing_if = "is_default")]
    pub recipe: Recipe,
    /// Scores on the held-out subjects.
    #[serde(default, skip_serializing_if = "is_default")]
    pub results: Results,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// The personalization study, when the run made one.
    pub personalization: Option<PersonalizationStudy>,
    /// The `.tflite` file: name, size and hash.
    pub file: FileInfo,
    /// The float32 reference `.tflite` given at import (`model_f32.tflite`), when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub float_file: Option<FileInfo>,
    /// The one command that rebuilds this directory.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reproduce: String,
}

/// The provenance of cards written before the field existed.
fn trained() -> String {
    "trained".into()
}

fn is_default<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}

/// The dataset a model was trained on and its subject-wise split.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DatasetInfo {
    /// Dataset format name.
    pub name: String,
    /// Where the sensor was worn.
    pub body_position: String,
    /// How subjects were assigned to parts: the seeded protocol or the explicit lists.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub split: String,
    /// Subjects in the training part.
    pub train_subjects: Vec<String>,
    /// Subjects in the validation part.
    pub val_subjects: Vec<String>,
    /// Held-out subjects the scores are measured on.
    pub test_subjects: Vec<String>,
    /// Held out of training entirely, for the personalization study.
    pub personal_subjects: Vec<String>,
    /// Training windows.
    pub train_windows: usize,
    /// Validation windows.
    pub val_windows: usize,
    /// Test windows.
    pub test_windows: usize,
    /// How inputs were standardized when the model trained on several datasets
    /// (`per-dataset` or `global`); empty for one dataset.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub normalize: String,
    /// The datasets of a model trained on several (`--datasets`), in the order given.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<SourceDatasetInfo>,
}

/// One dataset of a model trained on several.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SourceDatasetInfo {
    /// Dataset format name.
    pub name: String,
    /// What its split drew: `subject`, or `session` for a dataset with too few subjects.
    pub split_unit: String,
    /// Its activities that have windows.
    pub activities: Vec<String>,
    /// Training subjects (`<dataset>:<id>`).
    pub train_subjects: Vec<String>,
    /// Validation subjects.
    pub val_subjects: Vec<String>,
    /// Test subjects.
    pub test_subjects: Vec<String>,
    /// Training windows.
    pub train_windows: usize,
    /// Validation windows.
    pub val_windows: usize,
    /// Test windows.
    pub test_windows: usize,
    /// Per-channel mean and std that take this dataset's raw counts to the network's input
    /// (its device conversion); the card's `normalization` is the first dataset's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub normalization: Option<Normalization>,
}

/// One output class.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ClassInfo {
    /// Class name.
    pub name: String,
    /// Canonical activity names merged into this class.
    pub activities: Vec<String>,
}

/// What one input window is.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct InputInfo {
    /// Model sample rate.
    pub rate_hz: f64,
    /// Samples per window.
    pub window_samples: usize,
    /// Samples between window starts.
    pub window_stride_samples: usize,
    /// Channel names, in input order.
    pub channels: Vec<String>,
    /// Units of the values the normalization statistics are in.
    pub units: String,
}

/// Normalization and input quantization.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NormalizationInfo {
    /// Per-channel mean and standard deviation.
    pub stats: Normalization,
    /// The int8 input tensor's quantization.
    pub input_scale: f32,
    /// The int8 input tensor's zero point.
    pub input_zero_point: i32,
    /// The band's per-reading conversion (see `harbor::model::input`).
    pub device_conversion: InputQuant,
    /// The board profile whose IMU sensitivities `device_conversion` was computed for
    /// (imported models; harbor's own are trained on that board's raw counts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub board: Option<String>,
}

impl NormalizationInfo {
    /// A model harbor trained on `board`'s raw counts: `stats` and the int8 input tensor's
    /// quantization, with the band's conversion derived from both.
    pub fn trained(stats: &Normalization, input: &ActQuant) -> Self {
        Self {
            stats: stats.clone(),
            input_scale: input.scale,
            input_zero_point: input.zero_point,
            device_conversion: InputQuant::new(stats, input.scale, input.zero_point),
            board: None,
        }
    }
}

/// Layers and their counts.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ArchitectureInfo {
    /// One line per layer.
    pub layers: Vec<String>,
    /// Trainable parameters.
    pub params: usize,
    /// Multiply-accumulates per window.
    pub macs_per_window: usize,
    /// Bytes of int8 weights.
    pub int8_weight_bytes: usize,
}

impl ArchitectureInfo {
    /// The card's description of `arch`.
    pub fn of(arch: &Arch) -> Self {
        Self {
            layers: arch.describe(),
            params: arch.params(),
            macs_per_window: arch.macs(),
            int8_weight_bytes: arch.int8_weight_bytes(),
        }
    }
}

/// How a model was trained.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Recipe {
    /// Training framework and backend.
    pub framework: String,
    /// Optimizer and its settings.
    pub optimizer: String,
    /// Loss function.
    pub loss: String,
    /// Training hyper-parameters.
    pub train: TrainConfig,
    /// Epoch whose weights were kept (best validation macro-F1).
    pub best_epoch: usize,
    /// Epochs run before early stopping.
    pub epochs_run: usize,
    /// Per-epoch loss, validation scores and wall time on the machine that trained it.
    #[serde(default)]
    pub history: Vec<EpochLog>,
    /// Windows the activation ranges were calibrated on.
    pub calibration_windows: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Fine-tuning recipe, when the card covers personalization.
    pub personalize: Option<PersonalizeConfig>,
}

/// Accuracy, macro-F1 and per-class scores.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Scores {
    /// Share of windows classified right.
    pub accuracy: f64,
    /// Mean F1 over the classes present.
    pub macro_f1: f64,
    /// Precision, recall and F1 per class.
    pub per_class: Vec<ClassScore>,
}

/// A model's scores.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Results {
    /// What the scores are measured on, e.g. `test subjects 1601, 1607, ...`.
    pub evaluated_on: String,
    /// Windows scored.
    pub windows: usize,
    /// Float model scores.
    pub float: Scores,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// int8 model scores, when measured.
    pub int8: Option<Scores>,
    /// Share of windows where float and int8 pick the same class.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub float_int8_agreement: Option<f64>,
    /// How the int8 scores were computed (engine).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub int8_engine: Option<String>,
}

/// Per-user generalized vs personalized accuracy (the BandX protocol).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PersonalizationStudy {
    /// Labelled windows per class each user gives.
    pub shots_per_class: usize,
    /// One result per held-out user.
    pub users: Vec<UserResult>,
    /// Mean accuracy of the generalized model over the users.
    pub mean_generalized_accuracy: f64,
    /// Mean accuracy after fine-tuning.
    pub mean_personalized_accuracy: f64,
    /// The published figures to compare with.
    pub published: String,
}

/// One user's scores before and after personalization.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct UserResult {
    /// The user's subject id.
    pub subject: String,
    /// Windows scored (not used for fine-tuning).
    pub eval_windows: usize,
    /// Accuracy of the generalized model.
    pub generalized_accuracy: f64,
    /// Accuracy of the personalized model.
    pub personalized_accuracy: f64,
    /// Macro-F1 of the generalized model.
    pub generalized_macro_f1: f64,
    /// Macro-F1 of the personalized model.
    pub personalized_macro_f1: f64,
}

/// The model file a card describes.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FileInfo {
    /// File name inside the model directory.
    pub name: String,
    /// Size in bytes.
    pub bytes: u64,
    /// Lower-case hex SHA-256.
    pub sha256: String,
}

/// A card that cannot be read, with the file it came from.
#[derive(Debug, thiserror::Error)]
pub enum CardError {
    #[error("{path}: {source}")]
    /// The card file cannot be read.
    Io {
        /// The card file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    /// The card is not valid YAML for a model card.
    Parse {
        /// The card file.
        path: String,
        /// What the parser says.
        message: String,
    },
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
