//! Post-training int8 quantization following the TFLite int8 specification.
//!
//! - weights: per output channel, symmetric, int8 in [-127, 127], zero point 0;
//! - biases: int32, scale `s_in * s_w[c]`, zero point 0;
//! - activations: per tensor, asymmetric int8, range calibrated as min/max over training
//!   windows and widened to include 0 (so real 0 is exactly representable); a fused ReLU is
//!   folded in because calibration sees post-ReLU values (min 0 → zero point -128);
//! - max-pooling and reshapes keep their input's parameters (TFLite requires it);
//! - the softmax output is fixed at scale 1/256, zero point -128.

use serde::{Deserialize, Serialize};

use super::arch::Arch;
use super::float_net::FloatNet;
use super::windows::WindowSet;

/// Scale and zero point of a per-tensor int8 activation.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActQuant {
    /// Real value of one int8 step.
    pub scale: f32,
    /// int8 value of real 0.
    pub zero_point: i32,
}

impl ActQuant {
    /// Asymmetric int8 parameters covering `[min, max]` (widened to contain 0).
    pub fn from_range(min: f32, max: f32) -> Self {
        let (min, max) = (min.min(0.0), max.max(0.0));
        // A constant-zero tensor still needs a valid positive scale.
        let scale = if max - min > 1e-12 {
            (max - min) / 255.0
        } else {
            1.0 / 256.0
        };
        let zero_point = (-128.0 - min / scale).round().clamp(-128.0, 127.0) as i32;
        ActQuant { scale, zero_point }
    }

    /// Rounds `v` to the nearest int8 (clamped).
    pub fn quantize(&self, v: f32) -> i8 {
        ((v / self.scale).round() as i32 + self.zero_point).clamp(-128, 127) as i8
    }

    /// The real value of `q`.
    pub fn dequantize(&self, q: i8) -> f32 {
        (i32::from(q) - self.zero_point) as f32 * self.scale
    }

    /// What TFLite's int8 SOFTMAX always outputs.
    pub const SOFTMAX: ActQuant = ActQuant {
        scale: 1.0 / 256.0,
        zero_point: -128,
    };
}

/// A quantized layer: int8 weights (already in TFLite layout), per-channel scales, int32 biases.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QuantLayer {
    /// Conv: `[out][kernel][in]` (OHWI with H = 1); dense: `[out][in]`.
    pub weight: Vec<i8>,
    /// Per-output-channel weight scale.
    pub weight_scale: Vec<f32>,
    /// int32 biases at scale `input scale × weight scale`.
    pub bias: Vec<i32>,
}

/// int8 parameters of every tensor of the network.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QuantModel {
    /// Shapes of every layer.
    pub arch: Arch,
    /// The input tensor's quantization.
    pub input: ActQuant,
    /// Output of each conv block (conv + ReLU; its max-pool shares it).
    pub blocks: Vec<ActQuant>,
    /// Global average pooling output.
    pub features: ActQuant,
    /// The head's output (logits) quantization.
    pub logits: ActQuant,
    /// One quantized convolution per block.
    pub convs: Vec<QuantLayer>,
    /// The quantized dense head.
    pub head: QuantLayer,
}

/// Observed ranges of every quantized activation.
#[derive(Clone, Debug, PartialEq)]
pub struct Ranges {
    /// Input range.
    pub input: (f32, f32),
    /// Range after each block.
    pub blocks: Vec<(f32, f32)>,
    /// Range of the pooled features.
    pub features: (f32, f32),
    /// Range of the logits.
    pub logits: (f32, f32),
}

fn widen(r: &mut (f32, f32), values: &[f32]) {
    for &v in values {
        r.0 = r.0.min(v);
        r.1 = r.1.max(v);
    }
}

/// Min/max of every activation over the (normalized) calibration windows.
pub fn calibrate(net: &FloatNet, windows: &WindowSet) -> Ranges {
    let empty = (f32::INFINITY, f32::NEG_INFINITY);
    let mut r = Ranges {
        input: empty,
        blocks: vec![empty; net.arch.blocks.len()],
        features: empty,
        logits: empty,
    };
    for i in 0..windows.len() {
        let w = windows.get(i);
        let t = net.trace(w);
        widen(&mut r.input, w);
        for (b, y) in r.blocks.iter_mut().zip(&t.conv) {
            widen(b, y);
        }
        widen(&mut r.features, &t.features);
        widen(&mut r.logits, &t.logits);
    }
    r
}

/// Quantizes `net` with activation ranges from `calibration` (normalized training windows).
pub fn quantize(net: &FloatNet, calibration: &WindowSet) -> QuantModel {
    let r = calibrate(net, calibration);
    let input = ActQuant::from_range(r.input.0, r.input.1);
    let blocks: Vec<ActQuant> = r
        .blocks
        .iter()
        .map(|&(a, b)| ActQuant::from_range(a, b))
        .collect();
    let features = ActQuant::from_range(r.features.0, r.features.1);
    let logits = ActQuant::from_range(r.logits.0, r.logits.1);
    let shapes = net.arch.block_shapes();
    let convs = net
        .convs
        .iter()
        .zip(&shapes)
        .zip(&net.arch.blocks)
        .enumerate()
        .map(|(i, ((p, s), b))| {
            let s_in = if i == 0 {
                input.scale
            } else {
                blocks[i - 1].scale
            };
            let (cin, k) = (s.in_channels, b.kernel);
            // burn's [out][in][k] → TFLite's [out][k][in].
            let ohwi = |o: usize, kk: usize, ii: usize| p.weight[(o * cin + ii) * k + kk];
            let rows: Vec<Vec<f32>> = (0..b.channels)
                .map(|o| {
                    (0..k)
                        .flat_map(|kk| (0..cin).map(move |ii| ohwi(o, kk, ii)))
                        .collect()
                })
                .collect();
            quantize_layer(&rows, &p.bias, s_in)
        })
        .collect();
    let head = head_layer(net, features.scale);
    QuantModel {
        arch: net.arch.clone(),
        input,
        blocks,
        features,
        logits,
        convs,
        head,
    }
}

/// Re-quantizes only the dense head (personalization changes nothing else), keeping every
/// other tensor's parameters so the frozen layers stay bit-identical on the device.
pub fn requantize_head(base: &QuantModel, net: &FloatNet, calibration: &WindowSet) -> QuantModel {
    let r = calibrate(net, calibration);
    let mut q = base.clone();
    q.logits = ActQuant::from_range(r.logits.0, r.logits.1);
    q.head = head_layer(net, base.features.scale);
    q
}

fn head_layer(net: &FloatNet, s_in: f32) -> QuantLayer {
    let f = net.arch.features();
    let rows: Vec<Vec<f32>> = (0..net.arch.classes)
        .map(|o| net.head.weight[o * f..(o + 1) * f].to_vec())
        .collect();
    quantize_layer(&rows, &net.head.bias, s_in)
}

/// Per-row symmetric int8 weights and int32 biases at scale `s_in * s_w`.
fn quantize_layer(rows: &[Vec<f32>], bias: &[f32], s_in: f32) -> QuantLayer {
    let mut weight = Vec::new();
    let mut weight_scale = Vec::new();
    let mut qbias = Vec::new();
    for (row, &b) in rows.iter().zip(bias) {
        let max = row.iter().fold(0f32, |m, v| m.max(v.abs()));
        // An all-zero channel gets any positive scale; its weights stay 0.
        let s = if max > 0.0 { max / 127.0 } else { 1.0 };
        weight.extend(
            row.iter()
                .map(|v| (v / s).round().clamp(-127.0, 127.0) as i8),
        );
        weight_scale.push(s);
        let sb = f64::from(s_in) * f64::from(s);
        qbias.push(
            (f64::from(b) / sb)
                .round()
                .clamp(f64::from(i32::MIN), f64::from(i32::MAX)) as i32,
        );
    }
    QuantLayer {
        weight,
        weight_scale,
        bias: qbias,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relu_range_puts_zero_at_minus_128() {
        let q = ActQuant::from_range(0.0, 6.0);
        assert_eq!(q.zero_point, -128);
        assert!((q.scale - 6.0 / 255.0).abs() < 1e-9);
        assert_eq!(q.quantize(0.0), -128);
        assert_eq!(q.quantize(6.0), 127);
    }

    #[test]
    fn zero_is_exact_in_asymmetric_ranges() {
        for (a, b) in [(-1.3, 2.9), (-5.0, 0.2), (0.5, 3.0), (-2.0, -1.0)] {
            let q = ActQuant::from_range(a, b);
            assert_eq!(q.dequantize(q.quantize(0.0)), 0.0, "range {a}..{b}");
            // The widened range ends are representable to within half a step.
            let (lo, hi) = (a.min(0.0), b.max(0.0));
            assert!(
                (q.dequantize(q.quantize(lo)) - lo).abs() <= q.scale * 0.5 + 1e-6,
                "min of {a}..{b}"
            );
            assert!(
                (q.dequantize(q.quantize(hi)) - hi).abs() <= q.scale * 0.5 + 1e-6,
                "max of {a}..{b}"
            );
        }
    }

    #[test]
    fn layer_weights_are_symmetric_per_row() {
        let rows = vec![
            vec![0.5, -1.0, 0.25],
            vec![0.0, 0.0, 0.0],
            vec![2.0, 1.0, -0.5],
        ];
        let l = quantize_layer(&rows, &[0.1, 0.0, -0.2], 0.05);
        assert_eq!(&l.weight[0..3], &[64, -127, 32]);
        assert_eq!(&l.weight[3..6], &[0, 0, 0]);
        assert_eq!(&l.weight[6..9], &[127, 64, -32]);
        // bias 0.1 at scale 0.05 * (1/127) = 254
        assert_eq!(l.bias[0], 254);
        assert_eq!(
            l.bias[2],
            (-0.2f64 / (0.05f64 * (2.0f64 / 127.0))).round() as i32
        );
    }
}
