//! Framing of harbor's binary extension and the resynchronising streaming decoder.
//!
//! ```text
//! offset 0   1      2..4         4..4+N    4+N..8+N
//!        A5  type   len (u16 LE) payload   CRC-32C (u32 LE) over type, len and payload
//! ```
//! The sync byte has its top bit set, so it can never be part of an MLPerf text command
//! (7-bit ASCII) and one UART carries both protocols.

use super::crc::crc32c;
use super::message::MessageType;

/// First byte of every frame.
pub const SYNC: u8 = 0xA5;
/// Sync, type and the two length bytes.
pub const HEADER_LEN: usize = 4;
/// Bytes of the trailing CRC-32C.
pub const CRC_LEN: usize = 4;
/// Largest payload; bounds the decoder's buffer and how long a false start can swallow input.
pub const MAX_PAYLOAD: usize = 1024;
/// Largest encoded frame.
pub const MAX_FRAME: usize = HEADER_LEN + MAX_PAYLOAD + CRC_LEN;
/// Filler byte of a resynchronisation: NUL is neither a sync byte nor part of a text command.
pub const RESYNC_FILL: u8 = 0x00;
/// A host that lost sync (a timeout after line noise) sends this many [`RESYNC_FILL`] bytes:
/// enough to complete, and fail, any candidate frame the band may be holding, after which
/// the band rescans what that candidate swallowed. The band cannot time out a partial frame
/// itself: under QEMU's `-icount sleep=off` virtual time jumps ahead while it idles.
pub const RESYNC_FILL_LEN: usize = MAX_FRAME;

/// Why a message could not be encoded into a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EncodeError {
    /// The payload is longer than [`MAX_PAYLOAD`] (or the message's own limit).
    PayloadTooLong {
        /// Payload bytes asked for.
        len: usize,
    },
    /// The output buffer cannot hold the frame.
    BufferTooSmall {
        /// Bytes the frame needs.
        needed: usize,
    },
    /// The message's layout does not allow this payload length (e.g. an empty window).
    LengthNotAllowed {
        /// Payload bytes asked for.
        len: usize,
    },
}

impl core::fmt::Display for EncodeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::PayloadTooLong { len } => {
                write!(f, "payload of {len} bytes exceeds {MAX_PAYLOAD}")
            }
            Self::BufferTooSmall { needed } => write!(f, "frame needs a {needed}-byte buffer"),
            Self::LengthNotAllowed { len } => {
                write!(f, "a {len}-byte payload is not allowed for this message")
            }
        }
    }
}

/// Writes a whole frame carrying `payload` into `out`; returns the frame length.
pub fn encode_frame(ty: MessageType, payload: &[u8], out: &mut [u8]) -> Result<usize, EncodeError> {
    let needed = HEADER_LEN + payload.len() + CRC_LEN;
    if payload.len() > MAX_PAYLOAD {
        return Err(EncodeError::PayloadTooLong { len: payload.len() });
    }
    let body = out
        .get_mut(HEADER_LEN..HEADER_LEN + payload.len())
        .ok_or(EncodeError::BufferTooSmall { needed })?;
    body.copy_from_slice(payload);
    finish_frame(ty, payload.len(), out)
}

/// Completes a frame whose payload was already written at `out[HEADER_LEN..]`.
pub(crate) fn finish_frame(
    ty: MessageType,
    payload_len: usize,
    out: &mut [u8],
) -> Result<usize, EncodeError> {
    if payload_len > MAX_PAYLOAD {
        return Err(EncodeError::PayloadTooLong { len: payload_len });
    }
    let total = HEADER_LEN + payload_len + CRC_LEN;
    if out.len() < total {
        return Err(EncodeError::BufferTooSmall { needed: total });
    }
    // MAX_PAYLOAD < 65 536, so the cast cannot truncate.
    let len = (payload_len as u16).to_le_bytes();
    out[0] = SYNC;
    out[1] = ty as u8;
    out[2] = len[0];
    out[3] = len[1];
    let crc = crc32c(&out[1..HEADER_LEN + payload_len]);
    out[HEADER_LEN + payload_len..total].copy_from_slice(&crc.to_le_bytes());
    Ok(total)
}

/// A frame that passed its checks; borrowed from the decoder until the next call into it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameRef<'a> {
    /// Message type from the header.
    pub ty: MessageType,
    /// Payload bytes (CRC already checked and stripped).
    pub payload: &'a [u8],
}

/// What [`FrameDecoder::push`] did with a byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pushed {
    /// Not part of a frame: hand it to the text protocol.
    Text(u8),
    /// Buffered as part of a frame candidate.
    Pending,
    /// A frame is complete: drain with [`FrameDecoder::take_frame`] until it returns `None`.
    FrameReady,
}

enum Front {
    Incomplete,
    Invalid,
    Complete(usize),
}

/// Streaming decoder fed one byte at a time.
///
/// Resynchronisation: the buffer always starts at a sync byte. A candidate whose type is
/// unknown, whose length is impossible for its type, or whose CRC fails loses only its
/// sync byte; the decoder then rescans the bytes it already holds, so a valid frame hidden
/// inside a false candidate (garbage, or a frame that lost a byte) is still found.
/// `Clone` lets a host try [`FrameDecoder::line_idle`] without committing to it.
#[derive(Clone)]
pub struct FrameDecoder {
    buf: [u8; MAX_FRAME],
    len: usize,
    /// Length of the complete frame at the front, if any.
    ready: Option<usize>,
    /// The front frame was handed out and is dropped on the next call.
    taken: bool,
    discarded: u64,
    missed_frames: u64,
}

impl FrameDecoder {
    /// A decoder waiting for a sync byte.
    pub const fn new() -> Self {
        Self {
            buf: [0; MAX_FRAME],
            len: 0,
            ready: None,
            taken: false,
            discarded: 0,
            missed_frames: 0,
        }
    }

    /// Feeds one received byte.
    pub fn push(&mut self, byte: u8) -> Pushed {
        self.settle();
        if self.len == 0 && byte != SYNC {
            return Pushed::Text(byte);
        }
        if self.len == 1 && MessageType::from_u8(byte).is_none() {
            // A lone stray sync byte: drop it and judge this byte afresh, so text that
            // follows a stray 0xA5 is not lost.
            self.len = 0;
            self.discarded += 1;
            if byte != SYNC {
                return Pushed::Text(byte);
            }
        }
        // settle() left no complete frame, so the candidate is shorter than MAX_FRAME.
        self.buf[self.len] = byte;
        self.len += 1;
        self.resolve()
    }

    /// The next complete frame, if any. Call until `None` after [`Pushed::FrameReady`]:
    /// one byte can complete more than one frame after a resynchronisation.
    pub fn take_frame(&mut self) -> Option<FrameRef<'_>> {
        if self.taken {
            self.drop_front_frame();
            self.resolve();
        }
        let total = self.ready?;
        self.taken = true;
        let ty = MessageType::from_u8(self.buf[1])?;
        Some(FrameRef {
            ty,
            payload: &self.buf[HEADER_LEN..total - CRC_LEN],
        })
    }

    /// Tells the decoder the line went quiet: an incomplete candidate will never finish,
    /// so drop its sync byte and rescan what it swallowed. Returns whether a frame is ready.
    pub fn line_idle(&mut self) -> bool {
        self.settle();
        if self.len > 0 {
            self.drop_front(1);
        }
        matches!(self.resolve(), Pushed::FrameReady)
    }

    /// Bytes thrown away while resynchronising (garbage, broken frames).
    pub fn discarded_bytes(&self) -> u64 {
        self.discarded
    }

    /// Complete frames dropped because the caller pushed on without taking them.
    pub fn missed_frames(&self) -> u64 {
        self.missed_frames
    }

    /// Bytes of an unfinished candidate frame currently held.
    pub fn pending_len(&self) -> usize {
        self.len
    }

    /// Drops frames already handed out (or ignored) so the buffer holds only a candidate.
    fn settle(&mut self) {
        while self.ready.is_some() {
            if !self.taken {
                self.missed_frames += 1;
            }
            self.drop_front_frame();
            self.resolve();
        }
    }

    fn drop_front_frame(&mut self) {
        if let Some(total) = self.ready.take() {
            self.remove_front(total);
        }
        self.taken = false;
        self.skip_to_sync();
    }

    /// Judges the candidate at the front, resynchronising past invalid ones.
    fn resolve(&mut self) -> Pushed {
        loop {
            match self.front() {
                Front::Incomplete => {
                    self.ready = None;
                    return Pushed::Pending;
                }
                Front::Complete(total) => {
                    self.ready = Some(total);
                    return Pushed::FrameReady;
                }
                Front::Invalid => self.drop_front(1),
            }
        }
    }

    fn front(&self) -> Front {
        if self.len < 2 {
            return Front::Incomplete;
        }
        let Some(ty) = MessageType::from_u8(self.buf[1]) else {
            return Front::Invalid;
        };
        if self.len < HEADER_LEN {
            return Front::Incomplete;
        }
        let payload_len = usize::from(u16::from_le_bytes([self.buf[2], self.buf[3]]));
        if payload_len > MAX_PAYLOAD || !ty.payload_len_ok(payload_len) {
            return Front::Invalid;
        }
        let total = HEADER_LEN + payload_len + CRC_LEN;
        if self.len < total {
            return Front::Incomplete;
        }
        let body_end = HEADER_LEN + payload_len;
        let stated = u32::from_le_bytes([
            self.buf[body_end],
            self.buf[body_end + 1],
            self.buf[body_end + 2],
            self.buf[body_end + 3],
        ]);
        if crc32c(&self.buf[1..body_end]) == stated {
            Front::Complete(total)
        } else {
            Front::Invalid
        }
    }

    /// Drops `n` garbage bytes, then everything up to the next sync byte.
    fn drop_front(&mut self, n: usize) {
        self.discarded += n as u64;
        self.remove_front(n);
        self.skip_to_sync();
    }

    fn skip_to_sync(&mut self) {
        let skip = self.buf[..self.len]
            .iter()
            .position(|&b| b == SYNC)
            .unwrap_or(self.len);
        self.discarded += skip as u64;
        self.remove_front(skip);
    }

    fn remove_front(&mut self, n: usize) {
        let n = n.min(self.len);
        self.buf.copy_within(n..self.len, 0);
        self.len -= n;
    }
}

impl Default for FrameDecoder {
    fn default() -> Self {
        Self::new()
    }
}
