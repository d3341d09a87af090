//! Synthetic, learnable windows for the training tests (no dataset needed, seconds to train).

use harbor::model::WindowSet;
use harbor::rng::SplitMix64;

pub const WINDOW: usize = 60;
pub const CHANNELS: usize = 6;
pub const CLASSES: usize = 3;

/// Class 0: slow wave on channel 0; class 1: fast wave on channel 1; class 2: a step on
/// channel 3. Plus uniform noise, random phase and amplitude: separable, not trivial.
pub fn synthetic(n_per_class: usize, seed: u64) -> WindowSet {
    let mut rng = SplitMix64::new(seed);
    let mut unit = move || (rng.next_u64() >> 11) as f32 / (1u64 << 53) as f32;
    let mut set = WindowSet::new(WINDOW, CHANNELS);
    for i in 0..n_per_class * CLASSES {
        let class = i % CLASSES;
        let phase = unit() * std::f32::consts::TAU;
        let amp = 0.5 + unit();
        let mut w = vec![0f32; WINDOW * CHANNELS];
        for t in 0..WINDOW {
            for c in 0..CHANNELS {
                let noise = (unit() - 0.5) * 0.6;
                let tt = t as f32;
                let signal = match (class, c) {
                    (0, 0) => amp * (tt * 0.2 + phase).sin(),
                    (1, 1) => amp * (tt * 1.3 + phase).sin(),
                    (2, 3) if t > WINDOW / 3 => amp,
                    _ => 0.0,
                };
                w[t * CHANNELS + c] = signal + noise;
            }
        }
        set.push(&w, class, &format!("s{}", i % 4));
    }
    set
}

/// The real BasicMotions recordings as a `--datasets` entry (`basicmotions=ROOT`).
pub fn basicmotions() -> String {
    let root = harbor::datasets::data_root().join("basicmotions");
    assert!(
        root.is_dir(),
        "{} is missing: run scripts/fetch-data",
        root.display()
    );
    format!("basicmotions={}", root.display())
}
