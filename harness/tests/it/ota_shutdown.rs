//! Signals during an OTA run (real QEMU, the power-cut sweep): SIGINT and SIGTERM stop the
//! band's emulator, leave no temp folder or flash image in TMPDIR, and write the report of
//! what completed (`status: interrupted`, exit 130 or 143).

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use crate::replay_shutdown::{alive, children, entries, finish, poll, signal, start};
use crate::support::qemu::firmware;

/// One quick case, then the power-cut sweep (dozens of emulator launches, long enough to
/// be interrupted mid-way).
fn scenario(dir: &Path) -> PathBuf {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let path = dir.join("ota-interrupt.yaml");
    std::fs::write(
        &path,
        format!(
            "kind: ota\nname: ota-interrupt\nmodel: {}\nfirmware: {}\n\
             link: {{radio: wifi, loss: 0.0, seed: 1}}\ncases:\n\
             \x20 - {{name: plain, expect: accepted}}\n\
             \x20 - {{name: sweep, sweep: power_cut, expect: never_bricked}}\n",
            workspace.join("models/small-int8-generalized").display(),
            firmware("band-qemu").display(),
        ),
    )
    .unwrap();
    path
}

#[test]
fn an_ota_run_stopped_by_a_signal_leaves_no_emulator_temp_folder_or_flash_image() {
    for (sig, name, code) in [
        (libc::SIGINT, "SIGINT", 130),
        (libc::SIGTERM, "SIGTERM", 143),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let tmp = dir.path().join("tmp");
        std::fs::create_dir(&tmp).unwrap();
        let out = dir.path().join("out");
        let mut harbor = start(&scenario(dir.path()), &out, &tmp);
        // The sweep has started when a band runs on a flash image in TMPDIR after the
        // first case — wait for several launches.
        let pid = harbor.id();
        let mut seen = std::collections::BTreeSet::new();
        let running = poll(Duration::from_secs(240), || {
            for (p, cmd) in children(pid) {
                if cmd.contains("qemu-system-riscv32") && cmd.contains("pflash") {
                    seen.insert(p);
                }
            }
            (seen.len() >= 8).then(|| seen.iter().copied().collect::<Vec<_>>())
        });
        let Some(emulators) = running else {
            let _ = harbor.kill();
            let (_, text) = finish(&mut harbor);
            panic!("{name}: the sweep's emulators never started: {text}");
        };
        assert!(
            !entries(&tmp).is_empty(),
            "{name}: the sweep keeps its flash images in TMPDIR"
        );

        signal(pid, sig);
        let (status, text) = finish(&mut harbor);
        assert_eq!(status, Some(code), "{name}: {text}");
        for p in &emulators {
            assert!(
                poll(Duration::from_secs(5), || (!alive(*p)).then_some(())).is_some(),
                "{name}: emulator {p} outlived harbor"
            );
        }
        assert!(
            children(pid).is_empty(),
            "{name}: processes left: {:?}",
            children(pid)
        );
        assert_eq!(
            entries(&tmp),
            Vec::<PathBuf>::new(),
            "{name}: temp folders or flash images left"
        );
        let report: Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap())
                .unwrap();
        assert_eq!(report["status"], "interrupted", "{name}: {report}");
        assert_eq!(report["interrupted_by"], name);
        let cases = report["ota"]["cases"].as_array().unwrap();
        assert_eq!(cases.len(), 1, "{name}: only the finished case: {report}");
        assert_eq!(cases[0]["name"], "plain");
        assert_eq!(cases[0]["passed"], true, "{name}: {report}");
    }
}
