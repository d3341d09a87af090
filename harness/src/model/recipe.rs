//! Training and fine-tuning recipes and the per-epoch log: plain data, recorded in every
//! model card, so cards read and write without the training framework.

use serde::{Deserialize, Serialize};

/// Hyper-parameters of a training run (all recorded in the model card).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    pub max_epochs: usize,
    pub batch_size: usize,
    pub learning_rate: f64,
    /// Epochs without a better validation macro-F1 before stopping.
    pub patience: usize,
    pub seed: u64,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            max_epochs: 40,
            batch_size: 64,
            learning_rate: 2e-3,
            patience: 6,
            seed: 2019,
        }
    }
}

/// Fine-tuning recipe for the head.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PersonalizeConfig {
    pub shots: usize,
    pub epochs: usize,
    pub batch_size: usize,
    pub learning_rate: f64,
    pub seed: u64,
}

impl Default for PersonalizeConfig {
    fn default() -> Self {
        PersonalizeConfig {
            shots: 15,
            epochs: 30,
            batch_size: 16,
            learning_rate: 5e-3,
            seed: 2019,
        }
    }
}

/// One training epoch's loss, validation scores and wall time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochLog {
    pub epoch: usize,
    pub train_loss: f64,
    pub val_accuracy: f64,
    pub val_macro_f1: f64,
    pub seconds: f64,
}
