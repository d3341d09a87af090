//! The oracle: TFLM's reference int8 loops transcribed literally (tap by tap, with the
//! "is the point inside the image" test and the input offset added to every input).
//!
//! The optimized kernels in the sibling modules must equal these bit for bit; the property
//! tests in `firmware/core/tests/kernels_optimized.rs` compare them on random shapes, strides,
//! paddings and quantization parameters. Only those tests and the rare geometries the
//! optimized kernels do not cover (average pooling, asymmetric weights) run them.

use super::conv::ConvParams;
use super::fully_connected::FullyConnectedParams;
use super::pooling::{PoolKind, PoolParams};
use super::{Bias, ChannelQuant, Shape4};

/// CONV_2D per channel (`reference_integer_ops::ConvPerChannel`), groups included.
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
    let filter_depth = filter_shape.c.max(1);
    let groups = (input_shape.c / filter_depth).max(1);
    let per_group = (output_shape.c / groups).max(1);
    for b in 0..output_shape.n {
        for out_y in 0..output_shape.h {
            for out_x in 0..output_shape.w {
                for out_c in 0..output_shape.c {
                    let group = out_c / per_group;
                    let mut acc: i32 = 0;
                    for fy in 0..filter_shape.h {
                        let in_y =
                            (out_y * p.stride_h + fy * p.dilation_h) as isize - p.pad_h as isize;
                        for fx in 0..filter_shape.w {
                            let in_x = (out_x * p.stride_w + fx * p.dilation_w) as isize
                                - p.pad_w as isize;
                            let inside = in_y >= 0
                                && in_x >= 0
                                && (in_y as usize) < input_shape.h
                                && (in_x as usize) < input_shape.w;
                            if !inside {
                                continue;
                            }
                            for ic in 0..filter_shape.c {
                                let x = input[input_shape.offset(
                                    b,
                                    in_y as usize,
                                    in_x as usize,
                                    group * filter_depth + ic,
                                )] as i8;
                                let w = filter[filter_shape.offset(out_c, fy, fx, ic)] as i8;
                                acc = acc.wrapping_add(
                                    i32::from(w).wrapping_mul(i32::from(x) + p.input_offset),
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

/// FULLY_CONNECTED (`reference_integer_ops::FullyConnected`, per-channel or per-tensor;
/// symmetric weights, so TFLM's filter offset is 0).
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
        for o in 0..outputs {
            let mut acc: i32 = 0;
            for d in 0..depth {
                let x = i32::from(input[b * depth + d] as i8);
                let w = i32::from(filter[o * depth + d] as i8);
                acc = acc.wrapping_add(w.wrapping_mul(x + p.input_offset));
            }
            if let Some(bias) = bias {
                acc = acc.wrapping_add(bias.get(o));
            }
            let scaled = quant.get(o).apply(acc).wrapping_add(p.output_offset);
            output[b * outputs + o] = p.activation.clamp(scaled) as i8 as u8;
        }
    }
}

/// MAX_POOL_2D / AVERAGE_POOL_2D (`reference_integer_ops::MaxPool` / `AveragePool`): padding
/// cells are skipped, not counted; the average divides by the cells inside the input,
/// rounding half away from zero.
pub fn pool(
    kind: PoolKind,
    p: &PoolParams,
    input_shape: Shape4,
    input: &[u8],
    output_shape: Shape4,
    output: &mut [u8],
) {
    for b in 0..output_shape.n {
        for out_y in 0..output_shape.h {
            let in_y_origin = (out_y * p.stride_h) as isize - p.pad_h as isize;
            for out_x in 0..output_shape.w {
                let in_x_origin = (out_x * p.stride_w) as isize - p.pad_w as isize;
                for c in 0..output_shape.c {
                    let mut max = i32::from(i8::MIN);
                    let mut sum: i32 = 0;
                    let mut count: i32 = 0;
                    for fy in 0..p.filter_h {
                        let in_y = in_y_origin + fy as isize;
                        for fx in 0..p.filter_w {
                            let in_x = in_x_origin + fx as isize;
                            let inside = in_y >= 0
                                && in_x >= 0
                                && (in_y as usize) < input_shape.h
                                && (in_x as usize) < input_shape.w;
                            if !inside {
                                continue;
                            }
                            let x = i32::from(
                                input[input_shape.offset(b, in_y as usize, in_x as usize, c)] as i8,
                            );
                            max = max.max(x);
                            sum += x;
                            count += 1;
                        }
                    }
                    let value = match kind {
                        PoolKind::Max => max,
                        // TFLM leaves the output untouched for an empty window; prepare
                        // rejects geometries that produce one.
                        PoolKind::Average if count == 0 => 0,
                        // One division per output element, as TFLM does.
                        PoolKind::Average if sum > 0 => (sum + count / 2) / count,
                        PoolKind::Average => (sum - count / 2) / count,
                    };
                    output[output_shape.offset(b, out_y, out_x, c)] =
                        p.activation.clamp(value) as i8 as u8;
                }
            }
        }
    }
}
