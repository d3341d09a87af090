//! The application: routes UART bytes to the text or binary protocol and answers.

use core::fmt::Write;

use harbor_core::protocol::frame::{MAX_FRAME, MAX_PAYLOAD};
use harbor_core::protocol::text::{self, Command, CommandError, Line, LineAssembler, Reply};
use harbor_core::protocol::{
    ErrorCause, FrameDecoder, InferResult, Info, MessageType, Pushed, Request, Response,
};

use crate::board::Board;
use crate::infer::{CLASSES, checksum_op};
use crate::model_slot::ModelSlot;

pub const NAME: &str = "band-qemu";
pub const VERSION: [u8; 3] = [0, 1, 0];
/// Vendor string of `m-name-dut-[…]`.
const VENDOR: &str = "harbor band-qemu";
/// Bytes `db load` accepts: a 128-sample 6-axis int8 window is 768.
const DB_CAPACITY: usize = 4096;
/// Tensor arena the interpreter will run in (reserved now so the RAM figure is honest).
pub const ARENA_SIZE: usize = 128 * 1024;
/// Commands the deliberately broken variants answer before failing.
#[cfg(any(feature = "fault-hang", feature = "fault-crash"))]
const FAULT_AFTER_COMMANDS: u32 = 3;

static mut ARENA: [u8; ARENA_SIZE] = [0; ARENA_SIZE];

pub struct App {
    frames: FrameDecoder,
    line: LineAssembler,
    db: [u8; DB_CAPACITY],
    /// `db load N`: bytes expected and received.
    db_expected: usize,
    db_received: usize,
    model: ModelSlot,
    last_logits: [i8; CLASSES],
    samples_received: u32,
    commands: u32,
    tx: [u8; MAX_FRAME],
}

impl App {
    pub fn new(model: ModelSlot) -> Self {
        // Keep the arena in the image so the RAM budget counts it; the interpreter takes it.
        core::hint::black_box(&raw mut ARENA);
        Self {
            frames: FrameDecoder::new(),
            line: LineAssembler::new(),
            db: [0; DB_CAPACITY],
            db_expected: 0,
            db_received: 0,
            model,
            last_logits: [0; CLASSES],
            samples_received: 0,
            commands: 0,
            tx: [0; MAX_FRAME],
        }
    }

    /// The MLPerf start-up banner.
    pub fn boot(&mut self, board: &mut impl Board) {
        reply(board, Reply::InitDone);
        reply(board, Reply::Ready);
    }

    pub fn on_byte(&mut self, board: &mut impl Board, byte: u8) {
        match self.frames.push(byte) {
            Pushed::Text(b) => self.on_text_byte(board, b),
            Pushed::Pending => {}
            Pushed::FrameReady => self.drain_frames(board),
        }
    }

    fn on_text_byte(&mut self, board: &mut impl Board, byte: u8) {
        let mut line = [0u8; text::MAX_COMMAND_LEN];
        let parsed = match self.line.push(byte) {
            None => return,
            Some(Line::TooLong) => Err(CommandError::TooLong),
            Some(Line::Command(cmd)) => {
                // Copy out so the assembler is free while the command runs.
                let n = cmd.len();
                line[..n].copy_from_slice(cmd.as_bytes());
                Ok(n)
            }
        };
        self.count_command();
        match parsed {
            Ok(n) => {
                let cmd = core::str::from_utf8(&line[..n]).unwrap_or("");
                match Command::parse(cmd) {
                    Ok(command) => self.run_text(board, command),
                    Err(e) => report_error(board, e),
                }
            }
            Err(e) => report_error(board, e),
        }
        reply(board, Reply::Ready);
    }

    fn run_text(&mut self, board: &mut impl Board, command: Command<'_>) {
        match command {
            Command::Name => reply(board, Reply::Name(VENDOR)),
            Command::Profile => {
                reply(board, Reply::Profile("harbor band-qemu 0.1.0"));
                reply(board, Reply::Model("har-checksum-placeholder"));
            }
            Command::Help => {
                let _ = board.out().write_str(
                    "harbor band-qemu: name, profile, timestamp, db load N, db HH.., db print [N] [off], infer N [W], results\r\n",
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
        let input = &self.db[..self.db_received];
        reply(board, Reply::WarmupStart(warmup));
        for _ in 0..warmup {
            checksum_op(input, &mut self.last_logits);
        }
        reply(board, Reply::WarmupDone);
        reply(board, Reply::InferStart(iterations));
        reply(board, Reply::LapUs(board.micros()));
        for _ in 0..iterations {
            checksum_op(input, &mut self.last_logits);
        }
        reply(board, Reply::LapUs(board.micros()));
        reply(board, Reply::InferDone);
        self.print_results(board);
    }

    fn print_results(&mut self, board: &mut impl Board) {
        let mut out = board.out();
        let _ = text::write_results(&mut out, &self.last_logits);
        let _ = out.write_str("\r\n");
    }

    fn drain_frames(&mut self, board: &mut impl Board) {
        // Copy each frame out: answering needs the decoder free (and the borrow ended).
        let mut rx = [0u8; MAX_PAYLOAD];
        loop {
            let (ty, n) = match self.frames.take_frame() {
                Some(f) => {
                    rx[..f.payload.len()].copy_from_slice(f.payload);
                    (f.ty, f.payload.len())
                }
                None => return,
            };
            self.count_command();
            let frame = harbor_core::protocol::FrameRef {
                ty,
                payload: &rx[..n],
            };
            match Request::decode(frame) {
                Ok(request) => self.run_request(board, request),
                Err(harbor_core::protocol::message::DecodeError::WrongDirection(_)) => {
                    self.send(board, &error(ty, ErrorCause::UnknownMessage, ty as u32));
                }
                Err(_) => self.send(board, &error(ty, ErrorCause::Malformed, n as u32)),
            }
        }
    }

    fn run_request(&mut self, board: &mut impl Board, request: Request<'_>) {
        let ty = request.message_type();
        let response = match request {
            Request::Hello => {
                let stack = board.stack();
                Response::Info(Info {
                    name: NAME,
                    version: VERSION,
                    stack_size: stack.size,
                    arena_size: ARENA_SIZE as u32,
                    model_slot_size: self.model.capacity(),
                    max_payload: MAX_PAYLOAD as u16,
                })
            }
            Request::LoadModelChunk { offset, data } => {
                match self.model.write_chunk(offset, data) {
                    Ok(held) => Response::Ack {
                        for_type: ty as u8,
                        value: held,
                    },
                    Err((cause, detail)) => error(ty, cause, detail),
                }
            }
            Request::LoadModelFinish { total_len, crc32c } => {
                match self.model.finish(total_len, crc32c) {
                    Ok(crc) => Response::Ack {
                        for_type: ty as u8,
                        value: crc,
                    },
                    Err((cause, detail)) => error(ty, cause, detail),
                }
            }
            Request::TensorInfer { input } => {
                let before = board.instructions();
                let predicted = checksum_op(input, &mut self.last_logits);
                let instructions = board.instructions() - before;
                return self.send_inference(board, predicted, instructions);
            }
            Request::StreamSamples { samples, .. } => {
                // The windowing/inference hook lands with the interpreter; count for now.
                let n = (samples.len() / harbor_core::protocol::message::SAMPLE_BYTES) as u32;
                self.samples_received = self.samples_received.wrapping_add(n);
                Response::Ack {
                    for_type: ty as u8,
                    value: self.samples_received,
                }
            }
        };
        self.send(board, &response);
    }

    fn send_inference(&mut self, board: &mut impl Board, predicted: u8, instructions: u64) {
        let logits = self.last_logits.map(|l| l as u8);
        let result = InferResult {
            instructions,
            stack_high_water: board.stack().high_water,
            arena_used: 0, // the checksum placeholder uses no arena
            predicted,
            logits: &logits,
        };
        self.send(board, &Response::InferResult(result));
    }

    fn send(&mut self, board: &mut impl Board, response: &Response<'_>) {
        // Every response fits MAX_FRAME by construction; a failure here is a firmware bug.
        match response.encode(&mut self.tx) {
            Ok(n) => board.write_bytes(&self.tx[..n]),
            Err(_) => report_error(board, CommandError::Unknown("response encoding")),
        }
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
