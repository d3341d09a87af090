//! Sample rates as exact integers, so output timestamps never drift.

use serde::Serialize;

use super::SignalError;

const MILLIHERTZ_NS: i128 = 1_000_000_000_000;

/// A sample rate held in whole millihertz: sample `k` of a stream starting at `t0` is at
/// `t0 + floor(k · 10¹² / mHz)` ns, computed from `k` directly (never by adding periods).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Rate {
    millihertz: i64,
}

impl Rate {
    /// Rounds `hz` to the millihertz; rejects rates that are not positive and finite.
    pub fn from_hz(hz: f64, setting: &'static str) -> Result<Rate, SignalError> {
        if !(hz.is_finite() && (0.001..=1e6).contains(&hz)) {
            return Err(SignalError::config(
                setting,
                format!("rate must be between 0.001 Hz and 1 MHz, got {hz}"),
            ));
        }
        Ok(Rate {
            millihertz: (hz * 1000.0).round() as i64,
        })
    }

    /// The rate in Hz.
    pub fn hz(self) -> f64 {
        self.millihertz as f64 / 1000.0
    }

    /// The rate in thousandths of a Hz (exact).
    pub fn millihertz(self) -> i64 {
        self.millihertz
    }

    /// Nanoseconds from the first sample to sample `k`.
    pub fn offset_ns(self, k: u64) -> i64 {
        // Fast paths (this runs per sample): an integer period, then u64 before i128.
        if let Some(period) = self.exact_period_ns()
            && let Some(t) = k.checked_mul(period)
        {
            return t as i64;
        }
        if let Some(scaled) = k.checked_mul(MILLIHERTZ_NS as u64) {
            return (scaled / self.millihertz as u64) as i64;
        }
        (i128::from(k) * MILLIHERTZ_NS / i128::from(self.millihertz)) as i64
    }

    /// The period in ns when it is a whole number (25 Hz: 40 000 000).
    pub fn exact_period_ns(self) -> Option<u64> {
        let m = self.millihertz as u64;
        (MILLIHERTZ_NS as u64)
            .is_multiple_of(m)
            .then(|| MILLIHERTZ_NS as u64 / m)
    }

    /// How many samples `k ≥ 0` have `offset_ns(k) ≤ span_ns`.
    pub fn samples_within(self, span_ns: i64) -> u64 {
        if span_ns < 0 {
            return 0;
        }
        if let Some(period) = self.exact_period_ns() {
            return span_ns as u64 / period + 1;
        }
        // offset(k) ≤ D  ⇔  k·10¹² < (D + 1)·mHz  ⇔  k < ceil((D + 1)·mHz / 10¹²).
        let bound = (i128::from(span_ns) + 1) * i128::from(self.millihertz);
        ((bound + MILLIHERTZ_NS - 1) / MILLIHERTZ_NS) as u64
    }

    /// The reduced ratio `self / other` as (numerator, denominator).
    pub fn ratio_to(self, other: Rate) -> (u64, u64) {
        let (a, b) = (self.millihertz as u64, other.millihertz as u64);
        let g = gcd(a, b);
        (a / g, b / g)
    }
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_are_exact_and_counts_match_them() {
        let r = Rate::from_hz(25.0, "t").unwrap();
        assert_eq!(r.offset_ns(1), 40_000_000);
        assert_eq!(r.offset_ns(90_000_000), 90_000_000 * 40_000_000);
        let third = Rate::from_hz(30.0, "t").unwrap();
        // 10⁹/30 is not an integer: each offset is floored from k, so no error accumulates.
        assert_eq!(third.offset_ns(3), 100_000_000);
        assert_eq!(third.offset_ns(1), 33_333_333);
        for span in [0i64, 1, 39_999_999, 40_000_000, 40_000_001, 1_000_000_000] {
            let n = r.samples_within(span);
            assert!(
                r.offset_ns(n - 1) <= span && r.offset_ns(n) > span,
                "span {span}: {n}"
            );
        }
        assert_eq!(r.samples_within(-1), 0);
        // The fast paths agree with the exact i128 formula.
        for rate in [
            third,
            r,
            Rate::from_hz(26.0, "t").unwrap(),
            Rate::from_hz(104.167, "t").unwrap(),
        ] {
            for k in [0u64, 1, 7, 1_000_003, 18_446_744, 20_000_000, 1 << 40] {
                let exact = (i128::from(k) * MILLIHERTZ_NS / i128::from(rate.millihertz)) as i64;
                assert_eq!(rate.offset_ns(k), exact, "{rate:?} k {k}");
            }
            for span in [0i64, 1, 38_461_538, 38_461_539, 7_000_000_000, 1 << 50] {
                let n = rate.samples_within(span);
                assert!(
                    rate.offset_ns(n - 1) <= span && rate.offset_ns(n) > span,
                    "{rate:?} span {span}: {n}"
                );
            }
        }
    }

    #[test]
    fn ratios_are_reduced() {
        let imu = Rate::from_hz(25.0, "t").unwrap();
        let model = Rate::from_hz(20.0, "t").unwrap();
        assert_eq!(model.ratio_to(imu), (4, 5));
        assert!(Rate::from_hz(0.0, "rate").is_err());
        assert!(Rate::from_hz(f64::NAN, "rate").is_err());
    }
}
