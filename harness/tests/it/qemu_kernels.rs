//! The band's int8 kernels against harbor-core on the host, on random models: the RV32 build
//! runs hand-scheduled dot loops (inline asm) that the host never compiles, so the host's
//! proptests and the TFLM differential cannot see them. Harbor-core on the host equals TFLite
//! Micro (tflm_differential), so band = host here means band = TFLM.

use harbor::dut::Target;
use harbor::model::int8;
use harbor::rng::SplitMix64;

use crate::support::random_model::random_model;

/// Random models (shapes with every remainder of a row length by four, 1–8 channels,
/// strides, dilations, SAME and VALID padding, each op harbor runs).
const MODELS: u64 = 120;
const SEED: u64 = 0x0a5e_2026_1202;
const WINDOWS: usize = 4;
/// Logits an InferResult carries (`MAX_LOGITS` in the band app): longer outputs are compared
/// on their first 64 values.
const MAX_LOGITS: usize = 64;

fn inputs(len: usize, seed: u64) -> Vec<Vec<i8>> {
    let mut rng = SplitMix64::new(seed);
    let mut out = vec![vec![-128i8; len], vec![127i8; len]];
    while out.len() < WINDOWS {
        out.push((0..len).map(|_| rng.next_u64() as i8).collect());
    }
    out
}

#[tokio::test]
async fn band_kernels_equal_harbor_core_on_random_models() {
    let mut band = crate::support::qemu::launch("band-qemu").await;
    let mut conv_models = 0;
    for i in 0..MODELS {
        let seed = SEED + i;
        let model = random_model(seed);
        let windows = inputs(model.input_len, seed ^ 0x5eed);
        let want = int8::run_all(&model.bytes, &windows)
            .unwrap_or_else(|e| panic!("seed {seed:#x}: host: {e}"));
        band.load_model(&model.bytes)
            .await
            .unwrap_or_else(|e| panic!("seed {seed:#x} ({:?}): load: {e}", model.ops));
        let refs: Vec<&[i8]> = windows.iter().map(Vec::as_slice).collect();
        let mut got = Vec::new();
        band.infer_many(&refs, &mut got)
            .await
            .unwrap_or_else(|(at, e)| panic!("seed {seed:#x} ({:?}): window {at}: {e}", model.ops));
        assert_eq!(got.len(), WINDOWS, "seed {seed:#x}");
        for (w, (g, h)) in got.iter().zip(&want).enumerate() {
            let n = h.len().min(MAX_LOGITS);
            assert_eq!(
                g.logits[..],
                h[..n],
                "seed {seed:#x} ({:?}) window {w}: band ≠ host",
                model.ops
            );
        }
        conv_models += usize::from(model.ops.contains(&"CONV_2D"));
    }
    // The asm loops serve CONV_2D and FULLY_CONNECTED: most models must have gone through them.
    assert!(conv_models >= 40, "only {conv_models} models with CONV_2D");
}
