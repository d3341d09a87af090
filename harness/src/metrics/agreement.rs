//! Agreement of the device with the host references: int8 logits bit for bit, float by class.

use serde::{Deserialize, Serialize};

/// A window whose device logits differ from the host int8 reference.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Int8Mismatch {
    /// The window's index in the cell.
    pub window: usize,
    /// The device's logits.
    pub device: Vec<i8>,
    /// The host int8 reference logits.
    pub host: Vec<i8>,
}

/// Fraction of windows whose every int8 logit equals the reference, and every mismatch.
///
/// `pairs` yields `(window, device logits, host logits)`; an empty input gives `None`
/// (no evidence either way, never a perfect score).
pub fn int8_agreement<'a>(
    pairs: impl IntoIterator<Item = (usize, &'a [i8], &'a [i8])>,
) -> (Option<f64>, Vec<Int8Mismatch>) {
    let mut total = 0usize;
    let mut mismatches = Vec::new();
    for (window, device, host) in pairs {
        total += 1;
        if device != host {
            mismatches.push(Int8Mismatch {
                window,
                device: device.to_vec(),
                host: host.to_vec(),
            });
        }
    }
    let fraction = (total > 0).then(|| (total - mismatches.len()) as f64 / total as f64);
    (fraction, mismatches)
}

/// Fraction of windows where the device picks the float model's class.
pub fn agreement_float(pairs: impl IntoIterator<Item = (usize, usize)>) -> Option<f64> {
    let (mut total, mut same) = (0usize, 0usize);
    for (device, float) in pairs {
        total += 1;
        same += usize::from(device == float);
    }
    (total > 0).then(|| same as f64 / total as f64)
}

/// How a device's printed float outputs are compared with the host's int8 reference.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FloatOutputCheck {
    /// The model output's quantization scale.
    pub scale: f32,
    /// The model output's zero point.
    pub zero_point: i32,
    /// Largest difference that still agrees (output units).
    pub tolerance: f64,
}

/// Fraction of windows whose every printed output is within the tolerance of the host
/// reference dequantized, `scale · (q − zero_point)`. A window with a different number of
/// outputs disagrees; no windows gives `None`.
pub fn float_output_agreement<'a>(
    pairs: impl IntoIterator<Item = (&'a [f32], &'a [i8])>,
    check: FloatOutputCheck,
) -> Option<f64> {
    let (mut total, mut same) = (0usize, 0usize);
    for (device, host) in pairs {
        total += 1;
        let agrees = device.len() == host.len()
            && device.iter().zip(host).all(|(&d, &q)| {
                let reference = f64::from(check.scale) * f64::from(i32::from(q) - check.zero_point);
                (f64::from(d) - reference).abs() <= check.tolerance
            });
        same += usize::from(agrees);
    }
    (total > 0).then(|| same as f64 / total as f64)
}
