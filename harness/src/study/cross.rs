//! Cross-dataset studies (LODO, transfer): pre-train on source datasets, then make a model
//! for the target dataset with each strategy and fine-tuning ratio, and score it on the
//! target's held-out subjects on the host and, optionally, on the device.

use std::path::Path;

use super::StudyError;
use super::device::{DeviceTarget, score_on_device};
use super::phases::{Phase, PhaseClock};
use super::report::{Published, StudyRow};
use super::score::export;
use super::sources::{DatasetParts, concat};
use super::split::fine_tune_part;
use super::strategy::{Strategy, fine_tune};
use crate::datasets::DatasetKind;
use crate::model::input::Normalization;
use crate::model::recipe::TrainConfig;
use crate::model::union::{NormalizeMode, UnionWindows};
use crate::model::{Arch, Variant};
use crate::train::fit::{self, Quiet};

/// Source datasets: 10 % of their subjects validate the pre-training, 90 % train it.
pub const SOURCE_VAL_FRACTION: f64 = 0.1;
/// Target dataset: 20 % of its subjects test, 10 % validate the fine-tuning.
pub const TARGET_TEST_FRACTION: f64 = 0.2;
/// See [`TARGET_TEST_FRACTION`].
pub const TARGET_VAL_FRACTION: f64 = 0.1;

/// How a cross-dataset study runs.
#[derive(Clone, Debug)]
pub struct CrossConfig {
    /// Model size.
    pub variant: Variant,
    /// Fine-tuning ratios, % of the target's training part.
    pub ratios: Vec<f64>,
    /// Strategies, in report order.
    pub strategies: Vec<Strategy>,
    /// Per-dataset or global standardization.
    pub normalize: NormalizeMode,
    /// Pre-training and fine-tuning hyper-parameters (early stopping on validation).
    pub train: TrainConfig,
    /// Where the int8 models also run, if anywhere.
    pub device: Option<DeviceTarget>,
}

/// The split as the report states it.
pub fn split_description(seed: u64) -> String {
    format!(
        "subject-wise per dataset, seeded ({seed}): sources {:.0} % train / {:.0} % validation; \
         target {:.0} % test / {:.0} % validation / the rest its training part, of which the \
         ratio is drawn per class",
        (1.0 - SOURCE_VAL_FRACTION) * 100.0,
        SOURCE_VAL_FRACTION * 100.0,
        TARGET_TEST_FRACTION * 100.0,
        TARGET_VAL_FRACTION * 100.0
    )
}

/// Runs every `(target, sources)` pair of `plan`; `out` gets the device runs.
pub fn run_cross(
    union: &UnionWindows,
    plan: &[(DatasetKind, Vec<DatasetKind>)],
    cfg: &CrossConfig,
    out: &Path,
    progress: &dyn Fn(&str),
    clock: &PhaseClock,
) -> Result<Vec<StudyRow>, StudyError> {
    let seed = cfg.train.seed;
    let classes = union.classes.len();
    let find = |k: DatasetKind| {
        union.dataset(k).ok_or_else(|| StudyError::NoWindows {
            dataset: k.name().into(),
            part: "loaded".into(),
        })
    };
    let mut rows = Vec::new();
    for (target, sources) in plan {
        let t = find(*target)?;
        let t_parts = DatasetParts::new(
            t,
            TARGET_TEST_FRACTION,
            TARGET_VAL_FRACTION,
            cfg.normalize,
            seed,
        )?;
        let s_parts = sources
            .iter()
            .map(|s| DatasetParts::new(find(*s)?, 0.0, SOURCE_VAL_FRACTION, cfg.normalize, seed))
            .collect::<Result<Vec<_>, _>>()?;
        let pre = concat(&s_parts);
        if pre.train.is_empty() {
            return Err(StudyError::NoWindows {
                dataset: sources
                    .iter()
                    .map(|s| s.name())
                    .collect::<Vec<_>>()
                    .join("+"),
                part: "source training".into(),
            });
        }
        let arch = Arch::new(cfg.variant, pre.train.window, pre.train.channels, classes)?;
        let net_norm = Normalization::fit(&pre.train);
        let pre_train = net_norm.apply(&pre.train);
        let pre_val = net_norm.apply(&pre.val);
        let pre_trained = if cfg.strategies.iter().any(|s| s.pre_trained()) {
            progress(&format!(
                "{target}: pre-training on {} ({} windows)",
                sources
                    .iter()
                    .map(|s| s.name())
                    .collect::<Vec<_>>()
                    .join("+"),
                pre_train.len()
            ));
            Some(
                clock
                    .time(Phase::Train, || {
                        fit::train(&arch, &pre_train, &pre_val, &cfg.train, &Quiet)
                    })
                    .0,
            )
        } else {
            None
        };
        let t_train = net_norm.apply(&t_parts.windows.train);
        let t_val = net_norm.apply(&t_parts.windows.val);
        let raw_test = t_parts.split.apply(&t.windows).test;
        if raw_test.is_empty() {
            return Err(StudyError::NoWindows {
                dataset: target.name().into(),
                part: "test".into(),
            });
        }
        let device_norm = t_parts.device_normalization(&net_norm);
        for &ratio in &cfg.ratios {
            let ft = fine_tune_part(&t_train, classes, ratio, seed);
            let mut calibration = ft.clone();
            calibration.extend(&pre_train);
            for &strategy in &cfg.strategies {
                progress(&format!(
                    "{target}: {strategy} at {ratio} % ({} windows)",
                    ft.len()
                ));
                let model = clock.time(Phase::Train, || {
                    fine_tune(
                        strategy,
                        pre_trained.as_ref(),
                        &arch,
                        &ft,
                        &t_val,
                        &cfg.train,
                    )
                });
                let (exported, host) = clock.time(Phase::Export, || {
                    let exported = export(&model, &arch, &calibration, &device_norm, seed)?;
                    let host = exported.score_host(&raw_test)?;
                    Ok::<_, StudyError>((exported, host))
                })?;
                let device = match &cfg.device {
                    Some(d) => Some(clock.time(Phase::Device, || {
                        score_on_device(
                            out,
                            &out.join("device")
                                .join(format!("{target}-{strategy}-{ratio}")),
                            &exported,
                            &union.classes,
                            target.name(),
                            &raw_test,
                            d,
                        )
                    })?),
                    None => None,
                };
                rows.push(StudyRow {
                    group: target.name().into(),
                    sources: sources.iter().map(|s| s.name().to_string()).collect(),
                    setting: strategy.name().into(),
                    ratio: Some(ratio),
                    train_windows: ft.len(),
                    test_windows: raw_test.len(),
                    host,
                    device,
                });
            }
        }
    }
    Ok(rows)
}

/// Presotto et al.'s ISPL Inception, mean macro-F1 over LODO targets (PU; 0 %: no
/// fine-tuning).
pub fn lodo_published() -> Vec<Published> {
    [
        (0.0, 0.161),
        (1.0, 0.775),
        (5.0, 0.877),
        (10.0, 0.897),
        (70.0, 0.908),
    ]
    .into_iter()
    .map(|(ratio, value)| Published {
        source: "Presotto et al., ISPL Inception, mean over LODO targets".into(),
        setting: "pu".into(),
        ratio: Some(ratio),
        metric: "macro_f1".into(),
        value,
    })
    .collect()
}
