//! CONV_2D, per-channel int8 (TFLM `reference_integer_ops::ConvPerChannel`).
//! A Keras Conv1D arrives as a 1×N CONV_2D.

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

/// Runs the convolution. `filter` is `[out_c, fh, fw, in_c / groups]`; shapes are validated
/// by the interpreter's prepare step, so slices are always long enough.
///
/// With width dilation 1 and no groups (every Keras Conv1D), the valid part of a filter row
/// and the input under it are both contiguous, so each row is one long dot product.
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
) {
    let filter_depth = filter_shape.c;
    let groups = input_shape.c / filter_depth.max(1);
    let filters_per_group = output_shape.c / groups.max(1);
    let contiguous_rows = p.dilation_w == 1 && groups == 1;
    for b in 0..output_shape.n {
        for out_y in 0..output_shape.h {
            let in_y_origin = (out_y * p.stride_h) as isize - p.pad_h as isize;
            let (fy_start, fy_end) =
                valid_taps(in_y_origin, filter_shape.h, p.dilation_h, input_shape.h);
            for out_x in 0..output_shape.w {
                let in_x_origin = (out_x * p.stride_w) as isize - p.pad_w as isize;
                let (fx_start, fx_end) =
                    valid_taps(in_x_origin, filter_shape.w, p.dilation_w, input_shape.w);
                let out_base = output_shape.offset(b, out_y, out_x, 0);
                for out_c in 0..output_shape.c {
                    let group = out_c / filters_per_group.max(1);
                    let mut acc: i32 = 0;
                    for fy in fy_start..fy_end {
                        let in_y = (in_y_origin + (fy * p.dilation_h) as isize) as usize;
                        if contiguous_rows {
                            let len = (fx_end - fx_start) * filter_depth;
                            let in_x = (in_x_origin + fx_start as isize) as usize;
                            let xs_at = input_shape.offset(b, in_y, in_x, 0);
                            let ws_at = filter_shape.offset(out_c, fy, fx_start, 0);
                            acc = acc.wrapping_add(dot_with_offset(
                                &input[xs_at..xs_at + len],
                                &filter[ws_at..ws_at + len],
                                p.input_offset,
                            ));
                            continue;
                        }
                        for fx in fx_start..fx_end {
                            let in_x = (in_x_origin + (fx * p.dilation_w) as isize) as usize;
                            let xs_at = input_shape.offset(b, in_y, in_x, group * filter_depth);
                            let ws_at = filter_shape.offset(out_c, fy, fx, 0);
                            acc = acc.wrapping_add(dot_with_offset(
                                &input[xs_at..xs_at + filter_depth],
                                &filter[ws_at..ws_at + filter_depth],
                                p.input_offset,
                            ));
                        }
                    }
                    if let Some(bias) = bias {
                        acc = acc.wrapping_add(bias.get(out_c));
                    }
                    let scaled = quant.get(out_c).apply(acc).wrapping_add(p.output_offset);
                    output[out_base + out_c] = p.activation.clamp(scaled) as i8 as u8;
                }
            }
        }
    }
}
