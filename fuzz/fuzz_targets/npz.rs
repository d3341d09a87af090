//! `.npy` and `.npz` files (written to a temporary file: the readers take paths).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("f.npz");
    std::fs::write(&path, bytes).expect("write");
    let _ = harbor::npz::read(&path);
    let _ = harbor::npz::read_npy(&path);
});
