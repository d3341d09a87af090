//! The Keras fixture (`fixtures/keras/`): a 1D CNN trained by Keras and converted to full int8
//! by TensorFlow's own converter (`models/tools/make_keras_fixture.py`), not by harbor.
//! harbor-core's int8 outputs must equal TFLite Micro's committed outputs bit for bit.

use std::path::PathBuf;

use harbor::model::{HostFloat, HostModel};
use harbor::npz::{NpyData, read_npy};

fn fixture(name: &str) -> PathBuf {
    harbor::datasets::workspace_root()
        .join("fixtures/keras")
        .join(name)
}

fn int8(name: &str) -> (Vec<usize>, Vec<i8>) {
    let array = read_npy(&fixture(name)).unwrap_or_else(|e| panic!("{e}"));
    match array.data {
        NpyData::I8(v) => (array.shape, v),
        other => panic!("{name}: expected int8, got {other:?}"),
    }
}

const WINDOWS: usize = 32;
const CLASSES: usize = 7;

#[test]
fn harbor_core_matches_tflite_micro_on_the_keras_fixture() {
    let (shape, windows) = int8("windows_int8.npy");
    assert_eq!(shape, [WINDOWS, 60, 6]);
    for variant in ["cnn_logits", "cnn_softmax"] {
        let model = HostModel::load(&fixture(&format!("{variant}_int8.tflite")))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(model.input().len(), 60 * 6, "{variant}");
        let (out_shape, expected) = int8(&format!("{variant}_tflm.npy"));
        assert_eq!(out_shape, [WINDOWS, CLASSES], "{variant}");
        let predictions = model
            .run_quantized(windows.chunks(360))
            .unwrap_or_else(|e| panic!("{e}"));
        let differing: Vec<usize> = (0..WINDOWS)
            .filter(|&w| predictions[w].quantized != expected[w * CLASSES..(w + 1) * CLASSES])
            .collect();
        assert!(
            differing.is_empty(),
            "{variant}: harbor-core differs from TFLite Micro on windows {differing:?}"
        );
    }
}

#[test]
fn the_variants_end_in_softmax_and_in_logits() {
    let softmax = HostModel::load(&fixture("cnn_softmax_int8.tflite")).expect("loads");
    let logits = HostModel::load(&fixture("cnn_logits_int8.tflite")).expect("loads");
    let quant = |m: &HostModel| (m.output().scale, m.output().zero_point);
    assert_eq!(quant(&softmax), (1.0 / 256.0, -128));
    assert_ne!(quant(&logits), (1.0 / 256.0, -128));
    // Both models were converted with one representative dataset: one input quantization,
    // so one set of int8 windows serves both.
    assert_eq!(
        (softmax.input().scale, softmax.input().zero_point),
        (logits.input().scale, logits.input().zero_point)
    );
}

fn float32(name: &str) -> (Vec<usize>, Vec<f32>) {
    let array = read_npy(&fixture(name)).unwrap_or_else(|e| panic!("{e}"));
    match array.data {
        NpyData::F32(v) => (array.shape, v),
        other => panic!("{name}: expected float32, got {other:?}"),
    }
}

/// Largest |harbor − LiteRT| allowed on a float output: both accumulate in f32, in the same
/// loop order, so only `exp` and summation rounding differ (measured max: see docs/models.md).
const FLOAT_TOLERANCE: f32 = 1e-5;

#[test]
fn float_kernels_match_litert_float_reference_on_the_keras_fixture() {
    let (shape, windows) = float32("windows_f32.npy");
    assert_eq!(shape, [WINDOWS, 60, 6]);
    for variant in ["cnn_logits", "cnn_softmax"] {
        let model = HostFloat::load(&fixture(&format!("{variant}_f32.tflite")))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(model.input_len(), 360, "{variant}");
        assert_eq!(model.output_len(), CLASSES, "{variant}");
        let (out_shape, expected) = float32(&format!("{variant}_f32_ref.npy"));
        assert_eq!(out_shape, [WINDOWS, CLASSES]);
        let outputs = model
            .run(windows.chunks(360))
            .unwrap_or_else(|e| panic!("{e}"));
        let mut worst = 0f32;
        for (w, out) in outputs.iter().enumerate() {
            for (k, &v) in out.iter().enumerate() {
                worst = worst.max((v - expected[w * CLASSES + k]).abs());
            }
            let want = &expected[w * CLASSES..(w + 1) * CLASSES];
            assert_eq!(
                harbor::model::argmax(out),
                harbor::model::argmax(want),
                "{variant}: window {w}: class differs ({out:?} vs {want:?})"
            );
        }
        eprintln!("{variant}: max |harbor float − LiteRT BUILTIN_REF| = {worst:e}");
        assert!(
            worst <= FLOAT_TOLERANCE,
            "{variant}: max difference {worst}"
        );
    }
}

#[test]
fn each_interpreter_refuses_the_other_precision_by_name() {
    let int8_path = fixture("cnn_logits_int8.tflite");
    let err = HostFloat::load(&int8_path)
        .err()
        .expect("int8 refused")
        .to_string();
    assert!(err.contains("not float32"), "{err}");
    assert!(err.contains("cnn_logits_int8.tflite"), "{err}");
    let err = HostModel::load(&fixture("cnn_logits_f32.tflite"))
        .err()
        .expect("float refused")
        .to_string();
    assert!(err.contains("not int8"), "{err}");
}
