//! The model slot: LoadModelChunk writes into it in order, LoadModelFinish checks the CRC.
//!
//! The board hands over the memory (a linker-reserved region), so the slot logic is the
//! same whether the bytes live in QEMU's RAM or, later, a flash partition.

use harbor_core::protocol::ErrorCause;
use harbor_core::protocol::crc::crc32c;

/// A refusal: the cause and its detail word (docs/protocol.md).
pub type Refusal = (ErrorCause, u32);

pub struct ModelSlot {
    bytes: &'static mut [u8],
    /// Bytes written contiguously from offset 0.
    next_offset: usize,
    /// Length of the model that passed its CRC check.
    valid_len: Option<usize>,
}

impl ModelSlot {
    pub fn new(bytes: &'static mut [u8]) -> Self {
        Self {
            bytes,
            next_offset: 0,
            valid_len: None,
        }
    }

    pub fn capacity(&self) -> u32 {
        self.bytes.len() as u32
    }

    /// Writes a chunk; chunks must arrive in order, and offset 0 starts a new model.
    /// Returns the number of bytes held so far.
    pub fn write_chunk(&mut self, offset: u32, data: &[u8]) -> Result<u32, Refusal> {
        let offset = offset as usize;
        if offset == 0 {
            self.next_offset = 0;
            self.valid_len = None;
        }
        if offset != self.next_offset {
            return Err((ErrorCause::ModelIncomplete, self.next_offset as u32));
        }
        let end = offset + data.len();
        let Some(dest) = self.bytes.get_mut(offset..end) else {
            return Err((ErrorCause::ModelTooLarge, self.capacity()));
        };
        dest.copy_from_slice(data);
        self.next_offset = end;
        Ok(end as u32)
    }

    /// Accepts the model if exactly `total_len` bytes arrived and their CRC-32C matches.
    pub fn finish(&mut self, total_len: u32, expected_crc: u32) -> Result<u32, Refusal> {
        let total_len = total_len as usize;
        if total_len > self.bytes.len() {
            return Err((ErrorCause::ModelTooLarge, self.capacity()));
        }
        if total_len != self.next_offset {
            return Err((ErrorCause::ModelIncomplete, self.next_offset as u32));
        }
        let actual = crc32c(&self.bytes[..total_len]);
        if actual != expected_crc {
            self.valid_len = None;
            return Err((ErrorCause::ModelCrcMismatch, actual));
        }
        self.valid_len = Some(total_len);
        Ok(actual)
    }

    /// Fills the slot with a model of `len` bytes that `fill` copies in (from flash, already
    /// verified by hash and signature); `false` if it does not fit or `fill` fails.
    pub fn load_with(&mut self, len: usize, fill: impl FnOnce(&mut [u8]) -> bool) -> bool {
        self.next_offset = 0;
        self.valid_len = None;
        let Some(dest) = self.bytes.get_mut(..len) else {
            return false;
        };
        if !fill(dest) {
            return false;
        }
        self.next_offset = len;
        self.valid_len = Some(len);
        true
    }

    /// The checked model, once LoadModelFinish accepted it.
    pub fn model(&self) -> Option<&[u8]> {
        self.valid_len.map(|n| &self.bytes[..n])
    }
}
