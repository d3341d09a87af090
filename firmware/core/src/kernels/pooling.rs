//! MAX_POOL_2D and AVERAGE_POOL_2D int8 (TFLM `reference_integer_ops::MaxPool/AveragePool`).
//! Padding cells are skipped, not counted as zeros; the average divides by the number of
//! cells actually inside the input, rounding half away from zero.

use super::{ActivationRange, Shape4};

/// Window geometry of a pooling op.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolParams {
    /// Window height.
    pub filter_h: usize,
    /// Window width.
    pub filter_w: usize,
    /// Stride along height.
    pub stride_h: usize,
    /// Stride along width.
    pub stride_w: usize,
    /// Padding before the first row.
    pub pad_h: usize,
    /// Padding before the first column.
    pub pad_w: usize,
    /// Fused activation clamp.
    pub activation: ActivationRange,
}

/// The part of the window inside the input: `(start, end)` filter indices.
#[inline]
fn window(origin: isize, filter: usize, input: usize) -> (usize, usize) {
    let start = (-origin).max(0) as usize;
    let end = (input as isize - origin).clamp(0, filter as isize) as usize;
    (start, end)
}

/// Which reduction a pooling op applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolKind {
    /// Maximum of the window.
    Max,
    /// Rounded mean of the window.
    Average,
}

/// Runs a pooling op over NHWC int8 data.
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
            let (fy_start, fy_end) = window(in_y_origin, p.filter_h, input_shape.h);
            for out_x in 0..output_shape.w {
                let in_x_origin = (out_x * p.stride_w) as isize - p.pad_w as isize;
                let (fx_start, fx_end) = window(in_x_origin, p.filter_w, input_shape.w);
                for c in 0..output_shape.c {
                    let mut max = i32::from(i8::MIN);
                    let mut sum: i32 = 0;
                    let mut count: i32 = 0;
                    for fy in fy_start..fy_end {
                        let in_y = (in_y_origin + fy as isize) as usize;
                        for fx in fx_start..fx_end {
                            let in_x = (in_x_origin + fx as isize) as usize;
                            let x = i32::from(input[input_shape.offset(b, in_y, in_x, c)] as i8);
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
