//! Random small int8 `.tflite` models written by harbor's writer: random chains of the ops
//! harbor-core runs, with random shapes, geometry, fused activations and quantization.
//! Every model is valid by construction (TFLite's int8 rules: symmetric weights, int32 bias
//! at `s_in·s_w`, softmax output 1/256 −128), so TFLite Micro and harbor-core must agree.

use harbor::rng::SplitMix64;
use harbor_core::writer::{
    Activation, BuiltinOp, ModelDef, OperatorDef, Options, Padding, Quantization, TensorDef,
    TensorType, write_tflite,
};

/// One generated model.
pub struct RandomModel {
    /// `.tflite` bytes.
    pub bytes: Vec<u8>,
    /// Input element count.
    pub input_len: usize,
    /// Op names in order, for messages.
    pub ops: Vec<&'static str>,
}

/// An activation tensor: index, NHWC shape, quantization.
#[derive(Clone)]
struct Act {
    index: i32,
    shape: [usize; 4],
    scale: f32,
    zero_point: i64,
}

struct Builder {
    rng: SplitMix64,
    model: ModelDef,
    ops: Vec<&'static str>,
    acts: Vec<Act>,
}

impl Builder {
    fn uniform(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * (self.rng.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }

    fn int(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.rng.below((hi - lo + 1) as usize) as i64
    }

    fn log_uniform(&mut self, lo: f32, hi: f32) -> f32 {
        (self.uniform(lo.ln(), hi.ln())).exp()
    }

    fn chance(&mut self, p: f32) -> bool {
        self.uniform(0.0, 1.0) < p
    }

    fn tensor(
        &mut self,
        shape: Vec<i32>,
        dtype: TensorType,
        data: Vec<u8>,
        quantization: Option<Quantization>,
    ) -> i32 {
        let buffer = if data.is_empty() {
            0
        } else {
            self.model.buffers.push(data);
            (self.model.buffers.len() - 1) as u32
        };
        let index = self.model.tensors.len();
        self.model.tensors.push(TensorDef {
            name: format!("t{index}"),
            shape,
            dtype,
            buffer,
            quantization,
        });
        index as i32
    }

    fn activation(&mut self, shape: [usize; 4], scale: f32, zero_point: i64) -> Act {
        let dims: Vec<i32> = shape.iter().map(|&d| d as i32).collect();
        self.activation_with_dims(dims, shape, scale, zero_point)
    }

    fn activation_with_dims(
        &mut self,
        dims: Vec<i32>,
        shape: [usize; 4],
        scale: f32,
        zero_point: i64,
    ) -> Act {
        let index = self.tensor(
            dims,
            TensorType::Int8,
            Vec::new(),
            Some(per_tensor(scale, zero_point)),
        );
        Act {
            index,
            shape,
            scale,
            zero_point,
        }
    }

    fn op(
        &mut self,
        op: BuiltinOp,
        name: &'static str,
        inputs: Vec<i32>,
        output: i32,
        options: Options,
    ) {
        self.model.operators.push(OperatorDef {
            op,
            inputs,
            outputs: vec![output],
            options,
        });
        self.ops.push(name);
    }

    fn fused(&mut self) -> Activation {
        match self.rng.below(5) {
            0 | 1 => Activation::None,
            2 => Activation::Relu,
            3 => Activation::Relu6,
            _ => Activation::ReluN1To1,
        }
    }

    /// Output quantization for a layer whose real outputs spread about `spread`.
    fn output_quant(&mut self, spread: f32) -> (f32, i64) {
        let scale = (spread / 40.0 * self.log_uniform(0.5, 2.0)).max(1e-6);
        (scale, self.int(-30, 30))
    }

    /// Symmetric int8 weights with one scale per output channel (or one per tensor).
    fn weights(
        &mut self,
        shape: Vec<i32>,
        channels: usize,
        axis: i32,
        per_channel: bool,
    ) -> (i32, Vec<f32>) {
        let count: usize = shape.iter().map(|&d| d as usize).product();
        let data: Vec<u8> = (0..count)
            .map(|_| self.int(-127, 127) as i8 as u8)
            .collect();
        let scales: Vec<f32> = if per_channel {
            (0..channels)
                .map(|_| self.log_uniform(0.002, 0.05))
                .collect()
        } else {
            vec![self.log_uniform(0.002, 0.05)]
        };
        let quant = Quantization {
            zero_point: vec![0; scales.len()],
            scale: scales.clone(),
            quantized_dimension: if per_channel { axis } else { 0 },
        };
        let index = self.tensor(shape, TensorType::Int8, data, Some(quant));
        let per_out = (0..channels)
            .map(|c| scales[if per_channel { c } else { 0 }])
            .collect();
        (index, per_out)
    }

    fn bias(&mut self, input_scale: f32, weight_scales: &[f32]) -> i32 {
        let values: Vec<i32> = weight_scales
            .iter()
            .map(|_| self.int(-3000, 3000) as i32)
            .collect();
        let data = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        let quant = Quantization {
            scale: weight_scales.iter().map(|s| s * input_scale).collect(),
            zero_point: vec![0; weight_scales.len()],
            quantized_dimension: 0,
        };
        self.tensor(
            vec![weight_scales.len() as i32],
            TensorType::Int32,
            data,
            Some(quant),
        )
    }

    /// Geometry along one axis: (filter, stride, dilation, output) for `size` input cells.
    fn axis(
        &mut self,
        size: usize,
        max_filter: usize,
        padding: Padding,
        dilate: bool,
    ) -> Option<(usize, usize, usize, usize)> {
        let filter = 1 + self.rng.below(max_filter.min(size));
        let stride = 1 + self.rng.below(2);
        let dilation = if dilate && filter > 1 && self.chance(0.3) {
            2
        } else {
            1
        };
        let effective = (filter - 1) * dilation + 1;
        let out = match padding {
            Padding::Same => size.div_ceil(stride),
            Padding::Valid => (size + stride).checked_sub(effective)? / stride,
        };
        (out >= 1).then_some((filter, stride, dilation, out))
    }

    fn padding(&mut self) -> Padding {
        if self.chance(0.5) {
            Padding::Same
        } else {
            Padding::Valid
        }
    }

    fn conv(&mut self, x: &Act, depthwise: bool) -> Option<Act> {
        let [_, h, w, c] = x.shape;
        let padding = self.padding();
        let (fh, sh, dh, oh) = self.axis(h, 3, padding, true)?;
        let (fw, sw, dw, ow) = self.axis(w, 5, padding, true)?;
        let (out_c, multiplier) = if depthwise {
            let m = 1 + self.rng.below(2);
            (c * m, m)
        } else {
            (1 + self.rng.below(8), 1)
        };
        let per_channel = self.chance(0.8);
        let (filter, scales) = if depthwise {
            self.weights(
                vec![1, fh as i32, fw as i32, out_c as i32],
                out_c,
                3,
                per_channel,
            )
        } else {
            self.weights(
                vec![out_c as i32, fh as i32, fw as i32, c as i32],
                out_c,
                0,
                per_channel,
            )
        };
        let bias = self.bias(x.scale, &scales);
        let fan_in = (fh * fw * if depthwise { 1 } else { c }) as f32;
        let mean_scale = scales.iter().sum::<f32>() / scales.len() as f32;
        let (scale, zp) = self.output_quant(fan_in.sqrt() * 60.0 * x.scale * 60.0 * mean_scale);
        let activation = self.fused();
        let y = self.activation([1, oh, ow, out_c], scale, zp);
        let options = if depthwise {
            Options::DepthwiseConv2d {
                padding,
                stride_w: sw as i32,
                stride_h: sh as i32,
                depth_multiplier: multiplier as i32,
                dilation_w: dw as i32,
                dilation_h: dh as i32,
                activation,
            }
        } else {
            Options::Conv2d {
                padding,
                stride_w: sw as i32,
                stride_h: sh as i32,
                dilation_w: dw as i32,
                dilation_h: dh as i32,
                activation,
            }
        };
        let (op, name) = if depthwise {
            (BuiltinOp::DepthwiseConv2d, "DEPTHWISE_CONV_2D")
        } else {
            (BuiltinOp::Conv2d, "CONV_2D")
        };
        self.op(op, name, vec![x.index, filter, bias], y.index, options);
        Some(y)
    }

    fn pool(&mut self, x: &Act) -> Option<Act> {
        let [_, h, w, c] = x.shape;
        let padding = self.padding();
        let (fh, sh, _, oh) = self.axis(h, 3, padding, false)?;
        let (fw, sw, _, ow) = self.axis(w, 3, padding, false)?;
        let max = self.chance(0.5);
        // Pools keep their input's quantization (TFLM rescales nothing).
        let y = self.activation([1, oh, ow, c], x.scale, x.zero_point);
        let activation = if self.chance(0.2) {
            Activation::Relu
        } else {
            Activation::None
        };
        let (op, name) = if max {
            (BuiltinOp::MaxPool2d, "MAX_POOL_2D")
        } else {
            (BuiltinOp::AveragePool2d, "AVERAGE_POOL_2D")
        };
        self.op(
            op,
            name,
            vec![x.index],
            y.index,
            Options::Pool2d {
                padding,
                stride_w: sw as i32,
                stride_h: sh as i32,
                filter_w: fw as i32,
                filter_h: fh as i32,
                activation,
            },
        );
        Some(y)
    }

    fn add(&mut self, x: &Act) -> Act {
        // A residual with an earlier tensor of the same shape, or a broadcast constant.
        let earlier: Vec<Act> = self
            .acts
            .iter()
            .filter(|a| a.shape == x.shape && a.index != x.index)
            .cloned()
            .collect();
        let other = if !earlier.is_empty() && self.chance(0.6) {
            earlier[self.rng.below(earlier.len())].index
        } else {
            let c = x.shape[3];
            let data = (0..c).map(|_| self.int(-128, 127) as i8 as u8).collect();
            let scale = x.scale * self.log_uniform(0.25, 4.0);
            let zp = self.int(-20, 20);
            let dims = if self.chance(0.5) {
                vec![c as i32]
            } else {
                vec![1, 1, 1, c as i32]
            };
            self.tensor(dims, TensorType::Int8, data, Some(per_tensor(scale, zp)))
        };
        let (scale, zp) = self.output_quant(x.scale * 100.0);
        let activation = self.fused();
        let y = self.activation(x.shape, scale, zp);
        self.op(
            BuiltinOp::Add,
            "ADD",
            vec![x.index, other],
            y.index,
            Options::Add { activation },
        );
        y
    }

    fn axis_tensor(&mut self, axes: &[i32]) -> i32 {
        let data = axes.iter().flat_map(|a| a.to_le_bytes()).collect();
        self.tensor(vec![axes.len() as i32], TensorType::Int32, data, None)
    }

    /// MEAN over height and width → [1, C] (or [1, 1, 1, C] with keep_dims).
    fn mean(&mut self, x: &Act) -> Act {
        let c = x.shape[3];
        let keep_dims = self.chance(0.3);
        let axes = if self.chance(0.5) {
            vec![1, 2]
        } else {
            vec![2, 1]
        };
        let axis = self.axis_tensor(&axes);
        let (scale, zp) = if self.chance(0.3) {
            (x.scale, x.zero_point)
        } else {
            self.output_quant(x.scale * 40.0)
        };
        let dims = if keep_dims {
            vec![1, 1, 1, c as i32]
        } else {
            vec![1, c as i32]
        };
        let y = self.activation_with_dims(dims, [1, 1, 1, c], scale, zp);
        self.op(
            BuiltinOp::Mean,
            "MEAN",
            vec![x.index, axis],
            y.index,
            Options::Reducer { keep_dims },
        );
        y
    }

    fn reshape_flat(&mut self, x: &Act) -> Act {
        let n: usize = x.shape.iter().product();
        let shape = self.axis_tensor(&[1, n as i32]);
        let y = self.activation_with_dims(vec![1, n as i32], [1, 1, 1, n], x.scale, x.zero_point);
        self.op(
            BuiltinOp::Reshape,
            "RESHAPE",
            vec![x.index, shape],
            y.index,
            Options::Reshape {
                new_shape: vec![1, n as i32],
            },
        );
        y
    }

    fn fully_connected(&mut self, x: &Act) -> Act {
        let depth = x.shape[3];
        let outputs = 1 + self.rng.below(10);
        let per_channel = self.chance(0.5);
        let (weights, scales) =
            self.weights(vec![outputs as i32, depth as i32], outputs, 0, per_channel);
        let bias = self.bias(x.scale, &scales);
        let mean_scale = scales.iter().sum::<f32>() / scales.len() as f32;
        let (scale, zp) =
            self.output_quant((depth as f32).sqrt() * 60.0 * x.scale * 60.0 * mean_scale);
        let activation = self.fused();
        let y = self.activation_with_dims(vec![1, outputs as i32], [1, 1, 1, outputs], scale, zp);
        self.op(
            BuiltinOp::FullyConnected,
            "FULLY_CONNECTED",
            vec![x.index, weights, bias],
            y.index,
            Options::FullyConnected {
                activation,
                keep_num_dims: false,
            },
        );
        y
    }

    fn softmax(&mut self, x: &Act) -> Act {
        let beta = if self.chance(0.7) {
            1.0
        } else {
            self.uniform(0.3, 2.0)
        };
        let dims = self.model.tensors[x.index as usize].shape.clone();
        let y = self.activation_with_dims(dims, x.shape, 1.0 / 256.0, -128);
        self.op(
            BuiltinOp::Softmax,
            "SOFTMAX",
            vec![x.index],
            y.index,
            Options::Softmax { beta },
        );
        y
    }
}

fn per_tensor(scale: f32, zero_point: i64) -> Quantization {
    Quantization {
        scale: vec![scale],
        zero_point: vec![zero_point],
        quantized_dimension: 0,
    }
}

/// A random model from `seed` (same seed, same bytes).
pub fn random_model(seed: u64) -> RandomModel {
    generate(seed, Input::Image)
}

/// A random model over a time series, `[1, 1, W, C]` like a Keras Conv1D's expanded input,
/// with up to five layers before its head: what streaming inference reuses columns of.
pub fn random_stream_model(seed: u64) -> RandomModel {
    generate(seed, Input::Series)
}

/// The input a generated model takes.
#[derive(Clone, Copy, PartialEq)]
enum Input {
    /// 1–3 rows, 4–32 columns, 1–6 channels, 1–4 layers.
    Image,
    /// One row of 12–64 samples, 1–6 channels, 1–5 layers.
    Series,
}

fn generate(seed: u64, kind: Input) -> RandomModel {
    let mut b = Builder {
        rng: SplitMix64::new(seed),
        model: ModelDef {
            description: format!("harbor random differential model, seed {seed}"),
            tensors: Vec::new(),
            buffers: vec![Vec::new()],
            operators: Vec::new(),
            inputs: Vec::new(),
            outputs: Vec::new(),
        },
        ops: Vec::new(),
        acts: Vec::new(),
    };
    let shape = match kind {
        Input::Image => [
            1,
            1 + b.rng.below(3),
            4 + b.rng.below(29),
            1 + b.rng.below(6),
        ],
        Input::Series => [1, 1, 12 + b.rng.below(53), 1 + b.rng.below(6)],
    };
    let scale = b.log_uniform(0.005, 0.2);
    let zp = b.int(-40, 40);
    let input = b.activation(shape, scale, zp);
    b.model.inputs = vec![input.index];
    b.acts.push(input.clone());
    let mut x = input;
    let layers = match kind {
        Input::Image => 1 + b.rng.below(4),
        Input::Series => 1 + b.rng.below(5),
    };
    for _ in 0..layers {
        let next = match b.rng.below(6) {
            0..=1 => b.conv(&x, false),
            2 => b.conv(&x, true),
            3 => b.pool(&x),
            _ => Some(b.add(&x)),
        };
        if let Some(y) = next {
            b.acts.push(y.clone());
            x = y;
        }
    }
    // Head: nothing, MEAN, or flatten → FULLY_CONNECTED; then maybe SOFTMAX.
    match b.rng.below(3) {
        0 => {}
        1 => {
            x = b.mean(&x);
            if b.chance(0.5) {
                if b.model.tensors[x.index as usize].shape.len() != 2 {
                    x = b.reshape_flat(&x);
                }
                x = b.fully_connected(&x);
            }
        }
        _ => {
            x = b.reshape_flat(&x);
            x = b.fully_connected(&x);
        }
    }
    if b.chance(0.4) {
        x = b.softmax(&x);
    }
    b.model.outputs = vec![x.index];
    let input_len = shape.iter().product();
    let bytes = write_tflite(&b.model).expect("generated models are well formed");
    RandomModel {
        bytes,
        input_len,
        ops: b.ops,
    }
}
