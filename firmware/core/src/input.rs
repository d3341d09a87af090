//! The band's raw IMU reading → int8 model input conversion, shared by firmware and host.
//!
//! The network is trained on `(x - mean[c]) / std[c]`; its int8 input has one per-tensor
//! scale and zero point, so the per-channel normalisation folds into one conversion per
//! reading (docs/models.md, "Normalization and the band's int8 input"):
//!
//! `q = clamp(zp + (((raw - offset[c]) * multiplier[c] + 2^(shift[c]-1)) >> shift[c]), -128, 127)`
//!
//! One subtraction, one multiply and a shift, no float: the ESP32-C3 has no FPU. The
//! product is formed in 64 bits so no offset/multiplier pair the protocol accepts can
//! overflow (`>>` on a negative value is arithmetic, i.e. rounds toward −∞, as on the host),
//! and in 32 bits when the parameters are small enough for that to be exact.

use crate::rate::{AXES, ImuSample};

/// Largest per-channel shift accepted: keeps the rounding term and the product well
/// inside 64 bits.
pub const MAX_SHIFT: u8 = 31;

/// One channel's conversion parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ChannelQuant {
    /// Subtracted from the raw reading (the training mean, rounded).
    pub offset: i32,
    /// Fixed-point `2^shift / (std · input_scale)`.
    pub multiplier: i32,
    /// Fraction bits of `multiplier`.
    pub shift: u8,
}

impl ChannelQuant {
    /// Converts one raw reading of this channel: subtract, multiply, round, shift, offset by
    /// the input tensor's `zero_point`, saturate. The only copy of this arithmetic: the host
    /// prepares tensor-mode inputs with it too.
    pub fn quantize(&self, raw: i16, zero_point: i8) -> i8 {
        if let Some(q) = self.quantize_narrow(raw, zero_point) {
            return q;
        }
        // Shifts beyond MAX_SHIFT are refused by `InputQuant::new`; clamp for direct callers.
        let shift = self.shift.min(MAX_SHIFT);
        let centred = i64::from(raw) - i64::from(self.offset);
        let rounding = if shift == 0 { 0 } else { 1i64 << (shift - 1) };
        let scaled = (centred * i64::from(self.multiplier) + rounding) >> shift;
        // |scaled| < 2^48, so adding the zero point cannot overflow.
        (scaled + i64::from(zero_point)).clamp(-128, 127) as i8
    }
}

impl ChannelQuant {
    /// [`ChannelQuant::quantize`] in 32-bit arithmetic, when no intermediate can leave it:
    /// with `|offset|` and `|multiplier|` ≤ 32,767 and `shift` ≤ 17, `|raw − offset|` ≤
    /// 65,535 and `|centred · multiplier + rounding|` ≤ 65,535 · 32,767 + 2^16 < 2^31. Same
    /// result as the 64-bit form (`>>` floors either way); a fifth of its instructions on
    /// RV32, where 64-bit products and shifts are multi-instruction sequences. HAR cards'
    /// parameters (multipliers of a few hundred, shift 16) take this path.
    #[inline]
    fn quantize_narrow(&self, raw: i16, zero_point: i8) -> Option<i8> {
        if self.offset.unsigned_abs() > 32_767
            || self.multiplier.unsigned_abs() > 32_767
            || self.shift > 17
        {
            return None;
        }
        let centred = i32::from(raw) - self.offset;
        let rounding = if self.shift == 0 {
            0
        } else {
            1i32 << (self.shift - 1)
        };
        let scaled = (centred * self.multiplier + rounding) >> self.shift;
        Some((scaled + i32::from(zero_point)).clamp(-128, 127) as i8)
    }
}

/// The conversion for all six axes plus the input tensor's zero point.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct InputQuant {
    /// Per-axis conversion, in IMU axis order (ax, ay, az, gx, gy, gz).
    pub channels: [ChannelQuant; AXES],
    /// Zero point of the model's int8 input tensor.
    pub zero_point: i8,
}

/// Why a parameter set cannot be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputQuantError {
    /// `shift` of channel `channel` exceeds [`MAX_SHIFT`].
    ShiftTooLarge {
        /// Axis index (0..6).
        channel: usize,
        /// The shift asked for.
        shift: u8,
    },
}

impl core::fmt::Display for InputQuantError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::ShiftTooLarge { channel, shift } => {
                write!(f, "channel {channel}: shift {shift} exceeds {MAX_SHIFT}")
            }
        }
    }
}

impl InputQuant {
    /// Checks the parameters; every accepted set converts every reading without overflow.
    pub fn new(channels: [ChannelQuant; AXES], zero_point: i8) -> Result<Self, InputQuantError> {
        for (channel, c) in channels.iter().enumerate() {
            if c.shift > MAX_SHIFT {
                return Err(InputQuantError::ShiftTooLarge {
                    channel,
                    shift: c.shift,
                });
            }
        }
        Ok(Self {
            channels,
            zero_point,
        })
    }

    /// Converts one reading of `channel` (0..6).
    pub fn quantize(&self, channel: usize, raw: i16) -> i8 {
        self.channels[channel].quantize(raw, self.zero_point)
    }

    /// Converts one 6-axis sample into `out` (6 values, time-major layout).
    pub fn quantize_sample(&self, sample: &ImuSample, out: &mut [i8; AXES]) {
        for (axis, (dst, &raw)) in out.iter_mut().zip(sample).enumerate() {
            *dst = self.quantize(axis, raw);
        }
    }

    /// Converts a time-major window of samples into `out` (`6 · samples.len()` values).
    /// Returns the values written: the shorter of the two.
    pub fn quantize_window<'s>(
        &self,
        samples: impl IntoIterator<Item = &'s ImuSample>,
        out: &mut [i8],
    ) -> usize {
        let mut written = 0;
        for (sample, dst) in samples.into_iter().zip(out.chunks_exact_mut(AXES)) {
            for (axis, (d, &raw)) in dst.iter_mut().zip(sample).enumerate() {
                *d = self.quantize(axis, raw);
            }
            written += AXES;
        }
        written
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uniform(offset: i32, multiplier: i32, shift: u8, zero_point: i8) -> InputQuant {
        InputQuant::new(
            [ChannelQuant {
                offset,
                multiplier,
                shift,
            }; AXES],
            zero_point,
        )
        .unwrap()
    }

    #[test]
    fn rounds_half_up_and_saturates() {
        // multiplier 2^15 at shift 16 halves: 1 → 0.5 → 1 (half up), -1 → -0.5 → 0.
        let q = uniform(0, 1 << 15, 16, 0);
        assert_eq!(q.quantize(0, 1), 1);
        assert_eq!(q.quantize(0, -1), 0);
        assert_eq!(q.quantize(0, 3), 2);
        assert_eq!(q.quantize(0, -3), -1);
        assert_eq!(q.quantize(0, i16::MAX), 127);
        assert_eq!(q.quantize(0, i16::MIN), -128);
    }

    #[test]
    fn offset_and_zero_point_shift_the_result() {
        let q = uniform(100, 1 << 16, 16, -5);
        assert_eq!(q.quantize(3, 100), -5);
        assert_eq!(q.quantize(3, 110), 5);
        assert_eq!(q.quantize(3, 90), -15);
    }

    #[test]
    fn extreme_parameters_do_not_overflow() {
        let q = uniform(i32::MIN, i32::MAX, 0, 127);
        assert_eq!(q.quantize(0, i16::MAX), 127);
        let q = uniform(i32::MAX, i32::MAX, 31, -128);
        assert_eq!(q.quantize(0, i16::MIN), -128);
    }

    #[test]
    fn shift_beyond_the_limit_is_refused() {
        let mut c = [ChannelQuant {
            offset: 0,
            multiplier: 1,
            shift: 16,
        }; AXES];
        c[4].shift = 32;
        assert_eq!(
            InputQuant::new(c, 0),
            Err(InputQuantError::ShiftTooLarge {
                channel: 4,
                shift: 32
            })
        );
    }

    #[test]
    fn a_window_is_converted_sample_by_sample_in_axis_order() {
        let mut c = [ChannelQuant {
            offset: 0,
            multiplier: 1 << 16,
            shift: 16,
        }; AXES];
        c[1].offset = 10;
        let q = InputQuant::new(c, 0).unwrap();
        let window = [[1, 11, 2, 3, 4, 5], [6, 17, 8, 9, 10, 11]];
        let mut out = [0i8; 13];
        assert_eq!(q.quantize_window(&window, &mut out), 12);
        assert_eq!(out[..12], [1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    }
}
