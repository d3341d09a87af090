//! The OTA flash (optional: a board without one returns `None` from `Board::ota_flash`, and
//! the band answers OTA requests with `ota-refused`). EXAMPLE controller, made up: a
//! memory-mapped NOR array read directly, erased and programmed through three registers.
//! docs/ota-device.md has the slot layout the OTA code puts on it.

use band_app::BandFlash;
use harbor_core::ota::{Flash, FlashError};

/// Where the flash array is mapped for reads (EXAMPLE), and its geometry.
const ARRAY_BASE: usize = 0x2100_0000;
const SIZE: u32 = 2 * 1024 * 1024;
const SECTOR: u32 = 4096;

// EXAMPLE flash controller registers.
const CTRL_BASE: usize = 0x6000_3000;
const CTRL_ADDR: usize = CTRL_BASE;
const CTRL_DATA: usize = CTRL_BASE + 0x04;
const CTRL_CMD: usize = CTRL_BASE + 0x08;
const CTRL_STATUS: usize = CTRL_BASE + 0x0C;
const CMD_PROGRAM_WORD: u32 = 1;
const CMD_ERASE_SECTOR: u32 = 2;
const STATUS_BUSY: u32 = 1 << 0;
const STATUS_ERROR: u32 = 1 << 1;

fn read_reg(addr: usize) -> u32 {
    // SAFETY: the example controller's registers.
    unsafe { core::ptr::read_volatile(addr as *const u32) }
}

fn write_reg(addr: usize, v: u32) {
    // SAFETY: as read_reg.
    unsafe { core::ptr::write_volatile(addr as *mut u32, v) }
}

pub struct ExampleFlash {
    ops: u32,
    /// The power-cut test hook: reset after this many more operations.
    cut_at: Option<u32>,
}

impl ExampleFlash {
    pub const fn new() -> Self {
        Self {
            ops: 0,
            cut_at: None,
        }
    }

    fn check(addr: u32, len: usize) -> Result<(), FlashError> {
        match addr.checked_add(len as u32) {
            Some(end) if end <= SIZE => Ok(()),
            _ => Err(FlashError::OutOfBounds { addr }),
        }
    }

    /// Runs one controller command to completion; counts it for the power-cut hook.
    fn command(&mut self, addr: u32, data: u32, cmd: u32) -> Result<(), FlashError> {
        if self.cut_at.is_some_and(|at| self.ops >= at) {
            // A power cut on a board is a reset before the operation reaches the flash.
            crate::board::reset();
        }
        self.ops += 1;
        write_reg(CTRL_ADDR, addr);
        write_reg(CTRL_DATA, data);
        write_reg(CTRL_CMD, cmd);
        let status = loop {
            let s = read_reg(CTRL_STATUS);
            if s & STATUS_BUSY == 0 {
                break s;
            }
        };
        if status & STATUS_ERROR != 0 {
            return Err(FlashError::Device {
                status: status as u8,
            });
        }
        Ok(())
    }

    fn array(&self) -> &'static [u8] {
        // SAFETY: the array is mapped read-only at ARRAY_BASE for SIZE bytes.
        unsafe { core::slice::from_raw_parts(ARRAY_BASE as *const u8, SIZE as usize) }
    }
}

impl Flash for ExampleFlash {
    fn sector_size(&self) -> u32 {
        SECTOR
    }

    fn capacity(&self) -> u32 {
        SIZE
    }

    fn read(&mut self, addr: u32, buf: &mut [u8]) -> Result<(), FlashError> {
        Self::check(addr, buf.len())?;
        let start = addr as usize;
        buf.copy_from_slice(&self.array()[start..start + buf.len()]);
        Ok(())
    }

    fn erase_sector(&mut self, addr: u32) -> Result<(), FlashError> {
        Self::check(addr, SECTOR as usize)?;
        if addr % SECTOR != 0 {
            return Err(FlashError::OutOfBounds { addr });
        }
        self.command(addr, 0, CMD_ERASE_SECTOR)
    }

    fn program(&mut self, addr: u32, data: &[u8]) -> Result<(), FlashError> {
        Self::check(addr, data.len())?;
        // Word by word; bytes outside `data` stay 0xFF (NOR keeps what is already 0).
        let mut offset = 0usize;
        while offset < data.len() {
            let at = addr as usize + offset;
            let word_addr = at & !3;
            let mut word = [0xFFu8; 4];
            let lead = at - word_addr;
            let n = (4 - lead).min(data.len() - offset);
            word[lead..lead + n].copy_from_slice(&data[offset..offset + n]);
            let old = &self.array()[word_addr..word_addr + 4];
            for (i, (&new, &was)) in word.iter().zip(old).enumerate() {
                if new & !was != 0 {
                    return Err(FlashError::NotErased {
                        addr: (word_addr + i) as u32,
                    });
                }
            }
            self.command(word_addr as u32, u32::from_le_bytes(word), CMD_PROGRAM_WORD)?;
            offset += n;
        }
        Ok(())
    }
}

impl BandFlash for ExampleFlash {
    fn ops(&self) -> u32 {
        self.ops
    }

    fn arm_power_cut(&mut self, after_ops: u32) {
        self.cut_at = Some(self.ops.saturating_add(after_ops));
    }

    fn mapped(&self, addr: u32, len: u32) -> Option<&[u8]> {
        Self::check(addr, len as usize).ok()?;
        Some(&self.array()[addr as usize..(addr + len) as usize])
    }
}
