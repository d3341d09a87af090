//! `harbor flash`: bootloader, partition table and app to an ESP board over serial.

use std::path::PathBuf;

use clap::Args;
use espflash::target::ProgressCallbacks;

use super::{CliResult, Exit};
use crate::flash::{self, EspChip, SerialFlash};

#[derive(Debug, Args)]
pub struct FlashArgs {
    /// Firmware ELF (e.g. target/firmware/elf/band-esp32c3.elf).
    pub elf: PathBuf,
    /// Serial port of the board (e.g. /dev/ttyACM0 for the C3's USB, /dev/ttyUSB0 for a bridge).
    #[arg(long)]
    pub port: PathBuf,
    /// Baud rate for the transfer after the ROM bootloader answered at 115 200.
    #[arg(long)]
    pub baud: Option<u32>,
    /// Target chip: esp32c3 or esp32.
    #[arg(long, default_value = "esp32c3")]
    pub chip: EspChip,
}

/// One line per flash piece on stderr.
struct Progress {
    addr: u32,
    total: usize,
}

impl ProgressCallbacks for Progress {
    fn init(&mut self, addr: u32, total: usize) {
        (self.addr, self.total) = (addr, total);
    }

    fn update(&mut self, _current: usize) {}

    fn verifying(&mut self) {}

    fn finish(&mut self, skipped: bool) {
        let what = if skipped {
            "unchanged, skipped"
        } else {
            "written, verified"
        };
        eprintln!("{:#07x}: {} B {what}", self.addr, self.total);
    }
}

pub fn run(args: FlashArgs) -> CliResult {
    let settings = SerialFlash {
        port: args.port,
        baud: args.baud,
        chip: args.chip,
    };
    let flashed = flash::flash_serial(&args.elf, &settings, &mut Progress { addr: 0, total: 0 })?;
    println!(
        "flashed {} ({}) on {}: {} pieces, board reset",
        args.elf.display(),
        flashed.chip,
        settings.port.display(),
        flashed.pieces.len()
    );
    Ok(Exit::Ok)
}
