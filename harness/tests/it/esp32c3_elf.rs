//! The ESP32-C3 image (`firmware/band-esp32c3`, built by scripts/build-firmware) cannot run
//! here; this checks that what CI built is a plausible C3 application: where its entry point
//! and segments lie on the C3's memory map, and the ESP-IDF app descriptor its bootloader
//! checks.

use object::{Object, ObjectSection, ObjectSegment, SectionFlags};

/// ESP32-C3 address ranges (ESP32-C3 Technical Reference Manual, "System and Memory",
/// internal/external memory address mapping): name, start, end (exclusive).
const IROM: (&str, u64, u64) = ("IROM (flash, instruction bus)", 0x4200_0000, 0x4280_0000);
const DROM: (&str, u64, u64) = ("DROM (flash, data bus)", 0x3C00_0000, 0x3C80_0000);
const IRAM: (&str, u64, u64) = ("IRAM (SRAM, instruction bus)", 0x4037_C000, 0x403E_0000);
const DRAM: (&str, u64, u64) = ("DRAM (SRAM, data bus)", 0x3FC7_C000, 0x3FCE_0000);
const RTC_FAST: (&str, u64, u64) = ("RTC fast memory", 0x5000_0000, 0x5000_2000);
const REGIONS: [(&str, u64, u64); 5] = [IROM, DROM, IRAM, DRAM, RTC_FAST];

/// `ESP_APP_DESC_MAGIC_WORD` of ESP-IDF's `esp_app_format.h`.
const APP_DESC_MAGIC: u32 = 0xABCD_5432;

fn region_of(addr: u64, size: u64) -> Option<&'static str> {
    REGIONS
        .iter()
        .find(|(_, start, end)| addr >= *start && addr + size <= *end)
        .map(|(name, _, _)| *name)
}

fn within(region: (&str, u64, u64), addr: u64, size: u64) -> bool {
    addr >= region.1 && addr + size <= region.2
}

fn c_string(bytes: &[u8]) -> &str {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    std::str::from_utf8(&bytes[..end]).unwrap()
}

/// Where an image's allocated sections lie, once every one is on the C3's memory map.
struct Layout {
    entry_section: String,
    text_size: u64,
    flash: u64,
    ram: u64,
}

/// Checks entry point and sections against the C3's memory map; the first problem found.
fn c3_layout(elf: &object::File<'_>) -> Result<Layout, String> {
    let entry = elf.entry();
    let mut text_size = 0;
    let (mut flash, mut ram) = (0u64, 0u64);
    let mut entry_section = None;
    for section in elf.sections() {
        let SectionFlags::Elf { sh_flags, .. } = section.flags() else {
            return Err("not an ELF file".into());
        };
        let alloc = sh_flags.0 & object::elf::SHF_ALLOC.0 != 0;
        if !alloc || section.size() == 0 {
            continue;
        }
        let name = section.name().map_err(|e| e.to_string())?;
        let (addr, size) = (section.address(), section.size());
        let region = region_of(addr, size).ok_or_else(|| {
            format!("{name} at {addr:#x}+{size:#x} is outside the C3's memory map")
        })?;
        let exec = sh_flags.0 & object::elf::SHF_EXECINSTR.0 != 0;
        let write = sh_flags.0 & object::elf::SHF_WRITE.0 != 0;
        if exec && !(within(IROM, addr, size) || within(IRAM, addr, size)) {
            return Err(format!("executable {name} in {region}"));
        }
        if write && !(within(DRAM, addr, size) || within(RTC_FAST, addr, size)) {
            return Err(format!("writable {name} in {region}"));
        }
        // `*_dummy` sections only reserve address space for the cache MMU mapping.
        if name.ends_with("_dummy") {
            continue;
        }
        if within(IROM, addr, size) || within(DROM, addr, size) {
            flash += size;
        } else {
            ram += size;
        }
        if name == ".text" {
            if !within(IROM, addr, size) {
                return Err(format!(".text in {region}"));
            }
            text_size = size;
        }
        if exec && entry >= addr && entry < addr + size {
            entry_section = Some(name.to_string());
        }
    }
    // Program headers too: the image tool (espflash / esptool elf2image) works from these.
    for segment in elf.segments() {
        let (addr, size) = (segment.address(), segment.size());
        if size > 0 && region_of(addr, size).is_none() {
            return Err(format!(
                "segment at {addr:#x}+{size:#x} is outside the C3's memory map"
            ));
        }
    }
    if text_size == 0 {
        return Err(".text is missing or empty".into());
    }
    let entry_section =
        entry_section.ok_or_else(|| format!("entry {entry:#x} is in no executable section"))?;
    Ok(Layout {
        entry_section,
        text_size,
        flash,
        ram,
    })
}

#[test]
fn the_esp32c3_image_lies_on_the_c3_memory_map_with_an_app_descriptor() {
    let path = crate::support::qemu::firmware("band-esp32c3");
    let bytes = std::fs::read(&path).unwrap();
    let elf = object::File::parse(&*bytes).unwrap();
    assert_eq!(elf.architecture(), object::Architecture::Riscv32);
    assert!(elf.is_little_endian());
    let layout = c3_layout(&elf).unwrap_or_else(|e| panic!("{}: {e}", path.display()));

    // The descriptor the ESP-IDF bootloader reads at the start of the flash data segment.
    let desc = elf
        .section_by_name(".flash.appdesc")
        .expect("no .flash.appdesc section: esp_app_desc!() missing");
    assert!(within(DROM, desc.address(), desc.size()));
    let data = desc.data().unwrap();
    assert_eq!(data.len(), 256, "esp_app_desc_t is 256 bytes");
    let magic = u32::from_le_bytes(data[..4].try_into().unwrap());
    assert_eq!(magic, APP_DESC_MAGIC, "app descriptor magic");
    // esp_app_desc_t: version[32] at 16, project_name[32] at 48.
    assert_eq!(c_string(&data[16..48]), "0.1.0");
    assert_eq!(c_string(&data[48..80]), "band-esp32c3");

    println!(
        "{}: entry {:#x} in {}, .text {} B, flash (IROM+DROM) {} B, RAM (IRAM+DRAM, stack included) {} B",
        path.display(),
        elf.entry(),
        layout.entry_section,
        layout.text_size,
        layout.flash,
        layout.ram
    );
}

#[test]
fn the_layout_check_rejects_an_image_linked_for_another_memory_map() {
    // band-qemu is RV32IMC too, but linked at QEMU virt's 0x8000_0000.
    let path = crate::support::qemu::firmware("band-qemu");
    let bytes = std::fs::read(&path).unwrap();
    let elf = object::File::parse(&*bytes).unwrap();
    let err = c3_layout(&elf)
        .err()
        .expect("band-qemu must not pass as a C3 image");
    assert!(err.contains("outside the C3's memory map"), "{err}");
}
