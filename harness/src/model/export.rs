//! Lays a [`QuantModel`] out as the op graph TensorFlow's converter emits for a Keras Conv1D
//! model, and encodes it with harbor-core's `.tflite` writer.
//!
//! Graph: input `[1,T,C]` → RESHAPE `[1,1,T,C]` → per block CONV_2D (1×K, VALID, fused
//! ReLU, per-channel weights) [→ MAX_POOL_2D 1×P] → RESHAPE `[1,L,C]` → MEAN over axis 1 →
//! FULLY_CONNECTED (per-channel weights) → SOFTMAX. The converter uses EXPAND_DIMS for the
//! first step; RESHAPE does the same with one op kind fewer.

use harbor_core::writer::{
    Activation, BuiltinOp, ModelDef, OperatorDef, Options, Padding, Quantization, TensorDef,
    TensorType, WriteError, write_tflite,
};

use super::float_net::FloatNet;
use super::quantize::{ActQuant, QuantLayer, QuantModel};

/// Tensor names of the graph's input and output, as Netron and the card show them.
pub const INPUT_NAME: &str = "imu_window";
/// Name of the output tensor in the exported `.tflite`.
pub const OUTPUT_NAME: &str = "class_probabilities";

struct Graph {
    tensors: Vec<TensorDef>,
    buffers: Vec<Vec<u8>>,
    operators: Vec<OperatorDef>,
}

impl Graph {
    fn activation(&mut self, name: &str, shape: &[i32], q: ActQuant) -> i32 {
        self.tensor(name, shape, TensorType::Int8, 0, Some(per_tensor(q)))
    }

    fn constant(
        &mut self,
        name: &str,
        shape: &[i32],
        dtype: TensorType,
        data: Vec<u8>,
        q: Option<Quantization>,
    ) -> i32 {
        self.buffers.push(data);
        let buffer = (self.buffers.len() - 1) as u32;
        self.tensor(name, shape, dtype, buffer, q)
    }

    fn tensor(
        &mut self,
        name: &str,
        shape: &[i32],
        dtype: TensorType,
        buffer: u32,
        quantization: Option<Quantization>,
    ) -> i32 {
        self.tensors.push(TensorDef {
            name: name.to_string(),
            shape: shape.to_vec(),
            dtype,
            buffer,
            quantization,
        });
        (self.tensors.len() - 1) as i32
    }

    fn op(&mut self, op: BuiltinOp, inputs: Vec<i32>, output: i32, options: Options) {
        self.operators.push(OperatorDef {
            op,
            inputs,
            outputs: vec![output],
            options,
        });
    }

    fn reshape(&mut self, input: i32, name: &str, shape: &[i32], q: ActQuant) -> i32 {
        let shape_tensor = self.constant(
            &format!("{name}/shape"),
            &[shape.len() as i32],
            TensorType::Int32,
            i32_bytes(shape),
            None,
        );
        let out = self.activation(name, shape, q);
        self.op(
            BuiltinOp::Reshape,
            vec![input, shape_tensor],
            out,
            Options::Reshape {
                new_shape: shape.to_vec(),
            },
        );
        out
    }

    /// Weights `[rows, ...]` per-channel int8 and the matching int32 bias.
    fn weights(&mut self, name: &str, shape: &[i32], layer: &QuantLayer, s_in: f32) -> (i32, i32) {
        let channels = layer.weight_scale.len();
        let wq = Quantization {
            scale: layer.weight_scale.clone(),
            zero_point: vec![0; channels],
            quantized_dimension: 0,
        };
        let w = self.constant(
            &format!("{name}/weights"),
            shape,
            TensorType::Int8,
            layer.weight.iter().map(|&v| v as u8).collect(),
            Some(wq),
        );
        let bq = Quantization {
            scale: layer.weight_scale.iter().map(|s| s * s_in).collect(),
            zero_point: vec![0; channels],
            quantized_dimension: 0,
        };
        let b = self.constant(
            &format!("{name}/bias"),
            &[channels as i32],
            TensorType::Int32,
            i32_bytes(&layer.bias),
            Some(bq),
        );
        (w, b)
    }
}

fn per_tensor(q: ActQuant) -> Quantization {
    Quantization {
        scale: vec![q.scale],
        zero_point: vec![i64::from(q.zero_point)],
        quantized_dimension: 0,
    }
}

fn i32_bytes(values: &[i32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// The op graph of `model` (before encoding), for tests and inspection.
pub fn model_def(model: &QuantModel, description: &str) -> ModelDef {
    let arch = &model.arch;
    let (t, c) = (arch.window as i32, arch.channels as i32);
    let mut g = Graph {
        tensors: Vec::new(),
        buffers: vec![Vec::new()],
        operators: Vec::new(),
    };

    let input = g.activation(INPUT_NAME, &[1, t, c], model.input);
    let mut x = g.reshape(input, "input_4d", &[1, 1, t, c], model.input);
    let mut s_in = model.input.scale;
    for (i, ((shape, block), layer)) in arch
        .block_shapes()
        .iter()
        .zip(&arch.blocks)
        .zip(&model.convs)
        .enumerate()
    {
        let q = model.blocks[i];
        let name = format!("conv{}", i + 1);
        let (w, b) = g.weights(
            &name,
            &[
                block.channels as i32,
                1,
                block.kernel as i32,
                shape.in_channels as i32,
            ],
            layer,
            s_in,
        );
        let y = g.activation(
            &name,
            &[1, 1, shape.conv_len as i32, block.channels as i32],
            q,
        );
        let conv = Options::Conv2d {
            padding: Padding::Valid,
            stride_w: 1,
            stride_h: 1,
            dilation_w: 1,
            dilation_h: 1,
            activation: Activation::Relu,
        };
        g.op(BuiltinOp::Conv2d, vec![x, w, b], y, conv);
        x = y;
        if let Some(p) = block.pool {
            let pooled = g.activation(
                &format!("pool{}", i + 1),
                &[1, 1, shape.out_len as i32, block.channels as i32],
                q,
            );
            let p = p as i32;
            let pool = Options::Pool2d {
                padding: Padding::Valid,
                stride_w: p,
                stride_h: 1,
                filter_w: p,
                filter_h: 1,
                activation: Activation::None,
            };
            g.op(BuiltinOp::MaxPool2d, vec![x], pooled, pool);
            x = pooled;
        }
        s_in = q.scale;
    }
    let last = arch
        .block_shapes()
        .last()
        .map_or((arch.window, arch.channels), |s| {
            (s.out_len, s.out_channels)
        });
    let last_q = model.blocks.last().copied().unwrap_or(model.input);
    let x3 = g.reshape(x, "sequence", &[1, last.0 as i32, last.1 as i32], last_q);
    let axis = g.constant("mean/axis", &[1], TensorType::Int32, i32_bytes(&[1]), None);
    let features = g.activation("global_average_pool", &[1, last.1 as i32], model.features);
    g.op(
        BuiltinOp::Mean,
        vec![x3, axis],
        features,
        Options::Reducer { keep_dims: false },
    );

    let k = arch.classes as i32;
    let (w, b) = g.weights(
        "dense",
        &[k, arch.features() as i32],
        &model.head,
        model.features.scale,
    );
    let logits = g.activation("logits", &[1, k], model.logits);
    g.op(
        BuiltinOp::FullyConnected,
        vec![features, w, b],
        logits,
        Options::FullyConnected {
            activation: Activation::None,
            keep_num_dims: false,
        },
    );
    let probs = g.activation(OUTPUT_NAME, &[1, k], ActQuant::SOFTMAX);
    g.op(
        BuiltinOp::Softmax,
        vec![logits],
        probs,
        Options::Softmax { beta: 1.0 },
    );

    ModelDef {
        description: description.to_string(),
        tensors: g.tensors,
        buffers: g.buffers,
        operators: g.operators,
        inputs: vec![input],
        outputs: vec![probs],
    }
}

/// Encodes `model` as `.tflite` bytes.
pub fn to_tflite(model: &QuantModel, description: &str) -> Result<Vec<u8>, WriteError> {
    write_tflite(&model_def(model, description))
}

/// Index of the logits tensor in [`model_def`]'s graph (the FULLY_CONNECTED output), for
/// comparing dequantized logits with the float model.
pub fn logits_tensor(def: &ModelDef) -> Option<usize> {
    def.tensors.iter().position(|t| t.name == "logits")
}

fn f32_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// The float reference model as a float32 `.tflite` with the same op graph (the `f32`
/// variant: runs in TFLite Micro / LiteRT on the host; harbor-core and the band run int8 only).
/// Its input is the normalized window (see the card's normalization statistics).
pub fn model_def_f32(net: &FloatNet, description: &str) -> ModelDef {
    let arch = &net.arch;
    let (t, c) = (arch.window as i32, arch.channels as i32);
    let mut g = Graph {
        tensors: Vec::new(),
        buffers: vec![Vec::new()],
        operators: Vec::new(),
    };
    let float = |g: &mut Graph, name: &str, shape: &[i32]| {
        g.tensor(name, shape, TensorType::Float32, 0, None)
    };
    let reshape = |g: &mut Graph, input: i32, name: &str, shape: &[i32]| {
        let s = g.constant(
            &format!("{name}/shape"),
            &[shape.len() as i32],
            TensorType::Int32,
            i32_bytes(shape),
            None,
        );
        let out = float(g, name, shape);
        g.op(
            BuiltinOp::Reshape,
            vec![input, s],
            out,
            Options::Reshape {
                new_shape: shape.to_vec(),
            },
        );
        out
    };
    let input = float(&mut g, INPUT_NAME, &[1, t, c]);
    let mut x = reshape(&mut g, input, "input_4d", &[1, 1, t, c]);
    for (i, ((shape, block), p)) in arch
        .block_shapes()
        .iter()
        .zip(&arch.blocks)
        .zip(&net.convs)
        .enumerate()
    {
        let name = format!("conv{}", i + 1);
        let (cin, k) = (shape.in_channels, block.kernel);
        // burn's [out][in][k] → TFLite's [out][1][k][in].
        let ohwi: Vec<f32> = (0..block.channels)
            .flat_map(|o| (0..k).flat_map(move |kk| (0..cin).map(move |ii| (o, kk, ii))))
            .map(|(o, kk, ii)| p.weight[(o * cin + ii) * k + kk])
            .collect();
        let w = g.constant(
            &format!("{name}/weights"),
            &[block.channels as i32, 1, k as i32, cin as i32],
            TensorType::Float32,
            f32_bytes(&ohwi),
            None,
        );
        let b = g.constant(
            &format!("{name}/bias"),
            &[block.channels as i32],
            TensorType::Float32,
            f32_bytes(&p.bias),
            None,
        );
        let y = float(
            &mut g,
            &name,
            &[1, 1, shape.conv_len as i32, block.channels as i32],
        );
        let conv = Options::Conv2d {
            padding: Padding::Valid,
            stride_w: 1,
            stride_h: 1,
            dilation_w: 1,
            dilation_h: 1,
            activation: Activation::Relu,
        };
        g.op(BuiltinOp::Conv2d, vec![x, w, b], y, conv);
        x = y;
        if let Some(pool) = block.pool {
            let pooled = float(
                &mut g,
                &format!("pool{}", i + 1),
                &[1, 1, shape.out_len as i32, block.channels as i32],
            );
            let p = pool as i32;
            let opts = Options::Pool2d {
                padding: Padding::Valid,
                stride_w: p,
                stride_h: 1,
                filter_w: p,
                filter_h: 1,
                activation: Activation::None,
            };
            g.op(BuiltinOp::MaxPool2d, vec![x], pooled, opts);
            x = pooled;
        }
    }
    let last = arch
        .block_shapes()
        .last()
        .map_or((arch.window, arch.channels), |s| {
            (s.out_len, s.out_channels)
        });
    let x3 = reshape(&mut g, x, "sequence", &[1, last.0 as i32, last.1 as i32]);
    let axis = g.constant("mean/axis", &[1], TensorType::Int32, i32_bytes(&[1]), None);
    let features = float(&mut g, "global_average_pool", &[1, last.1 as i32]);
    g.op(
        BuiltinOp::Mean,
        vec![x3, axis],
        features,
        Options::Reducer { keep_dims: false },
    );
    let (k, f) = (arch.classes as i32, arch.features() as i32);
    let w = g.constant(
        "dense/weights",
        &[k, f],
        TensorType::Float32,
        f32_bytes(&net.head.weight),
        None,
    );
    let b = g.constant(
        "dense/bias",
        &[k],
        TensorType::Float32,
        f32_bytes(&net.head.bias),
        None,
    );
    let logits = float(&mut g, "logits", &[1, k]);
    g.op(
        BuiltinOp::FullyConnected,
        vec![features, w, b],
        logits,
        Options::FullyConnected {
            activation: Activation::None,
            keep_num_dims: false,
        },
    );
    let probs = float(&mut g, OUTPUT_NAME, &[1, k]);
    g.op(
        BuiltinOp::Softmax,
        vec![logits],
        probs,
        Options::Softmax { beta: 1.0 },
    );
    ModelDef {
        description: description.to_string(),
        tensors: g.tensors,
        buffers: g.buffers,
        operators: g.operators,
        inputs: vec![input],
        outputs: vec![probs],
    }
}

/// Encodes the float32 reference model as `.tflite` bytes.
pub fn to_tflite_f32(net: &FloatNet, description: &str) -> Result<Vec<u8>, WriteError> {
    write_tflite(&model_def_f32(net, description))
}
