//! ESP images and flashing: build the app image (and bootloader + partition table) from a
//! firmware ELF with espflash as a library ([`build`]), read and check any ESP app image
//! with harbor's own parser ([`esp_image`], [`verify`]), and write a board over serial
//! ([`serial`]). docs/hardware.md describes the files and the commands.

pub mod build;
pub mod esp_image;
pub mod memory_map;
pub mod serial;
pub mod verify;

use std::path::PathBuf;

pub use build::{FlashImages, build_images, write_images};
pub use esp_image::{EspImage, ImageError};
pub use memory_map::EspChip;
pub use serial::{SerialFlash, flash_serial};
pub use verify::check_against_elf;

/// Why an image could not be built or a board could not be flashed.
#[derive(Debug, thiserror::Error)]
pub enum FlashError {
    /// The firmware ELF could not be read.
    #[error("cannot read firmware {path}: {source} (band firmware: run scripts/build-firmware)")]
    ElfUnreadable {
        /// The ELF path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not an ELF.
    #[error(
        "{path} is not an ELF file (pass the firmware ELF, e.g. target/firmware/elf/band-esp32c3.elf)"
    )]
    NotElf {
        /// The file.
        path: PathBuf,
    },
    /// The ELF cannot become an image for the chip.
    #[error("cannot build an {chip} image from {path}: {reason}")]
    Image {
        /// The ELF path.
        path: PathBuf,
        /// The chip asked for.
        chip: EspChip,
        /// Why not.
        reason: String,
    },
    /// An output file could not be written.
    #[error("cannot write {path}: {source}")]
    Output {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The serial port does not exist.
    #[error(
        "serial port {port} does not exist: plug the board in and pass its port with --port \
         (USB bridges appear as /dev/ttyUSB*, the ESP32-C3's built-in USB-JTAG-Serial as /dev/ttyACM*; \
         `ls /dev/ttyUSB* /dev/ttyACM*` lists them)"
    )]
    PortMissing {
        /// The port.
        port: PathBuf,
    },
    /// The serial port exists but cannot be opened.
    #[error("cannot open serial port {port}: {reason}{}", if *permission {
        "; add yourself to the port's group (`sudo usermod -aG dialout $USER`, then log in again)"
    } else { "" })]
    PortOpen {
        /// The port.
        port: PathBuf,
        /// The system's reason.
        reason: String,
        /// Whether it is a permission problem (the message then says how to fix it).
        permission: bool,
    },
    /// The board did not answer its ROM bootloader as expected.
    #[error(
        "board on {port}: {reason} (is it an ESP chip in reach of its ROM bootloader? hold BOOT while \
         pressing RESET to force download mode)"
    )]
    Board {
        /// The port.
        port: PathBuf,
        /// What went wrong.
        reason: String,
    },
}

impl FlashError {
    /// Input problems (exit 2) versus board and file-system problems (exit 3).
    pub fn is_input_error(&self) -> bool {
        matches!(
            self,
            Self::ElfUnreadable { .. } | Self::NotElf { .. } | Self::Image { .. }
        )
    }
}
