//! The measuring skeleton shared by the peer images: start-up with a painted stack, the
//! test windows, `minstret` around one inference, a line per window on QEMU's UART, the
//! stack high-water mark, exit through the SiFive test device.
//!
//! Each image (`src/bin/`) supplies an [`Engine`]; only [`Engine::infer`] is counted, as
//! harbor's band counts only `Interpreter::invoke`.
#![no_std]

mod board;
mod start;

pub use board::{exit, instructions, repaint_stack, stack_high_water, write_str};

/// Int8 values in one window of the model's input.
pub const WINDOW: usize = 360;

/// The test windows (int8, [`WINDOW`] each), in their own section so the flash figure leaves
/// them out.
#[unsafe(link_section = ".inputs")]
pub static INPUTS: [u8; include_bytes!(env!("PEER_INPUTS")).len()] =
    *include_bytes!(env!("PEER_INPUTS"));

/// One inference engine on one model.
pub trait Engine {
    /// Puts `window` where the next inference reads it (not counted).
    fn load(&mut self, window: &[i8; WINDOW]);
    /// Runs one inference (counted).
    fn infer(&mut self);
    /// Writes the int8 output to `out`; returns how many values (not counted).
    fn output(&self, out: &mut [i8]) -> usize;
}

/// Runs `engine` on every test window and prints, per window,
/// `window <i> instructions <n> output <hex>`, then the stack high-water marks: `stack`
/// since start-up, `stack_inference` while the windows ran.
pub fn run(name: &str, engine: &mut impl Engine) {
    write_str("engine ");
    write_str(name);
    write_str("\n");
    let before = stack_high_water();
    repaint_stack();
    let mut window = [0i8; WINDOW];
    let mut out = [0i8; 64];
    for (i, bytes) in INPUTS.chunks_exact(WINDOW).enumerate() {
        for (dst, &src) in window.iter_mut().zip(bytes) {
            *dst = src as i8;
        }
        engine.load(&window);
        let before = instructions();
        engine.infer();
        let counted = instructions() - before;
        let n = engine.output(&mut out);
        write_str("window ");
        write_u64(i as u64);
        write_str(" instructions ");
        write_u64(counted);
        write_str(" output ");
        for &v in &out[..n] {
            write_hex(v as u8);
        }
        write_str("\n");
    }
    let during = stack_high_water();
    report("stack_inference", during as u64);
    report("stack", before.max(during) as u64);
}

/// Prints `label <n>`.
pub fn report(label: &str, n: u64) {
    write_str(label);
    write_str(" ");
    write_u64(n);
    write_str("\n");
}

fn write_u64(mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    board::write_bytes(&digits[i..]);
}

fn write_hex(v: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    board::write_bytes(&[HEX[usize::from(v >> 4)], HEX[usize::from(v & 15)]]);
}

#[panic_handler]
fn panic(_info: &core::panic::PanicInfo<'_>) -> ! {
    write_str("\npanic\n");
    exit(2)
}
