//! Requantization with the per-channel constants worked out once per channel, so each output
//! costs one 32×32→64 multiply and a few shifts. Bit-exact with
//! [`multiply_by_quantized_multiplier`](crate::fixedpoint::multiply_by_quantized_multiplier).
//!
//! gemmlowp's `SaturatingRoundingDoublingHighMul` adds `2^30` for a non-negative product and
//! `1 - 2^30` for a negative one, then divides by `2^31` truncating toward zero. For a
//! negative product that truncation is a ceiling, and `ceil((ab + 1 - 2^30) / 2^31)` equals
//! `floor((ab + 2^30) / 2^31)`: both cases are one arithmetic shift of `ab + 2^30`.

use super::{ActivationRange, ChannelQuant};
use crate::fixedpoint::QuantizedMultiplier;

/// One channel's output multiplier, split into what the per-output arithmetic needs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Requant {
    multiplier: i32,
    left_shift: u32,
    right_shift: u32,
    /// `2^right_shift - 1`: the bits the rounding division drops.
    mask: i32,
    /// `mask >> 1`: the rounding threshold for a non-negative value.
    half_mask: i32,
}

impl Requant {
    /// Splits `q` (shift > 0 shifts left, otherwise right, clamped to 31 as TFLM's
    /// `RoundingDivideByPOT` requires).
    pub fn new(q: QuantizedMultiplier) -> Self {
        let (left_shift, right_shift) = if q.shift > 0 {
            // `1 << shift` wraps the shift amount modulo 32, as the reference does.
            (q.shift as u32 & 31, 0)
        } else {
            (0, q.shift.unsigned_abs().min(31))
        };
        let mask = ((1i64 << right_shift) - 1) as i32;
        Requant {
            multiplier: q.multiplier,
            left_shift,
            right_shift,
            mask,
            half_mask: mask >> 1,
        }
    }

    /// `MultiplyByQuantizedMultiplier(x, multiplier, shift)`.
    #[inline(always)]
    pub fn apply(&self, x: i32) -> i32 {
        let x = x.wrapping_shl(self.left_shift);
        let high = if x == i32::MIN && self.multiplier == i32::MIN {
            i32::MAX
        } else {
            ((i64::from(x) * i64::from(self.multiplier) + (1 << 30)) >> 31) as i32
        };
        let remainder = high & self.mask;
        let threshold = self.half_mask + i32::from(high < 0);
        (high >> self.right_shift) + i32::from(remainder > threshold)
    }
}

/// What one output channel needs after its dot product: the requantization and the bias with
/// the input offset folded in (see [`ChannelQuant::folded_bias`]). Loaded once per channel
/// block, kept in registers across positions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OutputChannel {
    requant: Requant,
    folded_bias: i32,
}

impl OutputChannel {
    /// Channel `c` of `quant` (out of line: it runs once per channel group, and one copy of
    /// the byte decoding keeps the band's flash small).
    #[inline(never)]
    pub fn load(quant: &ChannelQuant<'_>, c: usize) -> Self {
        OutputChannel {
            requant: Requant::new(quant.get(c)),
            folded_bias: quant.folded_bias(c),
        }
    }

    /// The int8 output for `dot = Σ w·x` (no input offset): bias, requantize, offset, clamp.
    #[inline(always)]
    pub fn finish(&self, dot: i32, output_offset: i32, activation: ActivationRange) -> u8 {
        let scaled = self
            .requant
            .apply(dot.wrapping_add(self.folded_bias))
            .wrapping_add(output_offset);
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
    output_offset: i32,
    activation: ActivationRange,
) {
    for (p, sums) in dots.chunks_exact(4).take(positions).enumerate() {
        let at = p * out_step;
        let Some(out) = out.get_mut(at..at + channels.len()) else {
            return;
        };
        for ((o, &dot), k) in out.iter_mut().zip(sums).zip(channels) {
            *o = k.finish(dot, output_offset, activation);
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
                let r = Requant::new(QuantizedMultiplier { multiplier, shift });
                for &x in &xs {
                    assert_eq!(
                        r.apply(x),
                        multiply_by_quantized_multiplier(x, multiplier, shift),
                        "x {x} multiplier {multiplier} shift {shift}"
                    );
                }
            }
        }
    }
}
