//! Requantization with the per-channel constants worked out once per channel, so each output
//! costs one 32×32→64 multiply, a 64-bit add and a shift. Bit-exact with
//! [`multiply_by_quantized_multiplier`](crate::fixedpoint::multiply_by_quantized_multiplier)
//! plus the output offset.
//!
//! gemmlowp's `SaturatingRoundingDoublingHighMul` adds `2^30` for a non-negative product and
//! `1 - 2^30` for a negative one, then divides by `2^31` truncating toward zero. For a
//! negative product that truncation is a ceiling, and `ceil((ab + 1 - 2^30) / 2^31)` equals
//! `floor((ab + 2^30) / 2^31)`: both cases are one arithmetic shift of `ab + 2^30`.
//!
//! `RoundingDivideByPOT(h, e)` (e ≥ 1) rounds half away from zero: `floor((h + 2^(e-1) -
//! [h < 0]) / 2^e)`. With `h = floor((ab + 2^30) / 2^31)`, `h < 0` exactly when `ab + 2^30 <
//! 0`; using `ab < 0` instead changes nothing (for `-2^30 ≤ ab < 0`, `h = 0` and both give 0).
//! Nested floors of integer divisions collapse (`floor((floor(y/A) + c)/B) = floor((y +
//! cA)/(AB))`), and an output offset `z` is `z · 2^(31+e)` under the same division, so the
//! whole chain is one rounding of the 64-bit product:
//!
//! `out = floor((ab + 2^30 + 2^(30+e) - [ab < 0] · 2^31 + z · 2^(31+e)) / 2^(31+e))`
//!
//! computed as the high word of `ab + k` shifted right by `e - 1`, with `k` one of two
//! per-channel constants. Other channels (a left shift, no right shift, a shift past 24, or
//! the one saturating multiplier) keep the step-by-step form.

use super::{ActivationRange, ChannelQuant};
use crate::fixedpoint::QuantizedMultiplier;

/// Largest right shift the one-rounding form takes: `z · 2^(31+e)` must stay far inside i64.
const MAX_FAST_SHIFT: u32 = 24;

/// One channel's output multiplier and output offset, split into what the per-output
/// arithmetic needs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Requant {
    multiplier: i32,
    /// Whether the one-rounding form applies (see the module docs).
    fast: bool,
    /// `k` for a non-negative product, and for a negative one.
    round_pos: i64,
    round_neg: i64,
    /// `e - 1`: the shift after taking the high word.
    shift_after: u32,
    left_shift: u32,
    right_shift: u32,
    /// `2^right_shift - 1`: the bits the rounding division drops.
    mask: i32,
    /// `mask >> 1`: the rounding threshold for a non-negative value.
    half_mask: i32,
    output_offset: i32,
}

impl Requant {
    /// Splits `q` (shift > 0 shifts left, otherwise right, clamped to 31 as TFLM's
    /// `RoundingDivideByPOT` requires); `output_offset` is added to every result.
    pub fn new(q: QuantizedMultiplier, output_offset: i32) -> Self {
        let (left_shift, right_shift) = if q.shift > 0 {
            // `1 << shift` wraps the shift amount modulo 32, as the reference does.
            (q.shift as u32 & 31, 0)
        } else {
            (0, q.shift.unsigned_abs().min(31))
        };
        let mask = ((1i64 << right_shift) - 1) as i32;
        let fast =
            q.shift <= 0 && (1..=MAX_FAST_SHIFT).contains(&right_shift) && q.multiplier != i32::MIN;
        let e = right_shift.clamp(1, MAX_FAST_SHIFT);
        let round_pos = (1i64 << 30) + (1i64 << (30 + e)) + (i64::from(output_offset) << (31 + e));
        Requant {
            multiplier: q.multiplier,
            fast,
            round_pos,
            round_neg: round_pos - (1i64 << 31),
            shift_after: e - 1,
            left_shift,
            right_shift,
            mask,
            half_mask: mask >> 1,
            output_offset,
        }
    }

    /// `MultiplyByQuantizedMultiplier(x, multiplier, shift) + output_offset` (wrapping).
    #[inline(always)]
    pub fn apply(&self, x: i32) -> i32 {
        if self.fast {
            let ab = i64::from(x) * i64::from(self.multiplier);
            let k = if ab < 0 {
                self.round_neg
            } else {
                self.round_pos
            };
            return (((ab + k) >> 32) as i32) >> self.shift_after;
        }
        let x = x.wrapping_shl(self.left_shift);
        let high = if x == i32::MIN && self.multiplier == i32::MIN {
            i32::MAX
        } else {
            ((i64::from(x) * i64::from(self.multiplier) + (1 << 30)) >> 31) as i32
        };
        let remainder = high & self.mask;
        let threshold = self.half_mask + i32::from(high < 0);
        ((high >> self.right_shift) + i32::from(remainder > threshold))
            .wrapping_add(self.output_offset)
    }
}

/// What one output channel needs after its dot product: the requantization (with the output
/// offset) and the bias with the input offset folded in (see [`ChannelQuant::folded_bias`]).
/// Loaded once per channel block, kept in registers across positions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OutputChannel {
    requant: Requant,
    folded_bias: i32,
}

impl OutputChannel {
    /// Channel `c` of `quant` (out of line: it runs once per channel group, and one copy of
    /// the byte decoding keeps the band's flash small).
    #[inline(never)]
    pub fn load(quant: &ChannelQuant<'_>, c: usize, output_offset: i32) -> Self {
        OutputChannel {
            requant: Requant::new(quant.get(c), output_offset),
            folded_bias: quant.folded_bias(c),
        }
    }

    /// The int8 output for `dot = Σ w·x` (no input offset): bias, requantize and offset,
    /// clamp.
    #[inline(always)]
    pub fn finish(&self, dot: i32, activation: ActivationRange) -> u8 {
        let scaled = self.requant.apply(dot.wrapping_add(self.folded_bias));
        activation.clamp(scaled) as i8 as u8
    }
}

/// Finishes a block: `positions` × `channels.len()` outputs, position `p`'s at
/// `out[p · out_step..]`, from `dots[4p + k]`. Out of line: one copy of the requantization
/// serves every kernel and block.
#[inline(never)]
pub fn finish_block(
    out: &mut [u8],
    out_step: usize,
    positions: usize,
    dots: &[i32; 12],
    channels: &[OutputChannel],
    activation: ActivationRange,
) {
    for (p, sums) in dots.chunks_exact(4).take(positions).enumerate() {
        let at = p * out_step;
        let Some(out) = out.get_mut(at..at + channels.len()) else {
            return;
        };
        for ((o, &dot), k) in out.iter_mut().zip(sums).zip(channels) {
            *o = k.finish(dot, activation);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixedpoint::multiply_by_quantized_multiplier;

    #[test]
    fn equals_the_reference_on_edge_values() {
        let xs = [
            0,
            1,
            -1,
            2,
            -2,
            1 << 30,
            -(1 << 30),
            i32::MAX,
            i32::MIN,
            i32::MIN + 1,
            12345,
            -98765,
        ];
        let ms = [
            0,
            1,
            -1,
            1 << 30,
            (1 << 30) + 1,
            i32::MAX,
            i32::MIN,
            1_518_500_250,
        ];
        for shift in -40..=40 {
            for &multiplier in &ms {
                for offset in [0, -128, 127, 5] {
                    let r = Requant::new(QuantizedMultiplier { multiplier, shift }, offset);
                    for &x in &xs {
                        let expected = multiply_by_quantized_multiplier(x, multiplier, shift)
                            .wrapping_add(offset);
                        assert_eq!(
                            r.apply(x),
                            expected,
                            "x {x} multiplier {multiplier} shift {shift} offset {offset}"
                        );
                    }
                }
            }
        }
    }

    /// Exact halves are where one rounding and two can differ: every x at and around a
    /// multiple of 2^(e-1), for positive and negative products.
    #[test]
    fn equals_the_reference_at_rounding_halves() {
        for shift in -25..=0 {
            for multiplier in [1 << 30, (1 << 30) + 7, i32::MAX, 1_518_500_250, 3, -5] {
                let r = Requant::new(QuantizedMultiplier { multiplier, shift }, -3);
                for k in -9i64..=9 {
                    for d in -2i64..=2 {
                        let x = (k << shift.unsigned_abs()) + d;
                        let Ok(x) = i32::try_from(x) else { continue };
                        let expected =
                            multiply_by_quantized_multiplier(x, multiplier, shift).wrapping_add(-3);
                        assert_eq!(r.apply(x), expected, "x {x} m {multiplier} shift {shift}");
                    }
                }
            }
        }
    }
}
