//! A reader for ESP-IDF application images, written from the format's specification
//! (ESP-IDF "App Image Format": `esp_image_header_t`, `esp_image_segment_header_t`,
//! checksum, appended SHA-256) and independent of the tool that wrote the image. harbor
//! uses it to check the images espflash builds and images users bring.

use sha2::{Digest, Sha256};

/// `ESP_IMAGE_HEADER_MAGIC`.
pub const IMAGE_MAGIC: u8 = 0xE9;
/// Seed of the XOR checksum over all segment data (`ESP_ROM_CHECKSUM_INITIAL`).
pub const CHECKSUM_SEED: u8 = 0xEF;
/// `ESP_APP_DESC_MAGIC_WORD`, first word of `esp_app_desc_t`.
pub const APP_DESC_MAGIC: u32 = 0xABCD_5432;
/// `esp_image_header_t` (common 8 bytes + extended 16 bytes).
pub const HEADER_LEN: usize = 24;
const SEGMENT_HEADER_LEN: usize = 8;
/// `ESP_IMAGE_MAX_SEGMENTS`.
const MAX_SEGMENTS: u8 = 16;
/// `esp_app_desc_t` is 256 bytes; `app_elf_sha256[32]` sits at offset 144.
pub const APP_DESC_LEN: usize = 256;
/// Offset of the ELF SHA-256 inside `esp_app_desc_t`.
pub const APP_DESC_ELF_SHA_OFFSET: usize = 144;

/// `esp_chip_id_t` values.
pub const CHIP_ID_ESP32: u16 = 0x0000;
/// Image header chip id of the ESP32-S2.
pub const CHIP_ID_ESP32S2: u16 = 0x0002;
/// Image header chip id of the ESP32-C3.
pub const CHIP_ID_ESP32C3: u16 = 0x0005;
/// Image header chip id of the ESP32-S3.
pub const CHIP_ID_ESP32S3: u16 = 0x0009;
/// Image header chip id of the ESP32-C2.
pub const CHIP_ID_ESP32C2: u16 = 0x000C;
/// Image header chip id of the ESP32-C6.
pub const CHIP_ID_ESP32C6: u16 = 0x000D;
/// Image header chip id of the ESP32-H2.
pub const CHIP_ID_ESP32H2: u16 = 0x0010;

/// Why bytes are not a valid ESP app image.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImageError {
    /// Shorter than the header.
    #[error("image is {len} bytes, shorter than the {HEADER_LEN}-byte header")]
    TooShort {
        /// Image bytes.
        len: usize,
    },
    /// The first byte is not the image magic.
    #[error("magic byte is {found:#04x}, expected {IMAGE_MAGIC:#04x}")]
    BadMagic {
        /// The byte found.
        found: u8,
    },
    /// More segments than the ROM loader takes.
    #[error("{count} segments declared; at most {MAX_SEGMENTS} are allowed")]
    TooManySegments {
        /// Segments declared.
        count: u8,
    },
    /// A segment runs past the end of the image.
    #[error("segment {index} at offset {offset:#x} runs past the end of the image ({len} bytes)")]
    Truncated {
        /// Segment index.
        index: usize,
        /// Offset of its header.
        offset: usize,
        /// Image bytes.
        len: usize,
    },
    /// A segment's length is not a multiple of 4.
    #[error("segment {index} length {length:#x} is not a multiple of 4")]
    UnalignedSegment {
        /// Segment index.
        index: usize,
        /// Its length.
        length: u32,
    },
    /// The checksum byte does not match the segments.
    #[error(
        "checksum byte at offset {offset:#x} is {stored:#04x}, segments XOR to {computed:#04x}"
    )]
    Checksum {
        /// Offset of the checksum byte.
        offset: usize,
        /// The stored value.
        stored: u8,
        /// The value the segments give.
        computed: u8,
    },
    /// The appended SHA-256 does not match.
    #[error("appended SHA-256 does not match the image (stored {stored}, computed {computed})")]
    Sha256 {
        /// Stored digest (hex).
        stored: String,
        /// Computed digest (hex).
        computed: String,
    },
    /// The header promises an appended SHA-256 the image lacks.
    #[error("image ends at {offset:#x} where its appended SHA-256 should be")]
    MissingSha256 {
        /// Where it should start.
        offset: usize,
    },
    /// Bytes after the image's end.
    #[error("{extra} bytes follow the image's end at {offset:#x}")]
    TrailingBytes {
        /// The image's end.
        offset: usize,
        /// Extra bytes.
        extra: usize,
    },
}

/// SPI flash parameters from the header's bytes 2 and 3.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SpiFlash {
    /// 0 QIO, 1 QOUT, 2 DIO, 3 DOUT.
    pub mode: u8,
    /// Low nibble of byte 3: a chip-specific frequency code (C3: 0 = 40 MHz, 0xF = 80 MHz).
    pub speed: u8,
    /// High nibble of byte 3: 0 = 1 MB, 1 = 2 MB, 2 = 4 MB, 3 = 8 MB, 4 = 16 MB.
    pub size: u8,
}

impl SpiFlash {
    /// The mode's esptool name (`qio`, `dio`, …).
    pub fn mode_name(&self) -> &'static str {
        match self.mode {
            0 => "QIO",
            1 => "QOUT",
            2 => "DIO",
            3 => "DOUT",
            _ => "unknown",
        }
    }

    /// Flash size in bytes, when the code is known.
    pub fn size_bytes(&self) -> Option<u32> {
        (self.size <= 7).then(|| (1u32 << 20) << self.size)
    }
}

/// One segment: where the bootloader puts it, and where its data sits in the image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageSegment {
    /// Address the ROM loads the segment to.
    pub load_addr: u32,
    /// Offset of the segment's data (after its 8-byte header) in the image.
    pub data_offset: usize,
    /// The segment's bytes.
    pub data: Vec<u8>,
}

impl ImageSegment {
    /// Bytes in the segment.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// Whether the segment is empty.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// First address past the segment.
    pub fn end(&self) -> u64 {
        u64::from(self.load_addr) + self.data.len() as u64
    }
}

/// A parsed, verified ESP app image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EspImage {
    /// Entry point address.
    pub entry: u32,
    /// SPI flash mode, speed and size from the header.
    pub spi: SpiFlash,
    /// Write-protect pin setting.
    pub wp_pin: u8,
    /// Chip id (`CHIP_ID_*`).
    pub chip_id: u16,
    /// Deprecated one-byte minimum revision, and the full `major*100+minor` ones.
    pub min_chip_rev: u8,
    /// Lowest chip revision, `major*100+minor`.
    pub min_chip_rev_full: u16,
    /// Highest chip revision, `major*100+minor`.
    pub max_chip_rev_full: u16,
    /// Whether a SHA-256 follows the checksum.
    pub hash_appended: bool,
    /// The load segments in image order.
    pub segments: Vec<ImageSegment>,
    /// The stored XOR checksum.
    pub checksum: u8,
    /// Image bytes covered by the checksum (header through checksum byte).
    pub checked_len: usize,
    /// The appended SHA-256, if any.
    pub sha256: Option<[u8; 32]>,
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl EspImage {
    /// Parses `bytes` and verifies the checksum and, when the header says one is appended,
    /// the SHA-256. Bytes after the image (e.g. flash padding) are ignored.
    pub fn parse(bytes: &[u8]) -> Result<Self, ImageError> {
        if bytes.len() < HEADER_LEN {
            return Err(ImageError::TooShort { len: bytes.len() });
        }
        if bytes[0] != IMAGE_MAGIC {
            return Err(ImageError::BadMagic { found: bytes[0] });
        }
        let count = bytes[1];
        if count > MAX_SEGMENTS {
            return Err(ImageError::TooManySegments { count });
        }
        let spi = SpiFlash {
            mode: bytes[2],
            speed: bytes[3] & 0x0F,
            size: bytes[3] >> 4,
        };
        let mut segments = Vec::with_capacity(count as usize);
        let mut at = HEADER_LEN;
        let mut checksum = CHECKSUM_SEED;
        for index in 0..count as usize {
            if at + SEGMENT_HEADER_LEN > bytes.len() {
                return Err(ImageError::Truncated {
                    index,
                    offset: at,
                    len: bytes.len(),
                });
            }
            let load_addr = u32_at(bytes, at);
            let length = u32_at(bytes, at + 4);
            if !length.is_multiple_of(4) {
                return Err(ImageError::UnalignedSegment { index, length });
            }
            let data_offset = at + SEGMENT_HEADER_LEN;
            let end = data_offset
                .checked_add(length as usize)
                .filter(|&end| end <= bytes.len())
                .ok_or(ImageError::Truncated {
                    index,
                    offset: at,
                    len: bytes.len(),
                })?;
            let data = bytes[data_offset..end].to_vec();
            checksum = data.iter().fold(checksum, |c, b| c ^ b);
            segments.push(ImageSegment {
                load_addr,
                data_offset,
                data,
            });
            at = end;
        }
        // Zero padding so that the checksum is the last byte of a 16-byte block.
        let checksum_at = at + (15 - at % 16);
        if checksum_at >= bytes.len() {
            return Err(ImageError::Truncated {
                index: count as usize,
                offset: at,
                len: bytes.len(),
            });
        }
        let stored = bytes[checksum_at];
        if stored != checksum {
            return Err(ImageError::Checksum {
                offset: checksum_at,
                stored,
                computed: checksum,
            });
        }
        let checked_len = checksum_at + 1;
        let hash_appended = bytes[23] == 1;
        let sha256 = if hash_appended {
            let digest =
                bytes
                    .get(checked_len..checked_len + 32)
                    .ok_or(ImageError::MissingSha256 {
                        offset: checked_len,
                    })?;
            let computed = Sha256::digest(&bytes[..checked_len]);
            if computed.as_slice() != digest {
                return Err(ImageError::Sha256 {
                    stored: hex(digest),
                    computed: hex(&computed),
                });
            }
            Some(digest.try_into().expect("32 bytes"))
        } else {
            None
        };
        Ok(Self {
            entry: u32_at(bytes, 4),
            spi,
            wp_pin: bytes[8],
            chip_id: u16_at(bytes, 12),
            min_chip_rev: bytes[14],
            min_chip_rev_full: u16_at(bytes, 15),
            max_chip_rev_full: u16_at(bytes, 17),
            hash_appended,
            segments,
            checksum,
            checked_len,
            sha256,
        })
    }

    /// Parses an image file that must hold exactly one image: trailing bytes are an error
    /// (they would hide a cleared `hash_appended` flag, which the hash itself cannot cover).
    pub fn parse_exact(bytes: &[u8]) -> Result<Self, ImageError> {
        let image = Self::parse(bytes)?;
        match bytes.len() - image.len() {
            0 => Ok(image),
            extra => Err(ImageError::TrailingBytes {
                offset: image.len(),
                extra,
            }),
        }
    }

    /// Image length including the appended hash.
    pub fn len(&self) -> usize {
        self.checked_len + if self.hash_appended { 32 } else { 0 }
    }

    /// Whether the image has no segments.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The chip's name for a known `chip_id`.
    pub fn chip_name(&self) -> &'static str {
        match self.chip_id {
            CHIP_ID_ESP32 => "esp32",
            CHIP_ID_ESP32S2 => "esp32s2",
            CHIP_ID_ESP32C3 => "esp32c3",
            CHIP_ID_ESP32S3 => "esp32s3",
            CHIP_ID_ESP32C2 => "esp32c2",
            CHIP_ID_ESP32C6 => "esp32c6",
            CHIP_ID_ESP32H2 => "esp32h2",
            _ => "unknown chip",
        }
    }

    /// The `esp_app_desc_t` bytes: ESP-IDF requires it at the start of the first segment.
    pub fn app_descriptor(&self) -> Option<&[u8]> {
        let data = &self.segments.first()?.data;
        (data.len() >= APP_DESC_LEN && u32_at(data, 0) == APP_DESC_MAGIC)
            .then(|| &data[..APP_DESC_LEN])
    }
}

/// Fields of `esp_app_desc_t` a report can print.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppDescriptor {
    /// Anti-rollback security version.
    pub secure_version: u32,
    /// Application version string.
    pub version: String,
    /// Project name.
    pub project_name: String,
    /// Build time.
    pub time: String,
    /// Build date.
    pub date: String,
    /// ESP-IDF version string (or the HAL's).
    pub idf_ver: String,
    /// SHA-256 of the application ELF.
    pub app_elf_sha256: [u8; 32],
}

fn c_string(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

impl AppDescriptor {
    /// Reads a 256-byte `esp_app_desc_t`; `None` if the magic word is wrong.
    pub fn parse(d: &[u8]) -> Option<Self> {
        if d.len() < APP_DESC_LEN || u32_at(d, 0) != APP_DESC_MAGIC {
            return None;
        }
        Some(Self {
            secure_version: u32_at(d, 4),
            version: c_string(&d[16..48]),
            project_name: c_string(&d[48..80]),
            time: c_string(&d[80..96]),
            date: c_string(&d[96..112]),
            idf_ver: c_string(&d[112..144]),
            app_elf_sha256: d[144..176].try_into().expect("32 bytes"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A hand-built two-segment image per the spec: header, segments, padding, checksum, hash.
    fn image(hash: bool) -> Vec<u8> {
        let mut b = vec![IMAGE_MAGIC, 2, 2, 0x2F];
        b.extend(0x4200_0010u32.to_le_bytes());
        b.extend([0xEE, 0, 0, 0]);
        b.extend(CHIP_ID_ESP32C3.to_le_bytes());
        b.push(0);
        b.extend(3u16.to_le_bytes());
        b.extend(199u16.to_le_bytes());
        b.extend([0; 4]);
        b.push(hash as u8);
        assert_eq!(b.len(), HEADER_LEN);
        let segs: [(u32, &[u8]); 2] = [(0x3C00_0020, &[1, 2, 3, 4]), (0x4038_0000, &[0x10; 8])];
        let mut sum = CHECKSUM_SEED;
        for (addr, data) in segs {
            b.extend(addr.to_le_bytes());
            b.extend((data.len() as u32).to_le_bytes());
            b.extend(data);
            sum = data.iter().fold(sum, |c, x| c ^ x);
        }
        while b.len() % 16 != 15 {
            b.push(0);
        }
        b.push(sum);
        if hash {
            let digest = Sha256::digest(&b);
            b.extend(digest);
        }
        b
    }

    #[test]
    fn a_spec_built_image_parses_with_every_field() {
        let bytes = image(true);
        let img = EspImage::parse(&bytes).unwrap();
        assert_eq!(img.entry, 0x4200_0010);
        assert_eq!(img.chip_id, CHIP_ID_ESP32C3);
        assert_eq!(img.chip_name(), "esp32c3");
        assert_eq!((img.min_chip_rev_full, img.max_chip_rev_full), (3, 199));
        assert_eq!(
            img.spi,
            SpiFlash {
                mode: 2,
                speed: 0xF,
                size: 2
            }
        );
        assert_eq!(img.spi.size_bytes(), Some(4 << 20));
        assert_eq!(img.segments.len(), 2);
        assert_eq!(img.segments[1].load_addr, 0x4038_0000);
        assert_eq!(img.segments[1].data_offset, HEADER_LEN + 8 + 4 + 8);
        assert_eq!(img.len(), bytes.len());
        assert_eq!(img.checked_len % 16, 0);
        assert!(img.app_descriptor().is_none());
    }

    #[test]
    fn without_a_hash_the_image_ends_at_the_checksum() {
        let bytes = image(false);
        let img = EspImage::parse(&bytes).unwrap();
        assert_eq!((img.sha256, img.len()), (None, bytes.len()));
    }

    #[test]
    fn every_single_byte_corruption_is_caught() {
        let bytes = image(true);
        for at in 0..bytes.len() {
            let mut bad = bytes.clone();
            bad[at] ^= 0x01;
            if let Ok(img) = EspImage::parse_exact(&bad) {
                panic!("flipping byte {at} went unnoticed: {img:?}");
            }
        }
    }

    #[test]
    fn wrong_magic_and_short_input_are_named() {
        let mut bytes = image(true);
        bytes[0] = 0xE8;
        assert_eq!(
            EspImage::parse(&bytes),
            Err(ImageError::BadMagic { found: 0xE8 })
        );
        assert_eq!(
            EspImage::parse(&[0xE9; 5]),
            Err(ImageError::TooShort { len: 5 })
        );
    }
}
