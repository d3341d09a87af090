//! `harbor prepare`: a dataset on disk → IMU-rate int16 streams → labelled model windows (.npz).

use std::path::PathBuf;
use std::time::Instant;

use clap::{Args, ValueEnum};

use super::datasets::DatasetSource;
use super::progress::BytesBar;
use super::{CliError, CliResult, Exit};
use crate::board::BoardProfile;
use crate::datasets::plausibility;
use crate::datasets::summary::{SKIP_EXAMPLES, SkippedLines, skipped_by_cause};
use crate::signal::export::SplitProvenance;
use crate::signal::split::{
    PersonalizationConfig, SplitFractions, personalization_split, subject_split,
};
use crate::signal::{GapThreshold, PreparedFile, Provenance, ResampleConfig, WindowSpec, prepare};

#[derive(Debug, Args)]
pub struct PrepareArgs {
    #[command(flatten)]
    source: DatasetSource,
    /// Board profile name (boards/<name>.yaml) or path: its IMU rate and ranges.
    #[arg(long, default_value = BoardProfile::DEFAULT)]
    board: String,
    /// Window length, e.g. `3s` or `2500ms`.
    #[arg(long, default_value = "3s", value_parser = parse_seconds)]
    window: f64,
    /// Fraction of a window shared with the next one.
    #[arg(long, default_value_t = 0.5)]
    overlap: f64,
    /// The model's input rate in Hz (the firmware converts the IMU rate to it).
    #[arg(long, default_value_t = 20.0)]
    rate: f64,
    /// Minimum fraction of a window's samples that carry its majority label.
    #[arg(long, default_value_t = 0.8)]
    purity: f64,
    /// Keep windows of postural transitions (`stand_to_sit`, …) instead of dropping them.
    #[arg(long)]
    keep_transitions: bool,
    /// Split the stream at gaps longer than this (e.g. `0.5s`); default: 2.5 input periods.
    #[arg(long, value_parser = parse_seconds)]
    max_gap: Option<f64>,
    /// Assign windows to parts by subject.
    #[arg(long, value_enum, default_value_t = SplitKind::None)]
    split: SplitKind,
    /// Seed of the subject shuffle (same seed, same split, on any machine).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Personalization split: users held out of the generalized model.
    #[arg(long, default_value_t = 5)]
    held_out: usize,
    /// Personalization split: labelled windows per class and user for fine-tuning.
    #[arg(long, default_value_t = 15)]
    shots: usize,
    /// Output file (.npz, readable with numpy.load).
    #[arg(long)]
    out: PathBuf,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
    /// Fail (exit 2) when a plausibility check warns (units, rate), before writing anything.
    #[arg(long)]
    strict: bool,
    /// Write at most this many windows (default bound: 1,000,000 windows and 4 GB).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    max_windows: Option<u64>,
    /// Write whatever the dataset gives, without the size bound.
    #[arg(long)]
    force: bool,
}

/// Without `--max-windows` or `--force`, prepare refuses to write more than this.
const DEFAULT_MAX_WINDOWS: u64 = 1_000_000;
/// ... or more bytes than this.
const DEFAULT_MAX_BYTES: f64 = 4e9;

/// The size bound on the output, from `--max-windows` and `--force`.
struct SizeBound {
    windows: Option<u64>,
    bytes: Option<f64>,
}

impl SizeBound {
    fn of(args: &PrepareArgs) -> SizeBound {
        match (args.force, args.max_windows) {
            (true, _) => SizeBound {
                windows: None,
                bytes: None,
            },
            (false, Some(n)) => SizeBound {
                windows: Some(n),
                bytes: None,
            },
            (false, None) => SizeBound {
                windows: Some(DEFAULT_MAX_WINDOWS),
                bytes: Some(DEFAULT_MAX_BYTES),
            },
        }
    }

    /// Refuses `windows` of `length` samples if they break the bound; `what` says whether
    /// the count is an estimate.
    fn check(&self, windows: u64, length: usize, what: &str) -> Result<(), CliError> {
        // x float32 + x_raw int16 per sample and channel, plus the per-window strings.
        let bytes = windows as f64 * (length as f64 * 6.0 * 6.0 + 100.0);
        let too_many = self.windows.is_some_and(|max| windows > max);
        let too_big = self.bytes.is_some_and(|max| bytes > max);
        if !(too_many || too_big) {
            return Ok(());
        }
        Err(CliError::usage(format!(
            "{what} {windows} windows ({:.2} GB), more than the bound of {} windows{}; nothing was \
             written. A wrong time unit multiplies durations (see the rate warning, if any). \
             Raise the bound with --max-windows N, or lift it with --force",
            bytes / 1e9,
            self.windows
                .map_or("no limit on".to_string(), |w| w.to_string()),
            self.bytes
                .map_or(String::new(), |b| format!(" or {:.0} GB", b / 1e9)),
        )))
    }
}

/// Windows the recordings would give, before resampling: enough to catch a unit mistake.
fn estimate_windows(recordings: &[crate::datasets::Recording], spec: &WindowSpec) -> u64 {
    let hop = spec.length_s * (1.0 - spec.overlap);
    recordings
        .iter()
        .map(|r| r.duration_s())
        .filter(|&d| d >= spec.length_s)
        .map(|d| ((d - spec.length_s) / hop).floor() as u64 + 1)
        .sum()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum SplitKind {
    /// No split column.
    None,
    /// train/val/test by subject (70/15/15 %).
    Subjects,
    /// The BandX study's protocol: generalized pool + held-out users with fine-tune/test windows.
    Personalization,
}

/// Parses `3s`, `2500ms` or a bare number of seconds.
fn parse_seconds(text: &str) -> Result<f64, String> {
    let t = text.trim();
    let (number, scale) = if let Some(ms) = t.strip_suffix("ms") {
        (ms, 1e-3)
    } else if let Some(s) = t.strip_suffix('s') {
        (s, 1.0)
    } else {
        (t, 1.0)
    };
    match number.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v * scale),
        _ => Err(format!(
            "`{text}` is not a positive duration (e.g. 3s, 2500ms)"
        )),
    }
}

pub fn run(args: PrepareArgs) -> CliResult {
    let started = Instant::now();
    let board = BoardProfile::load(&args.board)?;
    let spec = WindowSpec {
        rate_hz: args.rate,
        length_s: args.window,
        overlap: args.overlap,
        purity: args.purity,
        keep_transitions: args.keep_transitions,
    };
    let resample_cfg = ResampleConfig {
        max_gap: args
            .max_gap
            .map_or(ResampleConfig::default().max_gap, GapThreshold::Seconds),
        ..ResampleConfig::default()
    };
    let loaded = args.source.load()?;
    let loaded_after = started.elapsed();
    super::datasets::report_warnings(&plausibility::check(&loaded, &loaded.units), args.strict)?;
    let bound = SizeBound::of(&args);
    let length = (spec.length_s * spec.rate_hz).round() as usize;
    bound.check(
        estimate_windows(&loaded.recordings, &spec),
        length,
        "the recordings would give about",
    )?;

    let bar = BytesBar::samples("preparing");
    let prepared = prepare(&loaded.recordings, &board, &spec, &resample_cfg, &bar);
    bar.finish();
    let prepared = prepared.map_err(CliError::usage)?;
    if prepared.windows.is_empty() {
        return Err(CliError::usage(format!(
            "no windows survived (window {} s at {} Hz):\n{}",
            spec.length_s, spec.rate_hz, prepared.report
        )));
    }

    bound.check(prepared.windows.len() as u64, length, "prepared")?;

    let split = match args.split {
        SplitKind::None => None,
        SplitKind::Subjects => Some(
            subject_split(&prepared.windows, SplitFractions::default(), args.seed)
                .map_err(CliError::usage)?,
        ),
        SplitKind::Personalization => {
            let cfg = PersonalizationConfig {
                held_out: args.held_out,
                per_class: args.shots,
                ..Default::default()
            };
            Some(
                personalization_split(&prepared.windows, cfg, args.seed)
                    .map_err(CliError::usage)?,
            )
        }
    };

    let mut meta = Provenance::new(
        args.source.kind.name(),
        &args.source.root,
        &loaded.recordings,
        loaded.skipped.len(),
        &board,
        &spec,
        &resample_cfg,
        &prepared.report,
    );
    meta.skipped = Some(SkippedLines::of(&loaded.skipped));
    if let Some(split) = &split {
        meta.split = Some(SplitProvenance {
            kind: format!("{:?}", args.split).to_lowercase(),
            seed: args.seed,
            settings: serde_json::json!({ "held_out": args.held_out, "shots": args.shots }),
            fine_tune_shortfalls: split.fine_tune_shortfalls.clone(),
        });
    }
    let file =
        PreparedFile::from_prepared(&prepared, split.as_ref(), &meta).map_err(CliError::usage)?;
    if let Some(dir) = args.out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| CliError::infrastructure(format!("{}: {e}", dir.display())))?;
    }
    file.write(&args.out).map_err(CliError::infrastructure)?;

    let elapsed = started.elapsed();
    if args.json {
        let summary = serde_json::json!({
            "out": args.out,
            "windows": prepared.windows.len(),
            "skipped_lines": loaded.skipped.len(),
            "skipped": meta.skipped,
            "report": prepared.report,
            "split": split.as_ref().map(|s| s.subjects.iter().map(|(p, v)| (p.name(), v.len())).collect::<std::collections::BTreeMap<_, _>>()),
            "seconds": elapsed.as_secs_f64(),
        });
        println!(
            "{}",
            serde_json::to_string_pretty(&summary).expect("summary serializes")
        );
    } else {
        print!("{}", prepared.report);
        if !loaded.skipped.is_empty() {
            println!("skipped input lines: {}", loaded.skipped.len());
            for (cause, count) in skipped_by_cause(&loaded.skipped) {
                println!("  {count:>8} × {cause}");
            }
            for skip in loaded.skipped.iter().take(SKIP_EXAMPLES) {
                println!("  {skip}");
            }
        }
        if let Some(split) = &split {
            for (part, subjects) in &split.subjects {
                println!(
                    "split {:<10} {:>3} subjects, {:>6} windows",
                    part.name(),
                    subjects.len(),
                    split.count(*part)
                );
            }
            for shortfall in &split.fine_tune_shortfalls {
                println!("  fewer fine-tune windows than asked: {shortfall}");
            }
        }
        let mb = loaded.bytes_read as f64 / 1e6;
        println!(
            "wrote {} windows to {} in {:.1} s (loading {:.1} MB took {:.1} s, {:.0} MB/s)",
            prepared.windows.len(),
            args.out.display(),
            elapsed.as_secs_f64(),
            mb,
            loaded_after.as_secs_f64(),
            mb / loaded_after.as_secs_f64().max(1e-9)
        );
    }
    Ok(Exit::Ok)
}

#[cfg(test)]
mod tests {
    use super::parse_seconds;

    #[test]
    fn durations() {
        assert_eq!(parse_seconds("3s"), Ok(3.0));
        assert_eq!(parse_seconds("2500ms"), Ok(2.5));
        assert_eq!(parse_seconds("1.5"), Ok(1.5));
        assert!(parse_seconds("-1s").is_err());
        assert!(parse_seconds("soon").is_err());
    }
}
