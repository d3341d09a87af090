//! Helpers shared by several test modules; each module uses a different subset.

#![allow(dead_code)]

pub mod byo;
pub mod cli;
pub mod cloud;
pub mod qemu;
pub mod random_model;
pub mod report;
pub mod serial;
#[cfg(feature = "train")]
pub mod train;
pub mod wisdm_tree;
