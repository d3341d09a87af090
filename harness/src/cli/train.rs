//! `harbor models train` and `harbor models personalize` (feature `train`).

use std::path::{Path, PathBuf};

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use super::datasets::OnBadLine;
use super::models::load_trained;
use super::progress::BytesBar;
use super::{CliError, CliResult, Exit};
use crate::board::BoardProfile;
use crate::datasets::{DatasetKind, LoadOptions};
use crate::model::card::{InputInfo, ModelCard, sha256_hex};
use crate::model::classes::ClassSpecError;
use crate::model::recipe::{EpochLog, PersonalizeConfig, TrainConfig};
use crate::model::saved::{CARD_FILE, FLOAT_FILE, MODEL_F32_FILE, MODEL_FILE};
use crate::model::source::{PartedWindows, SplitPlan, load_windows_split};
use crate::model::union::{DatasetList, NormalizeMode};
use crate::model::{ClassSet, Trained, Variant, WindowSet};
use crate::signal::WindowSpec;
use crate::signal::split::PersonalizationConfig;
use crate::signal::subjects::{SubjectList, SubjectSelection};
use crate::train::fit::{Quiet, TrainProgress};
use crate::train::pipeline::{self, RunOptions, Splits};

#[derive(Debug, Args)]
pub struct DataArgs {
    /// Dataset format (see `harbor datasets list`).
    #[arg(long, default_value = "wisdm2019-watch")]
    pub dataset: DatasetKind,
    /// The dataset's folder as published (default: its folder under $HARBOR_DATA, else
    /// target/datasets, where `harbor datasets fetch` puts it).
    #[arg(long)]
    pub root: Option<PathBuf>,
    /// Board profile whose IMU the windows are quantized for.
    #[arg(long, default_value = "esp32c3-band")]
    pub board: String,
    /// Keep windows of postural transitions (`stand_to_sit`, …); they count only where the
    /// model has such a class, and are reported as left out otherwise.
    #[arg(long)]
    pub keep_transitions: bool,
    /// custom: stop at the first malformed line, or skip it and count it by cause.
    #[arg(long, value_enum, default_value_t = OnBadLine::Error)]
    pub on_bad_line: OnBadLine,
}

impl DataArgs {
    /// What to load: `subjects` (empty: all) with the bad-line policy.
    pub fn load_options(&self, subjects: Vec<String>) -> LoadOptions {
        LoadOptions {
            subjects,
            on_bad_line: self.on_bad_line.policy(),
            ..LoadOptions::default()
        }
    }

    /// `--root`, or the dataset's default folder under the data root.
    pub fn root(&self) -> Result<PathBuf, CliError> {
        if let Some(r) = &self.root {
            return Ok(r.clone());
        }
        self.dataset
            .default_folder()
            .map(|f| crate::datasets::data_root().join(f))
            .ok_or_else(|| CliError::usage(format!("--root is needed for {}", self.dataset)))
    }
}

#[derive(Debug, Args)]
pub struct TrainArgs {
    #[command(flatten)]
    pub data: DataArgs,
    #[arg(long, default_value = "small")]
    pub variant: Variant,
    /// Output directory, e.g. models/small-int8-generalized.
    #[arg(long)]
    pub out: PathBuf,
    #[arg(long, default_value_t = 2019)]
    pub seed: u64,
    #[arg(long, default_value_t = 40)]
    pub max_epochs: usize,
    /// Users held out of training for the personalization study.
    #[arg(long, default_value_t = 5)]
    pub held_out: usize,
    /// Labelled windows per class each held-out user gives for personalization.
    #[arg(long, default_value_t = 15)]
    pub shots: usize,
    /// The model's classes, in output order: canonical activity names, or
    /// `class=activity+activity` to merge several (default: the band's 8 classes).
    #[arg(long, value_parser = parse_classes)]
    pub classes: Option<ClassSet>,
    /// Training subjects, ids and ranges (`1600-1640,1642`); default: all not test or val.
    #[arg(long, requires = "test_subjects")]
    pub train_subjects: Option<SubjectList>,
    /// Validation subjects; default: a seeded 15 % of the training subjects.
    #[arg(long, requires = "test_subjects")]
    pub val_subjects: Option<SubjectList>,
    /// Test subjects; replaces the seeded personalization split (no personalization study).
    #[arg(long)]
    pub test_subjects: Option<SubjectList>,
    /// Train on several datasets at once (`kind` or `kind=ROOT`, comma-separated): the
    /// union of their activities, each split subject-wise (20 % test, 10 % validation,
    /// seeded); replaces --dataset/--root and the subject lists.
    #[arg(long, conflicts_with_all = ["train_subjects", "val_subjects", "test_subjects", "root"])]
    pub datasets: Option<DatasetList>,
    /// With --datasets: standardize each dataset by its own statistics (`per-dataset`,
    /// default) or the union by one (`global`).
    #[arg(long, requires = "datasets")]
    pub normalize: Option<NormalizeMode>,
    #[command(flatten)]
    pub recipe: RecipeArgs,
}

/// Regularization and refit options of a training run (all default off).
#[derive(Debug, Args)]
pub struct RecipeArgs {
    /// Adam's L2 penalty on every weight.
    #[arg(long, default_value_t = 0.0)]
    pub weight_decay: f64,
    /// Label smoothing of the cross-entropy target, 0 to 1.
    #[arg(long, default_value_t = 0.0, value_parser = parse_unit_interval)]
    pub label_smoothing: f64,
    /// Dropout probability on the pooled features before the dense head, 0 to 1.
    #[arg(long, default_value_t = 0.0, value_parser = parse_unit_interval)]
    pub dropout: f64,
    /// Weight each class's loss by the inverse of its share of the training windows.
    #[arg(long)]
    pub class_balanced: bool,
    /// After early stopping, train afresh on training + validation windows for the best
    /// epoch count (the test subjects stay unseen).
    #[arg(long)]
    pub refit_on_val: bool,
}

/// A probability flag that is not a number in [0, 1).
#[derive(Debug, thiserror::Error)]
pub enum UnitIntervalError {
    /// Not a number.
    #[error("not a number: {0}")]
    NotANumber(#[from] std::num::ParseFloatError),
    /// A number outside [0, 1).
    #[error("{0} is outside [0, 1)")]
    Outside(f64),
}

fn parse_unit_interval(s: &str) -> Result<f64, UnitIntervalError> {
    let v: f64 = s.trim().parse()?;
    if (0.0..1.0).contains(&v) {
        Ok(v)
    } else {
        Err(UnitIntervalError::Outside(v))
    }
}

impl RecipeArgs {
    /// The training recipe with these options, `max_epochs` and `seed`.
    pub fn train_config(&self, max_epochs: usize, seed: u64) -> TrainConfig {
        TrainConfig {
            max_epochs,
            seed,
            weight_decay: self.weight_decay,
            label_smoothing: self.label_smoothing,
            dropout: self.dropout,
            class_balanced: self.class_balanced,
            refit_on_val: self.refit_on_val,
            ..TrainConfig::default()
        }
    }

    /// The options that differ from the defaults, as flags (for the card's command).
    pub fn flags(&self) -> String {
        let mut flags = String::new();
        for (flag, v) in [
            ("--weight-decay", self.weight_decay),
            ("--label-smoothing", self.label_smoothing),
            ("--dropout", self.dropout),
        ] {
            if v != 0.0 {
                flags += &format!(" {flag} {v}");
            }
        }
        if self.class_balanced {
            flags += " --class-balanced";
        }
        if self.refit_on_val {
            flags += " --refit-on-val";
        }
        flags
    }
}

fn parse_classes(spec: &str) -> Result<ClassSet, ClassSpecError> {
    ClassSet::parse(spec)
}

impl TrainArgs {
    /// The explicit subject lists, when `--test-subjects` is given.
    fn subject_selection(&self) -> Option<SubjectSelection> {
        Some(SubjectSelection {
            train: self.train_subjects.clone(),
            val: self.val_subjects.clone(),
            test: self.test_subjects.clone()?,
            val_fraction: VAL_FRACTION,
        })
    }

    /// The flags that choose classes and subjects, as typed (for the card's command).
    fn selection_flags(&self) -> String {
        let mut flags = String::new();
        if let Some(c) = &self.classes {
            flags += &format!(" --classes {}", c.to_spec());
        }
        for (flag, list) in [
            ("--train-subjects", &self.train_subjects),
            ("--val-subjects", &self.val_subjects),
            ("--test-subjects", &self.test_subjects),
        ] {
            if let Some(l) = list {
                flags += &format!(" {flag} {l}");
            }
        }
        flags
    }
}

/// Share of the training subjects used for validation when none are listed.
const VAL_FRACTION: f64 = 0.15;

#[derive(Debug, Args)]
pub struct PersonalizeArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// The generalized model's directory.
    #[arg(long)]
    pub base: PathBuf,
    /// The user (the dataset's subject id).
    #[arg(long)]
    pub subject: String,
    #[arg(long, default_value_t = 15)]
    pub shots: usize,
    /// Output directory (default: next to the base, `<base>-personalized-<subject>`).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// Loads, prepares (resample, int16, windows) and splits a dataset.
fn prepared_windows(
    data: &DataArgs,
    subjects: Vec<String>,
    plan: &SplitPlan,
    spec: &WindowSpec,
    classes: &ClassSet,
) -> Result<PartedWindows, CliError> {
    let board = BoardProfile::load(&data.board)?;
    let spec = &WindowSpec {
        keep_transitions: data.keep_transitions,
        ..spec.clone()
    };
    let bar = BytesBar::new("loading");
    let root = data.root()?;
    let parted = load_windows_split(
        data.dataset,
        &root,
        &board,
        &data.load_options(subjects),
        plan,
        spec,
        classes,
        &bar,
    )
    .map_err(CliError::usage)?;
    bar.finish();
    for (activity, n) in &parted.left_out {
        eprintln!("left out (not a model class): {activity}: {n} windows");
    }
    Ok(parted)
}

/// An indicatif bar per epoch, with the validation score when it ends.
pub(super) struct EpochBar {
    pub(super) bar: ProgressBar,
}

impl EpochBar {
    pub(super) fn new() -> Self {
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template("{prefix:>10} [{bar:30}] {pos}/{len} batches {msg}")
                .expect("static template")
                .progress_chars("=> "),
        );
        EpochBar { bar }
    }
}

impl TrainProgress for EpochBar {
    fn epoch_start(&self, epoch: usize, batches: usize) {
        self.bar.set_prefix(format!("epoch {epoch}"));
        self.bar.set_length(batches as u64);
        self.bar.set_position(0);
    }
    fn batch_done(&self) {
        self.bar.inc(1);
    }
    fn epoch_done(&self, log: &EpochLog) {
        let line = format!(
            "epoch {:>3}  loss {:.4}  val acc {:.3}  val macro-F1 {:.3}  {:.1} s",
            log.epoch, log.train_loss, log.val_accuracy, log.val_macro_f1, log.seconds
        );
        // A hidden bar (stderr not a terminal) drops println; the log must still appear.
        if self.bar.is_hidden() {
            eprintln!("{line}")
        } else {
            self.bar.println(line)
        }
    }
}

/// `harbor models train`.
pub fn train(args: &TrainArgs) -> CliResult {
    if let Some(list) = &args.datasets {
        return super::train_union::train_union(args, list);
    }
    let classes = args.classes.clone().unwrap_or_else(ClassSet::wisdm_band);
    let (plan, split) = match args.subject_selection() {
        Some(sel) => (
            SplitPlan::Subjects(sel, args.seed),
            format!(
                "explicit subject lists (val drawn with seed {} when not listed)",
                args.seed
            ),
        ),
        None => (
            SplitPlan::Personalization(
                PersonalizationConfig {
                    held_out: args.held_out,
                    per_class: args.shots,
                    val_fraction: VAL_FRACTION,
                },
                args.seed,
            ),
            format!(
                "seeded personalization split: {} held-out users, {} % of the rest for validation, seed {}",
                args.held_out,
                VAL_FRACTION * 100.0,
                args.seed
            ),
        ),
    };
    let parted = prepared_windows(
        &args.data,
        Vec::new(),
        &plan,
        &WindowSpec::default(),
        &classes,
    )?;
    let unknown = classes.unknown_activities(&parted.known_activities);
    if !unknown.is_empty() {
        return Err(CliError::usage(format!(
            "--classes: unknown activity {} in {} (it has: {})",
            unknown
                .iter()
                .map(|a| format!("`{a}`"))
                .collect::<Vec<_>>()
                .join(", "),
            args.data.dataset,
            parted.known_activities.join(", ")
        )));
    }
    let splits = Splits {
        train: parted.part("train"),
        val: parted.part("val"),
        test: parted.part("test"),
        finetune: parted.part("finetune"),
    };
    let name = args
        .out
        .file_name()
        .map_or("model".to_string(), |n| n.to_string_lossy().into_owned());
    let opts = RunOptions {
        name,
        variant: args.variant,
        train: args.recipe.train_config(args.max_epochs, args.seed),
        personalize: PersonalizeConfig {
            shots: args.shots,
            seed: args.seed,
            ..PersonalizeConfig::default()
        },
        calibration_windows: 2000,
        reproduce: format!(
            "harbor models train --dataset {} --root <{} root> --variant {} --out {} --seed {} --max-epochs {} --held-out {} --shots {}{}{}",
            args.data.dataset,
            args.data.dataset,
            args.variant,
            args.out.display(),
            args.seed,
            args.max_epochs,
            args.held_out,
            args.shots,
            args.selection_flags(),
            args.recipe.flags()
        ),
    };
    let provenance = pipeline::Provenance {
        dataset: args.data.dataset.name().to_string(),
        body_position: "wrist".into(),
        split,
        input: InputInfo {
            rate_hz: WindowSpec::default().rate_hz,
            window_samples: splits.train.window,
            window_stride_samples: WindowSpec::default().hop().map_err(CliError::usage)?,
            channels: [
                "accel_x", "accel_y", "accel_z", "gyro_x", "gyro_y", "gyro_z",
            ]
            .map(String::from)
            .to_vec(),
            units: format!("raw int16 IMU counts of board `{}`", args.data.board),
        },
    };
    eprintln!(
        "windows: {} train, {} val, {} test (held-out users), {} fine-tune",
        splits.train.len(),
        splits.val.len(),
        splits.test.len(),
        splits.finetune.len()
    );
    let bar = EpochBar::new();
    let trained =
        pipeline::run(&splits, &classes, &provenance, &opts, &bar).map_err(CliError::usage)?;
    bar.bar.finish_and_clear();
    write_model_dir(&args.out, &trained)?;
    if let Some(card) = &trained.card {
        print_card_summary(card);
    }
    Ok(Exit::Ok)
}

pub(super) fn write_model_dir(dir: &Path, trained: &Trained) -> Result<(), CliError> {
    let write = |name: &str, bytes: &[u8]| {
        std::fs::write(dir.join(name), bytes)
            .map_err(|e| CliError::infrastructure(format!("{}: {e}", dir.join(name).display())))
    };
    std::fs::create_dir_all(dir)
        .map_err(|e| CliError::infrastructure(format!("{}: {e}", dir.display())))?;
    write(MODEL_FILE, &trained.tflite)?;
    if !trained.tflite_f32.is_empty() {
        write(MODEL_F32_FILE, &trained.tflite_f32)?;
    }
    if !trained.golden_inputs.is_empty() {
        // Int8 inputs of real test windows; models/tools/tflm_check.py adds TFLM's outputs.
        std::fs::create_dir_all(dir.join("golden"))
            .map_err(|e| CliError::infrastructure(format!("{}: {e}", dir.display())))?;
        let bytes: Vec<u8> = trained
            .golden_inputs
            .iter()
            .flatten()
            .map(|&v| v as u8)
            .collect();
        write("golden/inputs.i8", &bytes)?;
    }
    let float =
        serde_json::to_string(trained).map_err(|e| CliError::infrastructure(e.to_string()))?;
    write(FLOAT_FILE, float.as_bytes())?;
    if let Some(card) = &trained.card {
        write(
            CARD_FILE,
            card.to_yaml().map_err(CliError::infrastructure)?.as_bytes(),
        )?;
    }
    Ok(())
}

pub(super) fn print_card_summary(card: &ModelCard) {
    let r = &card.results;
    println!(
        "{}: {} params, {} MACs, {} bytes",
        card.name, card.architecture.params, card.architecture.macs_per_window, card.file.bytes
    );
    println!("  on {} ({} windows)", r.evaluated_on, r.windows);
    println!(
        "  float: accuracy {:.3}  macro-F1 {:.3}",
        r.float.accuracy, r.float.macro_f1
    );
    if let Some(q) = &r.int8 {
        println!(
            "  int8:  accuracy {:.3}  macro-F1 {:.3}",
            q.accuracy, q.macro_f1
        );
    }
    if let Some(p) = &card.personalization {
        println!("  personalization ({} shots/class):", p.shots_per_class);
        for u in &p.users {
            println!(
                "    user {:<6} generalized {:.3} -> personalized {:.3}",
                u.subject, u.generalized_accuracy, u.personalized_accuracy
            );
        }
        println!(
            "    mean {:.3} -> {:.3}  ({})",
            p.mean_generalized_accuracy, p.mean_personalized_accuracy, p.published
        );
    }
}

/// `harbor models personalize`.
pub fn personalize(args: &PersonalizeArgs) -> CliResult {
    let base = load_trained(&args.base)?;
    let parted = prepared_windows(
        &args.data,
        vec![args.subject.clone()],
        &SplitPlan::None,
        // Non-overlapping windows: evaluation windows must not share samples with the shots.
        &WindowSpec {
            overlap: 0.0,
            ..WindowSpec::default()
        },
        &ClassSet::wisdm_band(),
    )?;
    let user: WindowSet = parted.part("all");
    if user.is_empty() {
        return Err(CliError::usage(format!(
            "subject {} has no windows of the model's classes",
            args.subject
        )));
    }
    let cfg = PersonalizeConfig {
        shots: args.shots,
        ..PersonalizeConfig::default()
    };
    let (trained, result) =
        pipeline::personalize_saved(&base, &user, &cfg, &Quiet).map_err(CliError::usage)?;
    let out = args.out.clone().unwrap_or_else(|| {
        let stem = args.base.file_name().map_or("model".into(), |n| {
            n.to_string_lossy().replace("generalized", "personalized")
        });
        args.base.with_file_name(format!("{stem}-{}", args.subject))
    });
    let mut card = ModelCard::load(&args.base.join(CARD_FILE)).map_err(CliError::usage)?;
    card.name = out
        .file_name()
        .map_or("model".into(), |n| n.to_string_lossy().into_owned());
    card.audience = format!("personalized:{}", args.subject);
    card.recipe.personalize = Some(cfg.clone());
    card.personalization = None;
    card.file.bytes = trained.tflite.len() as u64;
    card.file.sha256 = sha256_hex(&trained.tflite);
    card.reproduce = format!(
        "harbor models personalize --dataset {} --root <root> --base {} --subject {} --shots {}",
        args.data.dataset,
        args.base.display(),
        args.subject,
        args.shots
    );
    // The card's scores are now this user's, float, on the windows not used for fine-tuning.
    card.results.evaluated_on =
        format!("subject {} windows not used for fine-tuning", args.subject);
    card.results.windows = result.eval_windows;
    card.results.float.accuracy = result.personalized_accuracy;
    card.results.float.macro_f1 = result.personalized_macro_f1;
    card.results.float.per_class = Vec::new();
    card.results.int8 = None;
    card.results.float_int8_agreement = None;
    let trained = Trained {
        card: Some(card),
        ..trained
    };
    write_model_dir(&out, &trained)?;
    println!(
        "subject {}: generalized {:.3} -> personalized {:.3} accuracy on {} windows; wrote {}",
        args.subject,
        result.generalized_accuracy,
        result.personalized_accuracy,
        result.eval_windows,
        out.display()
    );
    Ok(Exit::Ok)
}
