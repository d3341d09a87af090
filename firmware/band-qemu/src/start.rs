//! Start-up: stack, trap vector, .data/.bss, stack paint, then `band_main`.
//!
//! Hand-written instead of riscv-rt so the stack can be painted before any Rust code runs
//! (a painted word that Rust start-up code already used would hide stack use).

/// The word start-up writes over the whole stack; unchanged words were never used.
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
    /* Never returns: reset sp so a trap caused by a stack overflow can still report. */
    la sp, _stack_top
    csrr a0, mcause
    csrr a1, mepc
    csrr a2, mtval
    call band_trap
8:  j 8b
"#,
    paint = const STACK_PAINT,
);
