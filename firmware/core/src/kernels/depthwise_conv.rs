//! DEPTHWISE_CONV_2D, per-channel int8 (TFLM `reference_integer_ops::DepthwiseConvPerChannel`).

use super::conv::ConvParams;
use super::{Bias, ChannelQuant, Shape4};

/// Runs the depthwise convolution. `filter` is `[1, fh, fw, in_c · depth_multiplier]`.
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
            for out_x in 0..output_shape.w {
                let in_x_origin = (out_x * p.stride_w) as isize - p.pad_w as isize;
                for in_c in 0..input_shape.c {
                    for m in 0..depth_multiplier {
                        let out_c = m + in_c * depth_multiplier;
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
                                let x = input
                                    [input_shape.offset(b, in_y as usize, in_x as usize, in_c)];
                                let w = filter[filter_shape.offset(0, fy, fx, out_c)];
                                acc = acc.wrapping_add(
                                    i32::from(w as i8)
                                        .wrapping_mul(i32::from(x as i8) + p.input_offset),
                                );
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
}
