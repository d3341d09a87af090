//! `SimFlash`: a simulated NOR flash for host tests (no hardware involved). It counts every
//! erase and program, refuses programs that would set bits (a logic error on real NOR), and
//! can cut the power at operation k, optionally leaving that operation half done.

use super::flash::{Flash, FlashError};

/// How the operation the power cut hits ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cut {
    /// Operation k never starts.
    Before,
    /// Operation k does its first half (erase: first half of the sector; program: first
    /// half of the bytes), then the power goes.
    Torn,
}

/// An in-memory NOR flash for tests, with power cuts at a chosen operation.
#[derive(Clone)]
pub struct SimFlash<const N: usize> {
    bytes: [u8; N],
    sector: u32,
    /// Erase + program operations performed (including a torn one).
    ops: u32,
    cut: Option<(u32, Cut)>,
    powered: bool,
}

impl<const N: usize> SimFlash<N> {
    /// An erased flash of `N` bytes in sectors of `sector` bytes.
    pub fn new(sector: u32) -> Self {
        Self {
            bytes: [0xFF; N],
            sector,
            ops: 0,
            cut: None,
            powered: true,
        }
    }

    /// Erase and program operations performed so far.
    pub fn ops(&self) -> u32 {
        self.ops
    }

    /// The power goes at operation index `at` (counted from the current count).
    pub fn cut_at(&mut self, at: u32, how: Cut) {
        self.cut = Some((self.ops + at, how));
    }

    /// Whether the simulated power is off (a cut happened).
    pub fn is_off(&self) -> bool {
        !self.powered
    }

    /// Power comes back: the flash keeps what was written; no cut is armed.
    pub fn power_on(&mut self) {
        self.powered = true;
        self.cut = None;
    }

    /// The flash contents.
    pub fn bytes(&self) -> &[u8; N] {
        &self.bytes
    }

    /// The flash contents, writable (tests corrupt bytes through it).
    pub fn bytes_mut(&mut self) -> &mut [u8; N] {
        &mut self.bytes
    }

    fn range(&self, addr: u32, len: usize) -> Result<core::ops::Range<usize>, FlashError> {
        let start = addr as usize;
        match start.checked_add(len) {
            Some(end) if end <= N => Ok(start..end),
            _ => Err(FlashError::OutOfBounds { addr }),
        }
    }

    /// Counts an operation; `Some(how)` when the power goes during it.
    fn begin_op(&mut self) -> Result<Option<Cut>, FlashError> {
        if !self.powered {
            return Err(FlashError::PowerCut);
        }
        let index = self.ops;
        self.ops += 1;
        match self.cut {
            Some((at, how)) if at == index => {
                self.powered = false;
                Ok(Some(how))
            }
            _ => Ok(None),
        }
    }
}

impl<const N: usize> Flash for SimFlash<N> {
    fn sector_size(&self) -> u32 {
        self.sector
    }

    fn capacity(&self) -> u32 {
        N as u32
    }

    fn read(&mut self, addr: u32, buf: &mut [u8]) -> Result<(), FlashError> {
        if !self.powered {
            return Err(FlashError::PowerCut);
        }
        let r = self.range(addr, buf.len())?;
        buf.copy_from_slice(&self.bytes[r]);
        Ok(())
    }

    fn erase_sector(&mut self, addr: u32) -> Result<(), FlashError> {
        if !addr.is_multiple_of(self.sector) {
            return Err(FlashError::OutOfBounds { addr });
        }
        let r = self.range(addr, self.sector as usize)?;
        match self.begin_op()? {
            None => self.bytes[r].fill(0xFF),
            Some(Cut::Before) => return Err(FlashError::PowerCut),
            Some(Cut::Torn) => {
                let half = r.start + r.len() / 2;
                self.bytes[r.start..half].fill(0xFF);
                return Err(FlashError::PowerCut);
            }
        }
        Ok(())
    }

    fn program(&mut self, addr: u32, data: &[u8]) -> Result<(), FlashError> {
        let r = self.range(addr, data.len())?;
        for (i, (&old, &new)) in self.bytes[r.clone()].iter().zip(data).enumerate() {
            if old & new != new {
                return Err(FlashError::NotErased {
                    addr: addr + i as u32,
                });
            }
        }
        let n = match self.begin_op()? {
            None => data.len(),
            Some(Cut::Before) => return Err(FlashError::PowerCut),
            Some(Cut::Torn) => data.len() / 2,
        };
        for (old, &new) in self.bytes[r.start..r.start + n].iter_mut().zip(data) {
            *old &= new;
        }
        if n < data.len() {
            Err(FlashError::PowerCut)
        } else {
            Ok(())
        }
    }
}
