//! The whole OTA chain on the emulated band: the mock cloud publishes a signed release, the
//! harness (the band's radio) polls and downloads it over a lossy modelled link with Range
//! resume, and pushes it into band-qemu's A/B flash; after a reboot the band runs it as
//! PENDING_VERIFY with its self-test passed. A release the cloud tampers with is refused by
//! the band itself, by name.

use crate::support::cloud::{HW, small_model, start};
use harbor::cloud::{Fault, FaultTarget, ReleaseInfo};
use harbor::dut::DeviceConfig;
use harbor::ota::device::{self, MAX_CHUNK, create_flash_image};
use harbor::ota::link_model::{Link, LinkModel};
use harbor::ota::radio::{Poll, RadioBridge, deliver};
use harbor_core::ota::SlotState;

async fn offered(radio: &mut RadioBridge, current: u32) -> ReleaseInfo {
    match radio.poll(current).await.expect("poll") {
        Poll::Update(info) => info,
        Poll::NoUpdate => panic!("no update offered"),
    }
}

#[tokio::test]
async fn cloud_release_reaches_the_emulated_band_and_a_tampered_one_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let flash = dir.path().join("flash.img");
    create_flash_image(&flash).unwrap();
    let mut config = crate::support::qemu::config("band-qemu");
    config.flash_image = Some(flash);
    let mut target = harbor::dut::open(&DeviceConfig::Qemu(config.clone()))
        .await
        .expect("band-qemu with a flash file");
    let before = device::status(&mut target).await.unwrap();
    assert_eq!(before.version, 0, "fresh flash: no model yet");

    let f = start();
    // Self-test window: the model's first committed golden input.
    let golden: Vec<i8> =
        std::fs::read(crate::support::cloud::model_dir().join("golden/inputs.i8")).unwrap()[..360]
            .iter()
            .map(|&b| b as i8)
            .collect();
    f.server
        .publish("band-a", &small_model(), 1, Some(&golden))
        .unwrap();
    let mut radio = RadioBridge::new(
        f.band_a.clone(),
        "band-a",
        HW,
        Link::new(LinkModel::wifi().with_loss(0.3, 3)),
    );
    let info = offered(&mut radio, 0).await;
    let download = radio.download(&info).await.unwrap();
    assert!(download.complete && download.resumes > 0);
    let pushed = deliver(&mut target, &info, &download, MAX_CHUNK)
        .await
        .expect("band accepts the release");
    let mut target = device::reboot_qemu(target, &config).await.unwrap();
    let s = device::status(&mut target).await.unwrap();
    assert_eq!(
        (s.version, s.state, s.self_test_passed),
        (1, Some(SlotState::PendingVerify), true),
        "{s:?}"
    );
    assert_eq!(s.active_slot, Some(pushed.slot));
    device::confirm(&mut target).await.unwrap();

    // v2 with a broken signature: the band refuses it and keeps running v1.
    f.server
        .publish("band-a", &small_model(), 2, Some(&golden))
        .unwrap();
    f.server.inject(
        FaultTarget::Device("band-a".into()),
        Fault::BadSignature,
        None,
    );
    let info = offered(&mut radio, 1).await;
    let download = radio.download(&info).await.unwrap();
    let err = deliver(&mut target, &info, &download, MAX_CHUNK)
        .await
        .unwrap_err();
    assert_eq!(err.refusal(), Some("bad-signature"), "{err}");
    let s = device::status(&mut target).await.unwrap();
    assert_eq!(s.version, 1, "{s:?}");
    target.shutdown().await;
}
