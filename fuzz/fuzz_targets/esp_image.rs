//! ESP application images.
#![no_main]

use harbor::flash::EspImage;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let _ = EspImage::parse(bytes);
    let _ = EspImage::parse_exact(bytes);
});
