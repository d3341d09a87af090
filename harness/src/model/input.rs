//! Per-channel input normalization and how the band turns raw readings into int8 input.
//!
//! The network is trained on `(x - mean[c]) / std[c]`. Its int8 input tensor has one
//! per-tensor scale `s` and zero point `zp` (TFLite activations are per-tensor), so the
//! per-channel normalization is folded into the conversion the band does per sample:
//!
//! `q = clamp(zp + (((raw - offset[c]) * multiplier[c] + 2^15) >> 16), -128, 127)`
//!
//! with `offset[c] = round(mean[c])` and `multiplier[c] = round(2^16 / (std[c] * s))`: one
//! subtraction, one 32-bit multiply and a shift per reading, no float on the device.

use harbor_core::input::{ChannelQuant, MAX_SHIFT};
use harbor_core::rate::AXES;
use serde::{Deserialize, Serialize};

use super::windows::WindowSet;

/// Fixed-point fraction bits of [`InputQuant::multiplier`].
pub const INPUT_SHIFT: u32 = 16;

/// Mean and standard deviation of each input channel over the training windows.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Normalization {
    /// Per-channel mean.
    pub mean: Vec<f32>,
    /// Per-channel standard deviation.
    pub std: Vec<f32>,
}

impl Normalization {
    /// Statistics over every sample of every window (f64 accumulation: millions of samples).
    pub fn fit(set: &WindowSet) -> Self {
        let c = set.channels;
        let mut sum = vec![0f64; c];
        let mut sq = vec![0f64; c];
        for chunk in set.x.chunks_exact(c) {
            for (j, &v) in chunk.iter().enumerate() {
                sum[j] += f64::from(v);
                sq[j] += f64::from(v) * f64::from(v);
            }
        }
        let n = (set.x.len() / c.max(1)).max(1) as f64;
        let mean: Vec<f64> = sum.iter().map(|s| s / n).collect();
        // A constant channel would divide by zero; 1.0 keeps it at 0 after centring.
        let std = sq
            .iter()
            .zip(&mean)
            .map(|(q, m)| (q / n - m * m).max(0.0).sqrt())
            .map(|s| if s > 1e-6 { s } else { 1.0 });
        Normalization {
            mean: mean.iter().map(|&m| m as f32).collect(),
            std: std.map(|s| s as f32).collect(),
        }
    }

    /// A copy of `set` with every channel normalized.
    pub fn apply(&self, set: &WindowSet) -> WindowSet {
        let mut out = set.clone();
        let c = set.channels;
        for chunk in out.x.chunks_exact_mut(c) {
            for (j, v) in chunk.iter_mut().enumerate() {
                *v = (*v - self.mean[j]) / self.std[j];
            }
        }
        out
    }
}

/// The band's raw-reading → int8 conversion for a given input tensor quantization.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputQuant {
    /// Per-channel raw reading subtracted first (`round(mean)`).
    pub offset: Vec<i32>,
    /// Per-channel fixed-point multiplier (`2^shift / (std · scale)`).
    pub multiplier: Vec<i32>,
    /// Fraction bits of the multipliers.
    pub shift: u32,
    /// The int8 input tensor's zero point.
    pub zero_point: i32,
}

impl InputQuant {
    /// The conversion for `norm` into an input tensor of `scale` and `zero_point`.
    pub fn new(norm: &Normalization, scale: f32, zero_point: i32) -> Self {
        let one = f64::from(1u32 << INPUT_SHIFT);
        InputQuant {
            offset: norm.mean.iter().map(|&m| m.round() as i32).collect(),
            multiplier: norm
                .std
                .iter()
                .map(|&s| (one / (f64::from(s) * f64::from(scale))).round() as i32)
                .collect(),
            shift: INPUT_SHIFT,
            zero_point,
        }
    }

    /// Converts one reading of channel `c` with the firmware's own arithmetic
    /// (`harbor_core::input`); `raw` saturates to the IMU's int16 register first.
    pub fn quantize(&self, c: usize, raw: i32) -> i8 {
        let channel = ChannelQuant {
            offset: self.offset[c],
            multiplier: self.multiplier[c],
            shift: u8::try_from(self.shift).unwrap_or(u8::MAX),
        };
        let raw = raw.clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16;
        channel.quantize(raw, self.zero_point.clamp(-128, 127) as i8)
    }

    /// Converts a time-major window of raw readings (rounded to integers, as the IMU reports).
    pub fn quantize_window(&self, window: &[f32], channels: usize) -> Vec<i8> {
        window
            .iter()
            .enumerate()
            .map(|(i, &v)| self.quantize(i % channels, v.round() as i32))
            .collect()
    }
}

/// Why a card's `device_conversion` cannot be sent to the band; names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeviceConversionError {
    /// The band takes one offset and one multiplier per IMU axis.
    #[error(
        "device_conversion has {offsets} offsets and {multipliers} multipliers; the band takes {AXES} channels"
    )]
    Channels {
        /// Offsets in the card.
        offsets: usize,
        /// Multipliers in the card.
        multipliers: usize,
    },
    /// The zero point does not fit the int8 input tensor.
    #[error("zero_point {0} is outside int8")]
    ZeroPoint(i32),
    /// The shift is larger than the band's arithmetic allows.
    #[error("shift {0} exceeds {MAX_SHIFT}")]
    Shift(u32),
    /// harbor-core refuses the parameters.
    #[error("{0}")]
    Core(harbor_core::input::InputQuantError),
}

/// Converts a model card's `device_conversion` into the band's ConfigureInput parameters.
pub fn device_input_quant(
    card: &InputQuant,
) -> Result<harbor_core::input::InputQuant, DeviceConversionError> {
    if card.offset.len() != AXES || card.multiplier.len() != AXES {
        return Err(DeviceConversionError::Channels {
            offsets: card.offset.len(),
            multipliers: card.multiplier.len(),
        });
    }
    let zero_point = i8::try_from(card.zero_point)
        .map_err(|_| DeviceConversionError::ZeroPoint(card.zero_point))?;
    let shift = u8::try_from(card.shift)
        .ok()
        .filter(|&s| s <= MAX_SHIFT)
        .ok_or(DeviceConversionError::Shift(card.shift))?;
    let channels = core::array::from_fn(|c| ChannelQuant {
        offset: card.offset[c],
        multiplier: card.multiplier[c],
        shift,
    });
    harbor_core::input::InputQuant::new(channels, zero_point).map_err(DeviceConversionError::Core)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_matches_hand_statistics() {
        let mut set = WindowSet::new(2, 2);
        set.push(&[1.0, 10.0, 3.0, 10.0], 0, "a");
        let n = Normalization::fit(&set);
        assert_eq!(n.mean, vec![2.0, 10.0]);
        assert_eq!(n.std[0], 1.0);
        assert_eq!(n.std[1], 1.0, "constant channel gets std 1");
        let z = n.apply(&set);
        assert_eq!(z.x, vec![-1.0, 0.0, 1.0, 0.0]);
    }

    #[test]
    fn integer_conversion_tracks_float_quantization() {
        let norm = Normalization {
            mean: vec![4096.0, -12.0],
            std: vec![900.0, 250.0],
        };
        let (scale, zp) = (0.031, -3);
        let q = InputQuant::new(&norm, scale, zp);
        for raw in (-32768..32767).step_by(97) {
            for c in 0..2 {
                let float = (raw as f32 - norm.mean[c]) / norm.std[c];
                let expected = ((float / scale).round() as i32 + zp).clamp(-128, 127);
                let got = i32::from(q.quantize(c, raw));
                assert!(
                    (got - expected).abs() <= 1,
                    "c {c} raw {raw}: {got} vs {expected}"
                );
            }
        }
    }
}
