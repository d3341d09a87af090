//! Where the OTA state and the two model slots live in flash.
//!
//! ```text
//! otadata[0] | otadata[1] | slot A | slot B        (each region whole sectors)
//! slot: manifest (164 B) at 0, image at IMAGE_OFFSET
//! ```

use super::manifest::MANIFEST_LEN;

/// Offset of the image inside a slot (after the manifest, word-aligned with room to spare).
pub const IMAGE_OFFSET: u32 = 256;
const _: () = assert!(MANIFEST_LEN as u32 <= IMAGE_OFFSET);

/// Slot index: A = 0, B = 1.
pub type SlotIndex = u8;

/// Where the OTA state records and the two model slots sit in flash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// Erase granularity in bytes.
    pub sector_size: u32,
    /// Address of the two state-record sectors.
    pub otadata: [u32; 2],
    /// Address of the two model slots.
    pub slots: [u32; 2],
    /// Bytes per slot (a multiple of the sector size).
    pub slot_size: u32,
}

impl Layout {
    /// Two otadata sectors from `base`, then two slots of `slot_sectors` sectors each.
    pub const fn new(base: u32, sector_size: u32, slot_sectors: u32) -> Self {
        let slot_size = sector_size * slot_sectors;
        let a = base + 2 * sector_size;
        Self {
            sector_size,
            otadata: [base, base + sector_size],
            slots: [a, a + slot_size],
            slot_size,
        }
    }

    /// First byte past the layout.
    pub const fn end(&self) -> u32 {
        self.slots[1] + self.slot_size
    }

    /// Largest image a slot holds.
    pub const fn max_image(&self) -> u32 {
        self.slot_size - IMAGE_OFFSET
    }

    /// Flash address of the image in `slot` (after its manifest).
    pub const fn image_addr(&self, slot: SlotIndex) -> u32 {
        self.slots[slot as usize] + IMAGE_OFFSET
    }
}

/// The slot that is not `slot`.
pub const fn other(slot: SlotIndex) -> SlotIndex {
    1 - slot
}
