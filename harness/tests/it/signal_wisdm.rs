//! The chain on real WISDM 2019 watch recordings (three complete subjects).

use harbor::board::BoardProfile;
use harbor::datasets::{self, DatasetKind, LoadOptions, NoProgress};
use harbor::signal::{PreparedFile, Provenance, ResampleConfig, WindowSpec, prepare};

#[test]
fn wisdm_watch_subjects_become_gravity_consistent_windows_of_all_18_activities() {
    let root = datasets::data_root().join("wisdm2019");
    let opts = LoadOptions {
        subjects: vec!["1600".into(), "1601".into(), "1602".into()],
        ..LoadOptions::default()
    };
    let loaded = datasets::load(DatasetKind::Wisdm2019Watch, &root, &opts, &NoProgress)
        .unwrap_or_else(|e| panic!("{e} (unpack the datasets with scripts/fetch-data)"));
    let board = BoardProfile::load(BoardProfile::DEFAULT).unwrap();
    let (spec, cfg) = (WindowSpec::default(), ResampleConfig::default());
    let p = prepare(&loaded.recordings, &board, &spec, &cfg, &NoProgress).unwrap();
    let r = &p.report;
    println!("{r}");

    // The README: 18 activities (A–S without N), each a ~3-minute block per subject, and
    // these three subjects are complete.
    assert_eq!(p.windows.classes().len(), 18, "{:?}", r.per_class);
    // ~180 s blocks give ~118 windows each at a 1.5 s hop; allow for short blocks and gaps.
    assert!(r.windows.kept >= 3 * 18 * 90, "{} windows", r.windows.kept);
    assert!(r.windows.kept <= 3 * 18 * 125, "{} windows", r.windows.kept);
    let subjects: std::collections::BTreeSet<&str> = (0..p.windows.len())
        .map(|i| p.windows.source(i).subject.as_str())
        .collect();
    assert_eq!(
        subjects.into_iter().collect::<Vec<_>>(),
        ["1600", "1601", "1602"]
    );

    // A wrist at rest or moving normally feels about 1 g on average.
    let mean_norm: f64 = p
        .windows
        .physical
        .iter()
        .map(|s| f64::from(s[0] * s[0] + s[1] * s[1] + s[2] * s[2]).sqrt())
        .sum::<f64>()
        / p.windows.physical.len() as f64;
    assert!(
        (9.0..11.0).contains(&mean_norm),
        "mean |accel| {mean_norm} m/s²"
    );
    // x is x_raw in physical units.
    let scale = board.imu.accel_scale();
    for (raw, x) in p.windows.raw.iter().zip(&p.windows.physical).step_by(997) {
        assert!((f64::from(x[1]) - f64::from(raw[1]) * scale).abs() < 1e-5);
    }

    // And the file the CLI writes reads back.
    let dir = tempfile::tempdir().unwrap();
    let meta = Provenance::new(
        "wisdm2019-watch",
        &root,
        &loaded.recordings,
        loaded.skipped.len(),
        &board,
        &spec,
        &cfg,
        r,
    );
    assert_eq!(meta.source_files, 6, "3 subjects × accel + gyro files");
    let file = PreparedFile::from_prepared(&p, None, &meta).unwrap();
    file.write(&dir.path().join("w.npz")).unwrap();
    assert_eq!(PreparedFile::read(&dir.path().join("w.npz")).unwrap(), file);
}
