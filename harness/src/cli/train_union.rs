//! `harbor models train --datasets a,b,c`: one model on several datasets.

use super::progress::BytesBar;
use super::train::{EpochBar, TrainArgs, print_card_summary, write_model_dir};
use super::{CliError, CliResult, Exit};
use crate::board::BoardProfile;
use crate::model::card::InputInfo;
use crate::model::input::InputQuant;
use crate::model::recipe::PersonalizeConfig;
use crate::model::union::{DatasetList, load_union};
use crate::signal::WindowSpec;
use crate::study::sources::{DatasetParts, concat};
use crate::train::pipeline::{self, Provenance, RunOptions};

/// Share of each dataset's subjects held out for testing.
pub const TEST_FRACTION: f64 = 0.2;
/// Share of each dataset's subjects for validation (early stopping).
pub const VAL_FRACTION: f64 = 0.1;

/// Trains on the union of `list`'s datasets.
pub fn train_union(args: &TrainArgs, list: &DatasetList) -> CliResult {
    let mode = args.normalize.unwrap_or_default();
    let board = BoardProfile::load(&args.data.board)?;
    let spec = WindowSpec {
        keep_transitions: args.data.keep_transitions,
        ..WindowSpec::default()
    };
    let bar = BytesBar::new("loading");
    let union = load_union(
        &list.0,
        &board,
        &spec,
        args.classes.as_ref(),
        &args.data.load_options(Vec::new()),
        &bar,
    )
    .map_err(CliError::usage)?;
    bar.finish();
    for (activity, n) in &union.left_out {
        eprintln!("left out (not a model class): {activity}: {n} windows");
    }
    if let Some(classes) = &args.classes {
        let known: Vec<String> = union
            .datasets
            .iter()
            .flat_map(|d| d.activities.clone())
            .collect();
        let unknown = classes.unknown_activities(&known);
        if !unknown.is_empty() {
            return Err(CliError::usage(format!(
                "--classes: no dataset of {list} has windows of {}",
                unknown.join(", ")
            )));
        }
    }
    let parts = union
        .datasets
        .iter()
        .map(|d| DatasetParts::new(d, TEST_FRACTION, VAL_FRACTION, mode, args.seed))
        .collect::<Result<Vec<_>, _>>()
        .map_err(CliError::usage)?;
    for p in &parts {
        eprintln!(
            "{}: {} train, {} val, {} test windows ({} {}s)",
            p.kind,
            p.windows.train.len(),
            p.windows.val.len(),
            p.windows.test.len(),
            p.split.train.len() + p.split.val.len() + p.split.test.len(),
            p.info(&Default::default()).split_unit
        );
    }
    let splits = concat(&parts);
    let name = args
        .out
        .file_name()
        .map_or("model".to_string(), |n| n.to_string_lossy().into_owned());
    let datasets = list.to_string();
    let opts = RunOptions {
        name,
        variant: args.variant,
        train: args.recipe.train_config(args.max_epochs, args.seed),
        personalize: PersonalizeConfig::default(),
        calibration_windows: 2000,
        reproduce: format!(
            "harbor models train --datasets {datasets} --normalize {mode} --variant {} --out {} --seed {} --max-epochs {}{}{}",
            args.variant,
            args.out.display(),
            args.seed,
            args.max_epochs,
            args.classes
                .as_ref()
                .map(|c| format!(" --classes {}", c.to_spec()))
                .unwrap_or_default(),
            args.recipe.flags()
        ),
    };
    let provenance = Provenance {
        dataset: datasets.replace(',', "+"),
        body_position: "mixed".into(),
        split: format!(
            "per dataset, seeded subject-wise: {} % test, {} % validation, seed {}",
            TEST_FRACTION * 100.0,
            VAL_FRACTION * 100.0,
            args.seed
        ),
        input: InputInfo {
            rate_hz: spec.rate_hz,
            window_samples: splits.train.window,
            window_stride_samples: spec.hop().map_err(CliError::usage)?,
            channels: [
                "accel_x", "accel_y", "accel_z", "gyro_x", "gyro_y", "gyro_z",
            ]
            .map(String::from)
            .to_vec(),
            units: format!("raw int16 IMU counts of board `{}`", args.data.board),
        },
    };
    let epochs = EpochBar::new();
    let mut trained = pipeline::run(&splits, &union.classes, &provenance, &opts, &epochs)
        .map_err(CliError::usage)?;
    epochs.bar.finish_and_clear();
    // The network's input is per-dataset z-scores standardized once more by `trained.norm`;
    // the card's conversion (and float.json's) is the first dataset's composition of both.
    let net_norm = trained.norm.clone();
    let first = parts[0].device_normalization(&net_norm);
    trained.norm = first.clone();
    if let Some(card) = trained.card.as_mut() {
        card.dataset.normalize = mode.name().into();
        card.dataset.sources = parts.iter().map(|p| p.info(&net_norm)).collect();
        card.normalization.device_conversion = InputQuant::new(
            &first,
            card.normalization.input_scale,
            card.normalization.input_zero_point,
        );
        card.normalization.stats = first;
    }
    write_model_dir(&args.out, &trained)?;
    if let Some(card) = &trained.card {
        print_card_summary(card);
    }
    Ok(Exit::Ok)
}
