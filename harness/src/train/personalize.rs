//! Personalization as in the BandX study: freeze every layer but the dense head and
//! fine-tune the head on a few labelled windows per class of one user.

use burn::module::Module;
use serde::{Deserialize, Serialize};

use super::arch::Arch;
use super::data::WindowSet;
use super::fit::{self, TrainConfig, TrainProgress};
use super::model::Cnn;

/// How a user's windows are split into fine-tuning shots and evaluation windows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShotSplit {
    pub shots: Vec<usize>,
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

/// Freezes all conv blocks of `model` (their parameters stop requiring gradients).
pub fn freeze_features(model: Cnn) -> Cnn {
    Cnn {
        blocks: model.blocks.freeze(),
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
    };
    fit::fit(model, arch, shots, None, &train_cfg, progress).0
}
