//! The harness playing the band's radio against the real mock cloud: polls the release API,
//! downloads with Range under a seeded lossy link model, resumes after resets and cuts,
//! honours 503 + Retry-After, and accounts modelled time, radio-on time and energy.

use crate::support::cloud::{Fixture, HW, small_model, start};
use harbor::board::BoardProfile;
use harbor::cloud::{Fault, FaultTarget, ReleaseInfo};
use harbor::ota::link_model::{Link, LinkModel};
use harbor::ota::radio::{Poll, RadioBridge};

fn bridge(f: &Fixture, link: LinkModel) -> RadioBridge {
    RadioBridge::new(f.band_a.clone(), "band-a", HW, Link::new(link))
}

async fn offered(bridge: &mut RadioBridge) -> ReleaseInfo {
    match bridge.poll(1).await.expect("poll") {
        Poll::Update(info) => info,
        Poll::NoUpdate => panic!("no update offered"),
    }
}

#[tokio::test]
async fn lossy_link_download_resumes_to_identical_bytes_and_is_reproducible() {
    let run = || async {
        let f = start();
        let published = f.server.publish("band-a", &small_model(), 2, None).unwrap();
        let mut radio = bridge(&f, LinkModel::wifi().with_loss(0.3, 11));
        let info = offered(&mut radio).await;
        assert_eq!(info, published);
        let d = radio.download(&info).await.expect("download");
        assert!(d.complete);
        assert_eq!(d.bytes, f.server.artifact_bytes(&info).unwrap());
        let manifest = harbor_core::ota::Manifest::decode(
            &harbor::cloud::client::unhex(&info.manifest).unwrap(),
        )
        .unwrap();
        manifest
            .verify_image(&d.bytes)
            .expect("resumed image verifies");
        (d.resumes, d.requests, radio.totals().clone())
    };
    let (resumes, requests, totals) = run().await;
    assert!(resumes > 0, "a 30 % lossy link cut no response");
    assert_eq!(totals.cuts, resumes, "every cut was resumed");
    assert_eq!(
        u64::from(totals.exchanges),
        u64::from(requests) + 1,
        "one poll + the Range requests"
    );
    assert!(totals.bytes_down > 10_000);
    // Same seed, same link: same modelled figures.
    let (resumes2, requests2, totals2) = run().await;
    assert_eq!((resumes, requests), (resumes2, requests2));
    assert_eq!(totals, totals2);
}

#[tokio::test]
async fn connection_reset_mid_body_is_resumed() {
    let f = start();
    f.server.publish("band-a", &small_model(), 2, None).unwrap();
    f.server.inject(
        FaultTarget::Device("band-a".into()),
        Fault::ResetMidBody { after: 1500 },
        Some(1),
    );
    let mut radio = bridge(&f, LinkModel::ble());
    let info = offered(&mut radio).await;
    let d = radio.download(&info).await.unwrap();
    assert!(d.complete);
    assert_eq!(d.resumes, 1);
    assert_eq!(d.bytes, f.server.artifact_bytes(&info).unwrap());
    let chunks = info.size.div_ceil(radio.chunk as u64) as u32;
    assert_eq!(d.requests, chunks + 1, "one extra request to resume");
}

#[tokio::test]
async fn retry_after_is_waited_out_in_modelled_time() {
    let f = start();
    f.server.publish("band-a", &small_model(), 2, None).unwrap();
    f.server.inject(
        FaultTarget::Device("band-a".into()),
        Fault::Unavailable { retry_after_s: 30 },
        Some(2),
    );
    let mut radio = bridge(&f, LinkModel::wifi());
    offered(&mut radio).await;
    let t = radio.totals();
    assert_eq!(t.exchanges, 3, "two 503s, then the release");
    // 60 s of modelled waiting with the radio off.
    assert!(
        t.duration_s >= 60.0 && t.duration_s - t.radio_on_s >= 60.0 - 1e-9,
        "{t:?}"
    );

    // More 503s than the bridge's attempts: a named error, not a hang.
    f.server.inject(
        FaultTarget::Device("band-a".into()),
        Fault::Unavailable { retry_after_s: 1 },
        None,
    );
    let err = radio.poll(1).await.unwrap_err();
    assert!(err.to_string().contains("503"), "{err}");
}

#[tokio::test]
async fn truncated_artifact_ends_short_and_fails_the_hash() {
    let f = start();
    f.server.publish("band-a", &small_model(), 2, None).unwrap();
    f.server.inject(
        FaultTarget::Device("band-a".into()),
        Fault::Truncate { len: 5000 },
        None,
    );
    let mut radio = bridge(&f, LinkModel::wifi());
    let info = offered(&mut radio).await;
    let d = radio.download(&info).await.unwrap();
    assert!(!d.complete);
    assert_eq!(d.bytes.len(), 5000);
    let manifest =
        harbor_core::ota::Manifest::decode(&harbor::cloud::client::unhex(&info.manifest).unwrap())
            .unwrap();
    assert!(manifest.verify_image(&d.bytes).is_err());
}

#[tokio::test]
async fn radio_energy_comes_from_the_band_profile() {
    let f = start();
    f.server.publish("band-a", &small_model(), 2, None).unwrap();
    let board = BoardProfile::load("esp32c3-band").unwrap();
    let mut wifi = bridge(&f, LinkModel::wifi());
    let info = offered(&mut wifi).await;
    wifi.download(&info).await.unwrap();
    let mut ble = bridge(&f, LinkModel::ble());
    offered(&mut ble).await;
    ble.download(&info).await.unwrap();
    // The same bytes take longer over BLE's lower throughput.
    assert!(ble.totals().radio_on_s > wifi.totals().radio_on_s);
    let energy = wifi
        .link
        .energy_mj(&board)
        .expect("esp32c3-band has Wi-Fi currents");
    let radio = board.radio.as_ref().unwrap();
    let v = board.power.as_ref().unwrap().supply_v;
    let t = wifi.totals();
    let expected = v
        * (radio.wifi_tx.as_ref().unwrap().ma * t.tx_s
            + radio.wifi_rx.as_ref().unwrap().ma * t.rx_s);
    assert!((energy - expected).abs() < 1e-9 && energy > 0.0);
}
