//! Reading `.tflite` models in place (the band keeps them in a flash slot).
//!
//! A hand-written, bounds-checked FlatBuffer reader instead of `flatc`-generated code: the
//! generated code needs `unsafe` and pulls in the whole schema, while harbor reads a dozen
//! tables and must never panic on a corrupted OTA image (see docs/int8.md).

pub mod builtin;
mod error;
pub mod flatbuffer;
mod model;

pub use error::Error;
pub use model::{
    MAX_OPERATORS, MAX_RANK, MAX_TENSORS, Model, Operator, Quantization, Shape, Tensor, TensorType,
};
