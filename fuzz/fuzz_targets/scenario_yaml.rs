//! Scenario YAML of every kind (replay, OTA, MLPerf).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let _ = harbor::scenario::Scenario::parse(std::path::Path::new("fuzz.yaml"), text);
});
