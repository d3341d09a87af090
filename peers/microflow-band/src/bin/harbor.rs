//! harbor's int8 interpreter (harbor-core, the band's tables: 12 computing operators, 48
//! tensors) reading the `.tflite` from flash into a static arena, as the band firmware does.
#![no_std]
#![no_main]

use harbor_core::interpreter::Interpreter;
use harbor_core::tflite::Model;
use microflow_band::{Engine, WINDOW, exit, instructions, report, run, write_str};

/// The band's interpreter tables (firmware/app/src/inference.rs).
type BandInterpreter<'m, 'a> = Interpreter<'m, 'a, 12, 48>;

static MODEL: &[u8] = include_bytes!(env!("PEER_HARBOR_MODEL"));
/// Room for any of harbor's models; `arena` reports what the model uses.
const ARENA_SIZE: usize = 8 * 1024;
static mut ARENA: [u8; ARENA_SIZE] = [0; ARENA_SIZE];

struct Harbor<'i, 'm, 'a> {
    interpreter: &'i mut BandInterpreter<'m, 'a>,
}

impl Engine for Harbor<'_, '_, '_> {
    fn load(&mut self, window: &[i8; WINDOW]) {
        let input = self.interpreter.input_bytes_mut(0).unwrap();
        for (dst, &src) in input.iter_mut().zip(window) {
            *dst = src as u8;
        }
    }

    #[inline(never)]
    fn infer(&mut self) {
        self.interpreter.invoke().unwrap();
    }

    fn output(&self, out: &mut [i8]) -> usize {
        let output = self.interpreter.output(0).unwrap();
        for (dst, v) in out.iter_mut().zip(output.iter()) {
            *dst = v;
        }
        output.len()
    }
}

#[unsafe(no_mangle)]
extern "C" fn main() -> ! {
    // SAFETY: main runs once and is the arena's only user. (`&mut ARENA` is a hard error on
    // `static mut` in edition 2024, hence the raw pointer.)
    #[allow(clippy::deref_addrof)]
    let arena = unsafe { &mut *(&raw mut ARENA) };
    let model = Model::parse(MODEL).unwrap();
    let before = instructions();
    let ran = BandInterpreter::scoped(model, arena, |interpreter| {
        // Parsing is done; this counts building the plan and the per-channel constants.
        report("prepare_instructions", instructions() - before);
        report("arena", interpreter.arena_used() as u64);
        report("arena_reserved", ARENA_SIZE as u64);
        if interpreter.input_info(0).unwrap().len() != WINDOW {
            write_str("input size differs from the test windows\n");
            exit(4);
        }
        run("harbor", &mut Harbor { interpreter });
    });
    if ran.is_err() {
        write_str("model refused\n");
        exit(5);
    }
    exit(0)
}
