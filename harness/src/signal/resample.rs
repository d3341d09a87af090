//! Resampling a recording by its true timestamps to the IMU's output data rate.
//!
//! Two steps per gap-free segment (see `docs/signal.md` for why):
//! 1. **Regularise**: interpolate the irregular samples (jitter, bursts, single dropouts)
//!    onto a uniform grid at the recording's median spacing with a 4-point Lagrange cubic at
//!    the true timestamps (linear where the nodes are too uneven for the cubic to be safe).
//! 2. **Resample** the uniform grid with a Kaiser-windowed sinc evaluated at each output
//!    instant, cut off at the lower of the two Nyquist rates, normalised by the sum of its
//!    weights so DC is preserved exactly. On a uniform grid this is the textbook
//!    band-limited resampler; evaluated directly on irregular timestamps it is not (the
//!    kernel quadrature error was 3–50 % on ±10–30 % jitter).
//!
//! Gaps longer than [`ResampleConfig::max_gap`] split the stream into segments instead.

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
    /// Errors if a setting is out of range.
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
    /// The output rate.
    pub rate: Rate,
    /// Gap-free output segments.
    pub segments: Vec<Segment>,
    /// The recording's median input rate, which set the cutoff.
    pub input_rate_hz: f64,
    /// Spacing above which the input was split.
    pub gap_threshold_ns: i64,
    /// Grid points interpolated linearly because the cubic's nodes were too uneven.
    pub linear_fallbacks: u64,
}

impl Resampled {
    /// Samples over all segments.
    pub fn output_samples(&self) -> u64 {
        self.segments.iter().map(|s| s.values.len() as u64).sum()
    }
}

/// The low-pass kernel, tabulated so the inner loop does no trigonometry.
struct Kernel {
    half_width_ns: f64,
    table: Vec<f64>,
    entries_per_ns: f64,
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
            entries_per_ns: 1.0 / ns_per_entry,
        }
    }

    /// Kernel value (per ns) at a time offset, linearly interpolated in the table.
    #[inline]
    fn at(&self, dt_ns: i64) -> f64 {
        let x = dt_ns.unsigned_abs() as f64 * self.entries_per_ns;
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
        .map_err(|e| SignalError::recording(rec, e.to_string()))?;
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

    let mut out = Resampled {
        rate,
        segments: Vec::new(),
        input_rate_hz,
        gap_threshold_ns,
        linear_fallbacks: 0,
    };
    let t = &rec.t_ns;
    let (mut grid, mut spacing) = (Vec::new(), Vec::new());
    let mut kernels: Vec<(i64, Kernel)> = Vec::new();
    let mut start = 0;
    for i in 1..=t.len() {
        if i == t.len() || t[i] - t[i - 1] > gap_threshold_ns {
            let seg = start..i;
            let (median_ns, grid_period_ns) = spacing_stats(&t[seg.clone()], &mut spacing);
            // Kernels depend only on the segment's input rate; WISDM has ~1000 segments at
            // two rates, so designing each once matters.
            let key = median_ns / 100_000;
            let kernel = match kernels.iter().position(|(k, _)| *k == key) {
                Some(at) => &kernels[at].1,
                None => {
                    let input_hz = 1e9 / median_ns as f64;
                    kernels.push((
                        key,
                        Kernel::design(
                            input_hz.min(rate.hz()) / 2.0,
                            cfg.transition,
                            cfg.stopband_db,
                        ),
                    ));
                    &kernels[kernels.len() - 1].1
                }
            };
            out.linear_fallbacks += regularise(rec, seg.clone(), grid_period_ns, &mut grid);
            out.segments
                .push(resample_grid(rec, seg, &grid, grid_period_ns, rate, kernel));
            start = i;
        }
    }
    Ok(out)
}

/// The segment's median input spacing (sets the cutoff) and the grid spacing: its 10th
/// percentile, so denser stretches (WISDM has whole 100 Hz blocks among 20 Hz ones) are
/// never interpolated onto a grid too coarse for them. Spacing is 1 s for a lone sample.
fn spacing_stats(t: &[i64], scratch: &mut Vec<i64>) -> (i64, i64) {
    scratch.clear();
    scratch.extend(t.windows(2).map(|w| w[1] - w[0]));
    if scratch.is_empty() {
        return (1_000_000_000, 1_000_000_000);
    }
    let mid = scratch.len() / 2;
    let median = *scratch.select_nth_unstable(mid).1;
    let tenth = scratch.len() / 10;
    let p10 = *scratch.select_nth_unstable(tenth).1;
    (median.max(1), p10.max(1))
}

/// The six input channels of sample `i` as f64.
#[inline]
fn input(rec: &Recording, i: usize) -> [f64; 6] {
    let a = rec.accel[i];
    let g = rec.gyro.as_ref().map_or([0.0; 3], |g| g[i]);
    [a[0], a[1], a[2], g[0], g[1], g[2]].map(f64::from)
}

/// A cubic's Lagrange weight above this means the nodes are so uneven that the cubic would
/// amplify noise (uniform nodes never exceed 1.0 inside the central interval).
const MAX_CUBIC_WEIGHT: f64 = 1.5;

/// Fills `grid` with the segment's values at `t0 + j·period`, j = 0.. up to its last input.
/// Returns how many grid points fell back to linear interpolation.
fn regularise(
    rec: &Recording,
    seg: std::ops::Range<usize>,
    period_ns: i64,
    grid: &mut Vec<[f64; 6]>,
) -> u64 {
    let t = &rec.t_ns;
    let t0 = t[seg.start];
    let points = ((t[seg.end - 1] - t0) / period_ns + 1) as usize;
    grid.clear();
    grid.reserve(points);
    let mut fallbacks = 0;
    let mut left = seg.start; // t[left] ≤ τ < t[left + 1]
    for j in 0..points {
        let tau = t0 + j as i64 * period_ns;
        while left + 1 < seg.end && t[left + 1] <= tau {
            left += 1;
        }
        if t[left] == tau || left + 1 == seg.end {
            grid.push(input(rec, left));
            continue;
        }
        let nodes = cubic_nodes(t, &seg, left, period_ns);
        let cubic = nodes.is_some();
        let nodes = nodes.unwrap_or([left, left, left + 1, left + 1]);
        let weights = cubic.then(|| lagrange_weights(nodes.map(|i| (t[i] - tau) as f64)));
        match weights.filter(|w| w.iter().all(|x| x.abs() <= MAX_CUBIC_WEIGHT)) {
            Some(w) => {
                let mut v = [0.0; 6];
                for (&node, &weight) in nodes.iter().zip(&w) {
                    let x = input(rec, node);
                    for axis in 0..6 {
                        v[axis] += weight * x[axis];
                    }
                }
                grid.push(v);
            }
            None => {
                // At a segment's first/last interval the cubic lacks a node: linear there is
                // expected and not counted.
                fallbacks += u64::from(cubic);
                let frac = (tau - t[left]) as f64 / (t[left + 1] - t[left]) as f64;
                let (a, b) = (input(rec, left), input(rec, left + 1));
                grid.push(std::array::from_fn(|axis| {
                    a[axis] + (b[axis] - a[axis]) * frac
                }));
            }
        }
    }
    fallbacks
}

/// The bracketing pair plus an outer node on each side at least half a grid period away
/// (closer ones, as in a burst, would make the cubic extrapolate). `None` at segment ends.
fn cubic_nodes(
    t: &[i64],
    seg: &std::ops::Range<usize>,
    left: usize,
    period_ns: i64,
) -> Option<[usize; 4]> {
    let before = (seg.start..left)
        .rev()
        .take(8)
        .find(|&i| t[left] - t[i] >= period_ns / 2)?;
    let after = (left + 2..seg.end)
        .take(8)
        .find(|&i| t[i] - t[left + 1] >= period_ns / 2)?;
    Some([before, left, left + 1, after])
}

/// Lagrange basis weights at 0 for nodes at offsets `x` (distinct, in ns).
fn lagrange_weights(x: [f64; 4]) -> [f64; 4] {
    std::array::from_fn(|m| {
        (0..4)
            .filter(|&n| n != m)
            .map(|n| (0.0 - x[n]) / (x[m] - x[n]))
            .product()
    })
}

/// The windowed-sinc resampler on a uniform grid starting at the segment's first input.
fn resample_grid(
    rec: &Recording,
    seg: std::ops::Range<usize>,
    grid: &[[f64; 6]],
    period_ns: i64,
    rate: Rate,
    kernel: &Kernel,
) -> Segment {
    let t = &rec.t_ns;
    let t0 = t[seg.start];
    let t_end = t[seg.end - 1];
    let n_out = rate.samples_within(t_end - t0) as usize;
    let mut values = Vec::with_capacity(n_out);
    let mut labels = Vec::with_capacity(n_out);
    let half = kernel.half_width_ns as i64;
    let mut nearest = seg.start;
    for k in 0..n_out {
        let offset = rate.offset_ns(k as u64);
        // Grid points within the kernel's support around this output.
        let first = ((offset - half).max(0) + period_ns - 1) / period_ns;
        let first = first as usize;
        let last = (((offset + half) / period_ns) as usize).min(grid.len() - 1);
        let mut acc = [0.0f64; 6];
        let mut weight_sum = 0.0;
        for (j, x) in grid.iter().enumerate().take(last + 1).skip(first) {
            let w = kernel.at(offset - j as i64 * period_ns);
            weight_sum += w;
            for axis in 0..6 {
                acc[axis] += w * x[axis];
            }
        }
        values.push(acc.map(|a| (a / weight_sum) as f32));
        // Ties go to the later sample.
        let tk = t0 + offset;
        while nearest + 1 < seg.end && (t[nearest + 1] - tk).abs() <= (t[nearest] - tk).abs() {
            nearest += 1;
        }
        labels.push(rec.labels[nearest]);
    }
    Segment {
        t0_ns: t0,
        t_end_ns: t_end,
        values,
        labels,
    }
}
