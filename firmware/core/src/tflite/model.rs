//! Typed, validated, zero-copy views of a `.tflite` model (TFLite schema v3).
//!
//! Field slots follow `schema.fbs`; only the tables harbor executes are read.

use super::Error;
use super::builtin::{self, code};
use super::flatbuffer::{Table, Tables, Vector};

/// Highest tensor rank harbor handles.
pub const MAX_RANK: usize = 6;
/// Most tensors in a model (fixed-size planner tables; no heap).
pub const MAX_TENSORS: usize = 96;
/// Most operators in a model.
pub const MAX_OPERATORS: usize = 32;
/// Largest tensor harbor accepts, in elements (keeps all index arithmetic inside `i32`).
const MAX_ELEMENTS: usize = 1 << 24;

/// TFLite `TensorType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TensorType {
    /// 32-bit float.
    Float32,
    /// 32-bit signed integer (bias, shapes, axes).
    Int32,
    /// 8-bit signed integer (activations, weights).
    Int8,
    /// Any other schema type, by code.
    Other(i8),
}

impl TensorType {
    fn from_code(code: i8) -> Self {
        match code {
            0 => TensorType::Float32,
            2 => TensorType::Int32,
            9 => TensorType::Int8,
            other => TensorType::Other(other),
        }
    }

    /// Schema name.
    pub fn name(self) -> &'static str {
        const NAMES: [&str; 21] = [
            "FLOAT32",
            "FLOAT16",
            "INT32",
            "UINT8",
            "INT64",
            "STRING",
            "BOOL",
            "INT16",
            "COMPLEX64",
            "INT8",
            "FLOAT64",
            "COMPLEX128",
            "UINT64",
            "RESOURCE",
            "VARIANT",
            "UINT32",
            "UINT16",
            "INT4",
            "BFLOAT16",
            "INT2",
            "UINT4",
        ];
        let code = match self {
            TensorType::Float32 => 0,
            TensorType::Int32 => 2,
            TensorType::Int8 => 9,
            TensorType::Other(c) => c,
        };
        usize::try_from(code)
            .ok()
            .and_then(|i| NAMES.get(i).copied())
            .unwrap_or("UNKNOWN")
    }

    /// Bytes per element, `None` for types harbor never stores.
    pub fn size(self) -> Option<usize> {
        match self {
            TensorType::Int8 => Some(1),
            TensorType::Int32 | TensorType::Float32 => Some(4),
            TensorType::Other(_) => None,
        }
    }
}

/// A tensor shape (all dimensions ≥ 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Shape {
    dims: [usize; MAX_RANK],
    rank: usize,
}

impl Shape {
    /// Builds a shape; `None` if the rank is too high.
    pub fn new(dims: &[usize]) -> Option<Self> {
        if dims.len() > MAX_RANK {
            return None;
        }
        let mut shape = Shape {
            dims: [1; MAX_RANK],
            rank: dims.len(),
        };
        shape.dims[..dims.len()].copy_from_slice(dims);
        Some(shape)
    }

    /// The dimensions.
    pub fn dims(&self) -> &[usize] {
        &self.dims[..self.rank]
    }

    /// Number of dimensions.
    pub fn rank(&self) -> usize {
        self.rank
    }

    /// Product of the dimensions (1 for a scalar).
    pub fn num_elements(&self) -> usize {
        self.dims().iter().product()
    }

    /// Dimension `i` counted from the end (`last(0)` is the innermost).
    pub fn last(&self, i: usize) -> usize {
        if i < self.rank {
            self.dims[self.rank - 1 - i]
        } else {
            1
        }
    }
}

/// Affine quantization parameters of a tensor.
#[derive(Clone, Copy, Debug)]
pub struct Quantization<'a> {
    scales: Vector<'a, f32>,
    zero_points: Vector<'a, i64>,
    /// Axis along which per-channel scales apply.
    pub quantized_dimension: usize,
}

impl<'a> Quantization<'a> {
    /// Number of scales (1 = per-tensor).
    pub fn len(&self) -> usize {
        self.scales.len()
    }

    /// True when there are no scales (never for a validated tensor).
    pub fn is_empty(&self) -> bool {
        self.scales.is_empty()
    }

    /// Scale `i` (validated finite and > 0).
    pub fn scale(&self, i: usize) -> f32 {
        self.scales.get(i).unwrap_or(1.0)
    }

    /// Zero point `i`.
    pub fn zero_point(&self, i: usize) -> i32 {
        self.zero_points.get(i).unwrap_or(0) as i32
    }
}

/// A validated tensor.
#[derive(Clone, Copy, Debug)]
pub struct Tensor<'a> {
    /// Index in the subgraph.
    pub index: usize,
    /// Element type.
    pub dtype: TensorType,
    /// Shape (static; a variable batch dimension is stored as 1 in `shape`).
    pub shape: Shape,
    /// Constant data read in place from the model, `None` for activations.
    pub data: Option<&'a [u8]>,
    /// Quantization parameters, if present.
    pub quantization: Option<Quantization<'a>>,
    /// Tensor name.
    pub name: &'a str,
}

impl<'a> Tensor<'a> {
    /// Size of the tensor's data in bytes.
    pub fn byte_len(&self) -> usize {
        self.shape.num_elements() * self.dtype.size().unwrap_or(0)
    }

    /// Per-tensor scale and zero point (first entry).
    pub fn scale_zero_point(&self) -> (f32, i32) {
        match &self.quantization {
            Some(q) => (q.scale(0), q.zero_point(0)),
            None => (0.0, 0),
        }
    }
}

/// An operator (node) of the subgraph.
#[derive(Clone, Copy, Debug)]
pub struct Operator<'a> {
    /// Index in the subgraph's execution order.
    pub index: usize,
    /// Builtin operator code.
    pub code: i32,
    inputs: Vector<'a, i32>,
    outputs: Vector<'a, i32>,
    options: Option<Table<'a>>,
}

impl<'a> Operator<'a> {
    /// Schema name of the operator.
    pub fn name(&self) -> &'static str {
        builtin::name(self.code).unwrap_or("UNKNOWN")
    }

    /// Number of input slots (optional inputs count, as -1).
    pub fn num_inputs(&self) -> usize {
        self.inputs.len()
    }

    /// Tensor index of input `i`; `None` when the slot is absent or optional (-1).
    pub fn input(&self, i: usize) -> Option<usize> {
        self.inputs.get(i).and_then(|t| usize::try_from(t).ok())
    }

    /// Number of outputs.
    pub fn num_outputs(&self) -> usize {
        self.outputs.len()
    }

    /// Tensor index of output `i`.
    pub fn output(&self, i: usize) -> Option<usize> {
        self.outputs.get(i).and_then(|t| usize::try_from(t).ok())
    }

    /// The builtin options table (its type is implied by the operator code).
    pub fn options(&self) -> Option<Table<'a>> {
        self.options
    }
}

/// A validated `.tflite` model read in place from a byte slice.
#[derive(Clone, Copy, Debug)]
pub struct Model<'a> {
    bytes: &'a [u8],
    tensors: Tables<'a>,
    operators: Tables<'a>,
    opcodes: Tables<'a>,
    buffers: Tables<'a>,
    inputs: Vector<'a, i32>,
    outputs: Vector<'a, i32>,
}

/// Operators the interpreter implements.
const SUPPORTED: [i32; 11] = [
    code::ADD,
    code::AVERAGE_POOL_2D,
    code::CONV_2D,
    code::DEPTHWISE_CONV_2D,
    code::FULLY_CONNECTED,
    code::MAX_POOL_2D,
    code::RESHAPE,
    code::SOFTMAX,
    code::MEAN,
    code::SQUEEZE,
    code::EXPAND_DIMS,
];

impl<'a> Model<'a> {
    /// Reads and validates a full-int8 model: FlatBuffer bounds, schema version, one subgraph,
    /// every tensor (shape, type, constant buffer size, quantization) and every operator code.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, Error> {
        let model = Self::parse_structure(bytes)?;
        model.validate(TensorType::Int8)?;
        Ok(model)
    }

    /// Reads and validates a float32 model (float input, activations and weights; int32
    /// constants for axes and shapes), for the host's float reference interpreter.
    pub fn parse_float32(bytes: &'a [u8]) -> Result<Self, Error> {
        let model = Self::parse_structure(bytes)?;
        model.validate(TensorType::Float32)?;
        Ok(model)
    }

    fn parse_structure(bytes: &'a [u8]) -> Result<Self, Error> {
        if bytes.len() < 8 {
            return Err(Error::NotTflite {
                reason: "file shorter than a FlatBuffer header",
            });
        }
        // The identifier is optional in FlatBuffers but every TFLite writer emits it.
        if &bytes[4..8] != b"TFL3" {
            return Err(Error::NotTflite {
                reason: "file identifier is not \"TFL3\"",
            });
        }
        let root = Table::root(bytes)?;
        let version: u32 = root.scalar(0, 0)?;
        if version != 3 {
            return Err(Error::NotTflite {
                reason: "schema version is not 3",
            });
        }
        let missing = |what| Error::NotTflite { reason: what };
        let opcodes = root.tables(1)?.ok_or(missing("no operator codes"))?;
        let subgraphs = root.tables(2)?.ok_or(missing("no subgraphs"))?;
        let buffers = root.tables(4)?.ok_or(missing("no buffers"))?;
        if subgraphs.len() != 1 {
            return Err(Error::SubgraphCount(subgraphs.len()));
        }
        let subgraph = subgraphs.get(0)?;
        let tensors = subgraph
            .tables(0)?
            .ok_or(missing("subgraph has no tensors"))?;
        let inputs = subgraph
            .vector(1)?
            .ok_or(missing("subgraph has no inputs"))?;
        let outputs = subgraph
            .vector(2)?
            .ok_or(missing("subgraph has no outputs"))?;
        let operators = subgraph
            .tables(3)?
            .ok_or(missing("subgraph has no operators"))?;
        if tensors.len() > MAX_TENSORS {
            return Err(Error::TooLarge {
                what: "tensors",
                count: tensors.len(),
                max: MAX_TENSORS,
            });
        }
        if operators.len() > MAX_OPERATORS {
            return Err(Error::TooLarge {
                what: "operators",
                count: operators.len(),
                max: MAX_OPERATORS,
            });
        }
        let model = Model {
            bytes,
            tensors,
            operators,
            opcodes,
            buffers,
            inputs,
            outputs,
        };
        Ok(model)
    }

    /// `precision`: `Int8` (full-int8 model) or `Float32` (float reference model).
    fn validate(&self, precision: TensorType) -> Result<(), Error> {
        let wrong_type = |tensor: usize, dtype: TensorType| {
            if precision == TensorType::Int8 {
                Error::NotInt8 { tensor, dtype }
            } else {
                Error::NotFloat32 { tensor, dtype }
            }
        };
        // A model of the other precision is reported as such before anything else: its ops
        // may all exist.
        for i in 0..self.num_inputs() {
            if let Some(t) = self.input_tensor(i).filter(|&t| t < self.num_tensors()) {
                let tensor = self.tensor(t)?;
                if tensor.dtype != precision {
                    return Err(wrong_type(t, tensor.dtype));
                }
            }
        }
        // Then unsupported operators, whose outputs may have types harbor never stores.
        for i in 0..self.num_operators() {
            let op = self.operator(i)?;
            for slot in 0..op.inputs.len() {
                let t = op.inputs.get(slot).unwrap_or(-1);
                if t < -1 || t >= self.num_tensors() as i32 {
                    return Err(self.bad_op(&op, "input tensor index out of range"));
                }
            }
            for t in op.outputs.iter() {
                if t < 0 || t >= self.num_tensors() as i32 {
                    return Err(self.bad_op(&op, "output tensor index out of range"));
                }
            }
        }
        for list in [self.inputs, self.outputs] {
            for t in list.iter() {
                if t < 0 || t >= self.num_tensors() as i32 {
                    return Err(Error::NotTflite {
                        reason: "subgraph input/output index out of range",
                    });
                }
            }
        }
        // Activations must be of the model's precision; constants too, or int32 (bias, axes,
        // shapes).
        for i in 0..self.num_tensors() {
            let tensor = self.tensor(i)?;
            let int32_constant = tensor.data.is_some() && tensor.dtype == TensorType::Int32;
            if !int32_constant && tensor.dtype != precision {
                return Err(wrong_type(i, tensor.dtype));
            }
        }
        Ok(())
    }

    fn bad_op(&self, op: &Operator<'_>, reason: &'static str) -> Error {
        Error::BadOperator {
            index: op.index,
            op: op.name(),
            reason,
        }
    }

    /// The model bytes.
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// Number of tensors.
    pub fn num_tensors(&self) -> usize {
        self.tensors.len()
    }

    /// Number of operators.
    pub fn num_operators(&self) -> usize {
        self.operators.len()
    }

    /// Number of graph inputs.
    pub fn num_inputs(&self) -> usize {
        self.inputs.len()
    }

    /// Number of graph outputs.
    pub fn num_outputs(&self) -> usize {
        self.outputs.len()
    }

    /// Tensor index of graph input `i`.
    pub fn input_tensor(&self, i: usize) -> Option<usize> {
        self.inputs.get(i).and_then(|t| usize::try_from(t).ok())
    }

    /// Tensor index of graph output `i`.
    pub fn output_tensor(&self, i: usize) -> Option<usize> {
        self.outputs.get(i).and_then(|t| usize::try_from(t).ok())
    }

    /// Tensor `i`, decoded and checked.
    pub fn tensor(&self, index: usize) -> Result<Tensor<'a>, Error> {
        let bad = |reason| Error::BadTensor {
            tensor: index,
            reason,
        };
        let table = self.tensors.get(index)?;
        let dtype = TensorType::from_code(table.scalar::<i8>(1, 0)?);
        let mut dims = [1usize; MAX_RANK];
        let rank = match table.vector::<i32>(0)? {
            Some(v) => {
                if v.len() > MAX_RANK {
                    return Err(bad("rank above 6"));
                }
                for (i, d) in v.iter().enumerate() {
                    if d <= 0 {
                        return Err(bad("zero or negative dimension"));
                    }
                    dims[i] = d as usize;
                }
                v.len()
            }
            None => 0,
        };
        let shape = Shape { dims, rank };
        let elements = shape
            .dims()
            .iter()
            .try_fold(1usize, |acc, &d| {
                acc.checked_mul(d).filter(|&n| n <= MAX_ELEMENTS)
            })
            .ok_or(bad("more than 2^24 elements"))?;
        let buffer_index = table.scalar::<u32>(2, 0)? as usize;
        if buffer_index >= self.buffers.len() {
            return Err(bad("buffer index out of range"));
        }
        let buffer = self.buffers.get(buffer_index)?;
        if buffer.scalar::<u64>(1, 0)? > 1 {
            return Err(bad(
                "data stored outside the flatbuffer (external buffer) is not supported",
            ));
        }
        let data = match buffer.vector::<u8>(0)? {
            Some(v) if !v.is_empty() => {
                let size = dtype.size().ok_or(Error::NotInt8 {
                    tensor: index,
                    dtype,
                })?;
                if v.len() != elements * size {
                    return Err(bad("constant data size does not match its shape"));
                }
                Some(v.bytes())
            }
            _ => None,
        };
        if table.scalar::<bool>(5, false)? {
            return Err(bad("variable tensors are not supported"));
        }
        if table.table(6)?.is_some() {
            return Err(bad("sparse tensors are not supported"));
        }
        let quantization = match table.table(4)? {
            Some(q) => match (q.vector::<f32>(2)?, q.vector::<i64>(3)?) {
                (Some(scales), Some(zero_points)) if !scales.is_empty() => {
                    if zero_points.len() != scales.len() {
                        return Err(bad("scale and zero point counts differ"));
                    }
                    if scales.iter().any(|s| !(s.is_finite() && s > 0.0)) {
                        return Err(bad("quantization scale is not a positive finite number"));
                    }
                    let axis = q.scalar::<i32>(6, 0)?;
                    let axis = usize::try_from(axis)
                        .ok()
                        .filter(|&a| scales.len() == 1 || a < rank)
                        .ok_or(bad("quantized dimension out of range"))?;
                    if scales.len() > 1 && scales.len() != dims[axis] {
                        return Err(bad(
                            "per-channel scale count does not match the channel dimension",
                        ));
                    }
                    Some(Quantization {
                        scales,
                        zero_points,
                        quantized_dimension: axis,
                    })
                }
                _ => None,
            },
            None => None,
        };
        if dtype == TensorType::Int8 {
            let q = quantization.ok_or(bad("int8 tensor without quantization parameters"))?;
            for i in 0..q.len() {
                let zp = q.zero_points.get(i).unwrap_or(0);
                if !(-128..=127).contains(&zp) {
                    return Err(bad("int8 zero point outside -128..=127"));
                }
            }
        }
        Ok(Tensor {
            index,
            dtype,
            shape,
            data,
            quantization,
            name: table.string(3)?.unwrap_or(""),
        })
    }

    /// Operator `i`, with its code resolved and checked against the supported set.
    pub fn operator(&self, index: usize) -> Result<Operator<'a>, Error> {
        let table = self.operators.get(index)?;
        let opcode_index = table.scalar::<u32>(0, 0)? as usize;
        if opcode_index >= self.opcodes.len() {
            return Err(Error::BadOperator {
                index,
                op: "UNKNOWN",
                reason: "operator code index out of range",
            });
        }
        let opcode = self.opcodes.get(opcode_index)?;
        // Codes < 127 live in the deprecated byte field for old readers; take the larger.
        let deprecated = i32::from(opcode.scalar::<i8>(0, 0)?);
        let code = deprecated.max(opcode.scalar::<i32>(3, 0)?);
        if code == code::CUSTOM {
            return Err(Error::CustomOperator { index });
        }
        if !SUPPORTED.contains(&code) {
            return Err(Error::UnsupportedOperator {
                name: builtin::name(code),
                code,
                index,
            });
        }
        let empty = || Error::BadOperator {
            index,
            op: builtin::name(code).unwrap_or("UNKNOWN"),
            reason: "missing inputs or outputs",
        };
        Ok(Operator {
            index,
            code,
            inputs: table.vector(1)?.ok_or_else(empty)?,
            outputs: table.vector(2)?.ok_or_else(empty)?,
            options: table.table(4)?,
        })
    }
}
