//! harbor's band firmware for `qemu-system-riscv32 -M virt`: speaks harbor's protocol
//! (MLPerf Tiny text commands and framed binary messages) over the 16550 UART and reports
//! instruction counts and stack use with every inference.
#![no_std]
#![no_main]

mod app;
mod board;
mod inference;
mod model_slot;
mod start;
mod trap;

use board::Board;
use board::qemu_virt::QemuVirt;

/// Called by the start-up code once .data, .bss and the stack paint are in place.
#[unsafe(no_mangle)]
extern "C" fn band_main() -> ! {
    static mut APP: app::App = app::App::new();
    let mut board = QemuVirt::init();
    // SAFETY: band_main runs once and is the only user of APP. (`&mut APP` is a hard error
    // on `static mut` in edition 2024, hence the raw pointer.)
    #[allow(clippy::deref_addrof)]
    let app = unsafe { &mut *(&raw mut APP) };
    app.boot(&mut board, model_slot::ModelSlot::take());
    loop {
        let byte = board.read_byte();
        app.on_byte(&mut board, byte);
    }
}

#[panic_handler]
fn panic(_info: &core::panic::PanicInfo<'_>) -> ! {
    // A panic is a firmware bug: report it like a trap so the harness names it.
    trap::report_and_exit(trap::PANIC_MCAUSE, 0, 0)
}
