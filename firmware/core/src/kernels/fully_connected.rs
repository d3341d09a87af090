//! FULLY_CONNECTED int8 (TFLM `reference_integer_ops::FullyConnected` and its per-channel
//! variant): double-rounding requantization like every other TFLM op. (LiteRT's reference
//! FULLY_CONNECTED rounds once and differs by 1 LSB; see docs/int8.md.)

use super::dot::dot_with_offset;
use super::{ActivationRange, Bias, ChannelQuant};

/// Quantization of a fully connected layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FullyConnectedParams {
    /// `-input_zero_point`.
    pub input_offset: i32,
    /// `-filter_zero_point` (0 for TFLite's symmetric weights).
    pub filter_offset: i32,
    /// Output zero point.
    pub output_offset: i32,
    /// Fused activation clamp.
    pub activation: ActivationRange,
}

/// `output[b, o] = requant(Σ_d (w[o, d] + filter_offset)(x[b, d] + input_offset) + bias[o])`.
/// `quant` holds one multiplier per output (the per-tensor case repeats it).
#[allow(clippy::too_many_arguments)]
pub fn fully_connected(
    p: &FullyConnectedParams,
    quant: &ChannelQuant<'_>,
    batches: usize,
    depth: usize,
    outputs: usize,
    input: &[u8],
    filter: &[u8],
    bias: Option<Bias<'_>>,
    output: &mut [u8],
) {
    for b in 0..batches {
        let xs = &input[b * depth..(b + 1) * depth];
        for o in 0..outputs {
            let ws = &filter[o * depth..(o + 1) * depth];
            // TFLite weights are symmetric (offset 0, checked at prepare); a non-zero weight
            // offset takes the general path.
            let mut acc = if p.filter_offset == 0 {
                dot_with_offset(xs, ws, p.input_offset)
            } else {
                xs.iter().zip(ws).fold(0i32, |acc, (&x, &w)| {
                    acc.wrapping_add(
                        (i32::from(w as i8) + p.filter_offset)
                            .wrapping_mul(i32::from(x as i8) + p.input_offset),
                    )
                })
            };
            if let Some(bias) = bias {
                acc = acc.wrapping_add(bias.get(o));
            }
            let scaled = quant.get(o).apply(acc).wrapping_add(p.output_offset);
            output[b * outputs + o] = p.activation.clamp(scaled) as i8 as u8;
        }
    }
}
