//! CONV_2D, per-channel int8 (TFLM `reference_integer_ops::ConvPerChannel`).
//! A Keras Conv1D arrives as a 1×N CONV_2D.

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

/// Runs the convolution. `filter` is `[out_c, fh, fw, in_c / groups]`; shapes are validated
/// by the interpreter's prepare step, so slices are always long enough.
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
    for b in 0..output_shape.n {
        for out_y in 0..output_shape.h {
            let in_y_origin = (out_y * p.stride_h) as isize - p.pad_h as isize;
            for out_x in 0..output_shape.w {
                let in_x_origin = (out_x * p.stride_w) as isize - p.pad_w as isize;
                for out_c in 0..output_shape.c {
                    let group = out_c / filters_per_group.max(1);
                    let mut acc: i32 = 0;
                    for fy in 0..filter_shape.h {
                        let in_y = in_y_origin + (p.dilation_h * fy) as isize;
                        if in_y < 0 || in_y >= input_shape.h as isize {
                            continue;
                        }
                        for fx in 0..filter_shape.w {
                            let in_x = in_x_origin + (p.dilation_w * fx) as isize;
                            if in_x < 0 || in_x >= input_shape.w as isize {
                                continue;
                            }
                            let in_base = input_shape.offset(
                                b,
                                in_y as usize,
                                in_x as usize,
                                group * filter_depth,
                            );
                            let f_base = filter_shape.offset(out_c, fy, fx, 0);
                            let xs = &input[in_base..in_base + filter_depth];
                            let ws = &filter[f_base..f_base + filter_depth];
                            for (&x, &w) in xs.iter().zip(ws) {
                                acc = acc.wrapping_add(
                                    i32::from(w as i8)
                                        .wrapping_mul(i32::from(x as i8) + p.input_offset),
                                );
                            }
                        }
                    }
                    if let Some(bias) = bias {
                        acc = acc.wrapping_add(bias.get(out_c));
                    }
                    let scaled = quant.get(out_c).apply(acc).wrapping_add(p.output_offset);
                    output[output_shape.offset(b, out_y, out_x, out_c)] =
                        p.activation.clamp(scaled) as i8 as u8;
                }
            }
        }
    }
}
