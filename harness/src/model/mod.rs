//! Host-side use of harbor-core's int8 interpreter: the very code the band runs, wrapped with
//! file loading, errors that name the model file, and float ↔ int8 conversion.

mod host;

pub use host::{HostModel, ModelError, Prediction};
