//! Streaming inference on the host: `invoke_stream` over the consecutive windows of a
//! stream gives the same outputs as `invoke` on each window, for random time-series models
//! (every op, padding, stride, dilation and hop) and harbor's committed models; and on
//! harbor's models it really reuses the columns the overlap allows.

use std::path::Path;

use harbor::rng::SplitMix64;
use harbor_core::interpreter::Interpreter;
use harbor_core::tflite::Model;

use crate::support::random_model::random_stream_model;

const SEED: u64 = 0x57AE_A11E;
const MODELS: u64 = 400;
const ARENA: usize = 256 * 1024;

/// Runs `windows` windows of a random stream through `invoke_stream` and, separately,
/// `invoke`; panics on the first output that differs. Breaks the stream (a gap: the next
/// window does not continue the cache) with probability 1/8 per window. Returns the plan's
/// cache bytes.
fn stream_equals_windows(model: &[u8], hop: usize, windows: usize, rng: &mut SplitMix64) -> usize {
    let parsed = Model::parse(model).expect("generated models parse");
    let mut arena = vec![0u8; ARENA];
    let mut oracle_arena = vec![0u8; ARENA];
    let mut streaming = Interpreter::new(parsed, &mut arena).expect("prepares");
    let mut oracle = Interpreter::new(parsed, &mut oracle_arena).expect("prepares");
    let info = streaming.input_info(0).unwrap();
    let dims = info.shape.dims().to_vec();
    let (width, channels) = (dims[dims.len() - 2], dims[dims.len() - 1]);
    let plan = streaming.stream_plan(hop * channels);
    let samples = width + hop * windows;
    let series: Vec<i8> = (0..samples * channels)
        .map(|_| rng.next_u64() as i8)
        .collect();
    let mut continues = false;
    for w in 0..windows {
        let window = &series[w * hop * channels..(w * hop + width) * channels];
        streaming.set_input(0, window).unwrap();
        streaming.invoke_stream(&plan, continues).unwrap();
        oracle.set_input(0, window).unwrap();
        oracle.invoke().unwrap();
        let got: Vec<i8> = streaming.output(0).unwrap().iter().collect();
        let want: Vec<i8> = oracle.output(0).unwrap().iter().collect();
        assert_eq!(
            got, want,
            "window {w} (hop {hop}, continues {continues}): streaming differs from invoke"
        );
        continues = rng.below(8) != 0;
    }
    plan.cache_bytes()
}

#[test]
fn streaming_equals_invoke_on_random_time_series_models() {
    let mut rng = SplitMix64::new(SEED);
    let mut reusing = 0;
    for i in 0..MODELS {
        let seed = SEED + i;
        let model = random_stream_model(seed);
        let parsed = Model::parse(&model.bytes).unwrap();
        let mut arena = vec![0u8; ARENA];
        let width = {
            let interpreter = Interpreter::new(parsed, &mut arena).unwrap();
            let dims = interpreter.input_info(0).unwrap().shape.dims().to_vec();
            dims[dims.len() - 2]
        };
        let hop = 1 + rng.below(width);
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            stream_equals_windows(&model.bytes, hop, 12, &mut rng)
        }));
        match result {
            Ok(cache) => reusing += usize::from(cache > 0),
            Err(e) => panic!("model seed {seed:#x} ({:?}): {e:?}", model.ops),
        }
    }
    // The test means something only if many of the models reuse columns.
    assert!(
        reusing >= MODELS as usize / 4,
        "only {reusing} of {MODELS} random models reused any column"
    );
}

fn committed(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../models")
        .join(name)
        .join("model.tflite");
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn harbor_models_reuse_their_first_two_convolutions_at_the_cards_hop() {
    // 60-sample windows every 30 samples: conv1 (k5, 56 columns) keeps 26, pool1 halves
    // the shift to 15, conv2 (k5, 24 columns) keeps 9; pool2 cannot halve an odd shift.
    for (name, conv1, conv2) in [
        ("tiny-int8-generalized", 8, 16),
        ("small-int8-generalized", 16, 24),
        ("base-int8-generalized", 32, 48),
    ] {
        let bytes = committed(name);
        let parsed = Model::parse(&bytes).unwrap();
        let mut arena = vec![0u8; ARENA];
        let interpreter = Interpreter::new(parsed, &mut arena).unwrap();
        let plan = interpreter.stream_plan(30 * 6);
        assert_eq!(plan.reusing_steps(), 2, "{name}");
        assert_eq!(plan.cache_bytes(), 26 * conv1 + 9 * conv2, "{name}");
        // No overlap, nothing to reuse.
        assert_eq!(interpreter.stream_plan(60 * 6).cache_bytes(), 0, "{name}");
        let mut rng = SplitMix64::new(SEED ^ conv1 as u64);
        for hop in [1, 2, 15, 30, 59] {
            stream_equals_windows(&bytes, hop, 20, &mut rng);
        }
    }
}

#[test]
fn a_small_arena_caches_what_fits_and_still_agrees() {
    let bytes = committed("small-int8-generalized");
    let parsed = Model::parse(&bytes).unwrap();
    let needed = Interpreter::arena_required(&parsed).unwrap();
    // Room for conv1's 416 cached bytes but not conv2's 216 more.
    let mut arena = vec![0u8; needed + 500];
    let mut interpreter = Interpreter::new(parsed, &mut arena).unwrap();
    let plan = interpreter.stream_plan(30 * 6);
    assert_eq!((plan.reusing_steps(), plan.cache_bytes()), (1, 416));
    let mut rng = SplitMix64::new(SEED);
    let window: Vec<i8> = (0..360).map(|_| rng.next_u64() as i8).collect();
    interpreter.set_input(0, &window).unwrap();
    interpreter.invoke_stream(&plan, false).unwrap();
    // A plan made for a bigger arena is refused, not run past the arena's end.
    let mut big = vec![0u8; needed + 4096];
    let other = Interpreter::new(parsed, &mut big)
        .unwrap()
        .stream_plan(30 * 6);
    assert!(interpreter.invoke_stream(&other, true).is_err());
}

#[test]
fn a_plan_for_another_model_is_an_error_not_a_panic() {
    let (small, base) = (
        committed("small-int8-generalized"),
        committed("base-int8-generalized"),
    );
    let mut small_arena = vec![0u8; ARENA];
    let mut base_arena = vec![0u8; ARENA];
    let mut interpreter =
        Interpreter::new(Model::parse(&small).unwrap(), &mut small_arena).unwrap();
    // base's conv1 keeps 26 columns of 32 channels: more than small's conv1 output holds.
    let foreign = Interpreter::new(Model::parse(&base).unwrap(), &mut base_arena)
        .unwrap()
        .stream_plan(30 * 6);
    interpreter.set_input(0, &[0; 360]).unwrap();
    let err = interpreter.invoke_stream(&foreign, true).unwrap_err();
    assert!(err.to_string().contains("another model"), "{err}");
}

#[test]
fn a_keras_model_converted_by_tensorflow_reuses_its_overlap_too() {
    // Conv1D → EXPAND_DIMS + CONV_2D over [1, 1, 60, 6], as TensorFlow's converter writes it.
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/keras/cnn_softmax_int8.tflite");
    let bytes = std::fs::read(&path).unwrap();
    let mut arena = vec![0u8; ARENA];
    let interpreter = Interpreter::new(Model::parse(&bytes).unwrap(), &mut arena).unwrap();
    let plan = interpreter.stream_plan(30 * 6);
    assert!(
        plan.reusing_steps() >= 1 && plan.cache_bytes() > 0,
        "no reuse planned: {plan:?}"
    );
    let mut rng = SplitMix64::new(SEED ^ 0x4B);
    for hop in [1, 10, 30, 45] {
        stream_equals_windows(&bytes, hop, 20, &mut rng);
    }
}
