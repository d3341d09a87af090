//! A byte stream into the binary frame decoder, then an idle line; every frame is decoded as
//! request and response.
#![no_main]

use harbor_core::protocol::{FrameDecoder, Pushed, Request, Response};
use libfuzzer_sys::fuzz_target;

fn drain(decoder: &mut FrameDecoder) {
    while let Some(frame) = decoder.take_frame() {
        let _ = Request::decode(frame);
        let _ = Response::decode(frame);
    }
}

fuzz_target!(|bytes: &[u8]| {
    let mut decoder = FrameDecoder::new();
    for &b in bytes {
        if let Pushed::FrameReady = decoder.push(b) {
            drain(&mut decoder);
        }
    }
    while decoder.pending_len() > 0 {
        if decoder.line_idle() {
            drain(&mut decoder);
        }
    }
});
