//! Turns each operator into a ready-to-run step: validates shapes, types and options the way
//! TFLM's `Prepare` functions do and computes the integer requantization parameters (the
//! only place float arithmetic happens).

use crate::fixedpoint::QuantizedMultiplier;
use crate::fixedpoint::scales;
use crate::kernels::add::{AddParams, MAX_BROADCAST_RANK};
use crate::kernels::conv::ConvParams;
use crate::kernels::fully_connected::FullyConnectedParams;
use crate::kernels::mean::MeanParams;
use crate::kernels::pooling::{PoolKind, PoolParams};
use crate::kernels::softmax::SoftmaxParams;
use crate::kernels::{ActivationRange, Bias, ChannelQuant, Padding, Shape4};
use crate::tflite::builtin::code;
use crate::tflite::{Error, Model, Operator, Tensor, TensorType};

/// Where an op's per-channel multipliers sit in the arena's parameter region.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QuantSlot {
    /// Byte offset from the start of the arena.
    pub offset: usize,
    /// Number of channels.
    pub channels: usize,
}

impl QuantSlot {
    /// Byte range in the arena.
    pub fn range(&self) -> core::ops::Range<usize> {
        self.offset..self.offset + self.channels * ChannelQuant::BYTES_PER_CHANNEL
    }
}

/// Where an op input comes from.
#[derive(Clone, Copy, Debug)]
pub enum Source<'m> {
    /// An activation tensor in the arena.
    Arena(usize),
    /// Constant data in the model.
    Const(&'m [u8]),
}

/// The kernel call of one step, with everything precomputed.
#[derive(Clone, Copy, Debug)]
pub enum Kernel<'m> {
    /// RESHAPE / EXPAND_DIMS / SQUEEZE: the output aliases the input; nothing runs. First, so
    /// its tag is 0 and an empty plan is all zeros (set with `memset`, not copied from flash).
    View,
    /// CONV_2D.
    Conv {
        params: ConvParams,
        input_shape: Shape4,
        filter_shape: Shape4,
        filter: &'m [u8],
        bias: Option<Bias<'m>>,
        output_shape: Shape4,
        quant: QuantSlot,
    },
    /// DEPTHWISE_CONV_2D.
    Depthwise {
        params: ConvParams,
        depth_multiplier: usize,
        input_shape: Shape4,
        filter_shape: Shape4,
        filter: &'m [u8],
        bias: Option<Bias<'m>>,
        output_shape: Shape4,
        quant: QuantSlot,
    },
    /// FULLY_CONNECTED.
    FullyConnected {
        params: FullyConnectedParams,
        batches: usize,
        depth: usize,
        outputs: usize,
        filter: &'m [u8],
        // No bias: it is folded into `quant` (see `ChannelQuant::folded_bias`).
        quant: QuantSlot,
    },
    /// MAX_POOL_2D / AVERAGE_POOL_2D.
    Pool {
        kind: PoolKind,
        params: PoolParams,
        input_shape: Shape4,
        output_shape: Shape4,
    },
    /// MEAN over contiguous axes.
    Mean {
        params: MeanParams,
        outer: usize,
        reduced: usize,
        inner: usize,
    },
    /// SOFTMAX over the last axis.
    Softmax {
        params: SoftmaxParams,
        rows: usize,
        depth: usize,
    },
    /// ADD with broadcasting.
    Add {
        params: AddParams,
        other: Source<'m>,
        shape1: [usize; MAX_BROADCAST_RANK],
        shape2: [usize; MAX_BROADCAST_RANK],
        output_shape: [usize; MAX_BROADCAST_RANK],
    },
}

/// One prepared operator.
#[derive(Clone, Copy, Debug)]
pub struct Step<'m> {
    /// The computation.
    pub kernel: Kernel<'m>,
    /// Main activation input tensor.
    pub input: usize,
    /// Output tensor.
    pub output: usize,
}

/// Prepares operators in order. `params` receives the per-channel multipliers when given
/// (it must be at least `quant_bytes` long, as returned by a first pass with `None`).
pub struct Preparer<'m, 'p> {
    model: Model<'m>,
    params: Option<&'p mut [u8]>,
    /// Bytes of per-channel parameters allocated so far.
    pub quant_bytes: usize,
}

impl<'m, 'p> Preparer<'m, 'p> {
    /// Starts preparing `model`.
    pub fn new(model: Model<'m>, params: Option<&'p mut [u8]>) -> Self {
        Preparer {
            model,
            params,
            quant_bytes: 0,
        }
    }

    /// Prepares operator `index`.
    pub fn step(&mut self, index: usize) -> Result<Step<'m>, Error> {
        let op = self.model.operator(index)?;
        let cx = Cx {
            model: self.model,
            op,
        };
        if op.num_outputs() != 1 {
            return Err(cx.bad("expected exactly one output"));
        }
        let output = cx.activation_output()?;
        let input = cx.activation(0)?;
        let kernel = match op.code {
            code::CONV_2D | code::DEPTHWISE_CONV_2D => self.conv(&cx, &input, &output)?,
            code::FULLY_CONNECTED => self.fully_connected(&cx, &input, &output)?,
            code::MAX_POOL_2D | code::AVERAGE_POOL_2D => cx.pool(&input, &output)?,
            code::MEAN => cx.mean(&input, &output)?,
            code::SOFTMAX => cx.softmax(&input, &output)?,
            code::ADD => cx.add(&input, &output)?,
            code::RESHAPE | code::EXPAND_DIMS | code::SQUEEZE => {
                if input.byte_len() != output.byte_len() {
                    return Err(cx.bad("input and output sizes differ"));
                }
                Kernel::View
            }
            _ => {
                return Err(Error::UnsupportedOperator {
                    name: Some(op.name()),
                    code: op.code,
                    index,
                });
            }
        };
        Ok(Step {
            kernel,
            input: input.index,
            output: output.index,
        })
    }

    /// Reserves and (in the writing pass) fills per-channel multipliers and folded biases.
    fn channel_quant(
        &mut self,
        channels: usize,
        multiplier: impl Fn(usize) -> QuantizedMultiplier,
        folded_bias: impl Fn(usize) -> i32,
    ) -> QuantSlot {
        let slot = QuantSlot {
            offset: self.quant_bytes,
            channels,
        };
        self.quant_bytes += channels * ChannelQuant::BYTES_PER_CHANNEL;
        if let Some(bytes) = self
            .params
            .as_deref_mut()
            .and_then(|region| region.get_mut(slot.range()))
        {
            for c in 0..channels {
                ChannelQuant::encode(bytes, c, multiplier(c), folded_bias(c));
            }
        }
        slot
    }

    fn conv(
        &mut self,
        cx: &Cx<'m>,
        input: &Tensor<'m>,
        output: &Tensor<'m>,
    ) -> Result<Kernel<'m>, Error> {
        let depthwise = cx.op.code == code::DEPTHWISE_CONV_2D;
        let filter = cx.constant(1, TensorType::Int8)?;
        let input_shape = cx.rank4(input)?;
        let output_shape = cx.rank4(output)?;
        let filter_shape = cx.rank4(&filter)?;
        let options = cx.op.options();
        let opt_i32 = |slot: usize, default: i32| -> Result<i32, Error> {
            Ok(match options {
                Some(t) => t.scalar::<i32>(slot, default)?,
                None => default,
            })
        };
        let opt_i8 = |slot: usize| -> Result<i8, Error> {
            Ok(match options {
                Some(t) => t.scalar::<i8>(slot, 0)?,
                None => 0,
            })
        };
        // Conv2DOptions: padding 0, stride_w 1, stride_h 2, activation 3, dilation_w 4, dilation_h 5.
        // DepthwiseConv2DOptions: padding 0, stride_w 1, stride_h 2, depth_multiplier 3,
        // activation 4, dilation_w 5, dilation_h 6.
        let (act_slot, dil_w_slot, dil_h_slot) = if depthwise { (4, 5, 6) } else { (3, 4, 5) };
        let padding = cx.padding(opt_i8(0)?)?;
        let stride_w = cx.positive(opt_i32(1, 0)?, "stride must be at least 1")?;
        let stride_h = cx.positive(opt_i32(2, 0)?, "stride must be at least 1")?;
        let dilation_w = cx.positive(opt_i32(dil_w_slot, 1)?, "dilation must be at least 1")?;
        let dilation_h = cx.positive(opt_i32(dil_h_slot, 1)?, "dilation must be at least 1")?;
        let (in_scale, in_zp) = input.scale_zero_point();
        let (out_scale, out_zp) = output.scale_zero_point();
        let activation = cx.activation_range(opt_i8(act_slot)?, output)?;

        let out_channels = if depthwise {
            filter_shape.c
        } else {
            filter_shape.n
        };
        let (depth_multiplier, filter_h, filter_w) = if depthwise {
            if filter_shape.n != 1 || !filter_shape.c.is_multiple_of(input_shape.c) {
                return Err(cx.bad("depthwise filter must be [1, h, w, in_channels × multiplier]"));
            }
            (
                filter_shape.c / input_shape.c,
                filter_shape.h,
                filter_shape.w,
            )
        } else {
            if !input_shape.c.is_multiple_of(filter_shape.c)
                || !out_channels.is_multiple_of(input_shape.c / filter_shape.c)
            {
                return Err(cx.bad("filter depth does not divide the input channels"));
            }
            (1, filter_shape.h, filter_shape.w)
        };
        let out_h = padding.output_size(input_shape.h, filter_h, stride_h, dilation_h);
        let out_w = padding.output_size(input_shape.w, filter_w, stride_w, dilation_w);
        if out_h != Some(output_shape.h)
            || out_w != Some(output_shape.w)
            || output_shape.c != out_channels
            || output_shape.n != input_shape.n
        {
            return Err(cx.bad("output shape does not match input, filter, stride and padding"));
        }
        let bias = cx.bias(2, out_channels)?;
        let filter_q = cx.per_channel(&filter, out_channels, if depthwise { 3 } else { 0 })?;
        let filter_bytes = filter.data.unwrap_or(&[]);
        let per_channel = filter_h * filter_w * filter_shape.c;
        let folded_bias = |c: usize| {
            let bias = bias.map_or(0, |b| b.get(c));
            if depthwise {
                let taps = filter_bytes.iter().skip(c).step_by(out_channels.max(1));
                ChannelQuant::fold_bias(bias, -in_zp, taps.copied())
            } else {
                let row = filter_bytes.get(c * per_channel..(c + 1) * per_channel);
                ChannelQuant::fold_bias(bias, -in_zp, row.unwrap_or(&[]).iter().copied())
            }
        };
        let quant = self.channel_quant(
            out_channels,
            |c| {
                let filter_scale = filter_q.scale(if filter_q.len() > 1 { c } else { 0 });
                scales::product_ratio(in_scale, filter_scale, out_scale)
            },
            folded_bias,
        );
        let params = ConvParams {
            stride_h,
            stride_w,
            dilation_h,
            dilation_w,
            pad_h: Padding::before(
                input_shape.h,
                filter_h,
                stride_h,
                dilation_h,
                output_shape.h,
            ),
            pad_w: Padding::before(
                input_shape.w,
                filter_w,
                stride_w,
                dilation_w,
                output_shape.w,
            ),
            input_offset: -in_zp,
            output_offset: out_zp,
            activation,
        };
        Ok(if depthwise {
            Kernel::Depthwise {
                params,
                depth_multiplier,
                input_shape,
                filter_shape,
                filter: filter_bytes,
                bias,
                output_shape,
                quant,
            }
        } else {
            Kernel::Conv {
                params,
                input_shape,
                filter_shape,
                filter: filter_bytes,
                bias,
                output_shape,
                quant,
            }
        })
    }

    fn fully_connected(
        &mut self,
        cx: &Cx<'m>,
        input: &Tensor<'m>,
        output: &Tensor<'m>,
    ) -> Result<Kernel<'m>, Error> {
        let filter = cx.constant(1, TensorType::Int8)?;
        let dims = filter.shape.dims();
        if dims.len() != 2 {
            return Err(cx.bad("weights must be 2-D [outputs, depth]"));
        }
        let (outputs, depth) = (dims[0], dims[1]);
        let elements = input.shape.num_elements();
        if !elements.is_multiple_of(depth) {
            return Err(cx.bad("input size is not a multiple of the weights depth"));
        }
        let batches = elements / depth;
        if output.shape.num_elements() != batches * outputs {
            return Err(cx.bad("output size does not match batches × outputs"));
        }
        // FullyConnectedOptions: activation 0, weights_format 1, keep_num_dims 2.
        let options = cx.op.options();
        let (activation, weights_format) = match options {
            Some(t) => (t.scalar::<i8>(0, 0)?, t.scalar::<i8>(1, 0)?),
            None => (0, 0),
        };
        if weights_format != 0 {
            return Err(cx.bad("only the default weights format is supported"));
        }
        let activation = cx.activation_range(activation, output)?;
        let bias = cx.bias(2, outputs)?;
        let filter_q = cx.per_channel(&filter, outputs, 0)?;
        let (in_scale, in_zp) = input.scale_zero_point();
        let (out_scale, out_zp) = output.scale_zero_point();
        let per_channel = filter_q.len() > 1;
        let weights = filter.data.unwrap_or(&[]);
        let quant = self.channel_quant(
            outputs,
            |c| {
                if per_channel {
                    scales::product_ratio(in_scale, filter_q.scale(c), out_scale)
                } else {
                    // GetQuantizedConvolutionMultipler multiplies the two scales in float first.
                    scales::f32_product_ratio(in_scale, filter_q.scale(0), out_scale)
                }
            },
            |c| {
                let row = weights.get(c * depth..(c + 1) * depth).unwrap_or(&[]);
                ChannelQuant::fold_bias(bias.map_or(0, |b| b.get(c)), -in_zp, row.iter().copied())
            },
        );
        Ok(Kernel::FullyConnected {
            params: FullyConnectedParams {
                input_offset: -in_zp,
                output_offset: out_zp,
                activation,
            },
            batches,
            depth,
            outputs,
            filter: weights,
            quant,
        })
    }
}

/// The operator being prepared, with validation helpers.
struct Cx<'m> {
    model: Model<'m>,
    op: Operator<'m>,
}

impl<'m> Cx<'m> {
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

    /// An int8 activation input with per-tensor quantization.
    fn activation(&self, slot: usize) -> Result<Tensor<'m>, Error> {
        let t = self.tensor(slot)?;
        if t.data.is_some() {
            return Err(self.bad("constant data where an activation input was expected"));
        }
        self.per_tensor_int8(t)
    }

    fn activation_output(&self) -> Result<Tensor<'m>, Error> {
        let index = self.op.output(0).ok_or(self.bad("missing output"))?;
        let t = self.model.tensor(index)?;
        if t.data.is_some() {
            return Err(self.bad("output tensor has constant data"));
        }
        self.per_tensor_int8(t)
    }

    fn per_tensor_int8(&self, t: Tensor<'m>) -> Result<Tensor<'m>, Error> {
        if t.dtype != TensorType::Int8 {
            return Err(Error::NotInt8 {
                tensor: t.index,
                dtype: t.dtype,
            });
        }
        match t.quantization {
            Some(q) if q.len() == 1 => Ok(t),
            _ => Err(Error::BadTensor {
                tensor: t.index,
                reason: "activations need one (per-tensor) scale and zero point",
            }),
        }
    }

    fn constant(&self, slot: usize, dtype: TensorType) -> Result<Tensor<'m>, Error> {
        let t = self.tensor(slot)?;
        if t.data.is_none() {
            return Err(self.bad("weights, bias, axis and shape inputs must be constant"));
        }
        if t.dtype != dtype {
            return Err(if dtype == TensorType::Int8 {
                Error::NotInt8 {
                    tensor: t.index,
                    dtype: t.dtype,
                }
            } else {
                self.bad("constant input has the wrong type")
            });
        }
        Ok(t)
    }

    fn bias(&self, slot: usize, channels: usize) -> Result<Option<Bias<'m>>, Error> {
        if self.op.input(slot).is_none() {
            return Ok(None);
        }
        let t = self.constant(slot, TensorType::Int32)?;
        if t.shape.num_elements() != channels {
            return Err(self.bad("bias length does not match the output channels"));
        }
        Ok(t.data.map(Bias::new))
    }

    /// Weight quantization: symmetric, per-tensor or per-channel along `axis`.
    fn per_channel(
        &self,
        filter: &Tensor<'m>,
        channels: usize,
        axis: usize,
    ) -> Result<crate::tflite::Quantization<'m>, Error> {
        let q = filter
            .quantization
            .ok_or(self.bad("weights are not quantized"))?;
        if q.len() != 1 && (q.len() != channels || q.quantized_dimension != axis) {
            return Err(self.bad("per-channel weight scales do not match the output channels"));
        }
        if (0..q.len()).any(|i| q.zero_point(i) != 0) {
            return Err(self.bad("weights must be symmetric (zero point 0)"));
        }
        Ok(q)
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

    fn activation_range(
        &self,
        function: i8,
        output: &Tensor<'m>,
    ) -> Result<ActivationRange, Error> {
        let (scale, zp) = output.scale_zero_point();
        ActivationRange::quantized(function, scale, zp)
            .ok_or(self.bad("unsupported fused activation (only NONE, RELU, RELU_N1_TO_1, RELU6)"))
    }

    fn pool(&self, input: &Tensor<'m>, output: &Tensor<'m>) -> Result<Kernel<'m>, Error> {
        let input_shape = self.rank4(input)?;
        let output_shape = self.rank4(output)?;
        let t = self
            .op
            .options()
            .ok_or(self.bad("missing pooling options"))?;
        // Pool2DOptions: padding 0, stride_w 1, stride_h 2, filter_w 3, filter_h 4, activation 5.
        let padding = self.padding(t.scalar::<i8>(0, 0)?)?;
        let stride_w = self.positive(t.scalar::<i32>(1, 0)?, "stride must be at least 1")?;
        let stride_h = self.positive(t.scalar::<i32>(2, 0)?, "stride must be at least 1")?;
        let filter_w = self.positive(t.scalar::<i32>(3, 0)?, "filter size must be at least 1")?;
        let filter_h = self.positive(t.scalar::<i32>(4, 0)?, "filter size must be at least 1")?;
        let activation = self.activation_range(t.scalar::<i8>(5, 0)?, output)?;
        let out_h = padding.output_size(input_shape.h, filter_h, stride_h, 1);
        let out_w = padding.output_size(input_shape.w, filter_w, stride_w, 1);
        if out_h != Some(output_shape.h)
            || out_w != Some(output_shape.w)
            || output_shape.c != input_shape.c
            || output_shape.n != input_shape.n
        {
            return Err(self.bad("output shape does not match input, window, stride and padding"));
        }
        let kind = if self.op.code == code::MAX_POOL_2D {
            PoolKind::Max
        } else {
            PoolKind::Average
        };
        Ok(Kernel::Pool {
            kind,
            params: PoolParams {
                filter_h,
                filter_w,
                stride_h,
                stride_w,
                pad_h: Padding::before(input_shape.h, filter_h, stride_h, 1, output_shape.h),
                pad_w: Padding::before(input_shape.w, filter_w, stride_w, 1, output_shape.w),
                activation,
            },
            input_shape,
            output_shape,
        })
    }

    fn mean(&self, input: &Tensor<'m>, output: &Tensor<'m>) -> Result<Kernel<'m>, Error> {
        let axis = self.constant(1, TensorType::Int32)?;
        let data = axis.data.unwrap_or(&[]);
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
        let (in_scale, in_zp) = input.scale_zero_point();
        let (out_scale, out_zp) = output.scale_zero_point();
        let multiplier = scales::ratio(in_scale, out_scale);
        Ok(Kernel::Mean {
            params: MeanParams::new(reduced, in_zp, out_zp, multiplier),
            outer,
            reduced,
            inner,
        })
    }

    fn softmax(&self, input: &Tensor<'m>, output: &Tensor<'m>) -> Result<Kernel<'m>, Error> {
        let (out_scale, out_zp) = output.scale_zero_point();
        // TFLM requires exactly this output quantization for int8 softmax.
        if out_zp != -128 || !SoftmaxParams::output_scale_ok(out_scale) {
            return Err(self.bad("int8 softmax output must have scale 1/256 and zero point -128"));
        }
        let beta = match self.op.options() {
            Some(t) => t.scalar::<f32>(0, 0.0)?,
            None => 1.0,
        };
        // Finite and > 0, on the bit pattern (no float comparison on the band).
        if !(1..0x7f80_0000).contains(&core::hint::black_box(beta.to_bits())) {
            return Err(self.bad("softmax beta must be positive"));
        }
        let depth = input.shape.last(0);
        let elements = input.shape.num_elements();
        if output.shape.num_elements() != elements {
            return Err(self.bad("output size differs from input size"));
        }
        let (in_scale, _) = input.scale_zero_point();
        let params = SoftmaxParams::new(beta, in_scale);
        if params.input_multiplier.shift < 0 {
            return Err(self.bad("input scale too small for TFLM's softmax scaling"));
        }
        Ok(Kernel::Softmax {
            params,
            rows: elements / depth,
            depth,
        })
    }

    fn add(&self, input: &Tensor<'m>, output: &Tensor<'m>) -> Result<Kernel<'m>, Error> {
        let other = self.tensor(1)?;
        let other = if other.data.is_some() {
            if other.dtype != TensorType::Int8 {
                return Err(Error::NotInt8 {
                    tensor: other.index,
                    dtype: other.dtype,
                });
            }
            other
        } else {
            self.activation(1)?
        };
        let pad = |t: &Tensor<'m>| -> Result<[usize; MAX_BROADCAST_RANK], Error> {
            let dims = t.shape.dims();
            let mut out = [1usize; MAX_BROADCAST_RANK];
            out[MAX_BROADCAST_RANK - dims.len()..].copy_from_slice(dims);
            Ok(out)
        };
        let (shape1, shape2, output_shape) = (pad(input)?, pad(&other)?, pad(output)?);
        for d in 0..MAX_BROADCAST_RANK {
            let expected = match (shape1[d], shape2[d]) {
                (a, b) if a == b => a,
                (1, b) => b,
                (a, 1) => a,
                _ => return Err(self.bad("input shapes do not broadcast")),
            };
            if output_shape[d] != expected {
                return Err(self.bad("output shape is not the broadcast of the inputs"));
            }
        }
        let activation = match self.op.options() {
            Some(t) => t.scalar::<i8>(0, 0)?,
            None => 0,
        };
        let activation = self.activation_range(activation, output)?;
        let params = AddParams::new(
            input.scale_zero_point(),
            other.scale_zero_point(),
            output.scale_zero_point(),
            activation,
        )
        .ok_or(self.bad("scales give a rescale multiplier ≥ 1, which TFLM rejects"))?;
        Ok(Kernel::Add {
            params,
            other: match other.data {
                Some(d) => Source::Const(d),
                None => Source::Arena(other.index),
            },
            shape1,
            shape2,
            output_shape,
        })
    }
}
