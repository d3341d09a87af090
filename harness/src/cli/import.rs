//! `harbor models import`: a model directory from an int8 `.tflite` harbor did not train.

use std::path::{Path, PathBuf};

use clap::Args;

use super::{CliError, CliResult, Exit};
use crate::board::BoardProfile;
use crate::model::card::{FileInfo, sha256_hex};
use crate::model::import::{ImportSpec, MAX_GAIN_ERROR, import};
use crate::model::saved::{CARD_FILE, MODEL_F32_FILE, MODEL_FILE};

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The full-int8 .tflite (int8 input and output, ops harbor-core runs).
    model: PathBuf,
    /// The model directory to create (must not hold a model yet).
    #[arg(long)]
    out: PathBuf,
    /// Class names in output order, comma-separated.
    #[arg(long, value_delimiter = ',', required = true)]
    classes: Vec<String>,
    /// Model sample rate in Hz (default 20).
    #[arg(long)]
    rate: Option<f64>,
    /// Samples per window (default: the input tensor's).
    #[arg(long)]
    window: Option<usize>,
    /// Samples between window starts (default: half a window).
    #[arg(long)]
    hop: Option<usize>,
    /// Per-channel mean the model subtracts, in m/s² (accel) and rad/s (gyro): 6 values.
    #[arg(long, value_delimiter = ',', allow_hyphen_values = true)]
    mean: Option<Vec<f32>>,
    /// Per-channel standard deviation the model divides by, same units: 6 values.
    #[arg(long, value_delimiter = ',')]
    std: Option<Vec<f32>>,
    /// The float32 .tflite of the same network (kept as the desktop reference).
    #[arg(long)]
    float: Option<PathBuf>,
    /// The board profile whose IMU sensitivities the input conversion uses.
    #[arg(long, default_value = BoardProfile::DEFAULT)]
    board: String,
}

pub fn run(args: &ImportArgs) -> CliResult {
    for existing in [CARD_FILE, MODEL_FILE] {
        if args.out.join(existing).exists() {
            return Err(CliError::usage(format!(
                "{} already holds a model ({existing}): choose another --out",
                args.out.display()
            )));
        }
    }
    let board = BoardProfile::load(&args.board)?;
    let bytes = read(&args.model)?;
    let float = match &args.float {
        Some(path) => {
            let bytes = read(path)?;
            if bytes.get(4..8) != Some(b"TFL3".as_slice()) {
                return Err(CliError::usage(format!(
                    "{}: not a .tflite (no TFL3 identifier)",
                    path.display()
                )));
            }
            Some(bytes)
        }
        None => None,
    };
    let spec = ImportSpec {
        classes: args.classes.iter().map(|c| c.trim().to_string()).collect(),
        rate_hz: args.rate,
        window: args.window,
        hop: args.hop,
        mean: args.mean.clone(),
        std: args.std.clone(),
    };
    let name = args
        .out
        .file_name()
        .map_or_else(|| "imported".into(), |n| n.to_string_lossy().into_owned());
    let mut imported =
        import(&name, &args.model, &bytes, &spec, &board).map_err(CliError::usage)?;
    imported.card.float_file = float.as_ref().map(|f| FileInfo {
        name: MODEL_F32_FILE.into(),
        bytes: f.len() as u64,
        sha256: sha256_hex(f),
    });
    imported.card.reproduce = reproduce(args);
    let card = imported.card.to_yaml().map_err(CliError::usage)?;

    // Written into a sibling folder and renamed: a failure never leaves half a model directory.
    let staging = staging_dir(&args.out);
    let write = || -> std::io::Result<()> {
        std::fs::create_dir_all(&staging)?;
        std::fs::write(staging.join(MODEL_FILE), &bytes)?;
        if let Some(f) = &float {
            std::fs::write(staging.join(MODEL_F32_FILE), f)?;
        }
        std::fs::write(staging.join(CARD_FILE), card.as_bytes())?;
        if args.out.is_dir() {
            // An existing folder without a model: move the files in.
            for file in std::fs::read_dir(&staging)? {
                let file = file?;
                std::fs::rename(file.path(), args.out.join(file.file_name()))?;
            }
            std::fs::remove_dir(&staging)
        } else {
            std::fs::rename(&staging, &args.out)
        }
    };
    if let Err(e) = write() {
        let _ = std::fs::remove_dir_all(&staging);
        return Err(CliError::infrastructure(format!(
            "{}: {e}",
            args.out.display()
        )));
    }

    let c = &imported.card;
    let q = &c.normalization.device_conversion;
    println!(
        "imported {} → {}: {} classes, input {} × {} at {} Hz (hop {}), input scale {} zero point {}",
        args.model.display(),
        args.out.display(),
        c.classes.len(),
        c.input.window_samples,
        c.input.channels.len(),
        c.input.rate_hz,
        c.input.window_stride_samples,
        c.normalization.input_scale,
        c.normalization.input_zero_point
    );
    println!(
        "device_conversion for board {}: offset {:?}, multiplier {:?}, shift {}, zero point {}; \
         max gain error {:.4} % (bound {:.2} %)",
        board.name,
        q.offset,
        q.multiplier,
        q.shift,
        q.zero_point,
        100.0 * imported.choice.max_gain_error,
        100.0 * MAX_GAIN_ERROR
    );
    println!("sha256 {} ({} bytes)", c.file.sha256, c.file.bytes);
    Ok(Exit::Ok)
}

fn read(path: &Path) -> Result<Vec<u8>, CliError> {
    std::fs::read(path).map_err(|e| CliError::usage(format!("{}: {e}", path.display())))
}

fn staging_dir(out: &Path) -> PathBuf {
    let name = out
        .file_name()
        .map_or_else(|| "model".into(), |n| n.to_string_lossy().into_owned());
    out.with_file_name(format!(".{name}.importing"))
}

/// The command line that made this directory, for the card.
fn reproduce(args: &ImportArgs) -> String {
    let mut parts = vec![
        "harbor models import".to_string(),
        args.model.display().to_string(),
        format!("--out {}", args.out.display()),
        format!("--classes {}", args.classes.join(",")),
    ];
    let list = |v: &[f32]| {
        v.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(",")
    };
    parts.extend(args.rate.map(|r| format!("--rate {r}")));
    parts.extend(args.window.map(|w| format!("--window {w}")));
    parts.extend(args.hop.map(|h| format!("--hop {h}")));
    parts.extend(args.mean.as_deref().map(|m| format!("--mean={}", list(m))));
    parts.extend(args.std.as_deref().map(|s| format!("--std {}", list(s))));
    parts.extend(
        args.float
            .as_ref()
            .map(|f| format!("--float {}", f.display())),
    );
    parts.push(format!("--board {}", args.board));
    parts.join(" ")
}
