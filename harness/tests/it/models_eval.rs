//! `harbor eval` beyond harbor's own models: an imported model without float.json scores
//! int8 only, its output kind read from the graph; windows of another length than the
//! model's are an exit-2 error (it was a panic in the float network).

use std::path::{Path, PathBuf};

use crate::support::byo::{HAR_CLASSES, arg, har_tflite, harbor};

/// One held-out WISDM 2019 watch user prepared with `--window`.
fn prepare(dir: &Path, window: &str) -> PathBuf {
    let root = harbor::datasets::data_root().join("wisdm2019");
    assert!(
        root.is_dir(),
        "{} is missing: run scripts/fetch-data",
        root.display()
    );
    let out = dir.join(format!("user1617-{window}.npz"));
    let (code, text) = harbor(&[
        "prepare",
        "wisdm2019-watch",
        &arg(&root),
        "--subjects",
        "1617",
        "--window",
        window,
        "--out",
        &arg(&out),
    ]);
    assert_eq!(code, 0, "{text}");
    out
}

#[test]
fn eval_scores_an_imported_model_int8_only_and_refuses_other_lengths() {
    let tmp = tempfile::tempdir().unwrap();
    let model = tmp.path().join("har");
    let (code, text) = harbor(&[
        "models",
        "import",
        &arg(&har_tflite()),
        "--out",
        &arg(&model),
        "--classes",
        HAR_CLASSES,
    ]);
    assert_eq!(code, 0, "{text}");
    let windows = prepare(tmp.path(), "3s");
    let (code, text) = harbor(&["eval", "--model", &arg(&model), "--windows", &arg(&windows)]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("model output: softmax"), "{text}");
    assert!(text.contains("float: no float model"), "{text}");
    assert!(text.contains("int8 (harbor-core): accuracy"), "{text}");

    let short = prepare(tmp.path(), "2s");
    let small = harbor::datasets::workspace_root().join("models/small-int8-generalized");
    for m in [&model, &small] {
        let (code, text) = harbor(&["eval", "--model", &arg(m), "--windows", &arg(&short)]);
        assert_eq!(code, 2, "{}: {text}", m.display());
        assert!(
            text.contains("windows of 40 samples") && text.contains("takes 60"),
            "{text}"
        );
    }
}

/// An imported model with its float32 `.tflite` (`import --float`): eval scores the float
/// reference on the same raw windows (counts → physical units → the card's normalization)
/// and the two agree on most windows, which they would not if the conversion were wrong.
#[test]
fn eval_scores_the_float_reference_of_an_imported_model() {
    let tmp = tempfile::tempdir().unwrap();
    let keras = |name: &str| {
        harbor::datasets::workspace_root()
            .join("fixtures/keras")
            .join(name)
    };
    let meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(keras("meta.json")).unwrap()).unwrap();
    let list = |key: &str| {
        meta[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.to_string())
            .collect::<Vec<_>>()
            .join(",")
    };
    let model = tmp.path().join("cnn");
    let (code, text) = harbor(&[
        "models".to_string(),
        "import".into(),
        arg(&keras("cnn_softmax_int8.tflite")),
        "--out".into(),
        arg(&model),
        "--classes".into(),
        HAR_CLASSES.into(),
        format!("--mean={}", list("mean")),
        format!("--std={}", list("std")),
        "--float".into(),
        arg(&keras("cnn_softmax_f32.tflite")),
    ]);
    assert_eq!(code, 0, "{text}");
    let windows = prepare(tmp.path(), "3s");
    let (code, text) = harbor(&["eval", "--model", &arg(&model), "--windows", &arg(&windows)]);
    assert_eq!(code, 0, "{text}");
    assert!(!text.contains("no float model"), "{text}");
    assert!(
        text.contains("float (the card's float_file): accuracy"),
        "{text}"
    );
    let agreement: f64 = text
        .lines()
        .find_map(|l| l.strip_prefix("float vs int8: same class on "))
        .and_then(|l| l.split(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no agreement line in:\n{text}"));
    assert!(
        agreement >= 90.0,
        "float vs int8 agree on {agreement} %:\n{text}"
    );
}
