//! `harbor infer`: a model's int8 outputs for given windows, on the host (harbor-core) or on a
//! device (QEMU, a serial board), optionally compared bit for bit with a reference.

use std::path::{Path, PathBuf};

use clap::Args;
use serde::Serialize;

use super::{CliError, CliResult, Exit};
use crate::datasets::workspace_root;
use crate::dut::{DeviceConfig, Inference, QemuConfig, SerialConfig, Target};
use crate::model::HostModel;
use crate::model::integrity::load_model;
use crate::model::user_windows::{Comparison, compare, int8_rows, quantized};
use crate::npz::{self, NpyArray, NpyData};

/// The band firmware `--target qemu` runs unless `--firmware` names another.
const DEFAULT_FIRMWARE: &str = "target/firmware/elf/band-qemu.elf";

/// Mismatches listed by `--expect`.
const SHOWN_MISMATCHES: usize = 10;

#[derive(Debug, Args)]
pub struct InferArgs {
    /// A model directory (card.yaml + model.tflite, checked against each other) or a bare .tflite.
    model: PathBuf,
    /// Windows, shape [N, …the model's input shape without its batch dimension]: int8, or
    /// float32/float64 quantized with the model's input scale and zero point.
    #[arg(long)]
    inputs: PathBuf,
    /// Where to write the int8 outputs, shape [N, outputs] (.npy).
    #[arg(long)]
    out: PathBuf,
    /// host (harbor-core), qemu (the band firmware in QEMU) or serial:PORT (a board).
    #[arg(long, default_value = "host")]
    target: String,
    /// The firmware ELF for --target qemu.
    #[arg(long)]
    firmware: Option<PathBuf>,
    /// Reference outputs (.npy, int8 [N, outputs]): compare bit for bit, exit 1 on a mismatch.
    #[arg(long)]
    expect: Option<PathBuf>,
}

/// Per-window figures a device reports, written beside the outputs.
#[derive(Serialize)]
struct DeviceFigures {
    target: String,
    windows: usize,
    instructions: Vec<Option<u64>>,
    elapsed_us: Vec<Option<u32>>,
    arena_used: Option<u32>,
    stack_high_water: Option<u32>,
}

pub fn run(args: &InferArgs) -> CliResult {
    let (host, _card) = load_model(&args.model).map_err(CliError::usage)?;
    let array = npz::read_npy(&args.inputs).map_err(CliError::usage)?;
    let inputs = quantized(&args.inputs, "the array", &array, &host).map_err(CliError::usage)?;
    let values = host.output().len();
    let expected = match &args.expect {
        Some(path) => {
            let reference = npz::read_npy(path).map_err(CliError::usage)?;
            let rows = int8_rows(path, &reference, values).map_err(CliError::usage)?;
            if rows.len() != inputs.len() {
                return Err(CliError::usage(format!(
                    "{}: {} rows, but {} has {} windows",
                    path.display(),
                    rows.len(),
                    args.inputs.display(),
                    inputs.len()
                )));
            }
            Some(rows)
        }
        None => None,
    };
    let (outputs, figures) = match args.target.as_str() {
        "host" => (host_outputs(&host, &inputs)?, None),
        target => {
            let config = device_config(target, args.firmware.as_deref())?;
            let inferences = on_device(&config, &host, &inputs)?;
            let outputs = inferences.iter().map(|i| i.logits.clone()).collect();
            let figures = DeviceFigures {
                target: target.to_string(),
                windows: inferences.len(),
                instructions: inferences.iter().map(|i| i.instructions).collect(),
                elapsed_us: inferences.iter().map(|i| i.elapsed_us).collect(),
                arena_used: inferences.iter().filter_map(|i| i.arena_used).max(),
                stack_high_water: inferences.iter().filter_map(|i| i.stack_high_water).max(),
            };
            (outputs, Some(figures))
        }
    };
    write_outputs(&args.out, &outputs, values)?;
    outln!(
        "{} windows through {} on {}: wrote {}",
        outputs.len(),
        args.model.display(),
        args.target,
        args.out.display()
    );
    if let Some(figures) = &figures {
        let path = figures_path(&args.out);
        let text = serde_json::to_string_pretty(figures)
            .map_err(|e| CliError::infrastructure(format!("{}: {e}", path.display())))?;
        super::write_atomically(&path, text.as_bytes())?;
        let mut sorted: Vec<u64> = figures.instructions.iter().flatten().copied().collect();
        sorted.sort_unstable();
        outln!(
            "instructions per window: median {} (min {}, max {}); per-window figures in {}",
            sorted.get(sorted.len() / 2).copied().unwrap_or(0),
            sorted.first().copied().unwrap_or(0),
            sorted.last().copied().unwrap_or(0),
            path.display()
        );
    }
    let Some(expected) = expected else {
        return Ok(Exit::Ok);
    };
    let comparison = compare(&outputs, &expected, SHOWN_MISMATCHES);
    print_comparison(&comparison, args.expect.as_deref().unwrap_or(Path::new("")));
    Ok(if comparison.bit_exact() {
        Exit::Ok
    } else {
        Exit::ChecksFailed
    })
}

fn host_outputs(host: &HostModel, inputs: &[Vec<i8>]) -> Result<Vec<Vec<i8>>, CliError> {
    Ok(host
        .run_quantized(inputs.iter().map(Vec::as_slice))
        .map_err(CliError::usage)?
        .into_iter()
        .map(|p| p.quantized)
        .collect())
}

fn device_config(target: &str, firmware: Option<&Path>) -> Result<DeviceConfig, CliError> {
    if target == "qemu" {
        let firmware = firmware.map_or_else(
            || workspace_root().join(DEFAULT_FIRMWARE),
            Path::to_path_buf,
        );
        if !firmware.is_file() {
            return Err(CliError::infrastructure(format!(
                "firmware image {} does not exist: run scripts/build-firmware",
                firmware.display()
            )));
        }
        return Ok(DeviceConfig::Qemu(QemuConfig::new(firmware)));
    }
    if firmware.is_some() {
        return Err(CliError::usage("--firmware is for --target qemu"));
    }
    match target.strip_prefix("serial:") {
        Some(port) if !port.is_empty() => Ok(DeviceConfig::Serial(SerialConfig::new(port))),
        _ => Err(CliError::usage(format!(
            "--target {target}: expected host, qemu or serial:PORT (e.g. serial:/dev/ttyUSB0)"
        ))),
    }
}

/// Loads the model into the device and runs every window, one request at a time.
fn on_device(
    config: &DeviceConfig,
    host: &HostModel,
    inputs: &[Vec<i8>],
) -> Result<Vec<Inference>, CliError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::infrastructure(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(async {
        let device = |e: crate::dut::TargetError| CliError::infrastructure(e);
        let mut target = crate::dut::open(config).await.map_err(device)?;
        let result = async {
            target.load_model(host.model_bytes()).await?;
            let mut done = Vec::with_capacity(inputs.len());
            for window in inputs {
                done.push(target.infer(window).await?);
            }
            Ok(done)
        }
        .await;
        target.shutdown().await;
        result.map_err(device)
    })
}

fn write_outputs(path: &Path, outputs: &[Vec<i8>], values: usize) -> Result<(), CliError> {
    let data: Vec<i8> = outputs.iter().flatten().copied().collect();
    let array = NpyArray::new(vec![outputs.len(), values], NpyData::I8(data))
        .map_err(|e| CliError::infrastructure(format!("{}: {e}", path.display())))?;
    npz::write_npy(path, &array).map_err(CliError::infrastructure)
}

/// `Y.npy` → `Y.device.json`.
fn figures_path(out: &Path) -> PathBuf {
    let stem = out
        .file_stem()
        .map_or_else(|| "outputs".into(), |s| s.to_string_lossy().into_owned());
    out.with_file_name(format!("{stem}.device.json"))
}

fn print_comparison(c: &Comparison, reference: &Path) {
    let verdict = if c.bit_exact() {
        "bit-exact"
    } else {
        "MISMATCH"
    };
    outln!(
        "--expect {}: {verdict}: {} of {} windows differ ({} values compared)",
        reference.display(),
        c.mismatched_windows,
        c.windows,
        c.values
    );
    outln!("  |difference| in LSB: values");
    for (lsb, count) in &c.histogram {
        outln!("  {lsb:>4}: {count}");
    }
    for m in &c.first {
        outln!(
            "  window {} output {}: got {}, expected {}",
            m.window,
            m.index,
            m.got,
            m.expected
        );
    }
}
