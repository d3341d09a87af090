//! CONV_2D, per-channel int8 (TFLM `reference_integer_ops::ConvPerChannel`), bit-exact with
//! the literal loop in [`super::reference::conv_per_channel`]. A Keras Conv1D arrives as a
//! 1×N CONV_2D.
//!
//! Output positions whose whole filter lies inside the input take the fast path when width
//! dilation is 1 and there are no groups (every Keras Conv1D): each filter row and the input
//! under it are contiguous, the input offset is already folded into the channel's bias
//! ([`ChannelQuant::folded_bias`]), and blocks of three positions × four channels share their
//! loads ([`super::blocked`]). Border positions (SAME padding), grouped and width-dilated
//! convolutions take the general path, which adds the offset tap by tap like TFLM.

use core::ops::Range;

use super::blocked::Grid;
use super::dot::dot_with_offset;
use super::{ActivationRange, Bias, ChannelQuant, Shape4};

/// Geometry and quantization of a convolution (also used by depthwise convolution).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvParams {
    /// Stride along height.
    pub stride_h: usize,
    /// Stride along width.
    pub stride_w: usize,
    /// Dilation along height.
    pub dilation_h: usize,
    /// Dilation along width.
    pub dilation_w: usize,
    /// Zero padding before the first row.
    pub pad_h: usize,
    /// Zero padding before the first column.
    pub pad_w: usize,
    /// `-input_zero_point`.
    pub input_offset: i32,
    /// Output zero point.
    pub output_offset: i32,
    /// Fused activation clamp.
    pub activation: ActivationRange,
}

/// The filter taps `start..end` whose input index `origin + tap · dilation` lies in
/// `0..size` (padding cells are skipped, as TFLM's `is_point_inside_image` does).
#[inline]
pub(crate) fn valid_taps(
    origin: isize,
    taps: usize,
    dilation: usize,
    size: usize,
) -> (usize, usize) {
    if dilation == 1 {
        let start = (-origin).max(0) as usize;
        let end = (size as isize - origin).clamp(0, taps as isize) as usize;
        return (start.min(end), end);
    }
    let inside = |t: usize| {
        let i = origin + (t * dilation) as isize;
        i >= 0 && i < size as isize
    };
    // Taps inside the image form one contiguous run; find its ends without dividing.
    let start = (0..taps).find(|&t| inside(t)).unwrap_or(taps);
    let end = (start..taps).find(|&t| !inside(t)).unwrap_or(taps);
    (start, end)
}

/// Output positions along one axis whose `extent` input cells, starting at
/// `position · stride - pad`, all lie inside `0..input`.
fn interior(
    outputs: usize,
    stride: usize,
    pad: usize,
    extent: usize,
    input: usize,
) -> Range<usize> {
    let lo = pad.div_ceil(stride.max(1));
    let hi = match (input + pad).checked_sub(extent) {
        Some(room) => (room / stride.max(1) + 1).min(outputs),
        None => 0,
    };
    lo.min(hi)..hi
}

/// Runs the convolution. `filter` is `[out_c, fh, fw, in_c / groups]`; shapes are validated
/// by the interpreter's prepare step, so slices are always long enough. The output columns
/// `kept` (in every row) are left as they are: streaming inference has filled them from the
/// previous window ([`crate::interpreter`]); `0..0` computes every column.
#[allow(clippy::too_many_arguments)]
pub fn conv_per_channel(
    p: &ConvParams,
    quant: &ChannelQuant<'_>,
    input_shape: Shape4,
    input: &[u8],
    filter_shape: Shape4,
    filter: &[u8],
    bias: Option<Bias<'_>>,
    output_shape: Shape4,
    output: &mut [u8],
    kept: Range<usize>,
) {
    let groups = input_shape.c / filter_shape.c.max(1);
    let fast_columns = if p.dilation_w == 1 && groups == 1 {
        interior(
            output_shape.w,
            p.stride_w,
            p.pad_w,
            filter_shape.w,
            input_shape.w,
        )
    } else {
        0..0
    };
    let general = General {
        p,
        quant,
        input_shape,
        input,
        filter_shape,
        filter,
        bias,
        output_shape,
    };
    for b in 0..output_shape.n {
        for out_y in 0..output_shape.h {
            let in_y_origin = (out_y * p.stride_h) as isize - p.pad_h as isize;
            let rows = valid_taps(in_y_origin, filter_shape.h, p.dilation_h, input_shape.h);
            let fast = if rows == (0, filter_shape.h) {
                fast_columns.clone()
            } else {
                0..0
            };
            for out_x in (0..fast.start).chain(fast.end..output_shape.w) {
                if !kept.contains(&out_x) {
                    general.position(b, out_y, out_x, output);
                }
            }
            // The fast columns minus the kept ones: up to two runs.
            let (kept_start, kept_end) = if kept.is_empty() {
                (fast.end, fast.end)
            } else {
                (kept.start, kept.end)
            };
            let before = fast.start..kept_start.clamp(fast.start, fast.end);
            let after = kept_end.clamp(fast.start, fast.end)..fast.end;
            for run in [before, after] {
                if run.is_empty() {
                    continue;
                }
                let in_y = in_y_origin as usize;
                let x_at = (run.start * p.stride_w - p.pad_w) * input_shape.c;
                let grid = Grid {
                    input: &input[input_shape.offset(b, in_y, 0, 0) + x_at..],
                    positions: run.len(),
                    x_step: p.stride_w * input_shape.c,
                    x_row_step: p.dilation_h * input_shape.w * input_shape.c,
                    filter,
                    rows: filter_shape.h,
                    // One filter row and the input under it: fw · in_c contiguous bytes.
                    len: filter_shape.w * filter_shape.c,
                    channels: output_shape.c,
                    out_step: output_shape.c,
                    quant,
                    output_offset: p.output_offset,
                    activation: p.activation,
                };
                let at = output_shape.offset(b, out_y, run.start, 0);
                grid.run(&mut output[at..]);
            }
        }
    }
}

/// The general path: one output position, every channel, offset added tap by tap.
struct General<'x> {
    p: &'x ConvParams,
    quant: &'x ChannelQuant<'x>,
    input_shape: Shape4,
    input: &'x [u8],
    filter_shape: Shape4,
    filter: &'x [u8],
    bias: Option<Bias<'x>>,
    output_shape: Shape4,
}

impl General<'_> {
    fn position(&self, b: usize, out_y: usize, out_x: usize, output: &mut [u8]) {
        let (p, is, fs, os) = (
            self.p,
            self.input_shape,
            self.filter_shape,
            self.output_shape,
        );
        let filter_depth = fs.c;
        let groups = is.c / filter_depth.max(1);
        let filters_per_group = os.c / groups.max(1);
        let contiguous_rows = p.dilation_w == 1 && groups == 1;
        let in_y_origin = (out_y * p.stride_h) as isize - p.pad_h as isize;
        let (fy_start, fy_end) = valid_taps(in_y_origin, fs.h, p.dilation_h, is.h);
        let in_x_origin = (out_x * p.stride_w) as isize - p.pad_w as isize;
        let (fx_start, fx_end) = valid_taps(in_x_origin, fs.w, p.dilation_w, is.w);
        let out_base = os.offset(b, out_y, out_x, 0);
        for out_c in 0..os.c {
            let group = out_c / filters_per_group.max(1);
            let mut acc: i32 = 0;
            for fy in fy_start..fy_end {
                let in_y = (in_y_origin + (fy * p.dilation_h) as isize) as usize;
                if contiguous_rows {
                    let len = (fx_end - fx_start) * filter_depth;
                    let in_x = (in_x_origin + fx_start as isize) as usize;
                    let xs_at = is.offset(b, in_y, in_x, 0);
                    let ws_at = fs.offset(out_c, fy, fx_start, 0);
                    acc = acc.wrapping_add(dot_with_offset(
                        &self.input[xs_at..xs_at + len],
                        &self.filter[ws_at..ws_at + len],
                        p.input_offset,
                    ));
                    continue;
                }
                for fx in fx_start..fx_end {
                    let in_x = (in_x_origin + (fx * p.dilation_w) as isize) as usize;
                    let xs_at = is.offset(b, in_y, in_x, group * filter_depth);
                    let ws_at = fs.offset(out_c, fy, fx, 0);
                    acc = acc.wrapping_add(dot_with_offset(
                        &self.input[xs_at..xs_at + filter_depth],
                        &self.filter[ws_at..ws_at + filter_depth],
                        p.input_offset,
                    ));
                }
            }
            if let Some(bias) = self.bias {
                acc = acc.wrapping_add(bias.get(out_c));
            }
            let scaled = self
                .quant
                .get(out_c)
                .apply(acc)
                .wrapping_add(p.output_offset);
            output[out_base + out_c] = p.activation.clamp(scaled) as i8 as u8;
        }
    }
}
