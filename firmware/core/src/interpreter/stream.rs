//! Streaming inference: consecutive windows of a stream overlap, so the early layers' outputs
//! over the overlap equal the previous window's, shifted along time. A stream plan finds, per
//! CONV_2D, the output columns that are such copies; [`super::Interpreter::invoke_stream`]
//! takes them from a cache at the arena's end instead of computing them. The same integer
//! work made those bytes, so the outputs are bit-identical to a full `invoke`.
//!
//! Time runs along the width of `[1, 1, W, C]` tensors (a Keras Conv1D is a 1 × k CONV_2D
//! over an input expanded to height 1). The planner follows byte ranges: for the graph input
//! advanced by `shift` bytes, `new[j] == old[j + shift]` for `j < len − shift`. A convolution
//! or pooling along width keeps that property for the output columns whose whole receptive
//! field lies in such bytes (no padding cell), when the shift is a whole number of its
//! strides. Any other op ends the chain for its output.

use core::ops::Range;

use super::prepare::{Kernel, Step};
use crate::kernels::Shape4;

/// Bytes of a tensor that equal the previous window's at `shift` bytes further on:
/// `new[j] == old[j + shift]` for every `j` in `valid`.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Shifted {
    shift: usize,
    valid: Range<usize>,
}

/// One convolution's reused columns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Reuse {
    /// First output column copied from the cache.
    pub kept_start: u16,
    /// One past the last.
    pub kept_end: u16,
    /// Columns by which the previous window's copy of a column lies further on.
    pub shift: u16,
    /// Bytes per column (the output channels).
    pub column_bytes: u16,
    /// Where the columns start in the cache.
    pub cache_at: u16,
}

impl Reuse {
    /// Output columns taken from the cache.
    pub fn kept(&self) -> Range<usize> {
        usize::from(self.kept_start)..usize::from(self.kept_end)
    }

    /// Bytes of the output tensor that are filled from the cache.
    pub fn kept_bytes(&self) -> Range<usize> {
        let c = usize::from(self.column_bytes);
        usize::from(self.kept_start) * c..usize::from(self.kept_end) * c
    }

    /// Bytes of the output tensor the next window will reuse.
    pub fn saved_bytes(&self) -> Range<usize> {
        let c = usize::from(self.column_bytes);
        let shift = usize::from(self.shift) * c;
        let kept = self.kept_bytes();
        kept.start + shift..kept.end + shift
    }
}

/// Which computing steps reuse columns of the previous window, and the cache they need.
/// Built by [`super::Interpreter::stream_plan`] for one prepared model and one hop.
#[derive(Clone, Debug)]
pub struct StreamPlan<const STEPS: usize> {
    pub(super) reuse: [Option<Reuse>; STEPS],
    cache_bytes: usize,
    shift: usize,
}

impl<const STEPS: usize> StreamPlan<STEPS> {
    /// A plan that reuses nothing: `invoke_stream` then equals `invoke`.
    pub const NONE: Self = StreamPlan {
        reuse: [None; STEPS],
        cache_bytes: 0,
        shift: 0,
    };

    /// Bytes of the cache at the arena's end (beyond [`super::Interpreter::arena_used`]): one
    /// per convolution output copied from the previous window instead of computed.
    pub fn cache_bytes(&self) -> usize {
        self.cache_bytes
    }

    /// The hop it was planned for, in bytes of graph input 0.
    pub fn shift(&self) -> usize {
        self.shift
    }

    /// Convolutions that reuse columns.
    pub fn reusing_steps(&self) -> usize {
        self.reuse.iter().flatten().count()
    }
}

/// Geometry of a convolution or pooling along width.
struct Columns {
    stride: usize,
    pad: usize,
    extent: usize,
    input: Shape4,
    output: Shape4,
}

impl Columns {
    fn of(kernel: &Kernel<'_>) -> Option<Self> {
        match *kernel {
            Kernel::Conv {
                params: p,
                input_shape,
                filter_shape,
                output_shape,
                ..
            }
            | Kernel::Depthwise {
                params: p,
                input_shape,
                filter_shape,
                output_shape,
                ..
            } => Some(Columns {
                stride: p.stride_w,
                pad: p.pad_w,
                extent: p.dilation_w * filter_shape.w.checked_sub(1)? + 1,
                input: input_shape,
                output: output_shape,
            }),
            Kernel::Pool {
                params: p,
                input_shape,
                output_shape,
                ..
            } => Some(Columns {
                stride: p.stride_w,
                pad: p.pad_w,
                extent: p.filter_w,
                input: input_shape,
                output: output_shape,
            }),
            _ => None,
        }
    }

    /// The output's shifted bytes and columns, given the input's; `None` when no output
    /// column is a copy.
    fn apply(&self, input: &Shifted) -> Option<(Shifted, Range<usize>, usize)> {
        let (i, o) = (self.input, self.output);
        if i.n != 1 || i.h != 1 || o.n != 1 || o.h != 1 || i.c == 0 || self.stride == 0 {
            return None;
        }
        if !input.shift.is_multiple_of(i.c) || !(input.shift / i.c).is_multiple_of(self.stride) {
            return None;
        }
        let shift = input.shift / i.c / self.stride;
        // Whole input columns among the valid bytes.
        let rows = input.valid.start.div_ceil(i.c)..input.valid.end / i.c;
        // Column x reads input columns x·stride − pad .. + extent.
        let lo = (rows.start + self.pad).div_ceil(self.stride);
        let hi = match (rows.end + self.pad).checked_sub(self.extent) {
            Some(room) => room / self.stride + 1,
            None => 0,
        };
        // The previous window's copy must exist: x + shift < W.
        let hi = hi.min(o.w.saturating_sub(shift));
        if rows.is_empty() || lo >= hi {
            return None;
        }
        let valid = lo * o.c..hi * o.c;
        Some((
            Shifted {
                shift: shift * o.c,
                valid,
            },
            lo..hi,
            shift,
        ))
    }
}

/// Shifted tensors tracked at once: a chain needs one or two (a branch point); more are
/// dropped, which only forgoes reuse. Few, because the table is stack on a band.
const TRACKED: usize = 4;

/// Plans reuse for `steps` when graph input `input` (its arena bytes) advances by `shift`
/// bytes per window, with `capacity` bytes of cache available. Convolutions are given cache
/// in step order while it lasts. Not inlined: its table is gone before inference runs.
#[inline(never)]
pub(super) fn plan<const STEPS: usize>(
    steps: &[Step<'_>],
    ranges: &[Range<usize>],
    input: Range<usize>,
    shift: usize,
    capacity: usize,
) -> StreamPlan<STEPS> {
    let mut out = StreamPlan::NONE;
    out.shift = shift;
    if shift == 0 || shift >= input.len() {
        return out;
    }
    // Arena byte ranges known to be shifted copies, as of the step being planned.
    let mut known: [Option<(Range<usize>, Shifted)>; TRACKED] = [const { None }; TRACKED];
    if let Some(slot) = known.first_mut() {
        *slot = Some((
            input.clone(),
            Shifted {
                shift,
                valid: 0..input.len() - shift,
            },
        ));
    }
    for (index, step) in steps.iter().enumerate().take(STEPS) {
        let (Some(at), Some(written)) = (ranges.get(step.input), ranges.get(step.output)) else {
            break;
        };
        let from = known
            .iter()
            .flatten()
            .find(|(r, _)| r == at)
            .map(|(_, s)| s.clone());
        let result = from.and_then(|s| Columns::of(&step.kernel)?.apply(&s));
        // The output's bytes now hold something new.
        for slot in known.iter_mut() {
            if slot
                .as_ref()
                .is_some_and(|(r, _)| r.start < written.end && written.start < r.end)
            {
                *slot = None;
            }
        }
        let Some((shifted, kept, column_shift)) = result else {
            continue;
        };
        if matches!(step.kernel, Kernel::Conv { .. }) {
            let column_bytes = shifted.valid.len() / kept.len();
            let need = shifted.valid.len();
            let cache_at = out.cache_bytes;
            let fits = cache_at + need <= capacity;
            let reuse = (
                u16::try_from(kept.start),
                u16::try_from(kept.end),
                u16::try_from(column_shift),
                u16::try_from(column_bytes),
                u16::try_from(cache_at),
            );
            if let (true, (Ok(a), Ok(b), Ok(s), Ok(c), Ok(at))) = (fits, reuse) {
                out.reuse[index] = Some(Reuse {
                    kept_start: a,
                    kept_end: b,
                    shift: s,
                    column_bytes: c,
                    cache_at: at,
                });
                out.cache_bytes += need;
            }
        }
        if let Some(slot) = known.iter_mut().find(|s| s.is_none()) {
            *slot = Some((written.clone(), shifted));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn columns(stride: usize, pad: usize, extent: usize, w_in: usize, w_out: usize) -> Columns {
        Columns {
            stride,
            pad,
            extent,
            input: Shape4 {
                n: 1,
                h: 1,
                w: w_in,
                c: 6,
            },
            output: Shape4 {
                n: 1,
                h: 1,
                w: w_out,
                c: 16,
            },
        }
    }

    #[test]
    fn a_valid_conv_reuses_the_columns_inside_the_overlap() {
        // 60 samples of 6 bytes advanced by 30: input columns 0..30 are copies.
        let input = Shifted {
            shift: 30 * 6,
            valid: 0..30 * 6,
        };
        let (out, kept, shift) = columns(1, 0, 5, 60, 56).apply(&input).unwrap();
        assert_eq!(kept, 0..26);
        assert_eq!(shift, 30);
        assert_eq!(out.valid, 0..26 * 16);
        assert_eq!(out.shift, 30 * 16);
    }

    #[test]
    fn padding_strides_and_odd_shifts_limit_reuse() {
        let input = Shifted {
            shift: 30 * 6,
            valid: 0..30 * 6,
        };
        // SAME padding of 2: columns 0 and 1 read padding, so they are not copies.
        let (_, kept, _) = columns(1, 2, 5, 60, 60).apply(&input).unwrap();
        assert_eq!(kept, 2..28);
        // Stride 4 does not divide a shift of 30 columns.
        assert!(columns(4, 0, 5, 60, 14).apply(&input).is_none());
        // Stride 2: shift 15 output columns; column x reads 2x..2x+5 < 30.
        let (_, kept, shift) = columns(2, 0, 5, 60, 28).apply(&input).unwrap();
        assert_eq!((kept, shift), (0..13, 15));
        // A shift that is not whole input columns.
        let odd = Shifted {
            shift: 31,
            valid: 0..100,
        };
        assert!(columns(1, 0, 5, 60, 56).apply(&odd).is_none());
    }
}
