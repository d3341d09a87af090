//! Target kinds in a scenario: an unknown kind is refused at its line and column by
//! `harbor validate` and `harbor run` alike, a kind this build cannot drive is a named error,
//! and a Renode target without Renode fails by name at run time (never a fallback to QEMU).

use std::path::{Path, PathBuf};
use std::process::Output;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .unwrap()
}

/// A one-model, 4-window scenario with one target given as a YAML flow map.
fn scenario(dir: &Path, target: &str) -> PathBuf {
    let ws = workspace();
    let path = dir.join("kinds.yaml");
    std::fs::write(
        &path,
        format!(
            "name: kinds\n\
             datasets:\n  - kind: wisdm2019-watch\n    root: wisdm2019\n    subjects: model_test\n    max_windows: 4\n\
             models:\n  - {}\n\
             targets:\n  - {target}\n\
             modes: [tensor]\n",
            ws.join("models/small-int8-generalized").display(),
        ),
    )
    .unwrap();
    path
}

fn firmware() -> String {
    workspace()
        .join("target/firmware/elf/band-qemu.elf")
        .display()
        .to_string()
}

fn harbor(args: &[&std::ffi::OsStr], envs: &[(&str, &str)]) -> (Output, String) {
    let output = crate::support::cli::command()
        .args(args)
        .envs(envs.iter().copied())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    (output, text)
}

fn validate(path: &Path) -> (Output, String) {
    harbor(&["validate".as_ref(), path.as_os_str()], &[])
}

fn run(path: &Path, out: &Path, envs: &[(&str, &str)]) -> (Output, String) {
    harbor(
        &[
            "run".as_ref(),
            path.as_os_str(),
            "--out".as_ref(),
            out.as_os_str(),
        ],
        envs,
    )
}

/// `harbor validate` and `harbor run` both refuse `path` with exit 2 and the same
/// `file:line:column` prefix; returns that error text.
fn refused_alike(path: &Path, out: &Path, at: &str) -> String {
    let (checked, checked_text) = validate(path);
    let (ran, ran_text) = run(path, out, &[]);
    for (output, text) in [(&checked, &checked_text), (&ran, &ran_text)] {
        assert_eq!(output.status.code(), Some(2), "{text}");
        assert!(text.contains(at), "{at:?} in {text}");
    }
    assert!(!out.join("report.json").exists(), "nothing ran: {ran_text}");
    checked_text
}

#[test]
fn an_unknown_target_kind_is_refused_at_its_line_and_column_by_validate_and_run() {
    let dir = tempfile::tempdir().unwrap();
    let path = scenario(
        dir.path(),
        &format!("{{ name: t, kind: fpga, firmware: {} }}", firmware()),
    );
    // Line 10 is the target; `kind: fpga`'s value starts at column 22.
    let text = refused_alike(&path, &dir.path().join("out"), "kinds.yaml:10:22");
    assert!(text.contains("fpga"), "{text}");
    for kind in ["qemu", "serial", "renode", "probe"] {
        assert!(
            text.contains(kind),
            "the accepted kinds, {kind} among them: {text}"
        );
    }
}

#[test]
fn a_key_of_another_kind_is_refused_where_it_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let path = scenario(
        dir.path(),
        &format!(
            "{{ name: t, kind: renode, chip: esp32c3, firmware: {} }}",
            firmware()
        ),
    );
    let text = refused_alike(&path, &dir.path().join("out"), "kinds.yaml:10:");
    assert!(
        text.contains("`chip` is for `kind: probe` targets only"),
        "{text}"
    );
}

#[cfg(not(feature = "probe"))]
#[test]
fn a_probe_target_without_the_probe_feature_is_a_named_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = scenario(
        dir.path(),
        &format!(
            "{{ name: board, kind: probe, chip: esp32c3, firmware: {} }}",
            firmware()
        ),
    );
    let text = refused_alike(&path, &dir.path().join("out"), "kinds.yaml:10:");
    assert!(
        text.contains("without the `probe` feature") && text.contains("--features probe"),
        "{text}"
    );
}

#[test]
fn a_renode_target_without_renode_fails_by_name_with_exit_3() {
    let dir = tempfile::tempdir().unwrap();
    let path = scenario(
        dir.path(),
        &format!("{{ name: emu, kind: renode, firmware: {} }}", firmware()),
    );
    let (output, text) = validate(&path);
    assert_eq!(
        output.status.code(),
        Some(0),
        "a renode target is valid: {text}"
    );
    let out = dir.path().join("out");
    let missing = dir.path().join("no-renode-here");
    let missing = missing.to_str().unwrap();
    let (output, text) = run(&path, &out, &[("HARBOR_RENODE", missing)]);
    assert_eq!(output.status.code(), Some(3), "{text}");
    assert!(
        text.contains(missing) && text.contains("HARBOR_RENODE"),
        "{text}"
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    let failure = &report["results"][0]["failures"][0];
    assert_eq!(failure["kind"], "emulator-missing", "{failure}");
    assert!(
        failure["message"].as_str().unwrap().starts_with("Renode "),
        "Renode, not QEMU: {failure}"
    );
}
