//! The wire protocol between harbor and band firmware, implemented once for both sides.
//!
//! One UART carries two protocols (docs/protocol.md has them byte by byte):
//! - [`text`]: the MLPerf Tiny host↔DUT commands (`name%`, `db …%`, `infer N W%`, …) so
//!   MLPerf-Tiny-style runners can drive harbor's firmware unchanged;
//! - [`frame`] + [`message`]: harbor's framed binary extension. Every frame starts with
//!   [`frame::SYNC`] (0xA5, never a text byte since text is 7-bit ASCII), carries a type,
//!   a length, a payload and a CRC-32C, and the decoder resynchronises after garbage.
//!
//! [`mailbox`] is an emulated band's shared-RAM batch path (no UART bytes per window).
//! [`trap`] is the one-line report the firmware's trap handler prints before exiting.
//! Nothing here allocates: buffers are fixed-size so the firmware runs the same code.

pub mod crc;
pub mod frame;
pub mod mailbox;
pub mod message;
pub mod text;
pub mod trap;
mod wire;

pub use frame::{FrameDecoder, FrameRef, Pushed, encode_frame};
pub use message::{ErrorCause, InferResult, Info, MessageType, OtaStatusReport, Request, Response};

#[cfg(test)]
mod tests;
