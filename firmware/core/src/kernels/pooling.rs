//! MAX_POOL_2D and AVERAGE_POOL_2D int8 (TFLM `reference_integer_ops::MaxPool/AveragePool`),
//! bit-exact with [`super::reference::pool`]. Padding cells are skipped, not counted as zeros;
//! the average divides by the number of cells actually inside the input, rounding half away
//! from zero. Max pooling walks whole channel rows (contiguous in NHWC) per window cell.

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
    match kind {
        PoolKind::Max => max_pool(p, input_shape, input, output_shape, output),
        PoolKind::Average => average_pool(p, input_shape, input, output_shape, output),
    }
}

/// Max pooling over whole channel rows (contiguous in NHWC): the first two window cells are
/// combined with a byte-wise max, then each further cell; an empty window gives -128 like
/// the reference's initial value.
fn max_pool(
    p: &PoolParams,
    input_shape: Shape4,
    input: &[u8],
    output_shape: Shape4,
    output: &mut [u8],
) {
    let channels = output_shape.c;
    for b in 0..output_shape.n {
        for out_y in 0..output_shape.h {
            let in_y_origin = (out_y * p.stride_h) as isize - p.pad_h as isize;
            let (fy_start, fy_end) = window(in_y_origin, p.filter_h, input_shape.h);
            for out_x in 0..output_shape.w {
                let in_x_origin = (out_x * p.stride_w) as isize - p.pad_w as isize;
                let (fx_start, fx_end) = window(in_x_origin, p.filter_w, input_shape.w);
                let at = output_shape.offset(b, out_y, out_x, 0);
                let out = &mut output[at..at + channels];
                let cols = fx_end.saturating_sub(fx_start);
                let cells = fy_end.saturating_sub(fy_start) * cols;
                if cells == 0 {
                    out.fill(i8::MIN as u8);
                    continue;
                }
                let cell = |k: usize| {
                    let in_y = (in_y_origin + (fy_start + k / cols) as isize) as usize;
                    let in_x = (in_x_origin + (fx_start + k % cols) as isize) as usize;
                    let from = input_shape.offset(b, in_y, in_x, 0);
                    &input[from..from + channels]
                };
                let (first, second) = (cell(0), cell(1.min(cells - 1)));
                for ((o, &x), &y) in out.iter_mut().zip(first).zip(second) {
                    *o = if x as i8 > y as i8 { x } else { y };
                }
                for k in 2..cells {
                    for (o, &x) in out.iter_mut().zip(cell(k)) {
                        if x as i8 > *o as i8 {
                            *o = x;
                        }
                    }
                }
                if p.activation != ActivationRange::INT8 {
                    for o in out.iter_mut() {
                        *o = p.activation.clamp(i32::from(*o as i8)) as i8 as u8;
                    }
                }
            }
        }
    }
}

/// Average pooling: one sum and one division per output element.
fn average_pool(
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
                    let mut sum: i32 = 0;
                    let mut count: i32 = 0;
                    for fy in fy_start..fy_end {
                        let in_y = (in_y_origin + fy as isize) as usize;
                        for fx in fx_start..fx_end {
                            let in_x = (in_x_origin + fx as isize) as usize;
                            let x = i32::from(input[input_shape.offset(b, in_y, in_x, c)] as i8);
                            sum += x;
                            count += 1;
                        }
                    }
                    let value = match (sum, count) {
                        // TFLM leaves the output untouched for an empty window; prepare
                        // rejects geometries that produce one.
                        (_, 0) => 0,
                        (sum, count) if sum > 0 => (sum + count / 2) / count,
                        (sum, count) => (sum - count / 2) / count,
                    };
                    output[output_shape.offset(b, out_y, out_x, c)] =
                        p.activation.clamp(value) as i8 as u8;
                }
            }
        }
    }
}
