//! harbor's band application on your own board: an EXAMPLE port to a made-up RISC-V SoC
//! (`board.rs` has its invented register map). Copy this crate, replace `board.rs` and
//! `memory.x` with your chip's, keep the rest. docs/firmware.md ("Porting band-app to your
//! board") says what each part must do and how to check the result with `harbor run`.
#![no_std]
#![no_main]

mod board;
mod flash;
mod start;

use band_app::{App, Board, Identity, ModelSlot};
use board::ExampleSoc;

/// How the firmware names itself: Info's name, `m-name-dut-[…]` and `m-profile-[…]`.
const IDENTITY: Identity = Identity {
    name: "custom-board",
    vendor: "example custom-board",
    profile: "example custom-board 0.1.0",
};

/// Where LoadModel writes: RAM here. Size it for your largest model (harbor's base HAR
/// model is about 26 KB; `harbor models list` prints each variant's size).
const MODEL_SLOT_SIZE: usize = 64 * 1024;

/// Called by `start.rs` once .data, .bss and the stack paint are in place.
#[unsafe(no_mangle)]
extern "C" fn band_main() -> ! {
    static mut APP: App = App::new();
    static mut MODEL_SLOT: [u8; MODEL_SLOT_SIZE] = [0; MODEL_SLOT_SIZE];
    let mut board = ExampleSoc::init();
    // SAFETY: band_main runs once and is the only user of APP and MODEL_SLOT (raw pointers:
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
    // Report it the way harbor names traps (mcause 24: a custom cause for "panic").
    start::report_trap(24, 0, 0)
}
