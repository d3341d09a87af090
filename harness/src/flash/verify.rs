//! Does an ESP app image hold exactly what its ELF says should be loaded? Checked from
//! the ELF's section headers and the chip's memory map, byte for byte.

use object::{Object, ObjectSection, SectionFlags};
use sha2::{Digest, Sha256};

use super::esp_image::{APP_DESC_ELF_SHA_OFFSET, AppDescriptor, EspImage};
use super::memory_map::{EspChip, RegionKind};

/// MMU page size of the flash cache (64 KiB on the C3 and the ESP32).
pub const MMU_PAGE: u64 = 0x1_0000;

/// How one image segment relates to the ELF.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SegmentMatch {
    /// Address the segment loads to.
    pub load_addr: u32,
    /// Segment bytes.
    pub len: usize,
    /// Name of the memory region it falls in.
    pub region: &'static str,
    /// That region's kind; `None` if no region holds it.
    pub kind: Option<RegionKind>,
    /// ELF sections (whole or in part) the segment carries.
    pub sections: Vec<String>,
    /// Zero bytes the ELF does not define (alignment, MMU-page workarounds, filler).
    pub padding: usize,
}

/// The result of a successful check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageReport {
    /// Every segment and where it lands.
    pub segments: Vec<SegmentMatch>,
    /// The app descriptor the image carries.
    pub app: AppDescriptor,
    /// Whether the descriptor's `app_elf_sha256` holds the ELF file's SHA-256.
    pub descriptor_has_elf_sha: bool,
}

struct ElfSection<'a> {
    name: String,
    addr: u64,
    data: &'a [u8],
}

/// Sections the bootloader must load: allocated, with contents in the file, at a real address.
fn loadable_sections<'a>(elf: &object::File<'a>) -> Result<Vec<ElfSection<'a>>, String> {
    let mut out = Vec::new();
    for section in elf.sections() {
        let SectionFlags::Elf { sh_flags, .. } = section.flags() else {
            return Err("not an ELF file".into());
        };
        let alloc = sh_flags.0 & object::elf::SHF_ALLOC.0 != 0;
        if !alloc || section.size() == 0 || section.address() == 0 {
            continue;
        }
        if section.kind() == object::SectionKind::UninitializedData
            || section.kind() == object::SectionKind::UninitializedTls
        {
            continue;
        }
        let data = section.data().map_err(|e| e.to_string())?;
        // NOBITS sections (object reports them with empty data) take no image bytes.
        if data.is_empty() {
            continue;
        }
        out.push(ElfSection {
            name: section.name().unwrap_or("<unnamed>").to_string(),
            addr: section.address(),
            data,
        });
    }
    Ok(out)
}

/// Whether an ELF can become an app image for `chip` at all: its architecture, its app
/// descriptor in DROM (ESP-IDF's bootloader refuses images without one), and every
/// allocated section on the chip's memory map. Checked before espflash sees the ELF.
pub fn check_elf_for_chip(elf_bytes: &[u8], chip: EspChip) -> Result<(), String> {
    let elf = object::File::parse(elf_bytes).map_err(|e| format!("not a readable ELF: {e}"))?;
    let wanted = match chip {
        EspChip::Esp32c3 => object::Architecture::Riscv32,
        EspChip::Esp32 => object::Architecture::Xtensa,
    };
    if elf.architecture() != wanted {
        return Err(format!(
            "it is built for {:?}, the {chip} needs {wanted:?}",
            elf.architecture()
        ));
    }
    for section in elf.sections() {
        let SectionFlags::Elf { sh_flags, .. } = section.flags() else {
            return Err("not an ELF file".into());
        };
        let alloc = sh_flags.0 & object::elf::SHF_ALLOC.0 != 0;
        if !alloc || section.size() == 0 || section.address() == 0 {
            continue;
        }
        if chip.region_of(section.address(), section.size()).is_none() {
            return Err(format!(
                "section {} at {:#x}+{:#x} is outside the {chip}'s memory map (linked for another chip or an emulator?)",
                section.name().unwrap_or("<unnamed>"),
                section.address(),
                section.size()
            ));
        }
    }
    let desc = elf
        .section_by_name(".flash.appdesc")
        .ok_or("it has no .flash.appdesc section: add esp_bootloader_esp_idf::esp_app_desc!() (ESP-IDF's bootloader refuses images without an app descriptor)")?;
    match chip.region_of(desc.address(), desc.size()) {
        Some(r) if r.kind == RegionKind::Drom => Ok(()),
        _ => Err(format!(
            ".flash.appdesc at {:#x} is not in the {chip}'s DROM",
            desc.address()
        )),
    }
}

/// Checks `image` against the ELF it was built from, for `chip`:
/// entry point; chip id; every image segment inside one memory region, flash segments at
/// their MMU page offset; every loadable ELF byte present exactly once with its value
/// (except the descriptor's ELF hash, which the image tool fills in); every other image
/// byte zero; the app descriptor first. The first problem is the error.
pub fn check_against_elf(
    image: &EspImage,
    elf_bytes: &[u8],
    chip: EspChip,
) -> Result<ImageReport, String> {
    let elf = object::File::parse(elf_bytes).map_err(|e| format!("ELF: {e}"))?;
    if image.chip_id != chip.chip_id() {
        return Err(format!(
            "image chip id {:#06x} ({}), expected {:#06x} ({chip})",
            image.chip_id,
            image.chip_name(),
            chip.chip_id()
        ));
    }
    if u64::from(image.entry) != elf.entry() {
        return Err(format!(
            "image entry {:#x}, ELF entry {:#x}",
            image.entry,
            elf.entry()
        ));
    }
    let app_bytes = image
        .app_descriptor()
        .ok_or("first segment does not start with an app descriptor (magic 0xABCD5432)")?;
    let app = AppDescriptor::parse(app_bytes).expect("magic checked");
    let desc_addr = image.segments[0].load_addr as u64;

    // Padding segments (load address 0) carry only zeros and are not loaded.
    let mut segments: Vec<(usize, &super::esp_image::ImageSegment)> = Vec::new();
    let mut matches = Vec::new();
    for (i, seg) in image.segments.iter().enumerate() {
        if seg.load_addr == 0 {
            if seg.data.iter().any(|&b| b != 0) {
                return Err(format!(
                    "padding segment {i} (load address 0) holds non-zero bytes"
                ));
            }
            matches.push(SegmentMatch {
                load_addr: 0,
                len: seg.len(),
                region: "padding",
                kind: None,
                sections: vec![],
                padding: seg.len(),
            });
            continue;
        }
        let region = chip
            .region_of(seg.load_addr.into(), seg.len() as u64)
            .ok_or_else(|| {
                format!(
                    "segment {i} at {:#x}+{:#x} is outside the {chip}'s memory map",
                    seg.load_addr,
                    seg.len()
                )
            })?;
        if region.kind.is_flash()
            && (seg.data_offset as u64 % MMU_PAGE) != (u64::from(seg.load_addr) % MMU_PAGE)
        {
            return Err(format!(
                "flash segment {i} at {:#x} sits at image offset {:#x}: not at its offset in a {MMU_PAGE:#x} MMU page",
                seg.load_addr, seg.data_offset
            ));
        }
        segments.push((i, seg));
        matches.push(SegmentMatch {
            load_addr: seg.load_addr,
            len: seg.len(),
            region: region.name,
            kind: Some(region.kind),
            sections: vec![],
            padding: 0,
        });
    }
    // No two loaded segments may overlap.
    let mut sorted: Vec<_> = segments.clone();
    sorted.sort_by_key(|(_, s)| s.load_addr);
    for pair in sorted.windows(2) {
        let ((a, sa), (b, sb)) = (pair[0], pair[1]);
        if sa.end() > u64::from(sb.load_addr) {
            return Err(format!(
                "segments {a} and {b} overlap at {:#x}",
                sb.load_addr
            ));
        }
    }

    let elf_sha = Sha256::digest(elf_bytes);
    let sha_field =
        desc_addr + APP_DESC_ELF_SHA_OFFSET as u64..desc_addr + APP_DESC_ELF_SHA_OFFSET as u64 + 32;
    let mut descriptor_has_elf_sha = false;
    // Bytes of each segment the ELF defines.
    let mut covered: Vec<Vec<bool>> = image
        .segments
        .iter()
        .map(|s| vec![false; s.len()])
        .collect();
    for section in loadable_sections(&elf)? {
        let end = section.addr + section.data.len() as u64;
        let mut addr = section.addr;
        while addr < end {
            let &(i, seg) = sorted
                .iter()
                .find(|(_, s)| u64::from(s.load_addr) <= addr && addr < s.end())
                .ok_or_else(|| {
                    format!("{} byte at {addr:#x} is in no image segment", section.name)
                })?;
            let chunk_end = end.min(seg.end());
            let (from, to) = (
                (addr - u64::from(seg.load_addr)) as usize,
                (chunk_end - u64::from(seg.load_addr)) as usize,
            );
            let expected =
                &section.data[(addr - section.addr) as usize..(chunk_end - section.addr) as usize];
            let actual = &seg.data[from..to];
            for (k, (e, a)) in expected.iter().zip(actual).enumerate() {
                let at = addr + k as u64;
                if e == a {
                    continue;
                }
                if sha_field.contains(&at) && elf_sha[(at - sha_field.start) as usize] == *a {
                    continue;
                }
                return Err(format!(
                    "{} byte at {at:#x}: image segment {i} holds {a:#04x}, ELF {e:#04x}",
                    section.name
                ));
            }
            covered[i][from..to].iter_mut().for_each(|c| *c = true);
            let m = &mut matches[i];
            if !m.sections.contains(&section.name) {
                m.sections.push(section.name.clone());
            }
            addr = chunk_end;
        }
    }
    if image.segments[0].data[APP_DESC_ELF_SHA_OFFSET..APP_DESC_ELF_SHA_OFFSET + 32] == elf_sha[..]
    {
        descriptor_has_elf_sha = true;
    }
    for (i, seg) in segments {
        for (k, (&b, &c)) in seg.data.iter().zip(&covered[i]).enumerate() {
            if !c {
                if b != 0 {
                    return Err(format!(
                        "segment {i} byte at {:#x} is {b:#04x} but no ELF section defines it",
                        u64::from(seg.load_addr) + k as u64
                    ));
                }
                matches[i].padding += 1;
            }
        }
    }
    Ok(ImageReport {
        segments: matches,
        app,
        descriptor_has_elf_sha,
    })
}
