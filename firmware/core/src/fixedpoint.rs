//! gemmlowp / TFLite Micro fixed-point primitives, bit-exact.
//!
//! Every requantization in the int8 kernels goes through these functions, so their edge cases
//! (saturation at `i32::MIN * i32::MIN`, round-half-away-from-zero on negative ties, the
//! multiplier that rounds up to 2^31) decide whether harbor matches TFLite Micro bit for bit.
//! Arithmetic that C++ leaves to wrap (or leaves undefined) is done with explicit `wrapping_*`
//! so a hostile model cannot make the device panic.

pub mod scales;

/// `SaturatingRoundingDoublingHighMul`: the high 32 bits of `2·a·b`, rounded to nearest with
/// ties away from zero; the single overflowing case (`i32::MIN · i32::MIN`) saturates.
#[inline]
pub fn saturating_rounding_doubling_high_mul(a: i32, b: i32) -> i32 {
    if a == i32::MIN && b == i32::MIN {
        return i32::MAX;
    }
    let ab = i64::from(a) * i64::from(b);
    let nudge: i64 = if ab >= 0 { 1 << 30 } else { 1 - (1 << 30) };
    // C++ integer division truncates toward zero, as Rust's `/` does.
    ((ab + nudge) / (1i64 << 31)) as i32
}

/// `RoundingDivideByPOT`: `x / 2^exponent` rounded to nearest, ties away from zero.
/// `exponent` must be in `0..=31`; callers guarantee that from validated shifts.
#[inline]
pub fn rounding_divide_by_pot(x: i32, exponent: i32) -> i32 {
    let exponent = exponent.clamp(0, 31) as u32;
    let mask = ((1i64 << exponent) - 1) as i32;
    let remainder = x & mask;
    let threshold = (mask >> 1) + i32::from(x < 0);
    (x >> exponent) + i32::from(remainder > threshold)
}

/// TFLite's `MultiplyByQuantizedMultiplier` (double rounding, the TFLM default build):
/// `x · multiplier · 2^shift` with `multiplier` a Q31 value in `[2^30, 2^31)`.
#[inline]
pub fn multiply_by_quantized_multiplier(x: i32, multiplier: i32, shift: i32) -> i32 {
    #[cfg(feature = "fault-injection")]
    if let Some(rounding) = fault::get() {
        return fault::requantize(rounding, x, multiplier, shift);
    }
    let left_shift = if shift > 0 { shift } else { 0 };
    let right_shift = if shift > 0 { 0 } else { -shift };
    let shifted = x.wrapping_mul(1i32.wrapping_shl(left_shift as u32));
    rounding_divide_by_pot(
        saturating_rounding_doubling_high_mul(shifted, multiplier),
        right_shift,
    )
}

/// Deliberately wrong requantization, for tests only (feature `fault-injection`, which the
/// firmware and the harbor binary never enable): it shows that harbor's differential test
/// against TFLite Micro notices a rounding error. The switch is per thread.
#[cfg(feature = "fault-injection")]
pub mod fault {
    use core::cell::Cell;

    /// A wrong way to apply a quantized multiplier.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Rounding {
        /// One rounding of `x·m / 2^(31−shift)` (TFLite's single-rounding build, LiteRT's
        /// reference FULLY_CONNECTED) instead of TFLM's two: differs by 1 LSB on some ties.
        Single,
        /// Truncation toward −∞ instead of rounding.
        Truncate,
    }

    std::thread_local! {
        static FAULT: Cell<Option<Rounding>> = const { Cell::new(None) };
    }

    /// Turns the fault on (or off with `None`) for the calling thread.
    pub fn set(rounding: Option<Rounding>) {
        FAULT.with(|f| f.set(rounding));
    }

    pub(super) fn get() -> Option<Rounding> {
        FAULT.with(|f| f.get())
    }

    pub(super) fn requantize(rounding: Rounding, x: i32, multiplier: i32, shift: i32) -> i32 {
        let total_shift = (31 - shift).clamp(1, 62) as u32;
        let product = i64::from(x) * i64::from(multiplier);
        let rounded = match rounding {
            Rounding::Single => (product + (1i64 << (total_shift - 1))) >> total_shift,
            Rounding::Truncate => product >> total_shift,
        };
        rounded.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32
    }
}

/// gemmlowp's `SaturatingRoundingMultiplyByPOT` for a positive exponent: a left shift that
/// saturates instead of overflowing.
#[inline]
pub fn saturating_shift_left(x: i32, exponent: u32) -> i32 {
    let threshold = (1i32 << (31 - exponent)) - 1;
    if x > threshold {
        i32::MAX
    } else if x < -threshold {
        i32::MIN
    } else {
        x << exponent
    }
}

/// A float multiplier split the way TFLite's `QuantizeMultiplier` does it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct QuantizedMultiplier {
    /// Q31 significand in `[2^30, 2^31)`, or 0 for a zero (or flushed) multiplier.
    pub multiplier: i32,
    /// Power-of-two exponent: positive shifts left, negative right.
    pub shift: i32,
}

impl QuantizedMultiplier {
    /// Applies the multiplier to an accumulator, as TFLM's kernels do.
    #[inline]
    pub fn apply(self, x: i32) -> i32 {
        multiply_by_quantized_multiplier(x, self.multiplier, self.shift)
    }
}

/// TFLite's `QuantizeMultiplier`: frexp → Q31 significand rounded half away from zero; a
/// significand that rounds up to 2^31 is halved (shift + 1); shifts below -31 flush to zero.
///
/// The f64 reference: model preparation uses [`scales`], which gives the identical result
/// from f32 scales with integers only (no software floating point on the band).
pub fn quantize_multiplier(real: f64) -> QuantizedMultiplier {
    if real == 0.0 || !real.is_finite() {
        return QuantizedMultiplier::default();
    }
    let (fraction, mut shift) = frexp(real);
    let mut q_fixed = round_half_away_from_zero(fraction * (1u64 << 31) as f64) as i64;
    if q_fixed == 1i64 << 31 {
        q_fixed /= 2;
        shift += 1;
    }
    if shift < -31 {
        shift = 0;
        q_fixed = 0;
    }
    QuantizedMultiplier {
        multiplier: q_fixed as i32,
        shift,
    }
}

/// C's `frexp`: `x = fraction · 2^exponent` with `|fraction|` in `[0.5, 1)`.
pub fn frexp(x: f64) -> (f64, i32) {
    if x == 0.0 || !x.is_finite() {
        return (x, 0);
    }
    let bits = x.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i32;
    if biased == 0 {
        // Subnormal: normalise by 2^64 first, then correct the exponent.
        let (fraction, exponent) = frexp(x * 18_446_744_073_709_551_616.0);
        return (fraction, exponent - 64);
    }
    let exponent = biased - 1022;
    let fraction_bits = (bits & !(0x7ffu64 << 52)) | (1022u64 << 52);
    (f64::from_bits(fraction_bits), exponent)
}

/// `std::round` (half away from zero) without libm, exact for every f64.
pub fn round_half_away_from_zero(x: f64) -> f64 {
    // 2^52: from here on every f64 is an integer already.
    if !x.is_finite() || x.abs() >= 4_503_599_627_370_496.0 {
        return x;
    }
    let truncated = x as i64 as f64;
    let diff = x - truncated;
    if diff >= 0.5 {
        truncated + 1.0
    } else if diff <= -0.5 {
        truncated - 1.0
    } else {
        truncated
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frexp_matches_c_on_powers_and_subnormals() {
        assert_eq!(frexp(1.0), (0.5, 1));
        assert_eq!(frexp(0.75), (0.75, 0));
        assert_eq!(frexp(-3.0), (-0.75, 2));
        assert_eq!(frexp(f64::MIN_POSITIVE / 4.0), (0.5, -1023));
    }

    #[test]
    fn rounding_is_half_away_from_zero() {
        assert_eq!(round_half_away_from_zero(2.5), 3.0);
        assert_eq!(round_half_away_from_zero(-2.5), -3.0);
        assert_eq!(round_half_away_from_zero(2.4999999), 2.0);
        assert_eq!(round_half_away_from_zero(-0.4), 0.0);
    }
}
