//! Training and fine-tuning recipes and the per-epoch log: plain data, recorded in every
//! model card, so cards read and write without the training framework.

use serde::{Deserialize, Serialize};

/// Hyper-parameters of a training run (all recorded in the model card).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Upper bound on epochs (early stopping may end sooner).
    pub max_epochs: usize,
    /// Windows per batch.
    pub batch_size: usize,
    /// Adam learning rate.
    pub learning_rate: f64,
    /// Epochs without a better validation macro-F1 before stopping.
    pub patience: usize,
    /// Seed of initialization and batch order.
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
    /// Labelled windows per class.
    pub shots: usize,
    /// Fine-tuning epochs (no early stopping).
    pub epochs: usize,
    /// Windows per batch.
    pub batch_size: usize,
    /// Adam learning rate.
    pub learning_rate: f64,
    /// Seed of the batch order.
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
    /// Epoch number, from 1.
    pub epoch: usize,
    /// Mean training loss.
    pub train_loss: f64,
    /// Validation accuracy.
    pub val_accuracy: f64,
    /// Validation macro-F1.
    pub val_macro_f1: f64,
    /// Wall time of the epoch.
    pub seconds: f64,
}
