//! Property tests of the timestamp resampler: exact DC, passband kept, stopband removed,
//! exact output clock, gap splitting, nearest-sample labels; on jittered and bursty input.

use harbor::datasets::{Activity, BodyPosition, Recording};
use harbor::signal::Rate;
use harbor::signal::resample::{GapThreshold, ResampleConfig, resample};
use proptest::prelude::*;

const IMU_HZ: f64 = 25.0;

fn recording(t_ns: Vec<i64>, value: impl Fn(i64) -> [f32; 6]) -> Recording {
    let n = t_ns.len();
    let samples: Vec<[f32; 6]> = t_ns.iter().map(|&t| value(t)).collect();
    Recording {
        dataset: "synthetic".into(),
        subject: "s1".into(),
        session: "a".into(),
        position: BodyPosition::Wrist,
        sources: vec!["synthetic.txt".into()],
        nominal_rate_hz: 0.0,
        accel: samples.iter().map(|s| [s[0], s[1], s[2]]).collect(),
        gyro: Some(samples.iter().map(|s| [s[3], s[4], s[5]]).collect()),
        labels: (0..n).map(|i| (i / 37 % 3) as u16).collect(),
        activities: vec![Activity::Walking, Activity::Sitting, Activity::Standing],
        t_ns,
    }
}

/// Timestamps at `rate_hz` with up to ±`jitter` of a period of uniform jitter and, if
/// `bursts`, stretches where 3–6 samples arrive 5–10 ms apart (as in WISDM's watch files).
fn timestamps(rate_hz: f64, seconds: f64, jitter: f64, bursts: bool, seed: u64) -> Vec<i64> {
    let period = 1e9 / rate_hz;
    let mut rng = SplitMix(seed);
    let mut t = Vec::new();
    let mut now = 1_000_000_000_000.0f64; // device uptime clocks start anywhere
    let end = now + seconds * 1e9;
    while now < end {
        if bursts && rng.unit() < 0.02 {
            for _ in 0..3 + (rng.unit() * 4.0) as usize {
                t.push(now as i64);
                now += 5e6 + 5e6 * rng.unit();
            }
        }
        t.push(now as i64);
        now += period * (1.0 + jitter * (2.0 * rng.unit() - 1.0));
    }
    t.dedup();
    t
}

/// SplitMix64: a tiny deterministic generator for test timestamps.
struct SplitMix(u64);

impl SplitMix {
    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn sine(freq_hz: f64, amplitude: f64, t0: i64) -> impl Fn(i64) -> [f32; 6] {
    move |t| {
        let s = ((t - t0) as f64 * 1e-9 * freq_hz * std::f64::consts::TAU).sin() * amplitude;
        [s as f32, 0.0, 9.81, 0.0, (s * 0.1) as f32, 0.0]
    }
}

fn imu() -> Rate {
    Rate::from_hz(IMU_HZ, "test").unwrap()
}

/// Largest |error| against `truth` over outputs further than `margin_s` from segment edges.
fn interior_error(
    rec: &Recording,
    cfg: &ResampleConfig,
    margin_s: f64,
    truth: impl Fn(i64) -> f64,
) -> (f64, usize) {
    let out = resample(rec, imu(), cfg).unwrap();
    let mut worst = 0.0f64;
    let mut checked = 0;
    for seg in &out.segments {
        for (k, v) in seg.values.iter().enumerate() {
            let t = seg.t0_ns + imu().offset_ns(k as u64);
            if (t - seg.t0_ns) as f64 * 1e-9 < margin_s
                || (seg.t_end_ns - t) as f64 * 1e-9 < margin_s
            {
                continue;
            }
            worst = worst.max((f64::from(v[0]) - truth(t)).abs());
            checked += 1;
        }
    }
    (worst, checked)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// A constant comes out unchanged on any timestamps, including bridged gaps.
    #[test]
    fn dc_is_preserved(rate in prop::sample::select(vec![10.0, 20.0, 50.0, 100.0]),
                       jitter in 0.0..0.45, bursts: bool, seed: u64,
                       level in -40.0f32..40.0) {
        let t = timestamps(rate, 20.0, jitter, bursts, seed);
        let rec = recording(t, |_| [level, -level, 9.81, 0.5, -0.25, level / 3.0]);
        let out = resample(&rec, imu(), &ResampleConfig::default()).unwrap();
        for seg in &out.segments {
            for v in &seg.values {
                let want = [level, -level, 9.81, 0.5, -0.25, level / 3.0];
                for axis in 0..6 {
                    prop_assert!((v[axis] - want[axis]).abs() <= 1e-5 * want[axis].abs().max(1.0),
                        "axis {axis}: {} vs {}", v[axis], want[axis]);
                }
            }
        }
    }

    /// On regular timestamps a sine up to 0.6 × the lower Nyquist rate (passband edge 0.7)
    /// is reproduced within 0.5 % of its amplitude (design ripple ≈ 0.1 %).
    #[test]
    fn passband_sine_survives_regular_sampling(rate in prop::sample::select(vec![10.0f64, 20.0, 50.0, 100.0]),
                                               rel_freq in 0.02..0.6) {
        let nyquist = rate.min(IMU_HZ) / 2.0;
        let f = rel_freq * nyquist;
        let t = timestamps(rate, 20.0, 0.0, false, 0);
        let t0 = t[0];
        let rec = recording(t, sine(f, 5.0, t0));
        let (err, checked) = interior_error(&rec, &ResampleConfig::default(), 1.0, |t| 5.0 * ((t - t0) as f64 * 1e-9 * f * std::f64::consts::TAU).sin());
        prop_assert!(checked > 300);
        prop_assert!(err <= 0.005 * 5.0, "{f:.2} Hz from {rate} Hz: max error {err:.4}");
    }

    /// On jittered (≤ ±10 % of a period) or bursty timestamps, motion-band sines (≤ 0.2 × the
    /// lower Nyquist rate: 2 Hz for 20 Hz input) stay within 3 %: the regularising cubic is
    /// the limit (see docs/signal.md for the error at higher frequencies).
    #[test]
    fn passband_sine_survives_jitter_and_bursts(rate in prop::sample::select(vec![20.0f64, 50.0, 100.0]),
                                                rel_freq in 0.02..0.2, jitter in 0.0..0.1, bursts: bool, seed: u64) {
        let nyquist = rate.min(IMU_HZ) / 2.0;
        let f = rel_freq * nyquist;
        let t = timestamps(rate, 20.0, jitter, bursts, seed);
        let t0 = t[0];
        let rec = recording(t, sine(f, 5.0, t0));
        let cfg = ResampleConfig { max_gap: GapThreshold::Seconds(10.0), ..ResampleConfig::default() };
        let (err, checked) = interior_error(&rec, &cfg, 1.0, |t| 5.0 * ((t - t0) as f64 * 1e-9 * f * std::f64::consts::TAU).sin());
        prop_assert!(checked > 300);
        prop_assert!(err <= 0.03 * 5.0, "{f:.2} Hz from {rate} Hz: max error {err:.4}");
    }

    /// Downsampling regular input: a sine between the new Nyquist rate (12.5 Hz) and 0.9 ×
    /// the input's is attenuated by ≥ 50 dB (60 dB design; the transition band ends at 12.5 Hz).
    #[test]
    fn stopband_sine_is_attenuated(rate in prop::sample::select(vec![50.0, 100.0]), rel_freq in 1.02..3.6) {
        let f = rel_freq * IMU_HZ / 2.0;
        prop_assume!(f < 0.9 * rate / 2.0);
        let t = timestamps(rate, 20.0, 0.0, false, 0);
        let t0 = t[0];
        let rec = recording(t, sine(f, 5.0, t0));
        let (err, checked) = interior_error(&rec, &ResampleConfig::default(), 1.0, |_| 0.0);
        prop_assert!(checked > 300);
        prop_assert!(err <= 0.00316 * 5.0, "{f:.2} Hz from {rate} Hz leaked {err:.4} (> −50 dB)");
    }

    /// With ±10 % jitter at 100 Hz the stopband still gives ≥ 30 dB.
    #[test]
    fn stopband_sine_is_attenuated_under_jitter(rel_freq in 1.05..2.0, jitter in 0.0..0.1, seed: u64) {
        let f = rel_freq * IMU_HZ / 2.0;
        let t = timestamps(100.0, 20.0, jitter, false, seed);
        let t0 = t[0];
        let rec = recording(t, sine(f, 5.0, t0));
        let (err, _) = interior_error(&rec, &ResampleConfig::default(), 1.0, |_| 0.0);
        prop_assert!(err <= 0.0316 * 5.0, "{f:.2} Hz leaked {err:.4} (> −30 dB)");
    }

    /// Output sample k of a segment is at exactly t0 + k·40 ms, t0 is the segment's first
    /// input, and the segment holds every such instant up to its last input.
    #[test]
    fn output_clock_and_length_are_exact(rate in 5.0..200.0f64, jitter in 0.0..0.3, bursts: bool, seed: u64) {
        let t = timestamps(rate, 7.3, jitter, bursts, seed);
        let rec = recording(t.clone(), |_| [0.0; 6]);
        let cfg = ResampleConfig { max_gap: GapThreshold::Seconds(10.0), ..ResampleConfig::default() };
        let out = resample(&rec, imu(), &cfg).unwrap();
        prop_assert_eq!(out.segments.len(), 1);
        let seg = &out.segments[0];
        prop_assert_eq!(seg.t0_ns, t[0]);
        let span = t[t.len() - 1] - t[0];
        // 25 Hz is exactly 40 000 000 ns per sample.
        prop_assert_eq!(seg.values.len() as i64, span / 40_000_000 + 1);
        for k in [0u64, 1, seg.values.len() as u64 - 1] {
            prop_assert_eq!(imu().offset_ns(k), k as i64 * 40_000_000);
        }
    }

    /// Gaps longer than the threshold split the stream; no output lies inside a gap.
    #[test]
    fn gaps_split_segments(gap_positions in prop::collection::btree_set(50usize..950, 1..5),
                           gap_s in 0.2..30.0f64, seed: u64) {
        let mut t = timestamps(20.0, 50.0, 0.1, false, seed);
        // Shift everything after each chosen position later by the gap.
        for &p in gap_positions.iter().rev() {
            for ti in &mut t[p..] {
                *ti += (gap_s * 1e9) as i64;
            }
        }
        let rec = recording(t.clone(), |_| [1.0; 6]);
        let out = resample(&rec, imu(), &ResampleConfig::default()).unwrap();
        // Default threshold: 2.5 median periods = 125 ms at 20 Hz; jitter ≤ 10 % stays below.
        prop_assert_eq!(out.segments.len(), gap_positions.len() + 1);
        let starts: Vec<i64> = std::iter::once(0).chain(gap_positions.iter().copied()).map(|p| t[p]).collect();
        for (seg, start) in out.segments.iter().zip(&starts) {
            prop_assert_eq!(seg.t0_ns, *start);
            let last = seg.t0_ns + imu().offset_ns(seg.values.len() as u64 - 1);
            prop_assert!(last <= seg.t_end_ns);
            prop_assert!(seg.t_end_ns - last < 40_000_000);
        }
    }

    /// Each output's label is the label of the input nearest in time.
    #[test]
    fn labels_come_from_the_nearest_input(rate in prop::sample::select(vec![10.0, 20.0, 50.0]),
                                          jitter in 0.0..0.4, bursts: bool, seed: u64) {
        let t = timestamps(rate, 15.0, jitter, bursts, seed);
        let rec = recording(t.clone(), |_| [0.0; 6]);
        let cfg = ResampleConfig { max_gap: GapThreshold::Seconds(10.0), ..ResampleConfig::default() };
        let out = resample(&rec, imu(), &cfg).unwrap();
        let seg = &out.segments[0];
        for (k, &label) in seg.labels.iter().enumerate() {
            let tk = seg.t0_ns + imu().offset_ns(k as u64);
            let best = (t.iter().map(|&ti| (ti - tk).abs()).min()).unwrap();
            let candidates: Vec<u16> = (0..t.len()).filter(|&i| (t[i] - tk).abs() == best).map(|i| rec.labels[i]).collect();
            prop_assert!(candidates.contains(&label), "output {k}: label {label}, nearest {candidates:?}");
        }
    }
}

#[test]
fn upsampling_doubles_density_and_keeps_a_slow_sine() {
    // 10 Hz → 25 Hz: the lower Nyquist is the input's 5 Hz; a 1 Hz sine is in the passband.
    let t: Vec<i64> = (0..300).map(|i| i * 100_000_000).collect();
    let rec = recording(t, sine(1.0, 2.0, 0));
    let (err, checked) = interior_error(&rec, &ResampleConfig::default(), 2.0, |t| {
        2.0 * (t as f64 * 1e-9 * std::f64::consts::TAU).sin()
    });
    assert!(checked > 600, "{checked}");
    assert!(err < 0.01 * 2.0, "max error {err}");
}

#[test]
fn bad_settings_and_recordings_are_errors_naming_the_source() {
    let rec = recording(vec![0, 10, 5], |_| [0.0; 6]);
    let err = resample(&rec, imu(), &ResampleConfig::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("synthetic.txt") && err.contains("not strictly increasing"),
        "{err}"
    );
    let rec = recording(vec![0, 10, 20], |_| [0.0; 6]);
    let cfg = ResampleConfig {
        transition: 1.5,
        ..ResampleConfig::default()
    };
    let err = resample(&rec, imu(), &cfg).unwrap_err().to_string();
    assert!(err.contains("transition"), "{err}");
}
