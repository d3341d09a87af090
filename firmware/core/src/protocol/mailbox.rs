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
//! Layout, from [`ADDR`]: window `i` at `i × input_len`, result record `i` at
//! [`RESULTS_OFFSET`]` + i × `[`RESULT_STRIDE`].

use super::frame::{CRC_LEN, EncodeError, HEADER_LEN, SYNC};
use super::message::{InferResult, MessageType, Response};
use super::{FrameRef, crc::crc32c};

/// Guest physical address of the mailbox: 8 MiB into QEMU `virt`'s RAM, outside the band's
/// linked flash (4 MiB) and RAM (400 KiB) budget, so it never counts as the band's memory.
pub const ADDR: u32 = 0x8080_0000;
/// Bytes for input windows.
pub const INPUTS_LEN: usize = 512 * 1024;
/// Offset of the first result record.
pub const RESULTS_OFFSET: usize = INPUTS_LEN;
/// Bytes per result record: an InferResult frame with 64 logits and `elapsed_us` is 94.
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

/// Reads the InferResult frame of a result record; `None` if it is not a whole, intact
/// InferResult frame (a record the band never wrote, or a torn one).
pub fn read_result(record: &[u8]) -> Option<InferResult<'_>> {
    let header = record.get(..HEADER_LEN)?;
    if header[0] != SYNC || header[1] != MessageType::InferResult as u8 {
        return None;
    }
    let len = usize::from(u16::from_le_bytes([header[2], header[3]]));
    let end = HEADER_LEN + len;
    let crc = record.get(end..end + CRC_LEN)?;
    if crc32c(&record[1..end]).to_le_bytes() != crc {
        return None;
    }
    let frame = FrameRef {
        ty: MessageType::InferResult,
        payload: &record[HEADER_LEN..end],
    };
    match Response::decode(frame) {
        Ok(Response::InferResult(result)) => Some(result),
        _ => None,
    }
}

/// Rewrites the `stack_high_water` of an intact result record (a batch measures the stack
/// once, after its last window: the scan of the painted stack costs more than an inference
/// under QEMU). `None` if the record is not an intact InferResult frame.
pub fn restamp_stack(record: &mut [u8], stack_high_water: u32) -> Option<()> {
    let result = read_result(record)?;
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
    write_result(record, &restamped).ok().map(|_| ())
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
