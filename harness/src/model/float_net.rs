//! The trained network's float parameters as plain arrays, and a plain float forward pass.
//!
//! Quantization calibration and export need every intermediate activation of the float
//! model; this forward pass gives them without the training framework (so `harbor eval`
//! works in builds without the `train` feature). A test checks it against burn's forward.

use serde::{Deserialize, Serialize};

use super::arch::Arch;

/// One Conv1D layer: `weight[(o * in + i) * kernel + k]` (burn/PyTorch layout), `bias[o]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConvParams {
    /// Weights, flattened as the type's doc says.
    pub weight: Vec<f32>,
    /// One bias per output channel.
    pub bias: Vec<f32>,
}

/// The dense head: `weight[o * in + i]`, `bias[o]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DenseParams {
    /// Weights, flattened as the type's doc says.
    pub weight: Vec<f32>,
    /// One bias per class.
    pub bias: Vec<f32>,
}

/// The trained float network in plain Rust: weights plus a forward pass.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FloatNet {
    /// Shapes of every layer.
    pub arch: Arch,
    /// One convolution per block.
    pub convs: Vec<ConvParams>,
    /// The dense classification head.
    pub head: DenseParams,
}

/// Every activation of one forward pass, time-major `[len][channels]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Trace {
    /// Per block: the conv+ReLU output, then the pooled output (same as conv if no pool).
    pub conv: Vec<Vec<f32>>,
    /// Each block's output after pooling.
    pub pooled: Vec<Vec<f32>>,
    /// Globally averaged features entering the head.
    pub features: Vec<f32>,
    /// Head outputs before softmax.
    pub logits: Vec<f32>,
}

impl FloatNet {
    /// Runs one normalized time-major window through the network.
    pub fn trace(&self, window: &[f32]) -> Trace {
        let shapes = self.arch.block_shapes();
        let mut x = window.to_vec();
        let mut conv_out = Vec::new();
        let mut pooled_out = Vec::new();
        for ((shape, block), params) in shapes.iter().zip(&self.arch.blocks).zip(&self.convs) {
            let y = conv1d_relu(
                &x,
                shape.in_len,
                shape.in_channels,
                params,
                block.channels,
                block.kernel,
            );
            let p = match block.pool {
                Some(p) => max_pool(&y, shape.conv_len, block.channels, p),
                None => y.clone(),
            };
            conv_out.push(y);
            x = p.clone();
            pooled_out.push(p);
        }
        let ch = self.arch.features();
        let len = x.len() / ch;
        let features: Vec<f32> = (0..ch)
            .map(|c| (0..len).map(|t| x[t * ch + c]).sum::<f32>() / len as f32)
            .collect();
        let logits = (0..self.arch.classes)
            .map(|o| {
                self.head.bias[o]
                    + (0..ch)
                        .map(|i| self.head.weight[o * ch + i] * features[i])
                        .sum::<f32>()
            })
            .collect();
        Trace {
            conv: conv_out,
            pooled: pooled_out,
            features,
            logits,
        }
    }

    /// Logits of one normalized window.
    pub fn logits(&self, window: &[f32]) -> Vec<f32> {
        self.trace(window).logits
    }
}

fn conv1d_relu(
    x: &[f32],
    len: usize,
    cin: usize,
    p: &ConvParams,
    cout: usize,
    k: usize,
) -> Vec<f32> {
    let out_len = len + 1 - k;
    let mut y = vec![0f32; out_len * cout];
    for t in 0..out_len {
        for o in 0..cout {
            let mut acc = p.bias[o];
            for kk in 0..k {
                let row = &x[(t + kk) * cin..(t + kk + 1) * cin];
                for (i, &v) in row.iter().enumerate() {
                    acc += p.weight[(o * cin + i) * k + kk] * v;
                }
            }
            y[t * cout + o] = acc.max(0.0);
        }
    }
    y
}

fn max_pool(x: &[f32], len: usize, ch: usize, p: usize) -> Vec<f32> {
    let out_len = len / p;
    let mut y = vec![f32::NEG_INFINITY; out_len * ch];
    for t in 0..out_len * p {
        for c in 0..ch {
            let slot = &mut y[(t / p) * ch + c];
            *slot = slot.max(x[t * ch + c]);
        }
    }
    y
}
