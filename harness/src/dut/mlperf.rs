//! Firmware that speaks only the MLPerf Tiny text protocol (`kind: mlperf`, docs/mlperf.md).
//!
//! The model is compiled into such firmware, so nothing is loaded: each window goes into the
//! device's `db` buffer as `db load N` and `db <hex>` lines no longer than the device's
//! command buffer, `infer 1 0` runs it once, and the reply carries two `m-lap-us` stamps (the
//! device's own microsecond timer around the inference) and `m-results-[…]`. The device is
//! reached over an emulator's UART (QEMU) or a serial port (a board, or a pty).

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use harbor_core::protocol::text::{MAX_COMMAND_LEN, Reply};
use harbor_core::rate::AXES;

use super::{Dut, Inference, QemuConfig, QemuTarget, SerialConfig, SerialTarget, Target};
use super::{Reset, TargetError};

/// How a device's `db` buffer wants a window's values.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum InputEncoding {
    /// Two's-complement int8, as the model's input tensor (harbor's own firmware).
    #[default]
    Int8,
    /// Offset binary: value + 128 (firmware that subtracts 128 before the model).
    Uint8,
}

/// The order of a window's values in the `db` buffer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum InputLayout {
    /// Sample by sample, the six axes of each together (the model's input order).
    #[default]
    SamplesFirst,
    /// Axis by axis, all samples of each together.
    ChannelsFirst,
}

/// What the numbers in `m-results-[…]` are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputFormat {
    /// The model's int8 output values as integers (harbor's band firmware).
    Int8,
    /// Dequantized floats, `scale · (q − zero_point)` (what MLPerf Tiny firmware usually prints).
    Float,
}

macro_rules! spelled {
    ($ty:ty, $what:literal, $($variant:path => $name:literal),+) => {
        impl $ty {
            /// The accepted spellings, for messages.
            pub const NAMES: &[&str] = &[$($name),+];

            /// The value as scenarios spell it.
            pub const fn name(self) -> &'static str {
                match self { $($variant => $name),+ }
            }
        }

        impl FromStr for $ty {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($name => Ok($variant),)+
                    other => Err(format!(
                        concat!("unknown ", $what, " `{}`: expected one of {}"),
                        other,
                        Self::NAMES.join(", ")
                    )),
                }
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}

spelled!(InputEncoding, "input encoding", InputEncoding::Int8 => "int8", InputEncoding::Uint8 => "uint8");
spelled!(InputLayout, "input layout",
    InputLayout::SamplesFirst => "samples_first", InputLayout::ChannelsFirst => "channels_first");
spelled!(OutputFormat, "output format", OutputFormat::Int8 => "int8", OutputFormat::Float => "float");

/// What the device expects and prints: the scenario states it, harbor cannot ask.
#[derive(Clone, Debug, PartialEq)]
pub struct MlperfFormat {
    /// How window values are written into the `db` buffer.
    pub input: InputEncoding,
    /// In which order.
    pub layout: InputLayout,
    /// What `m-results-[…]` carries.
    pub outputs: OutputFormat,
    /// Longest command the device reads before `%` (the reference's `EE_CMD_SIZE`, 80).
    pub line_chars: usize,
    /// Float outputs agree with the host reference when every one is within this of the
    /// reference's dequantized value (output units).
    pub tolerance: f64,
}

impl MlperfFormat {
    /// Shortest `line_chars` that still carries one byte per `db` line (`db xx`).
    pub const MIN_LINE_CHARS: usize = 5;
    /// Default float tolerance: the reference's `%0.3f` rounding plus about two steps of an
    /// int8 softmax output (1/256).
    pub const DEFAULT_TOLERANCE: f64 = 0.01;

    /// int8 in, the model's order, `outputs` out, the reference's command length.
    pub fn new(outputs: OutputFormat) -> Self {
        Self {
            input: InputEncoding::Int8,
            layout: InputLayout::SamplesFirst,
            outputs,
            line_chars: MAX_COMMAND_LEN,
            tolerance: Self::DEFAULT_TOLERANCE,
        }
    }

    /// Window bytes per `db` line: as many hex pairs as fit after `db `.
    pub fn chunk_bytes(&self) -> usize {
        (self.line_chars.saturating_sub(3) / 2).max(1)
    }

    /// The window's bytes as the device's `db` buffer expects them.
    pub fn encode(&self, window: &[i8]) -> Vec<u8> {
        let byte = |v: i8| match self.input {
            InputEncoding::Int8 => v as u8,
            InputEncoding::Uint8 => (i16::from(v) + 128) as u8,
        };
        match self.layout {
            InputLayout::SamplesFirst => window.iter().map(|&v| byte(v)).collect(),
            InputLayout::ChannelsFirst => (0..AXES)
                .flat_map(|axis| window.iter().skip(axis).step_by(AXES))
                .map(|&v| byte(v))
                .collect(),
        }
    }

    /// The `db <hex>` commands that fill the buffer with `bytes`, each within `line_chars`.
    pub fn db_commands(&self, bytes: &[u8]) -> Vec<String> {
        bytes
            .chunks(self.chunk_bytes())
            .map(|chunk| {
                let mut command = String::with_capacity(3 + 2 * chunk.len());
                command.push_str("db ");
                for b in chunk {
                    command.push_str(&format!("{b:02x}"));
                }
                command
            })
            .collect()
    }
}

/// How harbor reaches the device.
#[derive(Clone, Debug)]
pub enum MlperfLink {
    /// The firmware in QEMU, its UART on harbor's socket (`via: qemu`).
    Qemu(QemuConfig),
    /// A serial port: a board, or an emulator's pty (`via: serial`).
    Serial(SerialConfig),
}

/// A `kind: mlperf` device: where it is and what it speaks.
#[derive(Clone, Debug)]
pub struct MlperfConfig {
    /// How to reach it.
    pub link: MlperfLink,
    /// Its input layout and output format.
    pub format: MlperfFormat,
}

impl MlperfConfig {
    /// The boot and per-command deadlines of the link.
    pub(crate) fn timeouts_mut(&mut self) -> (&mut Duration, &mut Duration) {
        match &mut self.link {
            MlperfLink::Qemu(c) => (&mut c.boot_timeout, &mut c.exchange_timeout),
            MlperfLink::Serial(c) => (&mut c.boot_timeout, &mut c.exchange_timeout),
        }
    }
}

/// Starts or attaches to the device, past its `m-ready` (QEMU, a reset board) or a `name%`
/// it answered (a board left running).
pub async fn open(config: &MlperfConfig) -> Result<Dut, TargetError> {
    match &config.link {
        MlperfLink::Qemu(c) => Ok(QemuTarget::launch(c.clone()).await?.into_dut()),
        MlperfLink::Serial(c) => {
            let mut target = SerialTarget::connect(c).await?.into_dut();
            if c.reset == Reset::None {
                greet(&mut target, c.boot_timeout).await?;
            }
            Ok(target)
        }
    }
}

/// A board left running: before the answer to `name%` may come a banner it printed earlier
/// (`m-init-done`, `m-ready`), or an `e-[…]` because half a command from an earlier session
/// turned `name%` into an unknown one (then `name%` goes once more). Reads up to the
/// `m-ready` that follows the name, so no stale reply is left to shift later ones.
async fn greet(target: &mut Dut, timeout: Duration) -> Result<String, TargetError> {
    const DURING: &str = "answering `name%`";
    target.send_raw(b"name%").await?;
    let mut sent = 1;
    let mut lines = Vec::new();
    for _ in 0..4 {
        lines = target.await_ready(timeout, DURING).await?;
        if let Some(name) = name_in(&lines) {
            return Ok(name);
        }
        let refused = lines
            .iter()
            .any(|l| matches!(Reply::parse(l), Some(Reply::Error(_))));
        if refused && sent < 2 {
            target.send_raw(b"name%").await?;
            sent += 1;
        }
    }
    Err(refused(target, "name", &lines, "no `m-name-dut-[…]` line"))
}

fn name_in(lines: &[String]) -> Option<String> {
    lines.iter().find_map(|l| match Reply::parse(l) {
        Some(Reply::Name(name)) => Some(name.to_string()),
        _ => None,
    })
}

/// The device's `m-name-dut-[…]` (`name%`).
pub async fn identify(target: &mut Dut) -> Result<String, TargetError> {
    let lines = target.command("name").await?;
    name_in(&lines).ok_or_else(|| refused(target, "name", &lines, "no `m-name-dut-[…]` line"))
}

/// Tries per window: line noise can garble a command; the device says so (`e-[…]`) or
/// leaves out a line, and keeps answering, so the whole window is sent again.
pub const TRIES: usize = 3;

/// Loads `window` into the device's buffer and runs one inference on it (`infer 1 0`),
/// sending the window again after a [`TargetError::Refused`], up to [`TRIES`] times.
pub async fn infer(
    target: &mut Dut,
    format: &MlperfFormat,
    window: &[i8],
) -> Result<Inference, TargetError> {
    let mut tries = 1;
    loop {
        match infer_once(target, format, window).await {
            Err(TargetError::Refused { .. }) if tries < TRIES => tries += 1,
            done => return done,
        }
    }
}

async fn infer_once(
    target: &mut Dut,
    format: &MlperfFormat,
    window: &[i8],
) -> Result<Inference, TargetError> {
    let bytes = format.encode(window);
    let load = format!("db load {}", bytes.len());
    let lines = target.command(&load).await?;
    check_errors(target, &load, &lines)?;
    if !lines
        .iter()
        .any(|l| Reply::parse(l) == Some(Reply::Expecting(bytes.len())))
    {
        let why = format!("no `m-[Expecting {} bytes]`", bytes.len());
        return Err(refused(target, &load, &lines, &why));
    }
    let commands = format.db_commands(&bytes);
    for (i, command) in commands.iter().enumerate() {
        let lines = target.command(command).await?;
        check_errors(target, command, &lines)?;
        let done = lines
            .iter()
            .any(|l| Reply::parse(l) == Some(Reply::LoadDone));
        let last = i + 1 == commands.len();
        // The count is the only check the protocol has on the hex: digits lost or added on
        // the line move `m-load-done` off the last chunk.
        if done != last {
            let why = if done {
                format!("`m-load-done` after chunk {} of {}", i + 1, commands.len())
            } else {
                "no `m-load-done` after the last chunk".to_string()
            };
            return Err(refused(target, command, &lines, &why));
        }
    }
    let lines = target.command("infer 1 0").await?;
    check_errors(target, "infer 1 0", &lines)?;
    let mut laps = Vec::new();
    let mut results = None;
    for line in &lines {
        match Reply::parse(line) {
            Some(Reply::LapUs(us)) => laps.push(us),
            Some(Reply::Results(list)) => results = Some(list.to_string()),
            _ => {}
        }
    }
    let Some(results) = results else {
        return Err(refused(
            target,
            "infer 1 0",
            &lines,
            "no `m-results-[…]` line",
        ));
    };
    let mut inference = parse_results(&results, format.outputs)
        .map_err(|why| refused(target, "infer 1 0", &lines, &why))?;
    // The first and last stamps bracket the inference; a device timing with a GPIO
    // (energy mode) prints none.
    if let (Some(first), Some(last)) = (laps.first(), laps.last())
        && laps.len() >= 2
    {
        inference.elapsed_us = Some(u32::try_from(last.saturating_sub(*first)).unwrap_or(u32::MAX));
    }
    Ok(inference)
}

/// An inference from an `m-results-[…]` list: the predicted class is the first largest value.
pub fn parse_results(list: &str, format: OutputFormat) -> Result<Inference, String> {
    let values: Vec<&str> = list.split(',').map(str::trim).collect();
    if values.iter().all(|v| v.is_empty()) {
        return Err("an empty `m-results-[]`".into());
    }
    let (logits, outputs) = match format {
        OutputFormat::Int8 => {
            let logits = values
                .iter()
                .map(|v| {
                    v.parse::<i8>()
                        .map_err(|_| format!("`{v}` is not an int8 result"))
                })
                .collect::<Result<Vec<i8>, _>>()?;
            (logits, None)
        }
        OutputFormat::Float => {
            let outputs = values
                .iter()
                .map(|v| match v.parse::<f32>() {
                    Ok(x) if x.is_finite() => Ok(x),
                    _ => Err(format!("`{v}` is not a number")),
                })
                .collect::<Result<Vec<f32>, _>>()?;
            (Vec::new(), Some(outputs))
        }
    };
    let predicted = match &outputs {
        Some(outputs) => first_max(outputs.iter().copied()),
        None => first_max(logits.iter().map(|&v| f32::from(v))),
    };
    Ok(Inference {
        predicted: u8::try_from(predicted).map_err(|_| "more than 256 results".to_string())?,
        logits,
        outputs,
        instructions: None,
        elapsed_us: None,
        stack_high_water: None,
        arena_used: None,
    })
}

fn first_max(values: impl Iterator<Item = f32>) -> usize {
    let mut best = (0, f32::NEG_INFINITY);
    for (i, v) in values.enumerate() {
        if v > best.1 {
            best = (i, v);
        }
    }
    best.0
}

fn check_errors(target: &Dut, command: &str, lines: &[String]) -> Result<(), TargetError> {
    match lines.iter().find_map(|l| match Reply::parse(l) {
        Some(Reply::Error(message)) => Some(message.to_string()),
        _ => None,
    }) {
        Some(message) => Err(TargetError::Refused {
            target: target.name().to_string(),
            command: command.to_string(),
            message,
        }),
        None => Ok(()),
    }
}

/// A reply without the line it needed; names what came instead (a device that prints its
/// complaint outside the protocol shows up as a stray line).
fn refused(target: &Dut, command: &str, lines: &[String], missing: &str) -> TargetError {
    let got = match (lines.last(), target.stray_lines().last()) {
        (Some(line), _) => format!("; it printed `{line}`"),
        (None, Some(stray)) => format!("; it printed `{stray}`"),
        (None, None) => "; it printed nothing before `m-ready`".to_string(),
    };
    TargetError::Refused {
        target: target.name().to_string(),
        command: truncate(command),
        message: format!("{missing}{got}"),
    }
}

/// Commands in messages: a `db` line is cut after its first bytes.
fn truncate(command: &str) -> String {
    const SHOWN: usize = 24;
    if command.len() > SHOWN {
        format!("{}…", &command[..SHOWN])
    } else {
        command.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_is_laid_out_and_encoded_as_the_device_states() {
        // Two samples of six axes.
        let window: Vec<i8> = vec![-128, -1, 0, 1, 2, 127, 10, 11, 12, 13, 14, 15];
        let mut format = MlperfFormat::new(OutputFormat::Int8);
        assert_eq!(format.encode(&window)[..3], [0x80, 0xFF, 0x00]);
        format.input = InputEncoding::Uint8;
        assert_eq!(format.encode(&window)[..3], [0x00, 0x7F, 0x80]);
        format.input = InputEncoding::Int8;
        format.layout = InputLayout::ChannelsFirst;
        let bytes: Vec<i8> = format.encode(&window).iter().map(|&b| b as i8).collect();
        assert_eq!(bytes, [-128, 10, -1, 11, 0, 12, 1, 13, 2, 14, 127, 15]);
    }

    #[test]
    fn db_lines_fit_the_command_buffer_and_carry_every_byte() {
        let bytes: Vec<u8> = (0..=255).collect();
        for line_chars in [5, 6, 79, 80, 200] {
            let mut format = MlperfFormat::new(OutputFormat::Int8);
            format.line_chars = line_chars;
            let commands = format.db_commands(&bytes);
            let mut back = Vec::new();
            for c in &commands {
                assert!(c.len() <= line_chars, "{line_chars}: {c}");
                let hex = c.strip_prefix("db ").unwrap();
                assert_eq!(hex.len() % 2, 0);
                for pair in hex.as_bytes().chunks(2) {
                    back.push(u8::from_str_radix(std::str::from_utf8(pair).unwrap(), 16).unwrap());
                }
            }
            assert_eq!(back, bytes, "{line_chars}");
        }
        // The reference's 80 characters: 38 bytes per line.
        assert_eq!(MlperfFormat::new(OutputFormat::Int8).chunk_bytes(), 38);
    }

    #[test]
    fn results_are_read_as_int8_or_float_and_the_first_largest_wins() {
        let int8 = parse_results("73,-128,73,-128", OutputFormat::Int8).unwrap();
        assert_eq!(
            (int8.predicted, int8.logits.as_slice()),
            (0, &[73, -128, 73, -128][..])
        );
        assert_eq!(int8.outputs, None);
        let float = parse_results("0.000, 0.007,0.992,0.000", OutputFormat::Float).unwrap();
        assert_eq!(float.predicted, 2);
        assert_eq!(float.outputs, Some(vec![0.0, 0.007, 0.992, 0.0]));
        assert!(float.logits.is_empty());
        // Nothing the device cannot measure is invented.
        assert_eq!((float.instructions, float.stack_high_water), (None, None));
        let err = parse_results("0.5,0.5", OutputFormat::Int8).unwrap_err();
        assert!(err.contains("`0.5` is not an int8 result"), "{err}");
        let err = parse_results("1,nan", OutputFormat::Float).unwrap_err();
        assert!(err.contains("`nan` is not a number"), "{err}");
        assert!(parse_results("", OutputFormat::Float).is_err());
        assert!(parse_results("300", OutputFormat::Int8).is_err());
    }

    #[test]
    fn spellings_round_trip_and_unknown_ones_are_listed() {
        for name in OutputFormat::NAMES {
            assert_eq!(name.parse::<OutputFormat>().unwrap().name(), *name);
        }
        for name in InputLayout::NAMES {
            assert_eq!(name.parse::<InputLayout>().unwrap().to_string(), *name);
        }
        let err = "fp32".parse::<OutputFormat>().unwrap_err();
        assert!(err.contains("int8, float"), "{err}");
        let err = "i8".parse::<InputEncoding>().unwrap_err();
        assert!(err.contains("int8, uint8"), "{err}");
    }
}
