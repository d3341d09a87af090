//! The application: routes UART bytes to the text or binary protocol and answers.

use core::fmt::Write;

use harbor_core::input::InputQuant;
use harbor_core::protocol::frame::{CRC_LEN, HEADER_LEN, MAX_PAYLOAD};
use harbor_core::protocol::mailbox;
use harbor_core::protocol::message::MAX_NAME_LEN;
use harbor_core::protocol::message::samples;
use harbor_core::protocol::text::{self, Command, CommandError, Line, LineAssembler, Reply};
use harbor_core::protocol::{
    ErrorCause, FrameDecoder, FrameRef, InferResult, Info, MessageType, Pushed, Request, Response,
};
use harbor_core::rate::AXES;

use crate::board::Board;
use crate::inference::{self, Failure, Input, MAX_LOGITS};
use crate::model_slot::ModelSlot;
use crate::stream::Stream;

mod ota;
pub use ota::HARDWARE_ID;

pub const VERSION: [u8; 3] = [0, 1, 0];

/// How a band image names itself in Info and the MLPerf replies.
#[derive(Clone, Copy)]
pub struct Identity {
    /// Info's firmware name, e.g. `band-qemu`.
    pub name: &'static str,
    /// `m-name-dut-[…]`, e.g. `harbor band-qemu`.
    pub vendor: &'static str,
    /// `m-profile-[…]`, e.g. `harbor band-qemu 0.1.0`.
    pub profile: &'static str,
}
/// Bytes `db load` accepts: a 128-sample 6-axis int8 window is 768, harbor's models take 360.
const DB_CAPACITY: usize = 1024;
/// The longest response frame: a StreamWindow with `elapsed_us` and MAX_LOGITS logits
/// (Info, the next longest, is 19 + 32 bytes of payload).
const TX_CAPACITY: usize = HEADER_LEN + 26 + MAX_LOGITS + CRC_LEN;
const _: () = assert!(TX_CAPACITY >= HEADER_LEN + 19 + MAX_NAME_LEN + CRC_LEN);
/// Tensor arena the interpreter will run in (reserved now so the RAM figure is honest).
pub const ARENA_SIZE: usize = 128 * 1024;
/// Commands the deliberately broken variants answer before failing.
#[cfg(any(feature = "fault-hang", feature = "fault-crash"))]
const FAULT_AFTER_COMMANDS: u32 = 3;

static mut ARENA: [u8; ARENA_SIZE] = [0; ARENA_SIZE];

/// The application state lives in a static (not on the stack) so the stack high-water mark
/// measures inference, and the RAM budget counts the buffers.
pub struct App {
    /// Frames are decoded in place: a request's payload is read from this buffer.
    frames: FrameDecoder,
    line: LineAssembler,
    band: Band,
}

/// Everything that answers requests; apart from the receive buffers so a request can borrow
/// them while it runs.
struct Band {
    identity: Identity,
    db: [u8; DB_CAPACITY],
    /// `db load N`: bytes expected and received.
    db_expected: usize,
    db_received: usize,
    model: Option<ModelSlot>,
    /// Arena bytes the accepted model needs; `None` until a model passed LoadModelFinish.
    model_arena: Option<usize>,
    arena: Option<&'static mut [u8]>,
    logits: [i8; MAX_LOGITS],
    n_logits: usize,
    /// The loaded model's int16 → int8 input conversion (ConfigureInput).
    input: Option<InputQuant>,
    /// Stream mode's converter and window ring (ConfigureStream).
    stream: Stream,
    /// Samples of the current segment while no stream is configured (they are only counted).
    samples_received: u32,
    commands: u32,
    tx: [u8; TX_CAPACITY],
    ota: ota::OtaRuntime,
}

impl App {
    pub const fn new() -> Self {
        Self {
            frames: FrameDecoder::new(),
            line: LineAssembler::new(),
            band: Band::new(),
        }
    }

    /// Hands the app its model slot and arena, then prints the MLPerf start-up banner.
    pub fn boot(&mut self, board: &mut impl Board, identity: Identity, model: ModelSlot) {
        self.band.boot(board, identity, model);
    }

    /// The text-only configuration's boot: copies `model` (compiled into the image) into
    /// the slot and checks it with the interpreter before the banner. A model the band
    /// cannot run is reported as `e-[…]` before `m-ready`; `infer` then answers
    /// `e-[No model loaded]`.
    #[cfg(feature = "text-only")]
    pub fn boot_with_model(
        &mut self,
        board: &mut impl Board,
        identity: Identity,
        slot: ModelSlot,
        model: &[u8],
    ) {
        self.band.boot_with_model(board, identity, slot, model);
    }

    pub fn on_byte(&mut self, board: &mut impl Board, byte: u8) {
        // The text-only configuration has no frame decoder: every byte is text.
        if cfg!(feature = "text-only") {
            return self.on_text_byte(board, byte);
        }
        match self.frames.push(byte) {
            Pushed::Text(b) => self.on_text_byte(board, b),
            Pushed::Pending => {}
            Pushed::FrameReady => {
                while let Some(frame) = self.frames.take_frame() {
                    self.band.on_frame(board, frame);
                }
            }
        }
    }

    fn on_text_byte(&mut self, board: &mut impl Board, byte: u8) {
        let parsed = match self.line.push(byte) {
            None => return,
            Some(Line::TooLong) => Err(CommandError::TooLong),
            Some(Line::Command(cmd)) => Ok(cmd),
        };
        self.band.count_command();
        match parsed.and_then(Command::parse) {
            Ok(command) => self.band.run_text(board, command),
            Err(e) => report_error(board, e),
        }
        reply(board, Reply::Ready);
    }
}

impl Band {
    const fn new() -> Self {
        Self {
            identity: Identity {
                name: "",
                vendor: "",
                profile: "",
            },
            db: [0; DB_CAPACITY],
            db_expected: 0,
            db_received: 0,
            model: None,
            model_arena: None,
            arena: None,
            logits: [0; MAX_LOGITS],
            n_logits: 0,
            input: None,
            stream: Stream::new(),
            samples_received: 0,
            commands: 0,
            tx: [0; TX_CAPACITY],
            ota: ota::OtaRuntime::new(),
        }
    }

    fn boot(&mut self, board: &mut impl Board, identity: Identity, model: ModelSlot) {
        self.attach(identity, model);
        // The model from the active flash slot, if there is one (before the banner, so a
        // host that saw m-ready can rely on it).
        self.ota_boot(board);
        reply(board, Reply::InitDone);
        reply(board, Reply::Ready);
    }

    #[cfg(feature = "text-only")]
    fn boot_with_model(
        &mut self,
        board: &mut impl Board,
        identity: Identity,
        slot: ModelSlot,
        model: &[u8],
    ) {
        self.attach(identity, slot);
        let loaded = self.slot().load_with(model.len(), |dest| {
            dest.copy_from_slice(model);
            true
        });
        let checked = loaded
            .then(|| inference::check_model(self.slot().model().unwrap_or(&[]), ARENA_SIZE).ok())
            .flatten();
        reply(board, Reply::InitDone);
        match checked {
            Some(needed) => self.model_arena = Some(needed),
            None => reply(board, Reply::Error("Compiled-in model rejected")),
        }
        reply(board, Reply::Ready);
    }

    fn attach(&mut self, identity: Identity, model: ModelSlot) {
        crate::image_marker::keep();
        self.identity = identity;
        self.model = Some(model);
        // SAFETY: the arena static is only ever reached through this one reference.
        // (`&mut ARENA`, as clippy suggests, is a hard error on `static mut` in edition 2024.)
        #[allow(clippy::deref_addrof)]
        let arena = unsafe { &mut *(&raw mut ARENA) };
        self.arena = Some(arena);
    }

    fn run_text(&mut self, board: &mut impl Board, command: Command<'_>) {
        match command {
            Command::Name => reply(board, Reply::Name(self.identity.vendor)),
            Command::Profile => {
                reply(board, Reply::Profile(self.identity.profile));
                reply(
                    board,
                    Reply::Model(if self.model_arena.is_some() {
                        "loaded"
                    } else {
                        "none"
                    }),
                );
            }
            Command::Help => {
                let _ = write!(
                    board.out(),
                    "{}: name, profile, timestamp, db load N, db HH.., db print [N] [off], infer N [W], results\r\n",
                    self.identity.vendor
                );
            }
            Command::Timestamp => reply(board, Reply::LapUs(board.micros())),
            Command::DbLoad(n) if n > DB_CAPACITY => report_error(
                board,
                CommandError::DbLoadTooLarge {
                    requested: n,
                    max: DB_CAPACITY,
                },
            ),
            Command::DbLoad(n) => {
                self.db_expected = n;
                self.db_received = 0;
                reply(board, Reply::Expecting(n));
            }
            Command::DbHex(hex) => {
                if self.db_received >= self.db_expected {
                    return report_error(board, CommandError::NoLoadInProgress);
                }
                let dest = &mut self.db[self.db_received..self.db_expected];
                match text::decode_hex_into(hex, dest) {
                    Ok(n) => {
                        self.db_received += n;
                        if self.db_received == self.db_expected {
                            reply(board, Reply::LoadDone);
                        }
                    }
                    Err(e) => report_error(board, e),
                }
            }
            Command::DbPrint { len, offset } => {
                let end = len
                    .map_or(self.db_received, |n| offset.saturating_add(n))
                    .min(self.db_received);
                let start = offset.min(end);
                let _ = text::write_buffer_lines(&mut board.out(), &self.db[start..end]);
            }
            Command::Infer { iterations, warmup } => self.infer_text(board, iterations, warmup),
            Command::Results => self.print_results(board),
        }
    }

    /// `infer N W` on the `db` buffer, with the reference's message sequence.
    fn infer_text(&mut self, board: &mut impl Board, iterations: u32, warmup: u32) {
        reply(board, Reply::WarmupStart(warmup));
        if let Err(e) = self.run_db(board, warmup) {
            return report_error(board, e.as_text());
        }
        reply(board, Reply::WarmupDone);
        reply(board, Reply::InferStart(iterations));
        reply(board, Reply::LapUs(board.micros()));
        if let Err(e) = self.run_db(board, iterations) {
            return report_error(board, e.as_text());
        }
        reply(board, Reply::LapUs(board.micros()));
        reply(board, Reply::InferDone);
        self.print_results(board);
    }

    /// `count` inferences on the `db` buffer through one preparation of the model (the
    /// MLPerf reference prepares once at start-up, then times `th_infer` alone); the last
    /// one's logits are kept for `results`.
    fn run_db(&mut self, board: &impl Board, count: u32) -> Result<(), InferError> {
        if count == 0 {
            return Ok(());
        }
        let (model, arena) = accepted_model(&self.model, self.model_arena, &mut self.arena)?;
        let input = &self.db[..self.db_received];
        let mut result = Ok(());
        let mut n_logits = self.n_logits;
        let each = |_: usize,
                    outcome: Result<inference::Outcome, Failure>,
                    _: &[i8; MAX_LOGITS]| {
            match outcome {
                Ok(outcome) => {
                    n_logits = outcome.n_logits;
                    return true;
                }
                Err(Failure::InputSize { expected }) => {
                    result = Err(InferError::InputSize {
                        got: input.len(),
                        expected,
                    });
                }
                Err(Failure::Invalid { .. } | Failure::Failed) => result = Err(InferError::Failed),
            }
            false
        };
        inference::run_batch(
            board,
            model,
            arena,
            count as usize,
            |_| input,
            &mut self.logits,
            each,
        )
        .map_err(|_| InferError::Failed)?;
        self.n_logits = n_logits;
        result
    }

    /// Runs the accepted model on `input` (int8 values as bytes), or on the `db` buffer
    /// when `None` (the boot-time golden check).
    fn run_model(
        &mut self,
        board: &impl Board,
        input: Option<&[u8]>,
    ) -> Result<inference::Outcome, InferError> {
        let (model, arena) = accepted_model(&self.model, self.model_arena, &mut self.arena)?;
        let input = input.unwrap_or(&self.db[..self.db_received]);
        match inference::run(board, model, arena, Input::Bytes(input), &mut self.logits) {
            Ok(outcome) => {
                self.n_logits = outcome.n_logits;
                Ok(outcome)
            }
            Err(Failure::InputSize { expected }) => Err(InferError::InputSize {
                got: input.len(),
                expected,
            }),
            Err(Failure::Invalid { .. } | Failure::Failed) => Err(InferError::Failed),
        }
    }

    fn print_results(&mut self, board: &mut impl Board) {
        let mut out = board.out();
        let _ = text::write_results(&mut out, &self.logits[..self.n_logits]);
        let _ = out.write_str("\r\n");
    }

    /// Answers one decoded frame; its payload is read in place from the decoder.
    fn on_frame(&mut self, board: &mut impl Board, frame: FrameRef<'_>) {
        self.count_command();
        let (ty, n) = (frame.ty, frame.payload.len());
        match Request::decode(frame) {
            Ok(request) => self.run_request(board, request),
            Err(harbor_core::protocol::message::DecodeError::WrongDirection(_)) => {
                self.send(board, &error(ty, ErrorCause::UnknownMessage, ty as u32));
            }
            Err(_) => self.send(board, &error(ty, ErrorCause::Malformed, n as u32)),
        }
    }

    fn run_request(&mut self, board: &mut impl Board, request: Request<'_>) {
        let ty = request.message_type();
        if matches!(
            request,
            Request::OtaBegin { .. }
                | Request::OtaChunk { .. }
                | Request::OtaFinish
                | Request::OtaConfirm
        ) {
            // An update prepares its model in the arena to check it.
            self.stream.forget_cache();
        }
        let response = match request {
            Request::Hello => {
                let stack = board.stack();
                Response::Info(Info {
                    name: self.identity.name,
                    version: VERSION,
                    stack_size: stack.size,
                    arena_size: ARENA_SIZE as u32,
                    model_slot_size: self.slot().capacity(),
                    max_payload: MAX_PAYLOAD as u16,
                    mailbox: board.mailbox().is_some(),
                    mailbox_stream: board.mailbox().is_some(),
                })
            }
            Request::LoadModelChunk { offset, data } => {
                // The input conversion and stream geometry belong to the old model.
                self.model_arena = None;
                self.input = None;
                self.stream.disable();
                match self.slot().write_chunk(offset, data) {
                    Ok(held) => Response::Ack {
                        for_type: ty as u8,
                        value: held,
                    },
                    Err((cause, detail)) => error(ty, cause, detail),
                }
            }
            Request::LoadModelFinish { total_len, crc32c } => {
                self.finish_model(ty, total_len, crc32c)
            }
            Request::TensorInfer { input } => match self.run_model(board, Some(input)) {
                Ok(outcome) => return self.send_inference(board, &outcome),
                Err(e) => {
                    let (cause, detail) = e.as_binary();
                    error(ty, cause, detail)
                }
            },
            Request::MailboxInfer { count } => self.mailbox_infer(board, ty, count),
            Request::MailboxStream { first_index, count } => {
                self.mailbox_stream(board, ty, first_index, count)
            }
            Request::StreamSamples {
                first_index,
                samples,
            } => match self.feed_stream(board, first_index, samples, WindowSink::Uart) {
                Ok((received, _)) => Response::Ack {
                    for_type: ty as u8,
                    value: received,
                },
                Err((cause, detail)) => error(ty, cause, detail),
            },
            Request::ConfigureInput(quant) => {
                if self.model_arena.is_none() {
                    error(ty, ErrorCause::NoModel, 0)
                } else {
                    self.input = Some(quant);
                    // The ring holds converted samples: a new conversion starts a new segment.
                    if let Some(stream) = self.stream.active_mut() {
                        stream.reset();
                    }
                    Response::Ack {
                        for_type: ty as u8,
                        value: 0,
                    }
                }
            }
            Request::ConfigureStream {
                up,
                down,
                window_len,
                hop,
            } => match self.configure_stream(up, down, window_len, hop) {
                Ok(()) => Response::Ack {
                    for_type: ty as u8,
                    value: u32::from(window_len),
                },
                Err((cause, detail)) => error(ty, cause, detail),
            },
            Request::OtaBegin { manifest } => self.ota_begin(board, manifest),
            Request::OtaChunk { offset, data } => self.ota_chunk(board, offset, data),
            Request::OtaFinish => self.ota_finish(board),
            Request::OtaStatus => self.ota_status(board),
            Request::OtaConfirm => self.ota_confirm(board),
            Request::ArmPowerCut { after_flash_ops } => self.arm_power_cut(board, after_flash_ops),
            Request::Reboot => {
                self.send(board, &ack_zero(ty));
                board.exit(harbor_core::protocol::message::EXIT_REBOOT)
            }
        };
        self.send(board, &response);
    }

    /// Checks the geometry against the loaded model and installs a fresh stream.
    fn configure_stream(
        &mut self,
        up: u16,
        down: u16,
        window_len: u16,
        hop: u16,
    ) -> Result<(), (ErrorCause, u32)> {
        self.stream.disable();
        if self.model_arena.is_none() {
            return Err((ErrorCause::NoModel, 0));
        }
        self.stream.configure(up, down, window_len, hop)?;
        let (Some(slot), Some(arena)) = (self.model.as_ref(), self.arena.as_deref_mut()) else {
            self.stream.disable();
            return Err((ErrorCause::NoModel, 0));
        };
        let model = slot.model().unwrap_or(&[]);
        let expected = inference::input_len(model, arena);
        match expected {
            Ok(n) if usize::from(window_len) * AXES == n => Ok(()),
            Ok(n) => {
                self.stream.disable();
                Err((ErrorCause::InputSizeMismatch, n as u32))
            }
            Err(_) => {
                self.stream.disable();
                Err((ErrorCause::ModelInvalid, 0))
            }
        }
    }

    /// Checks the segment index and the configuration, then feeds `bytes` (12-byte samples)
    /// through the stream and infers every window they complete, the model prepared once
    /// for all of them; each result goes to `sink`. Returns the samples held in the segment
    /// (StreamSamples' Ack) and the windows completed.
    fn feed_stream(
        &mut self,
        board: &mut impl Board,
        first_index: u32,
        bytes: &[u8],
        sink: WindowSink,
    ) -> Result<(u32, u32), (ErrorCause, u32)> {
        let held = match self.stream.active() {
            Some(stream) => stream.received(),
            None => self.samples_received,
        };
        // Index 0 starts a new segment; anything else must continue the current one.
        if first_index != 0 && first_index != held {
            return Err((ErrorCause::StreamGap, held));
        }
        let Some(stream) = self.stream.active_mut() else {
            // No stream configured: count only (the transport check of earlier firmware).
            let n = (bytes.len() / harbor_core::protocol::message::SAMPLE_BYTES) as u32;
            self.samples_received = if first_index == 0 { 0 } else { held }.wrapping_add(n);
            return Ok((self.samples_received, 0));
        };
        let Some(quant) = self.input.as_ref() else {
            return Err((ErrorCause::NotConfigured, 1));
        };
        let (Some(slot), Some(_), Some(arena)) = (
            self.model.as_ref(),
            self.model_arena,
            self.arena.as_deref_mut(),
        ) else {
            return Err((ErrorCause::NoModel, 0));
        };
        let model = slot.model().unwrap_or(&[]);
        if first_index == 0 {
            stream.reset();
        }
        let tx = &mut self.tx;
        let mut windows = 0u32;
        let mut n_logits = self.n_logits;
        let each = |board: &mut _,
                    index: u32,
                    outcome: Result<inference::Outcome, Failure>,
                    out: &[i8; MAX_LOGITS]| {
            let outcome = match outcome {
                Ok(outcome) => outcome,
                Err(Failure::InputSize { expected }) => {
                    return Err((ErrorCause::InputSizeMismatch, expected as u32));
                }
                Err(_) => return Err((ErrorCause::InferenceFailed, 0)),
            };
            n_logits = outcome.n_logits;
            sink.put(board, tx, windows, index, &outcome, out)?;
            windows += 1;
            Ok(())
        };
        let mut feed = stream.feed(quant, samples(bytes));
        let ran = inference::run_stream(board, model, arena, &mut feed, &mut self.logits, each);
        self.n_logits = n_logits;
        match ran {
            Ok(Ok(())) => Ok((stream.received(), windows)),
            Ok(Err(e)) => Err(e),
            Err(_) => Err((ErrorCause::InferenceFailed, 0)),
        }
    }

    /// Streams the first `count` samples of the mailbox, continuing the segment at
    /// `first_index` as StreamSamples does; each completed window's StreamWindow frame goes
    /// into the next result record, and the Ack's value is the number of windows.
    fn mailbox_stream(
        &mut self,
        board: &mut impl Board,
        ty: MessageType,
        first_index: u32,
        count: u32,
    ) -> Response<'static> {
        let Some(region) = board.mailbox() else {
            return error(ty, ErrorCause::UnknownMessage, ty as u32);
        };
        let most = match self.stream.active() {
            Some(stream) => stream.max_mailbox_samples(),
            None => (mailbox::INPUTS_LEN / harbor_core::protocol::message::SAMPLE_BYTES) as u32,
        };
        if count == 0 || count > most {
            return error(ty, ErrorCause::Malformed, most);
        }
        let base = region.as_ptr() as *mut u8;
        // The host wrote the samples before the request's bytes arrived.
        core::sync::atomic::compiler_fence(core::sync::atomic::Ordering::SeqCst);
        let len = count as usize * harbor_core::protocol::message::SAMPLE_BYTES;
        // SAFETY: the mailbox is RAM no Rust object lives in, `mailbox::LEN` long, and the
        // host leaves it alone while a request runs; `len` ≤ INPUTS_LEN, below the records.
        let bytes = unsafe { core::slice::from_raw_parts(base, len) };
        let windows = match self.feed_stream(board, first_index, bytes, WindowSink::Mailbox(base)) {
            Ok((_, windows)) => windows,
            Err((cause, detail)) => return error(ty, cause, detail),
        };
        if let Err(i) = restamp_records(board, base, windows as usize) {
            return error(ty, ErrorCause::InferenceFailed, i);
        }
        core::sync::atomic::compiler_fence(core::sync::atomic::Ordering::SeqCst);
        Response::Ack {
            for_type: ty as u8,
            value: windows,
        }
    }

    fn slot(&mut self) -> &mut ModelSlot {
        match self.model.as_mut() {
            Some(slot) => slot,
            // boot() attaches the slot before any byte is read.
            None => unreachable!("model slot attached at boot"),
        }
    }

    /// CRC check, then a load-time check that the interpreter accepts the model.
    fn finish_model(&mut self, ty: MessageType, total_len: u32, crc32c: u32) -> Response<'static> {
        self.model_arena = None;
        let crc = match self.slot().finish(total_len, crc32c) {
            Ok(crc) => crc,
            Err((cause, detail)) => return error(ty, cause, detail),
        };
        let model = self.slot().model().unwrap_or(&[]);
        match inference::check_model(model, ARENA_SIZE) {
            Ok(needed) => {
                self.model_arena = Some(needed);
                Response::Ack {
                    for_type: ty as u8,
                    value: crc,
                }
            }
            Err(Failure::Invalid { arena_needed }) => {
                error(ty, ErrorCause::ModelInvalid, arena_needed as u32)
            }
            Err(_) => error(ty, ErrorCause::ModelInvalid, 0),
        }
    }

    /// Runs the mailbox's first `count` windows in order, each InferResult into its record.
    /// The first failure ends the batch; inference-failed then names the window in `detail`.
    fn mailbox_infer(
        &mut self,
        board: &mut impl Board,
        ty: MessageType,
        count: u16,
    ) -> Response<'static> {
        let Some(region) = board.mailbox() else {
            return error(ty, ErrorCause::UnknownMessage, ty as u32);
        };
        let (Some(slot), Some(arena), Some(_)) = (
            self.model.as_ref(),
            self.arena.as_deref_mut(),
            self.model_arena,
        ) else {
            return error(ty, ErrorCause::NoModel, 0);
        };
        let Ok(input_len) = inference::input_len(slot.model().unwrap_or(&[]), arena) else {
            return error(ty, ErrorCause::InferenceFailed, 0);
        };
        let count = usize::from(count);
        let most = mailbox::max_windows(input_len);
        if count == 0 || count > most {
            return error(ty, ErrorCause::Malformed, most as u32);
        }
        let base = region.as_ptr() as *mut u8;
        // The host wrote the windows before the request's bytes arrived.
        core::sync::atomic::compiler_fence(core::sync::atomic::Ordering::SeqCst);
        // SAFETY (both closures): the mailbox is RAM no Rust object lives in, `mailbox::LEN`
        // long, and the host leaves it alone while a request runs; windows and records do
        // not overlap.
        let window = |i: usize| unsafe {
            core::slice::from_raw_parts(base.add(mailbox::input_offset(i, input_len)), input_len)
        };
        let mut failure = None;
        let mut written = 0;
        let board = &*board;
        let each =
            |i: usize, outcome: Result<inference::Outcome, Failure>, out: &[i8; MAX_LOGITS]| {
                let outcome = match outcome {
                    Ok(outcome) => outcome,
                    Err(Failure::InputSize { expected }) => {
                        failure = Some(error(ty, ErrorCause::InputSizeMismatch, expected as u32));
                        return false;
                    }
                    Err(_) => {
                        failure = Some(error(ty, ErrorCause::InferenceFailed, i as u32));
                        return false;
                    }
                };
                let mut logits = [0u8; MAX_LOGITS];
                for (dst, &src) in logits.iter_mut().zip(&out[..outcome.n_logits]) {
                    *dst = src as u8;
                }
                let result = InferResult {
                    instructions: outcome.instructions,
                    // Stamped once after the batch (below).
                    stack_high_water: 0,
                    arena_used: outcome.arena_used,
                    predicted: outcome.predicted,
                    logits: &logits[..outcome.n_logits],
                    elapsed_us: outcome.elapsed_us,
                };
                written = i + 1;
                // SAFETY: `base` is the mailbox; i < count ≤ the windows it holds.
                let record = unsafe { result_record(base, i) };
                if mailbox::write_result(record, &result).is_err() {
                    failure = Some(error(ty, ErrorCause::InferenceFailed, i as u32));
                    return false;
                }
                true
            };
        let model = slot.model().unwrap_or(&[]);
        let ran = inference::run_batch(board, model, arena, count, window, &mut self.logits, each);
        if ran.is_err() {
            return error(ty, ErrorCause::InferenceFailed, 0);
        }
        if let Err(i) = restamp_records(board, base, written) {
            return error(ty, ErrorCause::InferenceFailed, i);
        }
        if let Some(failed) = failure {
            return failed;
        }
        core::sync::atomic::compiler_fence(core::sync::atomic::Ordering::SeqCst);
        Response::Ack {
            for_type: ty as u8,
            value: count as u32,
        }
    }

    /// One inference's measurements as an InferResult.
    fn send_inference(&mut self, board: &mut impl Board, outcome: &inference::Outcome) {
        let mut logits = [0u8; MAX_LOGITS];
        let result = result_of(outcome, &self.logits, &mut logits, board.stack().high_water);
        send_with(board, &mut self.tx, &Response::InferResult(result));
    }

    fn send(&mut self, board: &mut impl Board, response: &Response<'_>) {
        send_with(board, &mut self.tx, response);
    }

    /// Counts a command; the broken variants fail here once their budget is spent.
    fn count_command(&mut self) {
        self.commands = self.commands.wrapping_add(1);
        #[cfg(feature = "fault-hang")]
        if self.commands > FAULT_AFTER_COMMANDS {
            // Stops answering for good, like a deadlocked firmware.
            loop {
                core::hint::spin_loop();
            }
        }
        #[cfg(feature = "fault-crash")]
        if self.commands > FAULT_AFTER_COMMANDS {
            // SAFETY: deliberately traps (illegal instruction) to test crash reporting.
            unsafe { core::arch::asm!("unimp") };
        }
    }
}

/// Where stream mode's window results go.
#[derive(Clone, Copy)]
enum WindowSink {
    /// One StreamWindow frame per window over the UART, before the request's Ack.
    Uart,
    /// StreamWindow frames into the mailbox (at this address) from result record 0, the
    /// stack mark stamped once after the request.
    Mailbox(*mut u8),
}

impl WindowSink {
    /// Delivers window `index`'s result, the request's `nth` window.
    fn put(
        self,
        board: &mut impl Board,
        tx: &mut [u8; TX_CAPACITY],
        nth: u32,
        index: u32,
        outcome: &inference::Outcome,
        out: &[i8; MAX_LOGITS],
    ) -> Result<(), (ErrorCause, u32)> {
        let mut logits = [0u8; MAX_LOGITS];
        match self {
            Self::Uart => {
                let result = result_of(outcome, out, &mut logits, board.stack().high_water);
                send_with(board, tx, &Response::StreamWindow { index, result });
                Ok(())
            }
            Self::Mailbox(base) => {
                let failed = Err((ErrorCause::InferenceFailed, nth));
                if nth as usize >= mailbox::MAX_WINDOWS {
                    return failed;
                }
                let result = result_of(outcome, out, &mut logits, 0);
                // SAFETY: the mailbox is RAM no Rust object lives in; record `nth` lies
                // within it (nth < MAX_WINDOWS) and after the samples.
                let record = unsafe { result_record(base, nth as usize) };
                match mailbox::write_window(record, index, &result) {
                    Ok(_) => Ok(()),
                    Err(_) => failed,
                }
            }
        }
    }
}

/// An inference's measurements as the protocol carries them; `logits` holds the bytes.
fn result_of<'l>(
    outcome: &inference::Outcome,
    out: &[i8; MAX_LOGITS],
    logits: &'l mut [u8; MAX_LOGITS],
    stack_high_water: u32,
) -> InferResult<'l> {
    for (dst, &src) in logits.iter_mut().zip(&out[..outcome.n_logits]) {
        *dst = src as u8;
    }
    InferResult {
        instructions: outcome.instructions,
        stack_high_water,
        arena_used: outcome.arena_used,
        predicted: outcome.predicted,
        logits: &logits[..outcome.n_logits],
        elapsed_us: outcome.elapsed_us,
    }
}

fn send_with(board: &mut impl Board, tx: &mut [u8; TX_CAPACITY], response: &Response<'_>) {
    // Every response fits TX_CAPACITY by construction; a failure here is a firmware bug.
    match response.encode(tx) {
        Ok(n) => board.write_bytes(&tx[..n]),
        Err(_) => report_error(board, CommandError::Unknown("response encoding")),
    }
}

/// Why an inference could not run, in either protocol's terms.
enum InferError {
    NoModel,
    InputSize { got: usize, expected: usize },
    Failed,
}

impl InferError {
    fn as_text(&self) -> CommandError<'static> {
        match *self {
            Self::NoModel => CommandError::NoModel,
            Self::InputSize { got, expected } => CommandError::InputSizeMismatch { got, expected },
            Self::Failed => CommandError::InferenceFailed,
        }
    }

    fn as_binary(&self) -> (ErrorCause, u32) {
        match *self {
            Self::NoModel => (ErrorCause::NoModel, 0),
            Self::InputSize { expected, .. } => (ErrorCause::InputSizeMismatch, expected as u32),
            Self::Failed => (ErrorCause::InferenceFailed, 0),
        }
    }
}

/// The accepted model's bytes and the arena to run it in: `NoModel` unless a model was
/// loaded and its arena planned. Takes the fields, not `self`, so the caller may still use
/// the others (input buffers, logits).
fn accepted_model<'a>(
    slot: &'a Option<ModelSlot>,
    model_arena: Option<usize>,
    arena: &'a mut Option<&'static mut [u8]>,
) -> Result<(&'a [u8], &'a mut [u8]), InferError> {
    match (
        slot.as_ref().and_then(ModelSlot::model),
        model_arena,
        arena.as_deref_mut(),
    ) {
        (Some(model), Some(_), Some(arena)) => Ok((model, arena)),
        _ => Err(InferError::NoModel),
    }
}

/// Result record `i` of the mailbox at `base`.
///
/// # Safety
/// `base` is the mailbox: RAM no Rust object lives in, `mailbox::LEN` long, left alone by the
/// host while a request runs; `i < mailbox::MAX_WINDOWS`; no other slice of record `i` lives.
#[inline(always)]
unsafe fn result_record<'m>(base: *mut u8, i: usize) -> &'m mut [u8] {
    // SAFETY: the caller's contract; the record lies after the inputs and inside `LEN`.
    unsafe {
        core::slice::from_raw_parts_mut(base.add(mailbox::result_offset(i)), mailbox::RESULT_STRIDE)
    }
}

/// Stamps the first `count` result records at `base` with the stack mark since boot, read
/// once per request: scanning the painted stack per window would cost more than the window's
/// inference. `Err(i)`: record `i` holds no result. `base` is the mailbox and `count` at most
/// `mailbox::MAX_WINDOWS` (both callers' counts are bounded by it). Inlined: out of line it
/// cost 194 B of flash more than the two loops it replaces.
#[inline(always)]
fn restamp_records(board: &impl Board, base: *mut u8, count: usize) -> Result<(), u32> {
    let high_water = board.stack().high_water;
    for i in 0..count {
        // SAFETY: `base` is the mailbox, i < count ≤ MAX_WINDOWS, and the request that wrote
        // these records is over.
        let record = unsafe { result_record(base, i) };
        if mailbox::restamp_stack(record, high_water).is_none() {
            return Err(i as u32);
        }
    }
    Ok(())
}

fn ack_zero(ty: MessageType) -> Response<'static> {
    Response::Ack {
        for_type: ty as u8,
        value: 0,
    }
}

fn error(ty: MessageType, cause: ErrorCause, detail: u32) -> Response<'static> {
    Response::Error {
        for_type: ty as u8,
        cause,
        detail,
    }
}

fn reply(board: &mut impl Board, r: Reply<'_>) {
    let mut out = board.out();
    let _ = write!(out, "{r}\r\n");
}

fn report_error(board: &mut impl Board, e: CommandError<'_>) {
    let mut out = board.out();
    let _ = write!(out, "e-[{e}]\r\n");
}
