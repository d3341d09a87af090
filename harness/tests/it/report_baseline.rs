//! `harbor run --baseline`: the comparison lands in report.md/report.html and a regression
//! turns an otherwise passing run into exit 1. The quickstart scenario (no thresholds) on a
//! few windows keeps the QEMU time small.

use std::path::{Path, PathBuf};

use harbor::replay::Mode;
use harbor::report::Report;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A baseline with the quickstart's cell ids whose flash figure is `flash_bytes`.
fn baseline(dir: &Path, flash_bytes: u64) -> PathBuf {
    let mut report = crate::support::report::report();
    report.scenario = "quickstart".into();
    report.results = [Mode::Tensor, Mode::Stream]
        .into_iter()
        .map(|mode| {
            let mut c = crate::support::report::failed_cell();
            c.mode = mode;
            c.status = harbor::report::Status::Ok;
            c.failures.clear();
            c.checks.clear();
            c.flash_bytes = Some(flash_bytes);
            c
        })
        .collect();
    let out = dir.join(format!("baseline-{flash_bytes}"));
    report.write(&out).unwrap();
    out.join("report.json")
}

fn run(out: &Path, extra: &[&str]) -> (i32, String) {
    let scenario = workspace().join("scenarios/quickstart.yaml");
    let output = crate::support::cli::command()
        .arg("run")
        .arg(&scenario)
        .args(["--max-windows", "8", "--jobs", "2", "--out"])
        .arg(out)
        .args(extra)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    (output.status.code().unwrap_or(-1), text)
}

#[test]
fn a_regression_against_the_baseline_fails_the_run_and_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    // Any real firmware is far larger than 1,000 bytes: flash grew beyond 1 %.
    let tight = baseline(dir.path(), 1_000);
    let out = dir.path().join("tight");
    let (code, text) = run(&out, &["--baseline", tight.to_str().unwrap()]);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("REGRESSION"), "{text}");
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("## Baseline"), "{md}");
    let flash_row = md
        .lines()
        .find(|l| l.contains("qemu-band/tensor") && l.contains("flash_bytes"))
        .unwrap_or_else(|| panic!("no flash_bytes delta in\n{md}"));
    assert!(
        flash_row.contains("**REGRESSION**") && flash_row.contains("| 1000 "),
        "{flash_row}"
    );
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("<table id=\"baseline\">") && html.contains("REGRESSION"));
    // The run itself passed: the JSON has no failed check, only the baseline made it exit 1.
    let report =
        Report::from_json(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    assert!(report.passed(), "{text}");

    // A tolerance wide enough for the growth lets the same comparison pass.
    let out = dir.path().join("loose");
    let (code, text) = run(
        &out,
        &[
            "--baseline",
            tight.to_str().unwrap(),
            "--tolerance",
            "flash_bytes=100000%",
        ],
    );
    assert_eq!(code, 0, "{text}");
    assert!(
        std::fs::read_to_string(out.join("report.md"))
            .unwrap()
            .contains("0 regression(s)")
    );
}

#[test]
fn an_unreadable_baseline_is_a_usage_error_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let (code, text) = run(
        &out,
        &[
            "--baseline",
            dir.path().join("missing.json").to_str().unwrap(),
        ],
    );
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("missing.json"), "{text}");
    assert!(!out.exists(), "nothing was written");
}
