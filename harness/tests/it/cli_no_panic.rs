//! No subcommand panics: a closed stdout ends it quietly (`harbor validate … | true`), and
//! a scenario's timeouts that are negative, zero, huge or not numbers are errors at their
//! line and column in `validate`, `run` and `run --dry-run` alike.

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .unwrap()
}

/// Runs harbor in the workspace with stdout a pipe whose reading end is already closed.
fn into_closed_pipe(args: &[&str]) -> (ExitStatus, String) {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let output = Command::new(env!("CARGO_BIN_EXE_harbor"))
        .args(args)
        .current_dir(workspace())
        .stdout(writer)
        .output()
        .unwrap();
    (
        output.status,
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn every_subcommand_ends_quietly_when_stdout_is_closed() {
    let dir = tempfile::tempdir().unwrap();
    let npz = dir.path().join("windows.npz");
    let npz = npz.to_str().unwrap();
    let root = harbor::datasets::data_root().join("basicmotions");
    let root = root.to_str().unwrap();
    let prepared = Command::new(env!("CARGO_BIN_EXE_harbor"))
        .args(["prepare", "basicmotions", root, "--out", npz])
        .current_dir(workspace())
        .output()
        .unwrap();
    assert!(prepared.status.success(), "{prepared:?}");
    let again = dir.path().join("again.npz");
    let commands: Vec<Vec<&str>> = vec![
        vec!["validate", "scenarios/ci.yaml"],
        vec!["validate", "scenarios/ota.yaml"],
        vec!["datasets", "list"],
        vec!["datasets", "inspect", "basicmotions", root],
        vec![
            "prepare",
            "basicmotions",
            root,
            "--out",
            again.to_str().unwrap(),
        ],
        vec![
            "eval",
            "--model",
            "models/small-int8-generalized",
            "--windows",
            npz,
        ],
        vec!["boards", "list"],
        vec!["boards", "show", "esp32c3-band"],
        vec!["models", "list"],
        vec!["run", "scenarios/quickstart.yaml", "--dry-run"],
        vec!["--help"],
    ];
    for args in &commands {
        let (status, stderr) = into_closed_pipe(args);
        assert!(
            !stderr.contains("panicked") && status.code() != Some(101),
            "{args:?}: {status:?} {stderr}"
        );
        // Like a Unix tool: done, or ended by SIGPIPE, without a word on stderr.
        assert!(
            status.code() == Some(0) || status.signal() == Some(libc::SIGPIPE),
            "{args:?}: {status:?} {stderr}"
        );
        assert!(stderr.is_empty(), "{args:?}: {stderr}");
    }
}

#[test]
fn a_run_into_a_closed_stdout_still_writes_its_report_and_gate() {
    let out = tempfile::tempdir().unwrap();
    let (status, stderr) = into_closed_pipe(&[
        "run",
        "scenarios/quickstart.yaml",
        "--max-windows",
        "2",
        "--out",
        out.path().to_str().unwrap(),
    ]);
    assert!(!stderr.contains("panicked"), "{stderr}");
    // The gate's own verdict (a threshold may fail on 2 windows), not a signal's.
    assert!(matches!(status.code(), Some(0 | 1)), "{status:?} {stderr}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("report.json")).unwrap())
            .unwrap();
    assert_eq!(report["status"], "complete");
}

/// `harbor <args> <scenario>` with `timeouts:` replaced; exit code and stderr.
fn with_timeouts(timeouts: &str, args: &[&str]) -> (Option<i32>, String) {
    let ci = std::fs::read_to_string(workspace().join("scenarios/ci.yaml")).unwrap();
    let start = ci.find("timeouts:\n").unwrap();
    let end = start + ci[start..].find("datasets:").unwrap();
    let text = format!("{}timeouts: {timeouts}\n{}", &ci[..start], &ci[end..]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.yaml");
    // ci.yaml's paths are relative to scenarios/: keep them valid from elsewhere.
    let root = format!("{}/", workspace().display());
    std::fs::write(&path, text.replace("../", &root)).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_harbor"))
        .args(args)
        .arg(&path)
        .output()
        .unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn bad_timeouts_are_located_errors_everywhere() {
    let line = {
        let ci = std::fs::read_to_string(workspace().join("scenarios/ci.yaml")).unwrap();
        ci[..ci.find("timeouts:\n").unwrap()].lines().count() + 1
    };
    for (key, value) in [
        ("exchange_s", "-1"),
        ("exchange_s", "1e308"),
        ("exchange_s", ".inf"),
        ("exchange_s", "0"),
        ("boot_s", ".nan"),
        ("boot_s", "86401"),
    ] {
        let timeouts = format!("{{ {key}: {value} }}");
        // The value's column: after `timeouts: { <key>: `.
        let column = "timeouts: { ".len() + key.len() + ": ".len() + 1;
        let mut seen = Vec::new();
        for args in [&["validate"][..], &["run", "--dry-run"], &["run"]] {
            let (code, stderr) = with_timeouts(&timeouts, args);
            assert_eq!(code, Some(2), "{timeouts} {args:?}: {stderr}");
            assert!(!stderr.contains("panicked"), "{stderr}");
            assert!(
                stderr.contains(&format!("bad.yaml:{line}:{column}"))
                    && (stderr.contains(&format!("`timeouts.{key}` must be above 0"))
                        // The YAML reader refuses non-finite floats on its own.
                        || stderr.contains("non-finite float")),
                "{timeouts} {args:?}: {stderr}"
            );
            // The same message from each (temp folders differ).
            seen.push(stderr.split_once("bad.yaml").unwrap().1.to_string());
        }
        assert!(seen.windows(2).all(|w| w[0] == w[1]), "{seen:?}");
    }
}
