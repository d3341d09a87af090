//! int8 kernels, bit-exact with TFLite Micro's reference kernels: the optimized ones used by
//! the interpreter, and [`reference`], TFLM's loops transcribed literally, as their oracle.
//!
//! Kernels take plain slices plus parameters computed once at prepare time; they contain no
//! float arithmetic and no division inside accumulation loops. Layout is NHWC as in TFLite.

pub mod add;
mod blocked;
pub mod conv;
pub mod depthwise_conv;
pub mod dot;
pub mod fully_connected;
pub mod mean;
pub mod params;
pub mod pooling;
pub mod reference;
pub mod requant;
pub mod softmax;

pub use params::{ActivationRange, Bias, ChannelQuant, Padding, Shape4};
