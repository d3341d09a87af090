//! Writing bootloader, partition table and app to a board over its serial port, through
//! the ESP ROM bootloader (espflash as a library: DTR/RTS or USB-JTAG-Serial reset into
//! download mode, flasher stub, verify, hard reset after).

use std::path::{Path, PathBuf};

use espflash::connection::{Connection, ResetAfterOperation, ResetBeforeOperation};
use espflash::flasher::Flasher;
use espflash::image_format::ImageFormat;
use espflash::target::ProgressCallbacks;
use serialport::{SerialPortType, UsbPortInfo};

use super::FlashError;
use super::build::{espflash_chip, idf_format, read_elf};
use super::memory_map::EspChip;

/// The ROM bootloader syncs at this rate; espflash switches to `baud` afterwards.
pub const ROM_BAUD: u32 = 115_200;

/// How to reach a board's ROM bootloader over serial.
#[derive(Clone, Debug)]
pub struct SerialFlash {
    /// The serial port.
    pub port: PathBuf,
    /// Baud rate for the transfer after connecting (None: stay at 115 200).
    pub baud: Option<u32>,
    /// The chip expected on it.
    pub chip: EspChip,
}

/// What was written, for the CLI's summary.
#[derive(Clone, Debug)]
pub struct Flashed {
    /// The chip the bootloader reported.
    pub chip: String,
    /// (offset, bytes) of each piece written.
    pub pieces: Vec<(u32, usize)>,
}

/// Fails before any I/O when the port does not exist, naming what to check.
pub fn check_port(port: &Path) -> Result<(), FlashError> {
    if port.exists() {
        Ok(())
    } else {
        Err(FlashError::PortMissing {
            port: port.to_path_buf(),
        })
    }
}

/// The USB identity of `port`, which picks espflash's reset sequence (the C3's built-in
/// USB-JTAG-Serial needs its own); zeros for a plain UART bridge espflash cannot identify.
fn usb_info(port: &Path) -> UsbPortInfo {
    let wanted = port.to_string_lossy();
    let canonical = std::fs::canonicalize(port).ok();
    // serialport panics when the folder it scans is missing (some containers).
    let listable = !cfg!(target_os = "linux") || Path::new("/sys/class/tty").is_dir();
    listable
        .then(serialport::available_ports)
        .and_then(Result::ok)
        .unwrap_or_default()
        .into_iter()
        .find(|p| p.port_name == wanted || canonical.as_deref() == Some(Path::new(&p.port_name)))
        .and_then(|p| match p.port_type {
            SerialPortType::UsbPort(info) => Some(info),
            _ => None,
        })
        .unwrap_or(UsbPortInfo {
            vid: 0,
            pid: 0,
            serial_number: None,
            manufacturer: None,
            product: None,
            interface: None,
        })
}

/// Flashes the ELF at `elf_path` to the board on `settings.port`.
pub fn flash_serial(
    elf_path: &Path,
    settings: &SerialFlash,
    progress: &mut dyn ProgressCallbacks,
) -> Result<Flashed, FlashError> {
    // The image first: a bad ELF is an input error, found before touching the board.
    let elf = read_elf(elf_path)?;
    let format = idf_format(&elf, elf_path, settings.chip)?;
    check_port(&settings.port)?;
    let port_name = settings.port.to_string_lossy().into_owned();
    let serial = serialport::new(&port_name, ROM_BAUD)
        .flow_control(serialport::FlowControl::None)
        .open_native()
        .map_err(|e| FlashError::PortOpen {
            port: settings.port.clone(),
            reason: e.to_string(),
            permission: matches!(
                e.kind(),
                serialport::ErrorKind::Io(std::io::ErrorKind::PermissionDenied)
            ),
        })?;
    let connection = Connection::new(
        serial,
        usb_info(&settings.port),
        ResetAfterOperation::HardReset,
        ResetBeforeOperation::DefaultReset,
        settings.baud.unwrap_or(ROM_BAUD),
    );
    let board = |e: espflash::Error| FlashError::Board {
        port: settings.port.clone(),
        reason: e.to_string(),
    };
    let mut flasher = Flasher::connect(
        connection,
        true,
        true,
        true,
        Some(espflash_chip(settings.chip)),
        settings.baud,
    )
    .map_err(board)?;
    let format: ImageFormat<'_> = format.into();
    let pieces = format
        .clone()
        .flash_segments()
        .iter()
        .map(|s| (s.addr, s.data().len()))
        .collect();
    flasher
        .load_image_to_flash(progress, format)
        .map_err(board)?;
    Ok(Flashed {
        chip: flasher.chip().to_string(),
        pieces,
    })
}
