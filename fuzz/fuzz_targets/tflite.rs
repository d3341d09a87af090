//! `.tflite` bytes: parse as int8 and float32; a model that parses is prepared and run.
#![no_main]

use harbor_core::float::FloatInterpreter;
use harbor_core::interpreter::Interpreter;
use harbor_core::tflite::Model;
use libfuzzer_sys::fuzz_target;

const MAX_ARENA: usize = 1 << 20;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(model) = Model::parse(bytes)
        && let Ok(need) = Interpreter::arena_required(&model)
        && need <= MAX_ARENA
    {
        let mut arena = vec![0u8; need];
        if let Ok(mut interpreter) = Interpreter::new(model, &mut arena)
            && let Ok(info) = interpreter.input_info(0)
            && interpreter.set_input(0, &vec![1i8; info.len()]).is_ok()
        {
            let _ = interpreter.invoke();
        }
    }
    if let Ok(model) = Model::parse_float32(bytes)
        && let Ok(interpreter) = FloatInterpreter::new(&model)
    {
        let len: usize = interpreter.input_shape().iter().product();
        if len <= MAX_ARENA {
            let _ = interpreter.run(&vec![0.5f32; len]);
        }
    }
});
