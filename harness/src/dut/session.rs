//! The protocol over a [`Link`], shared by every backend: requests with deadlines, the
//! `m-ready` banner, link failures named as [`TargetError`]s, and "dead after the first
//! failure". What differs per backend (an emulator process, a board on a port) is its
//! [`Backing`].

use std::future::Future;
use std::time::Duration;

use harbor_core::protocol::frame::{MAX_FRAME, RESYNC_FILL, RESYNC_FILL_LEN};
use harbor_core::protocol::text::Reply;
use harbor_core::protocol::{ErrorCause, MessageType, Request, mailbox};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::Instant;

use super::link::{Incoming, Link, LinkFailure};
use super::reply::inference_of;
use super::target::{infer_one_by_one, rejected, stream_by_frames, unexpected};
use super::{
    AnyBacking, BinaryReply, ByteStream, DeviceInfo, Dut, Inference, StreamConfig, StreamOutcome,
    StreamWindow, Target, TargetError,
};

/// What stands behind a link: told when the link fails, and asked why it closed.
pub trait Backing: Send {
    /// Stops the device after a failure it cannot recover from (an emulator is killed).
    fn stop(&mut self);
    /// After a trap report: lets the device finish on its own, then stops it.
    fn settle(&mut self) -> impl Future<Output = ()> + Send;
    /// The error for a byte stream that closed (`during` what).
    fn closed(
        &mut self,
        target: String,
        during: String,
    ) -> impl Future<Output = TargetError> + Send;
    /// The error for a deadline that passed with no answer: [`TargetError::Hang`], unless
    /// the backing knows the harness is at fault (an emulator stopped by a signal).
    fn hung(&mut self, target: String, during: String, waited: Duration) -> TargetError {
        TargetError::Hang {
            target,
            during,
            waited,
        }
    }
    /// The emulator's process id while it runs; `None` for a board.
    fn pid(&self) -> Option<u32> {
        None
    }
    /// The emulator's output so far; empty for a board.
    fn log(&self) -> String {
        String::new()
    }
    /// The file backing the emulated band's RAM, shared with harbor (QEMU); `None` for a
    /// board. With it and a band that announces the mailbox, batches skip the UART.
    fn shared_ram(&self) -> Option<std::path::PathBuf> {
        None
    }
}

/// A device speaking harbor's protocol over a byte stream `S`, with `B` behind it.
/// `QemuTarget`, `RenodeTarget`, `SerialTarget` and `ProbeTarget` are this with their stream
/// and backing; [`Dut`] is it with both boxed.
pub struct LinkTarget<S, B> {
    name: String,
    link: Link<S>,
    backing: B,
    exchange_timeout: Duration,
    /// Why the target stopped working, once it has.
    failed: Option<String>,
    /// The band's RAM file, once its Info announced the mailbox and the backing shares
    /// its RAM (an emulator): batches of windows then skip the UART.
    mailbox: Option<std::fs::File>,
    /// Whether the band's Info announced MailboxStream (with `mailbox`: samples skip the UART).
    mailbox_stream: bool,
    /// The stream geometry last acknowledged (it bounds the samples of one MailboxStream).
    stream_config: Option<StreamConfig>,
}

impl<S, B> LinkTarget<S, B> {
    /// What stands behind the link.
    pub fn backing(&self) -> &B {
        &self.backing
    }
}

impl<S, B: Backing> LinkTarget<S, B> {
    /// The emulator's process id while it runs (`None` for a board).
    pub fn pid(&self) -> Option<u32> {
        self.backing.pid()
    }

    /// The emulator's output so far (errors loading the platform show up here; empty for
    /// a board).
    pub fn log(&self) -> String {
        self.backing.log()
    }
}

impl<S: ByteStream + 'static, B: Backing + 'static> LinkTarget<S, B> {
    /// This target as a [`Dut`], the type every backend is opened as.
    pub fn into_dut(self) -> Dut {
        LinkTarget {
            name: self.name,
            link: self.link.map_stream(|s| Box::new(s) as Box<dyn ByteStream>),
            backing: Box::new(self.backing) as Box<dyn AnyBacking>,
            exchange_timeout: self.exchange_timeout,
            failed: self.failed,
            mailbox: self.mailbox,
            mailbox_stream: self.mailbox_stream,
            stream_config: self.stream_config,
        }
    }
}

impl<S, B> LinkTarget<S, B>
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
    B: Backing,
{
    pub(crate) fn new(
        name: String,
        stream: S,
        backing: B,
        garbage_budget: usize,
        exchange_timeout: Duration,
    ) -> Self {
        Self {
            name,
            link: Link::new(stream, garbage_budget),
            backing,
            exchange_timeout,
            failed: None,
            mailbox: None,
            mailbox_stream: false,
            stream_config: None,
        }
    }

    /// Whether [`Target::stream`] sends samples through the shared-RAM mailbox (an emulated
    /// band that announced MailboxStream, after Hello and ConfigureStream); else StreamSamples
    /// frames cross the UART, as on a real board.
    pub fn streams_through_mailbox(&self) -> bool {
        self.mailbox.is_some() && self.mailbox_stream && self.stream_config.is_some()
    }

    /// Stops the device now (an emulator is killed; also done on drop).
    pub async fn shutdown(mut self) {
        self.backing.stop();
        self.backing.settle().await;
    }

    /// Lines the firmware printed that were not protocol replies.
    pub fn stray_lines(&self) -> &[String] {
        self.link.stray_lines()
    }

    /// Writes raw bytes to the band's UART without waiting for an answer: fault
    /// injection (line noise) for robustness tests.
    pub async fn send_raw(&mut self, bytes: &[u8]) -> Result<(), TargetError> {
        self.check_alive()?;
        let timeout = self.exchange_timeout;
        match self.link.send(bytes, Instant::now() + timeout).await {
            Ok(()) => Ok(()),
            Err(failure) => Err(self.fail(failure, "receiving raw bytes", timeout).await),
        }
    }

    /// Sends the resynchronisation fill (docs/protocol.md): afterwards any half-received
    /// frame in the band is resolved and the next request is read cleanly.
    pub async fn resync(&mut self) -> Result<(), TargetError> {
        self.send_raw(&[RESYNC_FILL; RESYNC_FILL_LEN]).await
    }

    /// Text lines up to the firmware's `m-ready`, within `timeout`.
    pub(crate) async fn await_ready(
        &mut self,
        timeout: Duration,
        during: &str,
    ) -> Result<Vec<String>, TargetError> {
        let deadline = Instant::now() + timeout;
        let mut lines = Vec::new();
        loop {
            match self.link.next(deadline).await {
                Ok(Incoming::Line(line)) if Reply::parse(&line) == Some(Reply::Ready) => {
                    return Ok(lines);
                }
                Ok(Incoming::Line(line)) => lines.push(line),
                Ok(Incoming::Frame { ty, .. }) => {
                    return Err(self.fail_with(TargetError::Unexpected {
                        target: self.name.clone(),
                        expected: "text lines",
                        got: format!("a {ty:?} frame"),
                    }));
                }
                Err(failure) => return Err(self.fail(failure, during, timeout).await),
            }
        }
    }

    /// Sends one request and returns its first response frame, both within `timeout`.
    pub(crate) async fn exchange_within(
        &mut self,
        request: &Request<'_>,
        timeout: Duration,
    ) -> Result<BinaryReply, TargetError> {
        self.check_alive()?;
        let ty = request.message_type();
        let during = format!("answering {ty:?}");
        let mut frame = [0u8; MAX_FRAME];
        let n = request.encode(&mut frame).map_err(|e| TargetError::Io {
            target: self.name.clone(),
            context: format!("encoding {ty:?}"),
            source: std::io::Error::new(std::io::ErrorKind::InvalidInput, e.to_string()),
        })?;
        let deadline = Instant::now() + timeout;
        if let Err(failure) = self.link.send(&frame[..n], deadline).await {
            return Err(self.fail(failure, &during, timeout).await);
        }
        self.next_reply(deadline, timeout, &during).await
    }

    fn check_alive(&self) -> Result<(), TargetError> {
        match &self.failed {
            Some(first_failure) => Err(TargetError::Dead {
                target: self.name.clone(),
                first_failure: first_failure.clone(),
            }),
            None => Ok(()),
        }
    }

    /// The next response frame by `deadline`, skipping text lines.
    async fn next_reply(
        &mut self,
        deadline: Instant,
        timeout: Duration,
        during: &str,
    ) -> Result<BinaryReply, TargetError> {
        loop {
            match self.link.next(deadline).await {
                Ok(Incoming::Frame { ty, payload }) => {
                    return match BinaryReply::from_frame(ty, &payload) {
                        Some(reply) => Ok(reply),
                        None => Err(self.fail_with(TargetError::Unexpected {
                            target: self.name.clone(),
                            expected: "a response frame",
                            got: format!("a {ty:?} frame with a malformed payload"),
                        })),
                    };
                }
                // Text while waiting for a frame (e.g. a late `m-ready`) is not an answer.
                Ok(Incoming::Line(_)) => {}
                Err(failure) => return Err(self.fail(failure, during, timeout).await),
            }
        }
    }

    /// Turns a link failure into its named cause; the target is dead afterwards.
    async fn fail(&mut self, failure: LinkFailure, during: &str, waited: Duration) -> TargetError {
        let target = self.name.clone();
        let during = during.to_string();
        let error = match failure {
            LinkFailure::Timeout => self.backing.hung(target, during, waited),
            LinkFailure::Truncated(held) => TargetError::Truncated {
                target,
                during,
                held,
                waited,
            },
            LinkFailure::Trap(report) => {
                self.backing.settle().await;
                TargetError::Trap {
                    target,
                    during,
                    report,
                }
            }
            LinkFailure::Closed => self.backing.closed(target, during).await,
            LinkFailure::Garbage(bytes) => TargetError::Garbage {
                target,
                during,
                bytes,
            },
            LinkFailure::Io(source) => TargetError::Io {
                target,
                context: during,
                source,
            },
        };
        self.fail_with(error)
    }

    /// Where the mailbox starts in QEMU's RAM file.
    const MAILBOX_AT: u64 = (mailbox::ADDR - super::qemu::RAM_BASE) as u64;

    /// Writes a request's inputs at the start of the shared-RAM mailbox.
    fn write_mailbox_inputs(&self, bytes: &[u8], context: &str) -> Result<(), TargetError> {
        use std::os::unix::fs::FileExt;
        self.mailbox_file(context)?
            .write_all_at(bytes, Self::MAILBOX_AT)
            .map_err(|source| self.io_error(context, source))
    }

    /// Reads the first `n` result records of the shared-RAM mailbox.
    fn read_mailbox_records(&self, n: usize, context: &str) -> Result<Vec<u8>, TargetError> {
        use std::os::unix::fs::FileExt;
        let mut records = vec![0u8; n * mailbox::RESULT_STRIDE];
        self.mailbox_file(context)?
            .read_exact_at(
                &mut records,
                Self::MAILBOX_AT + mailbox::RESULTS_OFFSET as u64,
            )
            .map_err(|source| self.io_error(context, source))?;
        Ok(records)
    }

    /// The RAM file (the callers only take the mailbox path when there is one).
    fn mailbox_file(&self, context: &str) -> Result<&std::fs::File, TargetError> {
        self.mailbox.as_ref().ok_or_else(|| {
            self.io_error(
                context,
                std::io::Error::new(std::io::ErrorKind::NotFound, "no shared RAM file"),
            )
        })
    }

    fn io_error(&self, context: &str, source: std::io::Error) -> TargetError {
        TargetError::Io {
            target: self.name.clone(),
            context: context.to_string(),
            source,
        }
    }

    /// One MailboxInfer: the windows into the shared RAM, one request over the UART, the
    /// results out of the shared RAM. A failure names the window (index into `batch`).
    async fn mailbox_batch(
        &mut self,
        batch: &[&[i8]],
        out: &mut Vec<Inference>,
    ) -> Result<(), (usize, TargetError)> {
        let input: Vec<u8> = batch
            .iter()
            .flat_map(|w| w.iter().map(|&v| v as u8))
            .collect();
        self.write_mailbox_inputs(&input, "writing windows into the band's shared RAM")
            .map_err(|e| (0, e))?;
        let count = batch.len() as u16;
        let ty = MessageType::MailboxInfer;
        let done = match self.exchange(&Request::MailboxInfer { count }).await {
            Ok(BinaryReply::Ack { value, .. }) if value == u32::from(count) => Ok(batch.len()),
            // The windows before the failing one have their results.
            Ok(BinaryReply::Error {
                cause: ErrorCause::InferenceFailed,
                detail,
                ..
            }) if (detail as usize) < batch.len() => Err((
                detail as usize,
                rejected(&self.name, ty, ErrorCause::InferenceFailed, detail),
            )),
            Ok(BinaryReply::Error { cause, detail, .. }) => {
                Err((0, rejected(&self.name, ty, cause, detail)))
            }
            Ok(other) => Err((0, unexpected(&self.name, "an Ack for MailboxInfer", &other))),
            Err(e) => Err((0, e)),
        };
        let ran = match &done {
            Ok(n) | Err((n, _)) => *n,
        };
        let records = self
            .read_mailbox_records(ran, "reading results from the band's shared RAM")
            .map_err(|e| (0, e))?;
        for (i, record) in records.chunks_exact(mailbox::RESULT_STRIDE).enumerate() {
            match mailbox::read_result(record) {
                Some(result) => out.push(inference_of(&result)),
                None => {
                    return Err((
                        i,
                        TargetError::Unexpected {
                            target: self.name.clone(),
                            expected: "an InferResult frame in the mailbox's result record",
                            got: "a damaged record".into(),
                        },
                    ));
                }
            }
        }
        done.map(|_| ())
    }

    /// One MailboxStream: the samples into the shared RAM, one request over the UART, the
    /// windows' StreamWindow frames out of the shared RAM.
    async fn mailbox_stream_part(
        &mut self,
        first_index: u32,
        samples: &[[i16; 6]],
        outcome: &mut StreamOutcome,
    ) -> Result<(), TargetError> {
        let bytes: Vec<u8> = samples
            .iter()
            .flatten()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        self.write_mailbox_inputs(&bytes, "writing samples into the band's shared RAM")?;
        let ty = MessageType::MailboxStream;
        let count = samples.len() as u32;
        let windows = match self
            .exchange(&Request::MailboxStream { first_index, count })
            .await?
        {
            BinaryReply::Ack { value, .. } if value as usize <= mailbox::MAX_WINDOWS => value,
            BinaryReply::Error { cause, detail, .. } => {
                return Err(rejected(&self.name, ty, cause, detail));
            }
            other => return Err(unexpected(&self.name, "an Ack for MailboxStream", &other)),
        };
        let records = self.read_mailbox_records(
            windows as usize,
            "reading windows from the band's shared RAM",
        )?;
        for record in records.chunks_exact(mailbox::RESULT_STRIDE) {
            let Some((index, result)) = mailbox::read_window(record) else {
                return Err(self.fail_with(TargetError::Unexpected {
                    target: self.name.clone(),
                    expected: "a StreamWindow frame in the mailbox's result record",
                    got: "a damaged record".into(),
                }));
            };
            outcome.windows.push(StreamWindow {
                index,
                inference: inference_of(&result),
            });
        }
        // The band checked the index: the segment now holds these samples too.
        outcome.received = first_index.wrapping_add(count);
        Ok(())
    }

    /// Records the first failure and stops the device.
    fn fail_with(&mut self, error: TargetError) -> TargetError {
        self.backing.stop();
        self.failed.get_or_insert_with(|| error.to_string());
        error
    }
}

impl<S, B> Target for LinkTarget<S, B>
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
    B: Backing,
{
    fn name(&self) -> &str {
        &self.name
    }

    async fn exchange(&mut self, request: &Request<'_>) -> Result<BinaryReply, TargetError> {
        self.exchange_within(request, self.exchange_timeout).await
    }

    async fn info(&mut self) -> Result<DeviceInfo, TargetError> {
        match self.exchange(&Request::Hello).await? {
            BinaryReply::Info(info) => {
                self.mailbox = match (info.mailbox, self.backing.shared_ram()) {
                    (true, Some(path)) => Some(open_shared_ram(&self.name, &path)?),
                    _ => None,
                };
                self.mailbox_stream = info.mailbox_stream;
                Ok(info)
            }
            other => Err(unexpected(&self.name, "Info", &other)),
        }
    }

    async fn infer_many(
        &mut self,
        windows: &[&[i8]],
        out: &mut Vec<Inference>,
    ) -> Result<(), (usize, TargetError)> {
        let Some(input_len) = windows.first().map(|w| w.len()) else {
            return Ok(());
        };
        let per_request = mailbox::max_windows(input_len);
        if self.mailbox.is_none()
            || per_request == 0
            || windows.iter().any(|w| w.len() != input_len)
        {
            return infer_one_by_one(self, windows, out).await;
        }
        for (n, batch) in windows.chunks(per_request).enumerate() {
            let start = n * per_request;
            self.mailbox_batch(batch, out)
                .await
                .map_err(|(i, e)| (start + i, e))?;
        }
        Ok(())
    }

    async fn configure_stream(&mut self, config: StreamConfig) -> Result<(), TargetError> {
        self.stream_config = None;
        self.expect_ack(&config.request()).await?;
        self.stream_config = Some(config);
        Ok(())
    }

    async fn stream(
        &mut self,
        first_index: u32,
        samples: &[[i16; 6]],
    ) -> Result<StreamOutcome, TargetError> {
        let per_request = self.stream_config.map_or(0, |c| {
            mailbox::max_stream_samples(c.up, c.down, c.hop) as usize
        });
        if !self.streams_through_mailbox() || per_request == 0 {
            return stream_by_frames(self, first_index, samples).await;
        }
        let mut outcome = StreamOutcome::default();
        for (i, part) in samples.chunks(per_request).enumerate() {
            let index = first_index.wrapping_add((i * per_request) as u32);
            self.mailbox_stream_part(index, part, &mut outcome).await?;
        }
        Ok(outcome)
    }

    async fn receive(&mut self) -> Result<BinaryReply, TargetError> {
        self.check_alive()?;
        let timeout = self.exchange_timeout;
        let deadline = Instant::now() + timeout;
        self.next_reply(deadline, timeout, "finishing a multi-frame reply")
            .await
    }

    async fn command(&mut self, command: &str) -> Result<Vec<String>, TargetError> {
        self.check_alive()?;
        let during = format!("answering `{command}%`");
        let timeout = self.exchange_timeout;
        let mut bytes = command.as_bytes().to_vec();
        bytes.push(b'%');
        if let Err(failure) = self.link.send(&bytes, Instant::now() + timeout).await {
            return Err(self.fail(failure, &during, timeout).await);
        }
        self.await_ready(timeout, &during).await
    }
}

/// Opens the emulated band's RAM file for the mailbox.
fn open_shared_ram(name: &str, path: &std::path::Path) -> Result<std::fs::File, TargetError> {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .map_err(|source| TargetError::Io {
            target: name.to_string(),
            context: format!("opening the band's shared RAM {}", path.display()),
            source,
        })
}

#[cfg(test)]
mod tests {
    //! The shared session over TCP, the transport RenodeTarget uses: what can be checked of
    //! the Renode backend without Renode.

    use harbor_core::protocol::message::{InferResult, Response};
    use harbor_core::protocol::{FrameDecoder, MessageType, Pushed};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};

    use super::*;

    /// Stands in for the emulator process: records that it was stopped.
    #[derive(Default)]
    struct TestBacking {
        stopped: bool,
    }

    impl Backing for TestBacking {
        fn stop(&mut self) {
            self.stopped = true;
        }
        async fn settle(&mut self) {}
        async fn closed(&mut self, target: String, during: String) -> TargetError {
            TargetError::Disconnected { target, during }
        }
    }

    async fn tcp_pair() -> (TcpStream, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let host = TcpStream::connect(listener.local_addr().unwrap());
        let (host, device) = tokio::join!(host, listener.accept());
        (host.unwrap(), device.unwrap().0)
    }

    fn target(stream: TcpStream) -> LinkTarget<TcpStream, TestBacking> {
        LinkTarget::new(
            "tcp-test".into(),
            stream,
            TestBacking::default(),
            4 * MAX_FRAME,
            Duration::from_secs(5),
        )
    }

    /// Reads request frames until one of type `ty` arrives.
    async fn read_request(device: &mut TcpStream, ty: MessageType) {
        let mut decoder = FrameDecoder::new();
        let mut byte = [0u8; 1];
        loop {
            device.read_exact(&mut byte).await.unwrap();
            if decoder.push(byte[0]) == Pushed::FrameReady
                && decoder.take_frame().map(|f| f.ty) == Some(ty)
            {
                return;
            }
        }
    }

    fn frame(response: &Response<'_>) -> Vec<u8> {
        let mut out = [0u8; MAX_FRAME];
        let n = response.encode(&mut out).unwrap();
        out[..n].to_vec()
    }

    #[tokio::test]
    async fn a_multi_frame_reply_is_read_to_its_ack_over_tcp() {
        let (host, mut device) = tcp_pair().await;
        let mut band = target(host);
        let peer = tokio::spawn(async move {
            read_request(&mut device, MessageType::StreamSamples).await;
            let logits = [1u8, 0xFE, 3];
            let result = InferResult {
                instructions: 1000,
                stack_high_water: 64,
                arena_used: 128,
                predicted: 2,
                logits: &logits,
                elapsed_us: None,
            };
            let mut bytes = Vec::new();
            for (index, elapsed_us) in [(0, None), (1, Some(2345))] {
                let result = InferResult {
                    elapsed_us,
                    ..result
                };
                bytes.extend(frame(&Response::StreamWindow { index, result }));
            }
            bytes.extend(frame(&Response::Ack {
                for_type: MessageType::StreamSamples as u8,
                value: 40,
            }));
            device.write_all(&bytes).await.unwrap();
            device
        });
        let outcome = band.stream(0, &[[7i16; 6]; 40]).await.unwrap();
        assert_eq!(outcome.received, 40);
        let indices: Vec<u32> = outcome.windows.iter().map(|w| w.index).collect();
        assert_eq!(indices, [0, 1]);
        assert_eq!(outcome.windows[1].inference.logits, [1, -2, 3]);
        // A band's measured time reaches the host as-is, and its absence stays absent.
        assert_eq!(outcome.windows[0].inference.elapsed_us, None);
        assert_eq!(outcome.windows[1].inference.elapsed_us, Some(2345));
        assert_eq!(outcome.windows[1].inference.instructions, Some(1000));
        drop(peer.await.unwrap());
    }

    #[tokio::test]
    async fn a_closed_stream_is_named_by_the_backing_and_the_target_is_dead_after() {
        let (host, device) = tcp_pair().await;
        let mut band = target(host);
        drop(device);
        let err = band.info().await.unwrap_err();
        assert_eq!(err.kind(), "disconnected", "{err}");
        assert!(band.backing().stopped);
        let again = band.command("name").await.unwrap_err();
        assert_eq!(again.kind(), "dead", "{again}");
        assert!(
            again
                .to_string()
                .contains("disconnected while answering Hello"),
            "{again}"
        );
    }
}
