//! Resampling a recording by its true timestamps to the IMU's output data rate.
//!
//! Each output sample is a Kaiser-windowed-sinc low-pass evaluated at the real (irregular)
//! input timestamps, each input weighted by the time it represents (half the distance to
//! its neighbours, so a burst of closely spaced samples counts no more than one regular
//! sample) and the sum divided by the total weight (so DC is preserved exactly). Gaps longer
//! than [`ResampleConfig::max_gap`] split the stream into segments. See `docs/signal.md`.

use serde::Serialize;

use super::{Rate, SignalError};
use crate::datasets::Recording;

/// How to resample. Defaults are stated and justified in `docs/signal.md`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ResampleConfig {
    /// Consecutive inputs further apart than this start a new segment.
    pub max_gap: GapThreshold,
    /// Transition band as a fraction of the lower Nyquist rate: the passband ends at
    /// `(1 − transition)·nyquist`, the stopband starts at the Nyquist rate.
    pub transition: f64,
    /// Stopband attenuation the kernel is designed for (dB).
    pub stopband_db: f64,
}

/// Where a gap is long enough to split the stream.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GapThreshold {
    /// A multiple of the recording's median input spacing.
    InputPeriods(f64),
    /// A fixed duration in seconds.
    Seconds(f64),
}

impl Default for ResampleConfig {
    fn default() -> Self {
        ResampleConfig {
            max_gap: GapThreshold::InputPeriods(2.5),
            transition: 0.3,
            stopband_db: 60.0,
        }
    }
}

impl ResampleConfig {
    pub fn check(&self) -> Result<(), SignalError> {
        let gap_ok = match self.max_gap {
            GapThreshold::InputPeriods(p) => p.is_finite() && p >= 1.0,
            GapThreshold::Seconds(s) => s.is_finite() && s > 0.0,
        };
        if !gap_ok {
            return Err(SignalError::config(
                "max_gap",
                format!("{:?} (needs ≥ 1 period or > 0 s)", self.max_gap),
            ));
        }
        if !(self.transition > 0.0 && self.transition < 1.0) {
            return Err(SignalError::config(
                "transition",
                format!("{} is not in (0, 1)", self.transition),
            ));
        }
        if !(self.stopband_db >= 20.0 && self.stopband_db <= 120.0) {
            return Err(SignalError::config(
                "stopband_db",
                format!("{} is not in [20, 120]", self.stopband_db),
            ));
        }
        Ok(())
    }
}

/// One gap-free stretch of output at the IMU rate, physical units.
#[derive(Clone, Debug, PartialEq)]
pub struct Segment {
    /// Timestamp of output sample 0: the segment's first input timestamp.
    pub t0_ns: i64,
    /// Last input timestamp of the segment (outputs never go past it).
    pub t_end_ns: i64,
    /// accel x, y, z (m/s²) then gyro x, y, z (rad/s; zeros when the recording has none).
    pub values: Vec<[f32; 6]>,
    /// Label id (into the recording's `activities`) of the nearest input sample in time.
    pub labels: Vec<u16>,
}

/// What resampling one recording produced.
#[derive(Clone, Debug)]
pub struct Resampled {
    pub rate: Rate,
    pub segments: Vec<Segment>,
    /// The recording's median input rate, which set the cutoff.
    pub input_rate_hz: f64,
    pub gap_threshold_ns: i64,
    /// Outputs where the weights summed to less than half (a bridged gap too wide for the
    /// kernel); they fall back to linear interpolation between the neighbouring inputs.
    pub ill_conditioned: u64,
}

impl Resampled {
    pub fn output_samples(&self) -> u64 {
        self.segments.iter().map(|s| s.values.len() as u64).sum()
    }
}

/// The low-pass kernel, tabulated so the inner loop does no trigonometry.
struct Kernel {
    half_width_ns: f64,
    table: Vec<f64>,
    ns_per_entry: f64,
}

const KERNEL_TABLE_LEN: usize = 4096;

impl Kernel {
    /// Cutoff (−6 dB) midway between the passband edge and the stopband edge (`nyquist_hz`);
    /// length from Kaiser's formula for `stopband_db` over that transition band.
    fn design(nyquist_hz: f64, transition: f64, stopband_db: f64) -> Kernel {
        let transition_hz = transition * nyquist_hz;
        let cutoff_hz = nyquist_hz * (1.0 - transition / 2.0);
        let beta = kaiser_beta(stopband_db);
        let length_s = (stopband_db - 7.95) / (2.285 * 2.0 * std::f64::consts::PI * transition_hz);
        let half_width_ns = length_s / 2.0 * 1e9;
        let ns_per_entry = half_width_ns / (KERNEL_TABLE_LEN - 1) as f64;
        let i0_beta = bessel_i0(beta);
        let cutoff_per_ns = cutoff_hz * 1e-9;
        let table = (0..KERNEL_TABLE_LEN)
            .map(|i| {
                let tau = i as f64 * ns_per_entry;
                let r = tau / half_width_ns;
                let window = bessel_i0(beta * (1.0 - r * r).max(0.0).sqrt()) / i0_beta;
                2.0 * cutoff_per_ns * sinc(2.0 * cutoff_per_ns * tau) * window
            })
            .collect();
        Kernel {
            half_width_ns,
            table,
            ns_per_entry,
        }
    }

    /// Kernel value (per ns) at a time offset, linearly interpolated in the table.
    #[inline]
    fn at(&self, dt_ns: i64) -> f64 {
        let x = dt_ns.unsigned_abs() as f64 / self.ns_per_entry;
        let i = x as usize;
        if i + 1 >= KERNEL_TABLE_LEN {
            return 0.0;
        }
        let frac = x - i as f64;
        self.table[i] + (self.table[i + 1] - self.table[i]) * frac
    }
}

fn kaiser_beta(a: f64) -> f64 {
    if a > 50.0 {
        0.1102 * (a - 8.7)
    } else if a >= 21.0 {
        0.5842 * (a - 21.0).powf(0.4) + 0.07886 * (a - 21.0)
    } else {
        0.0
    }
}

fn bessel_i0(x: f64) -> f64 {
    let (mut term, mut sum) = (1.0, 1.0);
    for k in 1..50 {
        term *= x / 2.0 / f64::from(k);
        sum += term * term;
    }
    sum
}

fn sinc(x: f64) -> f64 {
    if x == 0.0 {
        1.0
    } else {
        (std::f64::consts::PI * x).sin() / (std::f64::consts::PI * x)
    }
}

/// Resamples `rec` to `rate`. The recording must satisfy [`Recording::validate`].
pub fn resample(
    rec: &Recording,
    rate: Rate,
    cfg: &ResampleConfig,
) -> Result<Resampled, SignalError> {
    cfg.check()?;
    rec.validate()
        .map_err(|reason| SignalError::recording(rec, reason))?;
    let input_rate_hz = rec.effective_rate_hz().unwrap_or(rec.nominal_rate_hz);
    if !(input_rate_hz.is_finite() && input_rate_hz > 0.0) {
        return Err(SignalError::recording(
            rec,
            format!("no usable input rate (nominal {})", rec.nominal_rate_hz),
        ));
    }
    let gap_threshold_ns = match cfg.max_gap {
        GapThreshold::InputPeriods(p) => (p * 1e9 / input_rate_hz).round() as i64,
        GapThreshold::Seconds(s) => (s * 1e9).round() as i64,
    };
    let kernel = Kernel::design(
        input_rate_hz.min(rate.hz()) / 2.0,
        cfg.transition,
        cfg.stopband_db,
    );

    let mut out = Resampled {
        rate,
        segments: Vec::new(),
        input_rate_hz,
        gap_threshold_ns,
        ill_conditioned: 0,
    };
    let t = &rec.t_ns;
    let mut start = 0;
    for i in 1..=t.len() {
        if i == t.len() || t[i] - t[i - 1] > gap_threshold_ns {
            let (segment, ill) = resample_segment(rec, start..i, rate, &kernel);
            out.ill_conditioned += ill;
            out.segments.push(segment);
            start = i;
        }
    }
    Ok(out)
}

/// The six input channels of sample `i` as f64.
#[inline]
fn input(rec: &Recording, i: usize) -> [f64; 6] {
    let a = rec.accel[i];
    let g = rec.gyro.as_ref().map_or([0.0; 3], |g| g[i]);
    [a[0], a[1], a[2], g[0], g[1], g[2]].map(f64::from)
}

/// The time input `i` stands for: half the distance to each in-segment neighbour (the
/// one neighbour's full distance at the segment's ends).
#[inline]
fn voronoi_ns(t: &[i64], i: usize, seg: &std::ops::Range<usize>) -> f64 {
    let left = (i > seg.start).then(|| t[i] - t[i - 1]);
    let right = (i + 1 < seg.end).then(|| t[i + 1] - t[i]);
    match (left, right) {
        (Some(l), Some(r)) => (l + r) as f64 / 2.0,
        (Some(d), None) | (None, Some(d)) => d as f64,
        (None, None) => 1.0,
    }
}

fn resample_segment(
    rec: &Recording,
    seg: std::ops::Range<usize>,
    rate: Rate,
    kernel: &Kernel,
) -> (Segment, u64) {
    let t = &rec.t_ns;
    let t0 = t[seg.start];
    let t_end = t[seg.end - 1];
    let n_out = rate.samples_within(t_end - t0) as usize;
    let mut values = Vec::with_capacity(n_out);
    let mut labels = Vec::with_capacity(n_out);
    let half = kernel.half_width_ns as i64;
    let (mut lo, mut hi, mut nearest) = (seg.start, seg.start, seg.start);
    let mut ill = 0;
    for k in 0..n_out {
        let tk = t0 + rate.offset_ns(k as u64);
        while lo < seg.end && t[lo] < tk - half {
            lo += 1;
        }
        while hi < seg.end && t[hi] <= tk + half {
            hi += 1;
        }
        // Ties go to the later sample.
        while nearest + 1 < seg.end && (t[nearest + 1] - tk).abs() <= (t[nearest] - tk).abs() {
            nearest += 1;
        }
        let mut acc = [0.0f64; 6];
        let mut weight_sum = 0.0;
        for i in lo..hi {
            let w = kernel.at(tk - t[i]) * voronoi_ns(t, i, &seg);
            weight_sum += w;
            let x = input(rec, i);
            for axis in 0..6 {
                acc[axis] += w * x[axis];
            }
        }
        let value = if weight_sum >= 0.5 {
            acc.map(|a| (a / weight_sum) as f32)
        } else {
            ill += 1;
            linear_between(rec, &seg, tk)
        };
        values.push(value);
        labels.push(rec.labels[nearest]);
    }
    (
        Segment {
            t0_ns: t0,
            t_end_ns: t_end,
            values,
            labels,
        },
        ill,
    )
}

fn linear_between(rec: &Recording, seg: &std::ops::Range<usize>, tk: i64) -> [f32; 6] {
    let t = &rec.t_ns[seg.clone()];
    let after = t.partition_point(|&ti| ti < tk);
    if after == 0 {
        return input(rec, seg.start).map(|v| v as f32);
    }
    if after == t.len() {
        return input(rec, seg.end - 1).map(|v| v as f32);
    }
    let (i0, i1) = (seg.start + after - 1, seg.start + after);
    let frac = (tk - rec.t_ns[i0]) as f64 / (rec.t_ns[i1] - rec.t_ns[i0]) as f64;
    let (a, b) = (input(rec, i0), input(rec, i1));
    std::array::from_fn(|axis| (a[axis] + (b[axis] - a[axis]) * frac) as f32)
}
