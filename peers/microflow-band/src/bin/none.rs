//! The measuring skeleton with no engine: its flash and RAM are subtracted from the others.
#![no_std]
#![no_main]

use microflow_band::{Engine, WINDOW, exit, run};

struct Nothing;

impl Engine for Nothing {
    fn load(&mut self, _window: &[i8; WINDOW]) {}

    #[inline(never)]
    fn infer(&mut self) {}

    fn output(&self, _out: &mut [i8]) -> usize {
        0
    }
}

#[unsafe(no_mangle)]
extern "C" fn main() -> ! {
    run("none", &mut Nothing);
    exit(0)
}
