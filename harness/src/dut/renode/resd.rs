//! The RESD (Renode Sensor Data) container: bytes out and back in.
//!
//! Layout (all little-endian; sources and their disagreements in `docs/renode.md`):
//!
//! ```text
//! file header   "RESD" | version u8 = 1 | 3 zero bytes
//! block header  block type u8 | sample type u16 | channel id u16 | data size u64
//! subheader     start time u64 (virtual ns) | period u64 (ns)      (constant frequency)
//! metadata      size u64 (0 here) | size bytes of items
//! samples       acceleration / angular rate: x, y, z as i32
//! ```
//!
//! `data size` counts every byte after the block header: subheader, metadata size field,
//! metadata and samples. harbor writes only constant-frequency blocks because Renode's
//! parser skips every other block type.

use std::path::{Path, PathBuf};

/// File magic.
pub const MAGIC: [u8; 4] = *b"RESD";
/// The only format version Renode accepts.
pub const VERSION: u8 = 0x01;
/// Magic, version, three padding bytes.
pub const FILE_HEADER_LEN: usize = 8;
/// Block type, sample type, channel id, data size.
pub const BLOCK_HEADER_LEN: usize = 1 + 2 + 2 + 8;
/// Start time and period.
pub const CONSTANT_FREQUENCY_SUBHEADER_LEN: usize = 8 + 8;
/// The metadata section's size field.
pub const METADATA_SIZE_LEN: usize = 8;
/// Three i32 axes.
pub const VECTOR_SAMPLE_LEN: usize = 12;

/// Block type byte of a constant-frequency block (`0x01` is arbitrary timestamps).
pub const CONSTANT_FREQUENCY: u8 = 0x02;
const ARBITRARY_TIMESTAMP: u8 = 0x01;

/// The sample types harbor writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SampleType {
    /// x, y, z in micro-g (10⁻⁶ g).
    Acceleration,
    /// x, y, z in 10⁻⁵ rad/s.
    AngularRate,
}

impl SampleType {
    /// The type's code in the RESD header.
    pub fn code(self) -> u16 {
        match self {
            SampleType::Acceleration => 0x0002,
            SampleType::AngularRate => 0x0003,
        }
    }

    /// The type with RESD code `code`, if harbor knows it.
    pub fn from_code(code: u16) -> Option<Self> {
        match code {
            0x0002 => Some(SampleType::Acceleration),
            0x0003 => Some(SampleType::AngularRate),
            _ => None,
        }
    }

    /// The unit of one sample value.
    pub fn unit(self) -> &'static str {
        match self {
            SampleType::Acceleration => "µg",
            SampleType::AngularRate => "1e-5 rad/s",
        }
    }
}

/// One constant-frequency block: sample `k` is at `start_ns + k * period_ns` virtual ns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    /// What the samples measure.
    pub sample_type: SampleType,
    /// RESD channel id.
    pub channel: u16,
    /// Virtual time of the first sample (ns).
    pub start_ns: u64,
    /// Time between samples (ns).
    pub period_ns: u64,
    /// Three-axis samples in the type's unit.
    pub samples: Vec<[i32; 3]>,
}

impl Block {
    /// Virtual time of sample `k`.
    pub fn time_ns(&self, k: usize) -> u64 {
        self.start_ns + k as u64 * self.period_ns
    }

    /// The block's `data size` field: everything after its header.
    pub fn data_size(&self) -> u64 {
        (CONSTANT_FREQUENCY_SUBHEADER_LEN
            + METADATA_SIZE_LEN
            + self.samples.len() * VECTOR_SAMPLE_LEN) as u64
    }
}

/// A whole RESD file: blocks in file order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ResdFile {
    /// The file's blocks, in order.
    pub blocks: Vec<Block>,
}

/// Why a RESD file could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum ResdError {
    /// Reading or writing the file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// Malformed bytes; `offset` is the byte where the problem starts.
    #[error("{path}: byte {offset}: {reason}")]
    Format {
        /// The file.
        path: PathBuf,
        /// Byte offset where the problem starts.
        offset: usize,
        /// Why.
        reason: String,
    },
    /// Input harbor cannot express in RESD.
    #[error("RESD input: {0}")]
    Input(String),
}

impl ResdFile {
    /// Serialises the file. Blocks with more than one sample need a non-zero period
    /// (the spec calls period 0 invalid then); [`ResdFile::check`] enforces it.
    pub fn to_bytes(&self) -> Result<Vec<u8>, ResdError> {
        self.check()?;
        let len = FILE_HEADER_LEN
            + self
                .blocks
                .iter()
                .map(|b| BLOCK_HEADER_LEN + b.data_size() as usize)
                .sum::<usize>();
        let mut out = Vec::with_capacity(len);
        out.extend_from_slice(&MAGIC);
        out.push(VERSION);
        out.extend_from_slice(&[0; 3]);
        for block in &self.blocks {
            out.push(CONSTANT_FREQUENCY);
            out.extend_from_slice(&block.sample_type.code().to_le_bytes());
            out.extend_from_slice(&block.channel.to_le_bytes());
            out.extend_from_slice(&block.data_size().to_le_bytes());
            out.extend_from_slice(&block.start_ns.to_le_bytes());
            out.extend_from_slice(&block.period_ns.to_le_bytes());
            // Standard sample types carry no metadata (spec: "metadata size set to 0").
            out.extend_from_slice(&0u64.to_le_bytes());
            for sample in &block.samples {
                for axis in sample {
                    out.extend_from_slice(&axis.to_le_bytes());
                }
            }
        }
        Ok(out)
    }

    /// Writes the file to `path`.
    pub fn write(&self, path: &Path) -> Result<(), ResdError> {
        let bytes = self.to_bytes()?;
        std::fs::write(path, bytes).map_err(|source| ResdError::Io {
            path: path.to_path_buf(),
            source,
        })
    }

    /// Reads and checks the file at `path`.
    pub fn read(path: &Path) -> Result<Self, ResdError> {
        let bytes = std::fs::read(path).map_err(|source| ResdError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&bytes, path)
    }

    fn check(&self) -> Result<(), ResdError> {
        for (i, b) in self.blocks.iter().enumerate() {
            if b.samples.len() > 1 && b.period_ns == 0 {
                return Err(ResdError::Input(format!(
                    "block {i} has {} samples and period 0",
                    b.samples.len()
                )));
            }
            let end = (b.samples.len() as u64)
                .checked_mul(b.period_ns)
                .and_then(|d| d.checked_add(b.start_ns));
            if end.is_none() {
                return Err(ResdError::Input(format!(
                    "block {i} runs past the u64 nanosecond range"
                )));
            }
        }
        Ok(())
    }

    /// Parses bytes harbor (or Renode's csv2resd) wrote; `path` names them in errors.
    /// Only constant-frequency acceleration / angular-rate blocks are understood; any other
    /// block is an error rather than a silent skip.
    pub fn parse(bytes: &[u8], path: &Path) -> Result<Self, ResdError> {
        let mut r = Reader {
            bytes,
            pos: 0,
            path,
        };
        let magic: [u8; 4] = r.array("file magic")?;
        if magic != MAGIC {
            return Err(r.error_at(0, format!("magic is {magic:02x?}, not \"RESD\"")));
        }
        let version = r.u8("version")?;
        if version != VERSION {
            return Err(r.error_at(4, format!("version {version} (only 1 is defined)")));
        }
        if r.take(3, "header padding")? != [0, 0, 0] {
            return Err(r.error_at(5, "header padding is not zero".into()));
        }
        let mut blocks = Vec::new();
        while r.pos < bytes.len() {
            let block_at = r.pos;
            let block_type = r.u8("block type")?;
            let code = r.u16("sample type")?;
            let channel = r.u16("channel id")?;
            let data_size = r.u64("data size")?;
            let data_start = r.pos;
            let data_end = usize::try_from(data_size)
                .ok()
                .and_then(|n| data_start.checked_add(n))
                .filter(|&end| end <= bytes.len())
                .ok_or_else(|| {
                    r.error_at(
                        block_at + 5,
                        format!(
                            "data size {data_size} runs past the end of the file ({} bytes)",
                            bytes.len()
                        ),
                    )
                })?;
            if block_type != CONSTANT_FREQUENCY {
                let what = if block_type == ARBITRARY_TIMESTAMP {
                    "arbitrary-timestamp"
                } else {
                    "unknown"
                };
                return Err(r.error_at(block_at, format!("{what} block type 0x{block_type:02x}: only constant-frequency blocks (0x02) are read, as in Renode")));
            }
            let sample_type = SampleType::from_code(code)
                .ok_or_else(|| r.error_at(block_at + 1, format!("sample type 0x{code:04x} is not acceleration (0x0002) or angular rate (0x0003)")))?;
            let mut block_reader = Reader {
                bytes: &bytes[..data_end],
                pos: data_start,
                path,
            };
            let start_ns = block_reader.u64("start time")?;
            let period_ns = block_reader.u64("period")?;
            let metadata_at = block_reader.pos;
            let metadata_size = block_reader.u64("metadata size")?;
            if metadata_size != 0 {
                return Err(r.error_at(metadata_at, format!("metadata of {metadata_size} bytes on a standard sample type (the spec sets it to 0)")));
            }
            let payload = data_end - block_reader.pos;
            if !payload.is_multiple_of(VECTOR_SAMPLE_LEN) {
                return Err(r.error_at(
                    block_reader.pos,
                    format!("{payload} sample bytes are not whole 12-byte samples"),
                ));
            }
            let mut samples = Vec::with_capacity(payload / VECTOR_SAMPLE_LEN);
            while block_reader.pos < data_end {
                samples.push([
                    block_reader.i32("x")?,
                    block_reader.i32("y")?,
                    block_reader.i32("z")?,
                ]);
            }
            if samples.len() > 1 && period_ns == 0 {
                return Err(r.error_at(
                    data_start + 8,
                    "period 0 in a block of more than one sample".into(),
                ));
            }
            blocks.push(Block {
                sample_type,
                channel,
                start_ns,
                period_ns,
                samples,
            });
            r.pos = data_end;
        }
        Ok(ResdFile { blocks })
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    path: &'a Path,
}

impl Reader<'_> {
    fn error_at(&self, offset: usize, reason: String) -> ResdError {
        ResdError::Format {
            path: self.path.to_path_buf(),
            offset,
            reason,
        }
    }

    fn take(&mut self, n: usize, what: &str) -> Result<&[u8], ResdError> {
        let end = self.pos + n;
        if end > self.bytes.len() {
            return Err(self.error_at(
                self.pos,
                format!(
                    "truncated {what}: needs {n} bytes, {} left",
                    self.bytes.len() - self.pos
                ),
            ));
        }
        let slice = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(slice)
    }

    fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N], ResdError> {
        let mut out = [0; N];
        out.copy_from_slice(self.take(N, what)?);
        Ok(out)
    }

    fn u8(&mut self, what: &str) -> Result<u8, ResdError> {
        Ok(self.array::<1>(what)?[0])
    }

    fn u16(&mut self, what: &str) -> Result<u16, ResdError> {
        Ok(u16::from_le_bytes(self.array(what)?))
    }

    fn u64(&mut self, what: &str) -> Result<u64, ResdError> {
        Ok(u64::from_le_bytes(self.array(what)?))
    }

    fn i32(&mut self, what: &str) -> Result<i32, ResdError> {
        Ok(i32::from_le_bytes(self.array(what)?))
    }
}
