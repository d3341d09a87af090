//! harbor's band firmware for `qemu-system-riscv32 -M virt`: the shared band application
//! (`band-app`) on QEMU's 16550 UART, `minstret` and the SiFive test device, linked with
//! the ESP32-C3's memory budget.
#![no_std]
#![no_main]

mod board;
mod flash;
mod fw_cfg;
mod start;
mod trap;

use band_app::{App, Board, Identity, ModelSlot};
use board::QemuVirt;

#[cfg(not(feature = "mlperf"))]
const IDENTITY: Identity = Identity {
    name: "band-qemu",
    vendor: "harbor band-qemu",
    profile: "harbor band-qemu 0.1.0",
};

#[cfg(feature = "mlperf")]
const IDENTITY: Identity = Identity {
    name: "band-qemu-mlperf",
    vendor: "harbor band-qemu-mlperf",
    profile: "harbor band-qemu-mlperf 0.1.0",
};

/// The model compiled into the text-only image (build.rs names the file).
#[cfg(feature = "mlperf")]
static BAKED_MODEL: &[u8] = include_bytes!(env!("BAND_BAKED_MODEL"));

unsafe extern "C" {
    static mut _model_slot_start: u8;
    static _model_slot_end: u8;
}

/// The slot the linker script reserved. Called once, from `band_main`.
fn model_slot() -> ModelSlot {
    // SAFETY: the linker reserves [_model_slot_start, _model_slot_end) for this one slice,
    // and band_main calls this exactly once.
    let bytes = unsafe {
        let start = &raw mut _model_slot_start;
        let end = &raw const _model_slot_end;
        core::slice::from_raw_parts_mut(start, end as usize - start as usize)
    };
    ModelSlot::new(bytes)
}

/// Called by the start-up code once .data, .bss and the stack paint are in place.
#[unsafe(no_mangle)]
extern "C" fn band_main() -> ! {
    static mut APP: App = App::new();
    let mut board = QemuVirt::init();
    // SAFETY: band_main runs once and is the only user of APP. (`&mut APP` is a hard error
    // on `static mut` in edition 2024, hence the raw pointer.)
    #[allow(clippy::deref_addrof)]
    let app = unsafe { &mut *(&raw mut APP) };
    #[cfg(not(feature = "mlperf"))]
    app.boot(&mut board, IDENTITY, model_slot());
    #[cfg(feature = "mlperf")]
    app.boot_with_model(&mut board, IDENTITY, model_slot(), BAKED_MODEL);
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
