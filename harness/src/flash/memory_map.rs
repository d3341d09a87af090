//! Where an ESP chip's bootloader can place image segments: flash mapped through the
//! cache (IROM, DROM) or loaded into SRAM (IRAM, DRAM, RTC memory).

use std::fmt;
use std::str::FromStr;

/// The ESP chips harbor builds and checks images for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EspChip {
    /// The RISC-V ESP32-C3 (the band's chip).
    Esp32c3,
    /// The Xtensa ESP32 (firmware built elsewhere; harbor images and flashes it).
    Esp32,
}

impl EspChip {
    /// Every chip harbor images.
    pub const ALL: [EspChip; 2] = [EspChip::Esp32c3, EspChip::Esp32];

    /// The chip's name as on the command line (`esp32c3`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Esp32c3 => "esp32c3",
            Self::Esp32 => "esp32",
        }
    }

    /// `esp_chip_id_t` in the image's extended header.
    pub fn chip_id(self) -> u16 {
        match self {
            Self::Esp32c3 => super::esp_image::CHIP_ID_ESP32C3,
            Self::Esp32 => super::esp_image::CHIP_ID_ESP32,
        }
    }

    /// The chip's memory map (Technical Reference Manual, "System and Memory").
    pub fn memory_map(self) -> &'static [Region] {
        match self {
            Self::Esp32c3 => ESP32C3_MAP,
            Self::Esp32 => ESP32_MAP,
        }
    }

    /// Region holding `[addr, addr + len)`, if one does.
    pub fn region_of(self, addr: u64, len: u64) -> Option<&'static Region> {
        self.memory_map().iter().find(|r| r.contains(addr, len))
    }
}

impl fmt::Display for EspChip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for EspChip {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|c| c.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                format!("unknown chip `{s}`: harbor builds images for esp32c3 and esp32")
            })
    }
}

/// What an address range of the chip is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegionKind {
    /// Flash through the instruction cache.
    Irom,
    /// Flash through the data cache.
    Drom,
    /// Internal instruction RAM.
    Iram,
    /// Internal data RAM.
    Dram,
    /// RTC memory.
    Rtc,
}

impl RegionKind {
    /// Flash-mapped: the segment's offset in the image must keep its offset in an MMU page.
    pub fn is_flash(self) -> bool {
        matches!(self, Self::Irom | Self::Drom)
    }
}

/// A named address range of the chip.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Region {
    /// What the range is.
    pub kind: RegionKind,
    /// Its name in messages.
    pub name: &'static str,
    /// First address.
    pub start: u64,
    /// Exclusive.
    pub end: u64,
}

impl Region {
    /// Whether `len` bytes from `addr` lie inside the range.
    pub fn contains(&self, addr: u64, len: u64) -> bool {
        addr >= self.start && addr + len <= self.end
    }
}

const fn region(kind: RegionKind, name: &'static str, start: u64, end: u64) -> Region {
    Region {
        kind,
        name,
        start,
        end,
    }
}

/// ESP32-C3 TRM, "Internal and external memory address mapping".
const ESP32C3_MAP: &[Region] = &[
    region(
        RegionKind::Irom,
        "IROM (flash, instruction bus)",
        0x4200_0000,
        0x4280_0000,
    ),
    region(
        RegionKind::Drom,
        "DROM (flash, data bus)",
        0x3C00_0000,
        0x3C80_0000,
    ),
    region(
        RegionKind::Iram,
        "IRAM (SRAM, instruction bus)",
        0x4037_C000,
        0x403E_0000,
    ),
    region(
        RegionKind::Dram,
        "DRAM (SRAM, data bus)",
        0x3FC7_C000,
        0x3FCE_0000,
    ),
    region(RegionKind::Rtc, "RTC fast memory", 0x5000_0000, 0x5000_2000),
];

/// ESP32 TRM, "Address mapping" (embedded memory and external flash through the cache).
const ESP32_MAP: &[Region] = &[
    region(
        RegionKind::Irom,
        "IROM (flash, instruction bus)",
        0x400D_0000,
        0x4040_0000,
    ),
    region(
        RegionKind::Drom,
        "DROM (flash, data bus)",
        0x3F40_0000,
        0x3F80_0000,
    ),
    region(
        RegionKind::Iram,
        "IRAM (SRAM0/1, instruction bus)",
        0x4007_0000,
        0x400C_0000,
    ),
    region(
        RegionKind::Dram,
        "DRAM (SRAM1/2, data bus)",
        0x3FFA_E000,
        0x4000_0000,
    ),
    region(
        RegionKind::Rtc,
        "RTC fast memory (instruction bus)",
        0x400C_0000,
        0x400C_2000,
    ),
    region(
        RegionKind::Rtc,
        "RTC fast memory (data bus)",
        0x3FF8_0000,
        0x3FF8_2000,
    ),
    region(RegionKind::Rtc, "RTC slow memory", 0x5000_0000, 0x5000_2000),
];
