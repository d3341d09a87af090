//! Devices under test that speak harbor's protocol: the [`Target`] trait and its backends.
//!
//! [`qemu::QemuTarget`] runs the band firmware in a real `qemu-system-riscv32` process,
//! [`serial::SerialTarget`] talks to a board on a serial port; both (and Renode) are a
//! [`LinkTarget`]: the protocol over a byte stream, with an emulator or a board behind it.
//! Every exchange has a wall-clock deadline, and every failure is a named [`TargetError`]
//! (hang, trap, exit, garbage, refusal) rather than a stuck test.

mod error;
pub mod link;
pub mod ports;
#[cfg(feature = "probe")]
pub mod probe;
pub mod process;
pub mod qemu;
pub mod qemu_pty;
pub mod serial;
mod session;
mod tty;

use std::future::Future;

use harbor_core::input::InputQuant;
use harbor_core::protocol::crc::crc32c;
use harbor_core::protocol::frame::MAX_PAYLOAD;
use harbor_core::protocol::message::SAMPLE_BYTES;
use harbor_core::protocol::text::Reply;
use harbor_core::protocol::{ErrorCause, FrameRef, MessageType, Request, Response};

pub use error::{PortProblem, TargetError, Tool};
pub use ports::{PortInfo, list_ports};
pub use process::EmulatorProcess;
pub use qemu::{QemuConfig, QemuTarget};
pub use qemu_pty::QemuPty;
pub use serial::{Reset, SerialBoard, SerialConfig, SerialTarget};
pub use session::{Backing, LinkTarget};
pub use tty::TtyStream;

/// What the firmware says about itself (the Info response).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceInfo {
    pub name: String,
    pub version: [u8; 3],
    pub stack_size: u32,
    pub arena_size: u32,
    pub model_slot_size: u32,
    pub max_payload: u16,
}

/// One inference as the firmware measured it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Inference {
    pub predicted: u8,
    pub logits: Vec<i8>,
    /// Retired instructions around the inference (deterministic under QEMU's -icount).
    pub instructions: u64,
    /// Wall time the band measured with its own timer (µs); `None` from an emulator,
    /// whose time is only the instruction count restated.
    pub elapsed_us: Option<u32>,
    pub stack_high_water: u32,
    pub arena_used: u32,
}

/// One window the band cut, converted and inferred on in stream mode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamWindow {
    /// Window number in the segment: model-rate samples `[index·hop, index·hop + len)`.
    pub index: u32,
    pub inference: Inference,
}

/// What one [`Target::stream`] call got back.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
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
    pub down: u16,
    /// Window length and hop in model-rate samples.
    pub window_len: u16,
    pub hop: u16,
}

/// A binary response, owned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BinaryReply {
    Info(DeviceInfo),
    Ack {
        for_type: u8,
        value: u32,
    },
    Error {
        for_type: u8,
        cause: ErrorCause,
        detail: u32,
    },
    Inference(Inference),
    /// A stream-mode window; zero or more come before a StreamSamples' Ack.
    Window(StreamWindow),
    /// The band's OTA state (docs/ota-device.md).
    OtaStatus(harbor_core::protocol::OtaStatusReport),
}

fn inference_of(r: &harbor_core::protocol::InferResult<'_>) -> Inference {
    Inference {
        predicted: r.predicted,
        logits: r.logits.iter().map(|&b| b as i8).collect(),
        instructions: r.instructions,
        elapsed_us: r.elapsed_us,
        stack_high_water: r.stack_high_water,
        arena_used: r.arena_used,
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

    fn kind(&self) -> String {
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

/// Bytes of model per LoadModelChunk: a full payload minus the offset field.
pub const MODEL_CHUNK: usize = MAX_PAYLOAD - 4;
/// Samples per StreamSamples frame: as many 12-byte samples as fit.
pub const SAMPLES_PER_FRAME: usize = (MAX_PAYLOAD - 4) / SAMPLE_BYTES;

/// A device under test speaking harbor's protocol. One request is outstanding at a time.
pub trait Target: Send {
    /// A short name for messages (e.g. `qemu:band-qemu.elf`).
    fn name(&self) -> &str;

    /// Sends one binary request and returns its response.
    fn exchange(
        &mut self,
        request: &Request<'_>,
    ) -> impl Future<Output = Result<BinaryReply, TargetError>> + Send;

    /// The next response frame of a request answered by several (StreamSamples: its
    /// windows, then the Ack). Backends that cannot read on return `Unexpected`.
    fn receive(&mut self) -> impl Future<Output = Result<BinaryReply, TargetError>> + Send {
        async move {
            Err(TargetError::Unexpected {
                target: self.name().to_string(),
                expected: "a backend that reads multi-frame replies",
                got: "a StreamWindow frame".into(),
            })
        }
    }

    /// Sends one MLPerf text command (without `%`) and returns the lines before `m-ready`.
    fn command(
        &mut self,
        command: &str,
    ) -> impl Future<Output = Result<Vec<String>, TargetError>> + Send;

    /// Hello → Info.
    fn info(&mut self) -> impl Future<Output = Result<DeviceInfo, TargetError>> + Send {
        async move {
            match self.exchange(&Request::Hello).await? {
                BinaryReply::Info(info) => Ok(info),
                other => Err(unexpected(self.name(), "Info", &other)),
            }
        }
    }

    /// Loads `model` into the slot in chunks and declares it with its CRC-32C.
    fn load_model(&mut self, model: &[u8]) -> impl Future<Output = Result<(), TargetError>> + Send {
        async move {
            self.write_model_chunks(model).await?;
            self.finish_model(model.len() as u32, crc32c(model)).await
        }
    }

    /// Writes `model` into the slot from offset 0 without declaring it complete.
    fn write_model_chunks(
        &mut self,
        model: &[u8],
    ) -> impl Future<Output = Result<(), TargetError>> + Send {
        async move {
            for (i, chunk) in model.chunks(MODEL_CHUNK).enumerate() {
                let offset = (i * MODEL_CHUNK) as u32;
                let request = Request::LoadModelChunk {
                    offset,
                    data: chunk,
                };
                self.expect_ack(&request).await?;
            }
            Ok(())
        }
    }

    /// LoadModelFinish: the band checks `crc` over the first `total_len` bytes.
    fn finish_model(
        &mut self,
        total_len: u32,
        crc: u32,
    ) -> impl Future<Output = Result<(), TargetError>> + Send {
        async move {
            self.expect_ack(&Request::LoadModelFinish {
                total_len,
                crc32c: crc,
            })
            .await?;
            Ok(())
        }
    }

    /// Runs one int8 window through the model.
    fn infer(
        &mut self,
        window: &[i8],
    ) -> impl Future<Output = Result<Inference, TargetError>> + Send {
        async move {
            let input: Vec<u8> = window.iter().map(|&v| v as u8).collect();
            match self
                .exchange(&Request::TensorInfer { input: &input })
                .await?
            {
                BinaryReply::Inference(inference) => Ok(inference),
                BinaryReply::Error { cause, detail, .. } => Err(rejected(
                    self.name(),
                    MessageType::TensorInfer,
                    cause,
                    detail,
                )),
                other => Err(unexpected(self.name(), "InferResult", &other)),
            }
        }
    }

    /// Streams raw 6-axis samples; returns how many the band holds in the current segment
    /// (windows the band reports on the way are dropped: see [`Target::stream`]).
    fn stream_samples(
        &mut self,
        first_index: u32,
        samples: &[[i16; 6]],
    ) -> impl Future<Output = Result<u32, TargetError>> + Send {
        async move { Ok(self.stream(first_index, samples).await?.received) }
    }

    /// Sends the int16 → int8 input conversion for the loaded model (after `load_model`).
    fn configure_input(
        &mut self,
        quant: &InputQuant,
    ) -> impl Future<Output = Result<(), TargetError>> + Send {
        async move {
            self.expect_ack(&Request::ConfigureInput(*quant)).await?;
            Ok(())
        }
    }

    /// Sets stream mode's rate ratio and window geometry; starts a new segment.
    fn configure_stream(
        &mut self,
        config: StreamConfig,
    ) -> impl Future<Output = Result<(), TargetError>> + Send {
        async move {
            self.expect_ack(&Request::ConfigureStream {
                up: config.up,
                down: config.down,
                window_len: config.window_len,
                hop: config.hop,
            })
            .await?;
            Ok(())
        }
    }

    /// Streams raw 6-axis IMU samples (band rate) and collects the windows the band infers
    /// on. `first_index` 0 starts a new segment; otherwise it must continue the current one.
    fn stream(
        &mut self,
        first_index: u32,
        samples: &[[i16; 6]],
    ) -> impl Future<Output = Result<StreamOutcome, TargetError>> + Send {
        async move {
            let mut outcome = StreamOutcome::default();
            for (i, block) in samples.chunks(SAMPLES_PER_FRAME).enumerate() {
                let bytes: Vec<u8> = block
                    .iter()
                    .flatten()
                    .flat_map(|v| v.to_le_bytes())
                    .collect();
                let index = first_index.wrapping_add((i * SAMPLES_PER_FRAME) as u32);
                let request = Request::StreamSamples {
                    first_index: index,
                    samples: &bytes,
                };
                let mut reply = self.exchange(&request).await?;
                loop {
                    match reply {
                        BinaryReply::Window(window) => outcome.windows.push(window),
                        BinaryReply::Ack { value, .. } => {
                            outcome.received = value;
                            break;
                        }
                        BinaryReply::Error { cause, detail, .. } => {
                            return Err(rejected(
                                self.name(),
                                MessageType::StreamSamples,
                                cause,
                                detail,
                            ));
                        }
                        other => return Err(unexpected(self.name(), "Ack", &other)),
                    }
                    reply = self.receive().await?;
                }
            }
            Ok(outcome)
        }
    }

    /// Sends a request that must be acknowledged; returns the Ack's value.
    fn expect_ack(
        &mut self,
        request: &Request<'_>,
    ) -> impl Future<Output = Result<u32, TargetError>> + Send {
        async move {
            match self.exchange(request).await? {
                BinaryReply::Ack { value, .. } => Ok(value),
                BinaryReply::Error { cause, detail, .. } => {
                    Err(rejected(self.name(), request.message_type(), cause, detail))
                }
                other => Err(unexpected(self.name(), "Ack", &other)),
            }
        }
    }
}

fn rejected(target: &str, request: MessageType, cause: ErrorCause, detail: u32) -> TargetError {
    TargetError::Rejected {
        target: target.to_string(),
        request,
        cause,
        detail,
    }
}

fn unexpected(target: &str, expected: &'static str, got: &BinaryReply) -> TargetError {
    TargetError::Unexpected {
        target: target.to_string(),
        expected,
        got: got.kind(),
    }
}

/// The `m-results-[…]` values of an MLPerf reply list, if one is present.
pub fn results_of(lines: &[String]) -> Option<Vec<f64>> {
    lines.iter().find_map(|l| match Reply::parse(l)? {
        Reply::Results(list) => list.split(',').map(|v| v.trim().parse().ok()).collect(),
        _ => None,
    })
}
