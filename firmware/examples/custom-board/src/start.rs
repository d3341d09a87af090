//! Start-up: trap vector, stack, .bss/.data, stack paint, then `band_main`; and the trap
//! report harbor reads (`e-[trap mcause=… mepc=… mtval=…]`, docs/protocol.md).
//!
//! The stack is painted before any Rust code runs, so the band's stack high-water mark
//! (Info, InferResult) covers everything. Keep this file as it is unless your chip needs
//! clocks or a watchdog set up first (do that at the top of `ExampleSoc::init`).

use core::fmt::Write;

use band_app::Board;
use harbor_core::protocol::trap::TrapReport;

use crate::board::ExampleSoc;

/// The word start-up writes over the stack; `Board::stack` counts the words still holding it.
pub const STACK_PAINT: u32 = 0xA5A5_A5A5;

core::arch::global_asm!(
    r#"
    .section .text.start, "ax"
    .global _start
_start:
    csrw mie, zero
    csrw mstatus, zero
    la t0, _trap_entry
    csrw mtvec, t0
    la sp, _stack_top

    la t0, _sbss
    la t1, _ebss
1:  bgeu t0, t1, 2f
    sw zero, 0(t0)
    addi t0, t0, 4
    j 1b
2:
    la t0, _sdata
    la t1, _edata
    la t2, _sidata
3:  bgeu t0, t1, 4f
    lw t3, 0(t2)
    sw t3, 0(t0)
    addi t0, t0, 4
    addi t2, t2, 4
    j 3b
4:
    la t0, _stack_bottom
    li t3, {paint}
5:  bgeu t0, sp, 6f
    sw t3, 0(t0)
    addi t0, t0, 4
    j 5b
6:
    call band_main
7:  j 7b

    .section .text.trap, "ax"
    .align 2
    .global _trap_entry
_trap_entry:
    la sp, _stack_top
    csrr a0, mcause
    csrr a1, mepc
    csrr a2, mtval
    call band_trap
8:  j 8b
"#,
    paint = const STACK_PAINT,
);

#[unsafe(no_mangle)]
extern "C" fn band_trap(mcause: u32, mepc: u32, mtval: u32) -> ! {
    report_trap(mcause, mepc, mtval)
}

/// Prints the trap line harbor parses, then resets the chip.
pub fn report_trap(mcause: u32, mepc: u32, mtval: u32) -> ! {
    let mut board = ExampleSoc::for_trap();
    let mut out = board.out();
    // CR LF first: the trap may have cut a line or a frame in half.
    let _ = out.write_str("\r\n");
    let _ = TrapReport {
        mcause,
        mepc,
        mtval,
    }
    .write_line(&mut out);
    let _ = out.write_str("\r\n");
    board.exit(3)
}
