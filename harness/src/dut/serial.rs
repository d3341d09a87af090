//! A board on a serial port speaking the same protocol as the emulated band.
//!
//! The port is opened with the `serialport` crate (exclusive, raw, 8N1 at the configured
//! baud), optionally reset through DTR/RTS the way ESP32 dev boards wire them, and then read
//! and written through [`TtyStream`] (epoll, no polling loop). docs/serial.md explains the
//! reset lines, the pty test setup and how to run a scenario on a board.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use harbor_core::protocol::Request;
use harbor_core::protocol::frame::MAX_FRAME;
use serialport::{SerialPort, TTYPort};

use super::error::PortProblem;
use super::session::{Backing, LinkTarget};
use super::tty::TtyStream;
use super::{BinaryReply, Target, TargetError};

/// How long EN is held low by the DTR/RTS reset (esptool's hard reset uses 100 ms).
const RESET_PULSE: Duration = Duration::from_millis(100);

/// What harbor does to the board when it opens the port.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Reset {
    /// Leave the board running: resynchronise the line and check it answers Hello.
    #[default]
    None,
    /// ESP32 auto-reset: RTS drives EN (chip enable), DTR drives IO0 (boot strap). IO0 is
    /// held high (DTR off) so the chip boots the app, EN is pulsed low through RTS, then
    /// harbor waits for the firmware's `m-ready` banner.
    DtrRts,
}

impl Reset {
    /// The accepted spellings, for messages.
    pub const NAMES: [&'static str; 2] = ["none", "dtr-rts"];
}

impl fmt::Display for Reset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::None => "none",
            Self::DtrRts => "dtr-rts",
        })
    }
}

impl FromStr for Reset {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "none" => Ok(Self::None),
            "dtr-rts" => Ok(Self::DtrRts),
            other => Err(format!(
                "unknown reset `{other}`: expected one of {}",
                Self::NAMES.join(", ")
            )),
        }
    }
}

/// How to reach the board.
#[derive(Clone, Debug, PartialEq)]
pub struct SerialConfig {
    /// Device path, e.g. `/dev/ttyUSB0` or `/dev/ttyACM0`.
    pub port: String,
    /// Baud rate.
    pub baud: u32,
    /// How to reset the board when opening.
    pub reset: Reset,
    /// Deadline for the board's first answer after opening (banner after a reset, Hello without).
    pub boot_timeout: Duration,
    /// Deadline for each request → response exchange.
    pub exchange_timeout: Duration,
    /// Bytes of noise tolerated before an exchange fails as garbage.
    pub garbage_budget: usize,
}

impl SerialConfig {
    /// The band firmware's baud rate.
    pub const DEFAULT_BAUD: u32 = 115_200;

    /// `port` at the default baud, no reset, default deadlines.
    pub fn new(port: impl Into<String>) -> Self {
        Self {
            port: port.into(),
            baud: Self::DEFAULT_BAUD,
            reset: Reset::None,
            boot_timeout: Duration::from_secs(10),
            exchange_timeout: Duration::from_secs(10),
            garbage_budget: 4 * MAX_FRAME,
        }
    }
}

/// What stands behind a serial link: a board harbor cannot kill or restart, only name.
pub struct SerialBoard {
    port: String,
}

impl SerialBoard {
    /// The port's path.
    pub fn port(&self) -> &str {
        &self.port
    }
}

impl Backing for SerialBoard {
    // A board cannot be stopped from here; the target refuses further calls instead.
    fn stop(&mut self) {}

    async fn settle(&mut self) {}

    async fn closed(&mut self, target: String, during: String) -> TargetError {
        TargetError::Disconnected { target, during }
    }
}

/// A board on a serial port, answering (checked when it is opened).
pub type SerialTarget = LinkTarget<TtyStream, SerialBoard>;

impl LinkTarget<TtyStream, SerialBoard> {
    /// Opens the port, resets the board if asked, and checks it speaks harbor's protocol.
    pub async fn open(config: &SerialConfig) -> Result<Self, TargetError> {
        let mut target = Self::connect(config).await?;
        if config.reset == Reset::None {
            // The board may hold half a frame from an earlier session: clear it first.
            target.resync().await?;
            match target
                .exchange_within(&Request::Hello, config.boot_timeout)
                .await?
            {
                BinaryReply::Info(_) => {}
                other => return Err(super::unexpected(target.name(), "Info", &other)),
            }
        }
        Ok(target)
    }

    /// Opens the port and, with `reset: dtr-rts`, resets the board and waits for its
    /// `m-ready`; without a reset, checks nothing (the caller greets the board its way).
    pub async fn connect(config: &SerialConfig) -> Result<Self, TargetError> {
        let name = format!("serial:{}", config.port);
        let mut port = serialport::new(&config.port, config.baud)
            .open_native()
            .map_err(|e| port_unavailable(&config.port, e))?;
        let io = |context: &str, source: std::io::Error| TargetError::Io {
            target: name.clone(),
            context: context.to_string(),
            source,
        };
        if config.reset == Reset::DtrRts {
            esp32_reset(&mut port).await.map_err(|e| {
                io(
                    "driving DTR/RTS for the reset (a port without modem lines needs `reset: none`)",
                    e.into(),
                )
            })?;
        }
        let stream = TtyStream::new(port).map_err(|e| io("registering the port with tokio", e))?;
        let board = SerialBoard {
            port: config.port.clone(),
        };
        let mut target = Self::new(
            name,
            stream,
            board,
            config.garbage_budget,
            config.exchange_timeout,
        );
        if config.reset == Reset::DtrRts {
            target
                .await_ready(config.boot_timeout, "booting after the DTR/RTS reset")
                .await?;
        }
        Ok(target)
    }
}

/// The ESP32 dev-board reset into the app: IO0 high (DTR off), EN low (RTS on), release.
async fn esp32_reset(port: &mut TTYPort) -> serialport::Result<()> {
    port.write_data_terminal_ready(false)?;
    port.write_request_to_send(true)?;
    tokio::time::sleep(RESET_PULSE).await;
    port.write_request_to_send(false)
}

fn port_unavailable(port: &str, e: serialport::Error) -> TargetError {
    use serialport::ErrorKind;
    let problem = match e.kind() {
        ErrorKind::NoDevice => PortProblem::Busy,
        ErrorKind::Io(std::io::ErrorKind::NotFound) => PortProblem::Missing,
        ErrorKind::Io(std::io::ErrorKind::PermissionDenied) => PortProblem::Denied,
        _ => PortProblem::Other,
    };
    TargetError::PortUnavailable {
        port: port.to_string(),
        problem,
        reason: e.description,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reset_names_round_trip_and_unknown_ones_are_listed() {
        for name in Reset::NAMES {
            assert_eq!(name.parse::<Reset>().unwrap().to_string(), name);
        }
        let err = "rts".parse::<Reset>().unwrap_err();
        assert!(err.contains("none, dtr-rts"), "{err}");
    }
}
