//! Float32 reference interpreter (host only, `std`): runs a float32 `.tflite` with the ops
//! harbor runs in int8, so a model's float file is the desktop reference a device's int8
//! outputs are compared with. Semantics are TFLite's float reference kernels (f32
//! accumulation in the same loop order); it is a reference, not a fast path.

use std::vec;
use std::vec::Vec;

use crate::kernels::Padding;
use crate::kernels::add::MAX_BROADCAST_RANK;
use crate::kernels::params::Shape4;
use crate::tflite::builtin::code;
use crate::tflite::flatbuffer::Table;
use crate::tflite::{Error, Model, Operator, Tensor, TensorType};

/// A fused activation on float values.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Activation {
    None,
    Relu,
    ReluN1To1,
    Relu6,
}

impl Activation {
    fn apply(self, x: f32) -> f32 {
        match self {
            Activation::None => x,
            Activation::Relu => x.max(0.0),
            Activation::ReluN1To1 => x.clamp(-1.0, 1.0),
            Activation::Relu6 => x.clamp(0.0, 6.0),
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Geometry {
    stride_h: usize,
    stride_w: usize,
    dilation_h: usize,
    dilation_w: usize,
    pad_h: usize,
    pad_w: usize,
}

#[derive(Clone, Debug)]
enum Kernel {
    Conv {
        geometry: Geometry,
        depth_multiplier: Option<usize>,
        input: Shape4,
        filter_shape: Shape4,
        filter: Vec<f32>,
        bias: Option<Vec<f32>>,
        output: Shape4,
        activation: Activation,
    },
    FullyConnected {
        batches: usize,
        depth: usize,
        outputs: usize,
        weights: Vec<f32>,
        bias: Option<Vec<f32>>,
        activation: Activation,
    },
    Pool {
        max: bool,
        filter_h: usize,
        filter_w: usize,
        geometry: Geometry,
        input: Shape4,
        output: Shape4,
        activation: Activation,
    },
    Mean {
        outer: usize,
        reduced: usize,
        inner: usize,
    },
    Softmax {
        beta: f32,
        depth: usize,
    },
    Add {
        other: Operand,
        shape1: [usize; MAX_BROADCAST_RANK],
        shape2: [usize; MAX_BROADCAST_RANK],
        output: [usize; MAX_BROADCAST_RANK],
        activation: Activation,
    },
    View,
}

#[derive(Clone, Debug)]
enum Operand {
    Tensor(usize),
    Const(Vec<f32>),
}

#[derive(Clone, Debug)]
struct Step {
    kernel: Kernel,
    input: usize,
    output: usize,
}

/// A prepared float32 model: every operator validated, constants decoded once.
#[derive(Clone, Debug)]
pub struct FloatInterpreter {
    steps: Vec<Step>,
    input: usize,
    output: usize,
    input_shape: Vec<usize>,
    output_shape: Vec<usize>,
    tensors: usize,
}

impl FloatInterpreter {
    /// Prepares `model` (from [`Model::parse_float32`]): shapes, options and activations are
    /// checked the way the int8 interpreter checks them.
    pub fn new(model: &Model<'_>) -> Result<Self, Error> {
        let io = |reason| Error::BadIo { reason };
        if model.num_inputs() != 1 || model.num_outputs() != 1 {
            return Err(io(
                "float models must have exactly one input and one output",
            ));
        }
        let input = model.input_tensor(0).ok_or(io("bad graph input"))?;
        let output = model.output_tensor(0).ok_or(io("bad graph output"))?;
        let mut steps = Vec::with_capacity(model.num_operators());
        let mut written = vec![false; model.num_tensors()];
        written[input] = true;
        for index in 0..model.num_operators() {
            let op = model.operator(index)?;
            let cx = Cx { model, op };
            let step = cx.step()?;
            let reads = [
                Some(step.input),
                match &step.kernel {
                    Kernel::Add {
                        other: Operand::Tensor(t),
                        ..
                    } => Some(*t),
                    _ => None,
                },
            ];
            for t in reads.into_iter().flatten() {
                if !written[t] {
                    return Err(Error::BadTensor {
                        tensor: t,
                        reason: "activation is read before it is written",
                    });
                }
            }
            written[step.output] = true;
            steps.push(step);
        }
        if !written[output] {
            return Err(io("the graph output is never written"));
        }
        Ok(FloatInterpreter {
            steps,
            input,
            output,
            input_shape: model.tensor(input)?.shape.dims().to_vec(),
            output_shape: model.tensor(output)?.shape.dims().to_vec(),
            tensors: model.num_tensors(),
        })
    }

    /// Shape of the graph input (batch 1 included).
    pub fn input_shape(&self) -> &[usize] {
        &self.input_shape
    }

    /// Shape of the graph output.
    pub fn output_shape(&self) -> &[usize] {
        &self.output_shape
    }

    /// Runs one input (its length must be the input's element count).
    pub fn run(&self, input: &[f32]) -> Result<Vec<f32>, Error> {
        let expected: usize = self.input_shape.iter().product();
        if input.len() != expected {
            return Err(Error::BadIo {
                reason: "input length differs from the model's input tensor",
            });
        }
        let mut values: Vec<Option<Vec<f32>>> = vec![None; self.tensors];
        values[self.input] = Some(input.to_vec());
        for step in &self.steps {
            let missing = Error::BadIo {
                reason: "internal error: tensor read before it was written",
            };
            let x = values[step.input].as_deref().ok_or(missing)?;
            let out = match &step.kernel {
                Kernel::View => x.to_vec(),
                Kernel::Conv {
                    geometry,
                    depth_multiplier,
                    input,
                    filter_shape,
                    filter,
                    bias,
                    output,
                    activation,
                } => conv(
                    geometry,
                    *depth_multiplier,
                    *input,
                    x,
                    *filter_shape,
                    filter,
                    bias.as_deref(),
                    *output,
                    *activation,
                ),
                Kernel::FullyConnected {
                    batches,
                    depth,
                    outputs,
                    weights,
                    bias,
                    activation,
                } => {
                    let mut out = vec![0.0; batches * outputs];
                    for b in 0..*batches {
                        let xs = &x[b * depth..(b + 1) * depth];
                        for o in 0..*outputs {
                            let ws = &weights[o * depth..(o + 1) * depth];
                            let mut total = 0.0f32;
                            for (xv, wv) in xs.iter().zip(ws) {
                                total += xv * wv;
                            }
                            let bias = bias.as_ref().map_or(0.0, |b| b[o]);
                            out[b * outputs + o] = activation.apply(total + bias);
                        }
                    }
                    out
                }
                Kernel::Pool {
                    max,
                    filter_h,
                    filter_w,
                    geometry,
                    input,
                    output,
                    activation,
                } => pool(
                    *max,
                    *filter_h,
                    *filter_w,
                    geometry,
                    *input,
                    x,
                    *output,
                    *activation,
                ),
                Kernel::Mean {
                    outer,
                    reduced,
                    inner,
                } => {
                    let mut out = vec![0.0; outer * inner];
                    for o in 0..*outer {
                        for i in 0..*inner {
                            let mut sum = 0.0f32;
                            for r in 0..*reduced {
                                sum += x[(o * reduced + r) * inner + i];
                            }
                            out[o * inner + i] = sum / *reduced as f32;
                        }
                    }
                    out
                }
                Kernel::Softmax { beta, depth } => {
                    let mut out = vec![0.0; x.len()];
                    for (row, dst) in x.chunks(*depth).zip(out.chunks_mut(*depth)) {
                        let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                        let mut sum = 0.0f32;
                        for (d, &v) in dst.iter_mut().zip(row) {
                            *d = ((v - max) * beta).exp();
                            sum += *d;
                        }
                        for d in dst.iter_mut() {
                            *d /= sum;
                        }
                    }
                    out
                }
                Kernel::Add {
                    other,
                    shape1,
                    shape2,
                    output,
                    activation,
                } => {
                    let y = match other {
                        Operand::Tensor(t) => values[*t].as_deref().ok_or(missing)?,
                        Operand::Const(v) => v.as_slice(),
                    };
                    add(shape1, x, shape2, y, output, *activation)
                }
            };
            values[step.output] = Some(out);
        }
        values[self.output].take().ok_or(Error::BadIo {
            reason: "internal error: output never written",
        })
    }
}

#[allow(clippy::too_many_arguments)]
fn conv(
    g: &Geometry,
    depth_multiplier: Option<usize>,
    input: Shape4,
    x: &[f32],
    filter: Shape4,
    w: &[f32],
    bias: Option<&[f32]>,
    output: Shape4,
    activation: Activation,
) -> Vec<f32> {
    let mut out = vec![0.0; output.len()];
    let groups = input.c / filter.c.max(1);
    let per_group = output.c / groups.max(1);
    for b in 0..output.n {
        for oy in 0..output.h {
            for ox in 0..output.w {
                for oc in 0..output.c {
                    let mut total = 0.0f32;
                    for fy in 0..filter.h {
                        let iy = (oy * g.stride_h + fy * g.dilation_h) as isize - g.pad_h as isize;
                        if iy < 0 || iy >= input.h as isize {
                            continue;
                        }
                        for fx in 0..filter.w {
                            let ix =
                                (ox * g.stride_w + fx * g.dilation_w) as isize - g.pad_w as isize;
                            if ix < 0 || ix >= input.w as isize {
                                continue;
                            }
                            let (iy, ix) = (iy as usize, ix as usize);
                            match depth_multiplier {
                                Some(m) => {
                                    let ic = oc / m;
                                    total += x[input.offset(b, iy, ix, ic)]
                                        * w[filter.offset(0, fy, fx, oc)];
                                }
                                None => {
                                    let first = (oc / per_group.max(1)) * filter.c;
                                    for fc in 0..filter.c {
                                        total += x[input.offset(b, iy, ix, first + fc)]
                                            * w[filter.offset(oc, fy, fx, fc)];
                                    }
                                }
                            }
                        }
                    }
                    let bias = bias.map_or(0.0, |v| v[oc]);
                    out[output.offset(b, oy, ox, oc)] = activation.apply(total + bias);
                }
            }
        }
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn pool(
    max: bool,
    filter_h: usize,
    filter_w: usize,
    g: &Geometry,
    input: Shape4,
    x: &[f32],
    output: Shape4,
    activation: Activation,
) -> Vec<f32> {
    let mut out = vec![0.0; output.len()];
    for b in 0..output.n {
        for oy in 0..output.h {
            for ox in 0..output.w {
                for c in 0..output.c {
                    let (mut acc, mut count) = (if max { f32::MIN } else { 0.0 }, 0usize);
                    for fy in 0..filter_h {
                        let iy = (oy * g.stride_h + fy) as isize - g.pad_h as isize;
                        if iy < 0 || iy >= input.h as isize {
                            continue;
                        }
                        for fx in 0..filter_w {
                            let ix = (ox * g.stride_w + fx) as isize - g.pad_w as isize;
                            if ix < 0 || ix >= input.w as isize {
                                continue;
                            }
                            let v = x[input.offset(b, iy as usize, ix as usize, c)];
                            acc = if max { acc.max(v) } else { acc + v };
                            count += 1;
                        }
                    }
                    let v = if max { acc } else { acc / count.max(1) as f32 };
                    out[output.offset(b, oy, ox, c)] = activation.apply(v);
                }
            }
        }
    }
    out
}

fn add(
    s1: &[usize; MAX_BROADCAST_RANK],
    x: &[f32],
    s2: &[usize; MAX_BROADCAST_RANK],
    y: &[f32],
    so: &[usize; MAX_BROADCAST_RANK],
    activation: Activation,
) -> Vec<f32> {
    let total: usize = so.iter().product();
    let mut out = vec![0.0; total];
    let strides = |s: &[usize; MAX_BROADCAST_RANK]| {
        let mut st = [0usize; MAX_BROADCAST_RANK];
        let mut acc = 1;
        for d in (0..MAX_BROADCAST_RANK).rev() {
            st[d] = if s[d] == 1 { 0 } else { acc };
            acc *= s[d];
        }
        st
    };
    let (st1, st2) = (strides(s1), strides(s2));
    for (flat, o) in out.iter_mut().enumerate() {
        let (mut rest, mut i1, mut i2) = (flat, 0, 0);
        for d in (0..MAX_BROADCAST_RANK).rev() {
            let idx = rest % so[d];
            rest /= so[d];
            i1 += idx * st1[d];
            i2 += idx * st2[d];
        }
        *o = activation.apply(x[i1] + y[i2]);
    }
    out
}

/// The operator being prepared.
struct Cx<'a, 'm> {
    model: &'a Model<'m>,
    op: Operator<'m>,
}

impl<'m> Cx<'_, 'm> {
    fn bad(&self, reason: &'static str) -> Error {
        Error::BadOperator {
            index: self.op.index,
            op: self.op.name(),
            reason,
        }
    }

    fn tensor(&self, slot: usize) -> Result<Tensor<'m>, Error> {
        let index = self.op.input(slot).ok_or(self.bad("missing input"))?;
        self.model.tensor(index)
    }

    fn activation(&self, slot: usize) -> Result<Tensor<'m>, Error> {
        let t = self.tensor(slot)?;
        if t.data.is_some() {
            return Err(self.bad("constant data where an activation input was expected"));
        }
        Ok(t)
    }

    fn constant_f32(&self, slot: usize) -> Result<Vec<f32>, Error> {
        let t = self.tensor(slot)?;
        match (t.dtype, t.data) {
            (TensorType::Float32, Some(data)) => Ok(data
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect()),
            _ => Err(self.bad("weights and bias must be float32 constants")),
        }
    }

    fn options(&self) -> Option<Table<'m>> {
        self.op.options()
    }

    fn opt<T: crate::tflite::flatbuffer::Scalar>(
        &self,
        slot: usize,
        default: T,
    ) -> Result<T, Error> {
        Ok(match self.options() {
            Some(t) => t.scalar::<T>(slot, default)?,
            None => default,
        })
    }

    fn activation_fn(&self, code: i8) -> Result<Activation, Error> {
        Ok(match code {
            0 => Activation::None,
            1 => Activation::Relu,
            2 => Activation::ReluN1To1,
            3 => Activation::Relu6,
            _ => {
                return Err(
                    self.bad("unsupported fused activation (only NONE, RELU, RELU_N1_TO_1, RELU6)")
                );
            }
        })
    }

    fn rank4(&self, t: &Tensor<'m>) -> Result<Shape4, Error> {
        if t.shape.rank() != 4 {
            return Err(self.bad("expected a 4-D tensor"));
        }
        Shape4::extend(t.shape.dims()).ok_or(self.bad("expected a 4-D tensor"))
    }

    fn padding(&self, code: i8) -> Result<Padding, Error> {
        match code {
            0 => Ok(Padding::Same),
            1 => Ok(Padding::Valid),
            _ => Err(self.bad("unknown padding")),
        }
    }

    fn positive(&self, v: i32, reason: &'static str) -> Result<usize, Error> {
        usize::try_from(v)
            .ok()
            .filter(|&v| v >= 1)
            .ok_or(self.bad(reason))
    }

    fn step(&self) -> Result<Step, Error> {
        if self.op.num_outputs() != 1 {
            return Err(self.bad("expected exactly one output"));
        }
        let output = self
            .model
            .tensor(self.op.output(0).ok_or(self.bad("missing output"))?)?;
        if output.data.is_some() {
            return Err(self.bad("output tensor has constant data"));
        }
        let input = self.activation(0)?;
        let kernel = match self.op.code {
            code::CONV_2D | code::DEPTHWISE_CONV_2D => self.conv(&input, &output)?,
            code::FULLY_CONNECTED => self.fully_connected(&input, &output)?,
            code::MAX_POOL_2D | code::AVERAGE_POOL_2D => self.pool(&input, &output)?,
            code::MEAN => self.mean(&input, &output)?,
            code::SOFTMAX => {
                let beta = self.opt::<f32>(0, 1.0)?;
                if output.shape.num_elements() != input.shape.num_elements() {
                    return Err(self.bad("output size differs from input size"));
                }
                Kernel::Softmax {
                    beta,
                    depth: input.shape.last(0),
                }
            }
            code::ADD => self.add(&input, &output)?,
            code::RESHAPE | code::EXPAND_DIMS | code::SQUEEZE => {
                if input.shape.num_elements() != output.shape.num_elements() {
                    return Err(self.bad("input and output sizes differ"));
                }
                Kernel::View
            }
            other => {
                return Err(Error::UnsupportedOperator {
                    name: crate::tflite::builtin::name(other),
                    code: other,
                    index: self.op.index,
                });
            }
        };
        Ok(Step {
            kernel,
            input: input.index,
            output: output.index,
        })
    }

    fn conv(&self, input: &Tensor<'m>, output: &Tensor<'m>) -> Result<Kernel, Error> {
        let depthwise = self.op.code == code::DEPTHWISE_CONV_2D;
        let filter_t = self.tensor(1)?;
        let filter = self.constant_f32(1)?;
        let (input_shape, output_shape) = (self.rank4(input)?, self.rank4(output)?);
        let filter_shape = self.rank4(&filter_t)?;
        let (act_slot, dw, dh) = if depthwise { (4, 5, 6) } else { (3, 4, 5) };
        let padding = self.padding(self.opt::<i8>(0, 0)?)?;
        let stride_w = self.positive(self.opt::<i32>(1, 0)?, "stride must be at least 1")?;
        let stride_h = self.positive(self.opt::<i32>(2, 0)?, "stride must be at least 1")?;
        let dilation_w = self.positive(self.opt::<i32>(dw, 1)?, "dilation must be at least 1")?;
        let dilation_h = self.positive(self.opt::<i32>(dh, 1)?, "dilation must be at least 1")?;
        let activation = self.activation_fn(self.opt::<i8>(act_slot, 0)?)?;
        let (out_channels, depth_multiplier) = if depthwise {
            if filter_shape.n != 1 || !filter_shape.c.is_multiple_of(input_shape.c) {
                return Err(
                    self.bad("depthwise filter must be [1, h, w, in_channels × multiplier]")
                );
            }
            (filter_shape.c, Some(filter_shape.c / input_shape.c))
        } else {
            if !input_shape.c.is_multiple_of(filter_shape.c)
                || !filter_shape
                    .n
                    .is_multiple_of(input_shape.c / filter_shape.c)
            {
                return Err(self.bad("filter depth does not divide the input channels"));
            }
            (filter_shape.n, None)
        };
        let out_h = padding.output_size(input_shape.h, filter_shape.h, stride_h, dilation_h);
        let out_w = padding.output_size(input_shape.w, filter_shape.w, stride_w, dilation_w);
        if out_h != Some(output_shape.h)
            || out_w != Some(output_shape.w)
            || output_shape.c != out_channels
            || output_shape.n != input_shape.n
        {
            return Err(self.bad("output shape does not match input, filter, stride and padding"));
        }
        let bias = self.bias(2, out_channels)?;
        Ok(Kernel::Conv {
            geometry: Geometry {
                stride_h,
                stride_w,
                dilation_h,
                dilation_w,
                pad_h: Padding::before(
                    input_shape.h,
                    filter_shape.h,
                    stride_h,
                    dilation_h,
                    output_shape.h,
                ),
                pad_w: Padding::before(
                    input_shape.w,
                    filter_shape.w,
                    stride_w,
                    dilation_w,
                    output_shape.w,
                ),
            },
            depth_multiplier,
            input: input_shape,
            filter_shape,
            filter,
            bias,
            output: output_shape,
            activation,
        })
    }

    fn bias(&self, slot: usize, channels: usize) -> Result<Option<Vec<f32>>, Error> {
        if self.op.input(slot).is_none() {
            return Ok(None);
        }
        let bias = self.constant_f32(slot)?;
        if bias.len() != channels {
            return Err(self.bad("bias length does not match the output channels"));
        }
        Ok(Some(bias))
    }

    fn fully_connected(&self, input: &Tensor<'m>, output: &Tensor<'m>) -> Result<Kernel, Error> {
        let weights_t = self.tensor(1)?;
        let dims = weights_t.shape.dims();
        if dims.len() != 2 {
            return Err(self.bad("weights must be 2-D [outputs, depth]"));
        }
        let (outputs, depth) = (dims[0], dims[1]);
        let elements = input.shape.num_elements();
        if !elements.is_multiple_of(depth) {
            return Err(self.bad("input size is not a multiple of the weights depth"));
        }
        let batches = elements / depth;
        if output.shape.num_elements() != batches * outputs {
            return Err(self.bad("output size does not match batches × outputs"));
        }
        if self.opt::<i8>(1, 0)? != 0 {
            return Err(self.bad("only the default weights format is supported"));
        }
        Ok(Kernel::FullyConnected {
            batches,
            depth,
            outputs,
            weights: self.constant_f32(1)?,
            bias: self.bias(2, outputs)?,
            activation: self.activation_fn(self.opt::<i8>(0, 0)?)?,
        })
    }

    fn pool(&self, input: &Tensor<'m>, output: &Tensor<'m>) -> Result<Kernel, Error> {
        let (input_shape, output_shape) = (self.rank4(input)?, self.rank4(output)?);
        if self.options().is_none() {
            return Err(self.bad("missing pooling options"));
        }
        let padding = self.padding(self.opt::<i8>(0, 0)?)?;
        let stride_w = self.positive(self.opt::<i32>(1, 0)?, "stride must be at least 1")?;
        let stride_h = self.positive(self.opt::<i32>(2, 0)?, "stride must be at least 1")?;
        let filter_w = self.positive(self.opt::<i32>(3, 0)?, "filter size must be at least 1")?;
        let filter_h = self.positive(self.opt::<i32>(4, 0)?, "filter size must be at least 1")?;
        let activation = self.activation_fn(self.opt::<i8>(5, 0)?)?;
        let out_h = padding.output_size(input_shape.h, filter_h, stride_h, 1);
        let out_w = padding.output_size(input_shape.w, filter_w, stride_w, 1);
        if out_h != Some(output_shape.h)
            || out_w != Some(output_shape.w)
            || output_shape.c != input_shape.c
            || output_shape.n != input_shape.n
        {
            return Err(self.bad("output shape does not match input, window, stride and padding"));
        }
        Ok(Kernel::Pool {
            max: self.op.code == code::MAX_POOL_2D,
            filter_h,
            filter_w,
            geometry: Geometry {
                stride_h,
                stride_w,
                dilation_h: 1,
                dilation_w: 1,
                pad_h: Padding::before(input_shape.h, filter_h, stride_h, 1, output_shape.h),
                pad_w: Padding::before(input_shape.w, filter_w, stride_w, 1, output_shape.w),
            },
            input: input_shape,
            output: output_shape,
            activation,
        })
    }

    fn mean(&self, input: &Tensor<'m>, output: &Tensor<'m>) -> Result<Kernel, Error> {
        let axis = self.tensor(1)?;
        let data = match (axis.dtype, axis.data) {
            (TensorType::Int32, Some(d)) => d,
            _ => return Err(self.bad("the axis input must be an int32 constant")),
        };
        let rank = input.shape.rank() as i32;
        let mut reduce = [false; crate::tflite::MAX_RANK];
        for chunk in data.chunks_exact(4) {
            let a = i32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
            let a = if a < 0 { a + rank } else { a };
            if !(0..rank).contains(&a) {
                return Err(self.bad("axis out of range"));
            }
            reduce[a as usize] = true;
        }
        let dims = input.shape.dims();
        let first = reduce
            .iter()
            .position(|&r| r)
            .ok_or(self.bad("no axis to reduce"))?;
        let last = reduce.iter().rposition(|&r| r).unwrap_or(first);
        if reduce[first..=last].iter().any(|&r| !r) {
            return Err(self.bad("only contiguous reduction axes are supported"));
        }
        let outer: usize = dims[..first].iter().product();
        let reduced: usize = dims[first..=last].iter().product();
        let inner: usize = dims[last + 1..].iter().product();
        if output.shape.num_elements() != outer * inner {
            return Err(self.bad("output size does not match the reduced shape"));
        }
        Ok(Kernel::Mean {
            outer,
            reduced,
            inner,
        })
    }

    fn add(&self, input: &Tensor<'m>, output: &Tensor<'m>) -> Result<Kernel, Error> {
        let other_t = self.tensor(1)?;
        let other = if other_t.data.is_some() {
            Operand::Const(self.constant_f32(1)?)
        } else {
            Operand::Tensor(other_t.index)
        };
        let pad = |dims: &[usize]| {
            let mut out = [1usize; MAX_BROADCAST_RANK];
            out[MAX_BROADCAST_RANK - dims.len()..].copy_from_slice(dims);
            out
        };
        let (shape1, shape2, out) = (
            pad(input.shape.dims()),
            pad(other_t.shape.dims()),
            pad(output.shape.dims()),
        );
        for d in 0..MAX_BROADCAST_RANK {
            let expected = match (shape1[d], shape2[d]) {
                (a, b) if a == b => a,
                (1, b) => b,
                (a, 1) => a,
                _ => return Err(self.bad("input shapes do not broadcast")),
            };
            if out[d] != expected {
                return Err(self.bad("output shape is not the broadcast of the inputs"));
            }
        }
        Ok(Kernel::Add {
            other,
            shape1,
            shape2,
            output: out,
            activation: self.activation_fn(self.opt::<i8>(0, 0)?)?,
        })
    }
}
