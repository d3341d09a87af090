//! Lines of the MLPerf Tiny text protocol: commands, replies, trap reports, hex payloads.
#![no_main]

use harbor_core::protocol::text::{Command, LineAssembler, Reply, decode_hex_into};
use harbor_core::protocol::trap::TrapReport;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let mut lines = LineAssembler::new();
    for &b in bytes {
        let _ = lines.push(b);
    }
    if let Ok(line) = std::str::from_utf8(bytes) {
        let _ = Command::parse(line);
        let _ = Reply::parse(line);
        let _ = TrapReport::parse(line);
        let _ = decode_hex_into(line, &mut [0u8; 64]);
    }
});
