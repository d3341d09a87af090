//! Host speed of harbor-core's int8 interpreter per window, on the golden fixture models and
//! the committed band models (the band's speed is measured on the emulated MCU in
//! instructions; this tracks regressions of the shared kernels on the host).

use std::path::PathBuf;

use criterion::{Criterion, criterion_group, criterion_main};
use harbor_core::interpreter::Interpreter;
use harbor_core::tflite::Model;

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/models")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn invoke(c: &mut Criterion) {
    for stem in [
        "har_conv1d",
        "dwconv_add_avgpool",
        "relu6_same_stride2",
        "dilated_broadcast_add",
    ] {
        let bytes = fixture(&format!("{stem}.tflite"));
        let golden = fixture(&format!("{stem}.golden"));
        let input_len = u32::from_le_bytes(golden[8..12].try_into().unwrap()) as usize;
        let input: Vec<i8> = golden[16..16 + input_len]
            .iter()
            .map(|&b| b as i8)
            .collect();
        let model = Model::parse(&bytes).unwrap();
        let mut arena = vec![0u8; Interpreter::arena_required(&model).unwrap()];
        let mut interpreter = Interpreter::new(model, &mut arena).unwrap();
        c.bench_function(&format!("int8 invoke {stem}"), |b| {
            b.iter(|| {
                interpreter.set_input(0, &input).unwrap();
                interpreter.invoke().unwrap();
                interpreter.output(0).unwrap().argmax()
            })
        });
        c.bench_function(&format!("int8 parse+prepare {stem}"), |b| {
            b.iter(|| {
                let model = Model::parse(&bytes).unwrap();
                Interpreter::arena_required(&model).unwrap()
            })
        });
    }
}

/// One window through each committed band model (its first golden input).
fn band_models(c: &mut Criterion) {
    for variant in ["tiny", "small", "base"] {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../models")
            .join(format!("{variant}-int8-generalized"));
        let read = |name: &str| {
            let path = dir.join(name);
            std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        };
        let bytes = read("model.tflite");
        let inputs = read("golden/inputs.i8");
        let model = Model::parse(&bytes).unwrap();
        let mut arena = vec![0u8; Interpreter::arena_required(&model).unwrap()];
        let mut interpreter = Interpreter::new(model, &mut arena).unwrap();
        let len = interpreter.input_info(0).unwrap().len();
        let input: Vec<i8> = inputs[..len].iter().map(|&b| b as i8).collect();
        c.bench_function(&format!("int8 invoke {variant} window"), |b| {
            b.iter(|| {
                interpreter.set_input(0, &input).unwrap();
                interpreter.invoke().unwrap();
                interpreter.output(0).unwrap().argmax()
            })
        });
    }
}

criterion_group!(benches, invoke, band_models);
criterion_main!(benches);
