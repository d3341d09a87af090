//! A running mock cloud with two users, each owning one band, for the cloud tests.

use std::time::Duration;

use harbor::cloud::{CloudConfig, CloudServer, HttpClient, HttpResponse, ReleaseInfo};

pub const HW: &str = "esp32c3-band";

pub struct Fixture {
    pub server: CloudServer,
    pub alice: HttpClient,
    pub bob: HttpClient,
    pub band_a: HttpClient,
    pub band_b: HttpClient,
    pub anonymous: HttpClient,
}

pub fn model_dir() -> std::path::PathBuf {
    harbor::datasets::workspace_root().join("models/small-int8-generalized")
}

pub fn small_model() -> Vec<u8> {
    std::fs::read(model_dir().join("model.tflite")).expect("committed small model")
}

pub fn start() -> Fixture {
    start_with(CloudConfig::new(model_dir()))
}

pub fn start_with(config: CloudConfig) -> Fixture {
    let server = CloudServer::start(config).expect("cloud starts");
    let alice = server.add_user("alice").unwrap();
    let bob = server.add_user("bob").unwrap();
    let band_a = server.add_device("alice", "band-a", HW).unwrap();
    let band_b = server.add_device("bob", "band-b", HW).unwrap();
    let url = server.base_url().to_string();
    let client = |t: Option<&str>| HttpClient::new(&url, t).with_timeout(Duration::from_secs(120));
    Fixture {
        alice: client(Some(&alice)),
        bob: client(Some(&bob)),
        band_a: client(Some(&band_a)),
        band_b: client(Some(&band_b)),
        anonymous: client(None),
        server,
    }
}

pub fn latest_path(device: &str, current: u32) -> String {
    format!(
        "/api/v0/releases/latest?device={device}&hardware_version={HW}&current_version={current}"
    )
}

/// The `field` of a 400's JSON body.
pub fn field(r: &HttpResponse) -> String {
    r.json()
        .ok()
        .and_then(|v| v["field"].as_str().map(str::to_string))
        .unwrap_or_default()
}

/// Polls a job until it ends; panics on failure.
pub async fn wait_for_job(client: &HttpClient, status_url: &str) -> ReleaseInfo {
    for _ in 0..600 {
        let r = client.get(status_url, &[]).await.expect("job status");
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
        let v = r.json().unwrap();
        match v["status"].as_str() {
            Some("running") => tokio::time::sleep(Duration::from_millis(100)).await,
            Some("succeeded") => {
                return serde_json::from_value(v["release"].clone()).expect("release JSON");
            }
            _ => panic!("job failed: {v}"),
        }
    }
    panic!("job did not finish within 60 s")
}
