//! Signals during `harbor run` (real QEMU): SIGINT and SIGTERM stop every emulator, leave no
//! temp folder and write the report of what completed (`status: interrupted`, exit 130 or
//! 143); SIGKILL, which harbor cannot catch, still takes its emulators with it.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::qemu::firmware;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .unwrap()
}

/// One worker: the healthy band's cell finishes first, then the hanging band's emulator
/// waits a minute for an answer, long enough to be interrupted mid-run.
fn scenario(dir: &Path) -> PathBuf {
    let path = dir.join("interrupt.yaml");
    std::fs::write(
        &path,
        format!(
            "name: interrupt\njobs: 1\ntimeouts: {{ boot_s: 20, exchange_s: 60 }}\n\
             datasets:\n  - kind: wisdm2019-watch\n    root: wisdm2019\n    subjects: model_test\n    max_windows: 6\n\
             models:\n  - {}\n\
             targets:\n  - {{ name: good, kind: qemu, firmware: {} }}\n  - {{ name: hang, kind: qemu, firmware: {} }}\n\
             modes: [tensor]\n",
            workspace().join("models/small-int8-generalized").display(),
            firmware("band-qemu").display(),
            firmware("band-qemu-hang").display(),
        ),
    )
    .unwrap();
    path
}

/// `harbor run` with its temp folders in `tmp`, reports in `out`.
/// `harbor run SCENARIO --out OUT` with its temp files in `tmp`, output captured.
pub(crate) fn start(scenario: &Path, out: &Path, tmp: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_harbor"))
        .arg("run")
        .arg(scenario)
        .arg("--out")
        .arg(out)
        .env("TMPDIR", tmp)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// The processes whose parent is `parent`, with their command lines.
pub(crate) fn children(parent: u32) -> Vec<(u32, String)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // `pid (comm) state ppid ...`; comm may hold spaces, so split after its `)`.
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|p| p.parse::<u32>().ok());
        if ppid == Some(parent) {
            let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
            found.push((pid, String::from_utf8_lossy(&cmdline).replace('\0', " ")));
        }
    }
    found
}

/// Alive: exists and is not a zombie waiting to be reaped.
pub(crate) fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z")
    })
}

pub(crate) fn poll<T>(within: Duration, mut probe: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + within;
    loop {
        if let Some(found) = probe() {
            return Some(found);
        }
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Every emulator of `harbor` once the hanging band's QEMU runs (the healthy cell is then
/// done: one worker runs the cells in order).
fn emulators_once_hanging(harbor: &mut Child) -> Vec<u32> {
    let pid = harbor.id();
    let found = poll(Duration::from_secs(180), || {
        let kids = children(pid);
        kids.iter()
            .any(|(_, cmd)| cmd.contains("band-qemu-hang.elf"))
            .then(|| kids.iter().map(|(p, _)| *p).collect::<Vec<_>>())
    });
    match found {
        Some(pids) => pids,
        None => {
            let _ = harbor.kill();
            let (_, output) = finish(harbor);
            panic!("the hanging band's emulator never started: {output}");
        }
    }
}

/// Waits for the process: its exit code and its stdout and stderr as text.
pub(crate) fn finish(child: &mut Child) -> (Option<i32>, String) {
    use std::io::Read;
    let mut text = String::new();
    if let Some(mut out) = child.stdout.take() {
        let _ = out.read_to_string(&mut text);
    }
    if let Some(mut err) = child.stderr.take() {
        let _ = err.read_to_string(&mut text);
    }
    (child.wait().unwrap().code(), text)
}

pub(crate) fn signal(pid: u32, signal: libc::c_int) {
    // SAFETY: sends a signal to a child process this test started and has not reaped.
    assert_eq!(unsafe { libc::kill(pid as libc::pid_t, signal) }, 0);
}

pub(crate) fn entries(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect()
}

#[test]
fn sigint_and_sigterm_stop_every_emulator_and_write_what_completed() {
    for (sig, name, code) in [
        (libc::SIGINT, "SIGINT", 130),
        (libc::SIGTERM, "SIGTERM", 143),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let tmp = dir.path().join("tmp");
        std::fs::create_dir(&tmp).unwrap();
        let out = dir.path().join("out");
        let mut harbor = start(&scenario(dir.path()), &out, &tmp);
        let emulators = emulators_once_hanging(&mut harbor);
        assert!(
            !entries(&tmp).is_empty(),
            "the running emulator has its folder in TMPDIR"
        );

        signal(harbor.id(), sig);
        let waited = Instant::now();
        let (status, text) = finish(&mut harbor);
        assert_eq!(status, Some(code), "{name}: {text}");
        assert!(
            waited.elapsed() < Duration::from_secs(30),
            "{name}: harbor did not wait for the 60 s exchange deadline"
        );
        for pid in &emulators {
            assert!(
                poll(Duration::from_secs(5), || (!alive(*pid)).then_some(())).is_some(),
                "{name}: emulator {pid} outlived harbor"
            );
        }
        assert_eq!(
            entries(&tmp),
            Vec::<PathBuf>::new(),
            "{name}: temp files left"
        );
        assert!(text.contains(&format!("{name} stopped the run")), "{text}");

        let report: Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap())
                .unwrap();
        assert_eq!(report["status"], "interrupted", "{name}");
        assert_eq!(report["interrupted_by"], name);
        let cell = |target: &str| {
            report["results"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["target"] == target)
                .unwrap()
                .clone()
        };
        let good = cell("good");
        assert_eq!(
            good["status"], "ok",
            "{name}: the finished cell is kept: {good}"
        );
        assert_eq!(good["windows_completed"], 6);
        let hang = cell("hang");
        assert_eq!(hang["status"], "failed", "{hang}");
        assert_eq!(hang["failures"][0]["kind"], "interrupted", "{hang}");
        assert_eq!(hang["failures"][0]["windows_lost"]["end"], 6, "{hang}");
        let md = std::fs::read_to_string(out.join("report.md")).unwrap();
        assert!(md.contains(&format!("**Interrupted** by {name}")), "{md}");
        assert!(out.join("report.junit.xml").is_file() && out.join("report.html").is_file());
    }
}

#[test]
fn sigkill_takes_the_emulators_with_harbor() {
    let dir = tempfile::tempdir().unwrap();
    let tmp = dir.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let mut harbor = start(&scenario(dir.path()), &dir.path().join("out"), &tmp);
    let emulators = emulators_once_hanging(&mut harbor);
    signal(harbor.id(), libc::SIGKILL);
    harbor.wait().unwrap();
    let orphans: Vec<u32> = emulators
        .iter()
        .copied()
        .filter(|&pid| poll(Duration::from_secs(5), || (!alive(pid)).then_some(())).is_none())
        .collect();
    for &pid in &orphans {
        signal(pid, libc::SIGKILL);
    }
    assert_eq!(
        orphans,
        Vec::<u32>::new(),
        "emulators outlived a SIGKILLed harbor"
    );
}
