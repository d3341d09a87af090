//! Devices under test that speak harbor's protocol: the [`Target`] trait, every backend,
//! and the one place that opens a device from its configuration.
//!
//! [`DeviceConfig`] names a backend and its settings; [`open`] starts or attaches to it and
//! returns a [`Dut`]. The backends: [`qemu`] (the band firmware in `qemu-system-riscv32`),
//! [`qemu_pty`] (QEMU with its UART on a pseudo-terminal), [`serial`] (a board on a serial
//! port), [`renode`] (the firmware on Renode, IMU fed from RESD), [`probe`] (a board
//! behind a debug probe, feature `probe`) and [`mlperf`] (firmware that speaks only the
//! MLPerf Tiny text protocol, over QEMU or a serial port). All of them are a [`LinkTarget`]: the protocol over
//! a byte stream, with an emulator or a board behind it. Emulators start through
//! [`launch`]. Every exchange has a wall-clock deadline, and every failure is a named
//! [`TargetError`] (hang, trap, exit, garbage, refusal) rather than a stuck test.

mod device;
mod error;
pub mod firmware_image;
pub mod launch;
pub mod link;
pub mod mlperf;
pub mod ports;
pub mod probe;
pub mod qemu;
pub mod qemu_pty;
pub mod renode;
mod reply;
pub mod serial;
mod session;
mod target;
mod tty;

pub use device::{AnyBacking, ByteStream, DeviceConfig, DeviceKind, Dut, open};
pub use error::{PortProblem, TargetError, Tool};
pub use firmware_image::FirmwareImageError;
pub use launch::EmulatorProcess;
pub use mlperf::{MlperfConfig, MlperfFormat, MlperfLink};
pub use ports::{PortInfo, list_ports};
pub use qemu::{QemuConfig, QemuTarget};
pub use qemu_pty::QemuPty;
pub use renode::{RenodeConfig, RenodeTarget};
pub use reply::{
    BinaryReply, DeviceInfo, Inference, StreamConfig, StreamOutcome, StreamWindow, results_of,
};
pub use serial::{Reset, SerialBoard, SerialConfig, SerialTarget};
pub use session::{Backing, LinkTarget};
pub use target::{MODEL_CHUNK, SAMPLES_PER_FRAME, Target};
pub use tty::TtyStream;

pub(crate) use target::unexpected;
