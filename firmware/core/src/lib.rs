//! The portable core shared by the band firmware and the harbor host.
//!
//! Everything both sides must agree on lives here exactly once: the wire protocol, the
//! model format reader and the int8 kernels. It is `no_std` and never allocates, so the
//! firmware can run it from a fixed arena and the host runs the very same code.
#![no_std]
// The one exception is the RV32 dot loops (`kernels::dot`), inline asm over checked slices.
#![deny(unsafe_code)]
#![warn(missing_docs)]

#[cfg(feature = "std")]
extern crate std;

pub mod input;
pub mod ota;
pub mod rate;
pub mod window;

pub mod protocol;
#[cfg(feature = "std")]
pub mod writer;

pub mod fixedpoint;
#[cfg(feature = "std")]
pub mod float;
pub mod golden;
pub mod interpreter;
pub mod kernels;
pub mod tflite;
