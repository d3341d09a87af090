//! `harbor study lodo | transfer | personalize` (feature `train`): research studies on the
//! band, host and device columns side by side with the papers' figures.

use std::path::PathBuf;
use std::time::Instant;

use clap::{Args, Subcommand};

use super::progress::BytesBar;
use super::{CliError, CliResult, Exit};
use crate::board::BoardProfile;
use crate::datasets::{DatasetKind, LoadOptions};
use crate::model::classes::ClassSpecError;
use crate::model::recipe::{PersonalizeConfig, TrainConfig};
use crate::model::union::{DatasetSource, NormalizeMode, UnionWindows, load_union};
use crate::model::{ClassSet, Variant};
use crate::signal::WindowSpec;
use crate::study::cross::{self, CrossConfig, run_cross};
use crate::study::device::DeviceTarget;
use crate::study::personalize::{self, PersonalizeStudy, run_personalize};
use crate::study::phases::PhaseClock;
use crate::study::report::{
    Published, STUDY_SCHEMA_VERSION, StudyReport, StudyRow, StudySettings, summarize,
};
use crate::study::strategy::Strategy;

#[derive(Debug, Subcommand)]
pub enum StudyCommand {
    /// Leave-One-Dataset-Out: for each dataset, pre-train on the others and fine-tune on it
    /// (ratios × strategies); macro-F1 and accuracy, float and int8 on the host, int8 on the
    /// device.
    Lodo(LodoArgs),
    /// Pre-train on one dataset, fine-tune on another, compared with training from scratch.
    Transfer(TransferArgs),
    /// BandX personalization: generalized model on all but N users (GS, PS) and each user's
    /// head fine-tuned on a few windows per class (PM).
    Personalize(PersonalizeArgs),
}

#[derive(Debug, Args)]
pub struct CommonArgs {
    /// Model variant: tiny, small, base.
    #[arg(long, default_value = "small")]
    pub variant: Variant,
    /// Most epochs of every training (early stopping on validation macro-F1).
    #[arg(long, default_value_t = 40)]
    pub epochs: usize,
    #[arg(long, default_value_t = 2019)]
    pub seed: u64,
    /// Board profile whose IMU the windows are quantized for.
    #[arg(long, default_value = "esp32c3-band")]
    pub board: String,
    /// Also run every int8 model on the emulated band: `qemu`.
    #[arg(long, value_parser = ["qemu"])]
    pub device: Option<String>,
    /// The band firmware for `--device qemu` (default: target/firmware/elf/band-qemu.elf).
    #[arg(long)]
    pub firmware: Option<PathBuf>,
    /// At most this many test windows per model on the device (evenly thinned).
    #[arg(long)]
    pub max_device_windows: Option<usize>,
    /// The model's classes (as `models train --classes`); default: the activity union.
    #[arg(long, value_parser = parse_classes)]
    pub classes: Option<ClassSet>,
    /// Output folder: study.json, study.md, study.html (and device/ runs).
    #[arg(long)]
    pub out: PathBuf,
}

fn parse_classes(spec: &str) -> Result<ClassSet, ClassSpecError> {
    ClassSet::parse(spec)
}

#[derive(Debug, Args)]
pub struct LodoArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Datasets (`kind` or `kind=ROOT`), at least two.
    #[arg(long, value_delimiter = ',', required = true)]
    pub datasets: Vec<DatasetSource>,
    /// Fine-tuning ratios, % of the target's training part.
    #[arg(long, value_delimiter = ',', default_value = "0,1,5,10,70")]
    pub ratios: Vec<f64>,
    #[arg(long, value_delimiter = ',', default_value = "rd,pf,pu")]
    pub strategies: Vec<Strategy>,
    #[arg(long, default_value = "per-dataset")]
    pub normalize: NormalizeMode,
}

#[derive(Debug, Args)]
pub struct TransferArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// The dataset to pre-train on (`kind` or `kind=ROOT`).
    #[arg(long)]
    pub from: DatasetSource,
    /// The dataset to fine-tune on and score.
    #[arg(long)]
    pub to: DatasetSource,
    #[arg(long, value_delimiter = ',', default_value = "0,1,5,10,70")]
    pub ratios: Vec<f64>,
    /// Pre-trained (pf, pu) against from scratch (rd).
    #[arg(long, value_delimiter = ',', default_value = "rd,pu")]
    pub strategies: Vec<Strategy>,
    #[arg(long, default_value = "per-dataset")]
    pub normalize: NormalizeMode,
}

#[derive(Debug, Args)]
pub struct PersonalizeArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// The dataset (`kind` or `kind=ROOT`).
    #[arg(long)]
    pub dataset: DatasetSource,
    /// Users held out of training and personalized.
    #[arg(long, default_value_t = 4)]
    pub users: usize,
    /// Labelled windows per class each user gives.
    #[arg(long, default_value_t = 15)]
    pub shots: usize,
}

/// Runs a `harbor study` subcommand.
pub fn run(cmd: StudyCommand) -> CliResult {
    let started = Instant::now();
    let command = command_line();
    match cmd {
        StudyCommand::Lodo(a) => {
            if a.datasets.len() < 2 {
                return Err(CliError::usage("lodo needs at least two --datasets"));
            }
            let kinds: Vec<DatasetKind> = a.datasets.iter().map(|d| d.kind).collect();
            let plan: Vec<(DatasetKind, Vec<DatasetKind>)> = kinds
                .iter()
                .map(|&t| (t, kinds.iter().copied().filter(|&s| s != t).collect()))
                .collect();
            cross_study(
                "lodo",
                &a.common,
                &a.datasets,
                &plan,
                &a.ratios,
                &a.strategies,
                a.normalize,
                cross::lodo_published(),
                command,
                started,
            )
        }
        StudyCommand::Transfer(a) => {
            if a.from.kind == a.to.kind {
                return Err(CliError::usage("--from and --to are the same dataset"));
            }
            let plan = vec![(a.to.kind, vec![a.from.kind])];
            let sources = vec![a.from.clone(), a.to.clone()];
            cross_study(
                "transfer",
                &a.common,
                &sources,
                &plan,
                &a.ratios,
                &a.strategies,
                a.normalize,
                Vec::new(),
                command,
                started,
            )
        }
        StudyCommand::Personalize(a) => personalize_study(&a, command, started),
    }
}

/// The command line as typed (the program as `harbor`, arguments with spaces quoted).
fn command_line() -> String {
    std::iter::once("harbor".to_string())
        .chain(std::env::args().skip(1))
        .map(|a| if a.contains(' ') { format!("'{a}'") } else { a })
        .collect::<Vec<_>>()
        .join(" ")
}

fn device_target(c: &CommonArgs) -> Result<Option<DeviceTarget>, CliError> {
    if c.device.is_none() {
        return Ok(None);
    }
    let firmware = c.firmware.clone().unwrap_or_else(|| {
        crate::datasets::workspace_root().join("target/firmware/elf/band-qemu.elf")
    });
    if !firmware.is_file() {
        return Err(CliError::usage(format!(
            "{} is missing: build the band firmware with scripts/build-firmware",
            firmware.display()
        )));
    }
    Ok(Some(DeviceTarget {
        firmware: std::fs::canonicalize(&firmware).unwrap_or(firmware),
        board: c.board.clone(),
        max_windows: c.max_device_windows,
    }))
}

fn load(
    c: &CommonArgs,
    sources: &[DatasetSource],
    spec: &WindowSpec,
    classes: Option<&ClassSet>,
) -> Result<UnionWindows, CliError> {
    let board = BoardProfile::load(&c.board)?;
    let bar = BytesBar::new("loading");
    let options = LoadOptions::default();
    let union =
        load_union(sources, &board, spec, classes, &options, &bar).map_err(CliError::usage)?;
    bar.finish();
    Ok(union)
}

fn prepare_out(c: &CommonArgs) -> Result<(), CliError> {
    std::fs::create_dir_all(&c.out)
        .map_err(|e| CliError::infrastructure(format!("{}: {e}", c.out.display())))
}

fn train_config(c: &CommonArgs) -> TrainConfig {
    TrainConfig {
        max_epochs: c.epochs,
        seed: c.seed,
        ..TrainConfig::default()
    }
}

fn progress(line: &str) {
    eprintln!("{line}");
}

#[allow(clippy::too_many_arguments)]
fn cross_study(
    study: &str,
    c: &CommonArgs,
    sources: &[DatasetSource],
    plan: &[(DatasetKind, Vec<DatasetKind>)],
    ratios: &[f64],
    strategies: &[Strategy],
    normalize: NormalizeMode,
    published: Vec<Published>,
    command: String,
    started: Instant,
) -> CliResult {
    if let Some(r) = ratios.iter().find(|r| !(0.0..=100.0).contains(*r)) {
        return Err(CliError::usage(format!(
            "--ratios: {r} is not a percentage (0 to 100)"
        )));
    }
    let device = device_target(c)?;
    prepare_out(c)?;
    let union = load(c, sources, &WindowSpec::default(), c.classes.as_ref())?;
    let cfg = CrossConfig {
        variant: c.variant,
        ratios: ratios.to_vec(),
        strategies: strategies.to_vec(),
        normalize,
        train: train_config(c),
        device: device.clone(),
    };
    let clock = PhaseClock::default();
    let rows = run_cross(&union, plan, &cfg, &c.out, &progress, &clock).map_err(CliError::usage)?;
    let settings = StudySettings {
        variant: c.variant.name().into(),
        epochs: c.epochs,
        seed: c.seed,
        normalize: normalize.name().into(),
        ratios: ratios.to_vec(),
        strategies: strategies.iter().map(|s| s.name().to_string()).collect(),
        split: cross::split_description(c.seed),
        device: c.device.clone(),
        max_device_windows: device.as_ref().and(c.max_device_windows),
        users: None,
        shots: None,
    };
    finish(
        study, c, &union, rows, settings, published, command, started, &clock,
    )
}

fn personalize_study(a: &PersonalizeArgs, command: String, started: Instant) -> CliResult {
    let c = &a.common;
    let device = device_target(c)?;
    prepare_out(c)?;
    let sources = [a.dataset.clone()];
    let union = load(c, &sources, &WindowSpec::default(), c.classes.as_ref())?;
    // The held-out users' windows without overlap: evaluation windows must not share
    // samples with the shots.
    let users = load(
        c,
        &sources,
        &WindowSpec {
            overlap: 0.0,
            ..WindowSpec::default()
        },
        Some(&union.classes),
    )?;
    let cfg = PersonalizeStudy {
        variant: c.variant,
        users: a.users,
        train: train_config(c),
        personalize: PersonalizeConfig {
            shots: a.shots,
            seed: c.seed,
            ..PersonalizeConfig::default()
        },
        device: device.clone(),
    };
    let clock = PhaseClock::default();
    let rows = run_personalize(
        &union.datasets[0],
        &users.datasets[0],
        &union.classes,
        &cfg,
        &c.out,
        &progress,
        &clock,
    )
    .map_err(CliError::usage)?;
    let settings = StudySettings {
        variant: c.variant.name().into(),
        epochs: c.epochs,
        seed: c.seed,
        normalize: "global".into(),
        split: personalize::split_description(a.users, c.seed),
        device: c.device.clone(),
        max_device_windows: device.as_ref().and(c.max_device_windows),
        users: Some(a.users),
        shots: Some(a.shots),
        ..StudySettings::default()
    };
    finish(
        "personalize",
        c,
        &union,
        rows,
        settings,
        personalize::bandx_published(),
        command,
        started,
        &clock,
    )
}

#[allow(clippy::too_many_arguments)]
fn finish(
    study: &str,
    c: &CommonArgs,
    union: &UnionWindows,
    rows: Vec<StudyRow>,
    settings: StudySettings,
    published: Vec<Published>,
    command: String,
    started: Instant,
    clock: &PhaseClock,
) -> CliResult {
    let wall_seconds = started.elapsed().as_secs_f64();
    let report = StudyReport {
        schema_version: STUDY_SCHEMA_VERSION,
        study: study.into(),
        command,
        wall_seconds,
        phases: Some(clock.seconds(wall_seconds)),
        settings,
        classes: union.classes.classes.clone(),
        datasets: union
            .datasets
            .iter()
            .map(|d| d.kind.name().to_string())
            .collect(),
        summary: summarize(&rows),
        rows,
        published,
    };
    report
        .write(&c.out)
        .map_err(|e| CliError::infrastructure(e.to_string()))?;
    let md = report.markdown();
    // The summary table: everything before the per-model table.
    print!("{}", md.split("\n## Every model").next().unwrap_or(&md));
    println!("\nwrote {}/study.{{json,md,html}}", c.out.display());
    let not_exact = report
        .rows
        .iter()
        .filter(|r| r.device.as_ref().is_some_and(|d| !d.passed))
        .count();
    if not_exact > 0 {
        eprintln!("{not_exact} device runs were not bit-exact with the host (see study.md)");
        return Ok(Exit::ChecksFailed);
    }
    Ok(Exit::Ok)
}
