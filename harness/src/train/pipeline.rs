//! One training run end to end: normalize, train, quantize, export, score float and int8,
//! run the personalization study, and fill in the model card.

use serde::{Deserialize, Serialize};

use super::TrainError;
use super::cnn::Cnn;
use super::fit::{self, TrainProgress};
use super::personalize;
use crate::model::card::{
    ArchitectureInfo, ClassInfo, DatasetInfo, FileInfo, InputInfo, ModelCard, NormalizationInfo,
    PersonalizationStudy, Recipe, Results, Scores, UserResult, sha256_hex,
};
use crate::model::eval::evaluate;
use crate::model::export::{to_tflite, to_tflite_f32};
use crate::model::input::Normalization;
use crate::model::quantize::{QuantModel, quantize, requantize_head};
use crate::model::recipe::{PersonalizeConfig, TrainConfig};
use crate::model::saved::{GOLDEN_WINDOWS, Trained, golden_inputs};
use crate::model::windows::WindowSet;
use crate::model::{Arch, ClassSet, Confusion, FloatNet, Variant};
use crate::rng::SplitMix64;

/// Subject-wise splits of raw (un-normalized) windows, as `signal::split`'s
/// personalization split makes them: `test` holds the held-out users' evaluation windows,
/// `finetune` their few labelled windows per class (none overlapping `test`).
#[derive(Clone, Debug, Default)]
pub struct Splits {
    /// Training windows.
    pub train: WindowSet,
    /// Validation windows (early stopping).
    pub val: WindowSet,
    /// Held-out users' evaluation windows.
    pub test: WindowSet,
    /// Held-out users' fine-tuning windows.
    pub finetune: WindowSet,
}

/// Where the windows came from, for the card.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    /// Dataset format name.
    pub dataset: String,
    /// Where the sensor was worn.
    pub body_position: String,
    /// How subjects were assigned to parts (recorded in the card).
    pub split: String,
    /// What one input window is.
    pub input: InputInfo,
}

/// What to train and how to describe it.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Model directory name.
    pub name: String,
    /// Which size.
    pub variant: Variant,
    /// Training hyper-parameters.
    pub train: TrainConfig,
    /// Fine-tuning recipe for the personalization study.
    pub personalize: PersonalizeConfig,
    /// Windows to calibrate activation ranges on.
    pub calibration_windows: usize,
    /// The command that rebuilds the directory (for the card).
    pub reproduce: String,
}

fn scores(c: &Confusion) -> Scores {
    Scores {
        accuracy: c.accuracy(),
        macro_f1: c.macro_f1(),
        per_class: c.per_class(),
    }
}

/// A seeded sample of up to `n` windows for calibration.
fn calibration_set(train: &WindowSet, n: usize, seed: u64) -> WindowSet {
    let mut idx: Vec<usize> = (0..train.len()).collect();
    SplitMix64::new(seed ^ 0xCA11).shuffle(&mut idx);
    idx.truncate(n);
    train.select(&idx)
}

/// Trains, quantizes, exports and scores one variant; runs the personalization study on
/// `splits.personal` when it has windows.
pub fn run(
    splits: &Splits,
    classes: &ClassSet,
    provenance: &Provenance,
    opts: &RunOptions,
    progress: &dyn TrainProgress,
) -> Result<Trained, TrainError> {
    if splits.train.is_empty() || splits.val.is_empty() || splits.test.is_empty() {
        return Err(TrainError::EmptySplit {
            train: splits.train.len(),
            val: splits.val.len(),
            test: splits.test.len(),
        });
    }
    let arch = Arch::new(
        opts.variant,
        splits.train.window,
        splits.train.channels,
        classes.len(),
    )?;
    let norm = Normalization::fit(&splits.train);
    let train_n = norm.apply(&splits.train);
    let val_n = norm.apply(&splits.val);
    let (model, report) = fit::train(&arch, &train_n, &val_n, &opts.train, progress);
    let net = model.to_float_net(&arch);
    let calibration = calibration_set(&train_n, opts.calibration_windows, opts.train.seed);
    let quant = quantize(&net, &calibration);
    let description = format!("harbor {} ({})", opts.name, arch.describe().join("; "));
    let tflite = to_tflite(&quant, &description)?;
    let eval = evaluate(&net, &norm, &quant, &tflite, &splits.test)?;

    let study = if splits.finetune.is_empty() {
        None
    } else {
        Some(personalization_study(
            &model,
            &arch,
            &norm,
            &splits.finetune,
            &splits.test,
            &opts.personalize,
            progress,
        ))
    };

    let subjects = |s: &WindowSet| s.subjects();
    let card = ModelCard {
        name: opts.name.clone(),
        provenance: "trained".into(),
        variant: opts.variant.name().to_string(),
        precision: "int8".into(),
        audience: "generalized".into(),
        dataset: DatasetInfo {
            name: provenance.dataset.clone(),
            body_position: provenance.body_position.clone(),
            split: provenance.split.clone(),
            train_subjects: subjects(&splits.train),
            val_subjects: subjects(&splits.val),
            test_subjects: subjects(&splits.test),
            personal_subjects: subjects(&splits.finetune),
            train_windows: splits.train.len(),
            val_windows: splits.val.len(),
            test_windows: splits.test.len(),
            normalize: String::new(),
            sources: Vec::new(),
        },
        classes: (0..classes.len())
            .map(|c| ClassInfo {
                name: classes.classes[c].clone(),
                activities: classes.members_of(c),
            })
            .collect(),
        input: provenance.input.clone(),
        normalization: NormalizationInfo::trained(&norm, &quant.input),
        architecture: ArchitectureInfo::of(&arch),
        recipe: Recipe {
            framework: "burn 0.22.1 (flex CPU backend, f32)".into(),
            optimizer: "adam (beta1 0.9, beta2 0.999, eps 1e-5)".into(),
            loss: "cross-entropy".into(),
            train: opts.train.clone(),
            best_epoch: report.best_epoch,
            epochs_run: report.history.len(),
            history: report.history.clone(),
            calibration_windows: calibration.len(),
            personalize: study.as_ref().map(|_| opts.personalize.clone()),
        },
        results: Results {
            evaluated_on: format!("test subjects {}", subjects(&splits.test).join(", ")),
            windows: splits.test.len(),
            float: scores(&eval.float),
            int8: Some(scores(&eval.int8)),
            float_int8_agreement: Some(eval.agreement),
            int8_engine: Some("harbor-core interpreter (TFLite Micro arithmetic)".into()),
        },
        personalization: study,
        file: FileInfo {
            name: "model.tflite".into(),
            bytes: tflite.len() as u64,
            sha256: sha256_hex(&tflite),
        },
        float_file: None,
        reproduce: opts.reproduce.clone(),
    };
    let golden_inputs = golden_inputs(&norm, &quant, &splits.test, GOLDEN_WINDOWS);
    let tflite_f32 = to_tflite_f32(&net, &description)?;
    Ok(Trained {
        net,
        norm,
        quant,
        classes: classes.classes.clone(),
        tflite,
        tflite_f32,
        card: Some(card),
        golden_inputs,
    })
}

/// BandX protocol per held-out user: the user's fine-tuning windows train the head, the
/// user's other windows score the generalized and the personalized model.
pub fn personalization_study(
    base: &Cnn,
    arch: &Arch,
    norm: &Normalization,
    finetune: &WindowSet,
    test: &WindowSet,
    cfg: &PersonalizeConfig,
    _progress: &dyn TrainProgress,
) -> PersonalizationStudy {
    let mut users = Vec::new();
    for subject in finetune.subjects() {
        let shots = norm.apply(&spread_per_class(
            &finetune.filter_subjects(|s| s == subject),
            arch.classes,
            cfg.shots,
        ));
        let rest = norm.apply(&test.filter_subjects(|s| s == subject));
        if rest.is_empty() {
            continue;
        }
        // Per-user fine-tuning epochs are too short to be worth a progress line each.
        let tuned = personalize::personalize(base, arch, &shots, cfg, &fit::Quiet);
        let g = fit::evaluate(base, arch, &rest);
        let p = fit::evaluate(&tuned, arch, &rest);
        users.push(UserResult {
            subject,
            eval_windows: rest.len(),
            generalized_accuracy: g.accuracy(),
            personalized_accuracy: p.accuracy(),
            generalized_macro_f1: g.macro_f1(),
            personalized_macro_f1: p.macro_f1(),
        });
    }
    let mean = |f: fn(&UserResult) -> f64| {
        if users.is_empty() {
            0.0
        } else {
            users.iter().map(f).sum::<f64>() / users.len() as f64
        }
    };
    PersonalizationStudy {
        shots_per_class: cfg.shots,
        mean_generalized_accuracy: mean(|u| u.generalized_accuracy),
        mean_personalized_accuracy: mean(|u| u.personalized_accuracy),
        users,
        published: "BandX (WISDM smartwatch): generalized 0.716 -> personalized 0.803 with 15 samples/class".into(),
    }
}

/// `n` windows of each class, evenly spaced through that class's windows. The split gives
/// `n` windows per dataset activity; for a class that merges several activities (eating: 4)
/// this keeps `n` in total while drawing on every activity, not just the first one.
fn spread_per_class(set: &WindowSet, classes: usize, n: usize) -> WindowSet {
    let mut keep = Vec::new();
    for c in 0..classes {
        let idx: Vec<usize> = (0..set.len()).filter(|&i| set.y[i] == c).collect();
        let m = idx.len();
        keep.extend((0..n.min(m)).map(|k| idx[k * m / n.min(m)]));
    }
    keep.sort_unstable();
    set.select(&keep)
}

/// A saved model fine-tuned on normalized shots, before and after (burn models, for scoring).
struct FineTuned {
    base: Cnn,
    tuned: Cnn,
    net: FloatNet,
    quant: QuantModel,
    tflite: Vec<u8>,
}

fn fine_tune_head(
    base: &Trained,
    shots: &WindowSet,
    cfg: &PersonalizeConfig,
    progress: &dyn TrainProgress,
) -> Result<FineTuned, TrainError> {
    let arch = base.net.arch.clone();
    let device = fit::device(cfg.seed);
    let model = fit::from_float_net(&base.net, &device);
    let tuned = personalize::personalize(&model, &arch, shots, cfg, progress);
    let net = tuned.to_float_net(&arch);
    // The head's output range is calibrated on the shots: the user's only labelled data.
    let quant = requantize_head(&base.quant, &net, shots);
    let tflite = to_tflite(&quant, "harbor personalized model")?;
    Ok(FineTuned {
        base: model,
        tuned,
        net,
        quant,
        tflite,
    })
}

/// Fine-tunes a saved model's head on exactly `shots_raw` (raw int16 windows, all of them
/// used: e.g. the windows a user uploaded) and re-exports it; only the head changes.
pub fn personalize_on_shots(
    base: &Trained,
    shots_raw: &WindowSet,
    cfg: &PersonalizeConfig,
    progress: &dyn TrainProgress,
) -> Result<Trained, TrainError> {
    if shots_raw.is_empty() {
        return Err(TrainError::NoShots);
    }
    let shots = base.norm.apply(shots_raw);
    let t = fine_tune_head(base, &shots, cfg, progress)?;
    let tflite_f32 = to_tflite_f32(&t.net, "harbor personalized model (float32)")?;
    Ok(Trained {
        net: t.net,
        norm: base.norm.clone(),
        quant: t.quant,
        classes: base.classes.clone(),
        tflite: t.tflite,
        tflite_f32,
        card: None,
        golden_inputs: Vec::new(),
    })
}

/// Personalizes a saved model for one user and re-exports it (only the head changes).
pub fn personalize_saved(
    base: &Trained,
    user_raw: &WindowSet,
    cfg: &PersonalizeConfig,
    progress: &dyn TrainProgress,
) -> Result<(Trained, UserResult), TrainError> {
    let arch = base.net.arch.clone();
    let user = base.norm.apply(user_raw);
    let split = personalize::split_shots(&user, arch.classes, cfg.shots);
    if split.shots.is_empty() {
        return Err(TrainError::NoUserWindows);
    }
    let (shots, rest) = (user.select(&split.shots), user.select(&split.rest));
    let t = fine_tune_head(base, &shots, cfg, progress)?;
    let g = fit::evaluate(&t.base, &arch, &rest);
    let p = fit::evaluate(&t.tuned, &arch, &rest);
    let result = UserResult {
        subject: user_raw.subjects().join(","),
        eval_windows: rest.len(),
        generalized_accuracy: g.accuracy(),
        personalized_accuracy: p.accuracy(),
        generalized_macro_f1: g.macro_f1(),
        personalized_macro_f1: p.macro_f1(),
    };
    let golden_inputs = golden_inputs(
        &base.norm,
        &t.quant,
        &user_raw.select(&split.rest),
        GOLDEN_WINDOWS,
    );
    let tflite_f32 = to_tflite_f32(&t.net, "harbor personalized model (float32)")?;
    let trained = Trained {
        net: t.net,
        norm: base.norm.clone(),
        quant: t.quant,
        classes: base.classes.clone(),
        tflite: t.tflite,
        tflite_f32,
        card: None,
        golden_inputs,
    };
    Ok((trained, result))
}
