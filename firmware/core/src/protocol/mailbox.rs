//! The shared-RAM mailbox of an emulated band: batched inference without the UART.
//!
//! Under QEMU every received UART byte costs the emulator a register read, a wake-up of its
//! I/O thread and a lock hand-over (~7 µs of host CPU per byte; docs/performance.md), so a
//! 360-byte window costs more to deliver than to infer. An emulator host that shares the
//! guest's RAM writes up to [`max_windows`] input windows at [`ADDR`] and sends one
//! [`Request::MailboxInfer`](super::Request::MailboxInfer); the band runs them in order,
//! writes each result as a whole InferResult frame (CRC included) into its record, and
//! answers Ack. A real board has no such RAM and never announces the mailbox
//! ([`Info::mailbox`](super::Info::mailbox)): the host then sends TensorInfer per window.
//!
//! Stream mode uses the same mailbox: the host writes up to [`max_stream_samples`] raw IMU
//! samples (StreamSamples' 12-byte layout) from [`ADDR`] and sends one
//! [`Request::MailboxStream`](super::Request::MailboxStream); the band streams them as if
//! they had come in StreamSamples frames and writes each completed window's StreamWindow
//! frame into the next result record.
//!
//! Layout, from [`ADDR`]: window `i` at `i × input_len` (or sample `i` at `i × 12`), result
//! record `i` at [`RESULTS_OFFSET`]` + i × `[`RESULT_STRIDE`].

use super::frame::{CRC_LEN, EncodeError, HEADER_LEN, SYNC};
use super::message::{InferResult, MessageType, Response, SAMPLE_BYTES};
use super::{FrameRef, crc::crc32c};

/// Guest physical address of the mailbox: 8 MiB into QEMU `virt`'s RAM, outside the band's
/// linked flash (4 MiB) and RAM (400 KiB) budget, so it never counts as the band's memory.
pub const ADDR: u32 = 0x8080_0000;
/// Bytes for input windows.
pub const INPUTS_LEN: usize = 512 * 1024;
/// Offset of the first result record.
pub const RESULTS_OFFSET: usize = INPUTS_LEN;
/// Bytes per result record: a StreamWindow frame with 64 logits and `elapsed_us` is 98.
pub const RESULT_STRIDE: usize = 128;
/// Most windows one request runs.
pub const MAX_WINDOWS: usize = 1024;
/// Bytes of the whole mailbox.
pub const LEN: usize = RESULTS_OFFSET + MAX_WINDOWS * RESULT_STRIDE;

/// Most windows of `input_len` bytes one request can carry (0 for an empty input).
pub const fn max_windows(input_len: usize) -> usize {
    if input_len == 0 {
        return 0;
    }
    let fit = INPUTS_LEN / input_len;
    if fit < MAX_WINDOWS { fit } else { MAX_WINDOWS }
}

/// Most IMU samples one MailboxStream request can carry for a stream of ratio `up/down`
/// and `hop`: they must fit [`INPUTS_LEN`], and the windows they can complete must fit the
/// result records. `n` samples give at most `ceil(n·up/down)` model-rate samples, and those
/// complete at most one window per `hop`, so `⌊MAX_WINDOWS·hop·down/up⌋` samples never
/// complete more than [`MAX_WINDOWS`]. 0 for a zero `up` or `hop`.
pub const fn max_stream_samples(up: u16, down: u16, hop: u16) -> u32 {
    if up == 0 || hop == 0 {
        return 0;
    }
    let by_windows = MAX_WINDOWS as u64 * hop as u64 * down as u64 / up as u64;
    let by_bytes = (INPUTS_LEN / SAMPLE_BYTES) as u64;
    (if by_windows < by_bytes {
        by_windows
    } else {
        by_bytes
    }) as u32
}

/// Offset of window `index`'s first byte.
pub const fn input_offset(index: usize, input_len: usize) -> usize {
    index * input_len
}

/// Offset of result record `index`.
pub const fn result_offset(index: usize) -> usize {
    RESULTS_OFFSET + index * RESULT_STRIDE
}

/// Writes `result` as an InferResult frame into `record` (at least [`RESULT_STRIDE`] bytes).
pub fn write_result(record: &mut [u8], result: &InferResult<'_>) -> Result<usize, EncodeError> {
    Response::InferResult(*result).encode(record)
}

/// Writes stream window `index`'s result as a StreamWindow frame into `record`.
pub fn write_window(
    record: &mut [u8],
    index: u32,
    result: &InferResult<'_>,
) -> Result<usize, EncodeError> {
    Response::StreamWindow {
        index,
        result: *result,
    }
    .encode(record)
}

/// Reads the InferResult frame of a result record; `None` if it is not a whole, intact
/// InferResult frame (a record the band never wrote, or a torn one).
pub fn read_result(record: &[u8]) -> Option<InferResult<'_>> {
    match read_response(record)? {
        Response::InferResult(result) => Some(result),
        _ => None,
    }
}

/// Reads the StreamWindow frame of a result record (window index and result); `None` if it
/// is not a whole, intact StreamWindow frame.
pub fn read_window(record: &[u8]) -> Option<(u32, InferResult<'_>)> {
    match read_response(record)? {
        Response::StreamWindow { index, result } => Some((index, result)),
        _ => None,
    }
}

/// An intact InferResult or StreamWindow frame at the start of `record`.
fn read_response(record: &[u8]) -> Option<Response<'_>> {
    let header = record.get(..HEADER_LEN)?;
    let ty = MessageType::from_u8(header[1])?;
    if header[0] != SYNC || !matches!(ty, MessageType::InferResult | MessageType::StreamWindow) {
        return None;
    }
    let len = usize::from(u16::from_le_bytes([header[2], header[3]]));
    let end = HEADER_LEN + len;
    let crc = record.get(end..end + CRC_LEN)?;
    if crc32c(&record[1..end]).to_le_bytes() != crc {
        return None;
    }
    let frame = FrameRef {
        ty,
        payload: &record[HEADER_LEN..end],
    };
    Response::decode(frame).ok()
}

/// Rewrites the `stack_high_water` of an intact result record, InferResult or StreamWindow
/// (a batch measures the stack once, after its last window: the scan of the painted stack
/// costs more than an inference under QEMU). `None` if the record is neither.
pub fn restamp_stack(record: &mut [u8], stack_high_water: u32) -> Option<()> {
    let (window, result) = match read_response(record)? {
        Response::InferResult(result) => (None, result),
        Response::StreamWindow { index, result } => (Some(index), result),
        _ => return None,
    };
    let (instructions, arena_used, predicted, elapsed_us) = (
        result.instructions,
        result.arena_used,
        result.predicted,
        result.elapsed_us,
    );
    let mut logits = [0u8; RESULT_STRIDE];
    let n = result.logits.len();
    logits.get_mut(..n)?.copy_from_slice(result.logits);
    let restamped = InferResult {
        instructions,
        stack_high_water,
        arena_used,
        predicted,
        logits: &logits[..n],
        elapsed_us,
    };
    match window {
        Some(index) => write_window(record, index, &restamped),
        None => write_result(record, &restamped),
    }
    .ok()
    .map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_result_record_round_trips_and_a_damaged_one_is_refused() {
        let logits = [3u8, 0xFD, 0x80, 0x7F, 0];
        let result = InferResult {
            instructions: 455_526,
            stack_high_water: 7_476,
            arena_used: 2_304,
            predicted: 3,
            logits: &logits,
            elapsed_us: None,
        };
        let mut record = [0u8; RESULT_STRIDE];
        let n = write_result(&mut record, &result).unwrap();
        assert_eq!(n, HEADER_LEN + 18 + logits.len() + CRC_LEN);
        assert_eq!(read_result(&record), Some(result));
        for i in 0..n {
            let mut damaged = record;
            damaged[i] ^= 0x10;
            assert_eq!(read_result(&damaged), None, "byte {i} flipped");
        }
        assert_eq!(read_result(&[0u8; RESULT_STRIDE]), None);
    }

    #[test]
    fn a_restamped_record_changes_its_stack_mark_only() {
        let logits = [9u8, 0x80, 0x7F];
        let result = InferResult {
            instructions: 455_424,
            stack_high_water: 0,
            arena_used: 2_304,
            predicted: 2,
            logits: &logits,
            elapsed_us: Some(17),
        };
        let mut record = [0u8; RESULT_STRIDE];
        write_result(&mut record, &result).unwrap();
        assert_eq!(restamp_stack(&mut record, 6_868), Some(()));
        let expected = InferResult {
            stack_high_water: 6_868,
            ..result
        };
        assert_eq!(read_result(&record), Some(expected));
        assert_eq!(restamp_stack(&mut [0u8; RESULT_STRIDE], 1), None);
    }

    #[test]
    fn a_window_record_round_trips_restamps_and_is_not_a_result() {
        let logits = [1u8, 0x81, 0x7E];
        let result = InferResult {
            instructions: 455_424,
            stack_high_water: 0,
            arena_used: 2_304,
            predicted: 2,
            logits: &logits,
            elapsed_us: None,
        };
        let mut record = [0u8; RESULT_STRIDE];
        let n = write_window(&mut record, 70_000, &result).unwrap();
        assert_eq!(read_window(&record), Some((70_000, result)));
        assert_eq!(
            read_result(&record),
            None,
            "a StreamWindow is not an InferResult"
        );
        assert_eq!(restamp_stack(&mut record, 6_900), Some(()));
        let expected = InferResult {
            stack_high_water: 6_900,
            ..result
        };
        assert_eq!(read_window(&record), Some((70_000, expected)));
        for i in 0..n {
            let mut damaged = record;
            damaged[i] ^= 0x04;
            assert_eq!(read_window(&damaged), None, "byte {i} flipped");
        }
        let mut other = [0u8; RESULT_STRIDE];
        write_result(&mut other, &result).unwrap();
        assert_eq!(
            read_window(&other),
            None,
            "an InferResult is not a StreamWindow"
        );
    }

    #[test]
    fn stream_requests_fit_the_inputs_and_the_records() {
        // 25 → 20 Hz, hop 30: 1,024 windows' worth of samples.
        assert_eq!(max_stream_samples(4, 5, 30), 38_400);
        // A long hop is bounded by the bytes.
        assert_eq!(
            max_stream_samples(1, 1, 60),
            (INPUTS_LEN / SAMPLE_BYTES) as u32
        );
        assert_eq!(max_stream_samples(1, 1, 1), MAX_WINDOWS as u32);
        assert_eq!(max_stream_samples(0, 5, 30), 0);
        assert_eq!(max_stream_samples(4, 5, 0), 0);
        // The bound holds: ceil(ceil(n·up/down) / hop) ≤ MAX_WINDOWS.
        for (up, down, hop) in [
            (4u16, 5u16, 30u16),
            (1, 1, 1),
            (4, 5, 1),
            (1, 1, 7),
            (4, 5, 13),
        ] {
            let n = u64::from(max_stream_samples(up, down, hop));
            let model = (n * u64::from(up)).div_ceil(u64::from(down));
            assert!(
                model.div_ceil(u64::from(hop)) <= MAX_WINDOWS as u64,
                "{up}/{down} hop {hop}"
            );
        }
    }

    #[test]
    fn the_longest_result_fits_a_record() {
        let logits = [0u8; 64];
        let result = InferResult {
            instructions: u64::MAX,
            stack_high_water: u32::MAX,
            arena_used: u32::MAX,
            predicted: 63,
            logits: &logits,
            elapsed_us: Some(u32::MAX),
        };
        let mut record = [0u8; RESULT_STRIDE];
        assert!(write_result(&mut record, &result).unwrap() <= RESULT_STRIDE);
        assert_eq!(read_result(&record), Some(result));
        assert!(write_window(&mut record, u32::MAX, &result).unwrap() <= RESULT_STRIDE);
        assert_eq!(read_window(&record), Some((u32::MAX, result)));
    }

    #[test]
    fn windows_per_request_follow_the_input_length() {
        assert_eq!(max_windows(0), 0);
        assert_eq!(max_windows(360), 1_456.min(MAX_WINDOWS));
        assert_eq!(max_windows(1024), 512);
        assert_eq!(input_offset(3, 360), 1_080);
        assert_eq!(result_offset(2), RESULTS_OFFSET + 256);
        assert!(result_offset(MAX_WINDOWS) <= LEN);
    }
}
