//! The [`Target`] trait: harbor's protocol as async calls, with the chunking, streaming and
//! reply checks every backend shares.

use std::future::Future;

use harbor_core::input::InputQuant;
use harbor_core::protocol::crc::crc32c;
use harbor_core::protocol::frame::MAX_PAYLOAD;
use harbor_core::protocol::message::SAMPLE_BYTES;
use harbor_core::protocol::{ErrorCause, MessageType, Request};

use super::{BinaryReply, DeviceInfo, Inference, StreamConfig, StreamOutcome, TargetError};

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

    /// Runs `windows` in order, appending each inference to `out`. A failure comes with the
    /// index (into `windows`) of the window it stopped at; `out` then holds the ones before.
    /// One TensorInfer per window here; an emulated band with a shared-RAM mailbox runs
    /// them in batches instead (same results, no UART bytes per window).
    fn infer_many(
        &mut self,
        windows: &[&[i8]],
        out: &mut Vec<Inference>,
    ) -> impl Future<Output = Result<(), (usize, TargetError)>> + Send {
        infer_one_by_one(self, windows, out)
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
            self.expect_ack(&config.request()).await?;
            Ok(())
        }
    }

    /// Streams raw 6-axis IMU samples (band rate) and collects the windows the band infers
    /// on. `first_index` 0 starts a new segment; otherwise it must continue the current one.
    /// StreamSamples frames here; an emulated band with a shared-RAM mailbox takes the
    /// samples through it instead (same windows, no UART bytes per sample).
    fn stream(
        &mut self,
        first_index: u32,
        samples: &[[i16; 6]],
    ) -> impl Future<Output = Result<StreamOutcome, TargetError>> + Send {
        stream_by_frames(self, first_index, samples)
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

/// [`Target::stream`] through StreamSamples frames over the link.
pub(crate) async fn stream_by_frames<T: Target + ?Sized>(
    target: &mut T,
    first_index: u32,
    samples: &[[i16; 6]],
) -> Result<StreamOutcome, TargetError> {
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
        let mut reply = target.exchange(&request).await?;
        loop {
            match reply {
                BinaryReply::Window(window) => outcome.windows.push(window),
                BinaryReply::Ack { value, .. } => {
                    outcome.received = value;
                    break;
                }
                BinaryReply::Error { cause, detail, .. } => {
                    return Err(rejected(
                        target.name(),
                        MessageType::StreamSamples,
                        cause,
                        detail,
                    ));
                }
                other => return Err(unexpected(target.name(), "Ack", &other)),
            }
            reply = target.receive().await?;
        }
    }
    Ok(outcome)
}

/// [`Target::infer_many`] through one TensorInfer per window.
pub(crate) async fn infer_one_by_one<T: Target + ?Sized>(
    target: &mut T,
    windows: &[&[i8]],
    out: &mut Vec<Inference>,
) -> Result<(), (usize, TargetError)> {
    for (i, window) in windows.iter().enumerate() {
        out.push(target.infer(window).await.map_err(|e| (i, e))?);
    }
    Ok(())
}

pub(crate) fn rejected(
    target: &str,
    request: MessageType,
    cause: ErrorCause,
    detail: u32,
) -> TargetError {
    TargetError::Rejected {
        target: target.to_string(),
        request,
        cause,
        detail,
    }
}

pub(crate) fn unexpected(target: &str, expected: &'static str, got: &BinaryReply) -> TargetError {
    TargetError::Unexpected {
        target: target.to_string(),
        expected,
        got: got.kind(),
    }
}
