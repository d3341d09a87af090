//! `harbor cloud` as a user runs it: devices added to a stopped state directory, `serve`
//! on a port the OS picks, refusals while it runs, SIGTERM/SIGINT exit codes, a restart that
//! keeps the device, a corrupt state file, and the load bench's JSON schema.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Stdio};

use crate::support::cli::{code, command, harbor, stdout, text};
use crate::support::cloud::model_dir;
use harbor::cloud::HttpClient;

/// A running `harbor cloud serve`, killed if the test ends early.
struct Serving {
    child: Child,
    url: String,
}

impl Drop for Serving {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn serve(state: &Path, extra: &[&str]) -> Serving {
    let mut child = command()
        .args(["cloud", "serve", "--addr", "127.0.0.1:0", "--state"])
        .arg(state)
        .arg("--model")
        .arg(model_dir())
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("harbor runs");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line.trim().to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "first line: {line:?}");
    Serving { child, url }
}

fn stop(mut s: Serving, signal: libc::c_int) -> i32 {
    // SAFETY: signals the child this test started.
    assert_eq!(
        unsafe { libc::kill(s.child.id() as libc::pid_t, signal) },
        0
    );
    let status = s.child.wait().unwrap();
    status.code().unwrap_or(-1)
}

fn samples_status(url: &str, token: &str) -> u16 {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(HttpClient::new(url, Some(token)).get("/api/v0/devices/band-1/samples", &[]))
        .expect("the server answers")
        .status
}

fn token_of(out: &std::process::Output) -> String {
    assert_eq!(code(out), 0, "{}", text(out));
    let token = stdout(out).trim().to_string();
    assert!(
        token.len() == 32 && token.bytes().all(|b| b.is_ascii_hexdigit()),
        "{token:?}"
    );
    token
}

#[test]
fn serve_runs_standalone_keeps_devices_and_stops_on_signals() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("cloud");
    let s = state.to_str().unwrap();
    token_of(&harbor(&[
        "cloud", "user", "add", "--state", s, "--user", "ana",
    ]));
    let device = token_of(&harbor(&[
        "cloud",
        "device",
        "add",
        "--state",
        s,
        "--user",
        "ana",
        "--device",
        "band-1",
        "--hardware",
        "esp32c3-band",
    ]));
    // Unknown owner: a usage error naming it.
    let out = harbor(&[
        "cloud",
        "device",
        "add",
        "--state",
        s,
        "--user",
        "bob",
        "--device",
        "band-2",
        "--hardware",
        "esp32c3-band",
    ]);
    assert_eq!(code(&out), 2, "{}", text(&out));
    assert!(text(&out).contains("no user `bob`"), "{}", text(&out));

    let server = serve(&state, &[]);
    assert_eq!(samples_status(&server.url, &device), 200);
    assert_eq!(samples_status(&server.url, &"0".repeat(32)), 403);
    // While it serves, the registry belongs to it: adding is refused, listing works.
    let out = harbor(&[
        "cloud",
        "device",
        "add",
        "--state",
        s,
        "--user",
        "ana",
        "--device",
        "band-2",
        "--hardware",
        "esp32c3-band",
    ]);
    assert_eq!(code(&out), 2, "{}", text(&out));
    let msg = text(&out);
    assert!(
        msg.contains("in use") && msg.contains(&format!("pid {}", server.child.id())),
        "{msg}"
    );
    let out = harbor(&["cloud", "device", "list", "--state", s]);
    assert_eq!(code(&out), 0, "{}", text(&out));
    assert!(
        stdout(&out).contains("band-1") && stdout(&out).contains("ana"),
        "{}",
        stdout(&out)
    );
    // A second server on the same state is refused.
    let out = command()
        .args([
            "cloud",
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--state",
            s,
            "--model",
        ])
        .arg(model_dir())
        .output()
        .unwrap();
    assert_eq!(code(&out), 2, "{}", text(&out));
    assert_eq!(stop(server, libc::SIGTERM), 143);

    // Stopped: adding works again, and the restarted server knows both devices.
    let second = token_of(&harbor(&[
        "cloud",
        "device",
        "add",
        "--state",
        s,
        "--user",
        "ana",
        "--device",
        "band-2",
        "--hardware",
        "esp32c3-band",
    ]));
    let server = serve(&state, &[]);
    assert_eq!(
        samples_status(&server.url, &device),
        200,
        "token kept across restart"
    );
    // band-2's token is its own device's, not band-1's.
    assert_eq!(samples_status(&server.url, &second), 403);
    assert_eq!(stop(server, libc::SIGINT), 130);
}

#[test]
fn serve_refuses_bad_addresses_rates_and_corrupt_state() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("cloud");
    let s = state.to_str().unwrap();
    let model = model_dir();
    let m = model.to_str().unwrap();
    let base = ["cloud", "serve", "--state", s, "--model", m];
    let run = |extra: &[&str]| harbor(&[&base[..], extra].concat());
    let out = run(&["--addr", "0.0.0.0:0"]);
    assert_eq!(code(&out), 2, "{}", text(&out));
    assert!(
        text(&out).contains("not a loopback address"),
        "{}",
        text(&out)
    );
    let out = run(&["--addr", "127.0.0.1:0", "--rate", "0"]);
    assert_eq!(code(&out), 2, "{}", text(&out));
    assert!(text(&out).contains("--rate"), "{}", text(&out));

    token_of(&harbor(&[
        "cloud", "user", "add", "--state", s, "--user", "ana",
    ]));
    std::fs::write(state.join("state.json"), b"{\"format\": 1, \"seed\": ").unwrap();
    let out = run(&["--addr", "127.0.0.1:0"]);
    assert_eq!(code(&out), 2, "{}", text(&out));
    let msg = text(&out);
    assert!(
        msg.contains("corrupt cloud state file") && msg.contains("state.json"),
        "{msg}"
    );
    // The offline commands refuse it the same way, and leave it as it was.
    let out = harbor(&["cloud", "user", "add", "--state", s, "--user", "bo"]);
    assert_eq!(code(&out), 2, "{}", text(&out));
    assert_eq!(
        std::fs::read(state.join("state.json")).unwrap(),
        b"{\"format\": 1, \"seed\": "
    );
}

#[test]
fn bench_reports_every_request_kind_and_no_lost_upload() {
    let model = model_dir();
    let out = harbor(&[
        "cloud",
        "bench",
        "--model",
        model.to_str().unwrap(),
        "--devices",
        "3",
        "--requests",
        "7",
        "--json",
    ]);
    assert_eq!(code(&out), 0, "{}", text(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON report");
    assert_eq!(v["devices"], 3);
    assert_eq!(v["requests"], 21);
    assert_eq!(v["truncated"], false);
    assert_eq!(v["persisted"], true);
    assert!(v["throughput_rps"].as_f64().unwrap() > 0.0);
    let kinds = v["kinds"].as_array().unwrap();
    let names: Vec<&str> = kinds.iter().map(|k| k["kind"].as_str().unwrap()).collect();
    assert_eq!(names, ["upload", "poll", "download"]);
    // 7 requests per device: uploads at 0, 3, 6; polls at 1, 4; downloads at 2, 5.
    let counts: Vec<u64> = kinds.iter().map(|k| k["count"].as_u64().unwrap()).collect();
    assert_eq!(counts, [9, 6, 6]);
    for k in kinds {
        assert_eq!(k["errors"], 0, "{k}");
        let (p50, p99, max) = (
            k["p50_ms"].as_f64().unwrap(),
            k["p99_ms"].as_f64().unwrap(),
            k["max_ms"].as_f64().unwrap(),
        );
        assert!(0.0 < p50 && p50 <= p99 && p99 <= max, "{k}");
    }
    assert_eq!(v["uploads_acknowledged"], 9);
    assert_eq!(v["windows_stored"], 9);

    let out = harbor(&[
        "cloud",
        "bench",
        "--model",
        model.to_str().unwrap(),
        "--devices",
        "0",
    ]);
    assert_eq!(code(&out), 2, "{}", text(&out));
}

#[test]
fn help_lists_the_cloud_command() {
    let out = harbor(&["--help"]);
    assert!(stdout(&out).contains("cloud"), "{}", stdout(&out));
    let out = harbor(&["cloud", "--help"]);
    for sub in ["serve", "user", "device", "bench"] {
        assert!(stdout(&out).contains(sub), "{}", stdout(&out));
    }
}
