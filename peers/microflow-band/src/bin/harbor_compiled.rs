//! harbor's kernels with the model compiled ahead (`harbor models compile`): the plan the
//! interpreter would prepare, as constants and direct kernel calls, with the weights and
//! per-channel constants in flash. No model reader, no preparation, no interpreter tables:
//! the way MicroFlow builds its image, for a like-for-like comparison of the engines.
#![no_std]
#![no_main]

use microflow_band::{Engine, WINDOW, exit, report, run, write_str};

/// Made by scripts/peer-microflow from the peer model the image measures.
mod plan {
    include!(env!("PEER_HARBOR_PLAN"));
}

static mut ARENA: [u8; plan::ARENA] = [0; plan::ARENA];

struct Compiled<'a> {
    arena: &'a mut [u8; plan::ARENA],
}

impl Engine for Compiled<'_> {
    fn load(&mut self, window: &[i8; WINDOW]) {
        for (dst, &src) in self.arena[plan::INPUT].iter_mut().zip(window) {
            *dst = src as u8;
        }
    }

    #[inline(never)]
    fn infer(&mut self) {
        if plan::invoke(self.arena).is_err() {
            write_str("compiled plan failed\n");
            exit(5);
        }
    }

    fn output(&self, out: &mut [i8]) -> usize {
        let output = &self.arena[plan::OUTPUT];
        for (dst, &v) in out.iter_mut().zip(output) {
            *dst = v as i8;
        }
        output.len()
    }
}

#[unsafe(no_mangle)]
extern "C" fn main() -> ! {
    // SAFETY: main runs once and is the arena's only user (raw pointer: edition 2024).
    #[allow(clippy::deref_addrof)]
    let arena = unsafe { &mut *(&raw mut ARENA) };
    report("arena", plan::ARENA as u64);
    report("arena_reserved", plan::ARENA as u64);
    if plan::INPUT.len() != WINDOW {
        write_str("input size differs from the test windows\n");
        exit(4);
    }
    run("harbor-compiled", &mut Compiled { arena });
    exit(0)
}
