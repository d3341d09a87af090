//! The band's int8 1D CNN: architecture, training (burn, CPU), personalization, int8
//! post-training quantization, `.tflite` export and model cards. See `docs/models.md`.
//!
//! Framework-free parts (architecture, metrics, quantization, export, cards) build without
//! the `train` feature, so `harbor eval` works in slim builds; training needs it.

pub mod arch;
pub mod card;
pub mod data;
pub mod export;
pub mod float_net;
pub mod int8;
pub mod metrics;
pub mod normalize;
pub mod quantize;
pub mod source;

#[cfg(feature = "train")]
pub mod fit;
#[cfg(feature = "train")]
pub mod model;
#[cfg(feature = "train")]
pub mod personalize;
#[cfg(feature = "train")]
pub mod pipeline;

pub use arch::{Arch, Variant};
pub use data::{ClassSet, WindowSet};
pub use float_net::FloatNet;
pub use quantize::QuantModel;
