//! Writing a release into the inactive slot: begin(manifest) → write(offset, chunk)… →
//! finish(). Everything is verified before the state record points at the new slot.

use super::boot::{OtaConfig, SlotImage, read_manifest, verify_slot};
use super::error::OtaError;
use super::flash::Flash;
use super::layout::{SlotIndex, other};
use super::manifest::{DeviceProfile, Manifest};
use super::otadata::{self, Record, SlotState};

/// An update in progress.
#[derive(Clone, Copy, Debug)]
pub struct Updater {
    slot: SlotIndex,
    manifest: Manifest,
    written: u32,
}

impl Updater {
    /// Checks the manifest (signature, hardware, the running model's input contract,
    /// anti-rollback), erases the inactive slot and stores the manifest in it.
    pub fn begin(
        flash: &mut impl Flash,
        cfg: &OtaConfig<'_>,
        manifest_bytes: &[u8],
    ) -> Result<Self, OtaError> {
        let manifest = Manifest::decode(manifest_bytes)?;
        let layout = &cfg.layout;
        let (slot, active, floor) = match otadata::read_newest(flash, layout)? {
            None => (0, None, 0),
            Some((rec, _)) => {
                if rec.state != SlotState::Confirmed {
                    return Err(OtaError::PendingVerify);
                }
                match read_manifest(flash, layout, rec.active) {
                    Ok(running) => (
                        other(rec.active),
                        Some(running.contract),
                        rec.min_version.max(running.version.saturating_add(1)),
                    ),
                    Err(_) => (other(rec.active), None, rec.min_version),
                }
            }
        };
        manifest.check_release(
            cfg.keys,
            &DeviceProfile {
                active,
                ..cfg.device
            },
            floor,
        )?;
        if manifest.image_size > layout.max_image() {
            return Err(OtaError::TooLarge {
                limit: layout.max_image(),
            });
        }
        let base = layout.slots[usize::from(slot)];
        let mut addr = base;
        while addr < base + layout.slot_size {
            flash.erase_sector(addr)?;
            addr += layout.sector_size;
        }
        flash.program(base, &manifest.encode())?;
        Ok(Self {
            slot,
            manifest,
            written: 0,
        })
    }

    /// The manifest of the update in progress.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The slot being written.
    pub fn slot(&self) -> SlotIndex {
        self.slot
    }

    /// Image bytes written so far.
    pub fn written(&self) -> u32 {
        self.written
    }

    /// Programs the next chunk; chunks arrive in order. Returns the bytes written.
    pub fn write(
        &mut self,
        flash: &mut impl Flash,
        cfg: &OtaConfig<'_>,
        offset: u32,
        data: &[u8],
    ) -> Result<u32, OtaError> {
        if offset != self.written {
            return Err(OtaError::OutOfOrder {
                expected: self.written,
            });
        }
        let end = u32::try_from(data.len())
            .ok()
            .and_then(|n| offset.checked_add(n))
            .filter(|&end| end <= self.manifest.image_size)
            .ok_or(OtaError::TooLarge {
                limit: self.manifest.image_size,
            })?;
        flash.program(cfg.layout.image_addr(self.slot) + offset, data)?;
        self.written = end;
        Ok(end)
    }

    /// Verifies what is really in flash (manifest signature, image hash), runs `check`
    /// (the firmware's model checks), then points the state record at the new slot (NEW).
    pub fn finish<F: Flash>(
        self,
        flash: &mut F,
        cfg: &OtaConfig<'_>,
        check: impl FnOnce(&mut F, &SlotImage) -> Result<(), OtaError>,
    ) -> Result<SlotImage, OtaError> {
        if self.written != self.manifest.image_size {
            return Err(OtaError::Incomplete {
                written: self.written,
                expected: self.manifest.image_size,
            });
        }
        let image = verify_slot(flash, cfg, self.slot)?;
        if image.manifest != self.manifest {
            // The slot changed under us; never activate something not begun here.
            return Err(OtaError::Manifest(
                super::manifest::ManifestError::HashMismatch,
            ));
        }
        check(flash, &image)?;
        let min_version =
            otadata::read_newest(flash, &cfg.layout)?.map_or(0, |(r, _)| r.min_version);
        otadata::write_next(
            flash,
            &cfg.layout,
            Record {
                seq: 0,
                active: self.slot,
                state: SlotState::New,
                last_error: 0,
                min_version,
            },
        )?;
        Ok(image)
    }
}
