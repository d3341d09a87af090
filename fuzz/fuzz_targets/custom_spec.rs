//! Custom dataset specs (YAML).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let _ = harbor::datasets::custom::spec::parse(std::path::Path::new("spec.yaml"), text);
});
