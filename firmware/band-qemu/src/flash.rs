//! QEMU `virt`'s second CFI flash bank (pflash unit 1 at 0x2200_0000, 32 MiB, 256 KiB
//! sectors, Intel/Sharp command set "CFI01", 32-bit bank of two 16-bit devices) as the
//! band's persistent OTA flash. The harness backs it with a file
//! (`-drive if=pflash,unit=1,format=raw,file=…`), so writes survive a QEMU restart.
//!
//! QEMU's model stores a programmed word as is (it does not AND it into the old value like
//! real NOR), so `program` reads the old word and writes `old & new`: NOR semantics.

use band_app::BandFlash;
use harbor_core::ota::{Flash, FlashError};
use harbor_core::protocol::message::EXIT_POWER_CUT;

const BASE: usize = 0x2200_0000;
const SIZE: u32 = 32 * 1024 * 1024;
const SECTOR: u32 = 256 * 1024;

const CMD_READ_ARRAY: u32 = 0xFF;
const CMD_PROGRAM: u32 = 0x40;
const CMD_ERASE: u32 = 0x20;
const CMD_ERASE_CONFIRM: u32 = 0xD0;
const CMD_CLEAR_STATUS: u32 = 0x50;
const STATUS_READY: u32 = 0x80;
/// Erase error (0x20), program error (0x10, e.g. a read-only drive), lock error (0x02).
const STATUS_ERRORS: u32 = 0x32;

pub struct PFlash {
    ops: u32,
    /// Power off when `ops` reaches this.
    cut_at: Option<u32>,
}

fn write32(offset: u32, v: u32) {
    // SAFETY: offsets are checked against SIZE; the bank is MMIO/ROM-device memory.
    unsafe { core::ptr::write_volatile((BASE + offset as usize) as *mut u32, v) }
}

fn read32(offset: u32) -> u32 {
    // SAFETY: as write32.
    unsafe { core::ptr::read_volatile((BASE + offset as usize) as *const u32) }
}

impl PFlash {
    pub const fn new() -> Self {
        Self {
            ops: 0,
            cut_at: None,
        }
    }

    /// Counts one erase/program; the armed power cut fires before the operation starts.
    fn begin_op(&mut self) {
        if self.cut_at.is_some_and(|at| self.ops >= at) {
            crate::board::exit_qemu(EXIT_POWER_CUT);
        }
        self.ops += 1;
    }

    /// After a command: wait for ready, read and clear the status, back to read-array.
    fn finish_command(&mut self, offset: u32) -> Result<(), FlashError> {
        let status = loop {
            let s = read32(offset) & 0xFF;
            if s & STATUS_READY != 0 {
                break s;
            }
        };
        write32(offset, CMD_CLEAR_STATUS);
        write32(offset, CMD_READ_ARRAY);
        if status & STATUS_ERRORS != 0 {
            return Err(FlashError::Device {
                status: status as u8,
            });
        }
        Ok(())
    }

    fn check(addr: u32, len: usize) -> Result<(), FlashError> {
        match addr.checked_add(len as u32) {
            Some(end) if end <= SIZE => Ok(()),
            _ => Err(FlashError::OutOfBounds { addr }),
        }
    }
}

impl Flash for PFlash {
    fn sector_size(&self) -> u32 {
        SECTOR
    }

    fn capacity(&self) -> u32 {
        SIZE
    }

    fn read(&mut self, addr: u32, buf: &mut [u8]) -> Result<(), FlashError> {
        Self::check(addr, buf.len())?;
        for (i, b) in buf.iter_mut().enumerate() {
            // SAFETY: inside the bank (checked); read-array mode between operations.
            *b = unsafe { core::ptr::read_volatile((BASE + addr as usize + i) as *const u8) };
        }
        Ok(())
    }

    fn erase_sector(&mut self, addr: u32) -> Result<(), FlashError> {
        if !addr.is_multiple_of(SECTOR) {
            return Err(FlashError::OutOfBounds { addr });
        }
        Self::check(addr, SECTOR as usize)?;
        self.begin_op();
        write32(addr, CMD_ERASE);
        write32(addr, CMD_ERASE_CONFIRM);
        self.finish_command(addr)
    }

    fn program(&mut self, addr: u32, data: &[u8]) -> Result<(), FlashError> {
        Self::check(addr, data.len())?;
        if data.is_empty() {
            return Ok(());
        }
        self.begin_op();
        let first = addr & !3;
        let end = addr + data.len() as u32;
        let mut word_addr = first;
        while word_addr < end {
            // Bytes of this word outside `data` stay 0xFF (leave the old bits alone).
            let mut new = [0xFFu8; 4];
            for (k, byte) in new.iter_mut().enumerate() {
                let a = word_addr + k as u32;
                if a >= addr && a < end {
                    *byte = data[(a - addr) as usize];
                }
            }
            let old = read32(word_addr);
            let merged = old & u32::from_le_bytes(new);
            if merged != old {
                write32(word_addr, CMD_PROGRAM);
                write32(word_addr, merged);
                self.finish_command(word_addr)?;
            }
            word_addr += 4;
        }
        Ok(())
    }
}

impl BandFlash for PFlash {
    fn ops(&self) -> u32 {
        self.ops
    }

    fn arm_power_cut(&mut self, after_ops: u32) {
        self.cut_at = Some(self.ops.saturating_add(after_ops));
    }

    fn mapped(&self, addr: u32, len: u32) -> Option<&[u8]> {
        Self::check(addr, len as usize).ok()?;
        // SAFETY: inside the bank; every operation ends in read-array mode and needs
        // `&mut self`, so the bytes cannot change while this borrow lives.
        Some(unsafe {
            core::slice::from_raw_parts((BASE + addr as usize) as *const u8, len as usize)
        })
    }
}
