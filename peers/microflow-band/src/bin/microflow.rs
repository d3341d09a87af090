//! MicroFlow 0.1.3: its compiler (a proc-macro) turns a peer model (`model/<variant>/`) into
//! Rust at build time; `predict_quantized` takes the int8 window and returns the dequantized
//! output.
#![no_std]
#![no_main]

use microflow::buffer::{Buffer2D, Buffer4D};
use microflow::model;
use microflow_band::{Engine, WINDOW, exit, run};
use nalgebra::SMatrix;

// The peer model by feature (Cargo.toml); harbor's own small model with `harbor-small`.
#[cfg_attr(
    not(any(feature = "peer-tiny", feature = "peer-base", feature = "harbor-small")),
    model("model/small/model.tflite")
)]
#[cfg_attr(feature = "peer-tiny", model("model/tiny/model.tflite"))]
#[cfg_attr(feature = "peer-base", model("model/base/model.tflite"))]
#[cfg_attr(
    feature = "harbor-small",
    model("../../models/small-int8-generalized/model.tflite")
)]
struct PeerModel;

/// The model's output classes.
const CLASSES: usize = 8;
/// The output's quantization: TFLite's fixed one for an int8 SOFTMAX (1/256, −128);
/// scripts/peer-microflow checks the model says so.
const OUTPUT_SCALE: f32 = 1.0 / 256.0;
const OUTPUT_ZERO_POINT: f32 = -128.0;

struct MicroFlow {
    input: Buffer4D<i8, 1, 1, 60, 6>,
    output: Buffer2D<f32, 1, CLASSES>,
}

impl Engine for MicroFlow {
    fn load(&mut self, window: &[i8; WINDOW]) {
        self.input = [SMatrix::from_fn(|_, col| {
            core::array::from_fn(|channel| window[col * 6 + channel])
        })];
    }

    #[inline(never)]
    fn infer(&mut self) {
        self.output = PeerModel::predict_quantized(self.input);
    }

    fn output(&self, out: &mut [i8]) -> usize {
        // Back to the int8 values: v = scale·(q − zp) exactly enough that rounding recovers q.
        for (dst, &v) in out.iter_mut().zip(self.output.iter()) {
            *dst = libm::roundf(v / OUTPUT_SCALE + OUTPUT_ZERO_POINT) as i8;
        }
        CLASSES
    }
}

#[unsafe(no_mangle)]
extern "C" fn main() -> ! {
    run(
        "microflow",
        &mut MicroFlow {
            input: [SMatrix::from_element([0; 6])],
            output: SMatrix::zeros(),
        },
    );
    exit(0)
}
