//! `harbor eval` end to end on real windows: `harbor prepare` one held-out WISDM watch user,
//! score the committed small model on them, and bad input gets a clear error. `eval` is
//! framework-free, so only the `models train` case needs feature `train`.

use crate::support::cli::{harbor, text};

use std::path::PathBuf;

fn small_model() -> PathBuf {
    harbor::datasets::workspace_root().join("models/small-int8-generalized")
}

/// The number after `label` on the line that starts with `line_start`.
fn figure(output: &str, line_start: &str, label: &str) -> f64 {
    let line = output
        .lines()
        .find(|l| l.starts_with(line_start))
        .unwrap_or_else(|| panic!("no `{line_start}` line in:\n{output}"));
    let rest = &line[line
        .find(label)
        .unwrap_or_else(|| panic!("no `{label}` in `{line}`"))
        + label.len()..];
    rest.split_whitespace()
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no number after `{label}` in `{line}`"))
}

#[test]
fn eval_scores_a_held_out_user_with_float_and_int8() {
    let root = harbor::datasets::data_root().join("wisdm2019");
    assert!(
        root.is_dir(),
        "{} is missing: run scripts/fetch-data",
        root.display()
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let npz = dir.path().join("user1617.npz");
    let root_s = root.to_string_lossy();
    let npz_s = npz.to_string_lossy();
    let prep = harbor(&[
        "prepare",
        "wisdm2019-watch",
        &root_s,
        "--subjects",
        "1617",
        "--out",
        &npz_s,
    ]);
    assert!(prep.status.success(), "prepare failed:\n{}", text(&prep));

    let model = small_model();
    let out = harbor(&[
        "eval",
        "--model",
        &model.to_string_lossy(),
        "--windows",
        &npz_s,
    ]);
    let all = text(&out);
    assert!(out.status.success(), "eval failed:\n{all}");
    let float = figure(&all, "float:", "accuracy");
    let int8 = figure(&all, "int8", "accuracy");
    let agree = figure(&all, "float vs int8", "same class on");
    // 1617 never took part in training or validation. Chance over 8 classes is 0.125 and the
    // largest class (eating, 4 of WISDM's 18 activities) is about a third of the windows.
    assert!(
        float > 0.5 && int8 > 0.5,
        "float {float}, int8 {int8}:\n{all}"
    );
    assert!(
        agree > 90.0,
        "float and int8 agree on only {agree} %:\n{all}"
    );
    assert!(
        all.contains("brushing_teeth"),
        "confusion matrix lists the classes:\n{all}"
    );
}

#[test]
fn eval_without_a_card_names_the_missing_file() {
    // float.json is optional (imported models score int8 only: models_eval); the card is not.
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::copy(
        small_model().join("model.tflite"),
        dir.path().join("model.tflite"),
    )
    .expect("copy");
    let out = harbor(&[
        "eval",
        "--model",
        &dir.path().to_string_lossy(),
        "--windows",
        "nowhere.npz",
    ]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "usage error expected:\n{}",
        text(&out)
    );
    assert!(
        text(&out).contains("card.yaml"),
        "error names the file:\n{}",
        text(&out)
    );
}

#[cfg(feature = "train")]
#[test]
fn unknown_variant_is_a_usage_error() {
    let out = harbor(&[
        "models",
        "train",
        "--root",
        "x",
        "--variant",
        "huge",
        "--out",
        "y",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("huge"), "{}", text(&out));
}
