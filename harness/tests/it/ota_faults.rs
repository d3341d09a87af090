//! An emulator that stalls (SIGSTOP) or is killed (kill -9) in the middle of an OTA power-cut
//! sweep (real QEMU): that case is an infrastructure error naming the cause, not an
//! unbootable band; the next case still runs, the report set is written and harbor exits 3
//! with no emulator, temp folder or flash image left.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use crate::replay_shutdown::{alive, children, entries, finish, poll, start};
use crate::support::qemu::firmware;

/// The sweep first (dozens of emulator launches), then a plain update that must still run.
fn scenario(dir: &Path) -> PathBuf {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let path = dir.join("ota-faults.yaml");
    std::fs::write(
        &path,
        format!(
            "kind: ota\nname: ota-faults\nmodel: {}\nfirmware: {}\n\
             link: {{radio: wifi, loss: 0.0, seed: 1}}\ncases:\n\
             \x20 - {{name: sweep, sweep: power_cut, expect: never_bricked}}\n\
             \x20 - {{name: plain, expect: accepted}}\n",
            workspace.join("models/small-int8-generalized").display(),
            firmware("band-qemu").display(),
        ),
    )
    .unwrap();
    path
}

/// The state letter of `/proc/<pid>/stat` (`R`, `S`, `T`, `Z`, …).
fn state(pid: u32) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = stat.rsplit_once(')')?;
    rest.split_whitespace().next().map(str::to_string)
}

/// The newest running band emulator of `harbor` (one on a flash image).
fn newest_band(harbor: u32) -> Option<u32> {
    children(harbor)
        .into_iter()
        .filter(|(pid, cmd)| {
            cmd.contains("qemu-system-riscv32")
                && cmd.contains("pflash")
                && state(*pid).is_some_and(|s| s != "Z" && s != "T")
        })
        .map(|(pid, _)| pid)
        .max()
}

/// Waits until the sweep is well under way (several emulators launched one after another).
fn sweep_under_way(harbor: &mut std::process::Child) {
    let pid = harbor.id();
    let mut seen = std::collections::BTreeSet::new();
    let started = poll(Duration::from_secs(120), || {
        if let Some(p) = newest_band(pid) {
            seen.insert(p);
        }
        (seen.len() >= 4).then_some(())
    });
    if started.is_none() {
        let _ = harbor.kill();
        let (_, text) = finish(harbor);
        panic!("the sweep's emulators never started: {text}");
    }
}

fn send(pid: u32, signal: libc::c_int) -> bool {
    // SAFETY: signals an emulator the harbor under test started; a vanished one is ESRCH.
    unsafe { libc::kill(pid as libc::pid_t, signal) == 0 }
}

/// Runs the scenario, lets `fault` hit one band emulator mid-sweep (it returns the pid it
/// hit), and checks what every fault must leave: exit 3, the sweep case an infrastructure
/// error of `kind` whose message holds `cause`, the plain case passed, the report set
/// written, no emulator, temp folder or flash image left.
fn sweep_fault_is_an_infrastructure_error(
    fault: impl Fn(u32) -> Option<u32>,
    kind: &str,
    cause: &str,
) {
    let dir = tempfile::tempdir().unwrap();
    let tmp = dir.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let out = dir.path().join("out");
    let mut harbor = start(&scenario(dir.path()), &out, &tmp);
    sweep_under_way(&mut harbor);
    let hit = poll(Duration::from_secs(30), || fault(harbor.id()));
    let Some(hit) = hit else {
        let _ = harbor.kill();
        let (_, text) = finish(&mut harbor);
        panic!("{kind}: no band emulator to hit: {text}");
    };
    let harbor_pid = harbor.id();
    let (status, text) = finish(&mut harbor);
    assert_eq!(
        status,
        Some(3),
        "{kind}: the infrastructure exit code: {text}"
    );
    assert!(
        text.contains("case `sweep`: infrastructure error") && text.contains(cause),
        "{kind}: stderr names the case and the cause: {text}"
    );
    assert!(
        poll(Duration::from_secs(5), || (!alive(hit)).then_some(())).is_some(),
        "{kind}: emulator {hit} outlived harbor"
    );
    assert!(
        children(harbor_pid).is_empty(),
        "{kind}: processes left: {:?}",
        children(harbor_pid)
    );
    assert_eq!(
        entries(&tmp),
        Vec::<PathBuf>::new(),
        "{kind}: temp folders or flash images left"
    );

    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["status"], "complete", "{report}");
    assert_eq!(report["ota"]["passed"], false, "{report}");
    let cases = report["ota"]["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 2, "both cases are reported: {report}");
    let sweep = &cases[0];
    assert_eq!(sweep["name"], "sweep");
    assert_eq!(sweep["status"], "infrastructure_error", "{sweep}");
    assert_eq!(sweep["got"][0], "infrastructure_error", "{sweep}");
    assert_eq!(sweep["infrastructure_error"]["kind"], kind, "{sweep}");
    let message = sweep["infrastructure_error"]["message"].as_str().unwrap();
    assert!(message.contains(cause), "{kind}: {message}");
    assert!(
        !message.contains("unbootable") && sweep.get("unbootable_after").is_none(),
        "{kind}: a stalled or killed emulator is no bricked band: {sweep}"
    );
    let plain = &cases[1];
    assert_eq!(plain["name"], "plain");
    assert_eq!(plain["status"], "completed", "{plain}");
    assert_eq!(plain["passed"], true, "the next case ran: {plain}");

    let junit = std::fs::read_to_string(out.join("report.junit.xml")).unwrap();
    assert!(
        junit.contains(r#"<error type="infrastructure""#) && junit.contains(r#"errors="1""#),
        "{kind}: an error, not a failure: {junit}"
    );
    assert!(junit.contains(r#"failures="0""#), "{junit}");
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        md.contains("1 could not finish (infrastructure error)")
            && md.contains("`sweep`: infrastructure error"),
        "{md}"
    );
    assert!(out.join("report.html").is_file());
}

#[test]
fn a_band_emulator_stopped_mid_sweep_is_an_infrastructure_error_not_a_bricked_band() {
    sweep_fault_is_an_infrastructure_error(
        |harbor| {
            let pid = newest_band(harbor)?;
            if !send(pid, libc::SIGSTOP) {
                return None;
            }
            // harbor may have been shutting this one down: then it is gone and another
            // starts; a stall holds the sweep on the stopped one.
            std::thread::sleep(Duration::from_millis(1500));
            let held = state(pid).as_deref() == Some("T") && newest_band(harbor).is_none();
            held.then_some(pid)
        },
        "emulator-stalled",
        "emulator stalled (process",
    );
}

#[test]
fn a_band_emulator_killed_mid_sweep_is_an_infrastructure_error_and_the_run_goes_on() {
    sweep_fault_is_an_infrastructure_error(
        |harbor| {
            let pid = newest_band(harbor)?;
            send(pid, libc::SIGKILL).then_some(pid)
        },
        "emulator-killed",
        "emulator killed by signal 9 (SIGKILL)",
    );
}
