//! The binary message set: fixed little-endian layouts, one per [`MessageType`].
//!
//! Requests flow host → band, responses band → host; every request gets exactly one
//! response. Layouts are documented byte by byte in docs/protocol.md.

use super::frame::{EncodeError, FrameRef, HEADER_LEN, MAX_PAYLOAD, finish_frame};
use super::wire::{Reader, Writer};
use crate::input::{ChannelQuant, InputQuant};
use crate::ota::SlotState;
use crate::rate::AXES;

/// Longest firmware name an [`Info`] carries.
pub const MAX_NAME_LEN: usize = 32;
/// Bytes per IMU sample in [`Request::StreamSamples`]: 6 axes × int16.
pub const SAMPLE_BYTES: usize = 12;
/// ConfigureInput payload: zero point, then per axis offset i32, multiplier i32, shift u8.
pub const CONFIGURE_INPUT_LEN: usize = 1 + AXES * 9;
/// ConfigureStream payload: up, down, window length, hop (u16 each).
pub const CONFIGURE_STREAM_LEN: usize = 8;
/// OtaStatus reply payload (see [`OtaStatusReport`]).
pub const OTA_STATUS_LEN: usize = 16;
/// QEMU exit code of a band that powered off because an [`Request::ArmPowerCut`] fired.
pub const EXIT_POWER_CUT: u32 = 0x70;
/// QEMU exit code after a [`Request::Reboot`] (the harness restarts it on the same flash).
pub const EXIT_REBOOT: u32 = 0x71;

/// Frame type byte. Requests are below 0x80, responses above, so a dump reads easily.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum MessageType {
    /// Request: who are you → Info.
    Hello = 0x01,
    /// Request: a piece of the model.
    LoadModelChunk = 0x02,
    /// Request: the model is complete; check its CRC.
    LoadModelFinish = 0x03,
    /// Request: run one input window.
    TensorInfer = 0x04,
    /// Request: raw IMU samples for stream mode.
    StreamSamples = 0x05,
    /// Request: the int16 → int8 input conversion.
    ConfigureInput = 0x06,
    /// Request: stream-mode rates and window geometry.
    ConfigureStream = 0x07,
    /// Request: start an over-the-air update.
    OtaBegin = 0x08,
    /// Request: a piece of the update image.
    OtaChunk = 0x09,
    /// Request: verify and activate the update.
    OtaFinish = 0x0A,
    /// Request: report the OTA state.
    OtaStatus = 0x0B,
    /// Request: confirm the model that is pending verification.
    OtaConfirm = 0x0C,
    /// Request: restart the band.
    Reboot = 0x0D,
    /// Request: test hook that cuts power after N flash operations.
    ArmPowerCut = 0x0E,
    /// Request: run the windows an emulator host wrote into the shared-RAM mailbox.
    MailboxInfer = 0x0F,
    /// Request: stream the IMU samples an emulator host wrote into the shared-RAM mailbox.
    MailboxStream = 0x10,
    /// Response: the band's identity and memory budget.
    Info = 0x81,
    /// Response: the request succeeded.
    Ack = 0x82,
    /// Response: the request failed, with a cause.
    Error = 0x83,
    /// Response: class scores of one inference.
    InferResult = 0x84,
    /// Response: one stream-mode window's result.
    StreamWindow = 0x85,
    /// Response: the OTA state.
    OtaStatusReply = 0x86,
}

impl MessageType {
    /// The type for a header byte; `None` for an unknown one.
    pub const fn from_u8(b: u8) -> Option<Self> {
        Some(match b {
            0x01 => Self::Hello,
            0x02 => Self::LoadModelChunk,
            0x03 => Self::LoadModelFinish,
            0x04 => Self::TensorInfer,
            0x05 => Self::StreamSamples,
            0x06 => Self::ConfigureInput,
            0x07 => Self::ConfigureStream,
            0x08 => Self::OtaBegin,
            0x09 => Self::OtaChunk,
            0x0A => Self::OtaFinish,
            0x0B => Self::OtaStatus,
            0x0C => Self::OtaConfirm,
            0x0D => Self::Reboot,
            0x0E => Self::ArmPowerCut,
            0x0F => Self::MailboxInfer,
            0x10 => Self::MailboxStream,
            0x81 => Self::Info,
            0x82 => Self::Ack,
            0x83 => Self::Error,
            0x84 => Self::InferResult,
            0x85 => Self::StreamWindow,
            0x86 => Self::OtaStatusReply,
            _ => return None,
        })
    }

    /// Whether a payload of `len` bytes is possible for this type. The decoder rejects
    /// impossible lengths at once, so a false start in garbage rarely swallows input.
    pub const fn payload_len_ok(self, len: usize) -> bool {
        match self {
            Self::Hello => len == 0,
            Self::LoadModelChunk => len > 4,
            Self::LoadModelFinish => len == 8,
            Self::TensorInfer => len > 0,
            Self::StreamSamples => len > 4 && (len - 4).is_multiple_of(SAMPLE_BYTES),
            Self::ConfigureInput => len == CONFIGURE_INPUT_LEN,
            Self::ConfigureStream => len == CONFIGURE_STREAM_LEN,
            // Any length: a truncated manifest is answered (`ota-refused`), not dropped.
            Self::OtaBegin => len > 0,
            Self::OtaChunk => len > 4,
            Self::OtaFinish | Self::OtaStatus | Self::OtaConfirm | Self::Reboot => len == 0,
            Self::ArmPowerCut => len == 4,
            Self::MailboxInfer => len == 2,
            Self::MailboxStream => len == 8,
            Self::OtaStatusReply => len == OTA_STATUS_LEN,
            Self::StreamWindow => len >= 4 + INFER_FIXED_LEN,
            Self::Info => len >= INFO_FIXED_LEN && len <= INFO_FIXED_LEN + MAX_NAME_LEN,
            Self::Ack => len == 5,
            Self::Error => len == 6,
            Self::InferResult => len >= INFER_FIXED_LEN,
        }
    }
}

/// Why the band refused a request; carried by [`Response::Error`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum ErrorCause {
    /// The frame type is not a request this firmware handles.
    UnknownMessage = 1,
    /// The payload does not fit the message's layout.
    Malformed = 2,
    /// A chunk would write past the end of the model slot.
    ModelTooLarge = 3,
    /// The CRC-32C of the loaded bytes differs from the one in LoadModelFinish.
    ModelCrcMismatch = 4,
    /// LoadModelFinish names more bytes than the chunks delivered contiguously.
    ModelIncomplete = 5,
    /// Inference was asked for before a model was loaded and checked.
    NoModel = 6,
    /// The input window's length differs from the model's input tensor (detail: expected).
    InputSizeMismatch = 7,
    /// The model passed its CRC but cannot run: not a supported int8 model, or its arena
    /// does not fit (detail: arena bytes it needs, 0 if unknown).
    ModelInvalid = 8,
    /// The interpreter failed while running a model it had accepted.
    InferenceFailed = 9,
    /// Stream samples or a stream configuration arrived before what they need
    /// (detail: 1 = no ConfigureInput, 2 = no ConfigureStream).
    NotConfigured = 10,
    /// The band has no rate converter for this IMU→model ratio (detail: `up << 16 | down`).
    UnsupportedRate = 11,
    /// StreamSamples' first index is neither 0 (new segment) nor the next sample
    /// (detail: the index the band expected).
    StreamGap = 12,
    /// An OTA request was refused (detail: `code << 24 | detail & 0xFF_FFFF`, the
    /// `harbor_core::ota::OtaError` code and its detail, e.g. the minimum version).
    OtaRefused = 13,
}

impl ErrorCause {
    /// The cause for its wire byte; `None` for an unknown one.
    pub const fn from_u8(b: u8) -> Option<Self> {
        Some(match b {
            1 => Self::UnknownMessage,
            2 => Self::Malformed,
            3 => Self::ModelTooLarge,
            4 => Self::ModelCrcMismatch,
            5 => Self::ModelIncomplete,
            6 => Self::NoModel,
            7 => Self::InputSizeMismatch,
            8 => Self::ModelInvalid,
            9 => Self::InferenceFailed,
            10 => Self::NotConfigured,
            11 => Self::UnsupportedRate,
            12 => Self::StreamGap,
            13 => Self::OtaRefused,
            _ => return None,
        })
    }

    /// Kebab-case name used in messages and reports.
    pub const fn name(self) -> &'static str {
        match self {
            Self::UnknownMessage => "unknown-message",
            Self::Malformed => "malformed",
            Self::ModelTooLarge => "model-too-large",
            Self::ModelCrcMismatch => "model-crc-mismatch",
            Self::ModelIncomplete => "model-incomplete",
            Self::NoModel => "no-model",
            Self::InputSizeMismatch => "input-size-mismatch",
            Self::ModelInvalid => "model-invalid",
            Self::InferenceFailed => "inference-failed",
            Self::NotConfigured => "not-configured",
            Self::UnsupportedRate => "unsupported-rate",
            Self::StreamGap => "stream-gap",
            Self::OtaRefused => "ota-refused",
        }
    }
}

impl core::fmt::Display for ErrorCause {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

/// The band's answer to Hello: who it is and its memory budget.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Info<'a> {
    /// Firmware name.
    pub name: &'a str,
    /// Firmware version (major, minor, patch).
    pub version: [u8; 3],
    /// Bytes reserved for the stack.
    pub stack_size: u32,
    /// Bytes of the tensor arena.
    pub arena_size: u32,
    /// Bytes of the model slot LoadModelChunk writes into.
    pub model_slot_size: u32,
    /// Largest payload the firmware's decoder accepts.
    pub max_payload: u16,
    /// Whether the band answers [`Request::MailboxInfer`] (an emulated band whose RAM the
    /// host can share; [`super::mailbox`]).
    pub mailbox: bool,
    /// Whether the band also answers [`Request::MailboxStream`] (stream mode through the
    /// same mailbox); never without [`Info::mailbox`].
    pub mailbox_stream: bool,
}

/// Info's flags byte: the band answers MailboxInfer.
const INFO_FLAG_MAILBOX: u8 = 1;
/// Info's flags byte: the band answers MailboxStream.
const INFO_FLAG_MAILBOX_STREAM: u8 = 2;

const INFO_FIXED_LEN: usize = 3 + 1 + 4 + 4 + 4 + 2 + 1;

/// Result of one TensorInfer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InferResult<'a> {
    /// Retired-instruction counter delta around the inference alone.
    pub instructions: u64,
    /// Deepest stack use since boot, in bytes (from the painted stack).
    pub stack_high_water: u32,
    /// Arena bytes the inference used.
    pub arena_used: u32,
    /// Index of the winning class.
    pub predicted: u8,
    /// One int8 logit per class, as two's-complement bytes.
    pub logits: &'a [u8],
    /// Wall time of the inference measured by the band's own timer, in µs. Only a band
    /// with a real clock sends it (a trailing u32); an emulator's time is not measured.
    pub elapsed_us: Option<u32>,
}

const INFER_FIXED_LEN: usize = 8 + 4 + 4 + 1 + 1;

/// The band's OTA state (reply to OtaStatus).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OtaStatusReport {
    /// Slot the running model came from (0 = A, 1 = B); `None`: no model from flash.
    pub active_slot: Option<u8>,
    /// The state record's state; `None` before the first update.
    pub state: Option<SlotState>,
    /// Last OTA error code (`harbor_core::ota::error::code_name`), 0 if none.
    pub last_error: u8,
    /// Whether this boot ran the self-test on a PENDING_VERIFY image and it passed.
    pub self_test_passed: bool,
    /// Version of the running model (0 without one).
    pub version: u32,
    /// Anti-rollback floor.
    pub min_version: u32,
    /// Flash erase/program operations since this boot (the power-cut hook counts these).
    pub flash_ops: u32,
}

/// Host → band.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Request<'a> {
    /// → [`Response::Info`].
    Hello,
    /// Writes `data` into the model slot at `offset`.
    LoadModelChunk {
        /// Byte offset in the model slot.
        offset: u32,
        /// Model bytes.
        data: &'a [u8],
    },
    /// Declares the model complete: `total_len` bytes from offset 0 with this CRC-32C.
    LoadModelFinish {
        /// Model length in bytes.
        total_len: u32,
        /// CRC-32C of the whole model.
        crc32c: u32,
    },
    /// One int8 input window (two's-complement bytes) → [`Response::InferResult`].
    TensorInfer {
        /// The window, `window_len × channels` bytes.
        input: &'a [u8],
    },
    /// Raw 6-axis int16 IMU samples at the band's rate; `first_index` numbers the first one.
    StreamSamples {
        /// Index of the first sample in the segment.
        first_index: u32,
        /// Samples, 12 little-endian bytes each.
        samples: &'a [u8],
    },
    /// The int16 → int8 input conversion for the loaded model (sent after LoadModelFinish).
    ConfigureInput(InputQuant),
    /// Stream mode: IMU → model rate ratio `up/down`, window length and hop in model-rate
    /// samples. Starts a new segment.
    ConfigureStream {
        /// Upsampling factor.
        up: u16,
        /// Downsampling factor.
        down: u16,
        /// Window length in model-rate samples.
        window_len: u16,
        /// Samples between window starts.
        hop: u16,
    },
    /// Starts an update: the release manifest's bytes → Ack(value = target slot).
    OtaBegin {
        /// The encoded [`Manifest`](crate::ota::Manifest).
        manifest: &'a [u8],
    },
    /// Image bytes at `offset`, in order → Ack(value = bytes written).
    OtaChunk {
        /// Byte offset in the image.
        offset: u32,
        /// Image bytes.
        data: &'a [u8],
    },
    /// Verifies the image in flash and activates it for the next boot → Ack(value = slot).
    OtaFinish,
    /// → [`Response::OtaStatus`].
    OtaStatus,
    /// Confirms a PENDING_VERIFY model → Ack(value = anti-rollback floor).
    OtaConfirm,
    /// → Ack, then the band restarts (QEMU exits with [`EXIT_REBOOT`]).
    Reboot,
    /// Test hook: after this many more flash erase/program operations the band powers
    /// off (QEMU exits with [`EXIT_POWER_CUT`]) → Ack(value = operations so far).
    ArmPowerCut {
        /// Erase/program operations until the power goes.
        after_flash_ops: u32,
    },
    /// Runs the first `count` windows of the shared-RAM mailbox ([`super::mailbox`]) →
    /// Ack(value = count), each window's InferResult in the mailbox's result records.
    MailboxInfer {
        /// Windows to run, 1 ..= [`super::mailbox::max_windows`].
        count: u16,
    },
    /// Stream mode through the shared-RAM mailbox: the first `count` samples written there
    /// (StreamSamples' 12-byte layout), numbered from `first_index` as in StreamSamples →
    /// Ack(value = windows completed), each window's StreamWindow frame in the mailbox's
    /// result records, in order.
    MailboxStream {
        /// Index of the first sample in the segment (0 starts a new one).
        first_index: u32,
        /// Samples to stream, 1 ..= [`super::mailbox::max_stream_samples`].
        count: u32,
    },
}

/// Band → host.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Response<'a> {
    /// Answer to Hello.
    Info(Info<'a>),
    /// The request of type `for_type` succeeded; `value` is type-specific (docs/protocol.md).
    Ack {
        /// Type byte of the request answered.
        for_type: u8,
        /// Type-specific result.
        value: u32,
    },
    /// The request of type `for_type` failed.
    Error {
        /// Type byte of the request answered.
        for_type: u8,
        /// Why it failed.
        cause: ErrorCause,
        /// Cause-specific detail (docs/protocol.md).
        detail: u32,
    },
    /// Answer to TensorInfer.
    InferResult(InferResult<'a>),
    /// One stream-mode window; zero or more precede the Ack of a StreamSamples.
    StreamWindow {
        /// Window number in the segment: it covers model-rate samples
        /// `[index·hop, index·hop + window_len)`.
        index: u32,
        /// The window's class scores.
        result: InferResult<'a>,
    },
    /// Answer to OtaStatus.
    OtaStatus(OtaStatusReport),
}

/// Why a frame's payload is not a valid message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// A response type arrived where a request was expected, or the reverse.
    WrongDirection(MessageType),
    /// The payload does not match the type's layout.
    Malformed {
        /// The frame's type.
        ty: MessageType,
        /// Which check failed.
        reason: &'static str,
    },
}

impl core::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::WrongDirection(ty) => write!(f, "{ty:?} frame sent in the wrong direction"),
            Self::Malformed { ty, reason } => write!(f, "malformed {ty:?} payload: {reason}"),
        }
    }
}

/// Iterates the samples of a StreamSamples payload as `[ax, ay, az, gx, gy, gz]`.
pub fn samples(bytes: &[u8]) -> impl Iterator<Item = [i16; 6]> + '_ {
    bytes.chunks_exact(SAMPLE_BYTES).map(|c| {
        let mut s = [0i16; 6];
        for (axis, pair) in s.iter_mut().zip(c.chunks_exact(2)) {
            *axis = i16::from_le_bytes([pair[0], pair[1]]);
        }
        s
    })
}

impl<'a> Request<'a> {
    /// The frame type this request is sent as.
    pub fn message_type(&self) -> MessageType {
        match self {
            Self::Hello => MessageType::Hello,
            Self::LoadModelChunk { .. } => MessageType::LoadModelChunk,
            Self::LoadModelFinish { .. } => MessageType::LoadModelFinish,
            Self::TensorInfer { .. } => MessageType::TensorInfer,
            Self::StreamSamples { .. } => MessageType::StreamSamples,
            Self::ConfigureInput(_) => MessageType::ConfigureInput,
            Self::ConfigureStream { .. } => MessageType::ConfigureStream,
            Self::OtaBegin { .. } => MessageType::OtaBegin,
            Self::OtaChunk { .. } => MessageType::OtaChunk,
            Self::OtaFinish => MessageType::OtaFinish,
            Self::OtaStatus => MessageType::OtaStatus,
            Self::OtaConfirm => MessageType::OtaConfirm,
            Self::Reboot => MessageType::Reboot,
            Self::ArmPowerCut { .. } => MessageType::ArmPowerCut,
            Self::MailboxInfer { .. } => MessageType::MailboxInfer,
            Self::MailboxStream { .. } => MessageType::MailboxStream,
        }
    }

    /// Encodes the whole frame into `out`; returns its length.
    pub fn encode(&self, out: &mut [u8]) -> Result<usize, EncodeError> {
        let ty = self.message_type();
        let len = write_payload(out, |w| match *self {
            Self::Hello => Some(()),
            Self::LoadModelChunk { offset, data } => {
                w.u32(offset)?;
                w.bytes(data)
            }
            Self::LoadModelFinish { total_len, crc32c } => {
                w.u32(total_len)?;
                w.u32(crc32c)
            }
            Self::TensorInfer { input } => w.bytes(input),
            Self::StreamSamples {
                first_index,
                samples,
            } => {
                w.u32(first_index)?;
                w.bytes(samples)
            }
            Self::ConfigureInput(q) => {
                w.u8(q.zero_point as u8)?;
                for c in &q.channels {
                    w.u32(c.offset as u32)?;
                    w.u32(c.multiplier as u32)?;
                    w.u8(c.shift)?;
                }
                Some(())
            }
            Self::ConfigureStream {
                up,
                down,
                window_len,
                hop,
            } => {
                w.u16(up)?;
                w.u16(down)?;
                w.u16(window_len)?;
                w.u16(hop)
            }
            Self::OtaBegin { manifest } => w.bytes(manifest),
            Self::OtaChunk { offset, data } => {
                w.u32(offset)?;
                w.bytes(data)
            }
            Self::OtaFinish | Self::OtaStatus | Self::OtaConfirm | Self::Reboot => Some(()),
            Self::ArmPowerCut { after_flash_ops } => w.u32(after_flash_ops),
            Self::MailboxInfer { count } => w.u16(count),
            Self::MailboxStream { first_index, count } => {
                w.u32(first_index)?;
                w.u32(count)
            }
        })?;
        check_len(ty, len)?;
        finish_frame(ty, len, out)
    }

    /// Parses a request frame's payload.
    pub fn decode(frame: FrameRef<'a>) -> Result<Self, DecodeError> {
        let ty = frame.ty;
        let bad = |reason| DecodeError::Malformed { ty, reason };
        let mut r = Reader::new(frame.payload);
        let request = match ty {
            MessageType::Hello => Self::Hello,
            MessageType::LoadModelChunk => {
                let offset = r.u32().ok_or(bad("no offset"))?;
                Self::LoadModelChunk {
                    offset,
                    data: r.rest(),
                }
            }
            MessageType::LoadModelFinish => Self::LoadModelFinish {
                total_len: r.u32().ok_or(bad("no length"))?,
                crc32c: r.u32().ok_or(bad("no CRC"))?,
            },
            MessageType::TensorInfer => Self::TensorInfer { input: r.rest() },
            MessageType::StreamSamples => {
                let first_index = r.u32().ok_or(bad("no first index"))?;
                let samples = r.rest();
                if samples.is_empty() || !samples.len().is_multiple_of(SAMPLE_BYTES) {
                    return Err(bad("samples are not whole 12-byte records"));
                }
                Self::StreamSamples {
                    first_index,
                    samples,
                }
            }
            MessageType::ConfigureInput => {
                let short = bad("shorter than 55 bytes");
                let zero_point = r.u8().ok_or(short)? as i8;
                let mut channels = [ChannelQuant {
                    offset: 0,
                    multiplier: 0,
                    shift: 0,
                }; AXES];
                for c in &mut channels {
                    c.offset = r.u32().ok_or(short)? as i32;
                    c.multiplier = r.u32().ok_or(short)? as i32;
                    c.shift = r.u8().ok_or(short)?;
                }
                let quant =
                    InputQuant::new(channels, zero_point).map_err(|_| bad("shift beyond 31"))?;
                Self::ConfigureInput(quant)
            }
            MessageType::ConfigureStream => {
                let short = bad("shorter than 8 bytes");
                Self::ConfigureStream {
                    up: r.u16().ok_or(short)?,
                    down: r.u16().ok_or(short)?,
                    window_len: r.u16().ok_or(short)?,
                    hop: r.u16().ok_or(short)?,
                }
            }
            MessageType::OtaBegin => Self::OtaBegin { manifest: r.rest() },
            MessageType::OtaChunk => {
                let offset = r.u32().ok_or(bad("no offset"))?;
                Self::OtaChunk {
                    offset,
                    data: r.rest(),
                }
            }
            MessageType::OtaFinish => Self::OtaFinish,
            MessageType::OtaStatus => Self::OtaStatus,
            MessageType::OtaConfirm => Self::OtaConfirm,
            MessageType::Reboot => Self::Reboot,
            MessageType::ArmPowerCut => Self::ArmPowerCut {
                after_flash_ops: r.u32().ok_or(bad("no count"))?,
            },
            MessageType::MailboxInfer => Self::MailboxInfer {
                count: r.u16().ok_or(bad("no count"))?,
            },
            MessageType::MailboxStream => Self::MailboxStream {
                first_index: r.u32().ok_or(bad("no first index"))?,
                count: r.u32().ok_or(bad("no count"))?,
            },
            other => return Err(DecodeError::WrongDirection(other)),
        };
        if !r.is_empty() {
            return Err(bad("trailing bytes"));
        }
        Ok(request)
    }
}

impl<'a> Response<'a> {
    /// The frame type this response is sent as.
    pub fn message_type(&self) -> MessageType {
        match self {
            Self::Info(_) => MessageType::Info,
            Self::Ack { .. } => MessageType::Ack,
            Self::Error { .. } => MessageType::Error,
            Self::InferResult(_) => MessageType::InferResult,
            Self::StreamWindow { .. } => MessageType::StreamWindow,
            Self::OtaStatus(_) => MessageType::OtaStatusReply,
        }
    }

    /// Encodes the whole frame into `out`; returns its length.
    pub fn encode(&self, out: &mut [u8]) -> Result<usize, EncodeError> {
        let ty = self.message_type();
        if let Self::Info(info) = self
            && info.name.len() > MAX_NAME_LEN
        {
            return Err(EncodeError::PayloadTooLong {
                len: INFO_FIXED_LEN + info.name.len(),
            });
        }
        if let Self::InferResult(res) | Self::StreamWindow { result: res, .. } = self
            && res.logits.len() > usize::from(u8::MAX)
        {
            return Err(EncodeError::PayloadTooLong {
                len: INFER_FIXED_LEN + res.logits.len() + 4 * usize::from(res.elapsed_us.is_some()),
            });
        }
        let len = write_payload(out, |w| match *self {
            Self::Info(info) => {
                w.bytes(&info.version)?;
                let mut flags = 0;
                if info.mailbox {
                    flags |= INFO_FLAG_MAILBOX;
                }
                if info.mailbox_stream {
                    flags |= INFO_FLAG_MAILBOX_STREAM;
                }
                w.u8(flags)?;
                w.u32(info.stack_size)?;
                w.u32(info.arena_size)?;
                w.u32(info.model_slot_size)?;
                w.u16(info.max_payload)?;
                // Checked above: the name fits in a u8 length.
                w.u8(info.name.len() as u8)?;
                w.bytes(info.name.as_bytes())
            }
            Self::Ack { for_type, value } => {
                w.u8(for_type)?;
                w.u32(value)
            }
            Self::Error {
                for_type,
                cause,
                detail,
            } => {
                w.u8(for_type)?;
                w.u8(cause as u8)?;
                w.u32(detail)
            }
            Self::InferResult(res) => write_infer_result(w, &res),
            Self::StreamWindow { index, result } => {
                w.u32(index)?;
                write_infer_result(w, &result)
            }
            Self::OtaStatus(s) => {
                w.u8(s.active_slot.unwrap_or(0xFF))?;
                w.u8(s.state.map_or(0, |st| st as u8))?;
                w.u8(s.last_error)?;
                w.u8(u8::from(s.self_test_passed))?;
                w.u32(s.version)?;
                w.u32(s.min_version)?;
                w.u32(s.flash_ops)
            }
        })?;
        check_len(ty, len)?;
        finish_frame(ty, len, out)
    }

    /// Parses a response frame's payload.
    pub fn decode(frame: FrameRef<'a>) -> Result<Self, DecodeError> {
        let ty = frame.ty;
        let bad = |reason| DecodeError::Malformed { ty, reason };
        let mut r = Reader::new(frame.payload);
        let response = match ty {
            MessageType::Info => {
                let short = bad("shorter than its fixed fields");
                let v = r.take(3).ok_or(short)?;
                let version = [v[0], v[1], v[2]];
                let flags = r.u8().ok_or(short)?;
                let stack_size = r.u32().ok_or(short)?;
                let arena_size = r.u32().ok_or(short)?;
                let model_slot_size = r.u32().ok_or(short)?;
                let max_payload = r.u16().ok_or(short)?;
                let name_len = r.u8().ok_or(short)?;
                let name = r
                    .take(usize::from(name_len))
                    .ok_or(bad("name shorter than its length"))?;
                let name = core::str::from_utf8(name).map_err(|_| bad("name is not UTF-8"))?;
                Self::Info(Info {
                    name,
                    version,
                    stack_size,
                    arena_size,
                    model_slot_size,
                    max_payload,
                    mailbox: flags & INFO_FLAG_MAILBOX != 0,
                    mailbox_stream: flags & INFO_FLAG_MAILBOX_STREAM != 0,
                })
            }
            MessageType::Ack => Self::Ack {
                for_type: r.u8().ok_or(bad("short"))?,
                value: r.u32().ok_or(bad("short"))?,
            },
            MessageType::Error => {
                let for_type = r.u8().ok_or(bad("short"))?;
                let cause =
                    ErrorCause::from_u8(r.u8().ok_or(bad("short"))?).ok_or(bad("unknown cause"))?;
                Self::Error {
                    for_type,
                    cause,
                    detail: r.u32().ok_or(bad("short"))?,
                }
            }
            MessageType::InferResult => Self::InferResult(read_infer_result(&mut r, ty)?),
            MessageType::StreamWindow => {
                let index = r.u32().ok_or(bad("shorter than its fixed fields"))?;
                Self::StreamWindow {
                    index,
                    result: read_infer_result(&mut r, ty)?,
                }
            }
            MessageType::OtaStatusReply => {
                let short = bad("shorter than 16 bytes");
                let slot = r.u8().ok_or(short)?;
                let state = r.u8().ok_or(short)?;
                let last_error = r.u8().ok_or(short)?;
                let flags = r.u8().ok_or(short)?;
                Self::OtaStatus(OtaStatusReport {
                    active_slot: match slot {
                        0 | 1 => Some(slot),
                        0xFF => None,
                        _ => return Err(bad("slot neither 0, 1 nor 0xFF")),
                    },
                    state: match state {
                        0 => None,
                        s => Some(SlotState::from_u8(s).ok_or(bad("unknown slot state"))?),
                    },
                    last_error,
                    self_test_passed: flags & 1 != 0,
                    version: r.u32().ok_or(short)?,
                    min_version: r.u32().ok_or(short)?,
                    flash_ops: r.u32().ok_or(short)?,
                })
            }
            other => return Err(DecodeError::WrongDirection(other)),
        };
        if !r.is_empty() {
            return Err(bad("trailing bytes"));
        }
        Ok(response)
    }
}

fn write_infer_result(w: &mut Writer<'_>, res: &InferResult<'_>) -> Option<()> {
    w.u64(res.instructions)?;
    w.u32(res.stack_high_water)?;
    w.u32(res.arena_used)?;
    w.u8(res.predicted)?;
    // Checked by the caller: at most 255 logits.
    w.u8(res.logits.len() as u8)?;
    w.bytes(res.logits)?;
    match res.elapsed_us {
        Some(us) => w.u32(us),
        None => Some(()),
    }
}

fn read_infer_result<'a>(
    r: &mut Reader<'a>,
    ty: MessageType,
) -> Result<InferResult<'a>, DecodeError> {
    let bad = |reason| DecodeError::Malformed { ty, reason };
    let short = bad("shorter than its fixed fields");
    let instructions = r.u64().ok_or(short)?;
    let stack_high_water = r.u32().ok_or(short)?;
    let arena_used = r.u32().ok_or(short)?;
    let predicted = r.u8().ok_or(short)?;
    let n = r.u8().ok_or(short)?;
    let logits = r
        .take(usize::from(n))
        .ok_or(bad("fewer logits than announced"))?;
    // Optional trailer: absent (older or emulated bands) or exactly one u32.
    let elapsed_us = match r.rest() {
        [] => None,
        &[a, b, c, d] => Some(u32::from_le_bytes([a, b, c, d])),
        _ => {
            return Err(bad(
                "trailing bytes after the logits are not a u32 elapsed_us",
            ));
        }
    };
    Ok(InferResult {
        instructions,
        stack_high_water,
        arena_used,
        predicted,
        logits,
        elapsed_us,
    })
}

/// Runs `fill` on a writer over the payload area of `out`; returns the payload length.
fn write_payload(
    out: &mut [u8],
    fill: impl FnOnce(&mut Writer<'_>) -> Option<()>,
) -> Result<usize, EncodeError> {
    let out_len = out.len();
    let area_end = out_len.min(HEADER_LEN + MAX_PAYLOAD);
    let area = out
        .get_mut(HEADER_LEN..area_end)
        .ok_or(EncodeError::BufferTooSmall {
            needed: HEADER_LEN + 4,
        })?;
    let area_len = area.len();
    let mut w = Writer::new(area);
    match fill(&mut w) {
        Some(()) => Ok(w.len()),
        // Could not tell exactly how long it would have been; report the limit that bit.
        None if area_len == MAX_PAYLOAD => Err(EncodeError::PayloadTooLong {
            len: MAX_PAYLOAD + 1,
        }),
        None => Err(EncodeError::BufferTooSmall {
            needed: out_len + 1,
        }),
    }
}

fn check_len(ty: MessageType, len: usize) -> Result<(), EncodeError> {
    if ty.payload_len_ok(len) {
        Ok(())
    } else {
        Err(EncodeError::LengthNotAllowed { len })
    }
}
