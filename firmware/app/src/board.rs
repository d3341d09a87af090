//! What the application needs from a band: a byte channel, counters, stack figures, exit.
//!
//! `band-qemu` implements it on QEMU `virt` (`minstret` under -icount); `band-esp32c3` on
//! the ESP32-C3 (its performance counter CSRs 0x7E0–0x7E2, esp-hal's UART).

use core::fmt;

use harbor_core::ota::Flash;

/// The band's persistent flash, as the OTA code and its test hook need it.
pub trait BandFlash: Flash {
    /// Erase + program operations since boot.
    fn ops(&self) -> u32;
    /// Test hook: after `after_ops` more operations the band powers off at once.
    fn arm_power_cut(&mut self, after_ops: u32);
    /// The flash bytes `[addr, addr + len)` as memory (XIP), if the flash is mapped.
    fn mapped(&self, addr: u32, len: u32) -> Option<&[u8]>;
}

pub trait Board {
    /// Blocks until a byte arrives, sleeping (not spinning) while the line is idle.
    fn read_byte(&mut self) -> u8;
    fn write_bytes(&mut self, bytes: &[u8]);
    /// Retired instructions since reset (or since the counter was started).
    fn instructions(&self) -> u64;
    /// Microseconds since reset.
    fn micros(&self) -> u64;
    /// Whether `micros` is a real clock worth reporting as an inference's wall time.
    /// An emulator's clock is not (under -icount it only restates the instruction count).
    fn measures_wall_time(&self) -> bool {
        false
    }
    fn stack(&self) -> StackUsage;
    /// Ends the run: code 0 is success (an emulator exits; a real board resets).
    fn exit(&mut self, code: u32) -> !;
    /// The flash OTA updates are written to; `None` on a board without one (yet).
    fn ota_flash(&mut self) -> Option<&mut dyn BandFlash> {
        None
    }

    /// The shared-RAM mailbox (`harbor_core::protocol::mailbox`): only an emulated band
    /// whose host can write its RAM has one. The host writes it only while no request runs.
    fn mailbox(&mut self) -> Option<core::ptr::NonNull<[u8]>> {
        None
    }

    fn out(&mut self) -> Out<'_, Self>
    where
        Self: Sized,
    {
        Out(self)
    }
}

#[derive(Clone, Copy, Debug)]
pub struct StackUsage {
    pub size: u32,
    /// Deepest use since boot, from the painted stack.
    pub high_water: u32,
}

/// Stack use of a descending stack `[bottom, top)` painted with `paint` at start-up: the
/// first word from the bottom that lost its paint marks the deepest point ever reached.
///
/// # Safety
/// `[bottom, top)` must be readable, word-aligned memory (the board's stack region).
pub unsafe fn stack_high_water(bottom: usize, top: usize, paint: u32) -> StackUsage {
    let mut addr = bottom;
    // SAFETY: the caller guarantees the range is the readable, aligned stack.
    while addr < top && unsafe { core::ptr::read_volatile(addr as *const u32) } == paint {
        addr += 4;
    }
    StackUsage {
        size: (top - bottom) as u32,
        high_water: (top - addr) as u32,
    }
}

/// `core::fmt::Write` over a board's UART.
pub struct Out<'b, B: Board>(&'b mut B);

impl<B: Board> fmt::Write for Out<'_, B> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0.write_bytes(s.as_bytes());
        Ok(())
    }
}
