//! A prepared model as Rust source (`harbor models compile`): the plan `Interpreter::new`
//! made, written out as constants and one direct kernel call per step. A firmware that
//! includes it runs the model with harbor-core's kernels but without the model reader, the
//! preparation or the interpreter's tables, and keeps weights and per-channel constants in
//! flash. That suits a board whose model never changes; a board that takes models over the
//! air keeps the interpreter. The outputs are the interpreter's, bit for bit: same kernels,
//! same constants, same arena layout.

use std::fmt::Write as _;
use std::format;
use std::string::{String, ToString};
use std::vec::Vec;

use super::Interpreter;
use super::prepare::{Kernel, Source};
use crate::fixedpoint::QuantizedMultiplier;
use crate::kernels::add::AddParams;
use crate::kernels::conv::ConvParams;
use crate::kernels::fully_connected::FullyConnectedParams;
use crate::kernels::mean::MeanParams;
use crate::kernels::pooling::{PoolKind, PoolParams};
use crate::kernels::softmax::SoftmaxParams;
use crate::kernels::{ActivationRange, Bias, Shape4};

/// Values per line of a byte table.
const PER_LINE: usize = 24;

/// A prepared model as Rust source, with what it declares.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RustSource {
    /// The module's items (see [`Interpreter::rust_source`]).
    pub text: String,
    /// Kernel calls in `invoke`: the model's computing steps.
    pub steps: usize,
    /// `ARENA`: activation bytes (the constants are tables in flash).
    pub arena: usize,
}

impl<const STEPS: usize, const TENSORS: usize> Interpreter<'_, '_, STEPS, TENSORS> {
    /// The prepared model as a Rust module's items: `ARENA` (activation bytes), `INPUT` and
    /// `OUTPUT` (graph input 0 and output 0 in the arena), the constant tables, and
    /// `fn invoke(arena: &mut [u8; ARENA]) -> Result<(), Error>`. `origin` names the model in
    /// the header comment. Include it in a module (`mod model { include!("model.rs"); }`);
    /// it needs harbor-core as `harbor_core`.
    pub fn rust_source(&self, origin: &str) -> RustSource {
        let steps = &self.plan.steps[..self.plan.n_steps];
        let graph = |t: Option<usize>| t.map(|t| self.plan.ranges[t].clone());
        let (input, output) = (
            graph(self.model.input_tensor(0)),
            graph(self.model.output_tensor(0)),
        );
        let mut used: Vec<core::ops::Range<usize>> = input.iter().chain(&output).cloned().collect();
        for step in steps {
            used.push(self.plan.ranges[step.input].clone());
            used.push(self.plan.ranges[step.output].clone());
            if let Kernel::Add {
                other: Source::Arena(t),
                ..
            } = step.kernel
            {
                used.push(self.plan.ranges[t].clone());
            }
        }
        // Activations start after the per-channel constants, which go to flash instead.
        let base = used.iter().map(|r| r.start).min().unwrap_or(0);
        let end = used.iter().map(|r| r.end).max().unwrap_or(0);
        let at = |r: &core::ops::Range<usize>| format!("{}..{}", r.start - base, r.end - base);

        let mut tables = String::new();
        let mut body = String::new();
        for (i, step) in steps.iter().enumerate() {
            let (input, out) = (
                &self.plan.ranges[step.input],
                &self.plan.ranges[step.output],
            );
            let _ = writeln!(
                body,
                "    let (r, out) = split(&mut arena[..], {})?;",
                at(out)
            );
            let x = format!("r.get({})?", at(input));
            let call = match step.kernel {
                Kernel::View => continue,
                Kernel::Conv {
                    params,
                    input_shape,
                    filter_shape,
                    filter,
                    bias,
                    output_shape,
                    quant,
                } => {
                    let (q, w) = weights(&mut tables, i, filter, &self.arena[quant.range()]);
                    let b = bias_table(&mut tables, i, bias, output_shape.c);
                    format!(
                        "conv::conv_per_channel(&{}, {q}, {}, {x}, {}, {w}, {b}, {}, out, 0..0)",
                        conv(&params),
                        shape(input_shape),
                        shape(filter_shape),
                        shape(output_shape),
                    )
                }
                Kernel::Depthwise {
                    params,
                    depth_multiplier,
                    input_shape,
                    filter_shape,
                    filter,
                    bias,
                    output_shape,
                    quant,
                } => {
                    let (q, w) = weights(&mut tables, i, filter, &self.arena[quant.range()]);
                    let b = bias_table(&mut tables, i, bias, output_shape.c);
                    format!(
                        "depthwise_conv::depthwise_conv_per_channel(&{}, {depth_multiplier}, {q}, {}, {x}, {}, {w}, {b}, {}, out)",
                        conv(&params),
                        shape(input_shape),
                        shape(filter_shape),
                        shape(output_shape),
                    )
                }
                Kernel::FullyConnected {
                    params,
                    batches,
                    depth,
                    outputs,
                    filter,
                    quant,
                } => {
                    let (q, w) = weights(&mut tables, i, filter, &self.arena[quant.range()]);
                    format!(
                        "fully_connected::fully_connected(&{}, {q}, {batches}, {depth}, {outputs}, {x}, {w}, out)",
                        fully_connected(&params)
                    )
                }
                Kernel::Pool {
                    kind,
                    params,
                    input_shape,
                    output_shape,
                } => format!(
                    "pooling::pool({}, &{}, {}, {x}, {}, out)",
                    match kind {
                        PoolKind::Max => "PoolKind::Max",
                        PoolKind::Average => "PoolKind::Average",
                    },
                    pool(&params),
                    shape(input_shape),
                    shape(output_shape),
                ),
                Kernel::Mean {
                    params,
                    outer,
                    reduced,
                    inner,
                } => format!(
                    "mean::mean(&{}, {outer}, {reduced}, {inner}, {x}, out)",
                    mean(&params)
                ),
                Kernel::Softmax {
                    params,
                    rows,
                    depth,
                } => format!(
                    "softmax::softmax(&{}, {rows}, {depth}, {x}, out)",
                    softmax(&params)
                ),
                Kernel::Add {
                    params,
                    other,
                    shape1,
                    shape2,
                    output_shape,
                } => {
                    let other = match other {
                        Source::Arena(t) => format!("r.get({})?", at(&self.plan.ranges[t])),
                        Source::Const(data) => {
                            bytes(&mut tables, &format!("C{i}"), data);
                            format!("&C{i}")
                        }
                    };
                    format!(
                        "add::add(&{}, &{shape1:?}, {x}, &{shape2:?}, {other}, &{output_shape:?}, out)",
                        add(&params)
                    )
                }
            };
            let _ = writeln!(body, "    {call};");
        }

        let mut s = String::new();
        let _ = writeln!(
            s,
            "// {origin}, prepared by harbor-core {} (`harbor models compile`). Do not edit:\n\
             // regenerate it from the model. Runs bit-exactly like harbor's interpreter.\n",
            env!("CARGO_PKG_VERSION")
        );
        s.push_str(
            "#[allow(unused_imports)]\n\
             use harbor_core::fixedpoint::QuantizedMultiplier;\n\
             use harbor_core::interpreter::split;\n\
             #[allow(unused_imports)]\n\
             use harbor_core::kernels::{\n    \
             ActivationRange, Bias, ChannelQuant, Shape4, add, add::AddParams, conv, conv::ConvParams,\n    \
             depthwise_conv, fully_connected, fully_connected::FullyConnectedParams, mean,\n    \
             mean::MeanParams, pooling, pooling::PoolKind, pooling::PoolParams, softmax,\n    \
             softmax::SoftmaxParams,\n};\n\n",
        );
        let _ = writeln!(
            s,
            "/// Arena bytes the activations need.\npub const ARENA: usize = {};",
            end - base
        );
        if let (Some(i), Some(o)) = (&input, &output) {
            let _ = writeln!(
                s,
                "/// Graph input 0's int8 bytes in the arena.\npub const INPUT: core::ops::Range<usize> = {};\n\
                 /// Graph output 0's int8 bytes in the arena, after `invoke`.\npub const OUTPUT: core::ops::Range<usize> = {};\n",
                at(i),
                at(o)
            );
        }
        s.push_str(&tables);
        let _ = writeln!(
            s,
            "\n/// Runs the model once on `arena[INPUT]`; the result is then in `arena[OUTPUT]`.\n\
             /// Errors only on an internal inconsistency (tensors that overlap), never panics.\n\
             #[allow(clippy::too_many_lines)]\n\
             pub fn invoke(arena: &mut [u8; ARENA]) -> Result<(), harbor_core::tflite::Error> {{\n\
             {body}    Ok(())\n}}"
        );
        RustSource {
            text: s,
            steps: steps
                .iter()
                .filter(|step| !matches!(step.kernel, Kernel::View))
                .count(),
            arena: end - base,
        }
    }
}

/// `static NAME: [u8; N] = [...];`, a few values per line.
fn bytes(out: &mut String, name: &str, data: &[u8]) {
    let _ = writeln!(out, "static {name}: [u8; {}] = [", data.len());
    for line in data.chunks(PER_LINE) {
        let values: Vec<String> = line.iter().map(u8::to_string).collect();
        let _ = writeln!(out, "    {},", values.join(", "));
    }
    out.push_str("];\n");
}

/// Step `i`'s weight table `W{i}` and per-channel constants `Q{i}`, and the expressions that
/// pass them to a kernel.
fn weights(out: &mut String, i: usize, filter: &[u8], quant: &[u8]) -> (String, String) {
    bytes(out, &format!("W{i}"), filter);
    bytes(out, &format!("Q{i}"), quant);
    (format!("&ChannelQuant::new(&Q{i})"), format!("&W{i}"))
}

/// The bias table of step `i` (`channels` int32 values), or `None`.
fn bias_table(out: &mut String, i: usize, bias: Option<Bias<'_>>, channels: usize) -> String {
    let Some(bias) = bias else {
        return "None".into();
    };
    let data: Vec<u8> = (0..channels)
        .flat_map(|c| bias.get(c).to_le_bytes())
        .collect();
    bytes(out, &format!("B{i}"), &data);
    format!("Some(Bias::new(&B{i}))")
}

fn shape(s: Shape4) -> String {
    format!(
        "Shape4 {{ n: {}, h: {}, w: {}, c: {} }}",
        s.n, s.h, s.w, s.c
    )
}

fn activation(a: ActivationRange) -> String {
    format!("ActivationRange {{ min: {}, max: {} }}", a.min, a.max)
}

fn multiplier(q: QuantizedMultiplier) -> String {
    format!(
        "QuantizedMultiplier {{ multiplier: {}, shift: {} }}",
        q.multiplier, q.shift
    )
}

fn conv(p: &ConvParams) -> String {
    format!(
        "ConvParams {{ stride_h: {}, stride_w: {}, dilation_h: {}, dilation_w: {}, pad_h: {}, pad_w: {}, input_offset: {}, output_offset: {}, activation: {} }}",
        p.stride_h,
        p.stride_w,
        p.dilation_h,
        p.dilation_w,
        p.pad_h,
        p.pad_w,
        p.input_offset,
        p.output_offset,
        activation(p.activation)
    )
}

fn pool(p: &PoolParams) -> String {
    format!(
        "PoolParams {{ filter_h: {}, filter_w: {}, stride_h: {}, stride_w: {}, pad_h: {}, pad_w: {}, activation: {} }}",
        p.filter_h,
        p.filter_w,
        p.stride_h,
        p.stride_w,
        p.pad_h,
        p.pad_w,
        activation(p.activation)
    )
}

fn fully_connected(p: &FullyConnectedParams) -> String {
    format!(
        "FullyConnectedParams {{ input_offset: {}, output_offset: {}, activation: {} }}",
        p.input_offset,
        p.output_offset,
        activation(p.activation)
    )
}

fn mean(p: &MeanParams) -> String {
    let MeanParams::Requantize {
        count,
        input_zero_point,
        output_zero_point,
        multiplier: m,
    } = *p;
    format!(
        "MeanParams::Requantize {{ count: {count}, input_zero_point: {input_zero_point}, output_zero_point: {output_zero_point}, multiplier: {} }}",
        multiplier(m)
    )
}

fn softmax(p: &SoftmaxParams) -> String {
    format!(
        "SoftmaxParams {{ input_multiplier: {}, diff_min: {} }}",
        multiplier(p.input_multiplier),
        p.diff_min
    )
}

fn add(p: &AddParams) -> String {
    format!(
        "AddParams {{ input1_offset: {}, input2_offset: {}, output_offset: {}, input1_multiplier: {}, input2_multiplier: {}, output_multiplier: {}, activation: {} }}",
        p.input1_offset,
        p.input2_offset,
        p.output_offset,
        multiplier(p.input1_multiplier),
        multiplier(p.input2_multiplier),
        multiplier(p.output_multiplier),
        activation(p.activation)
    )
}
