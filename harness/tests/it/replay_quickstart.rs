//! `harbor run` end to end on the real quickstart scenario: real WISDM 2019 watch files of
//! held-out users, the real band firmware in QEMU, a small window count.

use std::path::{Path, PathBuf};

use serde_json::Value;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Runs `harbor run` and returns (exit code, report.json, stdout+stderr).
fn harbor_run(scenario: &Path, extra: &[&str]) -> (i32, Option<Value>, String) {
    let out = tempfile::tempdir().unwrap();
    let output = crate::support::cli::command()
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
        .ok()
        .map(|t| serde_json::from_str(&t).unwrap());
    (output.status.code().unwrap_or(-1), report, text)
}

fn cell<'a>(report: &'a Value, mode: &str) -> &'a Value {
    report["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["mode"] == mode)
        .unwrap_or_else(|| panic!("no {mode} result in {report}"))
}

#[test]
fn quickstart_matches_the_host_reference_bit_for_bit_whatever_the_jobs() {
    let scenario = workspace().join("scenarios/quickstart.yaml");
    let (code1, one, text1) = harbor_run(&scenario, &["--max-windows", "48", "--jobs", "1"]);
    let (code3, three, text3) = harbor_run(&scenario, &["--max-windows", "48", "--jobs", "3"]);
    let (one, three) = (one.expect(&text1), three.expect(&text3));

    let tensor = cell(&one, "tensor");
    assert_eq!(tensor["status"], "ok", "{text1}");
    assert_eq!(tensor["windows"], 48);
    assert_eq!(tensor["windows_completed"], 48);
    // Every logit of every window equals harbor-core on the host, so the scores do too.
    assert_eq!(
        tensor["agreement_int8"], 1.0,
        "{}",
        tensor["int8_mismatches"]
    );
    assert_eq!(tensor["int8_mismatches"].as_array().unwrap().len(), 0);
    assert_eq!(tensor["accuracy"], tensor["host_int8_accuracy"]);
    // The accuracy is the confusion matrix's diagonal over its total, 48 windows.
    let counts = tensor["confusion"]["counts"].as_array().unwrap();
    let total: u64 = counts
        .iter()
        .flat_map(|r| r.as_array().unwrap())
        .map(|v| v.as_u64().unwrap())
        .sum();
    let diagonal: u64 = (0..counts.len())
        .map(|i| counts[i][i].as_u64().unwrap())
        .sum();
    assert_eq!(total, 48);
    assert_eq!(tensor["accuracy"].as_f64().unwrap(), diagonal as f64 / 48.0);
    // Held-out users: the card's test subjects are not among its training subjects.
    assert_eq!(
        tensor["subjects_seen_in_training"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    // Instruction counts are real and ordered; latency is median × CPI / clock.
    let ins = &tensor["instructions"];
    let (min, med, max) = (
        ins["min"].as_u64().unwrap(),
        ins["median"].as_u64().unwrap(),
        ins["max"].as_u64().unwrap(),
    );
    assert!(0 < min && min <= med && med <= max, "{ins}");
    let expected_ms = med as f64 / one["board"]["clock_hz"].as_f64().unwrap()
        * one["board"]["cycles_per_instruction"].as_f64().unwrap()
        * 1e3;
    assert!((tensor["est_latency_ms"].as_f64().unwrap() - expected_ms).abs() < 1e-9);
    for key in ["flash_bytes", "ram_bytes", "stack_bytes", "arena_bytes"] {
        assert!(tensor[key].as_u64().unwrap() > 0, "{key}");
    }
    assert!(tensor["energy_uj"].as_f64().unwrap() > 0.0);

    // Stream mode is either measured or a named failure, never made up.
    let stream = cell(&one, "stream");
    if stream["status"] == "unsupported" {
        assert_eq!(stream["windows_completed"], 0);
        assert!(stream["accuracy"].is_null());
        let message = stream["failures"][0]["message"].as_str().unwrap();
        assert!(
            message.contains("not supported by this firmware"),
            "{message}"
        );
        assert_eq!(code1, 1, "an unsupported cell is a failed check");
    } else {
        // The device windowed and converted the raw stream itself: still bit-exact.
        assert_eq!(stream["status"], "ok", "{stream}");
        assert!(
            stream["windows_completed"].as_u64().unwrap() >= 48,
            "{stream}"
        );
        assert_eq!(
            stream["agreement_int8"], 1.0,
            "{}",
            stream["int8_mismatches"]
        );
        assert_eq!(stream["accuracy"], stream["host_int8_accuracy"]);
        assert_eq!(code1, 0, "{text1}");
    }

    // Identical results whatever --jobs is.
    assert_eq!(one["results"], three["results"]);
    assert_eq!(code1, code3);
    assert_eq!(
        (one["jobs"].as_u64(), three["jobs"].as_u64()),
        (Some(1), Some(3))
    );
}

#[test]
fn a_scenario_error_names_file_line_and_column_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.yaml");
    std::fs::write(
        &path,
        "name: bad\ndatasets: []\nmodels: []\ntargets: []\nmodes: [tensor]\njbos: 2\n",
    )
    .unwrap();
    let (code, report, text) = harbor_run(&path, &[]);
    assert_eq!(code, 2, "{text}");
    assert!(report.is_none());
    assert!(text.contains(&format!("{}:6:1", path.display())), "{text}");
    assert!(text.contains("jbos"), "{text}");
}
