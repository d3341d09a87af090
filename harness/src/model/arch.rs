//! The band's reference 1D CNN: variants, layer shapes, parameter and MAC counts.
//!
//! Pure description, no framework: the trainer, the quantizer, the exporter and the model
//! card all derive their shapes from [`Arch`], so the counts in a card are the model's.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Why a variant cannot be built for a window and class count.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ArchError {
    /// Fewer than two classes.
    #[error("a classifier needs at least 2 classes, got {0}")]
    TooFewClasses(usize),
    /// A convolution kernel is longer than what reaches its block.
    #[error(
        "window of {window} samples is too short for the {variant} variant: block {block} sees {samples} samples, kernel {kernel}"
    )]
    WindowTooShort {
        /// The window length in samples.
        window: usize,
        /// The variant asked for.
        variant: Variant,
        /// The block (1-based) whose kernel does not fit.
        block: usize,
        /// Samples that reach that block.
        samples: usize,
        /// The block's kernel length.
        kernel: usize,
    },
    /// Pooling leaves no samples.
    #[error("window of {window} samples pools down to nothing in block {block}")]
    PoolsToNothing {
        /// The window length in samples.
        window: usize,
        /// The block (1-based) that pools to nothing.
        block: usize,
    },
}

/// The named model sizes a user can pick.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Variant {
    /// Two conv blocks (8 and 16 channels).
    Tiny,
    /// Three conv blocks (16, 24, 32 channels): the committed band model.
    Small,
    /// Three conv blocks (20, 28, 40 channels): the most that fits a 15 KB `.tflite`.
    Medium,
    /// Three conv blocks (32, 48, 64 channels): the largest.
    Base,
}

impl Variant {
    /// Every variant, smallest first.
    pub const ALL: [Variant; 4] = [
        Variant::Tiny,
        Variant::Small,
        Variant::Medium,
        Variant::Base,
    ];

    /// The name used on the command line and in cards.
    pub fn name(self) -> &'static str {
        match self {
            Variant::Tiny => "tiny",
            Variant::Small => "small",
            Variant::Medium => "medium",
            Variant::Base => "base",
        }
    }

    /// Conv blocks (output channels, kernel, max-pool after it).
    fn blocks(self) -> Vec<ConvBlock> {
        let b = |channels, kernel, pool| ConvBlock {
            channels,
            kernel,
            pool,
        };
        match self {
            Variant::Tiny => vec![b(8, 5, Some(2)), b(16, 5, None)],
            Variant::Small => vec![b(16, 5, Some(2)), b(24, 5, Some(2)), b(32, 3, None)],
            Variant::Medium => vec![b(20, 5, Some(2)), b(28, 5, Some(2)), b(40, 3, None)],
            Variant::Base => vec![b(32, 5, Some(2)), b(48, 5, Some(2)), b(64, 3, None)],
        }
    }
}

impl fmt::Display for Variant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Variant {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Variant::ALL
            .into_iter()
            .find(|v| v.name() == s.trim().to_ascii_lowercase())
            .ok_or_else(|| {
                format!("unknown model variant `{s}` (expected tiny, small, medium or base)")
            })
    }
}

/// Conv1D (valid padding, stride 1) + ReLU, optionally followed by max-pooling.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConvBlock {
    /// Output channels of the convolution.
    pub channels: usize,
    /// Kernel length in samples.
    pub kernel: usize,
    /// Pool size and stride (non-overlapping windows, remainder dropped as in TF's VALID).
    pub pool: Option<usize>,
}

/// A concrete network: input window shape, conv blocks, global average pooling, dense head.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Arch {
    /// Which named size this is.
    pub variant: Variant,
    /// Samples per window (T).
    pub window: usize,
    /// Input channels (accel xyz + gyro xyz = 6).
    pub channels: usize,
    /// The conv blocks, input first.
    pub blocks: Vec<ConvBlock>,
    /// Output classes.
    pub classes: usize,
}

/// Shape bookkeeping of one conv block, derived from its input length.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockShape {
    /// Samples entering the block.
    pub in_len: usize,
    /// Channels entering the block.
    pub in_channels: usize,
    /// Samples after the (valid) convolution.
    pub conv_len: usize,
    /// Samples leaving the block (after pooling).
    pub out_len: usize,
    /// Channels leaving the block.
    pub out_channels: usize,
}

impl Arch {
    /// The architecture of `variant` for windows of `window` × `channels` and `classes` outputs; an error when the window is too short for its blocks.
    pub fn new(
        variant: Variant,
        window: usize,
        channels: usize,
        classes: usize,
    ) -> Result<Self, ArchError> {
        let arch = Arch {
            variant,
            window,
            channels,
            blocks: variant.blocks(),
            classes,
        };
        arch.check()?;
        Ok(arch)
    }

    fn check(&self) -> Result<(), ArchError> {
        if self.classes < 2 {
            return Err(ArchError::TooFewClasses(self.classes));
        }
        let mut len = self.window;
        for (i, b) in self.blocks.iter().enumerate() {
            if len < b.kernel {
                return Err(ArchError::WindowTooShort {
                    window: self.window,
                    variant: self.variant,
                    block: i + 1,
                    samples: len,
                    kernel: b.kernel,
                });
            }
            len = len - b.kernel + 1;
            if let Some(p) = b.pool {
                len /= p;
            }
            if len == 0 {
                return Err(ArchError::PoolsToNothing {
                    window: self.window,
                    block: i + 1,
                });
            }
        }
        Ok(())
    }

    /// Input and output shapes of every conv block.
    pub fn block_shapes(&self) -> Vec<BlockShape> {
        let mut len = self.window;
        let mut ch = self.channels;
        self.blocks
            .iter()
            .map(|b| {
                let conv_len = len + 1 - b.kernel;
                let out_len = b.pool.map_or(conv_len, |p| conv_len / p);
                let shape = BlockShape {
                    in_len: len,
                    in_channels: ch,
                    conv_len,
                    out_len,
                    out_channels: b.channels,
                };
                len = out_len;
                ch = b.channels;
                shape
            })
            .collect()
    }

    /// Channels entering the dense head (after global average pooling).
    pub fn features(&self) -> usize {
        self.blocks.last().map_or(self.channels, |b| b.channels)
    }

    /// Weights and biases of every layer.
    pub fn params(&self) -> usize {
        let conv: usize = self
            .block_shapes()
            .iter()
            .zip(&self.blocks)
            .map(|(s, b)| s.in_channels * b.channels * b.kernel + b.channels)
            .sum();
        conv + self.features() * self.classes + self.classes
    }

    /// Multiply-accumulates per window (convolutions and the dense head).
    pub fn macs(&self) -> usize {
        let conv: usize = self
            .block_shapes()
            .iter()
            .zip(&self.blocks)
            .map(|(s, b)| s.conv_len * b.channels * s.in_channels * b.kernel)
            .sum();
        conv + self.features() * self.classes
    }

    /// Bytes of constant data once quantized: int8 weights, int32 biases.
    pub fn int8_weight_bytes(&self) -> usize {
        let biases: usize = self.blocks.iter().map(|b| b.channels).sum::<usize>() + self.classes;
        (self.params() - biases) + 4 * biases
    }

    /// One line per layer, for cards and `harbor models list`.
    pub fn describe(&self) -> Vec<String> {
        let mut lines = vec![format!(
            "input {}x{} (time x channels)",
            self.window, self.channels
        )];
        for (s, b) in self.block_shapes().iter().zip(&self.blocks) {
            lines.push(format!(
                "conv1d {}->{} k{} valid + relu -> {}x{}",
                s.in_channels, b.channels, b.kernel, s.conv_len, b.channels
            ));
            if let Some(p) = b.pool {
                lines.push(format!("maxpool {p} -> {}x{}", s.out_len, b.channels));
            }
        }
        lines.push(format!("global average pool -> {}", self.features()));
        lines.push(format!(
            "dense {}->{} + softmax",
            self.features(),
            self.classes
        ));
        lines
    }
}
