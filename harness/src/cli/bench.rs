//! `harbor bench`: windows per second through one QEMU per core, and how much of the CPU
//! time is the harness's rather than the emulator's.
//!
//! CPU times come from `/proc/<pid>/stat` (utime + stime, in USER_HZ ticks = 1/100 s on
//! Linux x86_64): the emulator's process and harbor's own, over the inference loop only.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Args;

use super::{CliError, CliResult, Exit};
use crate::datasets::workspace_root;
use crate::dut::{DeviceConfig, QemuConfig, Target};
use crate::metrics::InstructionStats;
use crate::model::{HostModel, load_checked};
use crate::rng::SplitMix64;

/// Linux's USER_HZ on the platforms harbor runs on.
const TICKS_PER_S: f64 = 100.0;

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Model directories (with model.tflite) to measure, one after the other.
    #[arg(long = "model", default_values = ["models/small-int8-generalized", "models/base-int8-generalized"])]
    models: Vec<PathBuf>,
    /// The firmware ELF.
    #[arg(long, default_value = "target/firmware/elf/band-qemu.elf")]
    firmware: PathBuf,
    /// Inferences per model.
    #[arg(long, default_value_t = 2000)]
    windows: usize,
}

pub fn run(args: BenchArgs) -> CliResult {
    let root = workspace_root();
    let resolve = |p: &PathBuf| {
        if p.is_absolute() {
            p.clone()
        } else {
            root.join(p)
        }
    };
    let firmware = resolve(&args.firmware);
    if !firmware.is_file() {
        return Err(CliError::infrastructure(format!(
            "firmware image {} does not exist: run scripts/build-firmware",
            firmware.display()
        )));
    }
    if args.windows == 0 {
        return Err(CliError::usage("--windows must be at least 1"));
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::infrastructure(format!("cannot start the async runtime: {e}")))?;
    outln!(
        "{:<28} {:>8} {:>10} {:>12} {:>12} {:>11} {:>11}",
        "model",
        "windows",
        "windows/s",
        "instr. med.",
        "QEMU CPU s",
        "harbor CPU",
        "QEMU idle"
    );
    for dir in &args.models {
        let model = load_checked(&resolve(dir)).map_err(CliError::usage)?.host;
        let m = runtime.block_on(measure(&firmware, &model, args.windows))?;
        let name = dir
            .file_name()
            .map_or_else(|| dir.display().to_string(), |n| n.to_string_lossy().into());
        outln!(
            "{:<28} {:>8} {:>10.0} {:>12} {:>12.2} {:>10.1}% {:>10.1}%",
            name,
            args.windows,
            args.windows as f64 / m.wall.as_secs_f64(),
            m.instructions.median,
            m.qemu_cpu_s,
            100.0 * m.harness_share(),
            100.0 * m.qemu_idle_share(),
        );
    }
    outln!(
        "harbor CPU = harness CPU / (harness + QEMU CPU) over the loop; QEMU idle = share of wall time QEMU's process was not on a CPU (waiting for the socket)"
    );
    Ok(Exit::Ok)
}

struct Measurement {
    wall: Duration,
    qemu_cpu_s: f64,
    harness_cpu_s: f64,
    instructions: InstructionStats,
}

impl Measurement {
    fn harness_share(&self) -> f64 {
        self.harness_cpu_s / (self.harness_cpu_s + self.qemu_cpu_s).max(1e-9)
    }

    fn qemu_idle_share(&self) -> f64 {
        (1.0 - self.qemu_cpu_s / self.wall.as_secs_f64().max(1e-9)).max(0.0)
    }
}

async fn measure(
    firmware: &std::path::Path,
    model: &HostModel,
    windows: usize,
) -> Result<Measurement, CliError> {
    let device = |e: crate::dut::TargetError| CliError::infrastructure(e);
    let mut target = crate::dut::open(&DeviceConfig::Qemu(QemuConfig::new(firmware)))
        .await
        .map_err(device)?;
    target
        .load_model(model.model_bytes())
        .await
        .map_err(device)?;
    let mut rng = SplitMix64::new(2019);
    let inputs: Vec<Vec<i8>> = (0..64)
        .map(|_| {
            (0..model.input().len())
                .map(|_| rng.next_u64() as i8)
                .collect()
        })
        .collect();
    let pid = target
        .pid()
        .ok_or_else(|| CliError::infrastructure("QEMU exited before the benchmark"))?;
    let (qemu0, self0) = (
        cpu_seconds(&format!("/proc/{pid}/stat"))?,
        cpu_seconds("/proc/self/stat")?,
    );
    let started = Instant::now();
    let mut counts = Vec::with_capacity(windows);
    for i in 0..windows {
        let inference = target
            .infer(&inputs[i % inputs.len()])
            .await
            .map_err(device)?;
        // The binary protocol always reports the count.
        counts.extend(inference.instructions);
    }
    let wall = started.elapsed();
    let (qemu1, self1) = (
        cpu_seconds(&format!("/proc/{pid}/stat"))?,
        cpu_seconds("/proc/self/stat")?,
    );
    target.shutdown().await;
    Ok(Measurement {
        wall,
        qemu_cpu_s: qemu1 - qemu0,
        harness_cpu_s: self1 - self0,
        instructions: InstructionStats::of(counts).unwrap_or(InstructionStats {
            min: 0,
            median: 0,
            max: 0,
        }),
    })
}

/// utime + stime of a process, in seconds.
fn cpu_seconds(stat_path: &str) -> Result<f64, CliError> {
    let text = std::fs::read_to_string(stat_path).map_err(|e| {
        CliError::infrastructure(format!("{stat_path}: {e} (harbor bench needs Linux /proc)"))
    })?;
    // The command name may contain spaces: fields are counted after its closing parenthesis.
    let after = text.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    // After the name: state is field 3, utime 14 and stime 15 (1-based over the whole line).
    let ticks = |i: usize| fields.get(i - 3).and_then(|v| v.parse::<f64>().ok());
    match (ticks(14), ticks(15)) {
        (Some(u), Some(s)) => Ok((u + s) / TICKS_PER_S),
        _ => Err(CliError::infrastructure(format!(
            "{stat_path}: unexpected format"
        ))),
    }
}
