//! A hung and a crashing firmware image are named failures of their own cells while the
//! healthy firmware's cell completes in the same run.

use std::path::{Path, PathBuf};

use serde_json::Value;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .unwrap()
}

fn firmware(variant: &str) -> PathBuf {
    let path = workspace().join(format!("target/firmware/elf/{variant}.elf"));
    assert!(
        path.is_file(),
        "{} is missing: run scripts/build-firmware",
        path.display()
    );
    path
}

#[test]
fn hung_and_crashing_firmware_fail_their_cells_only() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("faults.yaml");
    let ws = workspace();
    std::fs::write(
        &scenario,
        format!(
            "name: faults\njobs: 3\ntimeouts: {{ boot_s: 20, exchange_s: 3 }}\n\
             datasets:\n  - kind: wisdm2019-watch\n    root: wisdm2019\n    subjects: model_test\n    max_windows: 12\n\
             models:\n  - {}\n\
             targets:\n  - {{ name: good, kind: qemu, firmware: {} }}\n  - {{ name: hang, kind: qemu, firmware: {} }}\n  - {{ name: crash, kind: qemu, firmware: {} }}\n\
             modes: [tensor]\n",
            ws.join("models/small-int8-generalized").display(),
            firmware("band-qemu").display(),
            firmware("band-qemu-hang").display(),
            firmware("band-qemu-crash").display(),
        ),
    )
    .unwrap();
    let out = dir.path().join("out");
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
    assert_eq!(output.status.code(), Some(1), "{text}");
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    let by_target = |name: &str| {
        report["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["target"] == name)
            .unwrap()
            .clone()
    };

    let good = by_target("good");
    assert_eq!(good["status"], "ok", "{good}");
    assert_eq!(good["windows_completed"], 12);
    assert_eq!(good["agreement_int8"], 1.0);

    // The fault variants answer three commands, then hang or trap: during the model upload.
    for (name, kind) in [("hang", "hang"), ("crash", "trap")] {
        let cell = by_target(name);
        assert_eq!(cell["status"], "failed", "{cell}");
        assert_eq!(cell["windows_completed"], 0);
        assert!(cell["accuracy"].is_null());
        let failures = cell["failures"].as_array().unwrap();
        assert!(!failures.is_empty());
        let mut lost = 0;
        for f in failures {
            assert_eq!(f["kind"], kind, "{f}");
            assert_eq!(f["during"], "loading the model", "{f}");
            lost += f["windows_lost"]["end"].as_u64().unwrap()
                - f["windows_lost"]["start"].as_u64().unwrap();
        }
        assert_eq!(lost, 12, "every window is accounted for: {failures:?}");
    }
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("**hang** while loading the model"), "{md}");
    assert!(md.contains("**trap** while loading the model"), "{md}");
}

#[test]
fn a_missing_emulator_is_an_infrastructure_failure_exit_3() {
    let ws = workspace();
    let out = tempfile::tempdir().unwrap();
    // No PATH: `qemu-system-riscv32` cannot be found, as on a machine without scripts/setup.
    let output = crate::support::cli::command()
        .args([
            "run".as_ref(),
            ws.join("scenarios/quickstart.yaml").as_os_str(),
        ])
        .args(["--out".as_ref(), out.path().as_os_str()])
        .args(["--max-windows", "4"])
        .env("PATH", "")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{text}");
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("report.json")).unwrap())
            .unwrap();
    for cell in report["results"].as_array().unwrap() {
        assert_eq!(cell["status"], "failed", "{cell}");
        assert_eq!(cell["failures"][0]["kind"], "emulator-missing", "{cell}");
        assert_eq!(cell["failures"][0]["during"], "launching", "{cell}");
    }
    assert!(
        text.contains("scripts/setup"),
        "the message says how to install QEMU: {text}"
    );
}
