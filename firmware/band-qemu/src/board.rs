//! QEMU `virt` machine: 16550 UART, PLIC (only to wake `wfi`), CLINT timer, SiFive test
//! device, and the hart's `minstret`.

use crate::flash::PFlash;
use crate::start::STACK_PAINT;
use band_app::{BandFlash, Board, StackUsage};
use harbor_core::protocol::mailbox;

const UART: usize = 0x1000_0000;
const UART_RBR: usize = UART;
const UART_THR: usize = UART;
const UART_IER: usize = UART + 1;
const UART_FCR: usize = UART + 2;
const UART_MCR: usize = UART + 4;
const UART_LSR: usize = UART + 5;
const LSR_DATA_READY: u8 = 1 << 0;
const LSR_THR_EMPTY: u8 = 1 << 5;
const IER_RX_AVAILABLE: u8 = 1 << 0;
const MCR_OUT2: u8 = 1 << 3;
/// FIFOs on, both cleared, receive interrupt at 14 bytes (or the character timeout).
const FCR_FIFO_14: u8 = 0x01 | 0x02 | 0x04 | 0xC0;

const PLIC: usize = 0x0C00_0000;
const UART_IRQ: usize = 10;
/// Context 0 is hart 0 in M-mode on `virt`.
const PLIC_ENABLE_CTX0: usize = PLIC + 0x2000;
const PLIC_THRESHOLD_CTX0: usize = PLIC + 0x20_0000;
const PLIC_CLAIM_CTX0: usize = PLIC + 0x20_0004;

/// CLINT `mtime`, 10 MHz on `virt`.
const MTIME: usize = 0x0200_BFF8;
const MTIME_TICKS_PER_US: u64 = 10;

const TEST_DEVICE: usize = 0x0010_0000;
const TEST_PASS: u32 = 0x5555;
const TEST_FAIL: u32 = 0x3333;

const MIE_MEIE: usize = 1 << 11;

unsafe extern "C" {
    static _stack_bottom: u32;
    static _stack_top: u32;
}

pub struct QemuVirt {
    flash: PFlash,
}

fn read8(addr: usize) -> u8 {
    // SAFETY: callers pass MMIO register addresses of the `virt` machine.
    unsafe { core::ptr::read_volatile(addr as *const u8) }
}

fn write8(addr: usize, v: u8) {
    // SAFETY: as read8.
    unsafe { core::ptr::write_volatile(addr as *mut u8, v) }
}

fn read32(addr: usize) -> u32 {
    // SAFETY: as read8.
    unsafe { core::ptr::read_volatile(addr as *const u32) }
}

fn write32(addr: usize, v: u32) {
    // SAFETY: as read8.
    unsafe { core::ptr::write_volatile(addr as *mut u32, v) }
}

impl QemuVirt {
    /// Sets up the UART's receive interrupt so `wfi` wakes on input. Interrupts stay
    /// globally disabled (mstatus.MIE = 0): `wfi` wakes on a pending enabled interrupt
    /// without trapping, so no interrupt handler is needed.
    pub fn init() -> Self {
        // With the FIFO the emulated UART takes up to 14 bytes per delivery from the host
        // instead of one: QEMU's main loop runs once per 14 bytes, not once per byte.
        write8(UART_FCR, FCR_FIFO_14);
        write8(UART_IER, IER_RX_AVAILABLE);
        write8(UART_MCR, MCR_OUT2);
        write32(PLIC + 4 * UART_IRQ, 1);
        write32(PLIC_ENABLE_CTX0, 1 << UART_IRQ);
        write32(PLIC_THRESHOLD_CTX0, 0);
        // SAFETY: setting mie.MEIE only makes external interrupts pending-visible to wfi.
        unsafe { core::arch::asm!("csrs mie, {0}", in(reg) MIE_MEIE) };
        let mut flash = PFlash::new();
        // Test hook: a power cut armed before boot, so it can hit the boot decision's writes.
        if let Some(after) = crate::fw_cfg::number("opt/harbor/power-cut-at-boot") {
            flash.arm_power_cut(after);
        }
        Self { flash }
    }

    /// The board as the trap handler uses it: no set-up, just the UART and exit.
    pub fn for_trap() -> Self {
        Self {
            flash: PFlash::new(),
        }
    }

    fn stack_bounds() -> (usize, usize) {
        // Only the symbols' addresses are taken, never their values.
        (
            &raw const _stack_bottom as usize,
            &raw const _stack_top as usize,
        )
    }
}

impl Board for QemuVirt {
    fn read_byte(&mut self) -> u8 {
        loop {
            if read8(UART_LSR) & LSR_DATA_READY != 0 {
                return read8(UART_RBR);
            }
            // Sleeping rather than polling keeps instruction totals independent of when
            // the host's bytes arrive.
            // SAFETY: wfi has no memory effects.
            unsafe { core::arch::asm!("wfi") };
            let irq = read32(PLIC_CLAIM_CTX0);
            if irq != 0 {
                write32(PLIC_CLAIM_CTX0, irq);
            }
        }
    }

    fn write_bytes(&mut self, bytes: &[u8]) {
        for &b in bytes {
            while read8(UART_LSR) & LSR_THR_EMPTY == 0 {}
            write8(UART_THR, b);
        }
    }

    fn instructions(&self) -> u64 {
        loop {
            let (hi, lo, hi2): (u32, u32, u32);
            // SAFETY: reading counters has no side effects. hi is read twice so a carry
            // from lo into hi between the reads is detected.
            unsafe {
                core::arch::asm!("csrr {0}, minstreth", "csrr {1}, minstret", "csrr {2}, minstreth",
                    out(reg) hi, out(reg) lo, out(reg) hi2);
            }
            if hi == hi2 {
                return (u64::from(hi) << 32) | u64::from(lo);
            }
        }
    }

    fn micros(&self) -> u64 {
        loop {
            let hi = read32(MTIME + 4);
            let lo = read32(MTIME);
            if read32(MTIME + 4) == hi {
                return ((u64::from(hi) << 32) | u64::from(lo)) / MTIME_TICKS_PER_US;
            }
        }
    }

    fn stack(&self) -> StackUsage {
        let (bottom, top) = Self::stack_bounds();
        // SAFETY: the linker script's .stack region: RAM, 16-byte aligned.
        unsafe { band_app::stack_high_water(bottom, top, STACK_PAINT) }
    }

    fn exit(&mut self, code: u32) -> ! {
        exit_qemu(code)
    }

    fn ota_flash(&mut self) -> Option<&mut dyn BandFlash> {
        Some(&mut self.flash)
    }

    fn mailbox(&mut self) -> Option<core::ptr::NonNull<[u8]>> {
        // `virt` RAM beyond the band's linked budget; harbor maps the same RAM file.
        let start = mailbox::ADDR as usize as *mut u8;
        core::ptr::NonNull::new(core::ptr::slice_from_raw_parts_mut(start, mailbox::LEN))
    }
}

/// Ends QEMU with `code` through the SiFive test device (also the power-cut hook's way out).
pub fn exit_qemu(code: u32) -> ! {
    {
        let value = if code == 0 {
            TEST_PASS
        } else {
            (code << 16) | TEST_FAIL
        };
        write32(TEST_DEVICE, value);
        // The test device ends QEMU; spin in case it is absent.
        loop {
            // SAFETY: as in read_byte.
            unsafe { core::arch::asm!("wfi") };
        }
    }
}
