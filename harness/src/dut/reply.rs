//! What a device answers, owned: its self-description, inferences, stream windows and the
//! binary replies they arrive in.

use harbor_core::protocol::text::Reply;
use harbor_core::protocol::{ErrorCause, FrameRef, MessageType, Request, Response};

/// What the firmware says about itself (the Info response).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceInfo {
    /// Firmware name (e.g. `band-qemu`).
    pub name: String,
    /// Firmware version, major.minor.patch.
    pub version: [u8; 3],
    /// Stack reserved for the firmware (bytes).
    pub stack_size: u32,
    /// Tensor arena size (bytes).
    pub arena_size: u32,
    /// Largest model the slot holds (bytes).
    pub model_slot_size: u32,
    /// Largest frame payload the firmware accepts (bytes).
    pub max_payload: u16,
    /// Whether the firmware runs batches from a shared-RAM mailbox (an emulated band).
    pub mailbox: bool,
    /// Whether it also streams samples from that mailbox (MailboxStream).
    pub mailbox_stream: bool,
}

/// One inference as the firmware measured it.
#[derive(Clone, Debug, PartialEq)]
pub struct Inference {
    /// Index of the highest logit.
    pub predicted: u8,
    /// The model's int8 output, one per class; empty when the device prints floats.
    pub logits: Vec<i8>,
    /// The outputs as an MLPerf device printed them when they are dequantized floats
    /// (`kind: mlperf` with `outputs: float`); `None` for int8 outputs.
    pub outputs: Option<Vec<f32>>,
    /// Retired instructions around the inference (deterministic under QEMU's -icount);
    /// `None` from a device that does not count them (`kind: mlperf`).
    pub instructions: Option<u64>,
    /// Wall time the band measured with its own timer (µs); `None` from an emulator,
    /// whose time is only the instruction count restated.
    pub elapsed_us: Option<u32>,
    /// Deepest stack use seen so far (bytes); `None` when the device does not report it.
    pub stack_high_water: Option<u32>,
    /// Tensor arena bytes the model needs; `None` when the device does not report it.
    pub arena_used: Option<u32>,
}

/// One window the band cut, converted and inferred on in stream mode.
#[derive(Clone, Debug, PartialEq)]
pub struct StreamWindow {
    /// Window number in the segment: model-rate samples `[index·hop, index·hop + len)`.
    pub index: u32,
    /// What the band inferred on it.
    pub inference: Inference,
}

/// What one [`Target::stream`] call got back.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StreamOutcome {
    /// Windows completed by these samples, in order.
    pub windows: Vec<StreamWindow>,
    /// IMU samples the band holds in the current segment after the last frame.
    pub received: u32,
}

/// Stream-mode geometry sent with [`Target::configure_stream`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StreamConfig {
    /// IMU → model rate ratio `up/down` (reduced; 4/5 for 25 → 20 Hz, 1/1 for none).
    pub up: u16,
    /// Denominator of the rate ratio.
    pub down: u16,
    /// Window length and hop in model-rate samples.
    pub window_len: u16,
    /// Samples between window starts, at the model rate.
    pub hop: u16,
}

impl StreamConfig {
    /// The ConfigureStream request that sets this geometry on the band.
    pub fn request(&self) -> Request<'static> {
        Request::ConfigureStream {
            up: self.up,
            down: self.down,
            window_len: self.window_len,
            hop: self.hop,
        }
    }
}

/// A binary response, owned.
#[derive(Clone, Debug, PartialEq)]
pub enum BinaryReply {
    /// The answer to Hello.
    Info(DeviceInfo),
    /// A request was done; `value` depends on the request.
    Ack {
        /// The acknowledged request's message type.
        for_type: u8,
        /// Request-specific result (e.g. samples held after StreamSamples).
        value: u32,
    },
    /// A request was refused.
    Error {
        /// The refused request's message type.
        for_type: u8,
        /// Why.
        cause: ErrorCause,
        /// Cause-specific detail.
        detail: u32,
    },
    /// The result of TensorInfer.
    Inference(Inference),
    /// A stream-mode window; zero or more come before a StreamSamples' Ack.
    Window(StreamWindow),
    /// The band's OTA state (docs/ota-device.md).
    OtaStatus(harbor_core::protocol::OtaStatusReport),
}

pub(crate) fn inference_of(r: &harbor_core::protocol::InferResult<'_>) -> Inference {
    Inference {
        predicted: r.predicted,
        logits: r.logits.iter().map(|&b| b as i8).collect(),
        outputs: None,
        instructions: Some(r.instructions),
        elapsed_us: r.elapsed_us,
        stack_high_water: Some(r.stack_high_water),
        arena_used: Some(r.arena_used),
    }
}

impl BinaryReply {
    /// Decodes a response frame; `None` if its payload does not match the layout.
    pub fn from_frame(ty: MessageType, payload: &[u8]) -> Option<Self> {
        Some(match Response::decode(FrameRef { ty, payload }).ok()? {
            Response::Info(i) => Self::Info(DeviceInfo {
                name: i.name.to_string(),
                version: i.version,
                stack_size: i.stack_size,
                arena_size: i.arena_size,
                model_slot_size: i.model_slot_size,
                max_payload: i.max_payload,
                mailbox: i.mailbox,
                mailbox_stream: i.mailbox_stream,
            }),
            Response::Ack { for_type, value } => Self::Ack { for_type, value },
            Response::Error {
                for_type,
                cause,
                detail,
            } => Self::Error {
                for_type,
                cause,
                detail,
            },
            Response::InferResult(r) => Self::Inference(inference_of(&r)),
            Response::StreamWindow { index, result } => Self::Window(StreamWindow {
                index,
                inference: inference_of(&result),
            }),
            Response::OtaStatus(s) => Self::OtaStatus(s),
        })
    }

    /// The reply's type, for "answered X where Y was expected" messages.
    pub(crate) fn kind(&self) -> String {
        match self {
            Self::Info(_) => "Info".into(),
            Self::Ack { for_type, .. } => format!("Ack for type 0x{for_type:02x}"),
            Self::Error { cause, .. } => format!("Error ({cause})"),
            Self::Inference(_) => "InferResult".into(),
            Self::Window(w) => format!("StreamWindow {}", w.index),
            Self::OtaStatus(_) => "OtaStatus".into(),
        }
    }
}

/// The `m-results-[…]` values of an MLPerf reply list, if one is present.
pub fn results_of(lines: &[String]) -> Option<Vec<f64>> {
    lines.iter().find_map(|l| match Reply::parse(l)? {
        Reply::Results(list) => list.split(',').map(|v| v.trim().parse().ok()).collect(),
        _ => None,
    })
}
