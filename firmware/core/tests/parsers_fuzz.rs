//! Property tests of harbor-core's parsers on hostile input: arbitrary bytes and committed
//! valid inputs with flipped bytes or cut short. Each must answer with an error (or a valid
//! value), never a panic; a model that still parses must also prepare and run without one.
//! Bounded case counts keep this to seconds; `fuzz/` runs the same parsers for longer.
//! (The binary frame decoder has its own properties in `src/protocol/tests.rs`.)

use std::path::PathBuf;

use harbor_core::float::FloatInterpreter;
use harbor_core::golden::GoldenVectors;
use harbor_core::interpreter::Interpreter;
use harbor_core::ota::manifest::{MAGIC, MANIFEST_LEN, Manifest};
use harbor_core::ota::otadata::{RECORD_LEN, Record};
use harbor_core::protocol::text::{Command, LineAssembler, Reply, decode_hex_into};
use harbor_core::protocol::trap::TrapReport;
use harbor_core::tflite::Model;
use proptest::prelude::*;

/// Largest arena a mutated model may ask for before it is run (bounds time and memory).
const MAX_ARENA: usize = 1 << 20;

fn fixture(rel: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures")
        .join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A valid input with `flips` (offset modulo its length, xor mask) applied, then cut to
/// `keep` of its bytes (`None`: whole).
fn mutate(valid: &[u8], flips: &[(usize, u8)], keep: Option<usize>) -> Vec<u8> {
    let mut bytes = valid.to_vec();
    for &(at, mask) in flips {
        let n = bytes.len();
        bytes[at % n] ^= mask.max(1);
    }
    if let Some(keep) = keep {
        bytes.truncate(keep % (valid.len() + 1));
    }
    bytes
}

/// Parses, prepares and runs an int8 model; every step may refuse, none may panic.
fn run_int8(bytes: &[u8]) {
    let Ok(model) = Model::parse(bytes) else {
        return;
    };
    let Ok(need) = Interpreter::arena_required(&model) else {
        return;
    };
    if need > MAX_ARENA {
        return;
    }
    let mut arena = vec![0u8; need];
    let Ok(mut interpreter) = Interpreter::new(model, &mut arena) else {
        return;
    };
    let Ok(info) = interpreter.input_info(0) else {
        return;
    };
    let input = vec![1i8; info.len()];
    if interpreter.set_input(0, &input).is_ok() {
        let _ = interpreter.invoke();
        let _ = interpreter.output(0).map(|o| o.argmax());
    }
}

/// Parses and runs a float32 model.
fn run_float(bytes: &[u8]) {
    let Ok(model) = Model::parse_float32(bytes) else {
        return;
    };
    let Ok(interpreter) = FloatInterpreter::new(&model) else {
        return;
    };
    let len: usize = interpreter.input_shape().iter().product();
    if len <= MAX_ARENA {
        let _ = interpreter.run(&vec![0.5f32; len]);
    }
}

fn flips() -> impl Strategy<Value = Vec<(usize, u8)>> {
    proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 192, ..ProptestConfig::default() })]

    #[test]
    fn tflite_arbitrary_bytes_are_refused_without_panic(
        mut bytes in proptest::collection::vec(any::<u8>(), 0..512),
        identifier in any::<bool>(),
    ) {
        if identifier && bytes.len() >= 8 {
            bytes[4..8].copy_from_slice(b"TFL3");
        }
        if let Err(e) = Model::parse(&bytes) {
            prop_assert!(!e.to_string().is_empty());
        }
        run_int8(&bytes);
        run_float(&bytes);
    }

    #[test]
    fn tflite_mutated_int8_models_never_panic(
        which in 0usize..2,
        flips in flips(),
        keep in proptest::option::of(any::<usize>()),
    ) {
        let valid = fixture(["models/har_conv1d.tflite", "keras/cnn_softmax_int8.tflite"][which]);
        run_int8(&mutate(&valid, &flips, keep));
    }

    #[test]
    fn tflite_mutated_float_models_never_panic(
        flips in flips(),
        keep in proptest::option::of(any::<usize>()),
    ) {
        run_float(&mutate(&fixture("keras/cnn_logits_f32.tflite"), &flips, keep));
    }

    #[test]
    fn manifest_arbitrary_and_mutated_bytes_never_panic(
        bytes in proptest::collection::vec(any::<u8>(), 0..MANIFEST_LEN + 16),
        magic in any::<bool>(),
    ) {
        let mut bytes = bytes;
        if magic && bytes.len() >= 4 {
            bytes[..4].copy_from_slice(&MAGIC);
        }
        match Manifest::decode(&bytes) {
            Ok(m) => prop_assert_eq!(Manifest::decode(&m.encode()).ok(), Some(m)),
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
    }

    #[test]
    fn otadata_records_decode_or_are_refused(bytes in proptest::array::uniform32(any::<u8>())) {
        let record: [u8; RECORD_LEN] = bytes;
        if let Some(r) = Record::decode(&record) {
            prop_assert_eq!(Record::decode(&r.encode()), Some(r));
        }
    }

    #[test]
    fn golden_vectors_arbitrary_headers_never_panic(
        words in proptest::collection::vec(any::<u32>(), 0..3),
        small in proptest::collection::vec(0u32..64, 3),
        body in proptest::collection::vec(any::<u8>(), 0..256),
        use_small in any::<bool>(),
    ) {
        let mut bytes = b"HGLD".to_vec();
        let words = if use_small { &small } else { &words };
        for w in words {
            bytes.extend_from_slice(&w.to_le_bytes());
        }
        bytes.extend_from_slice(&body);
        if let Err(e) = GoldenVectors::parse(&bytes) {
            prop_assert!(!e.to_string().is_empty());
        }
    }

    #[test]
    fn text_protocol_lines_never_panic(
        line in "(name|db|db load|db print|db [0-9a-fA-F]{0,9}|infer|results|setmodel|m-results-\\[|e-\\[|trap\\[mcause=0x)[ -~]{0,40}",
        arbitrary in any::<String>(),
        bytes in proptest::collection::vec(any::<u8>(), 0..400),
    ) {
        for l in [line.as_str(), arbitrary.as_str()] {
            if let Err(e) = Command::parse(l) {
                prop_assert!(!e.to_string().is_empty());
            }
            let _ = Reply::parse(l);
            let _ = TrapReport::parse(l);
            let mut out = [0u8; 4];
            let _ = decode_hex_into(l, &mut out);
        }
        let mut lines = LineAssembler::new();
        for b in bytes {
            let _ = lines.push(b);
        }
    }
}
