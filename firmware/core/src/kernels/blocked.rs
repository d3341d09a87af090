//! The fast path shared by CONV_2D and FULLY_CONNECTED: a grid of positions × channels, each
//! output one dot product over contiguous rows, finished with the channel's folded bias and
//! requantization. Computed in [`dot_3x4`] blocks of three positions × four channels.

use super::dot::{Block3x4, dot_3x4};
use super::requant::{OutputChannel, finish_block};
use super::{ActivationRange, ChannelQuant};

/// Where the grid's inputs, weights and outputs are.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Grid<'x> {
    /// Input bytes; position `p`'s first row starts at `p · x_step`.
    pub input: &'x [u8],
    /// Output positions.
    pub positions: usize,
    /// Input bytes from one position to the next.
    pub x_step: usize,
    /// Input bytes from one filter row to the next.
    pub x_row_step: usize,
    /// Weights, `[channels][rows][len]`.
    pub filter: &'x [u8],
    /// Filter rows per channel.
    pub rows: usize,
    /// Bytes per row.
    pub len: usize,
    /// Output channels; position `p`'s outputs are `output[p · out_step..][..channels]`.
    pub channels: usize,
    /// Output bytes from one position to the next.
    pub out_step: usize,
    /// Per-channel multipliers and folded biases.
    pub quant: &'x ChannelQuant<'x>,
    /// Output zero point.
    pub output_offset: i32,
    /// Fused activation clamp.
    pub activation: ActivationRange,
}

impl Grid<'_> {
    /// Writes every output. Positions go three at a time, and two at a time for the last two
    /// or four (so no sums are wasted); channels four at a time, a short last group moved
    /// back to end at the last channel (recomputing a few identical outputs). A single
    /// position (fewer than four channels) repeats its row and drops the copies' sums.
    #[inline(never)]
    pub fn run(&self, output: &mut [u8]) {
        let (positions, channels) = (self.positions, self.channels);
        let nc = if channels >= 4 { 4 } else { 1 };
        let per_channel = self.rows * self.len;
        let mut block = Block3x4 {
            x_step: self.x_step,
            x_row_step: self.x_row_step,
            w_step: if nc == 4 { per_channel } else { 0 },
            rows: self.rows,
            len: self.len,
            positions: 3,
        };
        let mut acc = [0i32; 12];
        let mut oc = 0;
        while oc < channels {
            let c = oc.min(channels - nc);
            let last = c + nc - 1;
            let k = [
                OutputChannel::load(self.quant, c, self.output_offset),
                OutputChannel::load(self.quant, (c + 1).min(last), self.output_offset),
                OutputChannel::load(self.quant, (c + 2).min(last), self.output_offset),
                OutputChannel::load(self.quant, (c + 3).min(last), self.output_offset),
            ];
            let w = &self.filter[c * per_channel..];
            let mut p = 0;
            while p < positions {
                let np = match positions - p {
                    1 => 1,
                    2 | 4 => 2,
                    _ => 3,
                };
                block.positions = np.max(2);
                block.x_step = if np == 1 { 0 } else { self.x_step };
                dot_3x4(&self.input[p * self.x_step..], w, &block, &mut acc);
                let out = &mut output[p * self.out_step + c..];
                finish_block(out, self.out_step, np, &acc, &k[..nc], self.activation);
                p += np;
            }
            oc += nc;
        }
    }
}
