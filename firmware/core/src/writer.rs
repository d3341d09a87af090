//! Writes standard `.tflite` flatbuffers (TFLite schema, file identifier `TFL3`).
//!
//! Host-only (`std` feature): harbor's trainer exports its int8 models through it, so the
//! model format lives in this one crate next to the reader. The caller describes tensors,
//! constant buffers and operators; this module only encodes them. Field slot numbers are the
//! schema's field ids (`schema.fbs`, checked against TFLite Micro's generated Python schema).

use std::string::String;
use std::vec::Vec;

use flatbuffers::{FlatBufferBuilder, UOffsetT, WIPOffset};

/// TFLite `TensorType` values the writer supports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TensorType {
    /// 32-bit float.
    Float32 = 0,
    /// 32-bit integer (biases).
    Int32 = 2,
    /// 8-bit signed integer (quantized weights and activations).
    Int8 = 9,
}

/// TFLite `BuiltinOperator` codes the writer emits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BuiltinOp {
    /// Element-wise addition with broadcasting.
    Add = 0,
    /// 2-D average pooling.
    AveragePool2d = 1,
    /// 2-D convolution.
    Conv2d = 3,
    /// Depthwise 2-D convolution.
    DepthwiseConv2d = 4,
    /// Dense layer.
    FullyConnected = 9,
    /// 2-D max pooling.
    MaxPool2d = 17,
    /// Shape change without data change.
    Reshape = 22,
    /// Softmax over the last dimension.
    Softmax = 25,
    /// Mean over given axes (global average pooling).
    Mean = 40,
}

/// TFLite `Padding`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Padding {
    /// Output keeps the input's spatial size (zero padding).
    Same = 0,
    /// No padding: the output shrinks.
    Valid = 1,
}

/// TFLite `ActivationFunctionType` (the fused activations harbor uses).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activation {
    /// No fused activation.
    None = 0,
    /// Fused ReLU.
    Relu = 1,
    /// Fused clamp to [-1, 1].
    ReluN1To1 = 2,
    /// Fused clamp to [0, 6].
    Relu6 = 3,
}

/// Quantization of one tensor: one scale/zero point per tensor, or per channel along
/// `quantized_dimension`.
#[derive(Clone, Debug, PartialEq)]
pub struct Quantization {
    /// Scales: one, or one per channel.
    pub scale: Vec<f32>,
    /// Zero points, as many as scales.
    pub zero_point: Vec<i64>,
    /// Axis the per-channel values run along.
    pub quantized_dimension: i32,
}

/// One tensor: name, shape, type, data buffer and quantization.
#[derive(Clone, Debug, PartialEq)]
pub struct TensorDef {
    /// Tensor name as shown by model viewers.
    pub name: String,
    /// Dimensions, outermost first.
    pub shape: Vec<i32>,
    /// Element type.
    pub dtype: TensorType,
    /// Index into [`ModelDef::buffers`]; buffer 0 is the schema's empty sentinel.
    pub buffer: u32,
    /// Quantization parameters, `None` for float tensors.
    pub quantization: Option<Quantization>,
}

/// Builtin options of one operator (the union member matching its op code).
#[derive(Clone, Debug, PartialEq)]
pub enum Options {
    /// The operator takes no builtin options.
    None,
    /// Conv2D options.
    Conv2d {
        /// Padding mode.
        padding: Padding,
        /// Horizontal stride.
        stride_w: i32,
        /// Vertical stride.
        stride_h: i32,
        /// Horizontal dilation.
        dilation_w: i32,
        /// Vertical dilation.
        dilation_h: i32,
        /// Fused activation.
        activation: Activation,
    },
    /// Depthwise convolution options.
    DepthwiseConv2d {
        /// Padding mode.
        padding: Padding,
        /// Horizontal stride.
        stride_w: i32,
        /// Vertical stride.
        stride_h: i32,
        /// Output channels per input channel.
        depth_multiplier: i32,
        /// Horizontal dilation.
        dilation_w: i32,
        /// Vertical dilation.
        dilation_h: i32,
        /// Fused activation.
        activation: Activation,
    },
    /// Add options.
    Add {
        /// Fused activation.
        activation: Activation,
    },
    /// Pooling options.
    Pool2d {
        /// Padding mode.
        padding: Padding,
        /// Horizontal stride.
        stride_w: i32,
        /// Vertical stride.
        stride_h: i32,
        /// Pool width.
        filter_w: i32,
        /// Pool height.
        filter_h: i32,
        /// Fused activation.
        activation: Activation,
    },
    /// Fully-connected options.
    FullyConnected {
        /// Fused activation.
        activation: Activation,
        /// Keep the input's leading dimensions instead of flattening them.
        keep_num_dims: bool,
    },
    /// Softmax options.
    Softmax {
        /// Temperature factor on the logits.
        beta: f32,
    },
    /// Reshape options.
    Reshape {
        /// Target shape.
        new_shape: Vec<i32>,
    },
    /// Reduction (Mean) options.
    Reducer {
        /// Keep reduced axes as size-1 dimensions.
        keep_dims: bool,
    },
}

/// One operator: its builtin code, tensor indices and options.
#[derive(Clone, Debug, PartialEq)]
pub struct OperatorDef {
    /// Builtin operator code.
    pub op: BuiltinOp,
    /// Tensor indices; -1 marks an omitted optional input.
    pub inputs: Vec<i32>,
    /// Output tensor indices.
    pub outputs: Vec<i32>,
    /// Options matching `op`.
    pub options: Options,
}

/// One subgraph model: everything a `.tflite` file needs.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelDef {
    /// Free text stored in the model's description field.
    pub description: String,
    /// All tensors; operators refer to them by index.
    pub tensors: Vec<TensorDef>,
    /// Constant data; index 0 must be empty (the schema reserves it).
    pub buffers: Vec<Vec<u8>>,
    /// Operators in execution order.
    pub operators: Vec<OperatorDef>,
    /// Model input tensor indices.
    pub inputs: Vec<i32>,
    /// Model output tensor indices.
    pub outputs: Vec<i32>,
}

/// Why a [`ModelDef`] cannot be written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WriteError {
    /// Buffer 0 carries data; readers treat it as "no data".
    SentinelBufferNotEmpty,
    /// An operator refers to a tensor that does not exist.
    TensorIndexOutOfRange {
        /// Operator index.
        operator: usize,
        /// The bad tensor index.
        index: i32,
    },
    /// A tensor refers to a buffer that does not exist.
    BufferIndexOutOfRange {
        /// Tensor index.
        tensor: usize,
        /// The bad buffer index.
        buffer: u32,
    },
    /// Per-channel scales and zero points differ in length.
    QuantizationLengthMismatch {
        /// Tensor index.
        tensor: usize,
    },
}

impl core::fmt::Display for WriteError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            WriteError::SentinelBufferNotEmpty => {
                f.write_str("buffer 0 must be empty (schema sentinel)")
            }
            WriteError::TensorIndexOutOfRange { operator, index } => {
                write!(
                    f,
                    "operator {operator} refers to tensor {index}, which does not exist"
                )
            }
            WriteError::BufferIndexOutOfRange { tensor, buffer } => {
                write!(
                    f,
                    "tensor {tensor} refers to buffer {buffer}, which does not exist"
                )
            }
            WriteError::QuantizationLengthMismatch { tensor } => {
                write!(
                    f,
                    "tensor {tensor}: scale and zero_point have different lengths"
                )
            }
        }
    }
}

impl std::error::Error for WriteError {}

/// The schema version TFLite writes and readers check.
const SCHEMA_VERSION: u32 = 3;
/// Constant data is aligned to 8 bytes in the file so int32 biases can be read in place.
const BUFFER_ALIGN: usize = 8;

const fn slot(field_id: u16) -> u16 {
    4 + 2 * field_id
}

/// Encodes `model` as a `.tflite` flatbuffer.
pub fn write_tflite(model: &ModelDef) -> Result<Vec<u8>, WriteError> {
    validate(model)?;
    let mut fbb = FlatBufferBuilder::with_capacity(4096);

    let mut opcodes: Vec<BuiltinOp> = Vec::new();
    for op in &model.operators {
        if !opcodes.contains(&op.op) {
            opcodes.push(op.op);
        }
    }

    let buffers: Vec<_> = model
        .buffers
        .iter()
        .map(|data| write_buffer(&mut fbb, data))
        .collect();
    let buffers = fbb.create_vector(&buffers);
    let tensors: Vec<_> = model
        .tensors
        .iter()
        .map(|t| write_tensor(&mut fbb, t))
        .collect();
    let tensors = fbb.create_vector(&tensors);
    let operators: Vec<_> = model
        .operators
        .iter()
        .map(|op| {
            let index = opcodes.iter().position(|c| *c == op.op).unwrap_or(0) as u32;
            write_operator(&mut fbb, op, index)
        })
        .collect();
    let operators = fbb.create_vector(&operators);
    let inputs = fbb.create_vector(&model.inputs);
    let outputs = fbb.create_vector(&model.outputs);
    let name = fbb.create_string("main");
    let subgraph = {
        let start = fbb.start_table();
        fbb.push_slot_always(slot(0), tensors);
        fbb.push_slot_always(slot(1), inputs);
        fbb.push_slot_always(slot(2), outputs);
        fbb.push_slot_always(slot(3), operators);
        fbb.push_slot_always(slot(4), name);
        fbb.end_table(start)
    };
    let subgraphs = fbb.create_vector(&[subgraph]);
    let codes: Vec<_> = opcodes.iter().map(|c| write_opcode(&mut fbb, *c)).collect();
    let codes = fbb.create_vector(&codes);
    let description = fbb.create_string(&model.description);

    let start = fbb.start_table();
    fbb.push_slot_always(slot(0), SCHEMA_VERSION);
    fbb.push_slot_always(slot(1), codes);
    fbb.push_slot_always(slot(2), subgraphs);
    fbb.push_slot_always(slot(3), description);
    fbb.push_slot_always(slot(4), buffers);
    let root = fbb.end_table(start);
    fbb.finish(root, Some("TFL3"));
    Ok(fbb.finished_data().to_vec())
}

fn validate(model: &ModelDef) -> Result<(), WriteError> {
    if model.buffers.first().is_some_and(|b| !b.is_empty()) {
        return Err(WriteError::SentinelBufferNotEmpty);
    }
    let n_tensors = model.tensors.len() as i32;
    for (i, op) in model.operators.iter().enumerate() {
        for &index in op.inputs.iter().chain(&op.outputs) {
            if index >= n_tensors || index < -1 {
                return Err(WriteError::TensorIndexOutOfRange { operator: i, index });
            }
        }
    }
    for (i, t) in model.tensors.iter().enumerate() {
        if t.buffer as usize >= model.buffers.len().max(1) {
            return Err(WriteError::BufferIndexOutOfRange {
                tensor: i,
                buffer: t.buffer,
            });
        }
        if let Some(q) = &t.quantization
            && q.scale.len() != q.zero_point.len()
        {
            return Err(WriteError::QuantizationLengthMismatch { tensor: i });
        }
    }
    Ok(())
}

type Table = WIPOffset<flatbuffers::TableFinishedWIPOffset>;

fn write_buffer(fbb: &mut FlatBufferBuilder, data: &[u8]) -> Table {
    let bytes = (!data.is_empty()).then(|| aligned_bytes(fbb, data));
    let start = fbb.start_table();
    if let Some(bytes) = bytes {
        fbb.push_slot_always(slot(0), bytes);
    }
    fbb.end_table(start)
}

/// A `[ubyte]` vector whose first byte is [`BUFFER_ALIGN`]-aligned in the finished file.
///
/// The builder aligns a vector by its element size, so the bytes are pushed as u64 words
/// (8-aligned; the length prefix still counts bytes, the tail padding is unused).
fn aligned_bytes(fbb: &mut FlatBufferBuilder, data: &[u8]) -> WIPOffset<UOffsetT> {
    let words = data.len().div_ceil(BUFFER_ALIGN);
    fbb.start_vector::<u64>(words);
    for chunk in data.chunks(BUFFER_ALIGN).rev() {
        let mut word = [0u8; BUFFER_ALIGN];
        word[..chunk.len()].copy_from_slice(chunk);
        fbb.push(u64::from_le_bytes(word));
    }
    let vector = fbb.end_vector::<u8>(data.len());
    WIPOffset::new(vector.value())
}

fn write_tensor(fbb: &mut FlatBufferBuilder, t: &TensorDef) -> Table {
    let shape = fbb.create_vector(&t.shape);
    let name = fbb.create_string(&t.name);
    let quantization = t.quantization.as_ref().map(|q| {
        let scale = fbb.create_vector(&q.scale);
        let zero_point = fbb.create_vector(&q.zero_point);
        let start = fbb.start_table();
        fbb.push_slot_always(slot(2), scale);
        fbb.push_slot_always(slot(3), zero_point);
        fbb.push_slot(slot(6), q.quantized_dimension, 0);
        fbb.end_table(start)
    });
    let start = fbb.start_table();
    fbb.push_slot_always(slot(0), shape);
    fbb.push_slot(slot(1), t.dtype as i8, 0);
    fbb.push_slot(slot(2), t.buffer, 0);
    fbb.push_slot_always(slot(3), name);
    if let Some(q) = quantization {
        fbb.push_slot_always(slot(4), q);
    }
    fbb.end_table(start)
}

fn write_opcode(fbb: &mut FlatBufferBuilder, op: BuiltinOp) -> Table {
    let code = op as i32;
    let start = fbb.start_table();
    // Codes below 127 also go into the deprecated byte field, as TensorFlow writes them.
    fbb.push_slot(slot(0), code.min(127) as i8, 0);
    fbb.push_slot(slot(2), 1i32, 1);
    fbb.push_slot(slot(3), code, 0);
    fbb.end_table(start)
}

fn write_operator(fbb: &mut FlatBufferBuilder, op: &OperatorDef, opcode_index: u32) -> Table {
    let inputs = fbb.create_vector(&op.inputs);
    let outputs = fbb.create_vector(&op.outputs);
    let options = write_options(fbb, &op.options);
    let start = fbb.start_table();
    fbb.push_slot(slot(0), opcode_index, 0);
    fbb.push_slot_always(slot(1), inputs);
    fbb.push_slot_always(slot(2), outputs);
    if let Some((kind, table)) = options {
        fbb.push_slot(slot(3), kind, 0u8);
        fbb.push_slot_always(slot(4), table);
    }
    fbb.end_table(start)
}

/// Returns the `BuiltinOptions` union tag and table.
fn write_options(fbb: &mut FlatBufferBuilder, options: &Options) -> Option<(u8, Table)> {
    let (kind, table) = match options {
        Options::None => return None,
        Options::Conv2d {
            padding,
            stride_w,
            stride_h,
            dilation_w,
            dilation_h,
            activation,
        } => {
            let start = fbb.start_table();
            fbb.push_slot_always(slot(0), *padding as i8);
            fbb.push_slot_always(slot(1), *stride_w);
            fbb.push_slot_always(slot(2), *stride_h);
            fbb.push_slot_always(slot(3), *activation as i8);
            fbb.push_slot_always(slot(4), *dilation_w);
            fbb.push_slot_always(slot(5), *dilation_h);
            (1, fbb.end_table(start))
        }
        Options::DepthwiseConv2d {
            padding,
            stride_w,
            stride_h,
            depth_multiplier,
            dilation_w,
            dilation_h,
            activation,
        } => {
            let start = fbb.start_table();
            fbb.push_slot_always(slot(0), *padding as i8);
            fbb.push_slot_always(slot(1), *stride_w);
            fbb.push_slot_always(slot(2), *stride_h);
            fbb.push_slot_always(slot(3), *depth_multiplier);
            fbb.push_slot_always(slot(4), *activation as i8);
            fbb.push_slot_always(slot(5), *dilation_w);
            fbb.push_slot_always(slot(6), *dilation_h);
            (2, fbb.end_table(start))
        }
        Options::Add { activation } => {
            let start = fbb.start_table();
            fbb.push_slot_always(slot(0), *activation as i8);
            (11, fbb.end_table(start))
        }
        Options::Pool2d {
            padding,
            stride_w,
            stride_h,
            filter_w,
            filter_h,
            activation,
        } => {
            let start = fbb.start_table();
            fbb.push_slot_always(slot(0), *padding as i8);
            fbb.push_slot_always(slot(1), *stride_w);
            fbb.push_slot_always(slot(2), *stride_h);
            fbb.push_slot_always(slot(3), *filter_w);
            fbb.push_slot_always(slot(4), *filter_h);
            fbb.push_slot_always(slot(5), *activation as i8);
            (5, fbb.end_table(start))
        }
        Options::FullyConnected {
            activation,
            keep_num_dims,
        } => {
            let start = fbb.start_table();
            fbb.push_slot_always(slot(0), *activation as i8);
            fbb.push_slot(slot(2), *keep_num_dims, false);
            (8, fbb.end_table(start))
        }
        Options::Softmax { beta } => {
            let start = fbb.start_table();
            fbb.push_slot_always(slot(0), *beta);
            (9, fbb.end_table(start))
        }
        Options::Reshape { new_shape } => {
            let shape = fbb.create_vector(new_shape);
            let start = fbb.start_table();
            fbb.push_slot_always(slot(0), shape);
            (17, fbb.end_table(start))
        }
        Options::Reducer { keep_dims } => {
            let start = fbb.start_table();
            fbb.push_slot_always(slot(0), *keep_dims);
            (27, fbb.end_table(start))
        }
    };
    Some((kind, table))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec;

    fn tiny_model() -> ModelDef {
        ModelDef {
            description: "test".into(),
            tensors: vec![
                TensorDef {
                    name: "in".into(),
                    shape: vec![1, 4],
                    dtype: TensorType::Float32,
                    buffer: 0,
                    quantization: None,
                },
                TensorDef {
                    name: "out".into(),
                    shape: vec![1, 4],
                    dtype: TensorType::Float32,
                    buffer: 0,
                    quantization: None,
                },
            ],
            buffers: vec![vec![]],
            operators: vec![OperatorDef {
                op: BuiltinOp::Softmax,
                inputs: vec![0],
                outputs: vec![1],
                options: Options::Softmax { beta: 1.0 },
            }],
            inputs: vec![0],
            outputs: vec![1],
        }
    }

    #[test]
    fn file_identifier_is_tfl3() {
        let bytes = write_tflite(&tiny_model()).expect("valid model");
        assert_eq!(&bytes[4..8], b"TFL3");
    }

    #[test]
    fn constant_data_is_aligned_and_intact() {
        let mut model = tiny_model();
        let data: Vec<u8> = (1..=13).collect();
        model.buffers.push(data.clone());
        model.tensors[0].buffer = 1;
        let bytes = write_tflite(&model).expect("valid model");
        let at = bytes
            .windows(data.len())
            .position(|w| w == data.as_slice())
            .expect("data present");
        assert_eq!(at % BUFFER_ALIGN, 0);
        let len = u32::from_le_bytes([bytes[at - 4], bytes[at - 3], bytes[at - 2], bytes[at - 1]]);
        assert_eq!(len as usize, data.len());
    }

    #[test]
    fn rejects_dangling_tensor_index() {
        let mut model = tiny_model();
        model.operators[0].outputs = vec![7];
        assert_eq!(
            write_tflite(&model),
            Err(WriteError::TensorIndexOutOfRange {
                operator: 0,
                index: 7
            })
        );
    }

    #[test]
    fn rejects_data_in_sentinel_buffer() {
        let mut model = tiny_model();
        model.buffers[0] = vec![1];
        assert_eq!(
            write_tflite(&model),
            Err(WriteError::SentinelBufferNotEmpty)
        );
    }
}
