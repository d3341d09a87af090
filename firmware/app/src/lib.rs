//! harbor's band application, independent of the board it runs on.
//!
//! It speaks harbor's protocol (MLPerf Tiny text commands and framed binary messages) over
//! whatever byte channel the [`Board`] provides, holds the model slot, runs harbor-core's
//! int8 interpreter, and in stream mode converts the IMU rate, windows and infers on the
//! device. `band-qemu` and `band-esp32c3` are thin shells: start-up, a [`Board`], a loop.
#![no_std]

mod app;
pub mod board;
pub mod image_marker;
mod inference;
pub mod model_slot;
mod stream;

pub use app::{ARENA_SIZE, App, HARDWARE_ID, Identity};
pub use board::{BandFlash, Board, Out, StackUsage, stack_high_water};
pub use model_slot::ModelSlot;
