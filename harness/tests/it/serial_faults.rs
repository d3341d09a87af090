//! A bad line between harbor and a board: garbage, a dropped byte, a board that stops
//! answering. The firmware runs in QEMU on a pty; a relay the test owns (test code) sits
//! between that pty and the port the SerialTarget opens, and injects the faults.

use std::time::{Duration, Instant};

use crate::support::serial::{FaultInjectingTestRelay, qemu_on_pty, serial_config};
use harbor::dut::{SerialTarget, Target, TargetError};
use harbor_core::protocol::frame::MAX_FRAME;

/// Short exchange deadline: the faults below end in timeouts.
const DEADLINE: Duration = Duration::from_secs(3);

async fn band_behind_relay(
    variant: &str,
) -> (harbor::dut::QemuPty, FaultInjectingTestRelay, SerialTarget) {
    let qemu = qemu_on_pty(variant).await;
    let relay = FaultInjectingTestRelay::new(&qemu.pty);
    let mut config = serial_config(&relay.port);
    config.exchange_timeout = DEADLINE;
    let band = SerialTarget::open(&config)
        .await
        .unwrap_or_else(|e| panic!("opening {} through the relay: {e}", relay.port));
    (qemu, relay, band)
}

/// Bytes that are neither frames nor protocol lines, rich in sync bytes and type codes.
fn noise(len: usize) -> Vec<u8> {
    (0..len as u32)
        .map(|i| match i % 5 {
            0 => 0xA5,
            1 => (i % 7) as u8 + 1,
            _ => (i.wrapping_mul(2_654_435_761) >> 24) as u8 & 0x1F,
        })
        .collect()
}

#[tokio::test]
async fn the_relay_is_transparent_without_faults() {
    let golden = crate::support::qemu::golden("har_conv1d");
    let (_qemu, _relay, mut band) = band_behind_relay("band-qemu").await;
    assert_eq!(band.info().await.unwrap().name, "band-qemu");
    band.load_model(&golden.model).await.unwrap();
    let (input, expected) = &golden.records[0];
    assert_eq!(&band.infer(input).await.unwrap().logits, expected);
}

#[tokio::test]
async fn garbage_before_a_reply_is_skipped_and_the_reply_decoded() {
    let golden = crate::support::qemu::golden("har_conv1d");
    let (_qemu, relay, mut band) = band_behind_relay("band-qemu").await;
    band.load_model(&golden.model).await.unwrap();
    for (input, expected) in golden.records.iter().take(5) {
        relay.garbage_to_host(&noise(200));
        assert_eq!(&band.infer(input).await.unwrap().logits, expected);
    }
}

#[tokio::test]
async fn garbage_beyond_the_budget_is_named_garbage() {
    let (_qemu, relay, mut band) = band_behind_relay("band-qemu").await;
    relay.garbage_to_host(&noise(8 * MAX_FRAME));
    let err = band.info().await.unwrap_err();
    assert!(matches!(err, TargetError::Garbage { .. }), "{err}");
    assert!(err.to_string().contains("answering Hello"), "{err}");
}

#[tokio::test]
async fn garbage_sent_to_the_board_is_cleared_by_a_resync() {
    let golden = crate::support::qemu::golden("har_conv1d");
    let (_qemu, relay, mut band) = band_behind_relay("band-qemu").await;
    band.load_model(&golden.model).await.unwrap();
    relay.garbage_to_board(&noise(300));
    band.resync().await.unwrap();
    let (input, expected) = &golden.records[1];
    assert_eq!(&band.infer(input).await.unwrap().logits, expected);
}

#[tokio::test]
async fn a_byte_dropped_inside_a_reply_frame_fails_by_name_within_the_deadline() {
    let golden = crate::support::qemu::golden("har_conv1d");
    let (_qemu, relay, mut band) = band_behind_relay("band-qemu").await;
    band.load_model(&golden.model).await.unwrap();
    // Byte 10 of the InferResult frame: inside the payload, after the header.
    relay.drop_board_byte(10);
    let start = Instant::now();
    let err = band.infer(&golden.records[0].0).await.unwrap_err();
    let waited = start.elapsed();
    match &err {
        TargetError::Truncated { held, during, .. } => {
            assert!(*held > 10, "{err}");
            assert!(during.contains("TensorInfer"), "{err}");
        }
        other => panic!("expected a truncated frame, got {other}"),
    }
    // Never a hang: the failure comes at the exchange deadline, not after it.
    assert!(waited < DEADLINE * 3, "took {waited:?}");
    assert_eq!(band.info().await.unwrap_err().kind(), "dead");
}

#[tokio::test]
async fn a_byte_dropped_on_the_way_to_the_board_is_a_hang_and_a_reopen_recovers() {
    let golden = crate::support::qemu::golden("har_conv1d");
    let (_qemu, relay, mut band) = band_behind_relay("band-qemu").await;
    band.load_model(&golden.model).await.unwrap();
    relay.drop_host_byte(20);
    let err = band.infer(&golden.records[0].0).await.unwrap_err();
    assert!(matches!(err, TargetError::Hang { .. }), "{err}");
    // The band still holds the broken frame; opening again resynchronises it first.
    drop(band);
    let mut again = SerialTarget::open(&serial_config(&relay.port))
        .await
        .unwrap();
    let (input, expected) = &golden.records[2];
    assert_eq!(&again.infer(input).await.unwrap().logits, expected);
}

#[tokio::test]
async fn a_board_that_stops_answering_is_a_hang_naming_the_deadline() {
    let (_qemu, relay, mut band) = band_behind_relay("band-qemu").await;
    band.info().await.unwrap();
    relay.mute_board();
    let start = Instant::now();
    let err = band.info().await.unwrap_err();
    match &err {
        TargetError::Hang { waited, during, .. } => {
            assert_eq!(*waited, DEADLINE);
            assert_eq!(during, "answering Hello");
        }
        other => panic!("expected a hang, got {other}"),
    }
    assert!(start.elapsed() < DEADLINE * 3, "took {:?}", start.elapsed());
}

#[tokio::test]
async fn hung_firmware_on_a_pty_is_a_hang() {
    // band-qemu-hang answers three requests, then spins; the open's Hello is the first.
    let qemu = qemu_on_pty("band-qemu-hang").await;
    let mut config = serial_config(&qemu.pty.to_string_lossy());
    config.exchange_timeout = DEADLINE;
    let mut band = SerialTarget::open(&config).await.unwrap();
    band.info().await.unwrap();
    band.info().await.unwrap();
    let err = band.info().await.unwrap_err();
    assert_eq!(err.kind(), "hang", "{err}");
    assert!(
        err.to_string().contains("3s"),
        "the deadline is named: {err}"
    );
}
