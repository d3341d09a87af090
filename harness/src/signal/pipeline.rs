//! The whole chain the CLI's `harbor prepare` runs: resample → quantize → model rate → windows.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use super::model_rate::ModelRateConverter;
use super::quantize::{ClipCounts, ImuQuantizer};
use super::resample::{ResampleConfig, resample};
use super::window::{ModelSegment, Source, WindowCounts, WindowSpec, Windows, cut};
use super::{Rate, SignalError};
use crate::board::BoardProfile;
use crate::datasets::{Progress, Recording};

/// The prepared windows and what happened on the way.
#[derive(Clone, Debug)]
pub struct Prepared {
    /// The kept windows.
    pub windows: Windows,
    /// Counts from every stage.
    pub report: PrepareReport,
}

/// Counts from every stage, for the CLI and the `.npz` provenance.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct PrepareReport {
    /// Recordings read.
    pub recordings: u64,
    /// Gap-free segments after splitting at gaps.
    pub segments: u64,
    /// Gaps that split a recording (segments − recordings with samples).
    pub gaps_split: u64,
    /// Samples read from the dataset.
    pub samples_in: u64,
    /// Samples at the IMU rate (what the band's sensor would produce).
    pub samples_imu: u64,
    /// Samples at the model rate that lie inside their segment.
    pub samples_model: u64,
    /// Regularisation grid points interpolated linearly (uneven nodes, see `resample`).
    pub linear_fallbacks: u64,
    /// Recordings without a gyroscope (gyro channels left at zero).
    pub recordings_without_gyro: u64,
    /// Readings clipped to the int16 range, per axis.
    pub clipped: ClipCounts,
    /// Windows kept and dropped, by reason.
    pub windows: WindowCounts,
    /// Kept windows per class name.
    pub per_class: BTreeMap<String, u64>,
    /// The board's IMU rate.
    pub imu_rate_hz: f64,
    /// The model's input rate.
    pub model_rate_hz: f64,
    /// Samples per window.
    pub window_samples: usize,
    /// Samples between window starts.
    pub hop_samples: usize,
}

impl fmt::Display for PrepareReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} recordings → {} segments ({} gaps split), {} input samples",
            self.recordings, self.segments, self.gaps_split, self.samples_in
        )?;
        writeln!(
            f,
            "IMU {} Hz: {} samples ({} grid points linear); model {} Hz: {} samples",
            self.imu_rate_hz,
            self.samples_imu,
            self.linear_fallbacks,
            self.model_rate_hz,
            self.samples_model
        )?;
        writeln!(
            f,
            "clipped at full scale: {} ({})",
            self.clipped.total(),
            self.clipped
        )?;
        if self.recordings_without_gyro > 0 {
            writeln!(
                f,
                "recordings without gyro (gyro axes zero): {}",
                self.recordings_without_gyro
            )?;
        }
        let w = &self.windows;
        writeln!(
            f,
            "windows of {} samples, hop {}: {} kept, {} dropped (impure {}, unlabelled {}, transition {}); {} segments shorter than a window",
            self.window_samples,
            self.hop_samples,
            w.kept,
            w.dropped(),
            w.impure,
            w.unlabelled,
            w.transition,
            w.short_segments
        )?;
        for (class, n) in &self.per_class {
            writeln!(f, "  {class:<20} {n}")?;
        }
        Ok(())
    }
}

/// Runs the chain over `recordings`. Progress is reported in input samples.
pub fn prepare(
    recordings: &[Recording],
    board: &BoardProfile,
    spec: &WindowSpec,
    resample_cfg: &ResampleConfig,
    progress: &dyn Progress,
) -> Result<Prepared, SignalError> {
    resample_cfg.check()?;
    spec.check()?;
    let imu_rate = Rate::from_hz(board.imu.odr_hz, "imu.odr_hz")?;
    let model_rate = spec.rate()?;
    let quantizer = ImuQuantizer::new(&board.imu)?;
    let converter = ModelRateConverter::new(imu_rate, model_rate)?;
    let (length, hop) = (spec.samples()?, spec.hop()?);

    let mut report = PrepareReport {
        imu_rate_hz: imu_rate.hz(),
        model_rate_hz: model_rate.hz(),
        window_samples: length,
        hop_samples: hop,
        ..PrepareReport::default()
    };
    let mut windows = Windows {
        length,
        duration_ns: model_rate.offset_ns(length as u64),
        ..Windows::default()
    };
    progress.start(recordings.iter().map(|r| r.len() as u64).sum());

    // Scratch buffers reused across segments: allocation stays linear in the output.
    let (mut raw_imu, mut raw_model, mut physical, mut t_model) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut labels, mut votes) = (Vec::new(), Vec::new());
    for rec in recordings {
        report.recordings += 1;
        report.samples_in += rec.len() as u64;
        if rec.gyro.is_none() {
            report.recordings_without_gyro += 1;
        }
        if rec.is_empty() {
            continue;
        }
        let resampled = resample(rec, imu_rate, resample_cfg)?;
        report.segments += resampled.segments.len() as u64;
        report.gaps_split += resampled.segments.len() as u64 - 1;
        report.linear_fallbacks += resampled.linear_fallbacks;
        let source = windows.sources.len() as u32;
        windows.sources.push(Source {
            dataset: rec.dataset.clone(),
            subject: rec.subject.clone(),
            session: rec.session.clone(),
        });

        for seg in &resampled.segments {
            report.samples_imu += seg.values.len() as u64;
            raw_imu.clear();
            raw_imu.extend(
                seg.values
                    .iter()
                    .map(|v| quantizer.quantize(v, &mut report.clipped)),
            );
            raw_model.clear();
            converter.convert(&raw_imu, &mut raw_model);

            // Keep model samples whose time lies inside the segment: earlier ones come from
            // the converter's primed history, not from data.
            let first = (converter.warmup_outputs() as usize).min(raw_model.len());
            let span = seg.t_end_ns - seg.t0_ns;
            let end = (first..raw_model.len())
                .find(|&n| converter.output_offset_ns(n as u64) > span)
                .unwrap_or(raw_model.len());
            let kept = &raw_model[first..end];
            report.samples_model += kept.len() as u64;

            t_model.clear();
            t_model.extend((first..end).map(|n| seg.t0_ns + converter.output_offset_ns(n as u64)));
            physical.clear();
            physical.extend(kept.iter().map(|r| quantizer.dequantize(r)));
            labels.clear();
            labels.extend(t_model.iter().map(|&t| label_at(seg, imu_rate, t)));

            let model_seg = ModelSegment {
                source,
                t_ns: &t_model,
                raw: kept,
                physical: &physical,
                labels: &labels,
                activities: &rec.activities,
            };
            cut(
                &model_seg,
                length,
                hop,
                spec,
                &mut windows,
                &mut report.windows,
                &mut votes,
            );
        }
        progress.advance(rec.len() as u64);
    }
    for w in &windows.info {
        *report
            .per_class
            .entry(w.activity.name().to_string())
            .or_default() += 1;
    }
    Ok(Prepared { windows, report })
}

/// Label of the IMU-rate sample nearest to `t_ns` (which lies inside the segment).
fn label_at(seg: &super::resample::Segment, imu_rate: Rate, t_ns: i64) -> u16 {
    let k = imu_rate.samples_within(t_ns - seg.t0_ns).max(1) - 1;
    let k = k as usize;
    let nearer_next = k + 1 < seg.labels.len()
        && imu_rate.offset_ns(k as u64 + 1) - (t_ns - seg.t0_ns)
            <= (t_ns - seg.t0_ns) - imu_rate.offset_ns(k as u64);
    seg.labels[if nearer_next { k + 1 } else { k }.min(seg.labels.len() - 1)]
}
