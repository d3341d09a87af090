//! SOFTMAX int8 → int8 (TFLM `reference_ops::Softmax<int8_t, int8_t>`).
//!
//! TFLM's int8 softmax is gemmlowp's fixed-point path (its exp LUT is only used for int16):
//! input differences are scaled to Q5.26, `exp` is evaluated on negative values with a
//! polynomial plus a barrel shifter of constants, the sum is kept in Q12.19, and the
//! reciprocal comes from Newton–Raphson. Output scale is 1/256, zero point -128.

use crate::fixedpoint::scales::softmax_input_multiplier;
use crate::fixedpoint::{
    QuantizedMultiplier, rounding_divide_by_pot, saturating_rounding_doubling_high_mul as mul,
    saturating_shift_left,
};

/// Integer bits of the scaled input difference (Q5.26).
const SCALED_DIFF_INTEGER_BITS: i32 = 5;
/// Integer bits of the accumulated sum of exponentials (Q12.19).
const ACCUMULATION_INTEGER_BITS: i32 = 12;

/// Precomputed SOFTMAX parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SoftmaxParams {
    /// `beta · input_scale · 2^(31-5)` as a multiplier ≥ 1 (left shift ≥ 0).
    pub input_multiplier: QuantizedMultiplier,
    /// Differences below this are treated as exp() = 0.
    pub diff_min: i32,
}

impl SoftmaxParams {
    /// TFLite's `PreprocessSoftmaxScaling` + `CalculateInputRadius` (load time; TFLM's
    /// double arithmetic done in integers by [`softmax_input_multiplier`]).
    pub fn new(beta: f32, input_scale: f32) -> Self {
        let input_multiplier =
            softmax_input_multiplier(beta, input_scale, 31 - SCALED_DIFF_INTEGER_BITS);
        // floor((2^5 − 1) · 2^26 / 2^left_shift): the double quotient is exact (a power of 2).
        let max_input_rescaled = ((1u64 << SCALED_DIFF_INTEGER_BITS) - 1)
            << (31 - SCALED_DIFF_INTEGER_BITS)
            >> input_multiplier.shift.clamp(0, 62);
        SoftmaxParams {
            input_multiplier,
            diff_min: -(max_input_rescaled as i32),
        }
    }

    /// TFLM's check of an int8 softmax's output scale, `|scale − 1/256| ≤ 1/256 · 10^-3` in
    /// f32 arithmetic, as a range of bit patterns computed at compile time (NaN passes it, as
    /// in the float comparison; the model reader rejects NaN scales before).
    pub fn output_scale_ok(scale: f32) -> bool {
        let bits = core::hint::black_box(scale.to_bits());
        (OUTPUT_SCALE_BITS.0..=OUTPUT_SCALE_BITS.1).contains(&bits)
            || bits & 0x7fff_ffff > 0x7f80_0000
    }
}

/// Lowest and highest f32 bit patterns that pass [`SoftmaxParams::output_scale_ok`].
const OUTPUT_SCALE_BITS: (u32, u32) = output_scale_bits();

const fn output_scale_bits() -> (u32, u32) {
    const ONE_256TH: f32 = 1.0 / 256.0;
    const TOLERANCE: f32 = 1.0 / 256.0 * 1e-3;
    const fn passes(bits: u32) -> bool {
        let d = f32::from_bits(bits) - ONE_256TH;
        // Not NaN here (the search stays below infinity), so `<=` is `!(>)`.
        d.abs() <= TOLERANCE
    }
    // |x − c| is monotone on each side of c = 1/256 (f32 rounding is monotone): binary
    // search the lowest passing pattern below c and the highest above.
    let centre = ONE_256TH.to_bits();
    let (mut lo, mut hi) = (0u32, centre);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if passes(mid) { hi = mid } else { lo = mid + 1 }
    }
    let lowest = lo;
    let (mut lo, mut hi) = (centre, 0x7f80_0000u32);
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        if passes(mid) { lo = mid } else { hi = mid - 1 }
    }
    (lowest, lo)
}

/// exp(x) for x in [-1/4, 0), Q0.31 in and out.
fn exp_on_interval_between_negative_one_quarter_and_0_excl(a: i32) -> i32 {
    const CONSTANT_TERM: i32 = 1_895_147_668; // exp(-1/8)
    const ONE_THIRD: i32 = 715_827_883;
    let x = a.wrapping_add(1 << 28);
    let x2 = mul(x, x);
    let x3 = mul(x2, x);
    let x4 = mul(x2, x2);
    let x4_over_4 = rounding_divide_by_pot(x4, 2);
    let poly = rounding_divide_by_pot(
        mul(x4_over_4.wrapping_add(x3), ONE_THIRD).wrapping_add(x2),
        1,
    );
    CONSTANT_TERM.wrapping_add(mul(CONSTANT_TERM, x.wrapping_add(poly)))
}

/// gemmlowp `exp_on_negative_values` for a Q5.26 input; Q0.31 output.
fn exp_on_negative_values(a: i32) -> i32 {
    const FRACTIONAL_BITS: i32 = 31 - SCALED_DIFF_INTEGER_BITS;
    const ONE_QUARTER: i32 = 1 << (FRACTIONAL_BITS - 2);
    let mask = ONE_QUARTER - 1;
    let a_mod_quarter_minus_one_quarter = (a & mask).wrapping_sub(ONE_QUARTER);
    let mut result =
        exp_on_interval_between_negative_one_quarter_and_0_excl(saturating_shift_left(
            a_mod_quarter_minus_one_quarter,
            SCALED_DIFF_INTEGER_BITS as u32,
        ));
    let remainder = a_mod_quarter_minus_one_quarter.wrapping_sub(a);
    // exp(-2^k) in Q0.31 for k = -2..=4, applied when bit (26 + k) of the remainder is set.
    const BARREL: [(i32, i32); 7] = [
        (-2, 1_672_461_947),
        (-1, 1_302_514_674),
        (0, 790_015_084),
        (1, 290_630_308),
        (2, 39_332_535),
        (3, 720_401),
        (4, 242),
    ];
    for (exponent, multiplier) in BARREL {
        if remainder & (1 << (FRACTIONAL_BITS + exponent)) != 0 {
            result = mul(result, multiplier);
        }
    }
    if a == 0 { i32::MAX } else { result }
}

/// 1 / (1 + x) for x in [0, 1), Q0.31 in and out (Newton–Raphson, 3 iterations).
fn one_over_one_plus_x_for_x_in_0_1(a: i32) -> i32 {
    // RoundingHalfSum(a, One) with truncating division as in C++.
    let sum = i64::from(a) + i64::from(i32::MAX);
    let sign = if sum >= 0 { 1 } else { -1 };
    let half_denominator = ((sum + sign) / 2) as i32;
    const C48_OVER_17: i32 = 1_515_870_810; // Q2.29
    const CNEG32_OVER_17: i32 = -1_010_580_540; // Q2.29
    const ONE_Q2: i32 = 1 << 29;
    let mut x = C48_OVER_17.wrapping_add(mul(half_denominator, CNEG32_OVER_17));
    for _ in 0..3 {
        let half_denominator_times_x = mul(half_denominator, x);
        let one_minus = ONE_Q2.wrapping_sub(half_denominator_times_x);
        x = x.wrapping_add(saturating_shift_left(mul(x, one_minus), 2));
    }
    saturating_shift_left(x, 1)
}

/// Runs softmax over the innermost `depth` values of each of `rows` rows.
pub fn softmax(p: &SoftmaxParams, rows: usize, depth: usize, input: &[u8], output: &mut [u8]) {
    let rescale = |diff: i32| {
        // MultiplyByQuantizedMultiplierGreaterThanOne: left shift then high multiply.
        let shifted = diff.wrapping_mul(1i32.wrapping_shl(p.input_multiplier.shift.max(0) as u32));
        mul(shifted, p.input_multiplier.multiplier)
    };
    for r in 0..rows {
        let row = &input[r * depth..(r + 1) * depth];
        let out = &mut output[r * depth..(r + 1) * depth];
        let max = row.iter().map(|&x| x as i8).max().unwrap_or(i8::MIN);
        let mut sum_of_exps: i32 = 0;
        for &x in row {
            let diff = i32::from(x as i8) - i32::from(max);
            if diff >= p.diff_min {
                let exp = exp_on_negative_values(rescale(diff));
                // Rescale Q0.31 → Q12.19.
                sum_of_exps = sum_of_exps
                    .wrapping_add(rounding_divide_by_pot(exp, ACCUMULATION_INTEGER_BITS));
            }
        }
        // GetReciprocal(sum, 12 integer bits).
        let headroom_plus_one = (sum_of_exps as u32).leading_zeros() as i32;
        let num_bits_over_unit = ACCUMULATION_INTEGER_BITS - headroom_plus_one;
        let shifted_sum_minus_one = ((sum_of_exps as u32)
            .wrapping_shl(headroom_plus_one as u32)
            .wrapping_sub(1u32 << 31)) as i32;
        let shifted_scale = one_over_one_plus_x_for_x_in_0_1(shifted_sum_minus_one);
        let exponent = (num_bits_over_unit + 31 - 8).clamp(0, 31);
        for (&x, o) in row.iter().zip(out.iter_mut()) {
            let diff = i32::from(x as i8) - i32::from(max);
            *o = if diff >= p.diff_min {
                let exp = exp_on_negative_values(rescale(diff));
                let unsat = rounding_divide_by_pot(mul(shifted_scale, exp), exponent);
                (unsat - 128).clamp(-128, 127) as i8 as u8
            } else {
                i8::MIN as u8
            };
        }
    }
}
