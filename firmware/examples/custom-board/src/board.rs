//! `Board` for the EXAMPLE SoC. Every address below is made up: replace them with your
//! chip's (its reference manual's UART, timer and reset chapters).
//!
//! What band-app needs, and why:
//! - a UART (`read_byte`, `write_bytes`): the protocol's only channel; 115 200 Bd 8N1 is
//!   what `harbor run` opens a `kind: serial` port with by default;
//! - a retired-instruction counter (`instructions`): the `instructions_*` metrics and the
//!   latency estimate; RISC-V's `minstret` where the core has it;
//! - a microsecond clock (`micros`): the `m-lap-us` stamps, and the `elapsed_us` of every
//!   inference once `measures_wall_time` says it is a real clock;
//! - the painted stack (`stack`): the stack high-water mark in every reply;
//! - `exit`: a reset on a board; the OTA `Reboot` request ends here too;
//! - optionally the OTA flash (`ota_flash`, see `flash.rs`).

use band_app::{BandFlash, Board, StackUsage};

use crate::flash::ExampleFlash;
use crate::start::STACK_PAINT;

// EXAMPLE UART: a data register and a status register.
const UART_BASE: usize = 0x6000_0000;
const UART_DATA: usize = UART_BASE;
const UART_STATUS: usize = UART_BASE + 0x04;
const UART_DIVISOR: usize = UART_BASE + 0x08;
const STATUS_RX_READY: u32 = 1 << 0;
const STATUS_TX_FULL: u32 = 1 << 1;
/// Peripheral clock / baud rate (an example 48 MHz clock at 115 200 Bd).
const UART_DIVISOR_115200: u32 = 48_000_000 / 115_200;

// EXAMPLE free-running 64-bit timer counting microseconds.
const TIMER_LO: usize = 0x6000_1000;
const TIMER_HI: usize = 0x6000_1004;

// EXAMPLE system controller: writing the key resets the chip.
const SYSCTRL_RESET: usize = 0x6000_2000;
const RESET_KEY: u32 = 0x5AFE_0001;

unsafe extern "C" {
    static _stack_bottom: u32;
    static _stack_top: u32;
}

fn read32(addr: usize) -> u32 {
    // SAFETY: callers pass the example SoC's MMIO register addresses.
    unsafe { core::ptr::read_volatile(addr as *const u32) }
}

fn write32(addr: usize, v: u32) {
    // SAFETY: as read32.
    unsafe { core::ptr::write_volatile(addr as *mut u32, v) }
}

/// Resets the chip (a board has nowhere to exit to).
pub fn reset() -> ! {
    write32(SYSCTRL_RESET, RESET_KEY);
    loop {
        // SAFETY: wfi has no memory effects; the reset takes effect within a few cycles.
        unsafe { core::arch::asm!("wfi") };
    }
}

pub struct ExampleSoc {
    flash: ExampleFlash,
}

impl ExampleSoc {
    /// Clocks, watchdog and pins would go first on a real chip; then the UART.
    pub fn init() -> Self {
        write32(UART_DIVISOR, UART_DIVISOR_115200);
        Self {
            flash: ExampleFlash::new(),
        }
    }

    /// The board as the trap handler uses it: no set-up, just the UART and reset.
    pub fn for_trap() -> Self {
        Self {
            flash: ExampleFlash::new(),
        }
    }
}

impl Board for ExampleSoc {
    fn read_byte(&mut self) -> u8 {
        while read32(UART_STATUS) & STATUS_RX_READY == 0 {
            // Sleep until an interrupt is pending (enable the UART's RX interrupt for this
            // to wake; polling also works, it only burns power).
            // SAFETY: wfi has no memory effects.
            unsafe { core::arch::asm!("wfi") };
        }
        read32(UART_DATA) as u8
    }

    fn write_bytes(&mut self, bytes: &[u8]) {
        for &b in bytes {
            while read32(UART_STATUS) & STATUS_TX_FULL != 0 {}
            write32(UART_DATA, u32::from(b));
        }
    }

    fn instructions(&self) -> u64 {
        loop {
            let (hi, lo, hi2): (u32, u32, u32);
            // SAFETY: reading counters has no side effects; hi twice detects a carry.
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
            let hi = read32(TIMER_HI);
            let lo = read32(TIMER_LO);
            if read32(TIMER_HI) == hi {
                return (u64::from(hi) << 32) | u64::from(lo);
            }
        }
    }

    /// A real timer: every InferResult carries `elapsed_us`, the measured latency.
    fn measures_wall_time(&self) -> bool {
        true
    }

    fn stack(&self) -> StackUsage {
        let bottom = &raw const _stack_bottom as usize;
        let top = &raw const _stack_top as usize;
        // SAFETY: memory.x's .stack region: RAM, 16-byte aligned, painted by start-up.
        unsafe { band_app::stack_high_water(bottom, top, STACK_PAINT) }
    }

    fn exit(&mut self, _code: u32) -> ! {
        reset()
    }

    fn ota_flash(&mut self) -> Option<&mut dyn BandFlash> {
        Some(&mut self.flash)
    }
}
