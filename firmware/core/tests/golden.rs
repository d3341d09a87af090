//! harbor-core's int8 interpreter against TFLite Micro, bit for bit.
//!
//! The models and vectors in fixtures/models were made by TensorFlow's converter and run
//! through the `tflite-micro` Python interpreter (TFLM's reference kernels) by
//! models/tools/make_golden.py; nothing here comes from harbor's own output.

use std::path::PathBuf;

use harbor_core::golden::GoldenVectors;
use harbor_core::interpreter::Interpreter;
use harbor_core::tflite::Model;

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/models")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// One golden record: an int8 input and TFLM's int8 output for it.
struct Golden {
    input_len: usize,
    output_len: usize,
    records: Vec<(Vec<i8>, Vec<i8>)>,
}

fn read_golden(name: &str) -> Golden {
    let bytes = fixture(name);
    let golden = GoldenVectors::parse(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
    let to_i8 = |s: &[u8]| s.iter().map(|&b| b as i8).collect::<Vec<_>>();
    Golden {
        input_len: golden.input_len,
        output_len: golden.output_len,
        records: golden
            .records()
            .map(|(i, o)| (to_i8(i), to_i8(o)))
            .collect(),
    }
}

fn check_model(stem: &str) {
    let model_bytes = fixture(&format!("{stem}.tflite"));
    let golden = read_golden(&format!("{stem}.golden"));
    assert!(
        golden.records.len() >= 200,
        "{stem}: expected ≥ 200 vectors"
    );
    let model = Model::parse(&model_bytes).unwrap_or_else(|e| panic!("{stem}: {e}"));
    let needed = Interpreter::arena_required(&model).unwrap();
    let mut arena = vec![0u8; needed];
    let mut interpreter = Interpreter::new(model, &mut arena).unwrap();
    assert_eq!(interpreter.input_info(0).unwrap().len(), golden.input_len);
    assert_eq!(interpreter.output_info(0).unwrap().len(), golden.output_len);

    let mut mismatches = Vec::new();
    let mut output = vec![0i8; golden.output_len];
    for (i, (input, expected)) in golden.records.iter().enumerate() {
        interpreter.set_input(0, input).unwrap();
        interpreter.invoke().unwrap();
        interpreter.output(0).unwrap().copy_to(&mut output).unwrap();
        if &output != expected {
            mismatches.push(format!(
                "vector {i}: harbor {output:?} vs TFLM {expected:?}"
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{stem}: {} of {} vectors differ from TFLM; first: {:#?}",
        mismatches.len(),
        golden.records.len(),
        &mismatches[..mismatches.len().min(3)]
    );
}

#[test]
fn har_conv1d_matches_tflm_bit_exactly() {
    check_model("har_conv1d");
}

#[test]
fn depthwise_add_avgpool_model_matches_tflm_bit_exactly() {
    check_model("dwconv_add_avgpool");
}

#[test]
fn relu6_same_padding_stride2_model_matches_tflm_bit_exactly() {
    check_model("relu6_same_stride2");
}

#[test]
fn arena_reuses_dead_tensors() {
    let bytes = fixture("har_conv1d.tflite");
    let model = Model::parse(&bytes).unwrap();
    let needed = Interpreter::arena_required(&model).unwrap();
    // Sum of all activation tensors a heap-per-tensor runtime would allocate.
    let all: usize = (0..model.num_tensors())
        .map(|t| model.tensor(t).unwrap())
        .filter(|t| t.data.is_none())
        .map(|t| t.byte_len())
        .sum();
    // The 60×6 input, 56×16 and 28×16 conv/pool maps (views alias them) and 24×32 conv
    // output can never all be alive at once: a chain needs at most two maps at a time.
    assert!(
        needed < all / 2,
        "arena {needed} B vs {all} B of activations"
    );
    // Peak = the two largest neighbouring maps (conv1 out 896 B + pool out 448 B, or
    // pool out 448 B + conv2 out 768 B), plus per-channel multipliers (16+32+7)·8 B.
    assert!(needed <= 448 + 896 + 768 + 55 * 8, "arena {needed} B");
}

#[test]
fn softmax_output_is_a_distribution() {
    // Independent of TFLM: the 7 int8 probabilities (scale 1/256, zp -128) sum to ≈ 1.
    let bytes = fixture("har_conv1d.tflite");
    let golden = read_golden("har_conv1d.golden");
    let model = Model::parse(&bytes).unwrap();
    let mut arena = vec![0u8; Interpreter::arena_required(&model).unwrap()];
    let mut interpreter = Interpreter::new(model, &mut arena).unwrap();
    for (input, _) in golden.records.iter().take(20) {
        interpreter.set_input(0, input).unwrap();
        interpreter.invoke().unwrap();
        let out = interpreter.output(0).unwrap();
        assert_eq!(out.info.zero_point, -128);
        let total: i32 = out.iter().map(|q| i32::from(q) + 128).sum();
        assert!(
            (240..=272).contains(&total),
            "probabilities sum to {total}/256"
        );
    }
}

#[test]
fn dilated_conv_broadcast_add_model_matches_tflm_bit_exactly() {
    check_model("dilated_broadcast_add");
}
