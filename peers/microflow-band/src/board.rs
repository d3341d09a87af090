//! QEMU `virt`: the 16550 UART (output only), `minstret`, the SiFive test device.

use crate::start::STACK_PAINT;

const UART_THR: usize = 0x1000_0000;
const UART_LSR: usize = 0x1000_0005;
const LSR_THR_EMPTY: u8 = 1 << 5;
const TEST_DEVICE: usize = 0x0010_0000;
const TEST_PASS: u32 = 0x5555;
const TEST_FAIL: u32 = 0x3333;

unsafe extern "C" {
    static _stack_bottom: u32;
    static _stack_top: u32;
}

/// Writes `bytes` to the UART.
pub fn write_bytes(bytes: &[u8]) {
    for &b in bytes {
        // SAFETY: the 16550's registers on `virt`.
        unsafe {
            while core::ptr::read_volatile(UART_LSR as *const u8) & LSR_THR_EMPTY == 0 {}
            core::ptr::write_volatile(UART_THR as *mut u8, b);
        }
    }
}

/// Writes `s` to the UART.
pub fn write_str(s: &str) {
    write_bytes(s.as_bytes());
}

/// Instructions retired since reset (`minstret`, 64 bits).
pub fn instructions() -> u64 {
    loop {
        let (hi, lo, hi2): (u32, u32, u32);
        // SAFETY: reading counters has no side effects; hi twice catches a carry.
        unsafe {
            core::arch::asm!("csrr {0}, minstreth", "csrr {1}, minstret", "csrr {2}, minstreth",
                out(reg) hi, out(reg) lo, out(reg) hi2);
        }
        if hi == hi2 {
            return (u64::from(hi) << 32) | u64::from(lo);
        }
    }
}

/// Bytes of stack ever used: from the top down to the lowest word that lost its paint.
pub fn stack_high_water() -> usize {
    let bottom = &raw const _stack_bottom as usize;
    let top = &raw const _stack_top as usize;
    let mut addr = bottom;
    // SAFETY: [bottom, top) is the linker script's stack region, word aligned.
    while addr < top && unsafe { core::ptr::read_volatile(addr as *const u32) } == STACK_PAINT {
        addr += 4;
    }
    top - addr
}

/// Paints the stack again below the caller's frame, so the next high-water mark shows only
/// what runs from here on.
#[inline(never)]
pub fn repaint_stack() {
    // SAFETY: writes only [_stack_bottom, sp), the unused part of the stack region; the loop
    // itself keeps everything in registers.
    unsafe {
        core::arch::asm!(
            "la {p}, _stack_bottom",
            "1: bgeu {p}, sp, 2f",
            "sw {w}, 0({p})",
            "addi {p}, {p}, 4",
            "j 1b",
            "2:",
            p = out(reg) _,
            w = in(reg) STACK_PAINT,
        );
    }
}

/// Ends QEMU with `code` (0 = pass).
pub fn exit(code: u32) -> ! {
    let value = if code == 0 {
        TEST_PASS
    } else {
        (code << 16) | TEST_FAIL
    };
    // SAFETY: the test device's register on `virt`.
    unsafe { core::ptr::write_volatile(TEST_DEVICE as *mut u32, value) };
    loop {
        // SAFETY: wfi has no memory effects.
        unsafe { core::arch::asm!("wfi") };
    }
}
