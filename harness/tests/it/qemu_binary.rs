//! harbor's framed binary protocol against the firmware in QEMU.

use harbor::dut::{Target, TargetError};
use harbor_core::protocol::crc::crc32c;
use harbor_core::protocol::{ErrorCause, MessageType};

/// The first largest logit, as TFLM's argmax picks it.
fn first_argmax(logits: &[i8]) -> u8 {
    let max = logits.iter().max().copied().unwrap_or(0);
    logits.iter().position(|&l| l == max).unwrap_or(0) as u8
}

#[tokio::test]
async fn inference_in_qemu_matches_tflm_golden_vectors_bit_exactly() {
    let golden = crate::support::qemu::golden("har_conv1d");
    let mut band = crate::support::qemu::launch("band-qemu").await;
    let info = band.info().await.unwrap();
    band.load_model(&golden.model).await.unwrap();
    let mut mismatches = Vec::new();
    for (i, (input, expected)) in golden.records.iter().enumerate() {
        let result = band.infer(input).await.unwrap();
        if &result.logits != expected || result.predicted != first_argmax(expected) {
            mismatches.push(format!(
                "vector {i}: band {:?} (class {}) vs TFLM {expected:?}",
                result.logits, result.predicted
            ));
        }
        assert!(
            result
                .arena_used
                .is_some_and(|a| a > 0 && a <= info.arena_size),
            "{result:?}"
        );
        // Reaching the whole stack means it overflowed into .bss.
        assert!(
            result
                .stack_high_water
                .is_some_and(|s| s > 0 && s < info.stack_size),
            "{result:?}"
        );
    }
    assert!(
        mismatches.is_empty(),
        "{} of {} differ: {:#?}",
        mismatches.len(),
        golden.records.len(),
        &mismatches[..mismatches.len().min(3)]
    );
}

#[tokio::test]
async fn inference_needs_a_model_and_the_right_window_length() {
    let golden = crate::support::qemu::golden("har_conv1d");
    let mut band = crate::support::qemu::launch("band-qemu").await;
    let err = band.infer(&golden.records[0].0).await.unwrap_err();
    assert!(
        matches!(
            err,
            TargetError::Rejected {
                cause: ErrorCause::NoModel,
                ..
            }
        ),
        "{err}"
    );
    band.load_model(&golden.model).await.unwrap();
    let err = band
        .infer(&golden.records[0].0[..golden.input_len - 6])
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            TargetError::Rejected {
                cause: ErrorCause::InputSizeMismatch,
                detail: 360,
                ..
            }
        ),
        "{err}"
    );
}

#[tokio::test]
async fn unsupported_models_are_rejected_at_load() {
    let mut band = crate::support::qemu::launch("band-qemu").await;
    for name in ["float_relu6.tflite", "unsupported_shape_op.tflite"] {
        let err = band
            .load_model(&crate::support::qemu::fixture_model(name))
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                TargetError::Rejected {
                    cause: ErrorCause::ModelInvalid,
                    ..
                }
            ),
            "{name}: {err}"
        );
    }
    // Not a flatbuffer at all, but with a correct CRC.
    let err = band.load_model(&[0x55; 64]).await.unwrap_err();
    assert!(
        matches!(
            err,
            TargetError::Rejected {
                cause: ErrorCause::ModelInvalid,
                ..
            }
        ),
        "{err}"
    );
}

#[tokio::test]
async fn instruction_delta_is_identical_across_runs() {
    let golden = crate::support::qemu::golden("har_conv1d");
    let window = &golden.records[0].0;
    let mut counts = Vec::new();
    for run in 0..3 {
        let mut band = crate::support::qemu::launch("band-qemu").await;
        band.load_model(&golden.model).await.unwrap();
        // Different histories per run: the count must cover the inference alone.
        for _ in 0..run {
            band.infer(&golden.records[1].0).await.unwrap();
        }
        let result = band.infer(window).await.unwrap();
        // QEMU's clock is the instruction count restated: band-qemu claims no wall time.
        assert_eq!(result.elapsed_us, None, "{result:?}");
        counts.push(result.instructions.expect("the binary protocol counts"));
        band.shutdown().await;
    }
    eprintln!("har_conv1d invoke: {counts:?} instructions");
    // A 60×6 conv net cannot run in fewer instructions than it has input values.
    assert!(counts[0] > window.len() as u64, "{counts:?}");
    assert!(
        counts.iter().all(|&c| c == counts[0]),
        "instruction deltas differ: {counts:?}"
    );
}

fn model_bytes(len: usize) -> Vec<u8> {
    // Arbitrary but fixed contents spanning several chunks.
    (0..len)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect()
}

#[tokio::test]
async fn model_slot_loads_with_a_matching_crc_and_can_be_replaced() {
    let mut band = crate::support::qemu::launch("band-qemu").await;
    let har = crate::support::qemu::golden("har_conv1d");
    band.load_model(&har.model).await.unwrap();
    // Loading again from offset 0 replaces it: the new model's golden vector must come out.
    let other = crate::support::qemu::golden("dwconv_add_avgpool");
    band.load_model(&other.model).await.unwrap();
    let (input, expected) = &other.records[0];
    assert_eq!(band.infer(input).await.unwrap().logits, *expected);
}

#[tokio::test]
async fn model_slot_rejects_a_corrupted_crc() {
    let mut band = crate::support::qemu::launch("band-qemu").await;
    let model = model_bytes(2500);
    band.write_model_chunks(&model).await.unwrap();
    let wrong = crc32c(&model) ^ 0x0000_0100;
    match band.finish_model(model.len() as u32, wrong).await {
        Err(TargetError::Rejected {
            request,
            cause,
            detail,
            ..
        }) => {
            assert_eq!(request, MessageType::LoadModelFinish);
            assert_eq!(cause, ErrorCause::ModelCrcMismatch);
            assert_eq!(
                detail,
                crc32c(&model),
                "the band reports the CRC it computed"
            );
        }
        other => panic!("expected a CRC rejection, got {other:?}"),
    }
    // A rejection is an answer, not a failure: the band still works.
    band.info().await.unwrap();
}

#[tokio::test]
async fn model_slot_rejects_oversize_and_incomplete_models() {
    let mut band = crate::support::qemu::launch("band-qemu").await;
    let model = model_bytes(1500);
    band.write_model_chunks(&model).await.unwrap();
    let short_claim = band.finish_model(2000, crc32c(&model)).await.unwrap_err();
    assert!(
        matches!(
            short_claim,
            TargetError::Rejected {
                cause: ErrorCause::ModelIncomplete,
                detail: 1500,
                ..
            }
        ),
        "{short_claim}"
    );
    let too_big = band.finish_model(256 * 1024 + 1, 0).await.unwrap_err();
    assert!(
        matches!(
            too_big,
            TargetError::Rejected {
                cause: ErrorCause::ModelTooLarge,
                detail: 262_144,
                ..
            }
        ),
        "{too_big}"
    );
}

#[tokio::test]
async fn streamed_samples_are_counted() {
    let mut band = crate::support::qemu::launch("band-qemu").await;
    // 200 samples span three frames (84 per frame).
    let samples: Vec<[i16; 6]> = (0..200).map(|i| [i, -i, 1000, 0, 7, -7]).collect();
    assert_eq!(band.stream_samples(0, &samples).await.unwrap(), 200);
    assert_eq!(band.stream_samples(200, &samples[..5]).await.unwrap(), 205);
}

/// `db` commands carrying `bytes` as hex, each within MLPerf's 80-character limit.
fn db_commands(bytes: &[i8]) -> Vec<String> {
    bytes
        .chunks(38)
        .map(|c| {
            format!(
                "db {}",
                c.iter()
                    .map(|&b| format!("{:02x}", b as u8))
                    .collect::<String>()
            )
        })
        .collect()
}

#[tokio::test]
async fn binary_and_text_share_the_uart() {
    let golden = crate::support::qemu::golden("har_conv1d");
    let (input, expected) = &golden.records[3];
    let mut band = crate::support::qemu::launch("band-qemu").await;
    // Model over binary frames, input and inference over MLPerf text, on the same UART.
    band.load_model(&golden.model).await.unwrap();
    assert_eq!(
        band.command("db load 360").await.unwrap(),
        ["m-[Expecting 360 bytes]"]
    );
    let commands = db_commands(input);
    for (i, cmd) in commands.iter().enumerate() {
        assert!(cmd.len() <= harbor_core::protocol::text::MAX_COMMAND_LEN);
        let lines = band.command(cmd).await.unwrap();
        let done = i + 1 == commands.len();
        assert_eq!(lines.is_empty(), !done, "{cmd}: {lines:?}");
    }
    let lines = band.command("infer 1 0").await.unwrap();
    let expected_f64: Vec<f64> = expected.iter().map(|&v| f64::from(v)).collect();
    assert_eq!(
        harbor::dut::results_of(&lines),
        Some(expected_f64.clone()),
        "{lines:?}"
    );
    let again = band.command("results").await.unwrap();
    assert_eq!(harbor::dut::results_of(&again), Some(expected_f64));
    // And binary again afterwards.
    assert_eq!(band.infer(input).await.unwrap().logits, *expected);
}

/// Line noise: bytes from a fixed LCG, rich in sync bytes and request types, without `%`
/// (which would end a text command and draw a text answer).
fn line_noise(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed;
    (0..len)
        .map(|_| {
            x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            match (x >> 24) % 5 {
                0 => 0xA5,
                1 => ((x >> 8) % 5 + 1) as u8,
                _ => (x >> 16) as u8,
            }
        })
        .filter(|&b| b != b'%')
        .collect()
}

#[tokio::test]
async fn the_band_resynchronises_after_line_noise() {
    let golden = crate::support::qemu::golden("har_conv1d");
    let mut band = crate::support::qemu::launch("band-qemu").await;
    band.load_model(&golden.model).await.unwrap();
    for seed in 1..=5 {
        band.send_raw(&line_noise(300, seed)).await.unwrap();
        // The noise may end inside a plausible frame header; the fill resolves it.
        band.resync().await.unwrap();
        let (input, expected) = &golden.records[seed as usize];
        assert_eq!(
            band.infer(input).await.unwrap().logits,
            *expected,
            "after noise seed {seed}"
        );
    }
    // A false header right before a real request: the request is found inside it.
    band.send_raw(&[0xA5, 0x02, 0x10, 0x00]).await.unwrap();
    band.resync().await.unwrap();
    band.info().await.unwrap();
    // Text after noise: the fill also discarded the noise's partial text command.
    band.send_raw(&line_noise(200, 99)).await.unwrap();
    band.resync().await.unwrap();
    assert_eq!(
        band.command("name").await.unwrap(),
        ["m-name-dut-[harbor band-qemu]"]
    );
}
