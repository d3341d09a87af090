//! harbor: hardware-in-the-loop simulation and testing for TinyML activity-recognition
//! firmware on wrist bands.
//!
//! The chain: [`datasets`] read public recordings in their published formats, [`signal`]
//! brings them to the band's IMU rate and int16 readings and cuts model windows, and the
//! rest of harbor replays them into firmware and measures it.
#![warn(missing_docs)]

pub mod board;
pub mod cli;
pub mod cloud;
pub mod datasets;
pub mod dut;
pub mod flash;
pub mod hardware;
pub mod metrics;
pub mod model;
pub mod npz;
pub mod ota;
pub mod replay;
pub mod report;
pub mod rng;
pub mod scenario;
pub mod shutdown;
pub mod signal;
#[cfg(feature = "train")]
pub mod study;
#[cfg(feature = "train")]
pub mod train;
