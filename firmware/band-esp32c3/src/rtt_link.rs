//! The host link over RTT (feature `rtt`): up channel 0 carries the band's bytes to the
//! debug probe, down channel 0 the host's bytes to the band — the same framed protocol
//! and text lines as on UART0. harbor's probe target (probe-rs) polls both buffers.

use esp_hal::peripherals::Peripherals;
use rtt_target::{ChannelMode, DownChannel, UpChannel, rtt_init};

/// Up: a whole response frame plus a boot banner fits; down: one request frame and more.
const UP_SIZE: usize = 2048;
const DOWN_SIZE: usize = 1024;

pub struct HostLink {
    up: UpChannel,
    down: DownChannel,
}

impl HostLink {
    pub fn new(_peripherals: Peripherals) -> Self {
        let channels = rtt_init! {
            up: { 0: { size: UP_SIZE, name: "harbor" } }
            down: { 0: { size: DOWN_SIZE, name: "harbor" } }
        };
        let mut up = channels.up.0;
        // Never drop protocol bytes: wait for the host to drain the buffer.
        up.set_mode(ChannelMode::BlockIfFull);
        Self {
            up,
            down: channels.down.0,
        }
    }

    pub fn read_byte(&mut self) -> u8 {
        let mut byte = [0u8; 1];
        loop {
            if self.down.read(&mut byte) == 1 {
                return byte[0];
            }
        }
    }

    pub fn write_bytes(&mut self, bytes: &[u8]) {
        // BlockIfFull: write returns once every byte is in the buffer.
        let mut rest = bytes;
        while !rest.is_empty() {
            let n = self.up.write(rest);
            rest = &rest[n..];
        }
    }
}
