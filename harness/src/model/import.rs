//! A model harbor did not train, as a model directory: a minimal card (classes, input,
//! normalization in physical units, the band's integer input conversion, file hash) written
//! from the `.tflite` itself and a few facts only its author knows.

use std::path::Path;

use harbor_core::rate::AXES;
use harbor_core::tflite::Model;

use super::card::{ClassInfo, FileInfo, InputInfo, ModelCard, NormalizationInfo, sha256_hex};
use super::host::{HostModel, ModelError};
use super::input::{InputQuant, Normalization};
use crate::board::BoardProfile;

/// The band's IMU channels, in the order its firmware feeds them.
pub const IMU_CHANNELS: [&str; AXES] = [
    "accel_x", "accel_y", "accel_z", "gyro_x", "gyro_y", "gyro_z",
];

/// The physical units imported models' inputs and normalization are in.
pub const PHYSICAL_UNITS: &str = "m/s² (accel), rad/s (gyro)";

/// The card's provenance of a model made outside harbor.
pub const IMPORTED: &str = "imported";

/// Largest relative gain error the band's integer input conversion may have.
pub const MAX_GAIN_ERROR: f64 = 1e-4;

/// What the author says about a model besides its `.tflite`.
#[derive(Clone, Debug, PartialEq)]
pub struct ImportSpec {
    /// Class names in output order.
    pub classes: Vec<String>,
    /// Model sample rate (default 20 Hz).
    pub rate_hz: Option<f64>,
    /// Samples per window (default: the input tensor's).
    pub window: Option<usize>,
    /// Samples between window starts (default: half a window).
    pub hop: Option<usize>,
    /// Per-channel mean in physical units (default 0).
    pub mean: Option<Vec<f32>>,
    /// Per-channel standard deviation in physical units (default 1).
    pub std: Option<Vec<f32>>,
}

/// Why a `.tflite` cannot be imported; names the op, tensor or option at fault.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// harbor-core refuses the model (unsupported op, not int8, malformed …).
    #[error(transparent)]
    Model(#[from] ModelError),
    /// The output count is not the class count.
    #[error(
        "{path}: output tensor `{tensor}` (tensor {index}) has {outputs} values, but {classes} classes were given"
    )]
    Outputs {
        /// The model file.
        path: String,
        /// The output tensor's name.
        tensor: String,
        /// Its index.
        index: usize,
        /// Its element count.
        outputs: usize,
        /// Classes given.
        classes: usize,
    },
    /// The input tensor is not `window × channels` of the band's IMU.
    #[error("{path}: input tensor `{tensor}` (tensor {index}) has shape {shape:?}; {expected}")]
    Input {
        /// The model file.
        path: String,
        /// The input tensor's name.
        tensor: String,
        /// Its index.
        index: usize,
        /// Its shape.
        shape: Vec<usize>,
        /// What harbor expected instead.
        expected: String,
    },
    /// An option's value cannot be used.
    #[error("{option}: {reason}")]
    Option {
        /// The option, e.g. `--std`.
        option: &'static str,
        /// What is wrong.
        reason: String,
    },
}

/// The band's input conversion harbor chose, and how close it is to the float one.
#[derive(Clone, Debug, PartialEq)]
pub struct ConversionChoice {
    /// The conversion (offsets, multipliers, one shift, zero point).
    pub conversion: InputQuant,
    /// Largest relative gain error over the channels.
    pub max_gain_error: f64,
}

/// An imported model: its card and the conversion harbor computed.
#[derive(Clone, Debug)]
pub struct Imported {
    /// The card to write as `card.yaml`.
    pub card: ModelCard,
    /// The band's input conversion.
    pub choice: ConversionChoice,
}

/// Builds the card of the model in `bytes` (read from `path`, named `name`) for `board`.
pub fn import(
    name: &str,
    path: &Path,
    bytes: &[u8],
    spec: &ImportSpec,
    board: &BoardProfile,
) -> Result<Imported, ImportError> {
    let shown = path.display().to_string();
    let host = HostModel::from_bytes(path, bytes.to_vec())?;
    let (input, output) = (host.input(), host.output());
    let tensor_name = |index: usize| {
        Model::parse(bytes)
            .and_then(|m| m.tensor(index))
            .map_or_else(|_| String::new(), |t| t.name.to_string())
    };
    if spec.classes.is_empty() {
        return Err(ImportError::Option {
            option: "--classes",
            reason: "give the class names in output order".into(),
        });
    }
    if output.len() != spec.classes.len() {
        return Err(ImportError::Outputs {
            path: shown,
            tensor: tensor_name(output.tensor),
            index: output.tensor,
            outputs: output.len(),
            classes: spec.classes.len(),
        });
    }
    let dims = input.shape.dims().to_vec();
    let window = input_window(&dims).filter(|&w| spec.window.is_none_or(|s| s == w));
    let Some(window) = window else {
        let expected = match spec.window {
            Some(w) => {
                format!("harbor feeds [1, {w}, {AXES}] (--window {w} × {AXES} IMU channels)")
            }
            None => format!("harbor feeds [1, window, {AXES}] (window × {AXES} IMU channels)"),
        };
        return Err(ImportError::Input {
            path: shown,
            tensor: tensor_name(input.tensor),
            index: input.tensor,
            shape: dims,
            expected,
        });
    };
    let rate_hz = spec.rate_hz.unwrap_or(20.0);
    if !(rate_hz.is_finite() && rate_hz > 0.0) {
        return Err(ImportError::Option {
            option: "--rate",
            reason: format!("{rate_hz} Hz is not a positive rate"),
        });
    }
    let hop = spec.hop.unwrap_or((window / 2).max(1));
    if hop == 0 || hop > window {
        return Err(ImportError::Option {
            option: "--hop",
            reason: format!("{hop} samples: the hop must be 1..={window} (the window)"),
        });
    }
    let norm = normalization(spec)?;
    let choice = device_conversion(&norm, board, input.scale, input.zero_point)?;
    let card = ModelCard {
        name: name.to_string(),
        precision: "int8".into(),
        provenance: IMPORTED.into(),
        classes: spec
            .classes
            .iter()
            .map(|c| ClassInfo {
                name: c.clone(),
                activities: vec![c.clone()],
            })
            .collect(),
        input: InputInfo {
            rate_hz,
            window_samples: window,
            window_stride_samples: hop,
            channels: IMU_CHANNELS.iter().map(|c| c.to_string()).collect(),
            units: PHYSICAL_UNITS.into(),
        },
        normalization: NormalizationInfo {
            stats: norm,
            input_scale: input.scale,
            input_zero_point: input.zero_point,
            device_conversion: choice.conversion.clone(),
            board: Some(board.name.clone()),
        },
        file: FileInfo {
            name: super::saved::MODEL_FILE.into(),
            bytes: bytes.len() as u64,
            sha256: sha256_hex(bytes),
        },
        ..ModelCard::default()
    };
    Ok(Imported { card, choice })
}

/// The window length of an input of shape `[1, window, 6]` or `[window, 6]`.
fn input_window(dims: &[usize]) -> Option<usize> {
    match dims {
        [1, w, c] | [w, c] if *c == AXES => Some(*w),
        _ => None,
    }
}

fn normalization(spec: &ImportSpec) -> Result<Normalization, ImportError> {
    let list = |values: &Option<Vec<f32>>, default: f32, option: &'static str| {
        let v = values.clone().unwrap_or_else(|| vec![default; AXES]);
        if v.len() != AXES {
            return Err(ImportError::Option {
                option,
                reason: format!(
                    "{} values; the band has {AXES} channels ({})",
                    v.len(),
                    IMU_CHANNELS.join(", ")
                ),
            });
        }
        if let Some(bad) = v.iter().find(|x| !x.is_finite()) {
            return Err(ImportError::Option {
                option,
                reason: format!("{bad} is not a number"),
            });
        }
        Ok(v)
    };
    let mean = list(&spec.mean, 0.0, "--mean")?;
    let std = list(&spec.std, 1.0, "--std")?;
    if let Some(bad) = std.iter().find(|&&s| s <= 0.0) {
        return Err(ImportError::Option {
            option: "--std",
            reason: format!("{bad}: every standard deviation must be above 0"),
        });
    }
    Ok(Normalization { mean, std })
}

/// The band's raw-count → int8 conversion for a model whose input is `(x − mean) / std` of
/// physical readings `x`, quantized with `scale` and `zero_point`, on `board`'s IMU:
/// the smallest shift whose rounded multipliers are all within [`MAX_GAIN_ERROR`].
pub fn device_conversion(
    norm: &Normalization,
    board: &BoardProfile,
    scale: f32,
    zero_point: i32,
) -> Result<ConversionChoice, ImportError> {
    // Physical units per raw count, per channel.
    let unit = |c: usize| {
        if c < 3 {
            board.imu.accel_scale()
        } else {
            board.imu.gyro_scale()
        }
    };
    if !(scale.is_finite() && scale > 0.0) {
        return Err(ImportError::Option {
            option: "model input",
            reason: format!("input scale {scale} cannot be converted to"),
        });
    }
    // Multiplier per count at shift 0: counts → input quanta.
    let gains: Vec<f64> = (0..AXES)
        .map(|c| unit(c) / (f64::from(norm.std[c]) * f64::from(scale)))
        .collect();
    let offset: Vec<i32> = (0..AXES)
        .map(|c| (f64::from(norm.mean[c]) / unit(c)).round() as i32)
        .collect();
    let max_shift = u32::from(harbor_core::input::MAX_SHIFT);
    for shift in 0..=max_shift {
        let one = (1u64 << shift) as f64;
        let exact: Vec<f64> = gains.iter().map(|g| g * one).collect();
        if exact.iter().any(|m| m.round() > f64::from(i32::MAX)) {
            break;
        }
        let error = exact
            .iter()
            .map(|m| {
                if m.round() == 0.0 {
                    1.0
                } else {
                    ((m.round() - m) / m).abs()
                }
            })
            .fold(0.0, f64::max);
        if error <= MAX_GAIN_ERROR {
            return Ok(ConversionChoice {
                conversion: InputQuant {
                    offset,
                    multiplier: exact.iter().map(|m| m.round() as i32).collect(),
                    shift,
                    zero_point,
                },
                max_gain_error: error,
            });
        }
    }
    Err(ImportError::Option {
        option: "--std",
        reason: format!(
            "no shift ≤ {max_shift} gives the band's input conversion a gain error ≤ {} % \
             (gains per count {gains:?})",
            100.0 * MAX_GAIN_ERROR
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversion_gain_error_is_within_a_hundredth_of_a_percent() {
        let board = BoardProfile::load(BoardProfile::DEFAULT).unwrap();
        let norm = Normalization {
            mean: vec![0.5, -9.8, 1.0, 0.0, 0.01, -0.02],
            std: vec![3.0, 4.0, 2.5, 0.9, 1.1, 0.7],
        };
        let choice = device_conversion(&norm, &board, 0.031, -3).unwrap();
        assert!(choice.max_gain_error <= MAX_GAIN_ERROR, "{choice:?}");
        let q = &choice.conversion;
        for c in 0..AXES {
            let unit = if c < 3 {
                board.imu.accel_scale()
            } else {
                board.imu.gyro_scale()
            };
            let exact = unit / (f64::from(norm.std[c]) * 0.031) * f64::from(1u32 << q.shift);
            let err = ((f64::from(q.multiplier[c]) - exact) / exact).abs();
            assert!(err <= MAX_GAIN_ERROR, "channel {c}: {err}");
        }
        // A shift one smaller would not do: the choice is the smallest that meets the bound.
        let smaller = q.shift - 1;
        let worst = (0..AXES)
            .map(|c| {
                let unit = if c < 3 {
                    board.imu.accel_scale()
                } else {
                    board.imu.gyro_scale()
                };
                let exact = unit / (f64::from(norm.std[c]) * 0.031) * f64::from(1u32 << smaller);
                ((exact.round() - exact) / exact).abs()
            })
            .fold(0.0, f64::max);
        assert!(
            worst > MAX_GAIN_ERROR,
            "shift {smaller} already meets it: {worst}"
        );
        // Offsets are the means in counts.
        assert_eq!(q.offset[1], (-9.8 / board.imu.accel_scale()).round() as i32);
    }
}
