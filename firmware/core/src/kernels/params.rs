//! Parameter types shared by the kernels.

use crate::fixedpoint::QuantizedMultiplier;

/// A 4-D NHWC shape (lower-rank tensors are extended with leading 1s, as TFLite does).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Shape4 {
    /// Batch (or output channels for a conv filter).
    pub n: usize,
    /// Height.
    pub h: usize,
    /// Width.
    pub w: usize,
    /// Channels (innermost).
    pub c: usize,
}

impl Shape4 {
    /// Extends `dims` (rank ≤ 4) with leading 1s; `None` for rank > 4.
    pub fn extend(dims: &[usize]) -> Option<Self> {
        if dims.len() > 4 {
            return None;
        }
        let mut d = [1usize; 4];
        d[4 - dims.len()..].copy_from_slice(dims);
        Some(Shape4 {
            n: d[0],
            h: d[1],
            w: d[2],
            c: d[3],
        })
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.n * self.h * self.w * self.c
    }

    /// True when any dimension is 0.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Flat NHWC offset.
    #[inline]
    pub fn offset(&self, n: usize, h: usize, w: usize, c: usize) -> usize {
        ((n * self.h + h) * self.w + w) * self.c + c
    }
}

/// Clamp range of a fused activation, in output quantized units.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ActivationRange {
    /// Lowest output value.
    pub min: i32,
    /// Highest output value.
    pub max: i32,
}

impl ActivationRange {
    /// The full int8 range (no fused activation).
    pub const INT8: ActivationRange = ActivationRange {
        min: -128,
        max: 127,
    };

    /// TFLite's `CalculateActivationRangeQuantized` for int8 outputs: the real bounds are
    /// quantized with `zero_point + round(x / scale)` in float, then intersected with int8.
    /// `activation` is the schema's `ActivationFunctionType`; `None` for unsupported ones.
    pub fn quantized(activation: i8, scale: f32, zero_point: i32) -> Option<Self> {
        let quantize = |x: f32| zero_point + crate::fixedpoint::scales::rounded_quotient(x, scale);
        let (min, max) = match activation {
            0 => (-128, 127),
            1 => ((-128).max(quantize(0.0)), 127),
            2 => ((-128).max(quantize(-1.0)), 127.min(quantize(1.0))),
            3 => ((-128).max(quantize(0.0)), 127.min(quantize(6.0))),
            _ => return None,
        };
        Some(ActivationRange { min, max })
    }

    /// Clamps an output value.
    #[inline]
    pub fn clamp(&self, x: i32) -> i32 {
        x.max(self.min).min(self.max)
    }
}

/// Per-channel output constants, stored as little-endian `(multiplier, shift, folded_bias)`
/// i32 triples (in the interpreter they live in the arena, so no heap is needed).
///
/// `folded_bias = bias + input_offset · Σ w` over the channel's whole filter: with it, a
/// position whose filter lies entirely inside the input needs only `Σ w·x` (TFLM's
/// `Σ w·(x + input_offset) + bias` expanded; i32 sums wrap identically either way).
#[derive(Clone, Copy, Debug)]
pub struct ChannelQuant<'a> {
    bytes: &'a [u8],
}

impl<'a> ChannelQuant<'a> {
    /// Bytes used per channel.
    pub const BYTES_PER_CHANNEL: usize = 12;

    /// Wraps encoded pairs (see [`ChannelQuant::encode`]).
    pub fn new(bytes: &'a [u8]) -> Self {
        ChannelQuant { bytes }
    }

    /// Number of channels.
    pub fn len(&self) -> usize {
        self.bytes.len() / Self::BYTES_PER_CHANNEL
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Writes the constants of channel `c` into `out` (`folded_bias` from
    /// [`ChannelQuant::fold_bias`]).
    pub fn encode(out: &mut [u8], c: usize, q: QuantizedMultiplier, folded_bias: i32) {
        let at = c * Self::BYTES_PER_CHANNEL;
        out[at..at + 4].copy_from_slice(&q.multiplier.to_le_bytes());
        out[at + 4..at + 8].copy_from_slice(&q.shift.to_le_bytes());
        out[at + 8..at + 12].copy_from_slice(&folded_bias.to_le_bytes());
    }

    /// `bias + input_offset · Σ weights` (wrapping, as the reference accumulates).
    pub fn fold_bias(bias: i32, input_offset: i32, weights: impl IntoIterator<Item = u8>) -> i32 {
        let sum = weights
            .into_iter()
            .fold(0i32, |acc, w| acc.wrapping_add(i32::from(w as i8)));
        bias.wrapping_add(input_offset.wrapping_mul(sum))
    }

    /// Folded bias of channel `c` (0 if out of range; prepare sizes it).
    #[inline]
    pub fn folded_bias(&self, c: usize) -> i32 {
        let at = c * Self::BYTES_PER_CHANNEL + 8;
        match self.bytes.get(at..at + 4) {
            Some(b) => i32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            None => 0,
        }
    }

    /// Multiplier of channel `c` (zero multiplier if out of range; prepare sizes it).
    #[inline]
    pub fn get(&self, c: usize) -> QuantizedMultiplier {
        let at = c * Self::BYTES_PER_CHANNEL;
        match self.bytes.get(at..at + 8) {
            Some(b) => QuantizedMultiplier {
                multiplier: i32::from_le_bytes([b[0], b[1], b[2], b[3]]),
                shift: i32::from_le_bytes([b[4], b[5], b[6], b[7]]),
            },
            None => QuantizedMultiplier::default(),
        }
    }
}

/// An int32 bias vector read in place from the model (little-endian, possibly unaligned).
#[derive(Clone, Copy, Debug)]
pub struct Bias<'a> {
    bytes: &'a [u8],
}

impl<'a> Bias<'a> {
    /// Wraps little-endian i32 bytes.
    pub fn new(bytes: &'a [u8]) -> Self {
        Bias { bytes }
    }

    /// Bias of channel `c` (0 when absent).
    #[inline]
    pub fn get(&self, c: usize) -> i32 {
        match self.bytes.get(c * 4..c * 4 + 4) {
            Some(b) => i32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            None => 0,
        }
    }
}

/// TFLite padding scheme.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Padding {
    /// Output size `ceil(in / stride)`, zero padding split with the extra row at the end.
    Same,
    /// No padding.
    Valid,
}

/// Largest stride, dilated filter extent or window harbor accepts: keeps every index
/// computation of the kernels inside 32-bit `usize` on the band.
pub const MAX_GEOMETRY: usize = 1 << 16;

impl Padding {
    /// Output size along one axis (TFLite's `ComputeOutSize`); `None` if it would be < 1 or
    /// the geometry exceeds [`MAX_GEOMETRY`].
    pub fn output_size(
        self,
        input: usize,
        filter: usize,
        stride: usize,
        dilation: usize,
    ) -> Option<usize> {
        let effective = filter
            .checked_sub(1)?
            .checked_mul(dilation)?
            .checked_add(1)
            .filter(|&e| e <= MAX_GEOMETRY)?;
        if stride == 0 || stride > MAX_GEOMETRY {
            return None;
        }
        let out = match self {
            Padding::Same => input.div_ceil(stride),
            Padding::Valid => (input + stride).checked_sub(effective)? / stride,
        };
        (out > 0).then_some(out)
    }

    /// Padding before the first element (TFLite's `ComputePaddingWithOffset`; the odd extra
    /// padding goes after the last element, so it never shows up in the reference loops).
    /// Call only with a geometry `output_size` accepted.
    pub fn before(
        input: usize,
        filter: usize,
        stride: usize,
        dilation: usize,
        output: usize,
    ) -> usize {
        let effective = (filter - 1) * dilation + 1;
        let total = ((output - 1) * stride + effective).saturating_sub(input);
        total / 2
    }
}
