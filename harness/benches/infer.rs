//! Host int8 inference per window of the committed small model, through harbor-core (the
//! band's code), with and without the band's raw-reading → int8 input conversion.

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

use harbor::model::card::ModelCard;
use harbor::model::int8::{HostInt8, arena_bytes};

fn bench(c: &mut Criterion) {
    let dir = harbor::datasets::workspace_root().join("models/small-int8-generalized");
    let Ok(model) = std::fs::read(dir.join("model.tflite")) else {
        eprintln!("{}: no committed model, skipping", dir.display());
        return;
    };
    let card = ModelCard::load(&dir.join("card.yaml")).expect("card");
    let inputs = std::fs::read(dir.join("golden/inputs.i8")).unwrap_or_default();
    let mut arena = vec![0u8; arena_bytes(&model).expect("arena")];
    let mut host = HostInt8::new(&model, &mut arena).expect("plans");
    let n = host.input_len;
    let window: Vec<i8> = if inputs.len() >= n {
        inputs[..n].iter().map(|&b| b as i8).collect()
    } else {
        vec![0; n]
    };
    c.bench_function("small int8 invoke per window (harbor-core)", |b| {
        b.iter(|| host.run(black_box(&window)).expect("invoke"))
    });

    let conv = card.normalization.device_conversion.clone();
    let raw: Vec<f32> = (0..n).map(|i| ((i * 37) % 4000) as f32 - 2000.0).collect();
    c.bench_function("raw int16 -> int8 input conversion per window", |b| {
        b.iter(|| conv.quantize_window(black_box(&raw), card.input.channels.len()))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
