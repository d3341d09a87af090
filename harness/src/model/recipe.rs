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
    /// Adam's L2 penalty on every weight (0: none).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub weight_decay: f64,
    /// Label smoothing of the cross-entropy target (0: one-hot).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub label_smoothing: f64,
    /// Dropout probability on the pooled features before the dense head (0: none).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub dropout: f64,
    /// Weight each class's loss by the inverse of its share of the training windows.
    #[serde(default, skip_serializing_if = "is_false")]
    pub class_balanced: bool,
    /// After early stopping, train afresh on training + validation windows for the best
    /// epoch count and keep that model.
    #[serde(default, skip_serializing_if = "is_false")]
    pub refit_on_val: bool,
}

fn is_zero(v: &f64) -> bool {
    *v == 0.0
}

fn is_false(v: &bool) -> bool {
    !*v
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            max_epochs: 40,
            batch_size: 64,
            learning_rate: 2e-3,
            patience: 6,
            seed: 2019,
            weight_decay: 0.0,
            label_smoothing: 0.0,
            dropout: 0.0,
            class_balanced: false,
            refit_on_val: false,
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
