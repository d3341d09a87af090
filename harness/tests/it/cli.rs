//! The `harbor` binary: help on every subcommand, exit codes, and error messages.

use crate::support::cli::{harbor, stderr, stdout};

#[test]
fn every_subcommand_has_help() {
    for args in [
        &["--help"][..],
        &["datasets", "--help"],
        &["datasets", "list", "--help"],
        &["datasets", "inspect", "--help"],
        &["boards", "--help"],
        &["boards", "show", "--help"],
    ] {
        let out = harbor(args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        assert!(stdout(&out).contains("Usage:"), "{args:?}");
    }
}

#[test]
fn datasets_list_names_every_format() {
    let out = harbor(&["datasets", "list"]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    for kind in [
        "wisdm2019-watch",
        "hapt",
        "motionsense",
        "basicmotions",
        "uci-har",
        "wisdm-v1.1",
        "pamap2",
        "custom",
    ] {
        assert!(text.contains(kind), "missing {kind} in:\n{text}");
    }
}

#[test]
fn unknown_kind_is_a_usage_error() {
    let out = harbor(&["datasets", "inspect", "no-such-format", "."]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("unknown dataset kind `no-such-format`"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn missing_dataset_folder_is_an_input_error_naming_the_path() {
    let out = harbor(&["datasets", "inspect", "hapt", "/no/such/dir"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("/no/such/dir"), "{}", stderr(&out));
}

#[test]
fn boards_show_prints_derived_imu_figures() {
    let out = harbor(&["boards", "show", "esp32c3-band"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("25 Hz"), "{}", stdout(&out));
    let out = harbor(&["boards", "show", "no-such-board"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    let available = err
        .split("available: ")
        .nth(1)
        .expect("lists the available profiles");
    assert!(
        available
            .split(", ")
            .any(|name| name.trim() == "esp32c3-band"),
        "{err}"
    );
}

#[test]
fn prepare_writes_windows_that_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("nested/windows.npz");
    let root = dataset_root("basicmotions");
    let run = harbor(&[
        "prepare",
        "basicmotions",
        root.to_str().unwrap(),
        "--json",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let summary: serde_json::Value =
        serde_json::from_str(&stdout(&run)).expect("--json prints JSON");
    let windows = summary["windows"].as_u64().unwrap() as usize;
    // 80 cases of 10 s: each yields at least one 3 s window at 50 % overlap.
    assert!(windows >= 80, "{windows} windows");

    let file = harbor::signal::PreparedFile::read(&out).unwrap();
    assert_eq!(file.windows, windows);
    assert_eq!(file.length, 60, "3 s at 20 Hz");
    assert_eq!(file.x_raw.len(), windows * 60 * 6);
    let mut classes = file.classes.clone();
    classes.sort();
    assert_eq!(classes, ["badminton", "running", "standing", "walking"]);
    assert!(file.split.is_none(), "no split column unless asked");
    let meta: serde_json::Value = serde_json::from_str(&file.meta).unwrap();
    assert_eq!(meta["dataset_kind"], "basicmotions");
    assert_eq!(meta["board"]["name"], "esp32c3-band");
}

#[test]
fn prepare_splits_by_subject_reproducibly() {
    let dir = tempfile::tempdir().unwrap();
    let root = dataset_root("hapt");
    let prepare = |seed: &str, name: &str| {
        let out = dir.path().join(name);
        let run = harbor(&[
            "prepare",
            "hapt",
            root.to_str().unwrap(),
            "--subjects",
            "1,2,3,4,5,6,7",
            "--split",
            "subjects",
            "--seed",
            seed,
            "--out",
            out.to_str().unwrap(),
        ]);
        assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
        harbor::signal::PreparedFile::read(&out).unwrap()
    };
    let a = prepare("7", "a.npz");
    let split = a
        .split
        .clone()
        .expect("--split subjects writes a split column");
    let subjects: std::collections::BTreeSet<&String> = a.subject.iter().collect();
    assert_eq!(
        subjects.len(),
        7,
        "only the 7 asked-for subjects: {subjects:?}"
    );
    // Whole subjects per part: a subject never appears in two parts.
    for s in &subjects {
        let parts: std::collections::BTreeSet<&String> = a
            .subject
            .iter()
            .zip(&split)
            .filter(|(x, _)| x == s)
            .map(|(_, p)| p)
            .collect();
        assert_eq!(parts.len(), 1, "subject {s} in parts {parts:?}");
    }
    assert_eq!(
        prepare("7", "b.npz").split,
        Some(split),
        "same seed, same split"
    );
}

fn dataset_root(name: &str) -> std::path::PathBuf {
    let root = harbor::datasets::data_root().join(name);
    assert!(
        root.is_dir(),
        "{} missing: run scripts/fetch-data (or set HARBOR_DATA)",
        root.display()
    );
    root
}

#[test]
fn prepare_with_too_little_data_explains_why_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let spec = harbor::datasets::workspace_root().join("fixtures/custom/lab-band.yaml");
    let out = dir.path().join("w.npz");
    let run = harbor(&[
        "prepare",
        "custom",
        spec.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(run.status.code(), Some(2), "{}", stderr(&run));
    assert!(
        stderr(&run).contains("no windows survived"),
        "{}",
        stderr(&run)
    );
    assert!(!out.exists(), "no file is written when nothing survived");
}

#[test]
fn prepare_rejects_bad_arguments_with_exit_2() {
    let root = dataset_root("basicmotions");
    let root = root.to_str().unwrap();
    let run = harbor(&[
        "prepare",
        "basicmotions",
        root,
        "--window",
        "soon",
        "--out",
        "/tmp/x.npz",
    ]);
    assert_eq!(run.status.code(), Some(2));
    assert!(
        stderr(&run).contains("not a positive duration"),
        "{}",
        stderr(&run)
    );
    let run = harbor(&[
        "prepare",
        "basicmotions",
        root,
        "--board",
        "no-such-board",
        "--out",
        "/tmp/x.npz",
    ]);
    assert_eq!(run.status.code(), Some(2));
    assert!(
        stderr(&run).contains("no board profile `no-such-board`"),
        "{}",
        stderr(&run)
    );
    let run = harbor(&[
        "prepare",
        "basicmotions",
        root,
        "--overlap",
        "1.5",
        "--out",
        "/tmp/x.npz",
    ]);
    assert_eq!(run.status.code(), Some(2));
    assert!(stderr(&run).contains("overlap"), "{}", stderr(&run));
}
