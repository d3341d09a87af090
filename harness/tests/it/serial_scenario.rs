//! `harbor run` driving a board on a serial port: the `serial` target kind in a scenario.
//! The "board" is the band firmware in QEMU on a pseudo-terminal (docs/serial.md).

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .unwrap()
}

/// A one-model, 6-window scenario with the given targets (YAML list items).
fn scenario(dir: &Path, targets: &str, modes: &str) -> PathBuf {
    let ws = workspace();
    let path = dir.join("serial.yaml");
    std::fs::write(
        &path,
        format!(
            "name: serial\ntimeouts: {{ boot_s: 20, exchange_s: 10 }}\n\
             datasets:\n  - kind: wisdm2019-watch\n    root: wisdm2019\n    subjects: model_test\n    max_windows: 6\n\
             models:\n  - {}\n\
             targets:\n{targets}\
             modes: {modes}\n",
            ws.join("models/small-int8-generalized").display(),
        ),
    )
    .unwrap();
    path
}

fn firmware() -> String {
    crate::support::qemu::firmware("band-qemu")
        .display()
        .to_string()
}

fn run(scenario: &Path, out: &Path) -> (Output, String) {
    let output = crate::support::cli::command()
        .args([
            "run".as_ref(),
            scenario.as_os_str(),
            "--out".as_ref(),
            out.as_os_str(),
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    (output, text)
}

#[test]
fn a_scenario_naming_a_missing_port_fails_with_exit_3_and_the_port() {
    let dir = tempfile::tempdir().unwrap();
    let targets = format!(
        "  - {{ name: board, kind: serial, port: /dev/harbor-no-board, baud: 115200, reset: none, firmware: {} }}\n",
        firmware()
    );
    let path = scenario(dir.path(), &targets, "[tensor]");
    let out = dir.path().join("out");
    let (output, text) = run(&path, &out);
    assert_eq!(output.status.code(), Some(3), "{text}");
    assert!(text.contains("/dev/harbor-no-board"), "{text}");
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    let failure = &report["results"][0]["failures"][0];
    assert_eq!(failure["kind"], "port-unavailable", "{failure}");
    assert_eq!(failure["during"], "opening the port", "{failure}");
}

#[test]
fn harbor_run_drives_a_board_on_a_port_like_the_emulator() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let qemu = runtime.block_on(crate::support::serial::qemu_on_pty("band-qemu"));
    let dir = tempfile::tempdir().unwrap();
    let targets = format!(
        "  - {{ name: board, kind: serial, port: {}, firmware: {fw} }}\n  - {{ name: emulator, kind: qemu, firmware: {fw} }}\n",
        qemu.pty.display(),
        fw = firmware()
    );
    let path = scenario(dir.path(), &targets, "[tensor, stream]");
    let out = dir.path().join("out");
    let (output, text) = run(&path, &out);
    assert_eq!(output.status.code(), Some(0), "{text}");
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    let cells = report["results"].as_array().unwrap();
    assert_eq!(cells.len(), 4, "{report}");
    for mode in ["tensor", "stream"] {
        let cell = |target: &str| {
            cells
                .iter()
                .find(|c| c["target"] == target && c["mode"] == mode)
                .unwrap_or_else(|| panic!("{target} {mode}: {report}"))
        };
        let (board, emulator) = (cell("board"), cell("emulator"));
        assert_eq!(board["status"], "ok", "{board}");
        assert!(board["windows_completed"].as_u64().unwrap() > 0, "{board}");
        // Same firmware, same windows: the same answers over the port as over the socket.
        for field in ["windows_completed", "accuracy", "agreement_int8"] {
            assert_eq!(board[field], emulator[field], "{mode} {field}");
        }
    }
    drop(qemu);
}

#[test]
fn serial_fields_are_checked_where_they_are_written() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            format!(
                "  - {{ name: b, kind: serial, firmware: {} }}\n",
                firmware()
            ),
            "needs `port`",
        ),
        (
            format!(
                "  - {{ name: b, kind: serial, port: /dev/x, reset: rts, firmware: {} }}\n",
                firmware()
            ),
            "none, dtr-rts",
        ),
        (
            format!(
                "  - {{ name: q, kind: qemu, port: /dev/x, firmware: {} }}\n",
                firmware()
            ),
            "for `kind: serial` and `kind: mlperf` targets only",
        ),
    ];
    for (targets, expected) in cases {
        let path = scenario(dir.path(), &targets, "[tensor]");
        let (output, text) = run(&path, &dir.path().join("out"));
        assert_eq!(output.status.code(), Some(2), "{text}");
        assert!(text.contains(expected), "{expected:?} in {text}");
        assert!(
            text.contains("serial.yaml:"),
            "the place in the file: {text}"
        );
    }
}
