//! Scores a model on labelled windows: the float network and the int8 model as the band
//! runs it (harbor-core), with how often they agree. Framework-free, so `harbor eval` works
//! in slim builds.

use harbor_core::tflite::Model;
use harbor_core::tflite::builtin::code;

use super::confusion::{Confusion, argmax};
use super::float_net::FloatNet;
use super::input::{InputQuant, Normalization};
use super::int8::{self, HostInt8, Int8Error};
use super::quantize::QuantModel;
use super::windows::WindowSet;

/// Float and int8 predictions of one evaluation, with agreement figures.
#[derive(Clone, Debug)]
pub struct Evaluation {
    /// Float network on normalized windows.
    pub float: Confusion,
    /// int8 model through harbor-core, on raw windows through the band's input conversion.
    pub int8: Confusion,
    /// Share of windows where float and int8 pick the same class.
    pub agreement: f64,
    /// Largest |float softmax − int8 probabilities| over all windows and classes.
    pub max_prob_delta: f64,
}

/// What a model's output holds, read from its graph.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputKind {
    /// Probabilities: the output comes out of a SOFTMAX.
    Softmax,
    /// Anything else (a dense layer's logits, usually).
    Logits,
}

impl OutputKind {
    /// `Softmax` when the operator writing the model's output is SOFTMAX.
    pub fn of(tflite: &[u8]) -> Result<Self, Int8Error> {
        let model = Model::parse(tflite).map_err(Int8Error::Parse)?;
        let output = model.output_tensor(0);
        for i in (0..model.num_operators()).rev() {
            let op = model.operator(i).map_err(Int8Error::Parse)?;
            if (0..op.num_outputs()).any(|o| op.output(o) == output) {
                return Ok(if op.code == code::SOFTMAX {
                    OutputKind::Softmax
                } else {
                    OutputKind::Logits
                });
            }
        }
        Ok(OutputKind::Logits)
    }

    /// Probabilities from dequantized outputs: as they are after a softmax, else a softmax.
    pub fn probabilities(self, outputs: &[f32]) -> Vec<f32> {
        match self {
            OutputKind::Softmax => outputs.to_vec(),
            OutputKind::Logits => softmax(outputs),
        }
    }
}

/// The int8 model's outputs on raw `set` (the band's input conversion, then harbor-core),
/// with their dequantization.
pub struct Int8Outputs {
    /// int8 outputs per window.
    pub outputs: Vec<Vec<i8>>,
    /// Output scale.
    pub scale: f32,
    /// Output zero point.
    pub zero_point: i32,
    /// Softmax or logits.
    pub kind: OutputKind,
}

impl Int8Outputs {
    /// Class per window (first maximum).
    pub fn classes(&self) -> Vec<usize> {
        self.outputs.iter().map(|o| argmax(o)).collect()
    }

    /// Probabilities of window `i`.
    pub fn probabilities(&self, i: usize) -> Vec<f32> {
        let real: Vec<f32> = self.outputs[i]
            .iter()
            .map(|&q| (i32::from(q) - self.zero_point) as f32 * self.scale)
            .collect();
        self.kind.probabilities(&real)
    }
}

/// Runs the int8 model on raw `set` through `conversion`; a window that is not the model's
/// input size is an error, never a panic.
pub fn run_int8(
    tflite: &[u8],
    conversion: &InputQuant,
    set: &WindowSet,
) -> Result<Int8Outputs, Int8Error> {
    let kind = OutputKind::of(tflite)?;
    let mut arena = vec![0u8; int8::arena_bytes(tflite)?];
    let mut host = HostInt8::new(tflite, &mut arena)?;
    let values = set.window * set.channels;
    if values != host.input_len {
        return Err(Int8Error::WindowLength {
            window: set.window,
            channels: set.channels,
            expected: host.input_len,
        });
    }
    let outputs = (0..set.len())
        .map(|i| host.run(&conversion.quantize_window(set.get(i), set.channels)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Int8Outputs {
        outputs,
        scale: host.output_scale,
        zero_point: host.output_zero_point,
        kind,
    })
}

/// Scores float (normalized input) and int8 (raw readings through the band's input
/// conversion, then harbor-core) on raw `set`.
pub fn evaluate(
    net: &FloatNet,
    norm: &Normalization,
    quant: &QuantModel,
    tflite: &[u8],
    set: &WindowSet,
) -> Result<Evaluation, Int8Error> {
    let classes = net.arch.classes;
    if set.window != net.arch.window || set.channels != net.arch.channels {
        return Err(Int8Error::WindowLength {
            window: set.window,
            channels: set.channels,
            expected: net.arch.window * net.arch.channels,
        });
    }
    let conv = InputQuant::new(norm, quant.input.scale, quant.input.zero_point);
    let int8 = run_int8(tflite, &conv, set)?;
    let normalized = norm.apply(set);
    let float_logits: Vec<Vec<f32>> = (0..set.len())
        .map(|i| net.logits(normalized.get(i)))
        .collect();
    let float_pred: Vec<usize> = float_logits.iter().map(|l| argmax(l)).collect();
    let int8_pred = int8.classes();
    let same = float_pred
        .iter()
        .zip(&int8_pred)
        .filter(|(a, b)| a == b)
        .count();
    let mut max_delta = 0f64;
    for (i, l) in float_logits.iter().enumerate() {
        for (p, q) in softmax(l).iter().zip(int8.probabilities(i)) {
            max_delta = max_delta.max(f64::from((p - q).abs()));
        }
    }
    Ok(Evaluation {
        float: Confusion::from_pairs(classes, &set.y, &float_pred),
        int8: Confusion::from_pairs(classes, &set.y, &int8_pred),
        agreement: if set.is_empty() {
            0.0
        } else {
            same as f64 / set.len() as f64
        },
        max_prob_delta: max_delta,
    })
}

fn softmax(l: &[f32]) -> Vec<f32> {
    let m = l.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b));
    let e: Vec<f32> = l.iter().map(|v| (v - m).exp()).collect();
    let s: f32 = e.iter().sum();
    e.iter().map(|v| v / s).collect()
}
