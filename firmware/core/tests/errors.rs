//! Bad models and bad use give clear errors, never panics.

use std::path::PathBuf;

use harbor_core::interpreter::Interpreter;
use harbor_core::tflite::{Error, Model, TensorType};

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/models")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn unsupported_operator_is_named_with_its_index() {
    // The TF converter lowers a variable-batch Flatten to SHAPE → STRIDED_SLICE → PACK.
    let bytes = fixture("unsupported_shape_op.tflite");
    let err = Model::parse(&bytes)
        .and_then(|m| Interpreter::arena_required(&m))
        .unwrap_err();
    let Error::UnsupportedOperator { name, code, index } = err else {
        panic!("expected UnsupportedOperator, got {err:?}");
    };
    assert_eq!((name, code), (Some("SHAPE"), 77));
    assert_eq!(
        err.to_string(),
        format!("unsupported operator SHAPE (builtin 77) at operator {index}")
    );
}

#[test]
fn float_model_is_rejected_as_not_int8() {
    let bytes = fixture("float_relu6.tflite");
    let err = Model::parse(&bytes).unwrap_err();
    assert!(
        matches!(
            err,
            Error::NotInt8 {
                dtype: TensorType::Float32,
                ..
            }
        ),
        "got {err:?}"
    );
    assert!(err.to_string().contains("not int8"), "{err}");
    assert!(err.to_string().contains("FLOAT32"), "{err}");
}

#[test]
fn truncated_files_are_errors() {
    let bytes = fixture("har_conv1d.tflite");
    for cut in [0, 4, 7, 8, 100, bytes.len() / 2, bytes.len() * 3 / 4] {
        let err = Model::parse(&bytes[..cut]).unwrap_err();
        assert!(
            matches!(err, Error::Malformed(_) | Error::NotTflite { .. }),
            "cut at {cut}: {err:?}"
        );
    }
    // No prefix panics, whatever it yields.
    for cut in 0..bytes.len() {
        if let Ok(model) = Model::parse(&bytes[..cut]) {
            let _ = Interpreter::arena_required(&model);
        }
    }
}

#[test]
fn not_a_flatbuffer_is_an_error() {
    let err = Model::parse(b"this is not a tflite model at all").unwrap_err();
    assert!(matches!(err, Error::NotTflite { .. }), "{err:?}");
}

#[test]
fn arena_too_small_reports_both_sizes() {
    let bytes = fixture("har_conv1d.tflite");
    let model = Model::parse(&bytes).unwrap();
    let needed = Interpreter::arena_required(&model).unwrap();
    let mut arena = vec![0u8; needed - 1];
    let err = Interpreter::new(model, &mut arena).err().unwrap();
    assert_eq!(
        err,
        Error::ArenaTooSmall {
            needed,
            available: needed - 1
        }
    );
    assert_eq!(
        err.to_string(),
        format!(
            "arena too small: model needs {needed} bytes, {} provided",
            needed - 1
        )
    );
}

#[test]
fn wrong_input_length_is_an_error() {
    let bytes = fixture("har_conv1d.tflite");
    let model = Model::parse(&bytes).unwrap();
    let mut arena = vec![0u8; Interpreter::arena_required(&model).unwrap()];
    let mut interpreter = Interpreter::new(model, &mut arena).unwrap();
    assert!(matches!(
        interpreter.set_input(0, &[0i8; 359]),
        Err(Error::BadIo { .. })
    ));
    assert!(matches!(
        interpreter.set_input(1, &[0i8; 360]),
        Err(Error::BadIo { .. })
    ));
    assert!(interpreter.set_input(0, &[0i8; 360]).is_ok());
}

/// xorshift64*: deterministic mutations without a dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn mutated_models_never_panic() {
    let mut rejected = 0;
    let mut ran = 0;
    for (stem, seed) in [
        ("har_conv1d", 1u64),
        ("dwconv_add_avgpool", 2),
        ("relu6_same_stride2", 3),
    ] {
        let original = fixture(&format!("{stem}.tflite"));
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ seed);
        for _ in 0..1500 {
            let mut bytes = original.clone();
            for _ in 0..1 + rng.below(4) {
                let at = rng.below(bytes.len());
                match rng.below(3) {
                    0 => bytes[at] = rng.next() as u8,
                    1 => bytes[at] ^= 1 << rng.below(8),
                    // Offsets and lengths are u32: hit them with extreme values.
                    _ => {
                        let at = at & !3;
                        let v = [0u32, 1, 0x7fff_ffff, 0xffff_ffff, 0x8000_0000][rng.below(5)];
                        bytes[at..at + 4].copy_from_slice(&v.to_le_bytes());
                    }
                }
            }
            let Ok(model) = Model::parse(&bytes) else {
                rejected += 1;
                continue;
            };
            let Ok(needed) = Interpreter::arena_required(&model) else {
                rejected += 1;
                continue;
            };
            // Bound the work a mutated geometry can ask for.
            if needed > 64 * 1024 {
                continue;
            }
            let mut arena = vec![0u8; needed];
            let mut interpreter = Interpreter::new(model, &mut arena).unwrap();
            let len = interpreter.input_info(0).map(|i| i.len()).unwrap_or(0);
            let _ = interpreter.set_input(0, &vec![7i8; len]);
            let _ = interpreter.invoke();
            ran += 1;
        }
    }
    // Both paths must have been exercised for the test to mean anything.
    assert!(
        rejected > 100 && ran > 100,
        "rejected {rejected}, ran {ran}"
    );
}

/// har_conv1d: 12 operators, 6 of them computing (the rest are views), 24 tensors.
#[test]
fn a_model_beyond_the_interpreter_tables_is_refused_and_one_that_fits_runs_the_same() {
    let bytes = fixture("har_conv1d.tflite");
    let model = Model::parse(&bytes).unwrap();
    let steps = Interpreter::<'_, '_, 5>::arena_required_sized(&model).unwrap_err();
    assert!(
        matches!(
            steps,
            Error::TooLarge {
                what: "operators that compute",
                count: 6,
                max: 5
            }
        ),
        "{steps:?}"
    );
    let tensors = Interpreter::<'_, '_, 6, 23>::arena_required_sized(&model).unwrap_err();
    assert!(
        matches!(
            tensors,
            Error::TooLarge {
                what: "tensors",
                count: 24,
                max: 23
            }
        ),
        "{tensors:?}"
    );

    // Tables exactly big enough: the same plan and the same outputs as the default ones.
    let needed = Interpreter::arena_required(&model).unwrap();
    assert_eq!(
        Interpreter::<'_, '_, 6, 24>::arena_required_sized(&model).unwrap(),
        needed
    );
    let window: Vec<i8> = (0..360).map(|i| ((i * 37) % 256) as u8 as i8).collect();
    let mut arena = vec![0u8; needed];
    let mut interpreter = Interpreter::new(model, &mut arena).unwrap();
    interpreter.set_input(0, &window).unwrap();
    interpreter.invoke().unwrap();
    let expected: Vec<i8> = interpreter.output(0).unwrap().iter().collect();
    let mut small_arena = vec![0u8; needed];
    let got = Interpreter::<'_, '_, 6, 24>::scoped(model, &mut small_arena, |interpreter| {
        for (dst, &v) in interpreter
            .input_bytes_mut(0)
            .unwrap()
            .iter_mut()
            .zip(&window)
        {
            *dst = v as u8;
        }
        interpreter.invoke().unwrap();
        interpreter.output(0).unwrap().iter().collect::<Vec<i8>>()
    })
    .unwrap();
    assert_eq!(got, expected);
    let mut short = vec![0u8; needed - 1];
    let err = Interpreter::<'_, '_, 6, 24>::scoped(model, &mut short, |_| ()).unwrap_err();
    assert!(matches!(err, Error::ArenaTooSmall { .. }), "{err:?}");
}
