//! The mock cloud over real HTTP: release API status codes, auth and isolation between
//! users and devices, bounded and validated uploads, path traversal, Range resume, and
//! signed manifests that verify with harbor-core (and fail when tampered with).

#[cfg(feature = "train")]
use crate::support::cloud::wait_for_job;
use crate::support::cloud::{HW, field, latest_path, small_model, start};
use harbor::cloud::client::unhex;
use harbor::cloud::{LabelledWindow, ReleaseInfo, samples};
use harbor_core::ota::manifest::{Manifest, ManifestError, sha256};

fn manifest_of(info: &ReleaseInfo) -> Manifest {
    Manifest::decode(&unhex(&info.manifest).expect("hex manifest")).expect("manifest decodes")
}

#[tokio::test]
async fn latest_release_answers_each_status_code() {
    let f = start();
    // No release yet.
    let r = f.band_a.get(&latest_path("band-a", 1), &[]).await.unwrap();
    assert_eq!(r.status, 204);

    let published = f.server.publish("band-a", &small_model(), 2, None).unwrap();
    let r = f.band_a.get(&latest_path("band-a", 1), &[]).await.unwrap();
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let info: ReleaseInfo = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(info, published);
    assert_eq!(info.version, 2);
    let m = manifest_of(&info);
    m.verify_signature(&f.server.trusted_keys())
        .expect("signed by the cloud's key");
    assert_eq!(m.hardware_id.as_str(), HW);
    assert_eq!(u64::from(m.image_size), info.size);

    // Up to date: nothing newer.
    let r = f.band_a.get(&latest_path("band-a", 2), &[]).await.unwrap();
    assert_eq!(r.status, 204);

    // 400 names what is wrong.
    for (path, missing) in [
        (
            format!("/api/v0/releases/latest?hardware_version={HW}&current_version=1"),
            "device",
        ),
        (
            "/api/v0/releases/latest?device=band-a&current_version=1".to_string(),
            "hardware_version",
        ),
        (
            "/api/v0/releases/latest?device=band-a&hardware_version=esp8266-band&current_version=1"
                .to_string(),
            "hardware_version",
        ),
        (
            format!("/api/v0/releases/latest?device=band-a&hardware_version={HW}"),
            "current_version",
        ),
        (
            format!(
                "/api/v0/releases/latest?device=band-a&hardware_version={HW}&current_version=v2"
            ),
            "current_version",
        ),
    ] {
        let r = f.band_a.get(&path, &[]).await.unwrap();
        assert_eq!(r.status, 400, "{path}");
        assert_eq!(field(&r), missing, "{path}");
    }

    // 401 without a token, 403 with a bad one or another device's.
    let r = f
        .anonymous
        .get(&latest_path("band-a", 1), &[])
        .await
        .unwrap();
    assert_eq!(r.status, 401);
    let r = f
        .anonymous
        .with_token(Some("0123456789abcdef0123456789abcdef"))
        .get(&latest_path("band-a", 1), &[])
        .await
        .unwrap();
    assert_eq!(r.status, 403);
    let r = f.band_b.get(&latest_path("band-a", 1), &[]).await.unwrap();
    assert_eq!(r.status, 403);

    // 503 with Retry-After, as many times as armed, then the release.
    f.server.inject(
        harbor::cloud::FaultTarget::Device("band-a".into()),
        harbor::cloud::Fault::Unavailable { retry_after_s: 7 },
        Some(2),
    );
    for _ in 0..2 {
        let r = f.band_a.get(&latest_path("band-a", 1), &[]).await.unwrap();
        assert_eq!(r.status, 503);
        assert_eq!(r.header("retry-after"), Some("7"));
    }
    let r = f.band_a.get(&latest_path("band-a", 1), &[]).await.unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(f.server.fault_log().len(), 2);
}

#[tokio::test]
async fn downgrades_are_refused_unless_allowed() {
    let f = start();
    f.server.publish("band-a", &small_model(), 3, None).unwrap();
    let r = f.band_a.get(&latest_path("band-a", 5), &[]).await.unwrap();
    assert_eq!(r.status, 204, "an older release is no update");
    f.server.allow_downgrade("band-a", true).unwrap();
    let r = f.band_a.get(&latest_path("band-a", 5), &[]).await.unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.json().unwrap()["version"], 3);
}

#[cfg(feature = "train")]
fn one_window_per_class(contract: &samples::InputContract) -> Vec<LabelledWindow> {
    (0..contract.classes.len())
        .map(|class| LabelledWindow {
            class,
            samples: (0..contract.window * contract.channels)
                .map(|i| ((i * (class + 3)) % 2000) as i16 - 1000)
                .collect(),
        })
        .collect()
}

// Ends in a personalization job, which needs training.
#[cfg(feature = "train")]
#[tokio::test]
async fn users_and_devices_cannot_touch_each_others_data() {
    let f = start();
    let contract = f.server.contract().clone();
    let body = samples::upload_body(&contract, &one_window_per_class(&contract));
    let samples_a = "/api/v0/devices/band-a/samples";

    // The owner and the device itself may upload and read.
    let r = f.alice.post(samples_a, body.clone()).await.unwrap();
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let r = f.band_a.get(samples_a, &[]).await.unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.json().unwrap()["total"], contract.classes.len());

    // Another user, another device, unknown devices: 403 alike (existence is not revealed).
    for (who, client) in [("bob", &f.bob), ("band-b", &f.band_b)] {
        let r = client.get(samples_a, &[]).await.unwrap();
        assert_eq!(r.status, 403, "{who} read band-a's samples");
        let r = client.post(samples_a, body.clone()).await.unwrap();
        assert_eq!(r.status, 403, "{who} uploaded to band-a");
        let r = client
            .post("/api/v0/devices/band-a/personalize", Vec::new())
            .await
            .unwrap();
        assert_eq!(r.status, 403, "{who} personalized band-a");
    }
    let r = f
        .bob
        .get("/api/v0/devices/band-zz/samples", &[])
        .await
        .unwrap();
    assert_eq!(r.status, 403);

    // A job and its release belong to band-a.
    let r = f
        .alice
        .post("/api/v0/devices/band-a/personalize", Vec::new())
        .await
        .unwrap();
    assert_eq!(r.status, 202, "{}", String::from_utf8_lossy(&r.body));
    let status_url = r.json().unwrap()["status_url"]
        .as_str()
        .unwrap()
        .to_string();
    let r = f.bob.get(&status_url, &[]).await.unwrap();
    assert_eq!(r.status, 403, "bob read alice's job");
    let release = wait_for_job(&f.alice, &status_url).await;
    assert_eq!(release.device, "band-a");
    assert_eq!(
        release.version, 2,
        "factory version 1, so the first personalized is 2"
    );

    let r = f.band_b.get(&release.artifact_url, &[]).await.unwrap();
    assert_eq!(r.status, 403, "band-b downloaded band-a's model");
    let r = f.bob.get(&release.artifact_url, &[]).await.unwrap();
    assert_eq!(r.status, 403, "bob downloaded band-a's model");
    let r = f.alice.get(&release.artifact_url, &[]).await.unwrap();
    assert_eq!(r.status, 200);
    let r = f
        .band_a
        .get("/api/v0/artifacts/00000000000000000000000000000000", &[])
        .await
        .unwrap();
    assert_eq!(r.status, 404);
    let r = f
        .band_a
        .get("/api/v0/jobs/00000000000000000000000000000000", &[])
        .await
        .unwrap();
    assert_eq!(r.status, 404);
    // band-b's own release query sees nothing of band-a's.
    let r = f.band_b.get(&latest_path("band-b", 1), &[]).await.unwrap();
    assert_eq!(r.status, 204);
}

#[tokio::test]
async fn uploads_are_bounded_and_validated() {
    let f = start();
    let contract = f.server.contract().clone();
    let path = "/api/v0/devices/band-a/samples";

    // Over the body limit: 413 before anything is parsed.
    let huge = vec![b' '; (1 << 20) + 1];
    let r = f.alice.post(path, huge).await.unwrap();
    assert_eq!(r.status, 413);

    let window = |label: &str, rows: usize, cols: usize, value: i64| {
        let row: Vec<i64> = vec![value; cols];
        serde_json::to_vec(
            &serde_json::json!({"windows": [{"label": label, "samples": vec![row; rows]}]}),
        )
        .unwrap()
    };
    let (w, c) = (contract.window, contract.channels);
    for (body, expected) in [
        (b"{\"windows\": [".to_vec(), "body"),
        (b"{\"frames\": []}".to_vec(), "windows"),
        (window("running", w, c, 0), "windows[0].label"),
        (window("walking", w - 1, c, 0), "windows[0].samples"),
        (window("walking", w, c + 1, 0), "windows[0].samples[0]"),
        (window("walking", w, c, 40_000), "windows[0].samples[0][0]"),
    ] {
        let r = f.alice.post(path, body).await.unwrap();
        assert_eq!(r.status, 400);
        assert_eq!(field(&r), expected, "{}", String::from_utf8_lossy(&r.body));
    }
    // Too many windows in one upload (within the byte limit).
    let many = samples::upload_body(
        &contract,
        &vec![
            LabelledWindow {
                class: 0,
                samples: vec![0; w * c]
            };
            257
        ],
    );
    assert!(many.len() < 1 << 20);
    let r = f.alice.post(path, many).await.unwrap();
    assert_eq!((r.status, field(&r).as_str()), (400, "windows"));
    // Nothing was stored by the rejected uploads.
    let r = f.alice.get(path, &[]).await.unwrap();
    assert_eq!(r.json().unwrap()["total"], 0);

    // A job needs windows of every class.
    let r = f
        .alice
        .post("/api/v0/devices/band-a/personalize", Vec::new())
        .await
        .unwrap();
    assert_eq!((r.status, field(&r).as_str()), (400, "samples"));
}

#[tokio::test]
async fn path_traversal_never_reaches_a_file() {
    let f = start();
    for path in [
        "/api/v0/artifacts/..%2F..%2FCargo.toml",
        "/api/v0/artifacts/%2e%2e%2f%2e%2e%2fCargo.toml",
        "/api/v0/artifacts/..",
        "/api/v0/artifacts/0123456789ABCDEF0123456789ABCDEF",
        "/api/v0/jobs/..%2F..%2Fetc%2Fpasswd",
        "/api/v0/devices/..%2Fband-a/samples",
    ] {
        let r = f.band_a.get(path, &[]).await.unwrap();
        assert_eq!(
            r.status,
            400,
            "{path}: {}",
            String::from_utf8_lossy(&r.body)
        );
        assert!(!String::from_utf8_lossy(&r.body).contains("[workspace]"));
    }
    // Unnormalized dot segments do not route anywhere.
    let r = f
        .band_a
        .get("/api/v0/artifacts/../../Cargo.toml", &[])
        .await
        .unwrap();
    assert!(r.status == 404 || r.status == 400, "{}", r.status);
    assert!(!String::from_utf8_lossy(&r.body).contains("[workspace]"));
}

#[tokio::test]
async fn interrupted_download_resumes_with_range_to_identical_bytes() {
    let f = start();
    let info = f.server.publish("band-a", &small_model(), 2, None).unwrap();
    let expected = f.server.artifact_bytes(&info).unwrap();
    assert_eq!(expected.len() as u64, info.size);

    f.server.inject(
        harbor::cloud::FaultTarget::Device("band-a".into()),
        harbor::cloud::Fault::ResetMidBody { after: 4000 },
        Some(1),
    );
    let first = f.band_a.get(&info.artifact_url, &[]).await.unwrap();
    assert_eq!(first.status, 200);
    assert!(first.body_error.is_some(), "the connection was not reset");
    assert_eq!(first.body.len(), 4000);
    let etag = first.header("etag").unwrap().to_string();

    let range = format!("bytes={}-", first.body.len());
    let rest = f
        .band_a
        .get(
            &info.artifact_url,
            &[("range", &range), ("if-range", &etag)],
        )
        .await
        .unwrap();
    assert_eq!(rest.status, 206);
    assert_eq!(
        rest.header("content-range"),
        Some(format!("bytes 4000-{}/{}", info.size - 1, info.size).as_str())
    );
    assert_eq!(rest.header("etag"), Some(etag.as_str()));
    let mut whole = first.body.clone();
    whole.extend_from_slice(&rest.body);
    assert_eq!(whole, expected);
    assert_eq!(harbor::cloud::client::hex(&sha256(&whole)), info.sha256);
    manifest_of(&info)
        .verify_image(&whole)
        .expect("resumed image verifies");

    // A stale validator gets the whole representation, not a splice.
    let r = f
        .band_a
        .get(
            &info.artifact_url,
            &[("range", "bytes=10-"), ("if-range", "\"stale\"")],
        )
        .await
        .unwrap();
    assert_eq!((r.status, r.body.len() as u64), (200, info.size));
    // Past the end: 416 with the length.
    let r = f
        .band_a
        .get(
            &info.artifact_url,
            &[("range", &format!("bytes={}-", info.size))],
        )
        .await
        .unwrap();
    assert_eq!(r.status, 416);
    assert_eq!(
        r.header("content-range"),
        Some(format!("bytes */{}", info.size).as_str())
    );
}

#[tokio::test]
async fn tampered_manifest_fails_verification() {
    let f = start();
    let info = f.server.publish("band-a", &small_model(), 2, None).unwrap();
    let keys = f.server.trusted_keys();
    let good = unhex(&info.manifest).unwrap();
    Manifest::decode(&good)
        .unwrap()
        .verify_signature(&keys)
        .unwrap();
    // Any signed byte changed (version, size, hash, hardware, contract, key id): rejected.
    for offset in [8usize, 12, 20, 52, 84, 96] {
        let mut bad = good.clone();
        bad[offset] ^= 0x01;
        let verdict = Manifest::decode(&bad).and_then(|m| m.verify_signature(&keys));
        assert!(
            matches!(
                verdict,
                Err(ManifestError::BadSignature
                    | ManifestError::UnknownKey { .. }
                    | ManifestError::BadField { .. })
            ),
            "byte {offset}: {verdict:?}"
        );
    }
}

mod faults {
    use super::*;
    use harbor::cloud::{Fault, FaultTarget};
    use harbor_core::ota::manifest::{CompatField, DeviceProfile, HardwareId};

    fn device_profile(m: &Manifest) -> DeviceProfile {
        DeviceProfile {
            hardware_id: HardwareId::new(HW).unwrap(),
            channels: 6,
            max_window_len: 60,
            active: Some(m.contract),
        }
    }

    /// The release band-a is offered at version 1 with `fault` armed on it.
    async fn offered(fault: Fault) -> (Manifest, Manifest, Vec<u8>, ReleaseInfo) {
        let f = start();
        let info = f.server.publish("band-a", &small_model(), 2, None).unwrap();
        let clean = manifest_of(&info);
        f.server
            .inject(FaultTarget::Device("band-a".into()), fault.clone(), None);
        let r = f.band_a.get(&latest_path("band-a", 1), &[]).await.unwrap();
        assert_eq!(r.status, 200, "{fault:?}");
        let served: ReleaseInfo = serde_json::from_slice(&r.body).unwrap();
        let d = f.band_a.get(&served.artifact_url, &[]).await.unwrap();
        assert_eq!(
            f.server.fault_log().last().map(|h| h.fault.clone()),
            Some(fault)
        );
        (clean, manifest_of(&served), d.body, served)
    }

    #[tokio::test]
    async fn manifest_faults_are_caught_by_harbor_core() {
        let keys = start().server.trusted_keys();
        let (clean, m, _, _) = offered(Fault::BadSignature).await;
        assert_eq!(m.verify_signature(&keys), Err(ManifestError::BadSignature));
        assert_eq!(clean.verify_signature(&keys), Ok(()));

        let (_, m, _, _) = offered(Fault::UnknownKey).await;
        assert!(matches!(
            m.verify_signature(&keys),
            Err(ManifestError::UnknownKey { .. })
        ));

        let (clean, m, _, _) = offered(Fault::WrongHardware).await;
        assert_eq!(
            m.verify_signature(&keys),
            Ok(()),
            "validly signed, just for other hardware"
        );
        assert_eq!(
            m.check_compatible(&device_profile(&clean)),
            Err(ManifestError::Incompatible {
                field: CompatField::HardwareId
            })
        );

        let (clean, m, _, _) = offered(Fault::WrongModelShape).await;
        assert_eq!(m.verify_signature(&keys), Ok(()));
        assert!(matches!(
            m.check_compatible(&device_profile(&clean)),
            Err(ManifestError::Incompatible { .. })
        ));
    }

    #[tokio::test]
    async fn older_version_is_served_signed_and_refused_by_anti_rollback() {
        let f = start();
        f.server.publish("band-a", &small_model(), 2, None).unwrap();
        f.server.inject(
            FaultTarget::Device("band-a".into()),
            Fault::OlderVersion,
            None,
        );
        let r = f.band_a.get(&latest_path("band-a", 5), &[]).await.unwrap();
        assert_eq!(
            r.status, 200,
            "the fault bypasses the server's downgrade refusal"
        );
        let m = manifest_of(&serde_json::from_slice(&r.body).unwrap());
        assert_eq!(m.version, 4);
        assert_eq!(m.verify_signature(&f.server.trusted_keys()), Ok(()));
        assert_eq!(
            m.check_version(5),
            Err(ManifestError::Downgrade {
                version: 4,
                minimum: 5
            })
        );
    }

    #[tokio::test]
    async fn byte_faults_are_caught_by_the_image_hash() {
        let (clean, _, body, _) = offered(Fault::Truncate { len: 1000 }).await;
        assert_eq!(body.len(), 1000);
        assert!(matches!(
            clean.verify_image(&body),
            Err(ManifestError::SizeMismatch { found: 1000, .. })
        ));

        let (clean, _, body, _) = offered(Fault::CorruptByte { offset: 77 }).await;
        assert_eq!(body.len() as u32, clean.image_size);
        assert_eq!(clean.verify_image(&body), Err(ManifestError::HashMismatch));
    }

    #[tokio::test]
    async fn stall_outlasts_a_short_client_timeout() {
        let f = start();
        let info = f.server.publish("band-a", &small_model(), 2, None).unwrap();
        f.server.inject(
            FaultTarget::Artifact(info.artifact_url.rsplit('/').next().unwrap().into()),
            Fault::Stall {
                delay: std::time::Duration::from_secs(3),
            },
            Some(1),
        );
        let impatient = f
            .band_a
            .clone()
            .with_timeout(std::time::Duration::from_millis(300));
        let r = impatient.get(&info.artifact_url, &[]).await;
        assert!(
            matches!(r, Err(harbor::cloud::client::ClientError::Timeout(_))),
            "{r:?}"
        );
        // Only one request was stalled: the next one gets the image.
        let r = f.band_a.get(&info.artifact_url, &[]).await.unwrap();
        assert_eq!((r.status, r.body.len() as u64), (200, info.size));
    }
}
