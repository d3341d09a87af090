//! Personalization as in the BandX study: freeze every layer but the dense head and
//! fine-tune the head on a few labelled windows per class of one user.

use burn::module::Module;

use super::cnn::Cnn;
use super::fit::{self, TrainProgress};
use crate::model::Arch;
use crate::model::recipe::{PersonalizeConfig, TrainConfig};
use crate::model::windows::WindowSet;

/// How a user's windows are split into fine-tuning shots and evaluation windows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShotSplit {
    /// Indices of the fine-tuning windows.
    pub shots: Vec<usize>,
    /// Indices of the evaluation windows.
    pub rest: Vec<usize>,
}

/// Takes `shots` windows of each class, evenly spaced through the user's windows of that
/// class (so a class merging several activities gets shots of each), keeping at least one
/// window of a class for evaluation; the rest is for evaluation. Windows must not overlap
/// (prepare them with overlap 0), or evaluation windows would share samples with the shots.
pub fn split_shots(user: &WindowSet, classes: usize, shots: usize) -> ShotSplit {
    let mut picked = Vec::new();
    let mut rest = Vec::new();
    for c in 0..classes {
        let idx: Vec<usize> = (0..user.len()).filter(|&i| user.y[i] == c).collect();
        let take = shots.min(idx.len().saturating_sub(1));
        let chosen: Vec<usize> = (0..take).map(|k| idx[k * idx.len() / take]).collect();
        rest.extend(idx.iter().filter(|i| !chosen.contains(i)));
        picked.extend(chosen);
    }
    picked.sort_unstable();
    rest.sort_unstable();
    ShotSplit {
        shots: picked,
        rest,
    }
}

/// Freezes all conv blocks of `model` (their parameters stop requiring gradients).
pub fn freeze_features(model: Cnn) -> Cnn {
    Cnn {
        blocks: model.blocks.freeze(),
        dropout: model.dropout,
        head: model.head,
    }
}

/// Fine-tunes the head of `base` on the normalized `shots` windows for a fixed number of
/// epochs (no early stopping: the shots are all the labels a user gives).
pub fn personalize(
    base: &Cnn,
    arch: &Arch,
    shots: &WindowSet,
    cfg: &PersonalizeConfig,
    progress: &dyn TrainProgress,
) -> Cnn {
    let model = freeze_features(base.clone());
    let train_cfg = TrainConfig {
        max_epochs: cfg.epochs,
        batch_size: cfg.batch_size,
        learning_rate: cfg.learning_rate,
        patience: usize::MAX,
        seed: cfg.seed,
        ..TrainConfig::default()
    };
    fit::fit(model, arch, shots, None, &train_cfg, progress).0
}
