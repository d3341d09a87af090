//! `harbor models compile`: the generated Rust compiles (the committed outputs are included
//! here), runs bit-exactly with TFLite Micro and with the interpreter, and is what the
//! command writes today (a stale file fails). Covers harbor's model and two it did not make:
//! a Keras model converted by TensorFlow, and a fixture with depthwise convolution and ADD.

use std::path::{Path, PathBuf};

use harbor::npz::{NpyData, read_npy};
use harbor::rng::SplitMix64;
use harbor_core::interpreter::Interpreter;
use harbor_core::tflite::Model;

use crate::support::cli::harbor;

#[allow(clippy::all)]
mod small {
    include!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fixtures/compiled/small_int8_generalized.rs"
    ));
}

#[allow(clippy::all)]
mod keras {
    include!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fixtures/compiled/keras_cnn_softmax.rs"
    ));
}

#[allow(clippy::all)]
mod depthwise_add {
    include!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fixtures/compiled/dwconv_add_avgpool.rs"
    ));
}

#[allow(clippy::all)]
mod dilated_add {
    include!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fixtures/compiled/dilated_broadcast_add.rs"
    ));
}

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)
}

/// A compiled model's entry points, so one check serves every fixture.
struct Compiled {
    input: std::ops::Range<usize>,
    output: std::ops::Range<usize>,
    arena: usize,
    invoke: fn(&mut [u8]) -> Result<(), harbor_core::tflite::Error>,
}

macro_rules! compiled {
    ($m:ident) => {
        Compiled {
            input: $m::INPUT,
            output: $m::OUTPUT,
            arena: $m::ARENA,
            invoke: |arena| {
                let arena: &mut [u8; $m::ARENA] = arena.try_into().expect("ARENA bytes");
                $m::invoke(arena)
            },
        }
    };
}

impl Compiled {
    fn run(&self, window: &[i8]) -> Vec<i8> {
        let mut arena = vec![0u8; self.arena];
        for (dst, &v) in arena[self.input.clone()].iter_mut().zip(window) {
            *dst = v as u8;
        }
        (self.invoke)(&mut arena).expect("a compiled plan runs");
        arena[self.output.clone()]
            .iter()
            .map(|&b| b as i8)
            .collect()
    }
}

/// The interpreter's outputs for `windows` (the oracle the compiled plan must equal).
fn interpreted(model: &[u8], windows: &[Vec<i8>]) -> Vec<Vec<i8>> {
    let mut arena = vec![0u8; 1 << 20];
    let mut interpreter = Interpreter::new(Model::parse(model).unwrap(), &mut arena).unwrap();
    windows
        .iter()
        .map(|w| {
            interpreter.set_input(0, w).unwrap();
            interpreter.invoke().unwrap();
            interpreter.output(0).unwrap().iter().collect()
        })
        .collect()
}

fn chunks(values: &[i8], len: usize) -> Vec<Vec<i8>> {
    values.chunks_exact(len).map(<[i8]>::to_vec).collect()
}

fn int8(path: &str) -> Vec<i8> {
    match read_npy(&repo(path)).unwrap().data {
        NpyData::I8(v) => v,
        other => panic!("{path}: not int8: {other:?}"),
    }
}

fn bytes_i8(path: &str) -> Vec<i8> {
    std::fs::read(repo(path))
        .unwrap()
        .into_iter()
        .map(|b| b as i8)
        .collect()
}

#[test]
fn compiled_small_is_bit_exact_with_tflite_micro_on_its_golden_windows() {
    let plan = compiled!(small);
    let inputs = chunks(
        &bytes_i8("models/small-int8-generalized/golden/inputs.i8"),
        360,
    );
    let tflm = chunks(
        &bytes_i8("models/small-int8-generalized/golden/tflm_outputs.i8"),
        8,
    );
    assert_eq!((inputs.len(), tflm.len()), (64, 64));
    for (i, (window, expected)) in inputs.iter().zip(&tflm).enumerate() {
        assert_eq!(&plan.run(window), expected, "golden window {i}");
    }
}

#[test]
fn a_compiled_keras_model_is_bit_exact_with_tflite_micro() {
    let plan = compiled!(keras);
    let windows = chunks(&int8("fixtures/keras/windows_int8.npy"), 360);
    let tflm = chunks(&int8("fixtures/keras/cnn_softmax_tflm.npy"), 7);
    assert_eq!(windows.len(), 32);
    for (i, (window, expected)) in windows.iter().zip(&tflm).enumerate() {
        assert_eq!(&plan.run(window), expected, "Keras window {i}");
    }
}

#[test]
fn compiled_depthwise_add_and_dilation_equal_the_interpreter() {
    for (name, plan) in [
        ("dwconv_add_avgpool", compiled!(depthwise_add)),
        ("dilated_broadcast_add", compiled!(dilated_add)),
    ] {
        let model = std::fs::read(repo(&format!("fixtures/models/{name}.tflite"))).unwrap();
        let mut rng = SplitMix64::new(0xC0DE);
        let windows: Vec<Vec<i8>> = (0..20)
            .map(|_| {
                (0..plan.input.len())
                    .map(|_| rng.next_u64() as i8)
                    .collect()
            })
            .collect();
        let expected = interpreted(&model, &windows);
        for (i, (window, want)) in windows.iter().zip(&expected).enumerate() {
            assert_eq!(&plan.run(window), want, "{name} window {i}");
        }
    }
}

#[test]
fn the_committed_sources_are_what_the_command_writes() {
    let dir = tempfile::tempdir().unwrap();
    for (model, fixture) in [
        ("models/small-int8-generalized", "small_int8_generalized.rs"),
        (
            "fixtures/keras/cnn_softmax_int8.tflite",
            "keras_cnn_softmax.rs",
        ),
        (
            "fixtures/models/dwconv_add_avgpool.tflite",
            "dwconv_add_avgpool.rs",
        ),
        (
            "fixtures/models/dilated_broadcast_add.tflite",
            "dilated_broadcast_add.rs",
        ),
    ] {
        let out = dir.path().join(fixture);
        let run = harbor(&[
            "models",
            "compile",
            repo(model).to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        let committed = std::fs::read_to_string(repo(&format!("fixtures/compiled/{fixture}")));
        assert_eq!(
            std::fs::read_to_string(&out).unwrap(),
            committed.unwrap(),
            "fixtures/compiled/{fixture} is stale: regenerate it with \
             `harbor models compile {model} --out fixtures/compiled/{fixture}`"
        );
    }
}

#[test]
fn a_file_that_is_not_a_model_is_refused_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let bogus = dir.path().join("notes.tflite");
    std::fs::write(&bogus, b"not a flatbuffer").unwrap();
    let out = dir.path().join("model.rs");
    let run = harbor(&[
        "models",
        "compile",
        bogus.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(run.status.code(), Some(2), "usage error");
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains("notes.tflite"), "{stderr}");
    assert!(!out.exists() && std::fs::read_dir(dir.path()).unwrap().count() == 1);
}
