//! What the application needs from a band: a byte channel, counters, stack figures, exit.
//!
//! `qemu_virt` is the only board today; a real ESP32-C3 would read its own performance
//! counter CSRs (0x7E0–0x7E2) instead of `minstret`.

pub mod qemu_virt;

use core::fmt;

pub trait Board {
    /// Blocks until a byte arrives, sleeping (not spinning) while the line is idle.
    fn read_byte(&mut self) -> u8;
    fn write_bytes(&mut self, bytes: &[u8]);
    /// Retired instructions since reset.
    fn instructions(&self) -> u64;
    /// Microseconds since reset (virtual time under QEMU's -icount).
    fn micros(&self) -> u64;
    fn stack(&self) -> StackUsage;
    /// Ends the run: code 0 is success.
    fn exit(&mut self, code: u32) -> !;

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

/// `core::fmt::Write` over a board's UART.
pub struct Out<'b, B: Board>(&'b mut B);

impl<B: Board> fmt::Write for Out<'_, B> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0.write_bytes(s.as_bytes());
        Ok(())
    }
}
