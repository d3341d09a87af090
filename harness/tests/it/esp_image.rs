//! `harbor image` on the ESP32-C3 band firmware (built by scripts/build-firmware): espflash
//! builds the flash contents, and harbor's own parser, written from ESP-IDF's app image
//! format, checks them against the ELF.

use crate::support::cli::harbor;

use std::path::Path;

use harbor::flash::esp_image::{AppDescriptor, CHIP_ID_ESP32C3, IMAGE_MAGIC};
use harbor::flash::memory_map::RegionKind;
use harbor::flash::{EspChip, EspImage, ImageError, build_images, check_against_elf};
use object::{Object, ObjectSection};
use sha2::{Digest, Sha256};

/// Flash offsets of the ESP32-C3 layout (bootloader, partition table, factory app).
const BOOTLOADER_AT: usize = 0x0;
const PARTITIONS_AT: usize = 0x8000;
const APP_AT: usize = 0x1_0000;
/// `ESP_PARTITION_MAGIC` of a partition table entry.
const PARTITION_MAGIC: [u8; 2] = [0xAA, 0x50];

fn c3_elf() -> (std::path::PathBuf, Vec<u8>) {
    let path = crate::support::qemu::firmware("band-esp32c3");
    let bytes = std::fs::read(&path).unwrap();
    (path, bytes)
}

#[test]
fn the_band_image_matches_its_elf_segment_for_segment() {
    let (path, elf_bytes) = c3_elf();
    let images = build_images(&path, EspChip::Esp32c3).unwrap();
    assert_eq!(images.app.offset as usize, APP_AT);
    let image = EspImage::parse_exact(&images.app.bytes).unwrap();

    let elf = object::File::parse(&*elf_bytes).unwrap();
    assert_eq!(images.app.bytes[0], IMAGE_MAGIC);
    assert_eq!(image.chip_id, CHIP_ID_ESP32C3);
    assert_eq!(u64::from(image.entry), elf.entry());
    assert!(image.hash_appended && image.sha256.is_some());
    assert_eq!(image.wp_pin, 0xEE, "WP pin disabled");
    assert!(image.max_chip_rev_full >= image.min_chip_rev_full);
    assert!(
        image.spi.size_bytes().is_some(),
        "flash size code {}",
        image.spi.size
    );

    let report = check_against_elf(&image, &elf_bytes, EspChip::Esp32c3)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));

    // The ELF's loadable sections, each in a segment of the region its address says.
    let kind_of = |name: &str| {
        report
            .segments
            .iter()
            .find(|s| s.sections.iter().any(|n| n == name))
            .and_then(|s| s.kind)
            .unwrap_or_else(|| panic!("{name} is in no image segment: {:#?}", report.segments))
    };
    assert_eq!(kind_of(".text"), RegionKind::Irom);
    assert_eq!(kind_of(".rodata"), RegionKind::Drom);
    assert_eq!(kind_of(".flash.appdesc"), RegionKind::Drom);
    assert_eq!(kind_of(".trap"), RegionKind::Iram);
    assert_eq!(kind_of(".data"), RegionKind::Dram);
    // Every loaded byte is the ELF's; padding is small (alignment and the bootloader's
    // MMU-page workaround), never a second copy of anything.
    let loaded: usize = report
        .segments
        .iter()
        .filter(|s| s.kind.is_some())
        .map(|s| s.len - s.padding)
        .sum();
    let elf_loaded: u64 = elf
        .sections()
        .filter(|s| s.address() != 0 && s.kind() != object::SectionKind::UninitializedData)
        .filter(|s| s.data().is_ok_and(|d| !d.is_empty()))
        .filter(|s| {
            s.name()
                .is_ok_and(|n| !n.starts_with(".debug") && n != ".comment")
        })
        .map(|s| s.size())
        .sum();
    assert_eq!(loaded as u64, elf_loaded);
    for seg in report.segments.iter().filter(|s| s.kind.is_some()) {
        assert!(seg.padding < 0x30, "{seg:?}");
    }

    // The descriptor: first, from esp_app_desc!(), with the ELF's SHA-256 filled in.
    assert_eq!(report.app.project_name, "band-esp32c3");
    assert_eq!(report.app.version, "0.1.0");
    assert!(report.descriptor_has_elf_sha);
    assert_eq!(
        report.app.app_elf_sha256[..],
        Sha256::digest(&elf_bytes)[..]
    );
    println!(
        "{}: {} B image, {} segments",
        path.display(),
        image.len(),
        image.segments.len()
    );
    for s in &report.segments {
        println!(
            "  {:#010x} {:>6} B (pad {:>2}) {:<30} {:?}",
            s.load_addr, s.len, s.padding, s.region, s.sections
        );
    }
}

#[test]
fn the_merged_file_holds_bootloader_partition_table_and_app_at_their_offsets() {
    let (path, _) = c3_elf();
    let images = build_images(&path, EspChip::Esp32c3).unwrap();
    let merged = images.merged();
    assert_eq!(images.bootloader.offset as usize, BOOTLOADER_AT);
    assert_eq!(images.partition_table.offset as usize, PARTITIONS_AT);

    // The second-stage bootloader is itself an ESP image for the C3 (entry in IRAM).
    let boot = EspImage::parse(&merged[BOOTLOADER_AT..PARTITIONS_AT]).unwrap();
    assert_eq!(boot.chip_id, CHIP_ID_ESP32C3);
    assert!(
        EspChip::Esp32c3
            .region_of(boot.entry.into(), 4)
            .is_some_and(|r| r.kind == RegionKind::Iram)
    );
    // Partition table: 32-byte entries starting with the magic; a factory app at APP_AT.
    let table = &merged[PARTITIONS_AT..PARTITIONS_AT + 0xC00];
    let app_entry = table
        .chunks(32)
        .take_while(|e| e[..2] == PARTITION_MAGIC)
        .find(|e| e[2] == 0x00 && e[3] == 0x00)
        .expect("a factory app partition (type 0, subtype 0)");
    assert_eq!(
        u32::from_le_bytes(app_entry[4..8].try_into().unwrap()) as usize,
        APP_AT
    );
    let app_size = u32::from_le_bytes(app_entry[8..12].try_into().unwrap()) as usize;
    assert!(images.app.bytes.len() <= app_size);
    // The app, byte for byte, with erased flash (0xFF) between the pieces.
    assert_eq!(&merged[APP_AT..], &images.app.bytes[..]);
    assert!(
        merged[BOOTLOADER_AT + images.bootloader.bytes.len()..PARTITIONS_AT]
            .iter()
            .all(|&b| b == 0xFF)
    );
    EspImage::parse(&merged[APP_AT..]).unwrap();
}

#[test]
fn a_corrupted_byte_anywhere_in_the_image_fails_the_check() {
    let (path, elf_bytes) = c3_elf();
    let app = build_images(&path, EspChip::Esp32c3).unwrap().app.bytes;
    let image = EspImage::parse_exact(&app).unwrap();
    // A byte of code (checksum and SHA-256 catch it), the checksum byte, the hash, the header.
    let text = image
        .segments
        .iter()
        .find(|s| (0x4200_0000..0x4280_0000).contains(&s.load_addr))
        .unwrap();
    let cases = [
        ("code", text.data_offset + 100),
        ("checksum", image.checked_len - 1),
        ("appended hash", image.checked_len + 5),
        ("entry point", 5),
    ];
    for (what, at) in cases {
        let mut bad = app.clone();
        bad[at] ^= 0x40;
        let err = EspImage::parse_exact(&bad).expect_err(what);
        println!("{what} at {at:#x}: {err}");
        match what {
            "code" | "checksum" => {
                assert!(matches!(err, ImageError::Checksum { .. }), "{what}: {err}")
            }
            _ => assert!(matches!(err, ImageError::Sha256 { .. }), "{what}: {err}"),
        }
    }
    // A corrupted byte with a recomputed checksum and hash parses, but no longer matches the ELF.
    let mut bad = app.clone();
    bad[text.data_offset + 100] ^= 0x40;
    bad[image.checked_len - 1] ^= 0x40;
    let digest = Sha256::digest(&bad[..image.checked_len]);
    bad[image.checked_len..].copy_from_slice(&digest);
    let resealed = EspImage::parse_exact(&bad).unwrap();
    let err = check_against_elf(&resealed, &elf_bytes, EspChip::Esp32c3).unwrap_err();
    assert!(err.contains(".text byte at"), "{err}");
    // And the wrong chip is named.
    let err = check_against_elf(&image, &elf_bytes, EspChip::Esp32).unwrap_err();
    assert!(err.contains("chip id 0x0005"), "{err}");
}

#[test]
fn the_app_descriptor_reads_back_from_the_image() {
    let (path, _) = c3_elf();
    let app = build_images(&path, EspChip::Esp32c3).unwrap().app.bytes;
    let image = EspImage::parse_exact(&app).unwrap();
    let desc = AppDescriptor::parse(image.app_descriptor().expect("app descriptor first")).unwrap();
    assert_eq!(desc.project_name, "band-esp32c3");
    assert!(
        !desc.date.is_empty() && !desc.idf_ver.is_empty(),
        "{desc:?}"
    );
}

#[test]
fn harbor_image_writes_the_four_files_and_they_check_out() {
    let (path, elf_bytes) = c3_elf();
    let out = tempfile::tempdir().unwrap();
    let run = harbor(&[
        "image",
        path.to_str().unwrap(),
        "--chip",
        "esp32c3",
        "--out",
        out.path().to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(
        stdout.contains("band-esp32c3") && stdout.contains(".text"),
        "{stdout}"
    );
    let read =
        |name: &str| std::fs::read(out.path().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    let app = read("band-esp32c3.bin");
    let image = EspImage::parse_exact(&app).unwrap();
    check_against_elf(&image, &elf_bytes, EspChip::Esp32c3).unwrap();
    let merged = read("band-esp32c3.merged.bin");
    assert_eq!(&merged[APP_AT..], &app[..]);
    assert_eq!(
        &merged[..read("bootloader.bin").len()],
        &read("bootloader.bin")[..]
    );
    let table = read("partition-table.bin");
    assert_eq!(
        &merged[PARTITIONS_AT..PARTITIONS_AT + table.len()],
        &table[..]
    );
}

#[test]
fn harbor_image_on_bad_input_is_a_usage_error_naming_the_file() {
    let out = tempfile::tempdir().unwrap();
    let o = out.path().to_str().unwrap();
    let missing = harbor(&["image", "/no/such/band.elf", "--out", o]);
    assert_eq!(missing.status.code(), Some(2));
    let err = String::from_utf8_lossy(&missing.stderr);
    assert!(
        err.contains("/no/such/band.elf") && err.contains("scripts/build-firmware"),
        "{err}"
    );

    let not_elf = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
    let run = harbor(&["image", not_elf.to_str().unwrap(), "--out", o]);
    assert_eq!(run.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&run.stderr).contains("is not an ELF file"));

    // An ELF for another memory map (QEMU virt) and the C3 image for the Xtensa ESP32.
    let qemu = crate::support::qemu::firmware("band-qemu");
    let run = harbor(&["image", qemu.to_str().unwrap(), "--out", o]);
    let err = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{err}");
    assert!(err.contains("outside the esp32c3's memory map"), "{err}");
    let (path, _) = c3_elf();
    let run = harbor(&[
        "image",
        path.to_str().unwrap(),
        "--chip",
        "esp32",
        "--out",
        o,
    ]);
    let err = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{err}");
    assert!(
        err.contains("built for Riscv32, the esp32 needs Xtensa"),
        "{err}"
    );

    let chip = harbor(&[
        "image",
        path.to_str().unwrap(),
        "--chip",
        "esp32s9",
        "--out",
        o,
    ]);
    assert_eq!(chip.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&chip.stderr).contains("unknown chip `esp32s9`"));
}

#[test]
fn the_rtt_variant_images_too_and_carries_its_rtt_control_block() {
    // The probe target finds the control block through this symbol (docs/hardware.md).
    let path = crate::support::qemu::firmware("band-esp32c3-rtt");
    let elf_bytes = std::fs::read(&path).unwrap();
    let elf = object::File::parse(&*elf_bytes).unwrap();
    use object::ObjectSymbol;
    let rtt = elf
        .symbols()
        .find(|s| s.name() == Ok("_SEGGER_RTT"))
        .expect("_SEGGER_RTT symbol");
    assert!(
        EspChip::Esp32c3
            .region_of(rtt.address(), rtt.size().max(1))
            .is_some_and(|r| r.kind == RegionKind::Dram)
    );
    let images = build_images(&path, EspChip::Esp32c3).unwrap();
    let image = EspImage::parse_exact(&images.app.bytes).unwrap();
    check_against_elf(&image, &elf_bytes, EspChip::Esp32c3).unwrap_or_else(|e| panic!("{e}"));
}
