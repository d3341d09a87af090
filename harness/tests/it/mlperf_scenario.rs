//! scenarios/mlperf.yaml end to end: real WISDM 2019 held-out windows into harbor's band
//! twice, once over the binary protocol (`kind: qemu`) and once built text-only and driven
//! as an MLPerf Tiny device (`kind: mlperf`); both must score the same.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Runs `harbor run` and returns (exit code, report.json, stdout+stderr).
fn harbor_run(scenario: &Path, extra: &[&str]) -> (i32, Value, String) {
    let out = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_harbor"))
        .arg("run")
        .arg(scenario)
        .arg("--out")
        .arg(out.path())
        .args(extra)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    let report = std::fs::read_to_string(out.path().join("report.json"))
        .unwrap_or_else(|e| panic!("no report.json ({e}): {text}"));
    (
        output.status.code().unwrap_or(-1),
        serde_json::from_str(&report).unwrap(),
        text,
    )
}

fn cell<'a>(report: &'a Value, target: &str, mode: &str) -> &'a Value {
    report["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["target"] == target && r["mode"] == mode)
        .unwrap_or_else(|| panic!("no {target}/{mode} cell in {report}"))
}

#[test]
fn the_text_only_band_scores_as_the_binary_path_with_latency_from_m_lap_us() {
    let scenario = workspace().join("scenarios/mlperf.yaml");
    let (code, report, text) = harbor_run(&scenario, &["--max-windows", "40"]);
    assert_eq!(code, 0, "{text}");
    let binary = cell(&report, "band-binary", "tensor");
    let mlperf = cell(&report, "band-mlperf", "tensor");
    for c in [binary, mlperf] {
        assert_eq!(c["status"], "ok", "{c}");
        assert_eq!(c["windows_completed"], 40, "{c}");
        assert_eq!(c["agreement_int8"], 1.0, "{}", c["int8_mismatches"]);
    }
    // Same windows, same predictions: the same confusion matrix, so the same scores.
    assert_eq!(mlperf["confusion"], binary["confusion"]);
    assert_eq!(mlperf["accuracy"], binary["accuracy"]);
    assert_eq!(mlperf["macro_f1"], binary["macro_f1"]);
    // Latency comes from the device's m-lap-us stamps, and only there: the binary band in
    // QEMU measures none, and the text-only one reports no instruction count.
    assert!(
        mlperf["measured_latency_ms"]
            .as_f64()
            .is_some_and(|ms| ms > 0.0),
        "{mlperf}"
    );
    assert!(binary["measured_latency_ms"].is_null(), "{binary}");
    assert!(mlperf["instructions"].is_null(), "{mlperf}");
    assert!(mlperf["est_latency_ms"].is_null(), "{mlperf}");
}

#[test]
fn stream_mode_on_an_mlperf_device_is_unsupported_not_failed() {
    let dir = tempfile::tempdir().unwrap();
    let root = workspace().canonicalize().unwrap();
    let scenario = dir.path().join("stream.yaml");
    std::fs::write(
        &scenario,
        format!(
            "name: mlperf-stream\n\
             datasets:\n  - {{ kind: wisdm2019-watch, root: wisdm2019, subjects: model_test, max_windows: 5 }}\n\
             models: [{root}/models/small-int8-generalized]\n\
             targets:\n  - {{ name: band-mlperf, kind: mlperf, firmware: {root}/target/firmware/elf/band-qemu-mlperf.elf, outputs: int8 }}\n\
             modes: [stream]\n",
            root = root.display()
        ),
    )
    .unwrap();
    let (code, report, text) = harbor_run(&scenario, &[]);
    let stream = cell(&report, "band-mlperf", "stream");
    assert_eq!(stream["status"], "unsupported", "{text}");
    assert_eq!(stream["failures"][0]["kind"], "unsupported", "{stream}");
    assert!(
        stream["failures"][0]["message"]
            .as_str()
            .unwrap()
            .contains("MLPerf Tiny protocol carries prepared input tensors"),
        "{stream}"
    );
    // An unsupported cell fails the gate like any cell that did not run (exit 1), never as
    // an infrastructure failure.
    assert_eq!(code, 1, "{text}");
}
