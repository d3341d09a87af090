//! MEAN int8 (TFLM `reduce_common.cc` → `reference_ops::QuantizedMeanOrSum` / `Mean`).
//!
//! TFLM folds `1/n` into the requantization multiplier (`(multiplier << s) / n` with
//! `s = min(floor(log2 n), 32, 31 + shift)`) and applies `MultiplyByQuantizedMultiplier` to
//! `sum - zero_point · n`, also when input and output quantization are identical (older
//! TFLite truncated `sum / n` then; TFLM rounds, found by the differential test). No
//! activation clamp besides the int8 range.

use crate::fixedpoint::QuantizedMultiplier;

/// Precomputed MEAN parameters for one reduction size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MeanParams {
    /// Requantizing mean.
    Requantize {
        /// Elements reduced per output.
        count: i32,
        /// Input zero point.
        input_zero_point: i32,
        /// Output zero point.
        output_zero_point: i32,
        /// Multiplier with `1/count` folded in.
        multiplier: QuantizedMultiplier,
    },
}

impl MeanParams {
    /// Builds the parameters; `scale_multiplier` is `QuantizeMultiplier(s_in / s_out)`.
    /// Integer-only: the `1/count` folding is done with an i64 division, as in TFLM.
    pub fn new(
        count: usize,
        input_zero_point: i32,
        output_zero_point: i32,
        scale_multiplier: QuantizedMultiplier,
    ) -> Self {
        let count_i = count as i32;
        let log2 = 63 - (count as u64).leading_zeros() as i32;
        let shift = log2.min(32).min(31 + scale_multiplier.shift);
        let folded = if shift >= 0 {
            ((i64::from(scale_multiplier.multiplier) << shift) / count as i64) as i32
        } else {
            // C++ shifts by a negative amount here (undefined); unreachable for sane scales.
            ((i64::from(scale_multiplier.multiplier) >> (-shift).min(63)) / count as i64) as i32
        };
        MeanParams::Requantize {
            count: count_i,
            input_zero_point,
            output_zero_point,
            multiplier: QuantizedMultiplier {
                multiplier: folded,
                shift: scale_multiplier.shift - shift,
            },
        }
    }

    /// Turns the raw sum of one output's elements into the int8 output.
    #[inline]
    pub fn finish(&self, sum: i32) -> i8 {
        let value = match *self {
            MeanParams::Requantize {
                count,
                input_zero_point,
                output_zero_point,
                multiplier,
            } => {
                let shifted = sum.wrapping_sub(input_zero_point.wrapping_mul(count));
                multiplier.apply(shifted).wrapping_add(output_zero_point)
            }
        };
        value.clamp(-128, 127) as i8
    }
}

/// Reduces `input` (shape `outer × reduced × inner`, row-major) over the middle extent.
/// Any set of contiguous axes maps onto this; the interpreter rejects other axis sets.
pub fn mean(
    p: &MeanParams,
    outer: usize,
    reduced: usize,
    inner: usize,
    input: &[u8],
    output: &mut [u8],
) {
    for o in 0..outer {
        for i in 0..inner {
            let mut sum: i32 = 0;
            for r in 0..reduced {
                sum = sum.wrapping_add(i32::from(input[(o * reduced + r) * inner + i] as i8));
            }
            output[o * inner + i] = p.finish(sum) as u8;
        }
    }
}
