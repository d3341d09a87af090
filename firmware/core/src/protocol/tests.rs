//! Protocol tests: golden bytes from the documented layout, round trips, resynchronisation.

extern crate std;

use std::vec::Vec;

use proptest::prelude::*;

use super::frame::{EncodeError, FrameDecoder, MAX_FRAME, MAX_PAYLOAD, Pushed, SYNC};
use super::message::{DecodeError, ErrorCause, InferResult, Info, MessageType, Request, Response};
use super::text::{
    Command, CommandError, Line, LineAssembler, Reply, decode_hex_into, write_buffer_lines,
};

fn encode_request(r: &Request<'_>) -> Vec<u8> {
    let mut out = [0u8; MAX_FRAME];
    let n = r.encode(&mut out).expect("encodes");
    out[..n].to_vec()
}

/// Feeds `bytes` one at a time; returns the frames (type, payload) and the text bytes.
fn feed(dec: &mut FrameDecoder, bytes: &[u8]) -> (Vec<(MessageType, Vec<u8>)>, Vec<u8>) {
    let mut frames = Vec::new();
    let mut text = Vec::new();
    for &b in bytes {
        match dec.push(b) {
            Pushed::Text(t) => text.push(t),
            Pushed::Pending => {}
            Pushed::FrameReady => {
                while let Some(f) = dec.take_frame() {
                    frames.push((f.ty, f.payload.to_vec()));
                }
            }
        }
    }
    (frames, text)
}

/// Tells the decoder the line went idle until it holds nothing, collecting what it finds.
fn drain_idle(dec: &mut FrameDecoder, frames: &mut Vec<(MessageType, Vec<u8>)>) {
    while dec.pending_len() > 0 {
        if dec.line_idle() {
            while let Some(f) = dec.take_frame() {
                frames.push((f.ty, f.payload.to_vec()));
            }
        }
    }
}

#[test]
fn hello_frame_has_the_documented_bytes() {
    // docs/protocol.md: A5, type 0x01, length 0 LE, CRC-32C of [01 00 00] LE. The CRC was
    // computed with an independent bitwise CRC-32C (poly 0x82F63B78 reflected) in Python.
    assert_eq!(
        encode_request(&Request::Hello),
        [0xA5, 0x01, 0x00, 0x00, 0x04, 0x31, 0x25, 0xC5]
    );
}

#[test]
fn ack_frame_has_the_documented_bytes() {
    let mut out = [0u8; 32];
    let n = Response::Ack {
        for_type: 0x02,
        value: 16,
    }
    .encode(&mut out)
    .unwrap();
    // Payload: for_type 02, value 16 as u32 LE; CRC over 82 05 00 02 10 00 00 00 (Python).
    assert_eq!(
        &out[..n],
        [
            0xA5, 0x82, 0x05, 0x00, 0x02, 0x10, 0, 0, 0, 0xDC, 0x59, 0xF4, 0x7E
        ]
    );
}

#[test]
fn every_request_round_trips() {
    let samples: Vec<u8> = (0..24u8).collect();
    let requests = [
        Request::Hello,
        Request::LoadModelChunk {
            offset: 4096,
            data: &[1, 2, 3],
        },
        Request::LoadModelFinish {
            total_len: 7,
            crc32c: 0xDEAD_BEEF,
        },
        Request::TensorInfer {
            input: &[0x80, 0x7F, 0],
        },
        Request::StreamSamples {
            first_index: 9,
            samples: &samples,
        },
        Request::ConfigureInput(sample_input_quant()),
        Request::ConfigureStream {
            up: 4,
            down: 5,
            window_len: 60,
            hop: 30,
        },
    ];
    for r in requests {
        let bytes = encode_request(&r);
        let mut dec = FrameDecoder::new();
        let mut seen = 0;
        for &b in &bytes {
            if dec.push(b) == Pushed::FrameReady {
                let f = dec.take_frame().unwrap();
                assert_eq!(Request::decode(f), Ok(r));
                seen += 1;
            }
        }
        assert_eq!(seen, 1, "{r:?}");
    }
}

#[test]
fn every_response_round_trips() {
    let responses = [
        Response::Info(Info {
            name: "band-qemu",
            version: [0, 1, 0],
            stack_size: 32768,
            arena_size: 131072,
            model_slot_size: 262144,
            max_payload: 1024,
            mailbox: false,
            mailbox_stream: false,
        }),
        Response::Info(Info {
            name: "band-qemu",
            version: [0, 1, 0],
            stack_size: 32768,
            arena_size: 131072,
            model_slot_size: 262144,
            max_payload: 1024,
            mailbox: true,
            mailbox_stream: true,
        }),
        Response::Ack {
            for_type: 5,
            value: 3,
        },
        Response::Error {
            for_type: 3,
            cause: ErrorCause::ModelCrcMismatch,
            detail: 0x1234_5678,
        },
        Response::InferResult(InferResult {
            instructions: 0x1_0000_0002,
            stack_high_water: 1200,
            arena_used: 0,
            predicted: 2,
            logits: &[0xFF, 3, 0x7F],
            elapsed_us: None,
        }),
        Response::InferResult(InferResult {
            instructions: 5,
            stack_high_water: 6,
            arena_used: 7,
            predicted: 0,
            logits: &[1, 2],
            elapsed_us: Some(0x0A0B_0C0D),
        }),
        Response::StreamWindow {
            index: 0x0102_0304,
            result: InferResult {
                instructions: 7,
                stack_high_water: 8,
                arena_used: 9,
                predicted: 1,
                logits: &[0x80, 0x7F],
                elapsed_us: None,
            },
        },
        Response::StreamWindow {
            index: 3,
            result: InferResult {
                instructions: 7,
                stack_high_water: 8,
                arena_used: 9,
                predicted: 1,
                logits: &[0x80, 0x7F],
                elapsed_us: Some(1234),
            },
        },
    ];
    for r in responses {
        let mut out = [0u8; MAX_FRAME];
        let n = r.encode(&mut out).unwrap();
        let mut dec = FrameDecoder::new();
        let (frames, text) = feed(&mut dec, &out[..n]);
        assert!(text.is_empty());
        assert_eq!(frames.len(), 1);
        let frame = super::frame::FrameRef {
            ty: frames[0].0,
            payload: &frames[0].1,
        };
        assert_eq!(Response::decode(frame), Ok(r));
    }
}

fn infer_payload(result: InferResult<'_>) -> Vec<u8> {
    let mut out = [0u8; MAX_FRAME];
    let n = Response::InferResult(result).encode(&mut out).unwrap();
    let mut dec = FrameDecoder::new();
    let (frames, _) = feed(&mut dec, &out[..n]);
    frames[0].1.clone()
}

#[test]
fn measured_time_is_a_trailing_u32_only_when_present() {
    let result = InferResult {
        instructions: 1,
        stack_high_water: 2,
        arena_used: 3,
        predicted: 1,
        logits: &[0xAA, 0xBB],
        elapsed_us: None,
    };
    let without = infer_payload(result);
    assert_eq!(
        without.len(),
        18 + 2,
        "an emulator's reply keeps the old layout"
    );
    let with = infer_payload(InferResult {
        elapsed_us: Some(0x1122_3344),
        ..result
    });
    assert_eq!(with.len(), 18 + 2 + 4);
    assert_eq!(&with[..20], &without[..]);
    assert_eq!(&with[20..], &[0x44, 0x33, 0x22, 0x11]);
}

#[test]
fn an_infer_result_trailer_that_is_not_a_u32_is_malformed() {
    let mut payload = infer_payload(InferResult {
        instructions: 1,
        stack_high_water: 2,
        arena_used: 3,
        predicted: 0,
        logits: &[9],
        elapsed_us: Some(5),
    });
    payload.pop();
    let frame = super::frame::FrameRef {
        ty: MessageType::InferResult,
        payload: &payload,
    };
    assert!(matches!(
        Response::decode(frame),
        Err(DecodeError::Malformed {
            ty: MessageType::InferResult,
            ..
        })
    ));
}

#[test]
fn requests_and_responses_are_not_confused() {
    let bytes = encode_request(&Request::Hello);
    let mut dec = FrameDecoder::new();
    let (frames, _) = feed(&mut dec, &bytes);
    let f = super::frame::FrameRef {
        ty: frames[0].0,
        payload: &frames[0].1,
    };
    assert!(Response::decode(f).is_err());
}

#[test]
fn oversize_and_empty_payloads_are_refused() {
    let big = [0u8; MAX_PAYLOAD + 1];
    let mut out = [0u8; MAX_FRAME + 16];
    assert!(matches!(
        Request::TensorInfer { input: &big }.encode(&mut out),
        Err(EncodeError::PayloadTooLong { .. })
    ));
    assert_eq!(
        Request::TensorInfer { input: &[] }.encode(&mut out),
        Err(EncodeError::LengthNotAllowed { len: 0 })
    );
    let mut small = [0u8; 10];
    assert!(matches!(
        Request::TensorInfer { input: &[1; 8] }.encode(&mut small),
        Err(EncodeError::BufferTooSmall { .. })
    ));
}

#[test]
fn text_passes_through_and_survives_a_stray_sync_byte() {
    let mut dec = FrameDecoder::new();
    let (frames, text) = feed(&mut dec, b"name%\xA5db load 4%");
    assert!(frames.is_empty());
    assert_eq!(text, b"name%db load 4%");
    assert_eq!(dec.discarded_bytes(), 1);
}

#[test]
fn a_frame_that_lost_a_byte_does_not_hide_the_next_one() {
    let first = encode_request(&Request::LoadModelChunk {
        offset: 0,
        data: &[9; 40],
    });
    let second = encode_request(&Request::LoadModelFinish {
        total_len: 40,
        crc32c: 1,
    });
    let mut stream = first.clone();
    stream.remove(20); // a byte dropped on the line
    stream.extend_from_slice(&second);
    let mut dec = FrameDecoder::new();
    let (mut frames, _) = feed(&mut dec, &stream);
    drain_idle(&mut dec, &mut frames);
    assert_eq!(
        frames,
        [(
            MessageType::LoadModelFinish,
            second[4..second.len() - 4].to_vec()
        )]
    );
}

#[test]
fn a_corrupted_crc_is_rejected() {
    let mut bytes = encode_request(&Request::TensorInfer { input: &[1, 2, 3] });
    let last = bytes.len() - 1;
    bytes[last] ^= 0x01;
    let mut dec = FrameDecoder::new();
    let (mut frames, _) = feed(&mut dec, &bytes);
    drain_idle(&mut dec, &mut frames);
    assert!(frames.is_empty());
    assert_eq!(dec.discarded_bytes(), bytes.len() as u64);
}

#[derive(Clone, Debug)]
enum Segment {
    Garbage(Vec<u8>),
    Frame(Vec<u8>, u32),
}

fn segment() -> impl Strategy<Value = Segment> {
    prop_oneof![
        // Garbage rich in sync bytes and plausible type bytes, the worst case for resync.
        proptest::collection::vec(
            prop_oneof![Just(SYNC), Just(0x04u8), Just(0x02u8), any::<u8>()],
            0..64
        )
        .prop_map(Segment::Garbage),
        (proptest::collection::vec(any::<u8>(), 1..200), any::<u32>())
            .prop_map(|(d, o)| Segment::Frame(d, o)),
    ]
}

proptest! {
    #[test]
    fn every_valid_frame_survives_interleaved_garbage(segments in proptest::collection::vec(segment(), 1..12)) {
        let mut stream = Vec::new();
        let mut expected = Vec::new();
        for s in &segments {
            match s {
                Segment::Garbage(g) => stream.extend_from_slice(g),
                Segment::Frame(data, offset) => {
                    let bytes = encode_request(&Request::LoadModelChunk { offset: *offset, data });
                    expected.push((MessageType::LoadModelChunk, bytes[4..bytes.len() - 4].to_vec()));
                    stream.extend_from_slice(&bytes);
                }
            }
        }
        let mut dec = FrameDecoder::new();
        let (mut frames, _) = feed(&mut dec, &stream);
        drain_idle(&mut dec, &mut frames);
        prop_assert_eq!(frames, expected);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let mut dec = FrameDecoder::new();
        let (mut frames, _) = feed(&mut dec, &bytes);
        drain_idle(&mut dec, &mut frames);
        for (ty, payload) in frames {
            let f = super::frame::FrameRef { ty, payload: &payload };
            let _ = Request::decode(f);
            let _ = Response::decode(f);
        }
    }
}

fn lines(input: &[u8]) -> Vec<std::string::String> {
    let mut asm = LineAssembler::new();
    let mut out = Vec::new();
    for &b in input {
        if let Some(line) = asm.push(b) {
            out.push(match line {
                Line::Command(c) => c.into(),
                Line::TooLong => "<too long>".into(),
            });
        }
    }
    out
}

#[test]
fn lines_split_on_the_terminator_and_ignore_newlines() {
    assert_eq!(lines(b"name%\r\ndb load 8%"), ["name", "db load 8"]);
    let long = [b'a'; 81];
    let mut input = long.to_vec();
    input.extend_from_slice(b"%name%");
    assert_eq!(lines(&input), ["<too long>", "name"]);
}

#[test]
fn commands_parse_like_the_reference_firmware() {
    assert_eq!(Command::parse("name"), Ok(Command::Name));
    assert_eq!(Command::parse("db load 16"), Ok(Command::DbLoad(16)));
    assert_eq!(Command::parse("db 0aFF"), Ok(Command::DbHex("0aFF")));
    assert_eq!(
        Command::parse("db print"),
        Ok(Command::DbPrint {
            len: None,
            offset: 0
        })
    );
    assert_eq!(
        Command::parse("db print 4 2"),
        Ok(Command::DbPrint {
            len: Some(4),
            offset: 2
        })
    );
    // The reference defaults: 1 inference, 10 warm-ups.
    assert_eq!(
        Command::parse("infer"),
        Ok(Command::Infer {
            iterations: 1,
            warmup: 10
        })
    );
    assert_eq!(
        Command::parse("infer 5 0"),
        Ok(Command::Infer {
            iterations: 5,
            warmup: 0
        })
    );
    assert_eq!(Command::parse("results"), Ok(Command::Results));
    assert_eq!(
        Command::parse("infer 0"),
        Err(CommandError::InferIterationsNotPositive)
    );
    assert_eq!(Command::parse("db load 0"), Err(CommandError::DbLoadZero));
    assert_eq!(Command::parse("db"), Err(CommandError::DbNeedsSubcommand));
    assert_eq!(Command::parse("fly"), Err(CommandError::Unknown("fly")));
}

#[test]
fn error_texts_match_the_reference_strings() {
    // Strings from mlcommons/tiny benchmark/api/internally_implemented.cpp, typo included.
    assert_eq!(
        std::format!("{}", CommandError::OddHexDigits),
        "Insufficent number of hex digits"
    );
    assert_eq!(
        std::format!("{}", CommandError::Unknown("fly")),
        "Unknown command: fly"
    );
    assert_eq!(std::format!("{}", Reply::Error("x")), "e-[x]");
    assert_eq!(
        std::format!("{}", Reply::Expecting(16)),
        "m-[Expecting 16 bytes]"
    );
    assert_eq!(
        std::format!("{}", Reply::Name("harbor")),
        "m-name-dut-[harbor]"
    );
}

#[test]
fn hex_decodes_and_stops_when_the_buffer_is_full() {
    let mut out = [0u8; 3];
    assert_eq!(decode_hex_into("00ff7A", &mut out), Ok(3));
    assert_eq!(out, [0x00, 0xFF, 0x7A]);
    assert_eq!(decode_hex_into("0102030405", &mut out), Ok(3));
    assert_eq!(
        decode_hex_into("abc", &mut out),
        Err(CommandError::OddHexDigits)
    );
    assert_eq!(
        decode_hex_into("zz", &mut out),
        Err(CommandError::InvalidHexDigit(b'z', b'z'))
    );
}

#[test]
fn replies_parse_back() {
    for line in [
        "m-ready",
        "m-name-dut-[harbor]",
        "m-lap-us-1234",
        "m-results-[1,-2,3]",
        "e-[Unknown command: x]",
        "m-[Expecting 16 bytes]",
        "m-buffer-00-ff",
        "m-infer-start-5",
        "m-warmup-start-0",
    ] {
        let reply = Reply::parse(line).unwrap_or_else(|| panic!("{line}"));
        assert_eq!(std::format!("{reply}"), line);
    }
    assert_eq!(Reply::parse("m-lap-us-12"), Some(Reply::LapUs(12)));
    assert_eq!(Reply::parse("hello"), None);
}

#[test]
fn buffer_lines_hold_eight_bytes() {
    let mut s = std::string::String::new();
    write_buffer_lines(&mut s, &[0, 1, 2, 3, 4, 5, 6, 7, 0xab]).unwrap();
    assert_eq!(s, "m-buffer-00-01-02-03-04-05-06-07\r\nm-buffer-ab\r\n");
}

#[test]
fn resync_fill_completes_a_false_candidate_and_frees_the_frame_it_swallowed() {
    use super::frame::{RESYNC_FILL, RESYNC_FILL_LEN};
    // A stray sync with a plausible header swallows the next real frame...
    let mut stream = std::vec![SYNC, 0x02, 0x10, 0x00];
    let hello = encode_request(&Request::Hello);
    stream.extend_from_slice(&hello);
    let mut dec = FrameDecoder::new();
    let (frames, _) = feed(&mut dec, &stream);
    assert!(
        frames.is_empty(),
        "the real frame is hidden inside the false candidate"
    );
    // ...until the host's fill completes the candidate, which fails its CRC.
    let (frames, text) = feed(&mut dec, &[RESYNC_FILL; RESYNC_FILL_LEN]);
    assert_eq!(frames, [(MessageType::Hello, Vec::new())]);
    assert!(text.iter().all(|&b| b == RESYNC_FILL));
    let mut after_noise = std::vec![b'x'; 100];
    after_noise.extend_from_slice(&[0, 0, b'n', b'a', b'm', b'e', b'%']);
    assert_eq!(
        lines(&after_noise),
        ["name"],
        "NUL discards the partial (and overflowed) command"
    );
}

fn sample_input_quant() -> crate::input::InputQuant {
    let channel = |i: i32| crate::input::ChannelQuant {
        offset: -1000 * i,
        multiplier: 70_000 + i,
        shift: 16,
    };
    crate::input::InputQuant::new(core::array::from_fn(|i| channel(i as i32)), -7).unwrap()
}

#[test]
fn configure_input_layout_is_as_documented() {
    let bytes = encode_request(&Request::ConfigureInput(sample_input_quant()));
    // Sync, type 0x06, N = 55.
    assert_eq!(&bytes[..4], &[0xA5, 0x06, 55, 0]);
    let payload = &bytes[4..4 + 55];
    assert_eq!(payload[0], (-7i8) as u8, "zero point first");
    // Axis 1: offset -1000, multiplier 70 001, shift 16, little-endian.
    let axis1 = &payload[1 + 9..1 + 18];
    assert_eq!(&axis1[..4], &(-1000i32).to_le_bytes());
    assert_eq!(&axis1[4..8], &70_001i32.to_le_bytes());
    assert_eq!(axis1[8], 16);
}

#[test]
fn configure_input_with_a_huge_shift_is_malformed() {
    let mut bytes = encode_request(&Request::ConfigureInput(sample_input_quant()));
    bytes[4 + 1 + 8] = 40; // axis 0's shift
    let n = bytes.len();
    let crc = super::crc::crc32c(&bytes[1..n - 4]);
    bytes[n - 4..].copy_from_slice(&crc.to_le_bytes());
    let mut dec = FrameDecoder::new();
    let (frames, _) = feed(&mut dec, &bytes);
    let frame = super::frame::FrameRef {
        ty: frames[0].0,
        payload: &frames[0].1,
    };
    assert!(matches!(
        Request::decode(frame),
        Err(super::message::DecodeError::Malformed { .. })
    ));
}

#[test]
fn configure_stream_layout_is_as_documented() {
    let bytes = encode_request(&Request::ConfigureStream {
        up: 4,
        down: 5,
        window_len: 60,
        hop: 30,
    });
    assert_eq!(&bytes[..12], &[0xA5, 0x07, 8, 0, 4, 0, 5, 0, 60, 0, 30, 0]);
}

#[test]
fn ota_messages_round_trip_with_their_documented_payloads() {
    use super::FrameRef;
    use super::message::OtaStatusReport;
    use crate::ota::SlotState;
    use std::vec;
    let manifest = [0x48u8; 164];
    let chunk = [1u8, 2, 3];
    let requests = [
        (
            Request::OtaBegin {
                manifest: &manifest,
            },
            0x08,
            manifest.to_vec(),
        ),
        (
            Request::OtaChunk {
                offset: 0x0102,
                data: &chunk,
            },
            0x09,
            vec![2, 1, 0, 0, 1, 2, 3],
        ),
        (Request::OtaFinish, 0x0A, vec![]),
        (Request::OtaStatus, 0x0B, vec![]),
        (Request::OtaConfirm, 0x0C, vec![]),
        (Request::Reboot, 0x0D, vec![]),
        (
            Request::ArmPowerCut { after_flash_ops: 7 },
            0x0E,
            vec![7, 0, 0, 0],
        ),
        (Request::MailboxInfer { count: 300 }, 0x0F, vec![44, 1]),
        (
            Request::MailboxStream {
                first_index: 0x0102,
                count: 2400,
            },
            0x10,
            vec![2, 1, 0, 0, 0x60, 0x09, 0, 0],
        ),
    ];
    for (req, ty, payload) in requests {
        let bytes = encode_request(&req);
        assert_eq!(bytes[1], ty);
        assert_eq!(&bytes[4..bytes.len() - 4], payload.as_slice());
        let frame = FrameRef {
            ty: MessageType::from_u8(ty).unwrap(),
            payload: &bytes[4..bytes.len() - 4],
        };
        assert_eq!(Request::decode(frame).unwrap(), req);
    }
    let status = Response::OtaStatus(OtaStatusReport {
        active_slot: Some(1),
        state: Some(SlotState::PendingVerify),
        last_error: 19,
        self_test_passed: true,
        version: 0x0102_0304,
        min_version: 2,
        flash_ops: 9,
    });
    let mut out = [0u8; MAX_FRAME];
    let n = status.encode(&mut out).unwrap();
    assert_eq!(out[1], 0x86);
    assert_eq!(
        &out[4..n - 4],
        &[1, 2, 19, 1, 4, 3, 2, 1, 2, 0, 0, 0, 9, 0, 0, 0]
    );
    let frame = FrameRef {
        ty: MessageType::OtaStatusReply,
        payload: &out[4..n - 4],
    };
    assert_eq!(Response::decode(frame).unwrap(), status);
    // A reply to nothing: no slot, no state.
    let none = Response::OtaStatus(OtaStatusReport {
        active_slot: None,
        state: None,
        last_error: 0,
        self_test_passed: false,
        version: 0,
        min_version: 0,
        flash_ops: 0,
    });
    let n = none.encode(&mut out).unwrap();
    assert_eq!(&out[4..8], &[0xFF, 0, 0, 0]);
    let frame = FrameRef {
        ty: MessageType::OtaStatusReply,
        payload: &out[4..n - 4],
    };
    assert_eq!(Response::decode(frame).unwrap(), none);
    assert_eq!(ErrorCause::from_u8(13), Some(ErrorCause::OtaRefused));
}
