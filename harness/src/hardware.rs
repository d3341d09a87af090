//! Which real board the hardware tests drive: `HARBOR_BOARD`, parsed.
//!
//! | value | board |
//! |---|---|
//! | `esp32c3-serial:/dev/ttyACM0` | ESP32-C3 band over serial (USB-JTAG-Serial or a UART bridge), 115 200 Bd |
//! | `esp32c3-serial:/dev/ttyUSB0@921600` | the same, flashing at 921 600 Bd (the band's protocol stays at 115 200) |
//! | `esp32c3-probe` | ESP32-C3 over its built-in USB-JTAG with probe-rs (the only probe attached) |
//! | `esp32c3-probe:303a:1001:<serial>` | the same, one probe picked by VID:PID[:serial] |
//! | `probe:nRF52840_xxAA` | any chip probe-rs knows by name (Cortex-M boards), first probe |
//! | `probe:nRF52840_xxAA@1366:1051` | the same with a probe selector |
//!
//! docs/hardware.md explains how a hardware team runs the tests.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use crate::flash::EspChip;
use crate::flash::serial::ROM_BAUD;

/// The environment variable naming the board.
pub const ENV: &str = "HARBOR_BOARD";

/// The board named by `HARBOR_BOARD`, which hardware tests run against.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HardwareBoard {
    /// An ESP board on a serial port: flashed through its ROM bootloader, then the band
    /// protocol on the same port.
    Serial {
        /// The ESP chip.
        chip: EspChip,
        /// Serial port the board is on.
        port: PathBuf,
        /// Flashing baud rate (the band firmware's UART runs at 115 200).
        baud: u32,
    },
    /// A board behind a debug probe: flashed by probe-rs, the protocol over RTT.
    Probe {
        /// probe-rs target name (`esp32c3`, `nRF52840_xxAA`, …).
        chip: String,
        /// probe-rs probe selector `VID:PID[:SERIAL]`; `None`: the only probe attached.
        selector: Option<String>,
    },
}

/// A `HARBOR_BOARD` value that names no board.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "{ENV}=`{value}`: {reason} (forms: esp32c3-serial:<port>[@<baud>], esp32c3-probe[:<vid>:<pid>[:<serial>]], probe:<chip>[@<vid>:<pid>[:<serial>]])"
)]
pub struct BoardSpecError {
    /// The variable's value.
    pub value: String,
    /// What is wrong with it.
    pub reason: String,
}

impl HardwareBoard {
    /// The board named by `HARBOR_BOARD`, `Ok(None)` when unset or empty.
    pub fn from_env() -> Result<Option<Self>, BoardSpecError> {
        match std::env::var(ENV) {
            Ok(v) if !v.trim().is_empty() => v.parse().map(Some),
            _ => Ok(None),
        }
    }

    /// The board profile (boards/<name>.yaml) whose figures apply, when harbor has one.
    pub fn profile(&self) -> Option<&'static str> {
        let chip = match self {
            Self::Serial { chip, .. } => chip.name().to_string(),
            Self::Probe { chip, .. } => chip.to_ascii_lowercase(),
        };
        match chip.as_str() {
            "esp32c3" => Some("esp32c3-band"),
            "esp32" => Some("esp32-band"),
            c if c.starts_with("nrf52840") => Some("nrf52840-band"),
            _ => None,
        }
    }

    /// Driven through a debug probe (needs harbor built with `--features probe`).
    pub fn is_probe(&self) -> bool {
        matches!(self, Self::Probe { .. })
    }
}

fn err(value: &str, reason: impl Into<String>) -> BoardSpecError {
    BoardSpecError {
        value: value.to_string(),
        reason: reason.into(),
    }
}

/// `VID:PID[:SERIAL]` with hexadecimal VID and PID.
fn check_selector(value: &str, selector: &str) -> Result<(), BoardSpecError> {
    let mut parts = selector.splitn(3, ':');
    for what in ["vendor id", "product id"] {
        let part = parts.next().unwrap_or("");
        if part.is_empty() || u16::from_str_radix(part, 16).is_err() {
            return Err(err(
                value,
                format!("probe selector `{selector}`: {what} `{part}` is not 1-4 hex digits"),
            ));
        }
    }
    if parts.next().is_some_and(str::is_empty) {
        return Err(err(
            value,
            format!("probe selector `{selector}`: empty serial number"),
        ));
    }
    Ok(())
}

impl FromStr for HardwareBoard {
    type Err = BoardSpecError;

    fn from_str(value: &str) -> Result<Self, BoardSpecError> {
        let v = value.trim();
        let (kind, rest) = match v.split_once(':') {
            Some((k, r)) => (k, Some(r)),
            None => (v, None),
        };
        if let Some(chip) = kind.strip_suffix("-serial") {
            let chip: EspChip = chip.parse().map_err(|e: String| err(value, e))?;
            let rest = rest
                .filter(|r| !r.is_empty())
                .ok_or_else(|| err(value, "no serial port after `:`"))?;
            let (port, baud) = match rest.rsplit_once('@') {
                Some((port, baud)) => {
                    let baud = baud.parse::<u32>().ok().filter(|&b| b > 0).ok_or_else(|| {
                        err(
                            value,
                            format!("baud rate `{baud}` is not a positive integer"),
                        )
                    })?;
                    (port, baud)
                }
                None => (rest, ROM_BAUD),
            };
            if port.is_empty() {
                return Err(err(value, "empty serial port"));
            }
            return Ok(Self::Serial {
                chip,
                port: PathBuf::from(port),
                baud,
            });
        }
        if kind == "esp32c3-probe" {
            let selector = rest.map(str::to_string);
            if let Some(s) = &selector {
                check_selector(value, s)?;
            }
            return Ok(Self::Probe {
                chip: "esp32c3".into(),
                selector,
            });
        }
        if kind == "probe" {
            let rest = rest
                .filter(|r| !r.is_empty())
                .ok_or_else(|| err(value, "no chip name after `probe:`"))?;
            let (chip, selector) = match rest.split_once('@') {
                Some((chip, sel)) => (chip, Some(sel.to_string())),
                None => (rest, None),
            };
            if chip.is_empty() {
                return Err(err(value, "empty chip name"));
            }
            if let Some(s) = &selector {
                check_selector(value, s)?;
            }
            return Ok(Self::Probe {
                chip: chip.to_string(),
                selector,
            });
        }
        Err(err(value, format!("unknown board kind `{kind}`")))
    }
}

impl fmt::Display for HardwareBoard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Serial { chip, port, baud } if *baud == ROM_BAUD => {
                write!(f, "{chip}-serial:{}", port.display())
            }
            Self::Serial { chip, port, baud } => {
                write!(f, "{chip}-serial:{}@{baud}", port.display())
            }
            Self::Probe {
                chip,
                selector: None,
            } => write!(f, "probe:{chip}"),
            Self::Probe {
                chip,
                selector: Some(s),
            } => write!(f, "probe:{chip}@{s}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(v: &str) -> Result<HardwareBoard, String> {
        v.parse::<HardwareBoard>().map_err(|e| e.to_string())
    }

    #[test]
    fn serial_boards_with_and_without_baud() {
        assert_eq!(
            parse("esp32c3-serial:/dev/ttyACM0"),
            Ok(HardwareBoard::Serial {
                chip: EspChip::Esp32c3,
                port: "/dev/ttyACM0".into(),
                baud: 115_200
            })
        );
        assert_eq!(
            parse(" esp32-serial:/dev/serial/by-id/usb-Silicon_Labs_CP2102-if00@921600 "),
            Ok(HardwareBoard::Serial {
                chip: EspChip::Esp32,
                port: "/dev/serial/by-id/usb-Silicon_Labs_CP2102-if00".into(),
                baud: 921_600
            })
        );
    }

    #[test]
    fn probe_boards_with_and_without_selector() {
        assert_eq!(
            parse("esp32c3-probe"),
            Ok(HardwareBoard::Probe {
                chip: "esp32c3".into(),
                selector: None
            })
        );
        assert_eq!(
            parse("esp32c3-probe:303a:1001:F4:12:FA:00:00:01"),
            Ok(HardwareBoard::Probe {
                chip: "esp32c3".into(),
                selector: Some("303a:1001:F4:12:FA:00:00:01".into())
            })
        );
        assert_eq!(
            parse("probe:nRF52840_xxAA@1366:1051"),
            Ok(HardwareBoard::Probe {
                chip: "nRF52840_xxAA".into(),
                selector: Some("1366:1051".into())
            })
        );
    }

    #[test]
    fn every_form_round_trips_through_display() {
        for v in [
            "esp32c3-serial:/dev/ttyACM0",
            "esp32c3-serial:/dev/ttyUSB1@460800",
            "probe:esp32c3",
            "probe:STM32L476RGTx@0483:374b",
        ] {
            assert_eq!(parse(v).unwrap().to_string(), v);
        }
    }

    #[test]
    fn profiles_follow_the_chip() {
        assert_eq!(
            parse("esp32c3-serial:/dev/ttyACM0").unwrap().profile(),
            Some("esp32c3-band")
        );
        assert_eq!(
            parse("esp32c3-probe").unwrap().profile(),
            Some("esp32c3-band")
        );
        assert_eq!(
            parse("esp32-serial:/dev/ttyUSB0").unwrap().profile(),
            Some("esp32-band")
        );
        assert_eq!(
            parse("probe:nRF52840_xxAA").unwrap().profile(),
            Some("nrf52840-band")
        );
        assert_eq!(parse("probe:STM32F407VGTx").unwrap().profile(), None);
    }

    #[test]
    fn bad_values_name_the_problem() {
        for (v, says) in [
            ("esp32c3-serial", "no serial port"),
            ("esp32c3-serial:", "no serial port"),
            ("esp32c3-serial:/dev/ttyACM0@fast", "baud rate `fast`"),
            ("esp32c3-serial:/dev/ttyACM0@0", "baud rate `0`"),
            ("esp32s9-serial:/dev/ttyACM0", "unknown chip `esp32s9`"),
            ("esp32c3-probe:xyz", "vendor id `xyz`"),
            ("esp32c3-probe:303a", "product id ``"),
            ("probe:", "no chip name"),
            ("probe:@1366:1051", "empty chip name"),
            ("jlink:/dev/ttyACM0", "unknown board kind `jlink`"),
        ] {
            let e = parse(v).expect_err(v);
            assert!(e.contains(says), "{v}: {e}");
            assert!(e.contains("HARBOR_BOARD"), "{v}: {e}");
        }
    }
}
