//! `harbor image`: the ESP app image (and bootloader, partition table, merged flash file)
//! for a firmware ELF, built with espflash and checked with harbor's own image parser.

use std::path::PathBuf;

use clap::Args;

use super::{CliError, CliResult, Exit};
use crate::flash::{self, EspChip, EspImage, FlashError};

#[derive(Debug, Args)]
pub struct ImageArgs {
    /// Firmware ELF (e.g. target/firmware/elf/band-esp32c3.elf from scripts/build-firmware).
    pub elf: PathBuf,
    /// Target chip: esp32c3 or esp32.
    #[arg(long, default_value = "esp32c3")]
    pub chip: EspChip,
    /// Output folder: <name>.bin (app, flash at 0x10000), <name>.merged.bin (flash at 0x0),
    /// bootloader.bin, partition-table.bin.
    #[arg(long)]
    pub out: PathBuf,
}

impl From<FlashError> for CliError {
    fn from(e: FlashError) -> Self {
        if e.is_input_error() {
            CliError::usage(e)
        } else {
            CliError::infrastructure(e)
        }
    }
}

pub fn run(args: ImageArgs) -> CliResult {
    let images = flash::build_images(&args.elf, args.chip)?;
    let elf = flash::build::read_elf(&args.elf)?;
    let image = EspImage::parse_exact(&images.app.bytes).map_err(|e| {
        CliError::infrastructure(format!("espflash built an image harbor cannot read: {e}"))
    })?;
    let report = flash::check_against_elf(&image, &elf, args.chip).map_err(|e| {
        CliError::infrastructure(format!(
            "espflash's image does not match {}: {e}",
            args.elf.display()
        ))
    })?;
    let stem = args
        .elf
        .file_stem()
        .map_or("app".into(), |s| s.to_string_lossy().into_owned());
    let written = flash::write_images(&images, &stem, &args.out)?;
    println!(
        "{} {} for {} (chip id {:#06x}), entry {:#010x}, {} segments, {} B (app at {:#x}), SHA-256 appended",
        report.app.project_name,
        report.app.version,
        image.chip_name(),
        image.chip_id,
        image.entry,
        image.segments.len(),
        image.len(),
        images.app.offset,
    );
    for seg in &report.segments {
        println!(
            "  {:#010x} {:>7} B  {:<32} {}",
            seg.load_addr,
            seg.len,
            seg.region,
            seg.sections.join(" ")
        );
    }
    for (label, path, offset) in [
        ("app", &written.app, images.app.offset),
        ("bootloader", &written.bootloader, images.bootloader.offset),
        (
            "partitions",
            &written.partition_table,
            images.partition_table.offset,
        ),
        ("merged", &written.merged, 0),
    ] {
        println!("{label:<11} {:#07x}  {}", offset, path.display());
    }
    Ok(Exit::Ok)
}
