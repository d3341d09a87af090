//! harbor's band firmware for a real ESP32-C3: the shared band application (`band-app`)
//! on esp-hal's UART0 (the devkits' USB bridge, 115 200 Bd) or, with feature `rtt`, on
//! RTT channels a debug probe reads; the C3's own instruction counter, and a painted stack. It cannot run here; CI builds it (scripts/build-firmware)
//! and `harness/tests/it/esp32c3_elf.rs` checks the image.
#![no_std]
#![no_main]

mod board;
#[cfg(feature = "rtt")]
mod rtt_link;
#[cfg(not(feature = "rtt"))]
mod uart_link;

use band_app::{App, Board, Identity, ModelSlot};
use board::Esp32c3;

// ESP-IDF's second-stage bootloader refuses images without this descriptor.
esp_bootloader_esp_idf::esp_app_desc!();

const IDENTITY: Identity = Identity {
    name: "band-esp32c3",
    vendor: "harbor band-esp32c3",
    profile: "harbor band-esp32c3 0.1.0",
};

/// The model slot: RAM on this image (a flash partition through esp-storage is the
/// real-board work's next step), sized for harbor's HAR models (base: 26 KB).
const MODEL_SLOT_SIZE: usize = 64 * 1024;

#[esp_hal::main]
fn main() -> ! {
    // First, before deeper calls: everything below the current frame is still unused.
    board::paint_stack();
    static mut APP: App = App::new();
    static mut MODEL_SLOT: [u8; MODEL_SLOT_SIZE] = [0; MODEL_SLOT_SIZE];
    let mut board = Esp32c3::init();
    // SAFETY: main runs once and is the only user of APP and MODEL_SLOT (raw pointers:
    // `&mut` to a `static mut` is a hard error in edition 2024).
    #[allow(clippy::deref_addrof)]
    let (app, slot) = unsafe { (&mut *(&raw mut APP), &mut *(&raw mut MODEL_SLOT)) };
    app.boot(&mut board, IDENTITY, ModelSlot::new(slot));
    loop {
        let byte = board.read_byte();
        app.on_byte(&mut board, byte);
    }
}

#[panic_handler]
fn panic(_info: &core::panic::PanicInfo<'_>) -> ! {
    // A panic is a firmware bug: restart rather than hang.
    board::report_panic_and_reset()
}
