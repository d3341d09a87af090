//! The MLPerf Tiny host↔DUT text protocol (mlcommons/tiny `benchmark/api`), as a superset.
//!
//! Commands are 7-bit ASCII tokens separated by spaces and terminated by `%`, at most 80
//! characters. Every command is answered by zero or more `m-…` / `e-[…]` lines, each ended
//! by CR LF, then `m-ready`. Where the reference firmware silently clamps or misreads
//! (an over-long command, `atoi` on a non-number) harbor answers with an `e-[…]` line.

use core::fmt::{self, Write};

/// Ends every command.
pub const TERMINATOR: u8 = b'%';
/// Longest command the reference firmware buffers (`EE_CMD_SIZE`).
pub const MAX_COMMAND_LEN: usize = 80;
/// Warm-up inferences when `infer N` gives none (the reference's default).
pub const DEFAULT_WARMUP: u32 = 10;

/// Collects bytes into one command line.
pub struct LineAssembler {
    buf: [u8; MAX_COMMAND_LEN],
    len: usize,
    overflowed: bool,
}

/// A finished command line from [`LineAssembler::push`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Line<'a> {
    /// A complete line, without its line ending.
    Command(&'a str),
    /// Longer than [`MAX_COMMAND_LEN`]; the content was dropped.
    TooLong,
}

impl LineAssembler {
    /// An empty assembler.
    pub const fn new() -> Self {
        Self {
            buf: [0; MAX_COMMAND_LEN],
            len: 0,
            overflowed: false,
        }
    }

    /// Feeds one byte; returns the line when `byte` is the terminator.
    pub fn push(&mut self, byte: u8) -> Option<Line<'_>> {
        match byte {
            TERMINATOR => {
                let len = core::mem::take(&mut self.len);
                if core::mem::take(&mut self.overflowed) {
                    return Some(Line::TooLong);
                }
                // Only ASCII is ever stored, so this cannot fail; be total anyway.
                Some(
                    core::str::from_utf8(&self.buf[..len])
                        .map_or(Line::TooLong, |s| Line::Command(s.trim())),
                )
            }
            // Hosts that end commands with a newline as well as `%` are tolerated.
            b'\r' | b'\n' => None,
            // NUL is the resynchronisation filler (frame::RESYNC_FILL): it discards a
            // partial command, which after line noise is noise too.
            0 => {
                self.len = 0;
                self.overflowed = false;
                None
            }
            b if b.is_ascii() => {
                if self.len == MAX_COMMAND_LEN {
                    self.overflowed = true;
                } else {
                    self.buf[self.len] = b;
                    self.len += 1;
                }
                None
            }
            _ => None,
        }
    }
}

impl Default for LineAssembler {
    fn default() -> Self {
        Self::new()
    }
}

/// A parsed command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command<'a> {
    /// `name`: report the device name.
    Name,
    /// `profile`: report the benchmark profile.
    Profile,
    /// `help`: list the commands.
    Help,
    /// `timestamp`: report the microsecond clock.
    Timestamp,
    /// `db load N`: expect N bytes of hex.
    DbLoad(usize),
    /// `db HH[HH]*`: the hex digits (checked by [`decode_hex_into`]).
    DbHex(&'a str),
    /// `db print [N] [offset]`.
    DbPrint {
        /// Bytes to print; `None`: the whole buffer.
        len: Option<usize>,
        /// First byte to print.
        offset: usize,
    },
    /// `infer N [W]`.
    Infer {
        /// Timed inferences.
        iterations: u32,
        /// Untimed inferences run first.
        warmup: u32,
    },
    /// `results`: print the last inference's class scores.
    Results,
}

/// A command the firmware refuses; `Display` gives the text inside `e-[…]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CommandError<'a> {
    /// Not a known command (the word given).
    Unknown(&'a str),
    /// The line exceeded [`MAX_COMMAND_LEN`].
    TooLong,
    /// `db` without `load`, `print` or hex.
    DbNeedsSubcommand,
    /// `db load` without a byte count.
    DbLoadNeedsCount,
    /// `db load 0`.
    DbLoadZero,
    /// `db load N` beyond the buffer.
    DbLoadTooLarge {
        /// Bytes asked for.
        requested: usize,
        /// Buffer capacity.
        max: usize,
    },
    /// The reference's spelling, kept so MLPerf tools match it.
    OddHexDigits,
    /// A hex pair with a non-hex character (both bytes of the pair).
    InvalidHexDigit(u8, u8),
    /// `db HH…` without a preceding `db load`.
    NoLoadInProgress,
    /// `infer 0` or a negative count.
    InferIterationsNotPositive,
    /// An argument that is not a number.
    BadNumber(&'a str),
    /// `infer` before a model was loaded (harbor loads models with binary LoadModel frames).
    NoModel,
    /// The `db` buffer holds `got` bytes; the model's input takes `expected`.
    InputSizeMismatch {
        /// Bytes in the buffer.
        got: usize,
        /// Bytes the model's input takes.
        expected: usize,
    },
    /// The interpreter failed on a model it had accepted.
    InferenceFailed,
}

impl fmt::Display for CommandError<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unknown(cmd) => write!(f, "Unknown command: {cmd}"),
            Self::TooLong => write!(f, "Command longer than {MAX_COMMAND_LEN} characters"),
            Self::DbNeedsSubcommand => f.write_str("Command 'db' requires a subcommand"),
            Self::DbLoadNeedsCount => f.write_str("Command 'db load' requires the # of bytes"),
            Self::DbLoadZero => f.write_str("Command 'db load' must be >0 bytes"),
            Self::DbLoadTooLarge { requested, max } => {
                write!(
                    f,
                    "Supplied buffer size {requested} exceeds maximum of {max}"
                )
            }
            Self::OddHexDigits => f.write_str("Insufficent number of hex digits"),
            Self::InvalidHexDigit(a, b) => {
                write!(f, "Invalid hex digit '{}{}'", *a as char, *b as char)
            }
            Self::NoLoadInProgress => f.write_str("No 'db load' in progress"),
            Self::InferIterationsNotPositive => f.write_str("Inference iterations must be >0"),
            Self::BadNumber(tok) => write!(f, "Not a number: {tok}"),
            Self::NoModel => f.write_str("No model loaded"),
            Self::InputSizeMismatch { got, expected } => {
                write!(f, "Input is {got} bytes, the model takes {expected}")
            }
            Self::InferenceFailed => f.write_str("Inference failed"),
        }
    }
}

impl<'a> Command<'a> {
    /// Parses a command line (without the terminator).
    pub fn parse(line: &'a str) -> Result<Self, CommandError<'a>> {
        let mut tokens = line.split(' ').filter(|t| !t.is_empty());
        let Some(head) = tokens.next() else {
            return Err(CommandError::Unknown(""));
        };
        Ok(match head {
            "name" => Self::Name,
            "profile" => Self::Profile,
            "help" => Self::Help,
            "timestamp" => Self::Timestamp,
            "results" => Self::Results,
            "db" => match tokens.next() {
                None => return Err(CommandError::DbNeedsSubcommand),
                Some("load") => {
                    let n = number(tokens.next().ok_or(CommandError::DbLoadNeedsCount)?)?;
                    if n == 0 {
                        return Err(CommandError::DbLoadZero);
                    }
                    Self::DbLoad(n)
                }
                Some("print") => {
                    let len = tokens.next().map(number).transpose()?;
                    let offset = tokens.next().map(number).transpose()?.unwrap_or(0);
                    Self::DbPrint { len, offset }
                }
                Some(hex) => Self::DbHex(hex),
            },
            "infer" => {
                let iterations = tokens.next().map(number).transpose()?.unwrap_or(1);
                let warmup = tokens
                    .next()
                    .map(number)
                    .transpose()?
                    .unwrap_or(DEFAULT_WARMUP as usize);
                if iterations == 0 {
                    return Err(CommandError::InferIterationsNotPositive);
                }
                let as_u32 =
                    |n: usize, tok| u32::try_from(n).map_err(|_| CommandError::BadNumber(tok));
                Self::Infer {
                    iterations: as_u32(iterations, "iterations")?,
                    warmup: as_u32(warmup, "warmup")?,
                }
            }
            other => return Err(CommandError::Unknown(other)),
        })
    }
}

fn number(token: &str) -> Result<usize, CommandError<'_>> {
    token.parse().map_err(|_| CommandError::BadNumber(token))
}

/// Decodes `hex` (pairs of digits, either case) into the front of `out`, stopping when `out`
/// is full (the reference ignores the rest). Returns the bytes written.
pub fn decode_hex_into<'a>(hex: &'a str, out: &mut [u8]) -> Result<usize, CommandError<'a>> {
    let digits = hex.as_bytes();
    if !digits.len().is_multiple_of(2) {
        return Err(CommandError::OddHexDigits);
    }
    let mut written = 0;
    for (pair, slot) in digits.chunks_exact(2).zip(out.iter_mut()) {
        let (Some(hi), Some(lo)) = (hex_value(pair[0]), hex_value(pair[1])) else {
            return Err(CommandError::InvalidHexDigit(pair[0], pair[1]));
        };
        *slot = (hi << 4) | lo;
        written += 1;
    }
    Ok(written)
}

fn hex_value(d: u8) -> Option<u8> {
    match d {
        b'0'..=b'9' => Some(d - b'0'),
        b'a'..=b'f' => Some(d - b'a' + 10),
        b'A'..=b'F' => Some(d - b'A' + 10),
        _ => None,
    }
}

/// One response line (without CR LF). `Display` writes it; [`Reply::parse`] reads it back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reply<'a> {
    /// `m-ready`: the band accepts commands.
    Ready,
    /// `m-init-done`: start-up finished.
    InitDone,
    /// `m-name-dut-[vendor]`.
    Name(&'a str),
    /// `m-profile-[version]`.
    Profile(&'a str),
    /// `m-model-[name]`.
    Model(&'a str),
    /// `m-[Expecting N bytes]`.
    Expecting(usize),
    /// `m-load-done`: the expected bytes arrived.
    LoadDone,
    /// `m-buffer-xx-xx-…`: the hex bytes after the prefix.
    Buffer(&'a str),
    /// `m-warmup-start-N`.
    WarmupStart(u32),
    /// `m-warmup-done`.
    WarmupDone,
    /// `m-infer-start-N`.
    InferStart(u32),
    /// `m-lap-us-N`: the device's microsecond timestamp.
    LapUs(u64),
    /// `m-infer-done`.
    InferDone,
    /// `m-results-[…]`: the comma-separated list inside the brackets.
    Results(&'a str),
    /// `e-[…]`: the message inside the brackets.
    Error(&'a str),
}

impl fmt::Display for Reply<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ready => f.write_str("m-ready"),
            Self::InitDone => f.write_str("m-init-done"),
            Self::Name(vendor) => write!(f, "m-name-dut-[{vendor}]"),
            Self::Profile(version) => write!(f, "m-profile-[{version}]"),
            Self::Model(model) => write!(f, "m-model-[{model}]"),
            Self::Expecting(n) => write!(f, "m-[Expecting {n} bytes]"),
            Self::LoadDone => f.write_str("m-load-done"),
            Self::Buffer(hex) => write!(f, "m-buffer-{hex}"),
            Self::WarmupStart(n) => write!(f, "m-warmup-start-{n}"),
            Self::WarmupDone => f.write_str("m-warmup-done"),
            Self::InferStart(n) => write!(f, "m-infer-start-{n}"),
            Self::LapUs(us) => write!(f, "m-lap-us-{us}"),
            Self::InferDone => f.write_str("m-infer-done"),
            Self::Results(list) => write!(f, "m-results-[{list}]"),
            Self::Error(msg) => write!(f, "e-[{msg}]"),
        }
    }
}

impl<'a> Reply<'a> {
    /// Reads a response line; `None` for lines that are not part of the protocol.
    pub fn parse(line: &'a str) -> Option<Self> {
        let line = line.trim();
        let bracketed = |prefix: &str| line.strip_prefix(prefix)?.strip_suffix(']');
        Some(match line {
            "m-ready" => Self::Ready,
            "m-init-done" => Self::InitDone,
            "m-load-done" => Self::LoadDone,
            "m-warmup-done" => Self::WarmupDone,
            "m-infer-done" => Self::InferDone,
            _ => {
                if let Some(v) = bracketed("m-name-dut-[") {
                    Self::Name(v)
                } else if let Some(v) = bracketed("m-profile-[") {
                    Self::Profile(v)
                } else if let Some(v) = bracketed("m-model-[") {
                    Self::Model(v)
                } else if let Some(v) = bracketed("m-results-[") {
                    Self::Results(v)
                } else if let Some(v) = bracketed("e-[") {
                    Self::Error(v)
                } else if let Some(v) = bracketed("m-[Expecting ") {
                    Self::Expecting(v.strip_suffix(" bytes")?.parse().ok()?)
                } else if let Some(v) = line.strip_prefix("m-buffer-") {
                    Self::Buffer(v)
                } else if let Some(v) = line.strip_prefix("m-warmup-start-") {
                    Self::WarmupStart(v.parse().ok()?)
                } else if let Some(v) = line.strip_prefix("m-infer-start-") {
                    Self::InferStart(v.parse().ok()?)
                } else if let Some(v) = line.strip_prefix("m-lap-us-") {
                    Self::LapUs(v.parse().ok()?)
                } else {
                    return None;
                }
            }
        })
    }
}

/// Writes `m-results-[a,b,…]` for int8 logits (printed as integers; MLPerf runners read
/// them as numbers).
pub fn write_results(out: &mut impl Write, logits: &[i8]) -> fmt::Result {
    out.write_str("m-results-[")?;
    for (i, v) in logits.iter().enumerate() {
        if i > 0 {
            out.write_char(',')?;
        }
        write!(out, "{v}")?;
    }
    out.write_char(']')
}

/// Bytes per `m-buffer-` line, as in the reference.
pub const BUFFER_BYTES_PER_LINE: usize = 8;

/// Writes `bytes` as `m-buffer-xx-xx-…` lines of eight, each ended by CR LF.
pub fn write_buffer_lines(out: &mut impl Write, bytes: &[u8]) -> fmt::Result {
    for line in bytes.chunks(BUFFER_BYTES_PER_LINE) {
        out.write_str("m-buffer-")?;
        for (i, b) in line.iter().enumerate() {
            if i > 0 {
                out.write_char('-')?;
            }
            write!(out, "{b:02x}")?;
        }
        out.write_str("\r\n")?;
    }
    Ok(())
}
