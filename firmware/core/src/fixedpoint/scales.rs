//! TFLite Micro's multipliers from f32 scales, computed with integers only.
//!
//! TFLM prepares every multiplier in `double` (`QuantizeMultiplier` of, e.g.,
//! `(double)input_scale · (double)filter_scale / (double)output_scale`). On a core without an
//! FPU that pulls in ~6 KB of software floating point. The functions here give the identical
//! `(multiplier, shift)` for **every** f32 input, NaN, infinities, zeros and subnormals
//! included, by doing what the hardware would do on the bit patterns:
//!
//! - an f32 is `±m · 2^e` with `m < 2^24`; a product of two is exact in 48 bits, and every value
//!   reached from f32 scales lies far inside double's normal range, so double never underflows
//!   or overflows here;
//! - a division is carried to two bits beyond the target precision plus a sticky bit and
//!   rounded to nearest-even at 53 bits (double) or 24 bits (float), as IEEE 754 does;
//! - `QuantizeMultiplier` then rounds that 53-bit significand a second time, half away from
//!   zero, to 31 bits. Both roundings are kept: rounding the exact quotient once gives a
//!   different multiplier when the quotient lies within 2^-53 of a 31-bit tie.
//!
//! `fixedpoint::quantize_multiplier` stays as the f64 reference; `tests/scales_exact.rs`
//! compares the two on random, adversarial and all committed models' scales.

use super::QuantizedMultiplier;

/// A finite nonzero value `±m · 2^e`, held exactly (`m` has at most 53 significant bits).
#[derive(Clone, Copy, Debug)]
struct Exact {
    neg: bool,
    m: u64,
    e: i32,
}

impl Exact {
    /// Exponent `k` with the value in `[2^(k−1), 2^k)`: C's `frexp` exponent.
    fn frexp_exponent(self) -> i32 {
        bit_length(self.m) + self.e
    }

    fn times_pow2(self, k: i32) -> Exact {
        Exact {
            e: self.e + k,
            ..self
        }
    }
}

/// Significant bits of `m`; one out-of-line copy (a 64-bit count of leading zeros is long
/// code on RV32IMC).
#[inline(never)]
fn bit_length(m: u64) -> i32 {
    64 - m.leading_zeros() as i32
}

/// The f32's value when finite and nonzero, its significand normalised to 24 bits; `None`
/// for ±0, ±∞ and NaN.
fn finite(x: f32) -> Option<Exact> {
    let bits = bits(x);
    let biased = ((bits >> 23) & 0xff) as i32;
    let fraction = u64::from(bits & 0x7f_ffff);
    let (m, e) = match biased {
        0xff => return None,
        0 if fraction == 0 => return None,
        0 => (fraction, -149),
        _ => (fraction | 1 << 23, biased - 150),
    };
    Some(normalized(
        Exact {
            neg: bits >> 31 != 0,
            m,
            e,
        },
        23,
    ))
}

/// The same value with the significand's top bit at `top` (`m` must not exceed it).
fn normalized(mut x: Exact, top: u32) -> Exact {
    while x.m >> top == 0 {
        x.m <<= 1;
        x.e -= 1;
    }
    x
}

/// The bit pattern, hidden from the optimiser: LLVM turns tests like `bits << 1 == 0` back
/// into float comparisons, which are library calls on RV32IMC.
fn bits(x: f32) -> u32 {
    core::hint::black_box(x.to_bits())
}

fn is_nan(x: f32) -> bool {
    bits(x) & 0x7fff_ffff > 0x7f80_0000
}

fn is_zero(x: f32) -> bool {
    bits(x) << 1 == 0
}

fn is_infinite(x: f32) -> bool {
    bits(x) << 1 == 0xff00_0000
}

fn is_negative(x: f32) -> bool {
    bits(x) >> 31 != 0
}

/// The exact product (at most 48 significant bits).
fn mul(a: Exact, b: Exact) -> Exact {
    Exact {
        neg: a.neg != b.neg,
        m: a.m * b.m,
        e: a.e + b.e,
    }
}

/// Rounds `±m · 2^e` (plus less than one unit of `m` when `sticky`) to nearest-even at
/// `precision` bits. Values that already fit are returned as they are.
fn round_even(x: Exact, sticky: bool, precision: i32) -> Exact {
    let drop = bit_length(x.m) - precision;
    if drop <= 0 {
        return x;
    }
    let half = 1u64 << (drop - 1);
    let low = x.m & ((half << 1) - 1);
    let mut m = x.m >> drop;
    let mut e = x.e + drop;
    if low > half || (low == half && (sticky || m & 1 == 1)) {
        m += 1;
        if m == 1 << precision {
            m >>= 1;
            e += 1;
        }
    }
    Exact { neg: x.neg, m, e }
}

/// `n / d` correctly rounded (nearest-even) to `precision` bits, `precision` ≤ 54, for `n`
/// of at most 48 significant bits and `d` of 24 (an f32's).
#[inline(never)]
fn div(n: Exact, d: Exact, precision: i32) -> Exact {
    // n in [2^47, 2^48) and d in [2^23, 2^24): n / d in (2^23, 2^25), and two 64-bit
    // divisions (32 more quotient bits from the remainder) give 56 or 57 bits, at least two
    // below the precision, plus whether anything remains (sticky).
    let n = normalized(n, 47);
    let high = n.m / d.m;
    let rest = (n.m - high * d.m) << 32;
    let low = rest / d.m;
    let quotient = Exact {
        neg: n.neg != d.neg,
        m: high << 32 | low,
        e: n.e - d.e - 32,
    };
    round_even(quotient, rest != low * d.m, precision)
}

/// Rounds an exact product to f32 (nearest-even, subnormals, overflow); `None` when the
/// float result is ±0 or ±∞.
fn round_to_f32(x: Exact) -> Option<Exact> {
    // Below 2^-126 the spacing of floats stays 2^-149.
    let drop = (bit_length(x.m) - 24).max(-149 - x.e);
    let rounded = if drop >= 64 {
        return None;
    } else if drop <= 0 {
        x
    } else {
        let half = 1u64 << (drop - 1);
        let low = x.m & ((half << 1) - 1);
        let mut m = x.m >> drop;
        if low > half || (low == half && m & 1 == 1) {
            m += 1;
        }
        Exact {
            neg: x.neg,
            m,
            e: x.e + drop,
        }
    };
    if rounded.m == 0 || rounded.frexp_exponent() > 128 {
        return None;
    }
    Some(rounded)
}

/// TFLite's `QuantizeMultiplier` of an exactly representable double.
fn quantize(x: Exact) -> QuantizedMultiplier {
    let length = bit_length(x.m);
    let mut shift = x.frexp_exponent();
    // round(fraction · 2^31), half away from zero, with fraction = m / 2^length.
    let magnitude = if length <= 31 {
        x.m << (31 - length)
    } else {
        (x.m + (1 << (length - 32))) >> (length - 31)
    } as i64;
    let mut q = if x.neg { -magnitude } else { magnitude };
    if q == 1 << 31 {
        q /= 2;
        shift += 1;
    }
    if shift < -31 {
        return QuantizedMultiplier::default();
    }
    QuantizedMultiplier {
        multiplier: q as i32,
        shift,
    }
}

/// `QuantizeMultiplier((double)a · (double)b / (double)c)`: CONV_2D, DEPTHWISE_CONV_2D and
/// per-channel FULLY_CONNECTED (`input · filter / output`).
pub fn product_ratio(a: f32, b: f32, c: f32) -> QuantizedMultiplier {
    match (finite(a), finite(b), finite(c)) {
        (Some(a), Some(b), Some(c)) => quantize(div(mul(a, b), c, 53)),
        // A zero, infinite or NaN operand gives 0, ±∞ or NaN: the zero multiplier.
        _ => QuantizedMultiplier::default(),
    }
}

/// `QuantizeMultiplier((double)(a · b) / (double)c)` with the product rounded to f32 first:
/// per-tensor FULLY_CONNECTED (`GetQuantizedConvolutionMultipler`).
pub fn f32_product_ratio(a: f32, b: f32, c: f32) -> QuantizedMultiplier {
    match (finite(a), finite(b), finite(c)) {
        (Some(a), Some(b), Some(c)) => match round_to_f32(mul(a, b)) {
            Some(product) => quantize(div(product, c, 53)),
            None => QuantizedMultiplier::default(),
        },
        _ => QuantizedMultiplier::default(),
    }
}

/// `QuantizeMultiplier((double)a / (double)c)`: MEAN (`input / output`).
pub fn ratio(a: f32, c: f32) -> QuantizedMultiplier {
    match (finite(a), finite(c)) {
        (Some(a), Some(c)) => quantize(div(a, c, 53)),
        _ => QuantizedMultiplier::default(),
    }
}

/// `PreprocessSoftmaxScaling`'s multiplier:
/// `QuantizeMultiplier(min((double)beta · (double)input_scale · 2^factor_bits, 2^31 − 1))`.
pub fn softmax_input_multiplier(
    beta: f32,
    input_scale: f32,
    factor_bits: i32,
) -> QuantizedMultiplier {
    const MAX_REAL: Exact = Exact {
        neg: false,
        m: (1 << 31) - 1,
        e: 0,
    };
    let clamped = match (finite(beta), finite(input_scale)) {
        (Some(b), Some(s)) => {
            let real = mul(b, s).times_pow2(factor_bits);
            // floor(real) ≥ 2^31 − 1 exactly when real ≥ 2^31 − 1.
            let at_least_max = !real.neg
                && match real.frexp_exponent() {
                    k if k > 31 => true,
                    31 if real.e >= 0 => true,
                    31 => real.m >> -real.e >= MAX_REAL.m,
                    _ => false,
                };
            if at_least_max { MAX_REAL } else { real }
        }
        _ => {
            // NaN (also 0 · ∞) compares false, so `min` keeps 2^31 − 1, and so does +∞;
            // ±0 and −∞ give the zero multiplier.
            let nan = is_nan(beta)
                || is_nan(input_scale)
                || ((is_zero(beta) || is_zero(input_scale))
                    && (is_infinite(beta) || is_infinite(input_scale)));
            if nan {
                MAX_REAL
            } else if is_zero(beta) || is_zero(input_scale) {
                return QuantizedMultiplier::default();
            } else if is_negative(beta) == is_negative(input_scale) {
                MAX_REAL
            } else {
                return QuantizedMultiplier::default();
            }
        }
    };
    quantize(clamped)
}

/// `CalculateOpDataAdd`'s three multipliers (input 1, input 2, output) with ADD's left shift
/// `left_shift`: `s_i / (2·max(s1, s2))` and `2·max(s1, s2) / (2^left_shift · s_out)`, each
/// `QuantizeMultiplier`'d; `None` when one is not in (0, 1) or its shift is positive.
pub fn add_multipliers(
    scale1: f32,
    scale2: f32,
    output_scale: f32,
    left_shift: i32,
) -> Option<[QuantizedMultiplier; 3]> {
    // A zero, infinite or NaN scale makes some ratio 0, ±∞ or NaN, never in (0, 1).
    let (s1, s2, out) = (finite(scale1)?, finite(scale2)?, finite(output_scale)?);
    // f32 `max` of two finite values: compare their bit patterns in sign-magnitude order.
    let order = |x: f32| {
        let bits = bits(x);
        if bits >> 31 != 0 {
            !bits
        } else {
            bits | 1 << 31
        }
    };
    let max = if order(scale2) > order(scale1) {
        s2
    } else {
        s1
    };
    let twice_max = max.times_pow2(1);
    let ratios = [
        (s1, twice_max),
        (s2, twice_max),
        (twice_max, out.times_pow2(left_shift)),
    ];
    let mut multipliers = [QuantizedMultiplier::default(); 3];
    for (q, (n, d)) in multipliers.iter_mut().zip(ratios) {
        let real = div(n, d, 53);
        *q = quantize(real);
        if real.neg || real.frexp_exponent() > 0 || q.shift > 0 {
            return None;
        }
    }
    Some(multipliers)
}

/// `static_cast<int32_t>(round(x / scale))` with the quotient in f32 (TFLite's
/// `CalculateActivationRangeQuantized`): rounded half away from zero, saturating, NaN → 0.
pub fn rounded_quotient(x: f32, scale: f32) -> i32 {
    let saturated = |neg: bool| if neg { i32::MIN } else { i32::MAX };
    let q = match (finite(x), finite(scale)) {
        (Some(x), Some(s)) => div(x, s, 24),
        _ => {
            // NaN, 0/0 and ∞/∞ are NaN, which converts to 0; so do 0/s and x/∞ (zeros);
            // x/0 and ∞/s are infinite and saturate.
            let nan = is_nan(x)
                || is_nan(scale)
                || (is_zero(x) && is_zero(scale))
                || (is_infinite(x) && is_infinite(scale));
            if nan || is_zero(x) || is_infinite(scale) {
                return 0;
            }
            return saturated(is_negative(x) != is_negative(scale));
        }
    };
    // The f32 quotient may be subnormal or overflow; both give the same integer (0, or a
    // saturated one) as the 24-bit value computed without exponent limits.
    if q.frexp_exponent() > 31 {
        return saturated(q.neg);
    }
    let magnitude = if q.e >= 0 {
        (q.m << q.e) as i32
    } else if -q.e > 40 {
        0
    } else {
        ((q.m + (1 << (-q.e - 1))) >> -q.e) as i32
    };
    if q.neg { -magnitude } else { magnitude }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn division_rounds_to_nearest_even_with_sticky() {
        let one = finite(1.0).unwrap();
        let three = finite(3.0).unwrap();
        let third = div(one, three, 53);
        assert_eq!(third.m, (1f64 / 3.0).to_bits() & ((1 << 52) - 1) | 1 << 52);
        assert_eq!(third.frexp_exponent(), -1);
    }

    #[test]
    fn f32_product_rounding_reaches_subnormals_and_overflow() {
        let tiny = finite(f32::from_bits(1)).unwrap();
        let half = finite(0.5).unwrap();
        // 2^-149 · 0.5 is a tie between 0 and 2^-149: even is 0.
        assert!(round_to_f32(mul(tiny, half)).is_none());
        let big = finite(f32::MAX).unwrap();
        assert!(round_to_f32(mul(big, finite(2.0).unwrap())).is_none());
        let p = round_to_f32(mul(finite(3.0).unwrap(), half)).unwrap();
        let zeros = p.m.trailing_zeros();
        assert_eq!((p.m >> zeros, p.e + zeros as i32), (3, -1));
    }
}
