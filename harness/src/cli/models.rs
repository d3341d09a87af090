//! `harbor models list` and `harbor eval`: the band's model variants and how a model
//! directory scores on prepared windows. Framework-free; training is `cli::train`.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};

use super::{CliError, CliResult, Exit};
use crate::model::eval::{OutputKind, evaluate, run_int8};
use crate::model::load_checked;
use crate::model::saved::{CARD_FILE, FLOAT_FILE};
use crate::model::source::from_prepared;
use crate::model::{
    Arch, ClassSet, Confusion, FloatReference, ModelCard, Trained, Variant, WindowSet,
};
use crate::signal::export::PreparedFile;

#[derive(Debug, Subcommand)]
pub enum ModelsCommand {
    /// List the variants (architecture, params, MACs) and the model directories under models/.
    List {
        #[arg(long, default_value = "models")]
        dir: PathBuf,
    },
    /// Train a variant on a dataset, quantize it to int8 and write model.tflite + card.yaml.
    #[cfg(feature = "train")]
    Train(super::train::TrainArgs),
    /// Fine-tune a model's last layer on one user's labelled windows (BandX personalization).
    #[cfg(feature = "train")]
    Personalize(super::train::PersonalizeArgs),
    /// Make a model directory (model.tflite + a minimal card.yaml) from an int8 .tflite
    /// harbor did not train; computes the band's input conversion and prints it.
    Import(super::import::ImportArgs),
    /// Write a model as Rust source: its prepared plan as constants and direct kernel calls,
    /// for a firmware that runs one fixed model without the model reader and preparation.
    Compile(super::compile::CompileArgs),
}

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// A model directory (model.tflite + card.yaml, float.json if the float model is kept).
    #[arg(long)]
    pub model: PathBuf,
    /// Prepared windows (`harbor prepare` output, .npz).
    #[arg(long)]
    pub windows: PathBuf,
    /// Only windows of this split part (train, val, test, finetune); default all.
    #[arg(long)]
    pub part: Option<String>,
}

/// Runs a `harbor models` subcommand.
pub fn run(cmd: ModelsCommand) -> CliResult {
    match cmd {
        ModelsCommand::List { dir } => list(&dir),
        #[cfg(feature = "train")]
        ModelsCommand::Train(args) => super::train::train(&args),
        #[cfg(feature = "train")]
        ModelsCommand::Personalize(args) => super::train::personalize(&args),
        ModelsCommand::Import(args) => super::import::run(&args),
        ModelsCommand::Compile(args) => super::compile::run(&args),
    }
}

fn list(dir: &Path) -> CliResult {
    println!(
        "{:<6} {:>8} {:>9} {:>12}  layers",
        "variant", "params", "MACs", "int8 bytes"
    );
    for v in Variant::ALL {
        let a = Arch::new(v, 60, 6, ClassSet::wisdm_band().len()).map_err(CliError::usage)?;
        println!(
            "{:<6} {:>8} {:>9} {:>12}  {}",
            v.name(),
            a.params(),
            a.macs(),
            a.int8_weight_bytes(),
            a.describe().join(" | ")
        );
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(Exit::Ok);
    };
    let mut dirs: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join(CARD_FILE).is_file())
        .collect();
    dirs.sort();
    println!();
    for d in dirs {
        let card = ModelCard::load(&d.join(CARD_FILE)).map_err(CliError::usage)?;
        if card.results == Default::default() {
            println!(
                "{:<40} {} {}  {} classes  {} bytes",
                d.display(),
                card.provenance,
                card.precision,
                card.classes.len(),
                card.file.bytes
            );
            continue;
        }
        let int8 = card
            .results
            .int8
            .as_ref()
            .map_or("-".to_string(), |s| format!("{:.3}", s.accuracy));
        println!(
            "{:<40} {} {} {}  float acc {:.3}  int8 acc {}  {} bytes",
            d.display(),
            card.variant,
            card.precision,
            card.audience,
            card.results.float.accuracy,
            int8,
            card.file.bytes
        );
    }
    Ok(Exit::Ok)
}

/// Reads a model directory's float model and `.tflite`.
pub(super) fn load_trained(dir: &Path) -> Result<Trained, CliError> {
    Trained::load(dir).map_err(CliError::usage)
}

/// `harbor eval`: float and int8 scores of a model directory on prepared windows (int8 only
/// when the directory has no float model, e.g. an imported one).
pub fn eval(args: &EvalArgs) -> CliResult {
    let checked = load_checked(&args.model).map_err(CliError::usage)?;
    let card = &checked.card;
    let trained = if args.model.join(FLOAT_FILE).is_file() {
        Some(load_trained(&args.model)?)
    } else {
        None
    };
    let file = PreparedFile::read(&args.windows).map_err(CliError::usage)?;
    if file.length != card.input.window_samples {
        return Err(CliError::usage(format!(
            "{}: windows of {} samples, but {} takes {} (card input.window_samples at {} Hz): \
             prepare windows of the model's length",
            args.windows.display(),
            file.length,
            args.model.display(),
            card.input.window_samples,
            card.input.rate_hz
        )));
    }
    let groups: Vec<(&str, Vec<&str>)> = card
        .classes
        .iter()
        .map(|c| {
            (
                c.name.as_str(),
                c.activities.iter().map(String::as_str).collect(),
            )
        })
        .collect();
    let classes = ClassSet::from_groups(
        &groups
            .iter()
            .map(|(n, a)| (*n, a.as_slice()))
            .collect::<Vec<_>>(),
    );
    let names: Vec<String> = card.classes.iter().map(|c| c.name.clone()).collect();
    let parted = from_prepared(&file, &classes).map_err(CliError::usage)?;
    let mut set = WindowSet::new(file.length, 6);
    for (part, w) in &parted.parts {
        if args.part.as_ref().is_none_or(|p| p == part) {
            for i in 0..w.len() {
                set.push(w.get(i), w.y[i], &w.subject[i]);
            }
        }
    }
    if set.is_empty() {
        return Err(CliError::usage(format!(
            "{}: no windows of the model's classes",
            args.windows.display()
        )));
    }
    let bytes = checked.host.model_bytes();
    let kind = OutputKind::of(bytes).map_err(CliError::usage)?;
    println!(
        "{} windows; model output: {}",
        set.len(),
        match kind {
            OutputKind::Softmax => "softmax (probabilities)",
            OutputKind::Logits => "logits (no final softmax)",
        }
    );
    let Some(trained) = trained else {
        let int8 = run_int8(bytes, &card.normalization.device_conversion, &set)
            .map_err(|e| CliError::usage(format!("{}: {e}", args.model.display())))?;
        let int8_classes = int8.classes();
        let confusion = Confusion::from_pairs(names.len(), &set.y, &int8_classes);
        let reference =
            FloatReference::load(&args.model, card, &checked.host).map_err(CliError::usage)?;
        let Some(reference) = reference else {
            println!(
                "float: no float model in {} ({FLOAT_FILE} or the card's float_file): int8 only",
                args.model.display()
            );
            print_scores("int8 (harbor-core)", &confusion, &names);
            return Ok(Exit::Ok);
        };
        let float_classes = reference
            .classes_of_counts((0..set.len()).map(|i| set.get(i)))
            .map_err(CliError::usage)?;
        print_scores(
            "float (the card's float_file)",
            &Confusion::from_pairs(names.len(), &set.y, &float_classes),
            &names,
        );
        print_scores("int8 (harbor-core)", &confusion, &names);
        let same = float_classes
            .iter()
            .zip(&int8_classes)
            .filter(|(a, b)| a == b)
            .count();
        println!(
            "float vs int8: same class on {:.2} % of windows",
            100.0 * same as f64 / set.len() as f64
        );
        return Ok(Exit::Ok);
    };
    let e = evaluate(&trained.net, &trained.norm, &trained.quant, bytes, &set)
        .map_err(|e| CliError::usage(format!("{}: {e}", args.model.display())))?;
    print_scores("float", &e.float, &names);
    print_scores("int8 (harbor-core)", &e.int8, &names);
    println!(
        "float vs int8: same class on {:.2} % of windows, max |delta probability| {:.4}",
        100.0 * e.agreement,
        e.max_prob_delta
    );
    Ok(Exit::Ok)
}

fn print_scores(label: &str, c: &Confusion, classes: &[String]) {
    println!(
        "{label}: accuracy {:.4}  macro-F1 {:.4}",
        c.accuracy(),
        c.macro_f1()
    );
    let width = classes.iter().map(|c| c.len()).max().unwrap_or(5).max(5);
    print!("  {:>width$} |", "true\\pred");
    for i in 0..classes.len() {
        print!(" {i:>5}");
    }
    println!();
    for (i, row) in c.counts.iter().enumerate() {
        print!("  {:>width$} |", format!("{i} {}", classes[i]));
        for v in row {
            print!(" {v:>5}");
        }
        println!();
    }
}
