//! `harbor run`'s output folder: checked before anything runs (exit 3), an older report set
//! there never survives a failed run, and the set is replaced whole.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::report::report;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .unwrap()
}

const FILES: [&str; 4] = [
    "report.json",
    "report.md",
    "report.junit.xml",
    "report.html",
];

#[test]
fn an_unwritable_out_is_exit_3_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "not a folder").unwrap();
    let out = file.join("reports");
    let output = Command::new(env!("CARGO_BIN_EXE_harbor"))
        .arg("run")
        .arg(workspace().join("scenarios/quickstart.yaml"))
        .arg("--out")
        .arg(&out)
        // Were the replay to start, its cells would fail on the missing emulator instead.
        .env("PATH", "")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("output folder not writable") && stderr.contains("a-file"),
        "{stderr}"
    );
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "",
        "nothing ran, so no summary"
    );
}

#[test]
fn a_failed_run_leaves_no_older_report_looking_current() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    for name in FILES {
        std::fs::write(out.join(name), "an older, passing run").unwrap();
    }
    let empty = dir.path().join("empty-dataset");
    std::fs::create_dir(&empty).unwrap();
    let scenario = dir.path().join("s.yaml");
    std::fs::write(
        &scenario,
        format!(
            "name: fails\ndatasets:\n  - {{ kind: wisdm2019-watch, root: {} }}\n\
             models:\n  - {}\ntargets:\n  - {{ name: q, kind: qemu, firmware: {} }}\nmodes: [tensor]\n",
            empty.display(),
            workspace().join("models/small-int8-generalized").display(),
            crate::support::qemu::firmware("band-qemu").display(),
        ),
    )
    .unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_harbor"))
        .arg("run")
        .arg(&scenario)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    for name in FILES {
        assert!(
            !out.join(name).exists(),
            "{name} of the older run is still there"
        );
    }
}

#[test]
fn a_report_set_that_cannot_be_written_leaves_no_partial_file_and_names_it() {
    let dir = tempfile::tempdir().unwrap();
    // report.html cannot be replaced: a folder has its name.
    std::fs::create_dir(dir.path().join("report.html")).unwrap();
    let err = report().write(dir.path()).unwrap_err();
    assert!(err.to_string().contains("report.html"), "{err}");
    assert!(
        !dir.path().join("report.json").exists(),
        "report.json goes in last, only after every other file"
    );
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        assert!(!name.starts_with('.'), "temp file {name} left behind");
    }
    // Written whole where nothing is in the way.
    let fine = dir.path().join("fine");
    report().write(&fine).unwrap();
    for name in FILES {
        assert!(fine.join(name).metadata().unwrap().len() > 0, "{name}");
    }
}
