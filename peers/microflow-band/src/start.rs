//! Start-up as harbor's band does it (firmware/band-qemu/src/start.rs): stack, trap vector,
//! .data/.bss, then the whole stack painted before any Rust code runs, then `main`.

/// The word written over the whole stack; unchanged words were never used.
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
    call main
7:  j 7b

    .section .text.trap, "ax"
    .align 2
_trap_entry:
    la sp, _stack_top
    call peer_trap
8:  j 8b
"#,
    paint = const STACK_PAINT,
);

#[unsafe(no_mangle)]
extern "C" fn peer_trap() -> ! {
    crate::write_str("\ntrap\n");
    crate::exit(3)
}
