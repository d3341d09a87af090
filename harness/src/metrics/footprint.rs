//! Flash and RAM footprint of a firmware + model pair, from the firmware ELF's section
//! headers (the `object` crate) and what the device reports at run time.
//!
//! - flash = every allocated section with contents (`.text`, `.rodata`, `.data`'s load
//!   image) + the model's bytes. Reserved `NOBITS` areas (the empty model slot) do not count:
//!   the model itself is what occupies the slot.
//! - RAM = `.data` + `.bss` − the firmware's arena reservation + the arena the model uses +
//!   the stack high-water mark. `.bss` holds the fixed arena array, so it is swapped for the
//!   model's real need rather than counted twice; the reserved `.stack` section is replaced
//!   by the painted high-water mark for the same reason.

use std::path::{Path, PathBuf};

use object::{Object, ObjectSection, SectionFlags};
use serde::Serialize;

/// Sections that are reservations whose real use is measured, not their declared size.
const STACK_SECTION: &str = ".stack";

#[derive(Debug, thiserror::Error)]
/// An ELF image that cannot be read.
pub enum FootprintError {
    /// The file cannot be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The image's path.
        path: PathBuf,
        /// Why it cannot be read.
        source: std::io::Error,
    },
    /// The file is not an ELF image.
    #[error("{}: not an ELF image harbor can read: {source}", path.display())]
    Elf {
        /// The image's path.
        path: PathBuf,
        /// What is wrong with it.
        source: NotAnElf,
    },
}

/// Section sizes of a firmware image, in bytes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ElfSizes {
    /// Allocated, read-only sections with contents (code and constants).
    pub code_and_rodata: u64,
    /// Allocated, writable sections with contents (`.data`; its initial values sit in flash).
    pub data: u64,
    /// Allocated, writable `NOBITS` sections except the stack and flash reservations.
    pub bss: u64,
    /// The `.stack` reservation.
    pub stack_reserved: u64,
    /// `NOBITS` sections that are not writable RAM by name (e.g. `.model_slot`).
    pub other_reserved: u64,
}

/// Why bytes are not an ELF image.
#[derive(Debug, thiserror::Error)]
pub enum NotAnElf {
    /// No object format the parser knows.
    #[error(transparent)]
    Parse(#[from] object::Error),
    /// An object file of another format.
    #[error("{0:?} file, expected ELF")]
    Format(object::BinaryFormat),
}

impl ElfSizes {
    /// Reads and measures the ELF image at `path`.
    pub fn read(path: &Path) -> Result<Self, FootprintError> {
        let bytes = std::fs::read(path).map_err(|source| FootprintError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&bytes).map_err(|source| FootprintError::Elf {
            path: path.to_path_buf(),
            source,
        })
    }

    /// Measures an ELF image in memory; the error says why it is not one.
    pub fn parse(bytes: &[u8]) -> Result<Self, NotAnElf> {
        let file = object::File::parse(bytes)?;
        if !matches!(file.format(), object::BinaryFormat::Elf) {
            return Err(NotAnElf::Format(file.format()));
        }
        let mut sizes = ElfSizes::default();
        for section in file.sections() {
            let SectionFlags::Elf { sh_flags, sh_type } = section.flags() else {
                continue;
            };
            if sh_flags.0 & object::elf::SHF_ALLOC.0 == 0 {
                continue;
            }
            let writable = sh_flags.0 & object::elf::SHF_WRITE.0 != 0;
            let nobits = sh_type == object::elf::SHT_NOBITS;
            let name = section.name().unwrap_or("");
            let size = section.size();
            match (nobits, writable) {
                (false, false) => sizes.code_and_rodata += size,
                (false, true) => sizes.data += size,
                (true, _) if name == STACK_SECTION => sizes.stack_reserved += size,
                (true, true) if name.starts_with(".bss") || name.starts_with(".sbss") => {
                    sizes.bss += size
                }
                (true, _) => sizes.other_reserved += size,
            }
        }
        Ok(sizes)
    }

    /// Bytes the image occupies in flash (what `size` calls text + data).
    pub fn flash_image(&self) -> u64 {
        self.code_and_rodata + self.data
    }
}

/// The footprint figures a report prints per result.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Footprint {
    /// Flash image plus model bytes.
    pub flash_bytes: u64,
    /// Static RAM plus the arena in use and the stack high-water mark.
    pub ram_bytes: u64,
    /// Stack high-water mark.
    pub stack_bytes: u64,
    /// Arena the model uses.
    pub arena_bytes: u64,
}

impl Footprint {
    /// Combines the image's sections with the model and the device's run-time figures.
    pub fn of(
        sizes: &ElfSizes,
        model_bytes: u64,
        arena_reserved: u64,
        arena_used: u64,
        stack_high_water: u64,
    ) -> Self {
        let static_ram = sizes.data + sizes.bss.saturating_sub(arena_reserved);
        Footprint {
            flash_bytes: sizes.flash_image() + model_bytes,
            ram_bytes: static_ram + arena_used + stack_high_water,
            stack_bytes: stack_high_water,
            arena_bytes: arena_used,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_non_elf_file_is_a_named_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("not.elf");
        std::fs::write(&path, b"hello").unwrap();
        let err = ElfSizes::read(&path).unwrap_err().to_string();
        assert!(err.starts_with(&path.display().to_string()), "{err}");
        assert!(err.contains("not an ELF image"), "{err}");
    }

    #[test]
    fn the_arena_reservation_is_swapped_for_the_arena_in_use() {
        let sizes = ElfSizes {
            code_and_rodata: 1000,
            data: 100,
            bss: 5000,
            stack_reserved: 4096,
            other_reserved: 65536,
        };
        let f = Footprint::of(&sizes, 300, 4000, 1200, 700);
        assert_eq!(f.flash_bytes, 1000 + 100 + 300);
        assert_eq!(f.ram_bytes, 100 + (5000 - 4000) + 1200 + 700);
        assert_eq!((f.stack_bytes, f.arena_bytes), (700, 1200));
    }
}
