//! The state record, kept in two sectors so a power cut while writing one leaves the other
//! (ESP-IDF's otadata scheme): each write goes to the sector *not* holding the newest valid
//! record, with a higher sequence number and a CRC; at boot the newest valid record wins.
//!
//! ```text
//! offset len field
//!  0      4  magic "HOTD"
//!  4      4  sequence number (newest valid wins)
//!  8      1  active slot (0 = A, 1 = B)
//!  9      1  state (1 NEW, 2 PENDING_VERIFY, 3 CONFIRMED, 4 ABORTED)
//! 10      1  last error code (0 = none; `OtaError::code`)
//! 11      1  reserved, 0
//! 12      4  anti-rollback floor: lowest version the band may run
//! 16     12  reserved, 0
//! 28      4  CRC-32C of bytes 0..28
//! ```

use super::flash::{Flash, FlashError};
use super::layout::{Layout, SlotIndex};
use crate::protocol::crc::crc32c;

/// First four bytes of a state record.
pub const MAGIC: [u8; 4] = *b"HOTD";
/// Bytes of an encoded state record.
pub const RECORD_LEN: usize = 32;

/// Where the active slot is in its life (ESP-IDF's `esp_ota_img_states_t`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum SlotState {
    /// Written and verified; not booted yet.
    New = 1,
    /// Booted once; must be confirmed before the next boot or it is rolled back.
    PendingVerify = 2,
    /// Self-test passed: the slot stays active across boots.
    Confirmed = 3,
    /// Failed its self-test; the next boot decision rolls back.
    Aborted = 4,
}

impl SlotState {
    /// The state for its record byte; `None` for an unknown value.
    pub const fn from_u8(b: u8) -> Option<Self> {
        Some(match b {
            1 => Self::New,
            2 => Self::PendingVerify,
            3 => Self::Confirmed,
            4 => Self::Aborted,
            _ => return None,
        })
    }

    /// Lower-case name used in status reports.
    pub const fn name(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::PendingVerify => "pending-verify",
            Self::Confirmed => "confirmed",
            Self::Aborted => "aborted",
        }
    }
}

/// The OTA state record: which slot boots and in what state; the higher `seq` of the two copies wins.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record {
    /// Write counter; the valid copy with the larger one is current.
    pub seq: u32,
    /// Slot to boot.
    pub active: SlotIndex,
    /// Where the active slot is in its life.
    pub state: SlotState,
    /// Last [`OtaError`](super::OtaError) code (e.g. why it rolled back), 0 if none.
    pub last_error: u8,
    /// Anti-rollback floor: versions below it are refused.
    pub min_version: u32,
}

impl Record {
    /// The record's 32 bytes, CRC included.
    pub fn encode(&self) -> [u8; RECORD_LEN] {
        let mut out = [0u8; RECORD_LEN];
        out[..4].copy_from_slice(&MAGIC);
        out[4..8].copy_from_slice(&self.seq.to_le_bytes());
        out[8] = self.active;
        out[9] = self.state as u8;
        out[10] = self.last_error;
        out[12..16].copy_from_slice(&self.min_version.to_le_bytes());
        let crc = crc32c(&out[..28]);
        out[28..].copy_from_slice(&crc.to_le_bytes());
        out
    }

    /// `None` for anything but a whole, CRC-valid record (erased, torn, garbage).
    pub fn decode(bytes: &[u8; RECORD_LEN]) -> Option<Self> {
        let u32_at =
            |o: usize| u32::from_le_bytes([bytes[o], bytes[o + 1], bytes[o + 2], bytes[o + 3]]);
        if bytes[..4] != MAGIC || crc32c(&bytes[..28]) != u32_at(28) {
            return None;
        }
        if bytes[8] > 1 || bytes[11] != 0 || bytes[16..28].iter().any(|&b| b != 0) {
            return None;
        }
        Some(Self {
            seq: u32_at(4),
            active: bytes[8],
            state: SlotState::from_u8(bytes[9])?,
            last_error: bytes[10],
            min_version: u32_at(12),
        })
    }
}

/// The newest valid record and which otadata sector holds it.
pub fn read_newest(
    flash: &mut impl Flash,
    layout: &Layout,
) -> Result<Option<(Record, usize)>, FlashError> {
    let mut newest: Option<(Record, usize)> = None;
    for (i, &addr) in layout.otadata.iter().enumerate() {
        let mut raw = [0u8; RECORD_LEN];
        flash.read(addr, &mut raw)?;
        if let Some(r) = Record::decode(&raw)
            && newest.is_none_or(|(n, _)| r.seq > n.seq)
        {
            newest = Some((r, i));
        }
    }
    Ok(newest)
}

/// Writes `record` (its `seq` is set here) into the sector not holding the newest one:
/// erase, then program. A cut in between leaves the older sector as the newest valid.
pub fn write_next(
    flash: &mut impl Flash,
    layout: &Layout,
    mut record: Record,
) -> Result<Record, FlashError> {
    let newest = read_newest(flash, layout)?;
    let (seq, target) = match newest {
        Some((r, i)) => (r.seq.wrapping_add(1), 1 - i),
        None => (1, 0),
    };
    record.seq = seq;
    let addr = layout.otadata[target];
    flash.erase_sector(addr)?;
    flash.program(addr, &record.encode())?;
    Ok(record)
}
