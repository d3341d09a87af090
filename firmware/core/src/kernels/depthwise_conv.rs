//! DEPTHWISE_CONV_2D, per-channel int8 (TFLM `reference_integer_ops::DepthwiseConvPerChannel`).

use super::conv::{ConvParams, valid_taps};
use super::{Bias, ChannelQuant, Shape4};

/// Runs the depthwise convolution. `filter` is `[1, fh, fw, in_c · depth_multiplier]`.
/// The valid taps are found once per output position (no per-tap bounds test).
#[allow(clippy::too_many_arguments)]
pub fn depthwise_conv_per_channel(
    p: &ConvParams,
    depth_multiplier: usize,
    quant: &ChannelQuant<'_>,
    input_shape: Shape4,
    input: &[u8],
    filter_shape: Shape4,
    filter: &[u8],
    bias: Option<Bias<'_>>,
    output_shape: Shape4,
    output: &mut [u8],
) {
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
                for in_c in 0..input_shape.c {
                    for m in 0..depth_multiplier {
                        let out_c = m + in_c * depth_multiplier;
                        let mut acc: i32 = 0;
                        for fy in fy_start..fy_end {
                            let in_y = (in_y_origin + (fy * p.dilation_h) as isize) as usize;
                            for fx in fx_start..fx_end {
                                let in_x = (in_x_origin + (fx * p.dilation_w) as isize) as usize;
                                let x = input[input_shape.offset(b, in_y, in_x, in_c)] as i8;
                                let w = filter[filter_shape.offset(0, fy, fx, out_c)] as i8;
                                acc = acc.wrapping_add(
                                    i32::from(w).wrapping_mul(i32::from(x) + p.input_offset),
                                );
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
}
