//! The boot decision, slot verification, confirm and abort.

use super::error::OtaError;
use super::flash::Flash;
use super::keys::TrustedKey;
use super::layout::{Layout, SlotIndex, other};
use super::manifest::{DeviceProfile, ImageHasher, MANIFEST_LEN, Manifest};
use super::otadata::{self, Record, SlotState};

/// What the OTA code needs to know about this band.
#[derive(Clone, Copy, Debug)]
pub struct OtaConfig<'k> {
    /// Flash addresses of the state records and the two slots.
    pub layout: Layout,
    /// Public keys a release manifest may be signed with.
    pub keys: &'k [TrustedKey],
    /// The band's hardware and input path; `active` is filled in per check.
    pub device: DeviceProfile,
}

/// A slot whose manifest and image verified.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SlotImage {
    /// Which slot (A = 0, B = 1).
    pub slot: SlotIndex,
    /// The slot's decoded and verified manifest.
    pub manifest: Manifest,
    /// Flash address of the image.
    pub image_addr: u32,
}

/// What to run after this boot.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Boot {
    /// The verified image to run; `None`: no bootable model (wait for one over the link).
    pub active: Option<SlotImage>,
    /// The record's state after the decision (`None`: no record yet).
    pub state: Option<SlotState>,
    /// Last error code the record carries (e.g. why it rolled back), 0 if none.
    pub last_error: u8,
    /// Anti-rollback floor: versions below it are refused.
    pub min_version: u32,
}

impl Boot {
    /// A first boot of this image: run the self-test, then confirm or abort.
    pub fn needs_self_test(&self) -> bool {
        self.state == Some(SlotState::PendingVerify)
    }
}

/// Reads the manifest stored in `slot` (layout only, no verification).
pub fn read_manifest(
    flash: &mut impl Flash,
    layout: &Layout,
    slot: SlotIndex,
) -> Result<Manifest, OtaError> {
    let mut raw = [0u8; MANIFEST_LEN];
    flash.read(layout.slots[usize::from(slot)], &mut raw)?;
    Ok(Manifest::decode(&raw)?)
}

/// Checks that `slot` holds a signed manifest for this hardware and the image it names.
pub fn verify_slot(
    flash: &mut impl Flash,
    cfg: &OtaConfig<'_>,
    slot: SlotIndex,
) -> Result<SlotImage, OtaError> {
    let manifest = read_manifest(flash, &cfg.layout, slot)?;
    manifest.verify_signature(cfg.keys)?;
    manifest.check_compatible(&DeviceProfile {
        active: None,
        ..cfg.device
    })?;
    if manifest.image_size > cfg.layout.max_image() {
        return Err(OtaError::TooLarge {
            limit: cfg.layout.max_image(),
        });
    }
    let image_addr = cfg.layout.image_addr(slot);
    let hash = hash_flash(flash, image_addr, manifest.image_size)?;
    manifest.check_image_hash(manifest.image_size, &hash)?;
    Ok(SlotImage {
        slot,
        manifest,
        image_addr,
    })
}

/// SHA-256 of `len` flash bytes from `addr`.
pub fn hash_flash(flash: &mut impl Flash, addr: u32, len: u32) -> Result<[u8; 32], OtaError> {
    let mut hasher = ImageHasher::new();
    let mut buf = [0u8; 256];
    let mut done = 0u32;
    while done < len {
        let n = (len - done).min(buf.len() as u32) as usize;
        flash.read(addr + done, &mut buf[..n])?;
        hasher.update(&buf[..n]);
        done += n as u32;
    }
    Ok(hasher.finish())
}

/// Decides what to boot, writing the state record where the decision changes it:
/// NEW → PENDING_VERIFY (booted once); PENDING_VERIFY (never confirmed) or ABORTED → roll
/// back to the other slot; a slot that does not verify → the other slot, if it does.
pub fn decide(flash: &mut impl Flash, cfg: &OtaConfig<'_>) -> Result<Boot, OtaError> {
    let Some((rec, _)) = otadata::read_newest(flash, &cfg.layout)? else {
        return Ok(Boot {
            active: None,
            state: None,
            last_error: 0,
            min_version: 0,
        });
    };
    match rec.state {
        SlotState::New => match verify_runnable(flash, cfg, rec.active, rec.min_version) {
            Ok(image) => {
                let rec = otadata::write_next(
                    flash,
                    &cfg.layout,
                    Record {
                        state: SlotState::PendingVerify,
                        ..rec
                    },
                )?;
                Ok(boot_of(Some(image), &rec))
            }
            Err(e) => rollback(flash, cfg, &rec, e.code()),
        },
        SlotState::PendingVerify => rollback(flash, cfg, &rec, OtaError::NotConfirmed.code()),
        SlotState::Aborted => {
            let why = if rec.last_error != 0 {
                rec.last_error
            } else {
                OtaError::SelfTestFailed.code()
            };
            rollback(flash, cfg, &rec, why)
        }
        SlotState::Confirmed => match verify_runnable(flash, cfg, rec.active, rec.min_version) {
            Ok(image) => Ok(boot_of(Some(image), &rec)),
            Err(e) => rollback(flash, cfg, &rec, e.code()),
        },
    }
}

fn verify_runnable(
    flash: &mut impl Flash,
    cfg: &OtaConfig<'_>,
    slot: SlotIndex,
    min_version: u32,
) -> Result<SlotImage, OtaError> {
    let image = verify_slot(flash, cfg, slot)?;
    image.manifest.check_version(min_version)?;
    Ok(image)
}

fn rollback(
    flash: &mut impl Flash,
    cfg: &OtaConfig<'_>,
    rec: &Record,
    why: u8,
) -> Result<Boot, OtaError> {
    let back = other(rec.active);
    match verify_runnable(flash, cfg, back, rec.min_version) {
        Ok(image) => {
            let rec = otadata::write_next(
                flash,
                &cfg.layout,
                Record {
                    active: back,
                    state: SlotState::Confirmed,
                    last_error: why,
                    ..*rec
                },
            )?;
            Ok(boot_of(Some(image), &rec))
        }
        // Nothing verifies: boot without a model, leave the record for a later update.
        Err(_) => Ok(Boot {
            active: None,
            state: Some(rec.state),
            last_error: why,
            min_version: rec.min_version,
        }),
    }
}

fn boot_of(active: Option<SlotImage>, rec: &Record) -> Boot {
    Boot {
        active,
        state: Some(rec.state),
        last_error: rec.last_error,
        min_version: rec.min_version,
    }
}

/// The running image passed its checks: PENDING_VERIFY → CONFIRMED, and the anti-rollback
/// floor rises to its version. Confirming a confirmed image changes nothing.
pub fn confirm(flash: &mut impl Flash, cfg: &OtaConfig<'_>) -> Result<Record, OtaError> {
    let Some((rec, _)) = otadata::read_newest(flash, &cfg.layout)? else {
        return Err(OtaError::NothingToConfirm);
    };
    match rec.state {
        SlotState::Confirmed => Ok(rec),
        SlotState::PendingVerify => {
            let version = read_manifest(flash, &cfg.layout, rec.active)?.version;
            Ok(otadata::write_next(
                flash,
                &cfg.layout,
                Record {
                    state: SlotState::Confirmed,
                    last_error: 0,
                    min_version: rec.min_version.max(version),
                    ..rec
                },
            )?)
        }
        SlotState::New | SlotState::Aborted => Err(OtaError::NothingToConfirm),
    }
}

/// The running PENDING_VERIFY image failed (`why`): mark it ABORTED; the next
/// [`decide`] rolls back.
pub fn abort(
    flash: &mut impl Flash,
    cfg: &OtaConfig<'_>,
    why: OtaError,
) -> Result<Record, OtaError> {
    let Some((rec, _)) = otadata::read_newest(flash, &cfg.layout)? else {
        return Err(OtaError::NothingToConfirm);
    };
    if rec.state != SlotState::PendingVerify {
        return Err(OtaError::NothingToConfirm);
    }
    Ok(otadata::write_next(
        flash,
        &cfg.layout,
        Record {
            state: SlotState::Aborted,
            last_error: why.code(),
            ..rec
        },
    )?)
}
