//! TFLite `BuiltinOperator` codes and names (schema.fbs), for error messages and dispatch.
//!
//! The name table was generated from `schema_py_generated.py` of TensorFlow 2.21 (codes
//! 0..=209); see docs/int8.md. Codes past the table print as `BUILTIN_<code>`.

/// Builtin operator codes harbor executes.
pub mod code {
    /// `ADD`
    pub const ADD: i32 = 0;
    /// `AVERAGE_POOL_2D`
    pub const AVERAGE_POOL_2D: i32 = 1;
    /// `CONV_2D`
    pub const CONV_2D: i32 = 3;
    /// `DEPTHWISE_CONV_2D`
    pub const DEPTHWISE_CONV_2D: i32 = 4;
    /// `FULLY_CONNECTED`
    pub const FULLY_CONNECTED: i32 = 9;
    /// `MAX_POOL_2D`
    pub const MAX_POOL_2D: i32 = 17;
    /// `RESHAPE`
    pub const RESHAPE: i32 = 22;
    /// `SOFTMAX`
    pub const SOFTMAX: i32 = 25;
    /// `MEAN`
    pub const MEAN: i32 = 40;
    /// `SQUEEZE`
    pub const SQUEEZE: i32 = 43;
    /// `EXPAND_DIMS`
    pub const EXPAND_DIMS: i32 = 70;
    /// `CUSTOM`
    pub const CUSTOM: i32 = 32;
}

const NAMES: [&str; 210] = [
    "ADD",
    "AVERAGE_POOL_2D",
    "CONCATENATION",
    "CONV_2D",
    "DEPTHWISE_CONV_2D",
    "DEPTH_TO_SPACE",
    "DEQUANTIZE",
    "EMBEDDING_LOOKUP",
    "FLOOR",
    "FULLY_CONNECTED",
    "HASHTABLE_LOOKUP",
    "L2_NORMALIZATION",
    "L2_POOL_2D",
    "LOCAL_RESPONSE_NORMALIZATION",
    "LOGISTIC",
    "LSH_PROJECTION",
    "LSTM",
    "MAX_POOL_2D",
    "MUL",
    "RELU",
    "RELU_N1_TO_1",
    "RELU6",
    "RESHAPE",
    "RESIZE_BILINEAR",
    "RNN",
    "SOFTMAX",
    "SPACE_TO_DEPTH",
    "SVDF",
    "TANH",
    "CONCAT_EMBEDDINGS",
    "SKIP_GRAM",
    "CALL",
    "CUSTOM",
    "EMBEDDING_LOOKUP_SPARSE",
    "PAD",
    "UNIDIRECTIONAL_SEQUENCE_RNN",
    "GATHER",
    "BATCH_TO_SPACE_ND",
    "SPACE_TO_BATCH_ND",
    "TRANSPOSE",
    "MEAN",
    "SUB",
    "DIV",
    "SQUEEZE",
    "UNIDIRECTIONAL_SEQUENCE_LSTM",
    "STRIDED_SLICE",
    "BIDIRECTIONAL_SEQUENCE_RNN",
    "EXP",
    "TOPK_V2",
    "SPLIT",
    "LOG_SOFTMAX",
    "DELEGATE",
    "BIDIRECTIONAL_SEQUENCE_LSTM",
    "CAST",
    "PRELU",
    "MAXIMUM",
    "ARG_MAX",
    "MINIMUM",
    "LESS",
    "NEG",
    "PADV2",
    "GREATER",
    "GREATER_EQUAL",
    "LESS_EQUAL",
    "SELECT",
    "SLICE",
    "SIN",
    "TRANSPOSE_CONV",
    "SPARSE_TO_DENSE",
    "TILE",
    "EXPAND_DIMS",
    "EQUAL",
    "NOT_EQUAL",
    "LOG",
    "SUM",
    "SQRT",
    "RSQRT",
    "SHAPE",
    "POW",
    "ARG_MIN",
    "FAKE_QUANT",
    "REDUCE_PROD",
    "REDUCE_MAX",
    "PACK",
    "LOGICAL_OR",
    "ONE_HOT",
    "LOGICAL_AND",
    "LOGICAL_NOT",
    "UNPACK",
    "REDUCE_MIN",
    "FLOOR_DIV",
    "REDUCE_ANY",
    "SQUARE",
    "ZEROS_LIKE",
    "FILL",
    "FLOOR_MOD",
    "RANGE",
    "RESIZE_NEAREST_NEIGHBOR",
    "LEAKY_RELU",
    "SQUARED_DIFFERENCE",
    "MIRROR_PAD",
    "ABS",
    "SPLIT_V",
    "UNIQUE",
    "CEIL",
    "REVERSE_V2",
    "ADD_N",
    "GATHER_ND",
    "COS",
    "WHERE",
    "RANK",
    "ELU",
    "REVERSE_SEQUENCE",
    "MATRIX_DIAG",
    "QUANTIZE",
    "MATRIX_SET_DIAG",
    "ROUND",
    "HARD_SWISH",
    "IF",
    "WHILE",
    "NON_MAX_SUPPRESSION_V4",
    "NON_MAX_SUPPRESSION_V5",
    "SCATTER_ND",
    "SELECT_V2",
    "DENSIFY",
    "SEGMENT_SUM",
    "BATCH_MATMUL",
    "PLACEHOLDER_FOR_GREATER_OP_CODES",
    "CUMSUM",
    "CALL_ONCE",
    "BROADCAST_TO",
    "RFFT2D",
    "CONV_3D",
    "IMAG",
    "REAL",
    "COMPLEX_ABS",
    "HASHTABLE",
    "HASHTABLE_FIND",
    "HASHTABLE_IMPORT",
    "HASHTABLE_SIZE",
    "REDUCE_ALL",
    "CONV_3D_TRANSPOSE",
    "VAR_HANDLE",
    "READ_VARIABLE",
    "ASSIGN_VARIABLE",
    "BROADCAST_ARGS",
    "RANDOM_STANDARD_NORMAL",
    "BUCKETIZE",
    "RANDOM_UNIFORM",
    "MULTINOMIAL",
    "GELU",
    "DYNAMIC_UPDATE_SLICE",
    "RELU_0_TO_1",
    "UNSORTED_SEGMENT_PROD",
    "UNSORTED_SEGMENT_MAX",
    "UNSORTED_SEGMENT_SUM",
    "ATAN2",
    "UNSORTED_SEGMENT_MIN",
    "SIGN",
    "BITCAST",
    "BITWISE_XOR",
    "RIGHT_SHIFT",
    "STABLEHLO_LOGISTIC",
    "STABLEHLO_ADD",
    "STABLEHLO_DIVIDE",
    "STABLEHLO_MULTIPLY",
    "STABLEHLO_MAXIMUM",
    "STABLEHLO_RESHAPE",
    "STABLEHLO_CLAMP",
    "STABLEHLO_CONCATENATE",
    "STABLEHLO_BROADCAST_IN_DIM",
    "STABLEHLO_CONVOLUTION",
    "STABLEHLO_SLICE",
    "STABLEHLO_CUSTOM_CALL",
    "STABLEHLO_REDUCE",
    "STABLEHLO_ABS",
    "STABLEHLO_AND",
    "STABLEHLO_COSINE",
    "STABLEHLO_EXPONENTIAL",
    "STABLEHLO_FLOOR",
    "STABLEHLO_LOG",
    "STABLEHLO_MINIMUM",
    "STABLEHLO_NEGATE",
    "STABLEHLO_OR",
    "STABLEHLO_POWER",
    "STABLEHLO_REMAINDER",
    "STABLEHLO_RSQRT",
    "STABLEHLO_SELECT",
    "STABLEHLO_SUBTRACT",
    "STABLEHLO_TANH",
    "STABLEHLO_SCATTER",
    "STABLEHLO_COMPARE",
    "STABLEHLO_CONVERT",
    "STABLEHLO_DYNAMIC_SLICE",
    "STABLEHLO_DYNAMIC_UPDATE_SLICE",
    "STABLEHLO_PAD",
    "STABLEHLO_IOTA",
    "STABLEHLO_DOT_GENERAL",
    "STABLEHLO_REDUCE_WINDOW",
    "STABLEHLO_SORT",
    "STABLEHLO_WHILE",
    "STABLEHLO_GATHER",
    "STABLEHLO_TRANSPOSE",
    "DILATE",
    "STABLEHLO_RNG_BIT_GENERATOR",
    "REDUCE_WINDOW",
    "STABLEHLO_COMPOSITE",
    "STABLEHLO_SHIFT_LEFT",
    "STABLEHLO_CBRT",
    "STABLEHLO_CASE",
];

/// The names back to back and where each ends, built at compile time: 2.9 KB of flash where
/// the table of `&str` (8 B of pointer and length per name) took 4.1 KB. `NAMES` itself is
/// only read here, in constant evaluation.
const PACKED: ([u8; PACKED_LEN], [u16; NAMES.len()]) = pack();

/// [`PACKED`]'s bytes as one string, checked once at compile time (the names are ASCII).
const PACKED_STR: &str = match core::str::from_utf8(&PACKED.0) {
    Ok(s) => s,
    Err(_) => panic!("operator names are ASCII"),
};

const PACKED_LEN: usize = {
    let mut total = 0;
    let mut i = 0;
    while i < NAMES.len() {
        total += NAMES[i].len();
        i += 1;
    }
    total
};

const fn pack() -> ([u8; PACKED_LEN], [u16; NAMES.len()]) {
    let mut bytes = [0u8; PACKED_LEN];
    let mut ends = [0u16; NAMES.len()];
    let (mut i, mut at) = (0, 0);
    while i < NAMES.len() {
        let name = NAMES[i].as_bytes();
        let mut j = 0;
        while j < name.len() {
            bytes[at + j] = name[j];
            j += 1;
        }
        at += name.len();
        ends[i] = at as u16;
        i += 1;
    }
    (bytes, ends)
}

/// The schema name of a builtin operator code, `None` if the code is unknown. Constant time:
/// prepare builds its error values eagerly, so this runs for every checked operator.
pub fn name(code: i32) -> Option<&'static str> {
    let index = usize::try_from(code).ok()?;
    let end = usize::from(*PACKED.1.get(index)?);
    let start = match index {
        0 => 0,
        _ => usize::from(PACKED.1[index - 1]),
    };
    PACKED_STR.get(start..end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_names_give_every_schema_name() {
        for (code, &expected) in NAMES.iter().enumerate() {
            assert_eq!(name(code as i32), Some(expected), "code {code}");
        }
        assert_eq!(name(-1), None);
        assert_eq!(name(NAMES.len() as i32), None);
        assert_eq!(name(code::MEAN), Some("MEAN"));
    }
}
