//! OTA on the emulated band, end to end: signed releases pushed over the UART into A/B
//! slots of a persistent flash file, QEMU restarted on the same file, self-test, confirm,
//! rollback, refusals, and power cuts during the boot decision's writes.

use std::path::{Path, PathBuf};

use harbor::cloud::release::build_image;
use harbor::dut::{DeviceConfig, Dut, QemuConfig, QemuTarget, Target};
use harbor::ota::device::{
    self, DeviceOtaStatus, MAX_CHUNK, OtaDeviceError, create_flash_image, relaunch,
};
use harbor_core::interpreter::Interpreter;
use harbor_core::ota::keys::{DEV_KEY_ID, DEV_KEY_SEED};
use harbor_core::ota::{HardwareId, Manifest, SlotState};
use harbor_core::tflite::Model;

const V1_MODEL: &str = "small-int8-generalized";
const V2_MODEL: &str = "small-int8-personalized-1617";

fn model_file(name: &str, file: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../models")
        .join(name)
        .join(file);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Window `i` of the model's committed golden inputs (60×6 int8).
fn golden_window(name: &str, i: usize) -> Vec<i8> {
    let inputs = model_file(name, "golden/inputs.i8");
    inputs[i * 360..(i + 1) * 360]
        .iter()
        .map(|&b| b as i8)
        .collect()
}

/// A release: the image (model || self-test window || expected logits) and its manifest
/// signed with the development key (fixed seed, so the bytes are the same every run).
struct Release {
    image: Vec<u8>,
    manifest: Manifest,
}

impl Release {
    fn new(name: &str, version: u32) -> Self {
        let model = model_file(name, "model.tflite");
        let (image, contract) =
            build_image(&model, Some(&golden_window(name, 0))).expect("release image");
        let manifest = Manifest::describe(
            version,
            &image,
            model.len() as u32,
            HardwareId::new("esp32c3-band").unwrap(),
            contract,
        )
        .sign(DEV_KEY_ID, &DEV_KEY_SEED);
        Self { image, manifest }
    }

    fn model_len(&self) -> usize {
        self.manifest.model_size as usize
    }

    /// Re-signs after the image changed, so only what the test broke is wrong.
    fn resign(&mut self) {
        let m = &self.manifest;
        self.manifest = Manifest::describe(
            m.version,
            &self.image,
            m.model_size,
            m.hardware_id,
            m.contract,
        )
        .sign(DEV_KEY_ID, &DEV_KEY_SEED);
    }
}

/// A band with its own flash file.
struct Band {
    _dir: tempfile::TempDir,
    flash: PathBuf,
    config: QemuConfig,
}

impl Band {
    /// A band with an erased flash file.
    fn new() -> Self {
        let band = Self::without_flash();
        create_flash_image(&band.flash).expect("flash image");
        band
    }

    /// A band whose flash starts as a copy of `other`'s.
    fn copy_of(other: &Band) -> Self {
        let band = Self::without_flash();
        std::fs::copy(&other.flash, &band.flash).expect("copy flash");
        band
    }

    fn without_flash() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let flash = dir.path().join("flash.img");
        let mut config = crate::support::qemu::config("band-qemu");
        config.flash_image = Some(flash.clone());
        Self {
            _dir: dir,
            flash,
            config,
        }
    }

    async fn launch(&self) -> Dut {
        harbor::dut::open(&DeviceConfig::Qemu(self.config.clone()))
            .await
            .unwrap_or_else(|e| panic!("launching band-qemu with a flash file: {e}"))
    }

    async fn relaunch(&self, target: Dut) -> Dut {
        relaunch(target, &self.config).await.expect("relaunch")
    }

    async fn reboot(&self, target: Dut) -> Dut {
        device::reboot_qemu(target, &self.config)
            .await
            .expect("reboot")
    }
}

async fn push(target: &mut Dut, r: &Release) -> Result<device::Pushed, OtaDeviceError> {
    device::push_update(target, &r.manifest.encode(), &r.image, MAX_CHUNK, |_, _| {}).await
}

async fn status(target: &mut Dut) -> DeviceOtaStatus {
    device::status(target).await.expect("OtaStatus")
}

/// Installs `r` (push, reboot, self-test, confirm) and returns the running band.
async fn install(band: &Band, mut target: Dut, r: &Release) -> Dut {
    push(&mut target, r).await.expect("push");
    let mut target = band.reboot(target).await;
    let s = status(&mut target).await;
    assert_eq!(s.version, r.manifest.version, "{s:?}");
    assert_eq!(s.state, Some(SlotState::PendingVerify), "{s:?}");
    assert!(s.self_test_passed, "{s:?}");
    device::confirm(&mut target).await.expect("confirm");
    target
}

/// The host interpreter's logits for `window` (the reference the band must equal).
fn host_logits(model: &[u8], window: &[i8]) -> Vec<i8> {
    let parsed = Model::parse(model).unwrap();
    let mut arena = vec![0u8; Interpreter::arena_required(&parsed).unwrap()];
    let mut interp = Interpreter::new(parsed, &mut arena).unwrap();
    interp.set_input(0, window).unwrap();
    interp.invoke().unwrap();
    interp.output(0).unwrap().iter().collect()
}

/// The band runs `name`'s model: logits equal the host reference on a few golden windows
/// (the two models disagree on these, so the check tells them apart).
async fn assert_runs(target: &mut Dut, name: &str) {
    let model = model_file(name, "model.tflite");
    for i in [1, 7, 20] {
        let window = golden_window(name, i);
        let got = target.infer(&window).await.expect("infer").logits;
        assert_eq!(got, host_logits(&model, &window), "{name} window {i}");
    }
}

#[tokio::test]
async fn update_runs_the_new_model_and_reports_its_version() {
    let band = Band::new();
    let mut target = band.launch().await;
    let s = status(&mut target).await;
    assert_eq!(
        (s.active_slot, s.state, s.version),
        (None, None, 0),
        "{s:?}"
    );
    assert!(
        target.infer(&golden_window(V1_MODEL, 0)).await.is_err(),
        "no model yet"
    );

    let v1 = Release::new(V1_MODEL, 1);
    let mut target = install(&band, target, &v1).await;
    assert_runs(&mut target, V1_MODEL).await;

    let v2 = Release::new(V2_MODEL, 2);
    let pushed = push(&mut target, &v2).await.expect("push v2");
    assert_eq!(pushed.slot, 1);
    assert_eq!(pushed.chunks as usize, v2.image.len().div_ceil(MAX_CHUNK));
    // Until the reboot the old model keeps running.
    assert_runs(&mut target, V1_MODEL).await;
    let mut target = band.reboot(target).await;
    let s = status(&mut target).await;
    assert_eq!(
        (s.active_slot, s.state, s.version, s.self_test_passed),
        (Some(1), Some(SlotState::PendingVerify), 2, true),
        "{s:?}"
    );
    assert_runs(&mut target, V2_MODEL).await;
    assert_eq!(device::confirm(&mut target).await.expect("confirm"), 2);
    // Persisted: a fresh QEMU on the same file boots v2, confirmed.
    let mut target = band.relaunch(target).await;
    // Virtual µs since reset (icount: 1 instruction = 1 ns): the boot-time verification.
    let lap = target.command("timestamp").await.expect("timestamp");
    println!("boot with a model in flash (verify + load), virtual time: {lap:?}");
    let s = status(&mut target).await;
    assert_eq!(
        (s.active_slot, s.state, s.version, s.min_version),
        (Some(1), Some(SlotState::Confirmed), 2, 2),
        "{s:?}"
    );
    assert_runs(&mut target, V2_MODEL).await;
}

#[tokio::test]
async fn tampered_unknown_key_and_downgrade_are_refused() {
    let band = Band::new();
    let target = band.launch().await;
    let mut target = install(&band, target, &Release::new(V1_MODEL, 3)).await;

    let mut tampered = Release::new(V2_MODEL, 4);
    tampered.image[100] ^= 0x01;
    let err = push(&mut target, &tampered).await.unwrap_err();
    assert_eq!(err.refusal(), Some("hash-mismatch"), "{err}");

    let mut bytes = Release::new(V2_MODEL, 4).manifest.encode();
    bytes[8] ^= 0x01; // version: signed
    let r = Release::new(V2_MODEL, 4);
    let err = device::push_update(&mut target, &bytes, &r.image, MAX_CHUNK, |_, _| {})
        .await
        .unwrap_err();
    assert_eq!(err.refusal(), Some("bad-signature"), "{err}");

    let mut rogue = Release::new(V2_MODEL, 4);
    rogue.manifest = rogue.manifest.sign(77, &[9; 32]);
    let err = push(&mut target, &rogue).await.unwrap_err();
    assert_eq!(err.refusal(), Some("unknown-key"), "{err}");

    for version in [2, 3] {
        let err = push(&mut target, &Release::new(V2_MODEL, version))
            .await
            .unwrap_err();
        assert_eq!(err.refusal(), Some("downgrade"), "{err}");
        assert!(
            matches!(err, OtaDeviceError::Refused { detail: 4, .. }),
            "{err}"
        );
    }

    // Signed, but for another band, or with another input contract than the running model.
    let r = Release::new(V2_MODEL, 5);
    let other_hw = Manifest::describe(
        5,
        &r.image,
        r.manifest.model_size,
        HardwareId::new("nrf52840-band").unwrap(),
        r.manifest.contract,
    )
    .sign(DEV_KEY_ID, &DEV_KEY_SEED);
    let err = device::push_update(
        &mut target,
        &other_hw.encode(),
        &r.image,
        MAX_CHUNK,
        |_, _| {},
    )
    .await
    .unwrap_err();
    assert_eq!(err.refusal(), Some("incompatible"), "{err}");
    let mut half = r.manifest.contract;
    half.window_len = 30;
    let mut short_image = r.image[..r.model_len()].to_vec();
    short_image.extend(vec![0u8; half.input_len() + usize::from(half.classes)]);
    let reshaped = Manifest::describe(
        5,
        &short_image,
        r.manifest.model_size,
        r.manifest.hardware_id,
        half,
    )
    .sign(DEV_KEY_ID, &DEV_KEY_SEED);
    let err = device::push_update(
        &mut target,
        &reshaped.encode(),
        &short_image,
        MAX_CHUNK,
        |_, _| {},
    )
    .await
    .unwrap_err();
    assert_eq!(err.refusal(), Some("incompatible"), "{err}");

    let s = status(&mut target).await;
    assert_eq!(
        (s.version, s.state),
        (3, Some(SlotState::Confirmed)),
        "{s:?}"
    );
    assert_ne!(s.last_error, "none");
    let mut target = band.reboot(target).await;
    let s = status(&mut target).await;
    assert_eq!((s.active_slot, s.version), (Some(0), 3), "{s:?}");
    assert_runs(&mut target, V1_MODEL).await;
}

#[tokio::test]
async fn failing_self_test_and_missing_confirm_roll_back() {
    let band = Band::new();
    let target = band.launch().await;
    let mut target = install(&band, target, &Release::new(V1_MODEL, 1)).await;

    // Correctly signed, but its expected logits are wrong: the self-test fails at boot.
    let mut bad = Release::new(V2_MODEL, 2);
    let last = bad.image.len() - 1;
    bad.image[last] = bad.image[last].wrapping_add(1);
    bad.resign();
    push(&mut target, &bad).await.expect("push");
    let mut target = band.reboot(target).await;
    let s = status(&mut target).await;
    assert_eq!(
        (s.active_slot, s.state, s.version, s.last_error),
        (Some(0), Some(SlotState::Confirmed), 1, "self-test-failed"),
        "{s:?}"
    );
    assert_runs(&mut target, V1_MODEL).await;

    // A good release that is never confirmed: the boot after next returns to v1.
    let good = Release::new(V2_MODEL, 2);
    push(&mut target, &good).await.expect("push");
    let mut target = band.reboot(target).await;
    let s = status(&mut target).await;
    assert_eq!(
        (s.version, s.state),
        (2, Some(SlotState::PendingVerify)),
        "{s:?}"
    );
    let mut target = band.reboot(target).await;
    let s = status(&mut target).await;
    assert_eq!(
        (s.active_slot, s.version, s.last_error),
        (Some(0), 1, "not-confirmed"),
        "{s:?}"
    );
    assert_runs(&mut target, V1_MODEL).await;
    assert_eq!(good.model_len(), model_file(V2_MODEL, "model.tflite").len());
}

// The power-cut sweep over an update and its confirm is `harbor::ota::sweep`, run once by
// scenarios/ota.yaml's `power cut at every flash write` (tests/cloud_ota_scenario.rs).

/// Requests out of sequence get named refusals, and the band stays usable.
#[tokio::test]
async fn out_of_sequence_requests_are_refused_with_named_errors() {
    use harbor_core::protocol::Request;
    let band = Band::new();
    let mut target = band.launch().await;
    let refusal = |r: Result<u32, harbor::dut::TargetError>| match r {
        Err(harbor::dut::TargetError::Rejected { detail, .. }) => {
            harbor_core::ota::error::code_name((detail >> 24) as u8)
        }
        other => panic!("expected a refusal, got {other:?}"),
    };
    let chunk = Request::OtaChunk {
        offset: 0,
        data: &[1, 2, 3],
    };
    assert_eq!(refusal(target.expect_ack(&chunk).await), "no-update");
    assert_eq!(
        refusal(target.expect_ack(&Request::OtaFinish).await),
        "no-update"
    );
    assert_eq!(
        refusal(target.expect_ack(&Request::OtaConfirm).await),
        "nothing-to-confirm"
    );
    let v1 = Release::new(V1_MODEL, 1);
    let manifest = v1.manifest.encode();
    let short = Request::OtaBegin {
        manifest: &manifest[..50],
    };
    assert_eq!(
        refusal(target.expect_ack(&short).await),
        "manifest-truncated"
    );

    assert_eq!(
        target
            .expect_ack(&Request::OtaBegin {
                manifest: &manifest
            })
            .await
            .unwrap(),
        0
    );
    let first = Request::OtaChunk {
        offset: 0,
        data: &v1.image[..500],
    };
    assert_eq!(target.expect_ack(&first).await.unwrap(), 500);
    let skip = Request::OtaChunk {
        offset: 900,
        data: &v1.image[900..1000],
    };
    match target.expect_ack(&skip).await {
        Err(harbor::dut::TargetError::Rejected { detail, .. }) => {
            assert_eq!(
                detail,
                (12 << 24) | 500,
                "out-of-order, expected offset 500"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        refusal(target.expect_ack(&Request::OtaFinish).await),
        "incomplete"
    );
    // Nothing was activated: the next boot has no model, and a full push still works.
    let mut target = band.reboot(target).await;
    assert_eq!(status(&mut target).await.active_slot, None);
    let mut target = install(&band, target, &v1).await;
    // Confirming a confirmed model changes nothing.
    assert_eq!(device::confirm(&mut target).await.unwrap(), 1);
    assert_eq!(status(&mut target).await.last_error, "none");
}

/// Power cuts inside the boot decision's own writes (NEW → PENDING_VERIFY, the rollback
/// record, ABORTED after a failed self-test): armed before reset through QEMU's fw_cfg.
#[tokio::test]
async fn power_cut_during_boot_time_writes_leaves_a_bootable_band() {
    let v1 = Release::new(V1_MODEL, 1);
    let v2 = Release::new(V2_MODEL, 2);
    let mut bad = Release::new(V2_MODEL, 2);
    let last = bad.image.len() - 1;
    bad.image[last] = bad.image[last].wrapping_add(1);
    bad.resign();

    let base = Band::new();
    let target = base.launch().await;
    install(&base, target, &v1).await.shutdown().await;
    // Flash states whose next boot writes: v2 pushed (first boot), v2 booted once and not
    // confirmed (rollback), a v2 whose self-test fails (abort, then rollback).
    let pushed = Band::copy_of(&base);
    let mut target = pushed.launch().await;
    push(&mut target, &v2).await.expect("push");
    target.shutdown().await;
    let unconfirmed = Band::copy_of(&pushed);
    unconfirmed.launch().await.shutdown().await;
    let failing = Band::copy_of(&base);
    let mut target = failing.launch().await;
    push(&mut target, &bad).await.expect("push");
    target.shutdown().await;

    let mut tried = 0;
    let mut bricked = Vec::new();
    for (what, state) in [
        ("first boot", &pushed),
        ("rollback", &unconfirmed),
        ("failed self-test", &failing),
    ] {
        let dry = Band::copy_of(state);
        let mut target = dry.launch().await;
        let boot_ops = status(&mut target).await.flash_ops;
        target.shutdown().await;
        assert!(boot_ops >= 2, "{what}: {boot_ops} flash operations at boot");
        for k in 0..boot_ops {
            let mut band = Band::copy_of(state);
            band.config.power_cut_at_boot = Some(k);
            match QemuTarget::launch(band.config.clone()).await {
                Err(harbor::dut::TargetError::Exited {
                    code: Some(0x70), ..
                }) => {}
                Err(e) => panic!("{what} cut {k}: {e}"),
                Ok(_) => panic!("{what} cut {k}: the band booted through its power cut"),
            }
            tried += 1;
            band.config.power_cut_at_boot = None;
            let mut target = band.launch().await;
            let s = status(&mut target).await;
            let name = match (s.active_slot, s.version) {
                (Some(_), 1) => V1_MODEL,
                (Some(_), 2) if what != "failed self-test" => V2_MODEL,
                _ => {
                    bricked.push(format!("{what} op {k}: {s:?}"));
                    continue;
                }
            };
            assert_runs(&mut target, name).await;
            target.shutdown().await;
        }
    }
    println!(
        "boot-time power cuts: {tried} cut points, {} unbootable",
        bricked.len()
    );
    assert!(tried >= 10, "{tried}");
    assert!(bricked.is_empty(), "{bricked:?}");
}
