//! ADD int8 (TFLM `reference_integer_ops::Add` / `BroadcastAdd6DSlow`): both inputs are
//! shifted left by 20, rescaled to twice the larger input scale, summed, and rescaled to the
//! output, each step with `MultiplyByQuantizedMultiplierSmallerThanOneExp`.

use super::ActivationRange;
use crate::fixedpoint::QuantizedMultiplier;
use crate::fixedpoint::scales::add_multipliers;

/// TFLM's int8 ADD left shift.
const LEFT_SHIFT: u32 = 20;

/// Precomputed ADD parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AddParams {
    /// `-zero_point` of input 1.
    pub input1_offset: i32,
    /// `-zero_point` of input 2.
    pub input2_offset: i32,
    /// Output zero point.
    pub output_offset: i32,
    /// Input 1 rescale (< 1).
    pub input1_multiplier: QuantizedMultiplier,
    /// Input 2 rescale (< 1).
    pub input2_multiplier: QuantizedMultiplier,
    /// Output rescale (< 1).
    pub output_multiplier: QuantizedMultiplier,
    /// Fused activation clamp.
    pub activation: ActivationRange,
}

impl AddParams {
    /// TFLM `CalculateOpDataAdd` (load time; TFLM's double arithmetic done in integers by
    /// [`add_multipliers`]); `None` when a multiplier would be ≥ 1, which TFLM rejects too.
    pub fn new(
        (scale1, zero_point1): (f32, i32),
        (scale2, zero_point2): (f32, i32),
        (output_scale, output_zero_point): (f32, i32),
        activation: ActivationRange,
    ) -> Option<Self> {
        let [input1_multiplier, input2_multiplier, output_multiplier] =
            add_multipliers(scale1, scale2, output_scale, LEFT_SHIFT as i32)?;
        Some(AddParams {
            input1_offset: -zero_point1,
            input2_offset: -zero_point2,
            output_offset: output_zero_point,
            input1_multiplier,
            input2_multiplier,
            output_multiplier,
            activation,
        })
    }

    /// Adds one pair of quantized values.
    #[inline]
    pub fn add(&self, x: i8, y: i8) -> i8 {
        let shifted1 = (i32::from(x) + self.input1_offset) << LEFT_SHIFT;
        let shifted2 = (i32::from(y) + self.input2_offset) << LEFT_SHIFT;
        let scaled1 = self.input1_multiplier.apply(shifted1);
        let scaled2 = self.input2_multiplier.apply(shifted2);
        let raw_sum = scaled1.wrapping_add(scaled2);
        let raw_output = self
            .output_multiplier
            .apply(raw_sum)
            .wrapping_add(self.output_offset);
        self.activation.clamp(raw_output) as i8
    }
}

/// Maximum broadcast rank.
pub const MAX_BROADCAST_RANK: usize = 6;

/// Element-wise add with numpy broadcasting. Shapes are right-aligned and padded to
/// `MAX_BROADCAST_RANK` by the caller (`[1, …, d0, d1]`); a dimension of 1 broadcasts.
pub fn add(
    p: &AddParams,
    shape1: &[usize; MAX_BROADCAST_RANK],
    input1: &[u8],
    shape2: &[usize; MAX_BROADCAST_RANK],
    input2: &[u8],
    output_shape: &[usize; MAX_BROADCAST_RANK],
    output: &mut [u8],
) {
    if shape1 == shape2 {
        for ((o, &x), &y) in output.iter_mut().zip(input1).zip(input2) {
            *o = p.add(x as i8, y as i8) as u8;
        }
        return;
    }
    // Row-major strides; a broadcast dimension gets stride 0.
    let strides = |shape: &[usize; MAX_BROADCAST_RANK]| {
        let mut strides = [0usize; MAX_BROADCAST_RANK];
        let mut acc = 1;
        for d in (0..MAX_BROADCAST_RANK).rev() {
            strides[d] = if shape[d] == 1 { 0 } else { acc };
            acc *= shape[d];
        }
        strides
    };
    let (s1, s2) = (strides(shape1), strides(shape2));
    let mut index = [0usize; MAX_BROADCAST_RANK];
    for o in output.iter_mut() {
        let (mut i1, mut i2) = (0, 0);
        for d in 0..MAX_BROADCAST_RANK {
            i1 += index[d] * s1[d];
            i2 += index[d] * s2[d];
        }
        *o = p.add(input1[i1] as i8, input2[i2] as i8) as u8;
        // Advance the multi-index (odometer), innermost dimension fastest.
        for d in (0..MAX_BROADCAST_RANK).rev() {
            index[d] += 1;
            if index[d] < output_shape[d] {
                break;
            }
            index[d] = 0;
        }
    }
}
