//! `harbor bench`: windows per second through one QEMU, stream and tensor mode against the
//! band's compute limit, and how much of the CPU time is the harness's rather than the
//! emulator's.
//!
//! In one QEMU process, in rounds of up to 64 windows: a recording's raw IMU samples as
//! `harbor run` streams them (stream mode), the same windows cut on the host as `harbor run`
//! replays tensor mode (in batches through the band's shared-RAM mailbox), and as many
//! inferences with no I/O — one window loaded once into the MLPerf `db` buffer and run with
//! `infer N 0`. Then single TensorInfer exchanges (a window in, a result out over the UART:
//! what a real board gets). All are timed on the host's wall clock; the ratios to the
//! compute-only rate say how much delivering windows costs.
//!
//! CPU times come from `/proc/<pid>/stat` (utime + stime, in USER_HZ ticks = 1/100 s on
//! Linux x86_64): the emulator's process and harbor's own, over the exchange loop only.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Args;
use harbor_core::protocol::text::{MAX_COMMAND_LEN, Reply};
use serde::Serialize;

use super::{CliError, CliResult, Exit};
use crate::datasets::workspace_root;
use crate::dut::{DeviceConfig, QemuConfig, Target};
use crate::metrics::InstructionStats;
use crate::model::load_checked;

mod stream;
use stream::StreamSegment;

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
    /// Windows per model, in each measurement.
    #[arg(long, default_value_t = 2000)]
    windows: usize,
    /// Print the figures as JSON (`{"models": [{"model", "windows_per_s",
    /// "compute_only_windows_per_s", "ratio", "stream_windows_per_s", "stream_ratio",
    /// "stream_mismatches", "instructions_median", "stream_instructions_median", ...}]}`)
    /// instead of a table.
    #[arg(long)]
    json: bool,
}

/// One model's figures (`--json`; docs/performance.md).
#[derive(Debug, Serialize)]
struct ModelFigures {
    /// The model directory's name.
    model: String,
    /// Inferences in each measurement.
    windows: usize,
    /// Windows per second of wall time as replay runs them (mailbox batches when the band
    /// announces the mailbox, else one TensorInfer each).
    windows_per_s: f64,
    /// Whether `windows_per_s` went through the shared-RAM mailbox.
    mailbox: bool,
    /// Single TensorInfer exchanges per second of wall time (the UART path of a real board).
    single_windows_per_s: f64,
    /// `infer N 0` inferences per second of wall time (no I/O per window).
    compute_only_windows_per_s: f64,
    /// windows_per_s ÷ compute_only_windows_per_s.
    ratio: f64,
    /// Stream mode: the same windows' raw IMU samples sent at the band's rate, windows
    /// answered per second of wall time.
    stream_windows_per_s: f64,
    /// stream_windows_per_s ÷ compute_only_windows_per_s.
    stream_ratio: f64,
    /// Windows (model-rate samples) between stream windows: the card's stride.
    stream_hop: usize,
    /// Stream windows whose logits differ from tensor mode's on the same window (0: bit-exact).
    stream_mismatches: usize,
    /// Median instructions per inference, as the band reports them.
    instructions_median: u64,
    /// Median instructions per stream window: less than tensor mode's when windows overlap,
    /// because the band reuses the overlap's convolution columns (streaming inference).
    stream_instructions_median: u64,
    /// QEMU's CPU seconds over the exchange loop.
    qemu_cpu_s: f64,
    /// harbor's share of the CPU time over the exchange loop.
    harbor_cpu_share: f64,
    /// Share of the exchange loop's wall time QEMU was not on a CPU.
    qemu_idle_share: f64,
}

#[derive(Debug, Serialize)]
struct BenchReport {
    models: Vec<ModelFigures>,
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
    let mut report = BenchReport { models: Vec::new() };
    for dir in &args.models {
        let checked = load_checked(&resolve(dir)).map_err(CliError::usage)?;
        let segment = StreamSegment::load(&checked)?;
        let m = runtime.block_on(measure(
            &firmware,
            checked.host.model_bytes(),
            &segment,
            args.windows,
        ))?;
        let name = dir
            .file_name()
            .map_or_else(|| dir.display().to_string(), |n| n.to_string_lossy().into());
        let windows_per_s = args.windows as f64 / m.wall.as_secs_f64().max(1e-9);
        let single_windows_per_s = args.windows as f64 / m.single_wall.as_secs_f64().max(1e-9);
        let compute_only_windows_per_s =
            args.windows as f64 / m.compute_only_wall.as_secs_f64().max(1e-9);
        let stream_windows_per_s = args.windows as f64 / m.stream_wall.as_secs_f64().max(1e-9);
        report.models.push(ModelFigures {
            model: name,
            windows: args.windows,
            windows_per_s,
            mailbox: m.mailbox,
            single_windows_per_s,
            compute_only_windows_per_s,
            ratio: windows_per_s / compute_only_windows_per_s,
            stream_windows_per_s,
            stream_ratio: stream_windows_per_s / compute_only_windows_per_s,
            stream_hop: usize::from(segment.config.hop),
            stream_mismatches: m.stream_mismatches,
            instructions_median: m.instructions.median,
            stream_instructions_median: m.stream_instructions.median,
            qemu_cpu_s: m.qemu_cpu_s,
            harbor_cpu_share: m.harness_share(),
            qemu_idle_share: m.qemu_idle_share(),
        });
    }
    if args.json {
        let text = serde_json::to_string_pretty(&report).expect("figures serialize");
        outln!("{text}");
        return Ok(Exit::Ok);
    }
    outln!(
        "{:<28} {:>8} {:>10} {:>10} {:>6} {:>10} {:>13} {:>6} {:>12} {:>13} {:>12} {:>11} {:>11}",
        "model",
        "windows",
        "stream/s",
        "windows/s",
        "ratio",
        "single/s",
        "compute-only",
        "ratio",
        "instr. med.",
        "stream instr.",
        "QEMU CPU s",
        "harbor CPU",
        "QEMU idle"
    );
    for f in &report.models {
        outln!(
            "{:<28} {:>8} {:>10.0} {:>10.0} {:>6.2} {:>10.0} {:>13.0} {:>6.2} {:>12} {:>13} {:>12.2} {:>10.1}% {:>10.1}%",
            f.model,
            f.windows,
            f.stream_windows_per_s,
            f.windows_per_s,
            f.stream_ratio,
            f.single_windows_per_s,
            f.compute_only_windows_per_s,
            f.ratio,
            f.instructions_median,
            f.stream_instructions_median,
            f.qemu_cpu_s,
            100.0 * f.harbor_cpu_share,
            100.0 * f.qemu_idle_share,
        );
    }
    outln!(
        "stream/s: raw IMU samples of a recording streamed as replay streams them, windows answered per second (first ratio: ÷ compute-only); windows/s: the same windows as replay runs them in tensor mode (shared-RAM mailbox batches when the band has one); single/s: one TensorInfer exchange per window over the UART; compute-only: `infer N 0` on the band (no I/O per window), same QEMU; ratio = windows/s ÷ compute-only; instr. med.: median instructions per tensor-mode inference; stream instr.: per stream window (overlapping windows reuse convolution columns)"
    );
    outln!(
        "harbor CPU = harness CPU / (harness + QEMU CPU) over the exchange loop; QEMU idle = share of wall time QEMU's process was not on a CPU (waiting for the socket)"
    );
    Ok(Exit::Ok)
}

struct Measurement {
    wall: Duration,
    stream_wall: Duration,
    stream_mismatches: usize,
    mailbox: bool,
    single_wall: Duration,
    compute_only_wall: Duration,
    qemu_cpu_s: f64,
    harness_cpu_s: f64,
    instructions: InstructionStats,
    stream_instructions: InstructionStats,
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
    model: &[u8],
    segment: &StreamSegment,
    windows: usize,
) -> Result<Measurement, CliError> {
    let device = |e: crate::dut::TargetError| CliError::infrastructure(e);
    let mut target = crate::dut::open(&DeviceConfig::Qemu(QemuConfig::new(firmware)))
        .await
        .map_err(device)?;
    // Hello first, as replay does: it tells whether the band has the mailbox.
    let mailbox = target.info().await.map_err(device)?.mailbox;
    target.load_model(model).await.map_err(device)?;
    target
        .configure_input(&segment.input)
        .await
        .map_err(device)?;
    target
        .configure_stream(segment.config)
        .await
        .map_err(device)?;
    let pid = target
        .pid()
        .ok_or_else(|| CliError::infrastructure("QEMU exited before the benchmark"))?;
    load_db(&mut target, &segment.windows[0]).await?;
    // Rounds of stream, tensor and compute-only on the same windows alternate, so a change
    // in the machine's speed during the run affects every side of the ratios alike. The
    // stream continues the segment from round to round and starts it over at its end.
    let mut inferences = Vec::with_capacity(windows);
    let (mut wall, mut stream_wall, mut compute_only_wall) =
        (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    let (mut qemu_cpu_s, mut harness_cpu_s) = (0.0, 0.0);
    let (mut done, mut next, mut stream_mismatches) = (0, 0, 0);
    let mut all: Vec<&[i8]> = Vec::with_capacity(windows);
    let mut stream_counts = Vec::with_capacity(windows);
    while done < windows {
        let n = (windows - done)
            .min(REPLAY_BATCH)
            .min(segment.windows.len() - next);
        let from = if next == 0 { 0 } else { segment.ends[next - 1] };
        let to = segment.ends[next + n - 1];
        let started = Instant::now();
        let streamed = target
            .stream(from as u32, &segment.imu[from..to])
            .await
            .map_err(device)?;
        stream_wall += started.elapsed();
        let indices: Vec<u32> = streamed.windows.iter().map(|w| w.index).collect();
        stream_counts.extend(
            streamed
                .windows
                .iter()
                .filter_map(|w| w.inference.instructions),
        );
        if indices != (next as u32..(next + n) as u32).collect::<Vec<_>>() {
            return Err(CliError::infrastructure(format!(
                "stream mode answered windows {indices:?} for samples {from}..{to}, expected {next}..{}",
                next + n
            )));
        }

        let batch: Vec<&[i8]> = segment.windows[next..next + n]
            .iter()
            .map(Vec::as_slice)
            .collect();
        let (qemu0, self0) = (
            cpu_seconds(&format!("/proc/{pid}/stat"))?,
            cpu_seconds("/proc/self/stat")?,
        );
        let first = inferences.len();
        let started = Instant::now();
        target
            .infer_many(&batch, &mut inferences)
            .await
            .map_err(|(_, e)| device(e))?;
        wall += started.elapsed();
        qemu_cpu_s += cpu_seconds(&format!("/proc/{pid}/stat"))? - qemu0;
        harness_cpu_s += cpu_seconds("/proc/self/stat")? - self0;
        stream_mismatches += streamed
            .windows
            .iter()
            .zip(&inferences[first..])
            .filter(|(s, t)| s.inference.logits != t.logits)
            .count();

        let started = Instant::now();
        infer_db(&mut target, n).await?;
        compute_only_wall += started.elapsed();

        all.extend(batch);
        done += n;
        next = (next + n) % segment.windows.len();
    }
    // The binary protocol always reports the count.
    let counts: Vec<u64> = inferences.iter().filter_map(|i| i.instructions).collect();
    let stats = |counts: Vec<u64>| {
        InstructionStats::of(counts).unwrap_or(InstructionStats {
            min: 0,
            median: 0,
            max: 0,
        })
    };
    let started = Instant::now();
    for window in &all {
        target.infer(window).await.map_err(device)?;
    }
    let single_wall = started.elapsed();
    target.shutdown().await;
    Ok(Measurement {
        wall,
        stream_wall,
        stream_mismatches,
        mailbox,
        single_wall,
        compute_only_wall,
        qemu_cpu_s,
        harness_cpu_s,
        instructions: stats(counts),
        stream_instructions: stats(stream_counts),
    })
}

/// Windows per `infer_many` call, as replay hands them over.
const REPLAY_BATCH: usize = 64;

/// Inferences per `infer N 0` command: each command is one exchange, so it must end well
/// within the exchange deadline (10 s) even for the largest model.
const COMPUTE_BATCH: usize = 200;

/// Loads `window` into the `db` buffer for `infer N 0`.
async fn load_db(target: &mut impl Target, window: &[i8]) -> Result<(), CliError> {
    let load = format!("db load {}", window.len());
    let lines = text(target, &load).await?;
    if !lines
        .iter()
        .any(|l| Reply::parse(l) == Some(Reply::Expecting(window.len())))
    {
        return Err(refused(&load, &lines));
    }
    // `db ` + two hex digits per byte within the command length limit.
    let per_line = (MAX_COMMAND_LEN - 3) / 2;
    for chunk in window.chunks(per_line) {
        let hex: String = chunk.iter().map(|&b| format!("{:02x}", b as u8)).collect();
        let command = format!("db {hex}");
        let lines = text(target, &command).await?;
        if lines.iter().any(|l| l.starts_with("e-")) {
            return Err(refused(&command, &lines));
        }
    }
    Ok(())
}

/// `windows` inferences on the `db` buffer with `infer N 0`: no bytes cross the UART per
/// inference.
async fn infer_db(target: &mut impl Target, windows: usize) -> Result<(), CliError> {
    let mut left = windows;
    while left > 0 {
        let n = left.min(COMPUTE_BATCH);
        let command = format!("infer {n} 0");
        let lines = text(target, &command).await?;
        if !lines
            .iter()
            .any(|l| matches!(Reply::parse(l), Some(Reply::InferDone)))
        {
            return Err(refused(&command, &lines));
        }
        left -= n;
    }
    Ok(())
}

/// A band that does not take the MLPerf text commands `harbor bench` needs.
fn refused(command: &str, lines: &[String]) -> CliError {
    CliError::infrastructure(format!(
        "the band answered `{command}` with {lines:?}: it needs the MLPerf text commands (band-qemu.elf has them)"
    ))
}

async fn text(target: &mut impl Target, command: &str) -> Result<Vec<String>, CliError> {
    target
        .command(command)
        .await
        .map_err(CliError::infrastructure)
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
