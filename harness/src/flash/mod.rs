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
    #[error("cannot read firmware {path}: {source} (band firmware: run scripts/build-firmware)")]
    ElfUnreadable {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{path} is not an ELF file (pass the firmware ELF, e.g. target/firmware/elf/band-esp32c3.elf)"
    )]
    NotElf { path: PathBuf },
    #[error("cannot build an {chip} image from {path}: {reason}")]
    Image {
        path: PathBuf,
        chip: EspChip,
        reason: String,
    },
    #[error("cannot write {path}: {source}")]
    Output {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "serial port {port} does not exist: plug the board in and pass its port with --port \
         (USB bridges appear as /dev/ttyUSB*, the ESP32-C3's built-in USB-JTAG-Serial as /dev/ttyACM*; \
         `ls /dev/ttyUSB* /dev/ttyACM*` lists them)"
    )]
    PortMissing { port: PathBuf },
    #[error("cannot open serial port {port}: {reason}{}", if *permission {
        "; add yourself to the port's group (`sudo usermod -aG dialout $USER`, then log in again)"
    } else { "" })]
    PortOpen {
        port: PathBuf,
        reason: String,
        permission: bool,
    },
    #[error(
        "board on {port}: {reason} (is it an ESP chip in reach of its ROM bootloader? hold BOOT while \
         pressing RESET to force download mode)"
    )]
    Board { port: PathBuf, reason: String },
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
