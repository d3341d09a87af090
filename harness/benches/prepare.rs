//! Throughput of `harbor prepare`'s work on the whole WISDM 2019 watch set: parse the raw
//! text, resample to the band's 25 Hz, quantize to int16, convert to 20 Hz and cut windows.
//! Reported in MB/s of input text (criterion `Throughput::Bytes`). Needs the unpacked
//! datasets (`scripts/fetch-data`); see docs/signal.md for measured figures.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use harbor::board::BoardProfile;
use harbor::datasets::{self, DatasetKind, LoadOptions, NoProgress};
use harbor::signal::{ResampleConfig, WindowSpec, prepare};

fn bench(c: &mut Criterion) {
    let root = datasets::data_root().join("wisdm2019");
    let opts = LoadOptions::default();
    let board = BoardProfile::load(BoardProfile::DEFAULT).expect("default board profile");
    let (spec, cfg) = (WindowSpec::default(), ResampleConfig::default());
    let loaded = datasets::load(DatasetKind::Wisdm2019Watch, &root, &opts, &NoProgress)
        .unwrap_or_else(|e| panic!("{e} (unpack the datasets with scripts/fetch-data)"));
    let mut group = c.benchmark_group("prepare");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(loaded.bytes_read));
    group.bench_function("wisdm2019-watch parse+resample+quantize+window", |b| {
        b.iter(|| {
            let loaded = datasets::load(DatasetKind::Wisdm2019Watch, &root, &opts, &NoProgress)
                .expect("load");
            black_box(
                prepare(&loaded.recordings, &board, &spec, &cfg, &NoProgress).expect("prepare"),
            )
        })
    });
    group.bench_function("wisdm2019-watch resample+quantize+window only", |b| {
        b.iter(|| {
            black_box(
                prepare(&loaded.recordings, &board, &spec, &cfg, &NoProgress).expect("prepare"),
            )
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
