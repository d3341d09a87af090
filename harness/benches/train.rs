//! Training epoch time of each variant on synthetic windows of the real shape (60 × 6,
//! 8 classes); real-data epoch times are in docs/models.md.

use criterion::{Criterion, criterion_group, criterion_main};

use harbor::model::WindowSet;
use harbor::model::recipe::TrainConfig;
use harbor::model::{Arch, Variant};
use harbor::rng::SplitMix64;
use harbor::train::fit::{self, Quiet};

/// 4,096 windows of noise with a class-dependent offset: enough batches for a stable time.
fn windows() -> WindowSet {
    let mut rng = SplitMix64::new(1);
    let mut set = WindowSet::new(60, 6);
    let mut w = vec![0f32; 360];
    for i in 0..4096 {
        let class = i % 8;
        for v in w.iter_mut() {
            *v = (rng.next_u64() % 1000) as f32 / 500.0 - 1.0 + class as f32 * 0.1;
        }
        set.push(&w, class, "s");
    }
    set
}

fn bench(c: &mut Criterion) {
    let data = windows();
    let cfg = TrainConfig {
        max_epochs: 1,
        ..TrainConfig::default()
    };
    let mut group = c.benchmark_group("train epoch, 4096 windows");
    group.sample_size(10);
    for v in Variant::ALL {
        let arch = Arch::new(v, 60, 6, 8).expect("arch");
        let start = harbor::train::cnn::Cnn::new(&arch, &fit::device(1)).to_float_net(&arch);
        group.bench_function(v.name(), |b| {
            b.iter(|| {
                fit::fit(
                    fit::from_float_net(&start, &fit::device(1)),
                    &arch,
                    &data,
                    None,
                    &cfg,
                    &Quiet,
                )
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
