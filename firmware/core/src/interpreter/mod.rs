//! The int8 interpreter: runs a validated model in a caller-provided arena, no heap.
//!
//! Arena layout: `[per-channel multipliers | planned activations]`. Both parts are sized
//! at construction ([`Interpreter::arena_required`]); `invoke` then only does integer work.
//!
//! ```text
//! let model = Model::parse(MODEL_BYTES)?;          // in place, e.g. from a flash slot
//! let mut interpreter = Interpreter::new(model, &mut ARENA)?;
//! interpreter.set_input(0, &window)?;               // int8, already quantized
//! interpreter.invoke()?;
//! let logits = interpreter.output(0)?;              // int8 + scale/zero point
//! ```

#[cfg(feature = "std")]
mod codegen;
mod plan;
mod prepare;
mod stream;

use core::ops::Range;

use crate::kernels::ChannelQuant;
use crate::kernels::{add, conv, depthwise_conv, fully_connected, mean, pooling, softmax};
use crate::tflite::{Error, MAX_OPERATORS, MAX_TENSORS, Model, Shape};
#[cfg(feature = "std")]
pub use codegen::RustSource;
use plan::Buffer;
use prepare::{Kernel, Preparer, Source, Step};
pub use stream::StreamPlan;

/// Shape and quantization of a graph input or output.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TensorInfo {
    /// Tensor index in the model.
    pub tensor: usize,
    /// Shape.
    pub shape: Shape,
    /// `real = scale · (q - zero_point)`.
    pub scale: f32,
    /// Zero point.
    pub zero_point: i32,
}

impl TensorInfo {
    /// Number of int8 elements.
    pub fn len(&self) -> usize {
        self.shape.num_elements()
    }

    /// True for an empty tensor (never for a validated model).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// An int8 output read in place from the arena.
#[derive(Clone, Copy, Debug)]
pub struct Int8View<'a> {
    bytes: &'a [u8],
    /// Shape and quantization.
    pub info: TensorInfo,
}

impl<'a> Int8View<'a> {
    /// Number of elements.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Element `i`.
    pub fn get(&self, i: usize) -> Option<i8> {
        self.bytes.get(i).map(|&b| b as i8)
    }

    /// The values.
    pub fn iter(&self) -> impl Iterator<Item = i8> + 'a {
        self.bytes.iter().map(|&b| b as i8)
    }

    /// Copies the values into `out` (lengths must match).
    pub fn copy_to(&self, out: &mut [i8]) -> Result<(), Error> {
        if out.len() != self.bytes.len() {
            return Err(Error::BadIo {
                reason: "output buffer length differs from the output tensor",
            });
        }
        for (o, &b) in out.iter_mut().zip(self.bytes) {
            *o = b as i8;
        }
        Ok(())
    }

    /// Index of the largest value (first on ties): the predicted class for logits.
    pub fn argmax(&self) -> Option<usize> {
        let mut best: Option<(usize, i8)> = None;
        for (i, v) in self.iter().enumerate() {
            if best.is_none_or(|(_, b)| v > b) {
                best = Some((i, v));
            }
        }
        best.map(|(i, _)| i)
    }
}

/// Prepared compute steps and tensor placement. `STEPS` bounds the ops that run (views
/// alias their input and take no step), `TENSORS` the model's tensors. Built in place, never
/// returned by value: on a band every copy of it is stack.
struct Plan<'m, const STEPS: usize, const TENSORS: usize> {
    /// The first `n_steps` are the computing steps; the rest are `Kernel::View` fillers.
    steps: [Step<'m>; STEPS],
    n_steps: usize,
    ranges: [Range<usize>; TENSORS],
    total: usize,
}

/// Widens tensor `t`'s root lifetime to include step `at`.
fn touch<const N: usize>(buffers: &mut [Buffer; N], root: &[usize; N], t: usize, at: usize) {
    let b = &mut buffers[root[t]];
    b.first = b.first.min(at);
    b.last = b.last.max(at);
}

impl<'m, const STEPS: usize, const TENSORS: usize> Plan<'m, STEPS, TENSORS> {
    /// A constant, so it is copied straight into place rather than built on the side.
    const EMPTY: Self = Plan {
        steps: [Step {
            kernel: Kernel::View,
            input: 0,
            output: 0,
        }; STEPS],
        n_steps: 0,
        ranges: [const { 0..0 }; TENSORS],
        total: 0,
    };

    fn empty() -> Self {
        Self::EMPTY
    }

    /// Prepares every op and places every tensor. With `params`, per-channel multipliers are
    /// written to its start as they are computed; if it is too short the writes stop and the
    /// caller sees `total > params.len()`. Not inlined: its tables are gone before `invoke`.
    #[inline(never)]
    fn build(&mut self, model: &Model<'m>, params: Option<&mut [u8]>) -> Result<(), Error> {
        let mut preparer = Preparer::new(*model, params);
        let n_ops = model.num_operators();
        let n_tensors = model.num_tensors();
        if n_tensors > TENSORS {
            return Err(Error::TooLarge {
                what: "tensors",
                count: n_tensors,
                max: TENSORS,
            });
        }
        // Alias roots: a view's output shares its input's bytes. Lifetimes are kept per root.
        let mut root = [0usize; TENSORS];
        for (t, r) in root.iter_mut().enumerate() {
            *r = t;
        }
        let mut produced = [false; TENSORS];
        let mut buffers = [Buffer {
            first: usize::MAX,
            last: 0,
            len: 0,
        }; TENSORS];
        let mut compute_ops = 0;
        self.n_steps = 0;
        for index in 0..n_ops {
            let step = preparer.step(index)?;
            if produced[step.output] {
                return Err(Error::BadOperator {
                    index,
                    op: model.operator(index)?.name(),
                    reason: "its output tensor is already written by an earlier operator",
                });
            }
            produced[step.output] = true;
            if matches!(step.kernel, Kernel::View) {
                root[step.output] = root[step.input];
            }
            touch(&mut buffers, &root, step.input, index);
            touch(&mut buffers, &root, step.output, index);
            if let Kernel::Add {
                other: Source::Arena(t),
                ..
            } = step.kernel
            {
                touch(&mut buffers, &root, t, index);
            }
            if !matches!(step.kernel, Kernel::View) {
                if let Some(slot) = self.steps.get_mut(compute_ops) {
                    *slot = step;
                }
                compute_ops += 1;
            }
        }
        if compute_ops > STEPS {
            return Err(Error::TooLarge {
                what: "operators that compute",
                count: compute_ops,
                max: STEPS,
            });
        }
        self.n_steps = compute_ops;
        let quant_bytes = preparer.quant_bytes;
        let mut is_input = [false; TENSORS];
        for i in 0..model.num_inputs() {
            let t = model.input_tensor(i).ok_or(Error::BadIo {
                reason: "bad graph input",
            })?;
            if produced[t] {
                return Err(Error::BadIo {
                    reason: "a graph input is also written by an operator",
                });
            }
            is_input[t] = true;
            touch(&mut buffers, &root, t, 0);
        }
        for i in 0..model.num_outputs() {
            let t = model.output_tensor(i).ok_or(Error::BadIo {
                reason: "bad graph output",
            })?;
            touch(&mut buffers, &root, t, usize::MAX);
        }
        for t in 0..n_tensors {
            let r = root[t];
            if buffers[r].first == usize::MAX {
                continue;
            }
            let tensor = model.tensor(t)?;
            if tensor.data.is_some() {
                continue;
            }
            // Every activation read must have been written (or be a graph input).
            if r == t && !produced[t] && !is_input[t] {
                return Err(Error::BadTensor {
                    tensor: t,
                    reason: "activation is read but never written",
                });
            }
            buffers[r].len = buffers[r].len.max(tensor.byte_len());
        }
        let mut offsets = [0usize; TENSORS];
        let activation_bytes = plan::place(&buffers[..n_tensors], &mut offsets);
        let ranges = &mut self.ranges;
        for t in 0..n_tensors {
            let tensor = model.tensor(t)?;
            if tensor.data.is_none() {
                let start = quant_bytes + offsets[root[t]];
                ranges[t] = start..start + tensor.byte_len();
            }
        }
        self.total = quant_bytes + activation_bytes;
        Ok(())
    }
}

/// Runs one int8 model. Construction validates and plans everything; `invoke` cannot fail
/// on a model that constructed, short of an internal bug (reported as an error, not a panic).
///
/// `STEPS` is how many computing operators its table holds (views are free) and `TENSORS`
/// how many tensors; a model with more is refused with [`Error::TooLarge`]. The defaults
/// take any model the parser accepts; a device with little RAM picks smaller tables and
/// keeps the interpreter in one stack frame with [`Interpreter::scoped`].
pub struct Interpreter<
    'm,
    'a,
    const STEPS: usize = MAX_OPERATORS,
    const TENSORS: usize = MAX_TENSORS,
> {
    model: Model<'m>,
    arena: &'a mut [u8],
    plan: Plan<'m, STEPS, TENSORS>,
}

impl<'m, 'a> Interpreter<'m, 'a> {
    /// Arena bytes `model` needs (per-channel parameters + peak activation memory).
    pub fn arena_required(model: &Model<'m>) -> Result<usize, Error> {
        Self::arena_required_sized(model)
    }

    /// Prepares `model` to run in `arena`; fails if the arena is too small.
    pub fn new(model: Model<'m>, arena: &'a mut [u8]) -> Result<Self, Error> {
        let mut interpreter = Self::unprepared(model, arena);
        interpreter.prepare()?;
        Ok(interpreter)
    }
}

impl<'m, 'a, const STEPS: usize, const TENSORS: usize> Interpreter<'m, 'a, STEPS, TENSORS> {
    /// [`Interpreter::arena_required`] with this interpreter's tables.
    pub fn arena_required_sized(model: &Model<'m>) -> Result<usize, Error> {
        let mut plan = Plan::<STEPS, TENSORS>::empty();
        plan.build(model, None)?;
        Ok(plan.total)
    }

    /// Prepares `model` in `arena` and hands the interpreter to `f`, which is where it
    /// lives: it is built in this frame and never moved, so it is on the stack exactly once.
    #[inline(never)]
    pub fn scoped<R>(
        model: Model<'m>,
        arena: &'a mut [u8],
        f: impl FnOnce(&mut Self) -> R,
    ) -> Result<R, Error> {
        let mut interpreter = Interpreter {
            model,
            arena,
            plan: Plan::EMPTY,
        };
        interpreter.prepare()?;
        Ok(f(&mut interpreter))
    }

    fn unprepared(model: Model<'m>, arena: &'a mut [u8]) -> Self {
        Interpreter {
            model,
            arena,
            plan: Plan::empty(),
        }
    }

    fn prepare(&mut self) -> Result<(), Error> {
        self.plan.build(&self.model, Some(&mut self.arena[..]))?;
        if self.arena.len() < self.plan.total {
            return Err(Error::ArenaTooSmall {
                needed: self.plan.total,
                available: self.arena.len(),
            });
        }
        Ok(())
    }

    /// The model being run.
    pub fn model(&self) -> &Model<'m> {
        &self.model
    }

    /// Arena bytes actually used (≤ the arena length).
    pub fn arena_used(&self) -> usize {
        self.plan.total
    }

    fn info(&self, tensor: usize) -> Result<TensorInfo, Error> {
        let t = self.model.tensor(tensor)?;
        let (scale, zero_point) = t.scale_zero_point();
        Ok(TensorInfo {
            tensor,
            shape: t.shape,
            scale,
            zero_point,
        })
    }

    /// Shape and quantization of graph input `i`.
    pub fn input_info(&self, i: usize) -> Result<TensorInfo, Error> {
        let t = self.model.input_tensor(i).ok_or(Error::BadIo {
            reason: "no such model input",
        })?;
        self.info(t)
    }

    /// Shape and quantization of graph output `i`.
    pub fn output_info(&self, i: usize) -> Result<TensorInfo, Error> {
        let t = self.model.output_tensor(i).ok_or(Error::BadIo {
            reason: "no such model output",
        })?;
        self.info(t)
    }

    /// Writes graph input `i`. Inputs may share bytes with later tensors, so set every input
    /// before each `invoke`.
    pub fn set_input(&mut self, i: usize, data: &[i8]) -> Result<(), Error> {
        let info = self.input_info(i)?;
        let range = self.plan.ranges[info.tensor].clone();
        if data.len() != range.len() {
            return Err(Error::BadIo {
                reason: "input length differs from the model's input tensor",
            });
        }
        for (dst, &src) in self.arena[range].iter_mut().zip(data) {
            *dst = src as u8;
        }
        Ok(())
    }

    /// Graph input `i`'s bytes in the arena (int8 values), to fill in place instead of
    /// through [`Interpreter::set_input`]. Set every input before each `invoke`.
    pub fn input_bytes_mut(&mut self, i: usize) -> Result<&mut [u8], Error> {
        let info = self.input_info(i)?;
        Ok(&mut self.arena[self.plan.ranges[info.tensor].clone()])
    }

    /// Graph output `i` after `invoke`.
    pub fn output(&self, i: usize) -> Result<Int8View<'_>, Error> {
        let info = self.output_info(i)?;
        Ok(Int8View {
            bytes: &self.arena[self.plan.ranges[info.tensor].clone()],
            info,
        })
    }

    /// Runs every operator once.
    pub fn invoke(&mut self) -> Result<(), Error> {
        for index in 0..self.plan.n_steps {
            self.run_step(index, 0..0)?;
        }
        Ok(())
    }

    /// Plans streaming inference ([`Interpreter::invoke_stream`]) for windows that advance
    /// by `shift` bytes of graph input 0 (hop × bytes per sample), with the cache in the
    /// arena beyond [`Interpreter::arena_used`]. Models with several inputs reuse nothing.
    pub fn stream_plan(&self, shift: usize) -> StreamPlan<STEPS> {
        let input = match (self.model.num_inputs(), self.model.input_tensor(0)) {
            (1, Some(t)) => self.plan.ranges[t].clone(),
            _ => return StreamPlan::NONE,
        };
        let capacity = self.arena.len().saturating_sub(self.plan.total);
        stream::plan(
            &self.plan.steps[..self.plan.n_steps],
            &self.plan.ranges,
            input,
            shift,
            capacity,
        )
    }

    /// Runs every operator once, like [`Interpreter::invoke`], on a window of a stream.
    /// With `continues`, the arena's cache holds the previous window's columns, made by
    /// `invoke_stream` with this `plan` on the window `plan.shift()` bytes earlier (and the
    /// arena beyond `arena_used` untouched since): those columns are copied, not computed.
    /// Either way the cache is refilled for the next window. The outputs equal `invoke`'s.
    pub fn invoke_stream(
        &mut self,
        plan: &StreamPlan<STEPS>,
        continues: bool,
    ) -> Result<(), Error> {
        let cache = self.plan.total;
        if cache + plan.cache_bytes() > self.arena.len() {
            return Err(Error::ArenaTooSmall {
                needed: cache + plan.cache_bytes(),
                available: self.arena.len(),
            });
        }
        for index in 0..self.plan.n_steps {
            let Some(reuse) = plan.reuse[index] else {
                self.run_step(index, 0..0)?;
                continue;
            };
            let tensor = self.plan.ranges[self.plan.steps[index].output].clone();
            let (kept, saved) = (reuse.kept_bytes(), reuse.saved_bytes());
            if saved.end.max(kept.end) > tensor.len() {
                return Err(Error::BadIo {
                    reason: "the stream plan was made for another model",
                });
            }
            let (output, at) = (tensor.start, cache + usize::from(reuse.cache_at));
            let kept_columns = if continues {
                self.arena
                    .copy_within(at..at + kept.len(), output + kept.start);
                reuse.kept()
            } else {
                0..0
            };
            self.run_step(index, kept_columns)?;
            self.arena
                .copy_within(output + saved.start..output + saved.end, at);
        }
        Ok(())
    }

    /// Runs computing step `index`; a convolution leaves its output columns `kept` alone.
    fn run_step(&mut self, index: usize, kept: Range<usize>) -> Result<(), Error> {
        let step = self.plan.steps[index];
        let out_range = self.plan.ranges[step.output].clone();
        let (reader, output) = split(self.arena, out_range.clone())?;
        let input = reader.get(self.plan.ranges[step.input].clone())?;
        let params = |slot: prepare::QuantSlot| reader.get(slot.range()).map(ChannelQuant::new);
        match step.kernel {
            Kernel::Conv {
                params: p,
                input_shape,
                filter_shape,
                filter,
                bias,
                output_shape,
                quant,
            } => conv::conv_per_channel(
                &p,
                &params(quant)?,
                input_shape,
                input,
                filter_shape,
                filter,
                bias,
                output_shape,
                output,
                kept.clone(),
            ),
            Kernel::Depthwise {
                params: p,
                depth_multiplier,
                input_shape,
                filter_shape,
                filter,
                bias,
                output_shape,
                quant,
            } => depthwise_conv::depthwise_conv_per_channel(
                &p,
                depth_multiplier,
                &params(quant)?,
                input_shape,
                input,
                filter_shape,
                filter,
                bias,
                output_shape,
                output,
            ),
            // Its bias is folded into the per-channel constants at prepare.
            Kernel::FullyConnected {
                params: p,
                batches,
                depth,
                outputs,
                filter,
                quant,
            } => fully_connected::fully_connected(
                &p,
                &params(quant)?,
                batches,
                depth,
                outputs,
                input,
                filter,
                output,
            ),
            Kernel::Pool {
                kind,
                params: p,
                input_shape,
                output_shape,
            } => pooling::pool(kind, &p, input_shape, input, output_shape, output),
            Kernel::Mean {
                params: p,
                outer,
                reduced,
                inner,
            } => mean::mean(&p, outer, reduced, inner, input, output),
            Kernel::Softmax {
                params: p,
                rows,
                depth,
            } => softmax::softmax(&p, rows, depth, input, output),
            Kernel::Add {
                params: p,
                other,
                shape1,
                shape2,
                output_shape,
            } => {
                let other = match other {
                    Source::Arena(t) => reader.get(self.plan.ranges[t].clone())?,
                    Source::Const(data) => data,
                };
                add::add(&p, &shape1, input, &shape2, other, &output_shape, output)
            }
            Kernel::View => {}
        }
        Ok(())
    }
}

/// Read access to the arena outside one output range.
pub struct Reader<'x> {
    low: &'x [u8],
    high: &'x [u8],
    high_start: usize,
}

impl<'x> Reader<'x> {
    /// The bytes `r` of the arena: an error if they overlap the output range.
    pub fn get(&self, r: Range<usize>) -> Result<&'x [u8], Error> {
        let internal = Error::BadIo {
            reason: "internal error: planned tensors overlap",
        };
        if r.end <= self.low.len() {
            Ok(&self.low[r])
        } else if r.start >= self.high_start {
            self.high
                .get(r.start - self.high_start..r.end - self.high_start)
                .ok_or(internal)
        } else {
            Err(internal)
        }
    }
}

/// Splits the arena into the writable output range and everything else, read-only. Code
/// made by `Interpreter::rust_source` calls it for every step.
pub fn split(arena: &mut [u8], out: Range<usize>) -> Result<(Reader<'_>, &mut [u8]), Error> {
    if out.end > arena.len() || out.start > out.end {
        return Err(Error::BadIo {
            reason: "internal error: tensor outside the arena",
        });
    }
    let (low, rest) = arena.split_at_mut(out.start);
    let (output, high) = rest.split_at_mut(out.end - out.start);
    Ok((
        Reader {
            low,
            high,
            high_start: out.end,
        },
        output,
    ))
}
