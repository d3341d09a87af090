//! Training loop: Adam on cross-entropy, seeded shuffling, early stopping on validation
//! macro-F1 (the best epoch's weights are kept).

use std::time::Instant;

use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::decay::WeightDecayConfig;
use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::*;
use serde::{Deserialize, Serialize};

use super::cnn::{Cnn, batch_tensor, target_tensor};
use crate::model::recipe::{EpochLog, TrainConfig};
use crate::model::windows::WindowSet;
use crate::model::{Arch, Confusion, FloatNet, argmax};
use crate::rng::SplitMix64;

/// How a training run went.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainReport {
    /// Epoch whose weights were kept.
    pub best_epoch: usize,
    /// Its validation macro-F1.
    pub best_val_macro_f1: f64,
    /// Every epoch's log.
    pub history: Vec<EpochLog>,
}

/// Hooks for a progress display; the default does nothing.
pub trait TrainProgress {
    /// An epoch of `batches` batches starts.
    fn epoch_start(&self, _epoch: usize, _batches: usize) {}
    /// One batch is done.
    fn batch_done(&self) {}
    /// An epoch ended with these figures.
    fn epoch_done(&self, _log: &EpochLog) {}
}

/// No progress display.
pub struct Quiet;
impl TrainProgress for Quiet {}

/// The training device: burn's pure-Rust CPU backend with autodiff, seeded.
pub fn device(seed: u64) -> Device {
    let device = Device::flex();
    device.seed(seed);
    device.autodiff()
}

/// Trains a fresh network on normalized `train` windows, stopping early on `val`.
pub fn train(
    arch: &Arch,
    train: &WindowSet,
    val: &WindowSet,
    cfg: &TrainConfig,
    progress: &dyn TrainProgress,
) -> (Cnn, TrainReport) {
    let device = device(cfg.seed);
    let model = Cnn::new(arch, &device);
    let (model, report) = fit(model, arch, train, Some(val), cfg, progress);
    if !cfg.refit_on_val {
        return (model, report);
    }
    (
        refit(arch, train, val, cfg, report.best_epoch, progress),
        report,
    )
}

/// A fresh network (same seed) trained on `train` + `val` for `epochs` epochs: the epoch
/// count early stopping chose, with more users behind it.
pub fn refit(
    arch: &Arch,
    train: &WindowSet,
    val: &WindowSet,
    cfg: &TrainConfig,
    epochs: usize,
    progress: &dyn TrainProgress,
) -> Cnn {
    let mut all = train.clone();
    all.extend(val);
    let cfg = TrainConfig {
        max_epochs: epochs,
        ..cfg.clone()
    };
    let model = Cnn::new(arch, &device(cfg.seed));
    fit(model, arch, &all, None, &cfg, progress).0
}

/// Loss weights that give every class the same total weight: `n / (classes · n_c)`.
fn balanced_weights(set: &WindowSet, classes: usize) -> Vec<f32> {
    let counts = set.class_counts(classes);
    counts
        .iter()
        .map(|&c| {
            if c == 0 {
                1.0
            } else {
                set.len() as f32 / (classes as f32 * c as f32)
            }
        })
        .collect()
}

/// Runs the epoch loop on `model` (fresh or partly frozen). With `val`, it stops early and
/// returns the best epoch's model; without, it runs every epoch and returns the last.
/// `cfg.dropout` applies while training only: the returned model has none.
pub fn fit(
    model: Cnn,
    arch: &Arch,
    train: &WindowSet,
    val: Option<&WindowSet>,
    cfg: &TrainConfig,
    progress: &dyn TrainProgress,
) -> (Cnn, TrainReport) {
    let mut model = model.with_dropout(cfg.dropout);
    let device = model.head.weight.val().device();
    let loss_fn = CrossEntropyLossConfig::new()
        .with_smoothing((cfg.label_smoothing > 0.0).then_some(cfg.label_smoothing as f32))
        .with_weights(
            cfg.class_balanced
                .then(|| balanced_weights(train, arch.classes)),
        )
        .init(&device);
    let mut optim = AdamConfig::new()
        .with_weight_decay(
            (cfg.weight_decay > 0.0).then(|| WeightDecayConfig::new(cfg.weight_decay as f32)),
        )
        .init();
    let mut rng = SplitMix64::new(cfg.seed);
    let mut order: Vec<usize> = (0..train.len()).collect();
    let mut best: Option<(f64, usize, Cnn)> = None;
    let mut history = Vec::new();
    let batches = train.len().div_ceil(cfg.batch_size.max(1));
    for epoch in 1..=cfg.max_epochs {
        let started = Instant::now();
        progress.epoch_start(epoch, batches);
        rng.shuffle(&mut order);
        let mut loss_sum = 0.0;
        for chunk in order.chunks(cfg.batch_size.max(1)) {
            let (x, y) = gather(train, chunk);
            let logits = model.forward(batch_tensor(
                &x,
                chunk.len(),
                train.window,
                train.channels,
                &device,
            ));
            let loss = loss_fn.forward(logits, target_tensor(&y, &device));
            loss_sum += f64::from(loss.clone().into_scalar::<f32>()) * chunk.len() as f64;
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optim.step(cfg.learning_rate, model, grads);
            progress.batch_done();
        }
        let Some(val) = val else {
            let log = EpochLog {
                epoch,
                train_loss: loss_sum / train.len().max(1) as f64,
                val_accuracy: 0.0,
                val_macro_f1: 0.0,
                seconds: started.elapsed().as_secs_f64(),
            };
            progress.epoch_done(&log);
            history.push(log);
            continue;
        };
        let confusion = evaluate(&model, arch, val);
        let log = EpochLog {
            epoch,
            train_loss: loss_sum / train.len().max(1) as f64,
            val_accuracy: confusion.accuracy(),
            val_macro_f1: confusion.macro_f1(),
            seconds: started.elapsed().as_secs_f64(),
        };
        progress.epoch_done(&log);
        let improved = best
            .as_ref()
            .is_none_or(|(f1, _, _)| log.val_macro_f1 > *f1);
        history.push(log.clone());
        if improved {
            best = Some((log.val_macro_f1, epoch, model.clone()));
        } else if best
            .as_ref()
            .is_some_and(|(_, e, _)| epoch - e >= cfg.patience)
        {
            break;
        }
    }
    match best {
        Some((f1, epoch, m)) => (
            m.with_dropout(0.0),
            TrainReport {
                best_epoch: epoch,
                best_val_macro_f1: f1,
                history,
            },
        ),
        None => (
            model.with_dropout(0.0),
            TrainReport {
                best_epoch: history.len(),
                best_val_macro_f1: 0.0,
                history,
            },
        ),
    }
}

fn gather(set: &WindowSet, indices: &[usize]) -> (Vec<f32>, Vec<usize>) {
    let mut x = Vec::with_capacity(indices.len() * set.stride());
    let mut y = Vec::with_capacity(indices.len());
    for &i in indices {
        x.extend_from_slice(set.get(i));
        y.push(set.y[i]);
    }
    (x, y)
}

/// Predicted class of every window (inference without autodiff, in batches).
pub fn predict(model: &Cnn, set: &WindowSet) -> Vec<usize> {
    logits(model, set).iter().map(|l| argmax(l)).collect()
}

/// Float logits of every window.
pub fn logits(model: &Cnn, set: &WindowSet) -> Vec<Vec<f32>> {
    let model = model.valid();
    let device = model.head.weight.val().device();
    let classes = model.head.bias.as_ref().map_or(0, |b| b.dims()[0]);
    let mut out = Vec::with_capacity(set.len());
    let indices: Vec<usize> = (0..set.len()).collect();
    for chunk in indices.chunks(256) {
        let (x, _) = gather(set, chunk);
        let l = model.forward(batch_tensor(
            &x,
            chunk.len(),
            set.window,
            set.channels,
            &device,
        ));
        let flat = l.into_data().try_to_vec::<f32>().unwrap_or_default();
        out.extend(flat.chunks(classes.max(1)).map(|c| c.to_vec()));
    }
    out
}

/// Confusion matrix of `model` on normalized `set`.
pub fn evaluate(model: &Cnn, arch: &Arch, set: &WindowSet) -> Confusion {
    Confusion::from_pairs(arch.classes, &set.y, &predict(model, set))
}

/// Loads [`FloatNet`] weights back into a burn model (for fine-tuning a saved model).
pub fn from_float_net(net: &FloatNet, device: &Device) -> Cnn {
    use burn::module::Param;
    let mut model = Cnn::new(&net.arch, device);
    for ((block, params), shape) in model
        .blocks
        .iter_mut()
        .zip(&net.convs)
        .zip(net.arch.block_shapes())
    {
        let k = block.conv.kernel_size;
        let w = Tensor::<3>::from_data(
            TensorData::new(
                params.weight.clone(),
                [shape.out_channels, shape.in_channels, k],
            ),
            device,
        );
        block.conv.weight = Param::from_tensor(w);
        block.conv.bias = Some(Param::from_tensor(Tensor::<1>::from_data(
            TensorData::new(params.bias.clone(), [shape.out_channels]),
            device,
        )));
    }
    let (f, c) = (net.arch.features(), net.arch.classes);
    let w = Tensor::<2>::from_data(TensorData::new(net.head.weight.clone(), [c, f]), device);
    let w = if model.head.weight.dims() == [f, c] {
        w.transpose()
    } else {
        w
    };
    model.head.weight = Param::from_tensor(w);
    model.head.bias = Some(Param::from_tensor(Tensor::<1>::from_data(
        TensorData::new(net.head.bias.clone(), [c]),
        device,
    )));
    model
}
