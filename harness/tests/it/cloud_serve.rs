//! The cloud with a state directory, over real HTTP on 127.0.0.1: a restart keeps devices,
//! tokens, samples and releases; concurrent uploads are stored exactly once (also across a
//! restart); a token past its rate gets 429 + Retry-After; oversize heads are refused; a
//! corrupt state file is an error naming the file.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use crate::support::cloud::{HW, latest_path, model_dir, small_model};
use harbor::cloud::{
    CloudConfig, CloudError, CloudServer, HttpClient, LabelledWindow, RateLimit, StoreError,
    samples::upload_body,
};

fn config(state: &Path) -> CloudConfig {
    CloudConfig {
        state_dir: Some(state.to_path_buf()),
        ..CloudConfig::new(model_dir())
    }
}

fn client(server: &CloudServer, token: &str) -> HttpClient {
    HttpClient::new(server.base_url(), Some(token)).with_timeout(Duration::from_secs(60))
}

/// One window whose first two readings say which device and which upload it came from.
fn marked(server: &CloudServer, device: usize, upload: usize) -> LabelledWindow {
    let c = server.contract();
    let mut samples = vec![7i16; c.window * c.channels];
    samples[0] = device as i16;
    samples[1] = upload as i16;
    LabelledWindow {
        class: upload % c.classes.len(),
        samples,
    }
}

#[tokio::test]
async fn a_restart_keeps_devices_tokens_samples_and_releases() {
    let dir = tempfile::tempdir().unwrap();
    let (token, release, window) = {
        let server = CloudServer::start(config(dir.path())).unwrap();
        server.add_user("alice").unwrap();
        let token = server.add_device("alice", "band-a", HW).unwrap();
        server.allow_downgrade("band-a", true).unwrap();
        let window = marked(&server, 1, 2);
        let body = upload_body(server.contract(), std::slice::from_ref(&window));
        let r = client(&server, &token)
            .post("/api/v0/devices/band-a/samples", body)
            .await
            .unwrap();
        assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
        let release = server.publish("band-a", &small_model(), 2, None).unwrap();
        server.stop();
        (token, release, window)
    };
    // Another seed in the config: the directory's own seed wins (ids stay unique).
    let server = CloudServer::start(CloudConfig {
        seed: 1,
        ..config(dir.path())
    })
    .unwrap();
    let band = client(&server, &token);
    let r = band
        .get("/api/v0/devices/band-a/samples", &[])
        .await
        .unwrap();
    assert_eq!(r.status, 200, "the device's token still works");
    assert_eq!(r.json().unwrap()["total"], 1);
    assert_eq!(server.samples("band-a"), vec![window]);
    // The release is offered again, with the same manifest, and its image is the same.
    let r = band.get(&latest_path("band-a", 1), &[]).await.unwrap();
    assert_eq!(r.status, 200);
    let again: harbor::cloud::ReleaseInfo = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(again, release);
    let image = band.get(&release.artifact_url, &[]).await.unwrap();
    assert_eq!(image.status, 200);
    assert_eq!(
        harbor::cloud::client::hex(&harbor::cloud::release::sha256(&image.body)),
        release.sha256
    );
    // allow_downgrade persisted: version 2 is offered to a device on version 3.
    assert_eq!(
        band.get(&latest_path("band-a", 3), &[])
            .await
            .unwrap()
            .status,
        200
    );
    // Registry changes persist too, and names stay unique.
    assert!(matches!(
        server.add_device("alice", "band-a", HW),
        Err(CloudError::Registry(_))
    ));
    let second = server.publish("band-a", &small_model(), 3, None).unwrap();
    assert_ne!(
        second.release, release.release,
        "ids continue, never repeat"
    );
}

/// Every device uploads `uploads` marked windows concurrently; all must answer 201.
async fn upload_batch(server: &CloudServer, tokens: &[String], first: usize, uploads: usize) {
    let tasks = tokens.iter().enumerate().map(|(d, token)| {
        let band = client(server, token);
        let bodies: Vec<Vec<u8>> = (first..first + uploads)
            .map(|u| upload_body(server.contract(), &[marked(server, d, u)]))
            .collect();
        async move {
            for body in bodies {
                let r = band
                    .post(&format!("/api/v0/devices/dev-{d}/samples"), body)
                    .await
                    .expect("upload answered");
                assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
            }
        }
    });
    futures_util::future::join_all(tasks).await;
}

/// Each device holds exactly uploads 0..n, each once, in order.
fn assert_exactly_once(server: &CloudServer, devices: usize, n: usize) {
    for d in 0..devices {
        let got: Vec<(i16, i16)> = server
            .samples(&format!("dev-{d}"))
            .iter()
            .map(|w| (w.samples[0], w.samples[1]))
            .collect();
        let want: Vec<(i16, i16)> = (0..n).map(|u| (d as i16, u as i16)).collect();
        assert_eq!(got, want, "dev-{d}");
    }
}

#[tokio::test]
async fn concurrent_uploads_are_stored_exactly_once_across_a_restart() {
    const DEVICES: usize = 12;
    const UPLOADS: usize = 15;
    let dir = tempfile::tempdir().unwrap();
    let server = CloudServer::start(config(dir.path())).unwrap();
    server.add_user("fleet").unwrap();
    let tokens: Vec<String> = (0..DEVICES)
        .map(|d| server.add_device("fleet", &format!("dev-{d}"), HW).unwrap())
        .collect();
    upload_batch(&server, &tokens, 0, UPLOADS).await;
    assert_exactly_once(&server, DEVICES, UPLOADS);
    server.stop();
    drop(server);

    let server = CloudServer::start(config(dir.path())).unwrap();
    assert_exactly_once(&server, DEVICES, UPLOADS);
    upload_batch(&server, &tokens, UPLOADS, UPLOADS).await;
    assert_exactly_once(&server, DEVICES, 2 * UPLOADS);
    // The API's totals agree with what is stored.
    let r = client(&server, &tokens[3])
        .get("/api/v0/devices/dev-3/samples", &[])
        .await
        .unwrap();
    assert_eq!(r.json().unwrap()["total"], 2 * UPLOADS);
    server.stop();
    drop(server);
    let server = CloudServer::start(config(dir.path())).unwrap();
    assert_exactly_once(&server, DEVICES, 2 * UPLOADS);
}

#[tokio::test]
async fn a_token_past_its_rate_gets_429_with_retry_after() {
    let server = CloudServer::start(CloudConfig {
        rate_limit: Some(RateLimit {
            rate: 0.5,
            burst: 3,
        }),
        ..CloudConfig::new(model_dir())
    })
    .unwrap();
    server.add_user("alice").unwrap();
    let a = client(&server, &server.add_device("alice", "band-a", HW).unwrap());
    let b = client(&server, &server.add_device("alice", "band-b", HW).unwrap());
    let path = |d: &str| format!("/api/v0/devices/{d}/samples");
    for _ in 0..3 {
        assert_eq!(a.get(&path("band-a"), &[]).await.unwrap().status, 200);
    }
    let r = a.get(&path("band-a"), &[]).await.unwrap();
    assert_eq!(r.status, 429, "{}", String::from_utf8_lossy(&r.body));
    // 0.5/s: the next request is about 2 s away.
    assert_eq!(r.header("retry-after"), Some("2"));
    // Other tokens have their own bucket.
    assert_eq!(b.get(&path("band-b"), &[]).await.unwrap().status, 200);
    // Unknown tokens are not limited (no bucket grows for them): plain 403.
    let stranger = HttpClient::new(server.base_url(), Some("0".repeat(32).as_str()));
    for _ in 0..5 {
        assert_eq!(
            stranger.get(&path("band-a"), &[]).await.unwrap().status,
            403
        );
    }
    // After Retry-After the token is served again.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(a.get(&path("band-a"), &[]).await.unwrap().status, 200);
}

#[tokio::test]
async fn oversize_heads_are_refused() {
    let server = CloudServer::start(CloudConfig::new(model_dir())).unwrap();
    server.add_user("alice").unwrap();
    let a = client(&server, &server.add_device("alice", "band-a", HW).unwrap());
    let path = "/api/v0/devices/band-a/samples";
    let big = "x".repeat(20 << 10);
    let r = a.get(path, &[("x-padding", &big)]).await.unwrap();
    assert_eq!(r.status, 431);
    let long = format!("{path}?pad={}", "y".repeat(5 << 10));
    assert_eq!(a.get(&long, &[]).await.unwrap().status, 414);
    // Just under both limits is served.
    let r = a
        .get(path, &[("x-padding", &"x".repeat(8 << 10))])
        .await
        .unwrap();
    assert_eq!(r.status, 200);
    // The body limit holds on every route that reads a body.
    let r = a.post(path, vec![b' '; (1 << 20) + 1]).await.unwrap();
    assert_eq!(r.status, 413);
}

fn start_err(dir: &Path) -> StoreError {
    match CloudServer::start(config(dir)) {
        Err(CloudError::State(e)) => e,
        Err(e) => panic!("expected a state error, got {e}"),
        Ok(_) => panic!("a corrupt state started"),
    }
}

#[test]
fn a_corrupt_state_is_an_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let release = {
        let server = CloudServer::start(config(dir.path())).unwrap();
        server.add_user("alice").unwrap();
        server.add_device("alice", "band-a", HW).unwrap();
        let c = server.contract().clone();
        let w = LabelledWindow {
            class: 0,
            samples: vec![1; c.window * c.channels],
        };
        // Stored through the API path the server uses.
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let token = server.add_device("alice", "band-b", HW).unwrap();
        let r = rt
            .block_on(
                client(&server, &token)
                    .post("/api/v0/devices/band-b/samples", upload_body(&c, &[w])),
            )
            .unwrap();
        assert_eq!(r.status, 201);
        server.publish("band-a", &small_model(), 2, None).unwrap()
    };
    let state = dir.path().join("state.json");
    let good = std::fs::read(&state).unwrap();
    let message = |e: StoreError| e.to_string();

    // Not JSON.
    std::fs::write(&state, &good[..good.len() / 2]).unwrap();
    let e = message(start_err(dir.path()));
    assert!(e.contains("state.json") && e.contains("not JSON"), "{e}");
    // Another format version.
    let mut v: serde_json::Value = serde_json::from_slice(&good).unwrap();
    v["format"] = 9.into();
    std::fs::write(&state, serde_json::to_vec(&v).unwrap()).unwrap();
    let e = message(start_err(dir.path()));
    assert!(e.contains("state.json") && e.contains("format 9"), "{e}");
    std::fs::write(&state, &good).unwrap();

    // A flipped byte in a release image.
    let id = release.artifact_url.rsplit('/').next().unwrap();
    let artifact = dir.path().join("artifacts").join(format!("{id}.bin"));
    let image = std::fs::read(&artifact).unwrap();
    let mut bad = image.clone();
    bad[100] ^= 1;
    std::fs::write(&artifact, &bad).unwrap();
    let e = message(start_err(dir.path()));
    assert!(
        e.contains(&format!("{id}.bin")) && e.contains("sha256"),
        "{e}"
    );
    std::fs::write(&artifact, &image).unwrap();

    // A truncated sample file.
    let samples = dir.path().join("samples/band-b/00000000.bin");
    let bytes = std::fs::read(&samples).unwrap();
    std::fs::write(&samples, &bytes[..bytes.len() - 1]).unwrap();
    let e = message(start_err(dir.path()));
    assert!(e.contains("band-b/00000000.bin"), "{e}");
    std::fs::write(&samples, &bytes).unwrap();

    // Nothing was reset on the way: the restored state starts and holds its data.
    let server = CloudServer::start(config(dir.path())).unwrap();
    assert_eq!(server.samples("band-b").len(), 1);
    assert_eq!(server.releases(), vec![release]);
    let mut per: BTreeMap<String, usize> = BTreeMap::new();
    for r in server.releases() {
        *per.entry(r.device).or_default() += 1;
    }
    assert_eq!(per.get("band-a"), Some(&1));
}

#[test]
fn a_second_server_on_the_same_state_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let _first = CloudServer::start(config(dir.path())).unwrap();
    let e = start_err(dir.path());
    assert!(matches!(e, StoreError::Locked { .. }), "{e}");
    assert!(
        e.to_string()
            .contains(&format!("pid {}", std::process::id())),
        "{e}"
    );
}

#[test]
fn a_non_loopback_address_needs_allow_remote() {
    let e = CloudServer::start(CloudConfig {
        addr: "0.0.0.0:0".parse().unwrap(),
        ..CloudConfig::new(model_dir())
    });
    assert!(matches!(e, Err(CloudError::NotLoopback(_))));
}
