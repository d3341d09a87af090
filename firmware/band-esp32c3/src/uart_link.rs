//! The host link on UART0 (GPIO20 RX / GPIO21 TX, 115 200 Bd): the devkits' USB bridge.

use esp_hal::Blocking;
use esp_hal::peripherals::Peripherals;
use esp_hal::uart::{Config as UartConfig, Uart};

pub struct HostLink {
    uart: Uart<'static, Blocking>,
}

impl HostLink {
    pub fn new(peripherals: Peripherals) -> Self {
        let uart = match Uart::new(peripherals.UART0, UartConfig::default()) {
            Ok(uart) => uart.with_rx(peripherals.GPIO20).with_tx(peripherals.GPIO21),
            // The default configuration is always valid; if not, nothing can be reported.
            Err(_) => esp_hal::system::software_reset(),
        };
        Self { uart }
    }

    pub fn read_byte(&mut self) -> u8 {
        let mut byte = [0u8; 1];
        loop {
            // Blocks until a byte is in the FIFO; a line error drops that byte only.
            if let Ok(1) = self.uart.read(&mut byte) {
                return byte[0];
            }
        }
    }

    pub fn write_bytes(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            match self.uart.write(bytes) {
                Ok(n) => bytes = &bytes[n..],
                Err(_) => return,
            }
        }
        let _ = self.uart.flush();
    }
}
