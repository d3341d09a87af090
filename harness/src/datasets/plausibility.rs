//! Checks that a loaded dataset's units are physically plausible, naming the likely cause.
//!
//! A wrong unit in a spec loads without any error and ruins everything after it (clipped
//! int16 readings, near-zero gyro, millions of windows), so `inspect` and `prepare` run these
//! checks: the accelerometer at rest must read about 1 g, the gyroscope of a moving person
//! must turn at human rates, and the sample rate must be one a wearable IMU has.

use std::fmt;

use serde::Serialize;

use super::custom::spec::{AccelUnit, GyroUnit, TimeUnit, Unit};
use super::{Loaded, STANDARD_GRAVITY};

/// The units a custom spec declared, so that a warning can say which one would fit.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct DeclaredUnits {
    /// `accel.unit`.
    pub accel: Option<AccelUnit>,
    /// `gyro.unit`.
    pub gyro: Option<GyroUnit>,
    /// `time.unit`, when times come from a column.
    pub time: Option<TimeUnit>,
    /// The accelerometer reads linear acceleration (gravity removed: BasicMotions, or
    /// `accel.gravity: removed`), so there is no 1 g at rest to check against.
    pub gravity_removed: bool,
}

/// A unit that looks wrong, and why.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Warning {
    /// Which check: `accel-at-rest`, `gyro-range` or `rate`.
    pub check: &'static str,
    /// What was measured and the likely cause.
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.check, self.message)
    }
}

/// |a| at rest within this factor of 1 g passes (phones read 0.9–1.1 g uncalibrated).
const GRAVITY_TOLERANCE: f64 = 1.25;
/// Windows whose |a| varies least; their median level is the reading at rest.
const STILL_FRACTION: f64 = 0.1;
/// Human motion: 99th percentile of |ω| while moving, rad/s. Wrist swings reach ~10 rad/s,
/// a walk turns a phone by ~1–5 rad/s; below 0.3 rad/s a moving body part barely turns.
const GYRO_P99_RANGE: (f64, f64) = (0.3, 40.0);
/// A recording with windows whose |a| varies more than this (m/s²) has the person moving.
const MOVING_STD: f64 = 1.0;
/// Effective sample rates a wearable IMU has, Hz.
const RATE_RANGE: (f64, f64) = (1.0, 2000.0);

/// Runs every check; empty when everything is plausible.
pub fn check(loaded: &Loaded, declared: &DeclaredUnits) -> Vec<Warning> {
    let mut warnings = Vec::new();
    let windows = accel_windows(loaded);
    if !declared.gravity_removed {
        warnings.extend(accel_at_rest(&windows, declared.accel));
    }
    warnings.extend(gyro_range(loaded, &windows, declared.gyro));
    warnings.extend(rate(loaded, declared.time));
    warnings
}

/// (std, mean) of |a| over ~1 s windows of every recording.
fn accel_windows(loaded: &Loaded) -> Vec<(f64, f64)> {
    let mut out = Vec::new();
    for rec in &loaded.recordings {
        let rate = rec.effective_rate_hz().unwrap_or(rec.nominal_rate_hz);
        let n = (rate.round() as usize).clamp(5, 10_000);
        for chunk in rec.accel.chunks_exact(n) {
            let mags: Vec<f64> = chunk
                .iter()
                .map(|a| a.iter().map(|&v| (v as f64).powi(2)).sum::<f64>().sqrt())
                .collect();
            let mean = mags.iter().sum::<f64>() / n as f64;
            let var = mags.iter().map(|m| (m - mean).powi(2)).sum::<f64>() / n as f64;
            out.push((var.sqrt(), mean));
        }
    }
    out
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    let mid = v.len() / 2;
    let (_, m, _) = v.select_nth_unstable_by(mid, f64::total_cmp);
    Some(*m)
}

/// Among `candidates` (name, scale into SI), the one that brings `raw` closest to `target`.
fn best_fit(raw: f64, target: f64, candidates: &[(&'static str, f64)]) -> (&'static str, f64) {
    candidates
        .iter()
        .map(|&(name, scale)| (name, raw * scale))
        .min_by(|a, b| {
            let d = |v: f64| (v / target).ln().abs();
            d(a.1).total_cmp(&d(b.1))
        })
        .expect("candidates are not empty")
}

fn accel_name(u: AccelUnit) -> &'static str {
    match u {
        AccelUnit::MetersPerSecondSquared => "m/s2",
        AccelUnit::G => "g",
        AccelUnit::MilliG => "mg",
    }
}

fn accel_at_rest(windows: &[(f64, f64)], declared: Option<AccelUnit>) -> Option<Warning> {
    let mut by_stillness = windows.to_vec();
    by_stillness.sort_by(|a, b| a.0.total_cmp(&b.0));
    let take = ((by_stillness.len() as f64 * STILL_FRACTION).ceil() as usize).max(1);
    let at_rest = median(by_stillness.iter().take(take).map(|w| w.1).collect())?;
    let ratio = at_rest / STANDARD_GRAVITY;
    if (1.0 / GRAVITY_TOLERANCE..=GRAVITY_TOLERANCE).contains(&ratio) {
        return None;
    }
    let measured = format!(
        "median |a| of the stillest windows is {at_rest:.3} m/s², {ratio:.3} × 9.81 (gravity \
         included, it should be about 9.81)"
    );
    let cause = match declared {
        Some(unit) => {
            let raw = at_rest / unit.scale();
            let units = [
                AccelUnit::MetersPerSecondSquared,
                AccelUnit::G,
                AccelUnit::MilliG,
            ];
            let candidates: Vec<(&str, f64)> =
                units.iter().map(|&u| (accel_name(u), u.scale())).collect();
            let (best, value) = best_fit(raw, STANDARD_GRAVITY, &candidates);
            if best != accel_name(unit) && (value / STANDARD_GRAVITY).ln().abs() < 0.25 {
                format!(
                    "the values look like {best}, not {}: set `accel.unit: {best}` (at rest they would read {value:.2} m/s²)",
                    accel_name(unit)
                )
            } else {
                "no unit fits: is gravity removed (linear acceleration), or the values scaled?"
                    .to_string()
            }
        }
        None => format!("the loader's accel conversion looks off by a factor of {ratio:.3}"),
    };
    Some(Warning {
        check: "accel-at-rest",
        message: format!("{measured}; {cause}"),
    })
}

fn gyro_name(u: GyroUnit) -> &'static str {
    match u {
        GyroUnit::RadiansPerSecond => "rad/s",
        GyroUnit::DegreesPerSecond => "deg/s",
        GyroUnit::MilliDegreesPerSecond => "mdps",
    }
}

fn gyro_range(
    loaded: &Loaded,
    windows: &[(f64, f64)],
    declared: Option<GyroUnit>,
) -> Option<Warning> {
    let mut mags: Vec<f64> = loaded
        .recordings
        .iter()
        .filter_map(|r| r.gyro.as_ref())
        .flat_map(|g| {
            // At most ~1 M samples: the percentile does not need every one.
            let stride = (g.len() / 1_000_000).max(1);
            g.iter().step_by(stride)
        })
        .map(|w| w.iter().map(|&v| (v as f64).powi(2)).sum::<f64>().sqrt())
        .collect();
    if mags.is_empty() {
        return None;
    }
    let k = ((mags.len() - 1) as f64 * 0.99).round() as usize;
    let (_, p99, _) = mags.select_nth_unstable_by(k, f64::total_cmp);
    let p99 = *p99;
    let moving = windows.iter().any(|w| w.0 > MOVING_STD);
    let (lo, hi) = GYRO_P99_RANGE;
    if p99 <= hi && (p99 >= lo || !moving) {
        return None;
    }
    let measured = if p99 > hi {
        format!("99th percentile of |ω| is {p99:.3} rad/s, more than a body turns ({hi} rad/s)")
    } else {
        format!(
            "99th percentile of |ω| is {p99:.4} rad/s although the accelerometer shows movement; a moving body turns faster than {lo} rad/s"
        )
    };
    let cause = match declared {
        Some(unit) => {
            let raw = p99 / unit.scale();
            let units = [
                GyroUnit::RadiansPerSecond,
                GyroUnit::DegreesPerSecond,
                GyroUnit::MilliDegreesPerSecond,
            ];
            let candidates: Vec<(&str, f64)> =
                units.iter().map(|&u| (gyro_name(u), u.scale())).collect();
            let (best, value) = best_fit(raw, (lo * hi).sqrt(), &candidates);
            if best != gyro_name(unit) && (lo..=hi).contains(&value) {
                format!(
                    "the values look like {best}, not {}: set `gyro.unit: {best}` (99th percentile {value:.2} rad/s)",
                    gyro_name(unit)
                )
            } else {
                "no unit fits: check the gyro columns".to_string()
            }
        }
        None => "the loader's gyro conversion looks wrong".to_string(),
    };
    Some(Warning {
        check: "gyro-range",
        message: format!("{measured}; {cause}"),
    })
}

fn time_name(u: TimeUnit) -> &'static str {
    match u {
        TimeUnit::Nanoseconds => "ns",
        TimeUnit::Microseconds => "us",
        TimeUnit::Milliseconds => "ms",
        TimeUnit::Seconds => "s",
    }
}

fn rate(loaded: &Loaded, declared: Option<TimeUnit>) -> Option<Warning> {
    let rate = median(
        loaded
            .recordings
            .iter()
            .filter_map(|r| r.effective_rate_hz())
            .collect(),
    )?;
    let (lo, hi) = RATE_RANGE;
    if (lo..=hi).contains(&rate) {
        return None;
    }
    let measured = format!("effective sample rate {rate:.4} Hz is outside {lo}–{hi} Hz");
    let cause = match declared {
        Some(unit) => {
            // The same timestamps read in another unit: rate scales by the inverse.
            let units = [
                TimeUnit::Nanoseconds,
                TimeUnit::Microseconds,
                TimeUnit::Milliseconds,
                TimeUnit::Seconds,
            ];
            let candidates: Vec<(&str, f64)> = units
                .iter()
                .map(|&u| {
                    (
                        time_name(u),
                        unit.ns_per_unit() as f64 / u.ns_per_unit() as f64,
                    )
                })
                .collect();
            let (best, value) = best_fit(rate, 50.0, &candidates);
            if best != time_name(unit) && (lo..=hi).contains(&value) {
                format!(
                    "the timestamps look like {best}, not {}: set `time.unit: {best}` (rate {value:.1} Hz)",
                    time_name(unit)
                )
            } else {
                "no time unit fits: check the time column".to_string()
            }
        }
        None => "check the rate or the timestamps' unit".to_string(),
    };
    Some(Warning {
        check: "rate",
        message: format!("{measured}; {cause}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::datasets::{Activity, BodyPosition, Recording};

    /// 20 s at 50 Hz: 10 s still (gravity on z), 10 s walking, gyro turning while walking.
    fn walk_and_stand(accel_scale: f32, gyro_scale: f32, t_scale: i64) -> Loaded {
        let n = 1000;
        let t_ns: Vec<i64> = (0..n).map(|i| i * 20_000_000 * t_scale).collect();
        let accel = (0..n)
            .map(|i| {
                let s = if i < 500 {
                    0.0
                } else {
                    3.0 * (i as f32 * 0.2).sin()
                };
                [0.1 * accel_scale, s * accel_scale, (9.8 + s) * accel_scale]
            })
            .collect();
        let gyro = (0..n)
            .map(|i| {
                let w = if i < 500 {
                    0.01
                } else {
                    2.0 * (i as f32 * 0.2).sin()
                };
                [w * gyro_scale, 0.0, 0.0]
            })
            .collect();
        Loaded {
            recordings: vec![Recording {
                dataset: "t".into(),
                subject: "1".into(),
                session: "s".into(),
                position: BodyPosition::Wrist,
                sources: vec![],
                nominal_rate_hz: 50.0,
                t_ns,
                accel,
                gyro: Some(gyro),
                labels: vec![0; n as usize],
                activities: vec![Activity::Walking],
            }],
            ..Loaded::default()
        }
    }

    const SI: DeclaredUnits = DeclaredUnits {
        accel: Some(AccelUnit::MetersPerSecondSquared),
        gyro: Some(GyroUnit::RadiansPerSecond),
        time: Some(TimeUnit::Nanoseconds),
        gravity_removed: false,
    };

    #[test]
    fn gravity_free_accel_is_checked_only_when_gravity_is_included() {
        // Linear acceleration: the still half reads ~0.1 m/s², not 1 g.
        let mut loaded = walk_and_stand(1.0, 1.0, 1);
        for a in &mut loaded.recordings[0].accel {
            a[2] -= 9.8;
        }
        let w = check(&loaded, &SI);
        assert_eq!(w.len(), 1, "{w:?}");
        assert_eq!(w[0].check, "accel-at-rest");
        let removed = DeclaredUnits {
            gravity_removed: true,
            ..SI
        };
        assert_eq!(check(&loaded, &removed), vec![]);
    }

    #[test]
    fn plausible_data_passes() {
        assert_eq!(check(&walk_and_stand(1.0, 1.0, 1), &SI), vec![]);
    }

    #[test]
    fn m_s2_declared_as_g_names_m_s2() {
        // The loader multiplied m/s² readings by 9.81 because the spec said g.
        let declared = DeclaredUnits {
            accel: Some(AccelUnit::G),
            ..SI
        };
        let w = check(&walk_and_stand(STANDARD_GRAVITY as f32, 1.0, 1), &declared);
        assert_eq!(w.len(), 1, "{w:?}");
        assert_eq!(w[0].check, "accel-at-rest");
        assert!(w[0].message.contains("`accel.unit: m/s2`"), "{}", w[0]);
    }

    #[test]
    fn mg_declared_as_m_s2_names_mg() {
        let w = check(&walk_and_stand(1000.0 / 9.80665, 1.0, 1), &SI);
        assert!(w[0].message.contains("`accel.unit: mg`"), "{}", w[0]);
    }

    #[test]
    fn rad_s_declared_as_deg_s_names_rad_s() {
        let declared = DeclaredUnits {
            gyro: Some(GyroUnit::DegreesPerSecond),
            ..SI
        };
        let w = check(
            &walk_and_stand(1.0, GyroUnit::DegreesPerSecond.scale() as f32, 1),
            &declared,
        );
        assert_eq!(w.len(), 1, "{w:?}");
        assert_eq!(w[0].check, "gyro-range");
        assert!(w[0].message.contains("`gyro.unit: rad/s`"), "{}", w[0]);
    }

    #[test]
    fn deg_s_declared_as_rad_s_names_deg_s() {
        let w = check(&walk_and_stand(1.0, 180.0 / std::f32::consts::PI, 1), &SI);
        assert!(w[0].message.contains("`gyro.unit: deg/s`"), "{}", w[0]);
    }

    #[test]
    fn ns_timestamps_declared_as_us_name_ns() {
        let declared = DeclaredUnits {
            time: Some(TimeUnit::Microseconds),
            ..SI
        };
        let w = check(&walk_and_stand(1.0, 1.0, 1000), &declared);
        assert_eq!(w.len(), 1, "{w:?}");
        assert_eq!(w[0].check, "rate");
        assert!(w[0].message.contains("`time.unit: ns`"), "{}", w[0]);
    }
}
