//! Scores a model on labelled windows: the float network and the int8 model as the band
//! runs it (harbor-core), with how often they agree. Framework-free, so `harbor eval` works
//! in slim builds.

use super::confusion::{Confusion, argmax};
use super::float_net::FloatNet;
use super::input::{InputQuant, Normalization};
use super::int8::{self, Int8Error};
use super::quantize::{ActQuant, QuantModel};
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
    /// Largest |float softmax − dequantized int8 softmax| over all windows and classes.
    pub max_prob_delta: f64,
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
    let normalized = norm.apply(set);
    let float_logits: Vec<Vec<f32>> = (0..set.len())
        .map(|i| net.logits(normalized.get(i)))
        .collect();
    let conv = InputQuant::new(norm, quant.input.scale, quant.input.zero_point);
    let inputs: Vec<Vec<i8>> = (0..set.len())
        .map(|i| conv.quantize_window(set.get(i), set.channels))
        .collect();
    let outputs = int8::run_all(tflite, &inputs)?;
    let float_pred: Vec<usize> = float_logits.iter().map(|l| argmax(l)).collect();
    let int8_pred: Vec<usize> = outputs.iter().map(|o| argmax(o)).collect();
    let same = float_pred
        .iter()
        .zip(&int8_pred)
        .filter(|(a, b)| a == b)
        .count();
    let soft = ActQuant::SOFTMAX;
    let mut max_delta = 0f64;
    for (l, o) in float_logits.iter().zip(&outputs) {
        for (p, &q) in softmax(l).iter().zip(o) {
            max_delta = max_delta.max(f64::from((p - soft.dequantize(q)).abs()));
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
