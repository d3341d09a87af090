//! `harbor bench --json`: stream-mode, tensor-mode and compute-only windows/s from one QEMU,
//! and their ratios, per model; stream windows bit-exact with tensor mode's.

use std::path::Path;

use serde_json::Value;

use crate::support::cli::{code, command, harbor, stdout, text};
use crate::support::qemu::firmware;

fn number(model: &Value, field: &str) -> f64 {
    model[field]
        .as_f64()
        .unwrap_or_else(|| panic!("`{field}` is not a number in {model}"))
}

#[test]
fn bench_json_reports_both_rates_and_their_ratio_per_model() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let models = ["tiny-int8-generalized", "small-int8-generalized"];
    let fw = firmware("band-qemu");
    let mut args = vec![
        "bench".to_string(),
        "--json".into(),
        "--windows".into(),
        "100".into(),
        "--firmware".into(),
        fw.display().to_string(),
    ];
    for m in models {
        args.push("--model".into());
        args.push(root.join("models").join(m).display().to_string());
    }
    let out = harbor(&args);
    assert_eq!(code(&out), 0, "{}", text(&out));
    let json: Value = serde_json::from_str(&stdout(&out))
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", text(&out)));
    let list = json["models"].as_array().expect("a `models` array");
    let names: Vec<&str> = list.iter().filter_map(|m| m["model"].as_str()).collect();
    assert_eq!(names, models, "one entry per --model, in order");
    for m in list {
        assert_eq!(m["windows"], 100, "{m}");
        let exchange = number(m, "windows_per_s");
        let compute = number(m, "compute_only_windows_per_s");
        let ratio = number(m, "ratio");
        assert!(exchange > 0.0 && compute > 0.0, "{m}");
        assert!(
            (ratio - exchange / compute).abs() < 1e-9 * ratio.max(1.0),
            "ratio is windows_per_s / compute_only_windows_per_s: {m}"
        );
        assert!(number(m, "instructions_median") > 0.0, "{m}");
        // band-qemu announces the mailbox and bench shares its RAM, as replay does.
        assert_eq!(m["mailbox"], true, "{m}");
        assert!(number(m, "single_windows_per_s") > 0.0, "{m}");
        let stream = number(m, "stream_windows_per_s");
        assert!(stream > 0.0, "{m}");
        assert!(
            (number(m, "stream_ratio") - stream / compute).abs() < 1e-9 * stream.max(1.0),
            "stream_ratio is stream_windows_per_s / compute_only_windows_per_s: {m}"
        );
        // The cards' stride: 30 of 60 samples.
        assert_eq!(m["stream_hop"], 30, "{m}");
        // The band's stream windows and the host's tensor windows of the same samples.
        assert_eq!(m["stream_mismatches"], 0, "{m}");
        // Overlapping windows reuse the first two convolutions' overlap: the median stream
        // window costs far less than a tensor-mode inference (~71 % for small).
        let stream_median = number(m, "stream_instructions_median");
        assert!(
            stream_median > 0.0 && stream_median < 0.85 * number(m, "instructions_median"),
            "{m}"
        );
    }
}

#[test]
fn bench_without_firmware_names_the_missing_image() {
    let out = harbor(&[
        "bench",
        "--json",
        "--windows",
        "1",
        "--firmware",
        "/nonexistent/band.elf",
    ]);
    assert_eq!(code(&out), 3, "{}", text(&out));
    assert!(
        text(&out).contains("/nonexistent/band.elf"),
        "{}",
        text(&out)
    );
}

#[test]
fn bench_without_the_recording_says_what_to_fetch() {
    let empty = tempfile::tempdir().unwrap();
    let fw = firmware("band-qemu");
    let out = command()
        .env("HARBOR_DATA", empty.path())
        .args(["bench", "--json", "--windows", "1", "--firmware"])
        .arg(&fw)
        .output()
        .expect("the harbor binary runs");
    assert_eq!(code(&out), 3, "{}", text(&out));
    assert!(
        text(&out).contains("harbor datasets fetch wisdm2019"),
        "{}",
        text(&out)
    );
}
