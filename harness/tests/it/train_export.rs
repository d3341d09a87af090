//! int8 export of a trained model: graph shape, file bytes, and the quantized model's
//! agreement with the float model.

#![cfg(feature = "train")]

use crate::support::train::{CHANNELS, CLASSES, WINDOW, synthetic};
use harbor::model::export::{model_def, to_tflite};
use harbor::model::input::Normalization;
use harbor::model::quantize::quantize;
use harbor::model::recipe::TrainConfig;
use harbor::model::{Arch, Variant};
use harbor::train::fit::{self, Quiet};
use harbor_core::writer::BuiltinOp;

fn trained() -> (harbor::model::FloatNet, harbor::model::WindowSet) {
    let arch = Arch::new(Variant::Small, WINDOW, CHANNELS, CLASSES).expect("arch");
    let raw = synthetic(60, 21);
    let norm = Normalization::fit(&raw);
    let data = norm.apply(&raw);
    let cfg = TrainConfig {
        max_epochs: 4,
        batch_size: 32,
        learning_rate: 3e-3,
        patience: 10,
        seed: 3,
        ..TrainConfig::default()
    };
    let (model, _) = fit::train(&arch, &data, &data, &cfg, &Quiet);
    (model.to_float_net(&arch), data)
}

#[test]
fn graph_follows_the_converter_op_sequence() {
    let (net, data) = trained();
    let q = quantize(&net, &data);
    let def = model_def(&q, "test");
    let ops: Vec<BuiltinOp> = def.operators.iter().map(|o| o.op).collect();
    use BuiltinOp::*;
    assert_eq!(
        ops,
        vec![
            Reshape,
            Conv2d,
            MaxPool2d,
            Conv2d,
            MaxPool2d,
            Conv2d,
            Reshape,
            Mean,
            FullyConnected,
            Softmax
        ]
    );
    let input = &def.tensors[def.inputs[0] as usize];
    assert_eq!(input.shape, vec![1, WINDOW as i32, CHANNELS as i32]);
    let output = &def.tensors[def.outputs[0] as usize];
    assert_eq!(output.shape, vec![1, CLASSES as i32]);
    let oq = output.quantization.as_ref().expect("quantized output");
    assert_eq!((oq.scale[0], oq.zero_point[0]), (1.0 / 256.0, -128));
    // Conv filters are per-channel: one scale per output channel.
    let conv1_w = def
        .tensors
        .iter()
        .find(|t| t.name == "conv1/weights")
        .expect("conv1 weights");
    assert_eq!(conv1_w.shape, vec![16, 1, 5, CHANNELS as i32]);
    assert_eq!(
        conv1_w.quantization.as_ref().map(|q| q.scale.len()),
        Some(16)
    );
}

#[test]
fn export_is_deterministic_and_small() {
    let (net, data) = trained();
    let q = quantize(&net, &data);
    let a = to_tflite(&q, "test").expect("export");
    let b = to_tflite(&q, "test").expect("export");
    assert_eq!(a, b);
    assert_eq!(&a[4..8], b"TFL3");
    // 5.3 KB of weights plus graph metadata.
    assert!(
        a.len() > net.arch.int8_weight_bytes() && a.len() < 12 * 1024,
        "{} bytes",
        a.len()
    );
    if let Some(dir) = std::env::var_os("HARBOR_TRAIN_EXPORT_DIR") {
        // Offline check hook: models/tools/tflm_check.py runs this file in TFLite Micro.
        let dir = std::path::PathBuf::from(dir);
        std::fs::create_dir_all(&dir).expect("export dir");
        std::fs::write(dir.join("synthetic.tflite"), &a).expect("write model");
        let windows: Vec<u8> = (0..32)
            .flat_map(|i| {
                data.get(i)
                    .iter()
                    .map(|&v| q.input.quantize(v) as u8)
                    .collect::<Vec<_>>()
            })
            .collect();
        std::fs::write(dir.join("synthetic_inputs.i8"), windows).expect("write inputs");
    }
}

#[test]
fn exported_file_round_trips_through_harbor_core_reader() {
    use harbor_core::tflite::Model;
    let (net, data) = trained();
    let q = quantize(&net, &data);
    let bytes = to_tflite(&q, "round trip").expect("export");
    let model = Model::parse(&bytes).expect("harbor-core reads the exported file");
    let def = model_def(&q, "round trip");
    assert_eq!(model.num_operators(), def.operators.len());
    let mut arena = vec![0u8; harbor::model::int8::arena_bytes(&bytes).expect("arena size")];
    let host = harbor::model::int8::HostInt8::new(&bytes, &mut arena).expect("plans");
    assert_eq!(host.input_len, WINDOW * CHANNELS);
    assert_eq!(host.output_len, CLASSES);
    assert_eq!(
        (host.output_scale, host.output_zero_point),
        (1.0 / 256.0, -128)
    );
}

#[test]
fn int8_model_on_harbor_core_agrees_with_the_float_model() {
    let (net, data) = trained();
    let q = quantize(&net, &data);
    let bytes = to_tflite(&q, "agreement").expect("export");
    let inputs: Vec<Vec<i8>> = (0..data.len())
        .map(|i| data.get(i).iter().map(|&v| q.input.quantize(v)).collect())
        .collect();
    let outputs = harbor::model::int8::run_all(&bytes, &inputs).expect("runs");
    let argmax = harbor::model::confusion::argmax::<f32>;
    let same = (0..data.len())
        .filter(|&i| {
            argmax(&net.logits(data.get(i))) == harbor::model::confusion::argmax(&outputs[i])
        })
        .count();
    let agreement = same as f64 / data.len() as f64;
    assert!(
        agreement >= 0.95,
        "float and int8 agree on {same} of {} windows",
        data.len()
    );
    // And the int8 model is a classifier, not a constant: it recovers the labels.
    let correct = (0..data.len())
        .filter(|&i| harbor::model::confusion::argmax(&outputs[i]) == data.y[i])
        .count();
    assert!(
        correct as f64 / data.len() as f64 > 0.85,
        "int8 accuracy {correct}/{}",
        data.len()
    );
}

#[test]
fn personalized_export_keeps_every_frozen_tensor_bit_identical() {
    use harbor::model::quantize::requantize_head;
    use harbor::model::recipe::PersonalizeConfig;
    use harbor::train::personalize::{personalize, split_shots};
    let arch = Arch::new(Variant::Small, WINDOW, CHANNELS, CLASSES).expect("arch");
    let raw = synthetic(40, 31);
    let data = Normalization::fit(&raw).apply(&raw);
    let cfg = TrainConfig {
        max_epochs: 2,
        batch_size: 32,
        learning_rate: 3e-3,
        patience: 10,
        seed: 3,
        ..TrainConfig::default()
    };
    let (model, _) = fit::train(&arch, &data, &data, &cfg, &Quiet);
    let base_q = quantize(&model.to_float_net(&arch), &data);
    let shots = data.select(&split_shots(&data, CLASSES, 5).shots);
    let pcfg = PersonalizeConfig {
        epochs: 5,
        ..PersonalizeConfig::default()
    };
    let tuned = personalize(&model, &arch, &shots, &pcfg, &Quiet).to_float_net(&arch);
    let tuned_q = requantize_head(&base_q, &tuned, &shots);
    let (a, b) = (model_def(&base_q, "x"), model_def(&tuned_q, "x"));
    let mut changed = Vec::new();
    for (ta, tb) in a.tensors.iter().zip(&b.tensors) {
        let same = ta.quantization == tb.quantization
            && a.buffers[ta.buffer as usize] == b.buffers[tb.buffer as usize];
        if !same {
            changed.push(ta.name.clone());
        }
    }
    changed.sort();
    // Only the dense head and what it feeds (logits) may differ; the softmax output is fixed.
    assert_eq!(changed, vec!["dense/bias", "dense/weights", "logits"]);
}

#[test]
fn float32_export_mirrors_the_int8_graph_and_harbor_core_refuses_it_clearly() {
    use harbor::model::export::{model_def_f32, to_tflite_f32};
    use harbor_core::writer::TensorType;
    let (net, data) = trained();
    let int8 = model_def(&quantize(&net, &data), "x");
    let f32 = model_def_f32(&net, "x");
    let ops =
        |d: &harbor_core::writer::ModelDef| d.operators.iter().map(|o| o.op).collect::<Vec<_>>();
    assert_eq!(ops(&f32), ops(&int8));
    assert!(
        f32.tensors
            .iter()
            .all(|t| t.dtype != TensorType::Int8 && t.quantization.is_none())
    );
    let bytes = to_tflite_f32(&net, "x").expect("export");
    // The band runs int8 only: a float model must be an error naming the problem, not a panic.
    let err = harbor::model::int8::arena_bytes(&bytes).expect_err("float model refused");
    assert!(
        matches!(err, harbor::model::int8::Int8Error::Parse(_)),
        "{err}"
    );
    assert!(err.to_string().to_lowercase().contains("float"), "{err}");
}
