//! The flash the OTA logic writes: NOR semantics, sector erase.
//!
//! `program` can only clear bits (an implementation ANDs the data into what is there);
//! `erase_sector` sets a whole sector to 0xFF. The OTA code only programs erased bytes,
//! and the host's `SimFlash` checks that it does.

/// One flash device (or a partition of one), addressed from 0.
pub trait Flash {
    /// Erase granularity in bytes (a power of two).
    fn sector_size(&self) -> u32;
    /// Bytes addressable.
    fn capacity(&self) -> u32;
    /// Reads `buf.len()` bytes starting at `addr`.
    fn read(&mut self, addr: u32, buf: &mut [u8]) -> Result<(), FlashError>;
    /// Sets the sector starting at `addr` (sector-aligned) to 0xFF.
    fn erase_sector(&mut self, addr: u32) -> Result<(), FlashError>;
    /// Clears the bits of `data` that are 0 at `addr` onwards (any alignment).
    fn program(&mut self, addr: u32, data: &[u8]) -> Result<(), FlashError>;
}

/// Why a flash operation failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlashError {
    /// Beyond the device, or an erase not on a sector boundary.
    OutOfBounds {
        /// Address of the refused operation.
        addr: u32,
    },
    /// A program that would have to set a bit back to 1 (a logic error: erase first).
    NotErased {
        /// First address that would need a 0 → 1 bit change.
        addr: u32,
    },
    /// The device reported a failed erase/program (its status byte).
    Device {
        /// Status byte as the flash reported it.
        status: u8,
    },
    /// Power was cut (simulation): nothing after this reaches the flash.
    PowerCut,
}

impl core::fmt::Display for FlashError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::OutOfBounds { addr } => write!(f, "flash address {addr:#x} out of bounds"),
            Self::NotErased { addr } => write!(f, "flash program over unerased bits at {addr:#x}"),
            Self::Device { status } => write!(f, "flash device error, status {status:#04x}"),
            Self::PowerCut => f.write_str("power cut"),
        }
    }
}

/// Lets `&mut dyn Flash` (and `&mut` of any flash) go where `impl Flash` is asked for.
impl<F: Flash + ?Sized> Flash for &mut F {
    fn sector_size(&self) -> u32 {
        (**self).sector_size()
    }
    fn capacity(&self) -> u32 {
        (**self).capacity()
    }
    fn read(&mut self, addr: u32, buf: &mut [u8]) -> Result<(), FlashError> {
        (**self).read(addr, buf)
    }
    fn erase_sector(&mut self, addr: u32) -> Result<(), FlashError> {
        (**self).erase_sector(addr)
    }
    fn program(&mut self, addr: u32, data: &[u8]) -> Result<(), FlashError> {
        (**self).program(addr, data)
    }
}
