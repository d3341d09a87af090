//! harbor's IMU stream → RESD blocks.
//!
//! The input is what the band's firmware would get: the raw int16 readings at the IMU rate
//! ([`crate::signal::quantize`]), per gap-free segment. Each reading becomes physical units
//! through a [`ResdScale`] and is rounded to RESD's integer units (half away from zero).
//! Every segment becomes one acceleration and one angular-rate block at the IMU rate; a
//! segment is split further only when a rate without a whole-ns period would drift.

use std::f64::consts::PI;

use super::resd::{Block, ResdError, ResdFile, SampleType};
use crate::board::{BoardProfile, ImuSpec};
use crate::datasets::Recording;
use crate::signal::quantize::ImuQuantizer;
use crate::signal::resample::{ResampleConfig, resample};
use crate::signal::{ClipCounts, Rate};

/// RESD units per raw LSB for the accelerometer (µg) and gyroscope (10⁻⁵ rad/s).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ResdScale {
    /// Accelerometer: µg per LSB.
    pub accel_ug_per_lsb: f64,
    /// Gyroscope: 10⁻⁵ rad/s per LSB.
    pub gyro_units_per_lsb: f64,
}

impl ResdScale {
    /// The profile's datasheet sensitivities: the physical value each reading stands for.
    pub fn datasheet(imu: &ImuSpec) -> Self {
        ResdScale {
            accel_ug_per_lsb: imu.accel_mg_per_lsb() * 1e3,
            gyro_units_per_lsb: mdps_to_units(imu.gyro_mdps_per_lsb()),
        }
    }

    /// Sensitivities of Renode's `LSM6DSO_IMU` model at the profile's full scales, so the
    /// firmware reads back exactly harbor's raw values: the model converts accel with
    /// 2^15 / FS LSB per g (not the datasheet's 0.122 mg/LSB) and gyro with the datasheet's
    /// mdps/LSB table (docs/renode.md).
    pub fn renode_lsm6dso(imu: &ImuSpec) -> Result<Self, ResdError> {
        let accel_ok = [2.0, 4.0, 8.0, 16.0].contains(&imu.accel_range_g);
        // (full scale dps, mdps/LSB) as in the model's GetAngularRateSensitivityInMilliDPSPerLSB.
        const GYRO: [(f64, f64); 5] = [
            (125.0, 4.375),
            (250.0, 8.75),
            (500.0, 17.5),
            (1000.0, 35.0),
            (2000.0, 70.0),
        ];
        let gyro_mdps = GYRO
            .iter()
            .find(|(fs, _)| *fs == imu.gyro_range_dps)
            .map(|(_, mdps)| *mdps);
        let (true, Some(gyro_mdps)) = (accel_ok, gyro_mdps) else {
            return Err(ResdError::Input(format!(
                "LSM6DSO full scales are ±2/4/8/16 g and ±125..2000 dps, the profile has ±{} g and ±{} dps",
                imu.accel_range_g, imu.gyro_range_dps
            )));
        };
        Ok(ResdScale {
            accel_ug_per_lsb: imu.accel_range_g * 1e6 / 32768.0,
            gyro_units_per_lsb: mdps_to_units(gyro_mdps),
        })
    }

    /// One 6-axis reading as (acceleration µg, angular rate 10⁻⁵ rad/s).
    pub fn convert(&self, raw: &[i16; 6]) -> Result<([i32; 3], [i32; 3]), ResdError> {
        let a = |i: usize| to_units(raw[i], self.accel_ug_per_lsb);
        let g = |i: usize| to_units(raw[i], self.gyro_units_per_lsb);
        Ok(([a(0)?, a(1)?, a(2)?], [g(3)?, g(4)?, g(5)?]))
    }
}

/// mdps → 10⁻⁵ rad/s.
fn mdps_to_units(mdps: f64) -> f64 {
    mdps * 1e-3 * PI / 180.0 * 1e5
}

/// Rounds half away from zero (`f64::round`); values beyond i32 are errors, not clamps.
fn to_units(raw: i16, per_lsb: f64) -> Result<i32, ResdError> {
    let v = (f64::from(raw) * per_lsb).round();
    if v.is_finite() && v >= f64::from(i32::MIN) && v <= f64::from(i32::MAX) {
        Ok(v as i32)
    } else {
        Err(ResdError::Input(format!(
            "reading {raw} × {per_lsb} does not fit RESD's i32 sample"
        )))
    }
}

/// One gap-free run of raw readings at the IMU rate; `t0_ns` is its first sample's time on
/// the recording's clock.
#[derive(Clone, Copy, Debug)]
pub struct ImuSegment<'a> {
    /// Time of the first sample on the recording's clock (ns).
    pub t0_ns: i64,
    /// Raw 6-axis readings at the IMU rate.
    pub raw: &'a [[i16; 6]],
}

/// Where the stream lands in Renode's virtual time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResdLayout {
    /// Virtual time of the first sample (e.g. after the firmware's boot).
    pub start_ns: u64,
    /// Largest tolerated difference between a block's `start + k·period` and the sample's
    /// exact time before a new block starts (only rates without a whole-ns period drift).
    pub max_drift_ns: u64,
    /// RESD channel id of the blocks.
    pub channel: u16,
}

impl Default for ResdLayout {
    fn default() -> Self {
        ResdLayout {
            start_ns: 0,
            max_drift_ns: 1_000,
            channel: 0,
        }
    }
}

/// The block period for `rate`: exact when 10⁹/Hz is whole, otherwise rounded.
pub fn period_ns(rate: Rate) -> u64 {
    rate.exact_period_ns().unwrap_or_else(|| {
        let mhz = rate.millihertz() as u64;
        (1_000_000_000_000 + mhz / 2) / mhz
    })
}

/// Builds the RESD file for `segments` (in time order, not overlapping) sampled at `rate`.
/// Gaps between segments are kept as gaps in virtual time.
pub fn build(
    segments: &[ImuSegment<'_>],
    rate: Rate,
    scale: &ResdScale,
    layout: &ResdLayout,
) -> Result<ResdFile, ResdError> {
    let period = period_ns(rate);
    let mut file = ResdFile::default();
    let Some(origin) = segments.iter().find(|s| !s.raw.is_empty()).map(|s| s.t0_ns) else {
        return Ok(file);
    };
    let mut previous_end: Option<(usize, i64)> = None;
    for (i, seg) in segments
        .iter()
        .enumerate()
        .filter(|(_, s)| !s.raw.is_empty())
    {
        if let Some((j, end)) = previous_end
            && seg.t0_ns <= end
        {
            return Err(ResdError::Input(format!(
                "segment {i} starts at {} ns, not after segment {j}'s last sample at {end} ns",
                seg.t0_ns
            )));
        }
        let last_offset = rate.offset_ns(seg.raw.len() as u64 - 1);
        previous_end = Some((i, seg.t0_ns + last_offset));
        let seg_start = u64::try_from(seg.t0_ns - origin)
            .ok()
            .and_then(|d| d.checked_add(layout.start_ns))
            .ok_or_else(|| ResdError::Input(format!("segment {i} lies before virtual time 0")))?;

        let mut first = 0usize;
        while first < seg.raw.len() {
            let base = rate.offset_ns(first as u64);
            // Extend the block while start + j·period stays within the drift budget.
            let mut end = first + 1;
            while end < seg.raw.len() {
                let predicted = base + ((end - first) as u64 * period) as i64;
                if predicted.abs_diff(rate.offset_ns(end as u64)) > layout.max_drift_ns {
                    break;
                }
                end += 1;
            }
            let start_ns = seg_start + base as u64;
            let (mut accel, mut gyro) = (
                Vec::with_capacity(end - first),
                Vec::with_capacity(end - first),
            );
            for raw in &seg.raw[first..end] {
                let (a, g) = scale.convert(raw)?;
                accel.push(a);
                gyro.push(g);
            }
            for (sample_type, samples) in [
                (SampleType::Acceleration, accel),
                (SampleType::AngularRate, gyro),
            ] {
                file.blocks.push(Block {
                    sample_type,
                    channel: layout.channel,
                    start_ns,
                    period_ns: period,
                    samples,
                });
            }
            first = end;
        }
    }
    Ok(file)
}

/// A recording as the band's IMU would produce it (resampled to `board`'s rate and
/// quantized to its int16 readings), as RESD. Returns the clip counts of the quantization.
pub fn from_recording(
    rec: &Recording,
    board: &BoardProfile,
    resample_cfg: &ResampleConfig,
    scale: &ResdScale,
    layout: &ResdLayout,
) -> Result<(ResdFile, ClipCounts), ResdError> {
    let signal = |e: crate::signal::SignalError| ResdError::Input(e.to_string());
    let rate = Rate::from_hz(board.imu.odr_hz, "imu.odr_hz").map_err(signal)?;
    let quantizer = ImuQuantizer::new(&board.imu).map_err(signal)?;
    let resampled = resample(rec, rate, resample_cfg).map_err(signal)?;
    let mut clipped = ClipCounts::default();
    let raw: Vec<(i64, Vec<[i16; 6]>)> = resampled
        .segments
        .iter()
        .map(|s| {
            (
                s.t0_ns,
                s.values
                    .iter()
                    .map(|v| quantizer.quantize(v, &mut clipped))
                    .collect(),
            )
        })
        .collect();
    let segments: Vec<ImuSegment<'_>> = raw
        .iter()
        .map(|(t0_ns, raw)| ImuSegment { t0_ns: *t0_ns, raw })
        .collect();
    Ok((build(&segments, rate, scale, layout)?, clipped))
}
