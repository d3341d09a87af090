//! What a target's firmware must be before harbor starts or flashes it: a 32-bit RISC-V
//! executable ELF whose entry point is in executable code (and, for an emulator, in the
//! memory the emulated machine loads it into), built from harbor's band firmware.
//!
//! `harbor validate` and `harbor run` both check this before any emulator starts: an image
//! for another machine or another board otherwise boots nothing and is reported late as a
//! firmware hang. The band marker is the symbol `HARBOR_BAND_IMAGE` that the band firmware
//! (`firmware/app`) links into every image; a user's own MLPerf Tiny firmware (`kind:
//! mlperf`) needs none.

use std::ops::Range;
use std::path::{Path, PathBuf};

use object::{Object, ObjectSection, ObjectSegment, ObjectSymbol, SegmentFlags};

use super::{DeviceConfig, MlperfLink};

/// The band image marker's symbol.
pub const MARKER_SYMBOL: &str = "HARBOR_BAND_IMAGE";
/// The marker's bytes (`firmware/app/src/image_marker.rs`).
pub const MARKER_TEXT: &[u8] = b"harbor-band-image-v1";
/// Where QEMU's `virt` (and harbor's Renode platform) put RAM, which the firmware must be
/// linked into: 0x8000_0000, 128 MiB (the `-m` harbor passes).
pub const EMULATED_RAM: Range<u64> = 0x8000_0000..0x8800_0000;

/// Why a firmware image cannot run on its target.
#[derive(Debug, thiserror::Error)]
pub enum FirmwareImageError {
    /// The file could not be read.
    #[error("firmware image {}: {source}", path.display())]
    Io {
        /// The image.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not an ELF file harbor can read.
    #[error("firmware image {} is not an ELF file ({reason})", path.display())]
    NotElf {
        /// The image.
        path: PathBuf,
        /// What the parser said.
        reason: String,
    },
    /// An ELF for another machine or word size.
    #[error("firmware image {} is a {found} ELF; the band runs 32-bit RISC-V (RV32) images", path.display())]
    Machine {
        /// The image.
        path: PathBuf,
        /// Its architecture and class, e.g. `X86_64 64-bit`.
        found: String,
    },
    /// Not an executable (a relocatable object or a shared library).
    #[error("firmware image {} is not an executable ELF (type {kind:?}): link it into a program", path.display())]
    NotExecutable {
        /// The image.
        path: PathBuf,
        /// Its object kind.
        kind: object::ObjectKind,
    },
    /// The entry point is not in an executable loadable segment.
    #[error("firmware image {}: entry point {entry:#x} is not in an executable loadable segment", path.display())]
    EntryNotCode {
        /// The image.
        path: PathBuf,
        /// The entry point.
        entry: u64,
    },
    /// The entry point is outside the emulated machine's RAM: linked for another board.
    #[error(
        "firmware image {}: entry point {entry:#x} is outside the emulated RAM {:#x}..{:#x} of `kind: {kind}`: \
         it is linked for another board (band-esp32c3.elf runs on a real ESP32-C3; emulators run band-qemu.elf)",
        path.display(), EMULATED_RAM.start, EMULATED_RAM.end
    )]
    EntryOutsideRam {
        /// The image.
        path: PathBuf,
        /// The entry point.
        entry: u64,
        /// The target kind.
        kind: &'static str,
    },
    /// No band marker: not harbor's band firmware.
    #[error(
        "firmware image {} is not a harbor band image (no `{MARKER_SYMBOL}` marker): build the band \
         firmware with scripts/build-firmware; firmware of your own that speaks MLPerf Tiny's text \
         protocol goes under `kind: mlperf`",
        path.display()
    )]
    NoMarker {
        /// The image.
        path: PathBuf,
    },
}

impl DeviceConfig {
    /// Checks the firmware image this device starts or flashes, if any (module docs).
    pub fn check_firmware(&self) -> Result<(), FirmwareImageError> {
        let Some(path) = self.firmware() else {
            return Ok(());
        };
        let emulated = match self {
            Self::Qemu(_) | Self::Renode(_) => true,
            Self::Mlperf(c) => matches!(c.link, MlperfLink::Qemu(_)),
            Self::Serial(_) | Self::Probe(_) => false,
        };
        let needs_marker = !matches!(self, Self::Mlperf(_));
        check_image(path, self.kind().name(), emulated, needs_marker)
    }
}

/// Checks the ELF at `path` for a target of `kind` (see the module docs).
pub fn check_image(
    path: &Path,
    kind: &'static str,
    emulated: bool,
    needs_marker: bool,
) -> Result<(), FirmwareImageError> {
    let bytes = std::fs::read(path).map_err(|source| FirmwareImageError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let not_elf = |reason: String| FirmwareImageError::NotElf {
        path: path.to_path_buf(),
        reason,
    };
    let elf = object::File::parse(&*bytes).map_err(|e| not_elf(e.to_string()))?;
    if elf.format() != object::BinaryFormat::Elf {
        return Err(not_elf(format!("a {:?} file", elf.format())));
    }
    if elf.architecture() != object::Architecture::Riscv32 || elf.is_64() {
        let bits = if elf.is_64() { 64 } else { 32 };
        return Err(FirmwareImageError::Machine {
            path: path.to_path_buf(),
            found: format!("{:?} {bits}-bit", elf.architecture()),
        });
    }
    if elf.kind() != object::ObjectKind::Executable {
        return Err(FirmwareImageError::NotExecutable {
            path: path.to_path_buf(),
            kind: elf.kind(),
        });
    }
    let entry = elf.entry();
    let in_code = elf.segments().any(|s| {
        let executable = matches!(s.flags(), SegmentFlags::Elf { p_flags, .. } if p_flags.0 & object::elf::PF_X.0 != 0);
        executable && (s.address()..s.address() + s.size()).contains(&entry)
    });
    if !in_code {
        return Err(FirmwareImageError::EntryNotCode {
            path: path.to_path_buf(),
            entry,
        });
    }
    if emulated && !EMULATED_RAM.contains(&entry) {
        return Err(FirmwareImageError::EntryOutsideRam {
            path: path.to_path_buf(),
            entry,
            kind,
        });
    }
    if needs_marker && !has_marker(&elf) {
        return Err(FirmwareImageError::NoMarker {
            path: path.to_path_buf(),
        });
    }
    Ok(())
}

/// Whether the ELF defines the marker symbol with the marker's bytes.
fn has_marker(elf: &object::File<'_>) -> bool {
    let Some(symbol) = elf.symbol_by_name(MARKER_SYMBOL) else {
        return false;
    };
    let Some(section) = symbol
        .section_index()
        .and_then(|i| elf.section_by_index(i).ok())
    else {
        return false;
    };
    section
        .data_range(symbol.address(), MARKER_TEXT.len() as u64)
        .ok()
        .flatten()
        .is_some_and(|bytes| bytes == MARKER_TEXT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_host_program_is_refused_by_machine() {
        let exe = std::env::current_exe().unwrap();
        let err = check_image(&exe, "qemu", true, true).unwrap_err();
        assert!(matches!(err, FirmwareImageError::Machine { .. }), "{err}");
        assert!(err.to_string().contains("32-bit RISC-V"), "{err}");
    }

    #[test]
    fn random_bytes_are_not_an_elf() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("noise.elf");
        let bytes: Vec<u8> = (0..4096u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        std::fs::write(&path, bytes).unwrap();
        let err = check_image(&path, "qemu", true, true).unwrap_err();
        assert!(matches!(err, FirmwareImageError::NotElf { .. }), "{err}");
    }
}
