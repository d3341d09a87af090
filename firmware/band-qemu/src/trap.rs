//! The trap handler: report mcause/mepc/mtval over the UART, exit non-zero.

use core::fmt::Write;

use harbor_core::protocol::trap::TrapReport;

use band_app::Board;

use crate::board::QemuVirt;

/// Exit code of a trapped firmware (the harness reads the report line, not the code).
pub const TRAP_EXIT_CODE: u32 = 3;
/// mcause reported for a Rust panic: a custom-use cause value (priv spec: 24–31).
pub const PANIC_MCAUSE: u32 = 24;

#[unsafe(no_mangle)]
extern "C" fn band_trap(mcause: u32, mepc: u32, mtval: u32) -> ! {
    report_and_exit(mcause, mepc, mtval)
}

pub fn report_and_exit(mcause: u32, mepc: u32, mtval: u32) -> ! {
    // The app's board may be mid-use; the UART is stateless enough to take over here.
    let mut board = QemuVirt::for_trap();
    let mut out = board.out();
    // CR LF first: the trap may have cut a line (or a binary frame) in half.
    let _ = out.write_str("\r\n");
    let _ = TrapReport {
        mcause,
        mepc,
        mtval,
    }
    .write_line(&mut out);
    let _ = out.write_str("\r\n");
    board.exit(TRAP_EXIT_CODE)
}
