//! ELF → ESP-IDF app image, bootloader and partition table, with espflash as a library
//! (its bundled ESP-IDF second-stage bootloader and default partition table, offline).

use std::path::{Path, PathBuf};

use espflash::flasher::{FlashData, FlashSettings};
use espflash::image_format::idf::IdfBootloaderFormat;
use espflash::target::{Chip, XtalFrequency};

use super::FlashError;
use super::memory_map::EspChip;

/// The flash contents for one firmware: three pieces at their flash offsets.
#[derive(Clone, Debug)]
pub struct FlashImages {
    /// The chip the images are for.
    pub chip: EspChip,
    /// Second-stage bootloader.
    pub bootloader: Piece,
    /// Partition table.
    pub partition_table: Piece,
    /// The application image (what `harbor image` writes as `<name>.bin`).
    pub app: Piece,
}

/// Bytes to write at a flash offset.
#[derive(Clone, Debug)]
pub struct Piece {
    /// Flash offset.
    pub offset: u32,
    /// The bytes.
    pub bytes: Vec<u8>,
}

impl FlashImages {
    /// One file for offset 0: the pieces at their offsets, gaps erased-flash 0xFF.
    pub fn merged(&self) -> Vec<u8> {
        let pieces = [&self.bootloader, &self.partition_table, &self.app];
        let end = pieces
            .iter()
            .map(|p| p.offset as usize + p.bytes.len())
            .max()
            .unwrap_or(0);
        let mut out = vec![0xFF; end];
        for p in pieces {
            out[p.offset as usize..p.offset as usize + p.bytes.len()].copy_from_slice(&p.bytes);
        }
        out
    }
}

pub(crate) fn espflash_chip(chip: EspChip) -> Chip {
    match chip {
        EspChip::Esp32c3 => Chip::Esp32c3,
        EspChip::Esp32 => Chip::Esp32,
    }
}

/// The ESP-IDF image format for `elf` with espflash's defaults for the chip
/// (40 MHz crystal, flash mode/size/frequency from the bundled bootloader).
pub(crate) fn idf_format<'a>(
    elf: &'a [u8],
    path: &Path,
    chip: EspChip,
) -> Result<IdfBootloaderFormat<'a>, FlashError> {
    // espflash assumes a well-formed ESP ELF (it panics on some that are not).
    super::verify::check_elf_for_chip(elf, chip).map_err(|reason| FlashError::Image {
        path: path.to_path_buf(),
        chip,
        reason,
    })?;
    let flash_data = FlashData::new(
        FlashSettings::default(),
        0,
        None,
        espflash_chip(chip),
        XtalFrequency::_40Mhz,
    );
    IdfBootloaderFormat::new(elf, &flash_data, None, None, None, None).map_err(|e| {
        FlashError::Image {
            path: path.to_path_buf(),
            chip,
            reason: e.to_string(),
        }
    })
}

/// Builds bootloader, partition table and app image for the ELF at `path`.
pub fn build_images(path: &Path, chip: EspChip) -> Result<FlashImages, FlashError> {
    let elf = read_elf(path)?;
    let format = idf_format(&elf, path, chip)?;
    let mut pieces = format.flash_segments().map(|s| Piece {
        offset: s.addr,
        bytes: s.data().to_vec(),
    });
    // espflash yields them in this order: bootloader, partition table, app.
    let (Some(bootloader), Some(partition_table), Some(app)) =
        (pieces.next(), pieces.next(), pieces.next())
    else {
        return Err(FlashError::Image {
            path: path.to_path_buf(),
            chip,
            reason: "espflash returned fewer than three flash pieces".into(),
        });
    };
    Ok(FlashImages {
        chip,
        bootloader,
        partition_table,
        app,
    })
}

/// Reads an ELF, naming the fix when it is missing.
pub fn read_elf(path: &Path) -> Result<Vec<u8>, FlashError> {
    let bytes = std::fs::read(path).map_err(|source| FlashError::ElfUnreadable {
        path: path.to_path_buf(),
        source,
    })?;
    if !bytes.starts_with(b"\x7fELF") {
        return Err(FlashError::NotElf {
            path: path.to_path_buf(),
        });
    }
    Ok(bytes)
}

/// Files `harbor image` writes for `elf` into `out`.
#[derive(Clone, Debug)]
pub struct WrittenImages {
    /// The application image.
    pub app: PathBuf,
    /// All pieces merged into one flash file from offset 0.
    pub merged: PathBuf,
    /// The bootloader.
    pub bootloader: PathBuf,
    /// The partition table.
    pub partition_table: PathBuf,
}

/// Writes `<stem>.bin` (app image for offset 0x10000), `<stem>.merged.bin` (for offset
/// 0), `bootloader.bin` and `partition-table.bin` into `out`.
pub fn write_images(
    images: &FlashImages,
    stem: &str,
    out: &Path,
) -> Result<WrittenImages, FlashError> {
    let write = |name: String, bytes: &[u8]| -> Result<PathBuf, FlashError> {
        let path = out.join(name);
        std::fs::write(&path, bytes).map_err(|source| FlashError::Output {
            path: path.clone(),
            source,
        })?;
        Ok(path)
    };
    std::fs::create_dir_all(out).map_err(|source| FlashError::Output {
        path: out.to_path_buf(),
        source,
    })?;
    Ok(WrittenImages {
        app: write(format!("{stem}.bin"), &images.app.bytes)?,
        merged: write(format!("{stem}.merged.bin"), &images.merged())?,
        bootloader: write("bootloader.bin".into(), &images.bootloader.bytes)?,
        partition_table: write("partition-table.bin".into(), &images.partition_table.bytes)?,
    })
}
