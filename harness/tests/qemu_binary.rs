//! harbor's framed binary protocol against the firmware in QEMU.

mod qemu_support;

use harbor::target::{Target, TargetError};
use harbor_core::protocol::crc::crc32c;
use harbor_core::protocol::{ErrorCause, MessageType};

/// The documented `checksum` placeholder (docs/protocol.md), written out independently:
/// logit c = Σ x[i] for i ≡ c (mod 6), saturated to int8; prediction = first largest.
fn expected_checksum(window: &[i8]) -> (u8, Vec<i8>) {
    let logits: Vec<i8> = (0..6)
        .map(|c| {
            let sum: i32 = window
                .iter()
                .skip(c)
                .step_by(6)
                .map(|&v| i32::from(v))
                .sum();
            sum.clamp(-128, 127) as i8
        })
        .collect();
    let max = *logits.iter().max().unwrap();
    let predicted = logits.iter().position(|&l| l == max).unwrap() as u8;
    (predicted, logits)
}

#[tokio::test]
async fn tensor_infer_returns_logits_and_measurements() {
    let mut band = qemu_support::launch("band-qemu").await;
    // Hand-checked: class sums 110, 80, 25, 1, 2, 3 → class 0 wins.
    let window = [10, -20, 30, 1, 2, 3, 100, 100, -5, 0, 0, 0];
    let result = band.infer(&window).await.unwrap();
    assert_eq!(result.logits, [110, 80, 25, 1, 2, 3]);
    assert_eq!(result.predicted, 0);
    assert!(result.instructions >= window.len() as u64, "{result:?}");
    assert!(
        result.stack_high_water > 0 && result.stack_high_water < 32 * 1024,
        "{result:?}"
    );
    assert_eq!(result.arena_used, 0, "the placeholder uses no arena");

    // A 128 × 6 window whose sums saturate.
    let big: Vec<i8> = (0..768)
        .map(|i| if i % 6 == 4 { 100 } else { -((i % 7) as i8) })
        .collect();
    let result = band.infer(&big).await.unwrap();
    assert_eq!(
        (result.predicted, result.logits.clone()),
        expected_checksum(&big)
    );
    assert_eq!(result.logits[4], 127);
}

#[tokio::test]
async fn instruction_delta_is_identical_across_runs() {
    let window: Vec<i8> = (0..768).map(|i| (i * 37 % 251) as i8).collect();
    let mut counts = Vec::new();
    for _ in 0..3 {
        let mut band = qemu_support::launch("band-qemu").await;
        // A warm-up exchange first so runs differ in history, not just in timing.
        band.info().await.unwrap();
        counts.push(band.infer(&window).await.unwrap().instructions);
        band.shutdown().await;
    }
    assert!(counts[0] > 768, "{counts:?}");
    assert!(
        counts.iter().all(|&c| c == counts[0]),
        "instruction deltas differ: {counts:?}"
    );

    // And it measures work: a longer window costs more instructions.
    let mut band = qemu_support::launch("band-qemu").await;
    let short = band.infer(&window[..12]).await.unwrap().instructions;
    assert!(
        short < counts[0],
        "12 bytes: {short}, 768 bytes: {}",
        counts[0]
    );
}

fn model_bytes(len: usize) -> Vec<u8> {
    // Arbitrary but fixed contents spanning several chunks.
    (0..len)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect()
}

#[tokio::test]
async fn model_slot_loads_with_a_matching_crc() {
    let mut band = qemu_support::launch("band-qemu").await;
    let model = model_bytes(3000);
    band.load_model(&model).await.unwrap();
    // Loading again from offset 0 replaces it.
    band.load_model(&model[..100]).await.unwrap();
}

#[tokio::test]
async fn model_slot_rejects_a_corrupted_crc() {
    let mut band = qemu_support::launch("band-qemu").await;
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
    let mut band = qemu_support::launch("band-qemu").await;
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
    let mut band = qemu_support::launch("band-qemu").await;
    // 200 samples span three frames (84 per frame).
    let samples: Vec<[i16; 6]> = (0..200).map(|i| [i, -i, 1000, 0, 7, -7]).collect();
    assert_eq!(band.stream_samples(0, &samples).await.unwrap(), 200);
    assert_eq!(band.stream_samples(200, &samples[..5]).await.unwrap(), 205);
}

#[tokio::test]
async fn binary_and_text_share_the_uart() {
    let mut band = qemu_support::launch("band-qemu").await;
    band.info().await.unwrap();
    assert_eq!(
        band.command("name").await.unwrap(),
        ["m-name-dut-[harbor band-qemu]"]
    );
    let r = band.infer(&[1, 2, 3, 4, 5, 6]).await.unwrap();
    assert_eq!(r.logits, [1, 2, 3, 4, 5, 6]);
    assert_eq!(
        band.command("results").await.unwrap(),
        ["m-results-[1,2,3,4,5,6]"]
    );
}
