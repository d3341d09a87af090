//! A board behind a debug probe: probe-rs attaches (the ESP32-C3 through its built-in
//! USB-JTAG with the probe-rs-espressif plugin, Cortex-M boards by probe-rs chip name),
//! flashes the ELF, and carries harbor's protocol over RTT: up channel 0 holds the band's
//! bytes, down channel 0 the host's (firmware/band-esp32c3 with feature `rtt`).
//!
//! [`ProbeConfig`] is always built, so scenarios and [`crate::dut::open`] can name a probe
//! target and refuse it by name; the session itself ([`rtt`]) needs feature `probe`.
//! docs/hardware.md has the commands.

use std::path::PathBuf;
use std::time::Duration;

use harbor_core::protocol::frame::MAX_FRAME;

#[cfg(feature = "probe")]
pub mod rtt;
#[cfg(feature = "probe")]
pub use rtt::{ProbeBoard, ProbeTarget};

/// How to reach a board through a probe.
#[derive(Clone, Debug)]
pub struct ProbeConfig {
    /// probe-rs target name: `esp32c3`, `nRF52840_xxAA`, …
    pub chip: String,
    /// `VID:PID[:SERIAL]`; `None`: the only probe attached.
    pub selector: Option<String>,
    /// The firmware ELF (flashed unless `flash` is false; read for RTT's control block).
    pub firmware: PathBuf,
    /// Flash the ELF first (false: the board already runs it; attach and reset only).
    pub flash: bool,
    /// From reset to the firmware's `m-ready` over RTT.
    pub boot_timeout: Duration,
    /// Deadline for each request → response exchange.
    pub exchange_timeout: Duration,
    /// Bytes of noise tolerated before an exchange fails as garbage.
    pub garbage_budget: usize,
}

impl ProbeConfig {
    /// `chip` behind the only attached probe, flashing `firmware`, default deadlines.
    pub fn new(chip: impl Into<String>, firmware: impl Into<PathBuf>) -> Self {
        Self {
            chip: chip.into(),
            selector: None,
            firmware: firmware.into(),
            flash: true,
            boot_timeout: Duration::from_secs(20),
            exchange_timeout: Duration::from_secs(10),
            garbage_budget: 4 * MAX_FRAME,
        }
    }

    #[cfg(feature = "probe")]
    pub(crate) fn is_espressif(&self) -> bool {
        self.chip.to_ascii_lowercase().starts_with("esp32")
    }
}
