//! The reference 1D CNN in burn, and conversion of its weights to [`FloatNet`].

use burn::nn::conv::{Conv1d, Conv1dConfig};
use burn::nn::pool::{MaxPool1d, MaxPool1dConfig};
use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation::relu;

use crate::model::Arch;
use crate::model::float_net::{ConvParams, DenseParams, FloatNet};

/// One conv block: convolution, ReLU, optional max-pool.
#[derive(Module, Debug)]
pub struct Block {
    /// The valid 1D convolution.
    pub conv: Conv1d,
    /// Max-pool after the ReLU, if the block has one.
    pub pool: Option<MaxPool1d>,
}

/// The band's CNN as a burn module (for training).
#[derive(Module, Debug)]
pub struct Cnn {
    /// Conv blocks, input first.
    pub blocks: Vec<Block>,
    /// Dropout on the pooled features while training (probability 0 unless set).
    pub dropout: Dropout,
    /// Dense head on the globally averaged features.
    pub head: Linear,
}

impl Cnn {
    /// A freshly initialized network of `arch` on `device`.
    pub fn new(arch: &Arch, device: &Device) -> Self {
        let blocks = arch
            .block_shapes()
            .iter()
            .zip(&arch.blocks)
            .map(|(s, b)| Block {
                conv: Conv1dConfig::new(s.in_channels, b.channels, b.kernel).init(device),
                pool: b.pool.map(|p| MaxPool1dConfig::new(p).init()),
            })
            .collect();
        Cnn {
            blocks,
            dropout: DropoutConfig::new(0.0).init(),
            head: LinearConfig::new(arch.features(), arch.classes).init(device),
        }
    }

    /// Pooled features `[batch, channels]` before the dense head; input `[batch, channels, time]`.
    pub fn features(&self, x: Tensor<3>) -> Tensor<2> {
        let mut x = x;
        for b in &self.blocks {
            x = relu(b.conv.forward(x));
            if let Some(p) = &b.pool {
                x = p.forward(x);
            }
        }
        x.mean_dim(2).squeeze_dim(2)
    }

    /// Logits `[batch, classes]`.
    pub fn forward(&self, x: Tensor<3>) -> Tensor<2> {
        self.head.forward(self.dropout.forward(self.features(x)))
    }

    /// The same network with dropout probability `prob` before the head.
    pub fn with_dropout(mut self, prob: f64) -> Self {
        self.dropout = DropoutConfig::new(prob).init();
        self
    }

    /// The weights as plain arrays, in [`FloatNet`]'s layout.
    pub fn to_float_net(&self, arch: &Arch) -> FloatNet {
        let values = |t: Tensor<1>| t.into_data().try_to_vec::<f32>().unwrap_or_default();
        let convs = self
            .blocks
            .iter()
            .map(|b| ConvParams {
                weight: values(b.conv.weight.val().flatten(0, 2)),
                bias: b
                    .conv
                    .bias
                    .as_ref()
                    .map(|p| values(p.val()))
                    .unwrap_or_else(|| vec![0.0; b.conv.weight.dims()[0]]),
            })
            .collect();
        let w = self.head.weight.val();
        // burn's default Linear layout is [in, out]; FloatNet wants [out][in].
        let w = if w.dims() == [arch.features(), arch.classes] {
            w.transpose()
        } else {
            w
        };
        let head = DenseParams {
            weight: values(w.flatten(0, 1)),
            bias: self
                .head
                .bias
                .as_ref()
                .map(|p| values(p.val()))
                .unwrap_or_else(|| vec![0.0; arch.classes]),
        };
        FloatNet {
            arch: arch.clone(),
            convs,
            head,
        }
    }
}

/// A batch of time-major windows as burn's `[batch, channels, time]` input.
pub fn batch_tensor(
    x: &[f32],
    batch: usize,
    window: usize,
    channels: usize,
    device: &Device,
) -> Tensor<3> {
    Tensor::<3>::from_data(
        TensorData::new(x.to_vec(), [batch, window, channels]),
        device,
    )
    .swap_dims(1, 2)
}

/// Class indices as burn's integer target tensor.
pub fn target_tensor(y: &[usize], device: &Device) -> Tensor<1, Int> {
    Tensor::<1, Int>::from_data(
        TensorData::new(y.iter().map(|&v| v as i64).collect::<Vec<_>>(), [y.len()]),
        device,
    )
}
