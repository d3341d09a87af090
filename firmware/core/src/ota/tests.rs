//! Host tests of the A/B logic over `SimFlash`, including the MCUboot-simulator-style sweep:
//! cut the power at every flash operation of an update (+ reboot + confirm) and check the
//! band always boots a slot whose signed image verifies.

use super::boot::{self, decide};
use super::keys::{DEV_KEY_ID, DEV_KEY_SEED, TRUSTED_KEYS};
use super::manifest::{HardwareId, InputContract, ManifestError};
use super::sim::{Cut, SimFlash};
use super::*;

const SECTOR: u32 = 4096;
const LAYOUT: Layout = Layout::new(0, SECTOR, 2);
const FLASH_LEN: usize = 6 * SECTOR as usize;
type Sim = SimFlash<FLASH_LEN>;

const CONTRACT: InputContract = InputContract {
    window_len: 4,
    channels: 2,
    classes: 3,
    input_scale: 0.5,
    input_zero_point: -7,
};
const MODEL_LEN: usize = 3000;

fn cfg() -> OtaConfig<'static> {
    OtaConfig {
        layout: LAYOUT,
        keys: TRUSTED_KEYS,
        device: DeviceProfile {
            hardware_id: HardwareId::new("esp32c3-band").unwrap(),
            channels: 2,
            max_window_len: 256,
            active: None,
        },
    }
}

/// A release image whose bytes depend on `version`, and its signed manifest.
fn release(version: u32) -> ([u8; MODEL_LEN + 11], [u8; MANIFEST_LEN]) {
    let image: [u8; MODEL_LEN + 11] = core::array::from_fn(|i| (i as u32 * 31 + version * 7) as u8);
    let m = Manifest::describe(
        version,
        &image,
        MODEL_LEN as u32,
        cfg().device.hardware_id,
        CONTRACT,
    )
    .sign(DEV_KEY_ID, &DEV_KEY_SEED);
    (image, m.encode())
}

fn push(f: &mut Sim, manifest: &[u8], image: &[u8], chunk: usize) -> Result<SlotImage, OtaError> {
    let cfg = cfg();
    let mut up = Updater::begin(f, &cfg, manifest)?;
    for (i, c) in image.chunks(chunk).enumerate() {
        up.write(f, &cfg, (i * chunk) as u32, c)?;
    }
    up.finish(f, &cfg, |_, _| Ok(()))
}

fn update(f: &mut Sim, version: u32) -> Result<SlotImage, OtaError> {
    let (image, manifest) = release(version);
    push(f, &manifest, &image, 1024)
}

/// Reboot; a pending image passes its self-test and is confirmed.
fn reboot_and_confirm(f: &mut Sim) -> Result<Boot, OtaError> {
    let b = decide(f, &cfg())?;
    if b.needs_self_test() {
        boot::confirm(f, &cfg())?;
    }
    Ok(b)
}

fn running_version(f: &mut Sim) -> Option<u32> {
    decide(f, &cfg())
        .unwrap()
        .active
        .map(|a| a.manifest.version)
}

fn provisioned_v1() -> Sim {
    let mut f = Sim::new(SECTOR);
    update(&mut f, 1).unwrap();
    let b = reboot_and_confirm(&mut f).unwrap();
    assert_eq!(b.active.unwrap().manifest.version, 1);
    f
}

#[test]
fn empty_flash_boots_without_a_model() {
    let mut f = Sim::new(SECTOR);
    let b = decide(&mut f, &cfg()).unwrap();
    assert_eq!(b.active, None);
    assert_eq!(b.state, None);
    assert_eq!(f.ops(), 0);
}

#[test]
fn update_boots_pending_then_confirmed_and_raises_the_floor() {
    let mut f = provisioned_v1();
    let image = update(&mut f, 2).unwrap();
    assert_eq!(image.slot, 1);
    let b = decide(&mut f, &cfg()).unwrap();
    assert_eq!(b.state, Some(SlotState::PendingVerify));
    assert_eq!(b.active.unwrap().manifest.version, 2);
    let rec = boot::confirm(&mut f, &cfg()).unwrap();
    assert_eq!((rec.state, rec.min_version), (SlotState::Confirmed, 2));
    let b = decide(&mut f, &cfg()).unwrap();
    assert_eq!(
        (b.state, b.active.unwrap().slot),
        (Some(SlotState::Confirmed), 1)
    );
    // And the next update goes back into slot A.
    assert_eq!(update(&mut f, 3).unwrap().slot, 0);
}

#[test]
fn unconfirmed_image_rolls_back_on_the_next_boot() {
    let mut f = provisioned_v1();
    update(&mut f, 2).unwrap();
    assert!(decide(&mut f, &cfg()).unwrap().needs_self_test());
    // No confirm: the next boot returns to v1 and says why.
    let b = decide(&mut f, &cfg()).unwrap();
    assert_eq!(b.active.unwrap().manifest.version, 1);
    assert_eq!(b.state, Some(SlotState::Confirmed));
    assert_eq!(b.last_error, OtaError::NotConfirmed.code());
}

#[test]
fn failed_self_test_rolls_back() {
    let mut f = provisioned_v1();
    update(&mut f, 2).unwrap();
    assert!(decide(&mut f, &cfg()).unwrap().needs_self_test());
    boot::abort(&mut f, &cfg(), OtaError::SelfTestFailed).unwrap();
    let b = decide(&mut f, &cfg()).unwrap();
    assert_eq!(b.active.unwrap().manifest.version, 1);
    assert_eq!(b.last_error, OtaError::SelfTestFailed.code());
    // v1 is still the floor, so a fixed v2 can be installed.
    update(&mut f, 2).unwrap();
}

#[test]
fn downgrade_and_same_version_are_refused() {
    let mut f = provisioned_v1();
    update(&mut f, 3).unwrap();
    reboot_and_confirm(&mut f).unwrap();
    for v in [1, 2, 3] {
        let err = update(&mut f, v).unwrap_err();
        assert_eq!(
            err,
            OtaError::Manifest(ManifestError::Downgrade {
                version: v,
                minimum: 4
            })
        );
    }
    assert_eq!(running_version(&mut f), Some(3));
}

#[test]
fn corrupted_or_truncated_image_is_refused_and_the_old_one_runs() {
    let mut f = provisioned_v1();
    let (mut image, manifest) = release(2);
    image[100] ^= 0x40;
    assert_eq!(
        push(&mut f, &manifest, &image, 512).unwrap_err(),
        OtaError::Manifest(ManifestError::HashMismatch)
    );
    let (image, manifest) = release(2);
    let cfg = cfg();
    let mut up = Updater::begin(&mut f, &cfg, &manifest).unwrap();
    up.write(&mut f, &cfg, 0, &image[..1000]).unwrap();
    assert_eq!(
        up.finish(&mut f, &cfg, |_, _| Ok(())).unwrap_err(),
        OtaError::Incomplete {
            written: 1000,
            expected: image.len() as u32
        }
    );
    assert_eq!(running_version(&mut f), Some(1));
}

#[test]
fn bad_signature_unknown_key_and_wrong_hardware_are_refused_at_begin() {
    let mut f = provisioned_v1();
    let (image, good) = release(2);
    let mut tampered = good;
    tampered[9] ^= 1; // version byte, signed
    assert_eq!(
        push(&mut f, &tampered, &image, 512).unwrap_err(),
        OtaError::Manifest(ManifestError::BadSignature)
    );
    let m = Manifest::decode(&good)
        .unwrap()
        .sign(42, &DEV_KEY_SEED)
        .encode();
    assert_eq!(
        push(&mut f, &m, &image, 512).unwrap_err(),
        OtaError::Manifest(ManifestError::UnknownKey { key_id: 42 })
    );
    let other = Manifest::describe(
        2,
        &image,
        MODEL_LEN as u32,
        HardwareId::new("esp32-band").unwrap(),
        CONTRACT,
    )
    .sign(DEV_KEY_ID, &DEV_KEY_SEED)
    .encode();
    assert_eq!(
        push(&mut f, &other, &image, 512).unwrap_err(),
        OtaError::Manifest(ManifestError::Incompatible {
            field: CompatField::HardwareId
        })
    );
    let four_classes = [0u8; MODEL_LEN + 12];
    let reshaped = Manifest::describe(
        2,
        &four_classes,
        MODEL_LEN as u32,
        cfg().device.hardware_id,
        InputContract {
            classes: 4,
            ..CONTRACT
        },
    )
    .sign(DEV_KEY_ID, &DEV_KEY_SEED)
    .encode();
    assert_eq!(
        push(&mut f, &reshaped, &four_classes, 512).unwrap_err(),
        OtaError::Manifest(ManifestError::Incompatible {
            field: CompatField::Classes
        })
    );
    assert_eq!(running_version(&mut f), Some(1));
}

#[test]
fn chunks_out_of_order_and_updates_while_pending_are_refused() {
    let mut f = provisioned_v1();
    let (image, manifest) = release(2);
    let cfg = cfg();
    let mut up = Updater::begin(&mut f, &cfg, &manifest).unwrap();
    up.write(&mut f, &cfg, 0, &image[..100]).unwrap();
    assert_eq!(
        up.write(&mut f, &cfg, 200, &image[200..300]).unwrap_err(),
        OtaError::OutOfOrder { expected: 100 }
    );
    update(&mut f, 2).unwrap();
    decide(&mut f, &cfg).unwrap();
    assert_eq!(update(&mut f, 3).unwrap_err(), OtaError::PendingVerify);
}

#[test]
fn a_torn_record_leaves_the_older_one_in_charge() {
    let mut f = provisioned_v1();
    let (newest, sector) = otadata::read_newest(&mut f, &LAYOUT).unwrap().unwrap();
    // Corrupt the newest record's CRC-covered bytes: the other sector's record is used.
    f.bytes_mut()[LAYOUT.otadata[sector] as usize + 12] ^= 0xFF;
    let (older, _) = otadata::read_newest(&mut f, &LAYOUT).unwrap().unwrap();
    assert!(older.seq < newest.seq);
}

#[test]
fn power_cut_at_every_flash_operation_never_bricks() {
    let base = provisioned_v1();
    // Dry run: how many flash operations an update to v2 plus reboot and confirm takes.
    let mut dry = base.clone();
    let start = dry.ops();
    update(&mut dry, 2).unwrap();
    reboot_and_confirm(&mut dry).unwrap();
    let total = dry.ops() - start;
    assert!(
        total >= 8,
        "an update should take several flash operations, took {total}"
    );

    let (mut tried, mut bricked, mut on_v2) = (0, 0, 0);
    for k in 0..total {
        for how in [Cut::Before, Cut::Torn] {
            let mut f = base.clone();
            f.cut_at(k, how);
            let outcome = update(&mut f, 2).and_then(|_| reboot_and_confirm(&mut f));
            assert_eq!(
                outcome.err(),
                Some(OtaError::Flash(FlashError::PowerCut)),
                "cut {k} {how:?}"
            );
            f.power_on();
            tried += 1;
            // Boot twice (the second boot sees what the first decided), each time a valid image.
            let mut versions = [0; 2];
            for v in &mut versions {
                let b = reboot_and_confirm(&mut f).unwrap();
                match b.active {
                    Some(a) if boot::verify_slot(&mut f, &cfg(), a.slot).is_ok() => {
                        *v = a.manifest.version
                    }
                    _ => {
                        bricked += 1;
                        break;
                    }
                }
            }
            assert!(
                versions.iter().all(|v| [1, 2].contains(v)),
                "cut {k} {how:?}: {versions:?}"
            );
            // Never back to v1 once v2 was confirmed.
            assert!(
                !(versions[0] == 2 && versions[1] == 1),
                "cut {k} {how:?}: {versions:?}"
            );
            if versions[1] == 2 {
                on_v2 += 1;
            } else {
                // The update can simply be retried.
                update(&mut f, 2).unwrap();
                reboot_and_confirm(&mut f).unwrap();
                assert_eq!(
                    running_version(&mut f),
                    Some(2),
                    "retry after cut {k} {how:?}"
                );
            }
        }
    }
    assert_eq!(tried, 2 * total);
    assert_eq!(bricked, 0);
    // Cuts late in the sequence (during confirm) must keep v2 or fall back, both seen.
    assert!(
        on_v2 > 0 && on_v2 < tried,
        "on v2 after {on_v2} of {tried} cuts"
    );
}
