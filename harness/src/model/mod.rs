//! The band's int8 1D CNN as data, framework-free: architecture counts, the model card, input
//! normalization and the band's input conversion, the float network, int8 quantization,
//! `.tflite` export, scoring (float and int8 on harbor-core), model directories on disk (checked
//! against their cards at every load), imported models and users' own windows.
//! Everything here builds without feature `train`; fitting lives in `crate::train`.
//! See `docs/models.md`.

#![warn(missing_docs)]

pub mod arch;
pub mod card;
pub mod classes;
pub mod confusion;
pub mod eval;
pub mod export;
pub mod float_net;
pub mod float_reference;
mod host;
pub mod host_float;
pub mod import;
pub mod input;
pub mod int8;
pub mod integrity;
pub mod quantize;
pub mod recipe;
pub mod saved;
pub mod source;
pub mod tflm;
pub mod union;
pub mod user_windows;
pub mod windows;

pub use arch::{Arch, ArchError, Variant};
pub use card::{CardError, ModelCard};
pub use classes::ClassSet;
pub use confusion::{ClassScore, Confusion, argmax};
pub use float_net::FloatNet;
pub use float_reference::{FloatReference, FloatReferenceError};
pub use host::{HostModel, ModelError, Prediction};
pub use host_float::HostFloat;
pub use integrity::{CheckedModel, IntegrityError, load_checked};
pub use quantize::QuantModel;
pub use saved::{ModelDirError, Trained};
pub use windows::WindowSet;
