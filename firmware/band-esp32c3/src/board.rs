//! The ESP32-C3 as a band: the host link (UART0, or RTT with feature `rtt`), the
//! performance counter CSRs, the painted main stack, software reset.

use core::cell::Cell;

use band_app::{Board, StackUsage};
use esp_hal::clock::CpuClock;

#[cfg(feature = "rtt")]
use crate::rtt_link::HostLink;
#[cfg(not(feature = "rtt"))]
use crate::uart_link::HostLink;

/// Word written over the unused stack at start-up (as band-qemu).
const STACK_PAINT: u32 = 0xA5A5_A5A5;
/// Bytes below the current stack pointer left unpainted: `paint_stack`'s own frame.
const PAINT_MARGIN: usize = 256;

/// Performance counter CSRs of the C3's core (ESP-IDF `CSR_PCER/PCMR/PCCR_MACHINE`).
const MPCER: u16 = 0x7E0;
const MPCMR: u16 = 0x7E1;
/// Event select: bit 1 counts retired instructions (bit 0 would count cycles).
const PCER_INSTRUCTIONS: u32 = 1 << 1;
/// Mode: bit 0 enables counting.
const PCMR_ENABLE: u32 = 1 << 0;

unsafe extern "C" {
    /// esp-hal's linker script: top (`_stack_start`) and bottom (`_stack_end`) of the main
    /// stack, and the guard word it watches near the bottom.
    static _stack_start: u32;
    static _stack_end: u32;
    static __stack_chk_guard: u32;
}

/// Lowest word that may be painted: just above esp-hal's stack guard, which a debug
/// watchpoint protects (writing it would trip stack-guard monitoring).
fn paint_bottom() -> usize {
    &raw const __stack_chk_guard as usize + 4
}

fn stack_top() -> usize {
    &raw const _stack_start as usize
}

/// Paints the unused part of the main stack so the high-water mark can be read later.
#[inline(never)]
pub fn paint_stack() {
    let sp: usize;
    // SAFETY: reads the stack pointer only.
    unsafe { core::arch::asm!("mv {0}, sp", out(reg) sp) };
    let mut addr = paint_bottom();
    let end = sp.saturating_sub(PAINT_MARGIN);
    while addr < end {
        // SAFETY: [guard + 4, sp − margin) is the unused, word-aligned main stack.
        unsafe { core::ptr::write_volatile(addr as *mut u32, STACK_PAINT) };
        addr += 4;
    }
}

pub struct Esp32c3 {
    link: HostLink,
    /// The 32-bit counter extended to 64 bits: last raw value and the running total.
    counter_last: Cell<u32>,
    counter_total: Cell<u64>,
}

impl Esp32c3 {
    pub fn init() -> Self {
        let peripherals = esp_hal::init(esp_hal::Config::default().with_cpu_clock(CpuClock::max()));
        let link = HostLink::new(peripherals);
        // SAFETY: selects and enables the instruction count event; no memory effects.
        unsafe {
            core::arch::asm!("csrw {csr}, {v}", csr = const MPCER, v = in(reg) PCER_INSTRUCTIONS);
            core::arch::asm!("csrw {csr}, {v}", csr = const MPCMR, v = in(reg) PCMR_ENABLE);
        }
        Self {
            link,
            counter_last: Cell::new(0),
            counter_total: Cell::new(0),
        }
    }
}

fn read_counter() -> u32 {
    let v: u32;
    // SAFETY: reading the count register (0x7E2) has no side effects.
    unsafe { core::arch::asm!("csrr {0}, 0x7E2", out(reg) v) };
    v
}

impl Board for Esp32c3 {
    fn read_byte(&mut self) -> u8 {
        self.link.read_byte()
    }

    fn write_bytes(&mut self, bytes: &[u8]) {
        self.link.write_bytes(bytes)
    }

    fn instructions(&self) -> u64 {
        // The counter is 32 bits (≈27 s at 160 MHz): accumulate wrapping deltas.
        let now = read_counter();
        let delta = now.wrapping_sub(self.counter_last.replace(now));
        let total = self.counter_total.get() + u64::from(delta);
        self.counter_total.set(total);
        total
    }

    fn micros(&self) -> u64 {
        esp_hal::time::Instant::now()
            .duration_since_epoch()
            .as_micros()
    }

    fn measures_wall_time(&self) -> bool {
        // SYSTIMER: real time, independent of the instruction count.
        true
    }

    fn stack(&self) -> StackUsage {
        // SAFETY: [guard + 4, top) is the main stack: RAM, word-aligned.
        let mut usage =
            unsafe { band_app::stack_high_water(paint_bottom(), stack_top(), STACK_PAINT) };
        // Report the whole stack's size, guard area included.
        usage.size = (stack_top() - &raw const _stack_end as usize) as u32;
        usage
    }

    fn exit(&mut self, _code: u32) -> ! {
        // A real band has no emulator to exit: it restarts.
        esp_hal::system::software_reset()
    }
}

/// Resets the chip. The harness sees the reset as the boot banner arriving mid-exchange
/// (a named failure); printing the panic first is left for the real-board work.
pub fn report_panic_and_reset() -> ! {
    esp_hal::system::software_reset()
}
