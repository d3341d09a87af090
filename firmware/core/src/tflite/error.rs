//! Errors from loading, preparing and running a `.tflite` model.

use core::fmt;

use super::flatbuffer::FlatBufferError;
use super::model::TensorType;

/// Everything that can go wrong between a byte slice and an int8 result.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Error {
    /// The bytes are not a well-formed FlatBuffer (truncated, bad offset, …).
    Malformed(FlatBufferError),
    /// Wrong file identifier or schema version (TFLite schema version 3 expected).
    NotTflite {
        /// What was found.
        reason: &'static str,
    },
    /// harbor runs single-subgraph models only.
    SubgraphCount(usize),
    /// More tensors or operators than the fixed-size interpreter tables hold.
    TooLarge {
        /// "tensors" or "operators".
        what: &'static str,
        /// How many the model has.
        count: usize,
        /// How many harbor supports.
        max: usize,
    },
    /// An operator harbor does not implement.
    UnsupportedOperator {
        /// Schema name, `None` for codes newer than the name table.
        name: Option<&'static str>,
        /// Builtin operator code.
        code: i32,
        /// Operator index in the subgraph.
        index: usize,
    },
    /// A custom (non-builtin) operator.
    CustomOperator {
        /// Operator index in the subgraph.
        index: usize,
    },
    /// The model is not a full-int8 model (e.g. float activations or weights).
    NotInt8 {
        /// Offending tensor index.
        tensor: usize,
        /// Its type.
        dtype: TensorType,
    },
    /// A float reference model has a tensor that is not float32 (nor an int32 constant).
    NotFloat32 {
        /// Offending tensor index.
        tensor: usize,
        /// Its type.
        dtype: TensorType,
    },
    /// A tensor is invalid (shape, buffer size, quantization parameters, …).
    BadTensor {
        /// Tensor index.
        tensor: usize,
        /// What is wrong.
        reason: &'static str,
    },
    /// An operator is invalid (wrong arity, shapes that do not fit, …).
    BadOperator {
        /// Operator index.
        index: usize,
        /// Operator name.
        op: &'static str,
        /// What is wrong.
        reason: &'static str,
    },
    /// The caller's arena cannot hold the planned tensors.
    ArenaTooSmall {
        /// Bytes the model needs.
        needed: usize,
        /// Bytes provided.
        available: usize,
    },
    /// Input/output index or data length does not match the model.
    BadIo {
        /// What is wrong.
        reason: &'static str,
    },
}

impl From<FlatBufferError> for Error {
    fn from(e: FlatBufferError) -> Self {
        Error::Malformed(e)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Malformed(e) => write!(
                f,
                "malformed .tflite flatbuffer at byte {}: {}",
                e.offset, e.reason
            ),
            Error::NotTflite { reason } => write!(f, "not a TFLite model: {reason}"),
            Error::SubgraphCount(n) => {
                write!(f, "model has {n} subgraphs; exactly one is supported")
            }
            Error::TooLarge { what, count, max } => {
                write!(f, "model has {count} {what}; at most {max} are supported")
            }
            Error::UnsupportedOperator { name, code, index } => match name {
                Some(name) => write!(
                    f,
                    "unsupported operator {name} (builtin {code}) at operator {index}"
                ),
                None => write!(
                    f,
                    "unsupported operator with unknown builtin code {code} at operator {index}"
                ),
            },
            Error::CustomOperator { index } => {
                write!(f, "unsupported custom operator at operator {index}")
            }
            Error::NotInt8 { tensor, dtype } => write!(
                f,
                "model is not int8: tensor {tensor} has type {}; harbor runs full-int8 models \
                 (int8 activations and weights, int32 bias)",
                dtype.name()
            ),
            Error::NotFloat32 { tensor, dtype } => write!(
                f,
                "model is not float32: tensor {tensor} has type {}; the float reference runs \
                 float32 models (float activations and weights)",
                dtype.name()
            ),
            Error::BadTensor { tensor, reason } => write!(f, "tensor {tensor}: {reason}"),
            Error::BadOperator { index, op, reason } => {
                write!(f, "operator {index} ({op}): {reason}")
            }
            Error::ArenaTooSmall { needed, available } => write!(
                f,
                "arena too small: model needs {needed} bytes, {available} provided"
            ),
            Error::BadIo { reason } => write!(f, "{reason}"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for Error {}
