//! The byte stream to a device: frames and text lines out of one UART, with deadlines.
//!
//! Transport-independent (QEMU's socket today, a serial port later): it turns bytes into
//! [`Incoming`] items and says precisely why it could not ([`LinkFailure`]).

use std::collections::VecDeque;
use std::time::Duration;

use harbor_core::protocol::text::Reply;
use harbor_core::protocol::trap::TrapReport;
use harbor_core::protocol::{FrameDecoder, MessageType, Pushed};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::Instant;

/// One thing the device said.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Incoming {
    /// A binary frame.
    Frame {
        /// Its message type.
        ty: MessageType,
        /// Its payload.
        payload: Vec<u8>,
    },
    /// A text line without its CR LF.
    Line(String),
}

/// Why no item came from the link.
#[derive(Debug)]
pub enum LinkFailure {
    /// The deadline passed with no complete item.
    Timeout,
    /// The deadline passed while part of a frame was held: the rest never came (bytes
    /// dropped on the line, or a device that stopped mid-frame). The count held.
    Truncated(usize),
    /// The device closed the stream (the emulator exited).
    Closed,
    /// More than the budget of bytes arrived without forming a frame or protocol line.
    Garbage(usize),
    /// The firmware's trap handler reported.
    Trap(TrapReport),
    /// The stream failed.
    Io(std::io::Error),
}

/// Frames and protocol lines read from (and requests written to) a byte stream.
pub struct Link<S> {
    stream: S,
    decoder: FrameDecoder,
    rx: VecDeque<u8>,
    /// Frames decoded but not yet returned.
    ready: VecDeque<Incoming>,
    line: Vec<u8>,
    /// Bytes since the last valid item that were not part of one.
    noise: usize,
    garbage_budget: usize,
    /// Lines that were not protocol replies (firmware log output), kept for diagnostics.
    stray_lines: Vec<String>,
}

/// Longest text line kept; longer ones are noise.
const MAX_LINE: usize = 4096;
/// Quiet time after which a held candidate frame is re-examined (see `Link::salvage`).
const LINE_IDLE: Duration = Duration::from_millis(50);

impl<S> Link<S> {
    /// The same link, its buffered state kept, over the stream `f` wraps this one in.
    pub(crate) fn map_stream<T>(self, f: impl FnOnce(S) -> T) -> Link<T> {
        Link {
            stream: f(self.stream),
            decoder: self.decoder,
            rx: self.rx,
            ready: self.ready,
            line: self.line,
            noise: self.noise,
            garbage_budget: self.garbage_budget,
            stray_lines: self.stray_lines,
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Link<S> {
    /// A link over `stream` tolerating `garbage_budget` bytes of noise.
    pub fn new(stream: S, garbage_budget: usize) -> Self {
        Self {
            stream,
            decoder: FrameDecoder::new(),
            rx: VecDeque::new(),
            ready: VecDeque::new(),
            line: Vec::new(),
            noise: 0,
            garbage_budget,
            stray_lines: Vec::new(),
        }
    }

    /// Writes `bytes` and flushes them by `deadline`.
    pub async fn send(&mut self, bytes: &[u8], deadline: Instant) -> Result<(), LinkFailure> {
        match tokio::time::timeout_at(deadline, async {
            self.stream.write_all(bytes).await?;
            self.stream.flush().await
        })
        .await
        {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) if is_closed(&e) => Err(LinkFailure::Closed),
            Ok(Err(e)) => Err(LinkFailure::Io(e)),
            Err(_) => Err(LinkFailure::Timeout),
        }
    }

    /// The next frame or protocol line, by `deadline`.
    pub async fn next(&mut self, deadline: Instant) -> Result<Incoming, LinkFailure> {
        loop {
            if let Some(item) = self.ready.pop_front() {
                return Ok(item);
            }
            while let Some(byte) = self.rx.pop_front() {
                if let Some(item) = self.on_byte(byte)? {
                    self.noise = 0;
                    return Ok(item);
                }
            }
            let mut buf = [0u8; 4096];
            // While part of a frame is held, look again whenever the line goes quiet.
            let wake = match self.decoder.pending_len() {
                0 => deadline,
                _ => deadline.min(Instant::now() + LINE_IDLE),
            };
            let n = match tokio::time::timeout_at(wake, self.stream.read(&mut buf)).await {
                Err(_) if wake < deadline => {
                    self.salvage();
                    continue;
                }
                Err(_) => return Err(self.timed_out()),
                Ok(Err(e)) if is_closed(&e) => return Err(LinkFailure::Closed),
                Ok(Err(e)) => return Err(LinkFailure::Io(e)),
                Ok(Ok(0)) => return Err(LinkFailure::Closed),
                Ok(Ok(n)) => n,
            };
            self.rx.extend(&buf[..n]);
        }
    }

    /// The line went quiet with a candidate frame held. If the candidate is a false one
    /// (garbage that looked like a header and swallowed the real frame), dropping it reveals
    /// a complete, CRC-checked frame: take that. Otherwise keep everything and wait on,
    /// so a frame that is merely slow to arrive is never cut.
    fn salvage(&mut self) {
        let mut trial = self.decoder.clone();
        while trial.pending_len() > 0 {
            if trial.line_idle() {
                self.noise += (trial.discarded_bytes() - self.decoder.discarded_bytes()) as usize;
                self.decoder = trial;
                while let Some(f) = self.decoder.take_frame() {
                    self.ready.push_back(Incoming::Frame {
                        ty: f.ty,
                        payload: f.payload.to_vec(),
                    });
                }
                return;
            }
        }
    }

    /// The line went quiet: a frame still being waited for will not finish.
    fn timed_out(&mut self) -> LinkFailure {
        match self.decoder.pending_len() {
            0 => LinkFailure::Timeout,
            held => LinkFailure::Truncated(held),
        }
    }

    /// Lines the device printed that were not protocol replies.
    pub fn stray_lines(&self) -> &[String] {
        &self.stray_lines
    }

    fn on_byte(&mut self, byte: u8) -> Result<Option<Incoming>, LinkFailure> {
        let discarded = self.decoder.discarded_bytes();
        let pushed = self.decoder.push(byte);
        self.noise += (self.decoder.discarded_bytes() - discarded) as usize;
        let item = match pushed {
            Pushed::Pending => None,
            Pushed::FrameReady => {
                // After a resynchronisation one byte can complete several frames: queue them all.
                while let Some(f) = self.decoder.take_frame() {
                    self.ready.push_back(Incoming::Frame {
                        ty: f.ty,
                        payload: f.payload.to_vec(),
                    });
                }
                self.ready.pop_front()
            }
            Pushed::Text(b'\n') => self.finish_line()?,
            Pushed::Text(b'\r') => None,
            Pushed::Text(b) => {
                if (b.is_ascii_graphic() || b == b' ') && self.line.len() < MAX_LINE {
                    self.line.push(b);
                } else {
                    self.noise += 1;
                }
                None
            }
        };
        if item.is_none() && self.noise > self.garbage_budget {
            return Err(LinkFailure::Garbage(self.noise));
        }
        Ok(item)
    }

    fn finish_line(&mut self) -> Result<Option<Incoming>, LinkFailure> {
        let bytes = std::mem::take(&mut self.line);
        // Only printable ASCII was kept, so this is valid UTF-8.
        let line = String::from_utf8_lossy(&bytes).into_owned();
        if line.is_empty() {
            return Ok(None);
        }
        if let Some(report) = TrapReport::parse(&line) {
            return Err(LinkFailure::Trap(report));
        }
        if Reply::parse(&line).is_some() {
            return Ok(Some(Incoming::Line(line)));
        }
        self.noise += bytes.len() + 1;
        self.stray_lines.push(line);
        Ok(None)
    }
}

fn is_closed(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        e.kind(),
        BrokenPipe | ConnectionReset | ConnectionAborted | UnexpectedEof
    )
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use harbor_core::protocol::Request;
    use harbor_core::protocol::frame::MAX_FRAME;
    use tokio::io::AsyncWriteExt;

    use super::*;

    fn deadline() -> Instant {
        Instant::now() + Duration::from_secs(5)
    }

    fn hello_frame() -> Vec<u8> {
        let mut out = [0u8; MAX_FRAME];
        let n = Request::Hello.encode(&mut out).unwrap();
        out[..n].to_vec()
    }

    #[tokio::test]
    async fn noise_beyond_the_budget_is_garbage() {
        let (mut device, host) = tokio::io::duplex(1 << 16);
        let mut link = Link::new(host, 100);
        // Control bytes and stray sync bytes: never a frame, never a line.
        let noise: Vec<u8> = (0..1000u32)
            .map(|i| if i % 3 == 0 { 0xA5 } else { (i % 9) as u8 })
            .collect();
        device.write_all(&noise).await.unwrap();
        match link.next(deadline()).await {
            Err(LinkFailure::Garbage(n)) => assert!(n > 100, "{n}"),
            other => panic!("expected garbage, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_frame_after_some_noise_and_a_log_line_is_delivered() {
        let (mut device, host) = tokio::io::duplex(1 << 16);
        let mut link = Link::new(host, 100);
        // A stray sync byte followed by a byte that is no message type: the decoder drops the
        // sync and hands the rest to the text side, so the log line survives whole.
        let mut bytes = vec![0x00, 0xA5, 0x7F, 0x01];
        bytes.extend_from_slice(b"boot log line\r\nm-ready\r\n");
        bytes.extend_from_slice(&hello_frame());
        device.write_all(&bytes).await.unwrap();
        assert_eq!(
            link.next(deadline()).await.unwrap(),
            Incoming::Line("m-ready".into())
        );
        match link.next(deadline()).await.unwrap() {
            Incoming::Frame { ty, payload } => {
                assert_eq!(ty, MessageType::Hello);
                assert!(payload.is_empty());
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(link.stray_lines(), ["boot log line"]);
    }

    #[tokio::test]
    async fn a_false_frame_header_does_not_block_the_replies_behind_it() {
        let (mut device, host) = tokio::io::duplex(1 << 16);
        let mut link = Link::new(host, 100);
        // `A5 07` looks like a ConfigureStream header: the bytes it swallows before the decoder
        // gives up are noise, but the protocol line and the frame behind it still arrive.
        let mut bytes = vec![0xA5, 0x07, 0x01];
        bytes.extend_from_slice(b"log\r\nm-ready\r\n");
        bytes.extend_from_slice(&hello_frame());
        device.write_all(&bytes).await.unwrap();
        assert_eq!(
            link.next(deadline()).await.unwrap(),
            Incoming::Line("m-ready".into())
        );
        assert!(matches!(
            link.next(deadline()).await.unwrap(),
            Incoming::Frame {
                ty: MessageType::Hello,
                ..
            }
        ));
    }

    #[tokio::test]
    async fn a_frame_missing_a_byte_is_truncated_not_silence() {
        let (mut device, host) = tokio::io::duplex(1 << 16);
        let mut link = Link::new(host, 100);
        let mut frame = hello_frame();
        frame.extend_from_slice(&[0xA5, 0x82, 0x05, 0x00, 0x02, 0x10, 0x00, 0x00]);
        // An Ack frame that lost its last CRC byte: the Hello arrives, the Ack never does.
        device.write_all(&frame).await.unwrap();
        assert!(matches!(
            link.next(deadline()).await,
            Ok(Incoming::Frame { .. })
        ));
        let soon = Instant::now() + Duration::from_millis(50);
        match link.next(soon).await {
            Err(LinkFailure::Truncated(held)) => assert_eq!(held, 8),
            other => panic!("expected a truncated frame, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_false_header_that_swallows_a_frame_gives_it_back_when_the_line_goes_quiet() {
        let (mut device, host) = tokio::io::duplex(1 << 16);
        let mut link = Link::new(host, 100);
        // `A5 04 00 01`: a TensorInfer header claiming 256 bytes, which swallows the Hello.
        let mut bytes = vec![0xA5, 0x04, 0x00, 0x01];
        bytes.extend_from_slice(&hello_frame());
        device.write_all(&bytes).await.unwrap();
        match link.next(deadline()).await.unwrap() {
            Incoming::Frame { ty, .. } => assert_eq!(ty, MessageType::Hello),
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn a_slow_frame_is_not_cut_by_a_quiet_line() {
        let (mut device, host) = tokio::io::duplex(1 << 16);
        let mut link = Link::new(host, 100);
        let frame = hello_frame();
        let tail = frame[3..].to_vec();
        device.write_all(&frame[..3]).await.unwrap();
        let sender = tokio::spawn(async move {
            tokio::time::sleep(LINE_IDLE * 4).await;
            device.write_all(&tail).await.unwrap();
            device
        });
        assert!(matches!(
            link.next(deadline()).await.unwrap(),
            Incoming::Frame {
                ty: MessageType::Hello,
                ..
            }
        ));
        drop(sender.await.unwrap());
    }

    #[tokio::test]
    async fn a_trap_report_line_is_a_trap() {
        let (mut device, host) = tokio::io::duplex(1 << 16);
        let mut link = Link::new(host, 100);
        device
            .write_all(b"\r\ne-[trap mcause=0x00000005 mepc=0x80000010 mtval=0x00000000]\r\n")
            .await
            .unwrap();
        match link.next(deadline()).await {
            Err(LinkFailure::Trap(r)) => assert_eq!((r.mcause, r.mepc), (5, 0x8000_0010)),
            other => panic!("expected a trap, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn silence_is_a_timeout_and_a_closed_stream_is_closed() {
        let (device, host) = tokio::io::duplex(64);
        let mut link = Link::new(host, 100);
        let soon = Instant::now() + Duration::from_millis(50);
        assert!(matches!(link.next(soon).await, Err(LinkFailure::Timeout)));
        drop(device);
        assert!(matches!(
            link.next(deadline()).await,
            Err(LinkFailure::Closed)
        ));
    }
}
