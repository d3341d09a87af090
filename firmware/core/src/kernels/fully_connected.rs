//! FULLY_CONNECTED int8 (TFLM `reference_integer_ops::FullyConnected` and its per-channel
//! variant): double-rounding requantization like every other TFLM op. (LiteRT's reference
//! FULLY_CONNECTED rounds once and differs by 1 LSB; see docs/int8.md.) Bit-exact with
//! [`super::reference::fully_connected`].

use super::blocked::Grid;
use super::{ActivationRange, ChannelQuant};

/// Quantization of a fully connected layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FullyConnectedParams {
    /// `-input_zero_point`.
    pub input_offset: i32,
    /// Output zero point.
    pub output_offset: i32,
    /// Fused activation clamp.
    pub activation: ActivationRange,
}

/// `output[b, o] = requant(Σ_d w[o, d] · (x[b, d] + input_offset) + bias[o])`. Weights are
/// symmetric (zero point 0), as TFLite's int8 converter makes them and prepare checks.
/// `quant` holds one multiplier per output (the per-tensor case repeats it) and the bias with
/// the input offset folded in (so the raw bias is not an argument); batches and outputs go in blocks of 3 × 4 like a convolution.
#[allow(clippy::too_many_arguments)]
pub fn fully_connected(
    p: &FullyConnectedParams,
    quant: &ChannelQuant<'_>,
    batches: usize,
    depth: usize,
    outputs: usize,
    input: &[u8],
    filter: &[u8],
    output: &mut [u8],
) {
    let grid = Grid {
        input,
        positions: batches,
        x_step: depth,
        x_row_step: 0,
        filter,
        rows: 1,
        len: depth,
        channels: outputs,
        out_step: outputs,
        quant,
        output_offset: p.output_offset,
        activation: p.activation,
    };
    grid.run(output);
}
