//! `harbor datasets fetch` end to end over a real HTTP server on 127.0.0.1 that serves a real
//! mirror archive: an interrupted download resumes with `Range`, a corrupted archive is a
//! checksum error that leaves nothing behind; `scripts/fetch-data` takes such a URL as its mirror.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use harbor::datasets::fetch;

const ARCHIVE: &str = "basicmotions.tar.zst";

/// How the server answers the next GET.
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    /// Announce the whole length, send this many bytes, close.
    CutAfter(usize),
    /// Serve the file, honouring `Range`.
    Whole,
}

struct Server {
    base: String,
    ranges: Arc<Mutex<Vec<Option<String>>>>,
    mode: Arc<Mutex<Mode>>,
}

/// Serves `body` as `/basicmotions.tar.zst` (404 for anything else) on 127.0.0.1.
fn serve(body: Vec<u8>) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let ranges = Arc::new(Mutex::new(Vec::new()));
    let mode = Arc::new(Mutex::new(Mode::Whole));
    let (seen, how) = (ranges.clone(), mode.clone());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request = String::new();
            let mut range = None;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("range:") {
                    range = Some(v.trim().to_string());
                }
                if request.is_empty() {
                    request = line;
                }
            }
            if !request.starts_with(&format!("GET /{ARCHIVE} ")) {
                let _ = stream.write_all(
                    b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                );
                continue;
            }
            seen.lock().unwrap().push(range.clone());
            let start = range
                .as_deref()
                .and_then(|r| r.strip_prefix("bytes="))
                .and_then(|r| r.trim_end_matches('-').parse::<usize>().ok())
                .unwrap_or(0);
            let mode = *how.lock().unwrap();
            let (status, extra) = if start > 0 {
                (
                    "206 Partial Content",
                    format!(
                        "content-range: bytes {start}-{}/{}\r\n",
                        body.len() - 1,
                        body.len()
                    ),
                )
            } else {
                ("200 OK", String::new())
            };
            let rest = &body[start..];
            let head = format!(
                "HTTP/1.1 {status}\r\ncontent-length: {}\r\n{extra}accept-ranges: bytes\r\nconnection: close\r\n\r\n",
                rest.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let send = match mode {
                Mode::CutAfter(n) => &rest[..n.min(rest.len())],
                Mode::Whole => rest,
            };
            let _ = stream.write_all(send);
            let _ = stream.flush();
            // Dropping the stream closes the connection, mid-body for CutAfter.
        }
    });
    Server { base, ranges, mode }
}

fn mirror_archive() -> Vec<u8> {
    let mirror = fetch::default_mirror()
        .expect("a mirror of the dataset archives ($HARBOR_DATA_MIRROR or shared/datasets beside the repository)");
    std::fs::read(mirror.join(ARCHIVE)).unwrap()
}

fn fetch_cmd(base: &str, dest: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_harbor"))
        .args([
            "datasets",
            "fetch",
            "basicmotions",
            "--mirror",
            base,
            "--dest",
        ])
        .arg(dest)
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn unpacked_test_file(dest: &Path) -> PathBuf {
    dest.join("basicmotions/BasicMotions/BasicMotions_TEST.ts")
}

#[test]
fn an_interrupted_download_resumes_with_range_then_unpacks() {
    let archive = mirror_archive();
    let server = serve(archive.clone());
    let half = archive.len() / 2;
    *server.mode.lock().unwrap() = Mode::CutAfter(half);
    let dest = tempfile::tempdir().unwrap();

    let out = fetch_cmd(&server.base, dest.path());
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("run the same command again"),
        "{}",
        text(&out.stderr)
    );
    let part = dest
        .path()
        .join(".downloads")
        .join(format!("{ARCHIVE}.part"));
    assert_eq!(std::fs::metadata(&part).unwrap().len(), half as u64);
    assert!(!dest.path().join("basicmotions").exists());

    *server.mode.lock().unwrap() = Mode::Whole;
    let out = fetch_cmd(&server.base, dest.path());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        *server.ranges.lock().unwrap(),
        vec![None, Some(format!("bytes={half}-"))]
    );
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains(&dest.path().join("basicmotions").display().to_string()),
        "{stdout}"
    );
    // The unpacked file is the published one: its dataset's own SHA256SUMS lists it.
    let got = fetch::sha256_file(&unpacked_test_file(dest.path())).unwrap();
    let sums = std::fs::read_to_string(dest.path().join("basicmotions/SHA256SUMS")).unwrap();
    assert!(
        sums.lines()
            .any(|l| l.starts_with(&got) && l.ends_with("BasicMotions_TEST.ts")),
        "{got} not in\n{sums}"
    );
    assert!(!part.exists());

    // A second run finds it in place and downloads nothing.
    let out = fetch_cmd(&server.base, dest.path());
    assert_eq!(out.status.code(), Some(0));
    assert!(
        text(&out.stdout).contains("already there"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(server.ranges.lock().unwrap().len(), 2);
}

#[test]
fn a_corrupted_archive_is_a_checksum_error_and_leaves_nothing() {
    let mut archive = mirror_archive();
    let middle = archive.len() / 2;
    archive[middle] ^= 0x40;
    let server = serve(archive);
    let dest = tempfile::tempdir().unwrap();
    let out = fetch_cmd(&server.base, dest.path());
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains("sha256") && err.contains(ARCHIVE), "{err}");
    let downloads = dest.path().join(".downloads");
    assert_eq!(
        std::fs::read_dir(&downloads).unwrap().count(),
        0,
        "corrupt download kept"
    );
    assert!(!dest.path().join("basicmotions").exists());
}

#[test]
fn an_unknown_name_lists_the_registry() {
    let out = Command::new(env!("CARGO_BIN_EXE_harbor"))
        .args([
            "datasets",
            "fetch",
            "no-such-set",
            "--mirror",
            "/nonexistent",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("no-such-set") && err.contains("wisdm2019") && err.contains("hapt"),
        "{err}"
    );
}

#[test]
fn fetch_data_script_takes_a_mirror_url() {
    let server = serve(mirror_archive());
    let dest = tempfile::tempdir().unwrap();
    let script = harbor::datasets::workspace_root().join("scripts/fetch-data");
    let run = || {
        Command::new(&script)
            .arg("basicmotions")
            .env("HARBOR_DATA_MIRROR", &server.base)
            .env("HARBOR_DATA", dest.path())
            .env("HARBOR_BIN", env!("CARGO_BIN_EXE_harbor"))
            .output()
            .unwrap()
    };
    let out = run();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // stdout is the data folder alone: scripts/test reads it into $HARBOR_DATA.
    assert_eq!(text(&out.stdout).trim(), dest.path().display().to_string());
    let got = fetch::sha256_file(&unpacked_test_file(dest.path())).unwrap();
    let sums = std::fs::read_to_string(dest.path().join("basicmotions/SHA256SUMS")).unwrap();
    assert!(
        sums.lines().any(|l| l.starts_with(&got)),
        "{got} not in\n{sums}"
    );
    assert_eq!(*server.ranges.lock().unwrap(), vec![None]);

    let out = run();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("already there"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(server.ranges.lock().unwrap().len(), 1);
}

#[test]
fn a_metadata_only_mirror_entry_says_the_recordings_need_the_publisher() {
    let mirror = fetch::default_mirror().expect("a mirror of the dataset archives");
    let dest = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_harbor"))
        .args(["datasets", "fetch", "uci-har", "--mirror"])
        .arg(&mirror)
        .arg("--dest")
        .arg(dest.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("documentation and labels only") && stdout.contains("--publisher"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("next: harbor datasets inspect"),
        "{stdout}"
    );
    assert!(dest.path().join("uci_har/UCI HAR Dataset").is_dir());
}
