//! `kind: mlperf`: firmware that speaks only the MLPerf Tiny text protocol. The device is
//! harbor's band built text-only with the small model baked in (band-qemu-mlperf.elf), in
//! QEMU or on a pty behind the fault-injecting relay; the reference is harbor-core's int8
//! interpreter on the host, on the same model file.

use std::path::Path;
use std::time::Duration;

use harbor::dut::mlperf::{self, OutputFormat};
use harbor::dut::{DeviceConfig, MlperfConfig, MlperfFormat, MlperfLink, Target};
use harbor::model::HostModel;

use crate::support::qemu;
use crate::support::serial::{FaultInjectingTestRelay, qemu_on_pty, serial_config};

const FIRMWARE: &str = "band-qemu-mlperf";

/// The model build.rs bakes into band-qemu-mlperf.elf by default.
fn baked_model() -> HostModel {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/small-int8-generalized/model.tflite");
    HostModel::load(&path).unwrap_or_else(|e| panic!("{e}"))
}

/// Deterministic int8 windows spanning the whole range (the firmware sees exactly these).
fn windows(model: &HostModel, n: usize) -> Vec<Vec<i8>> {
    let len = model.input().len();
    (0..n)
        .map(|w| {
            (0..len)
                .map(|i| ((i * 37 + w * 101) as u32).wrapping_mul(2_654_435_761) >> 24)
                .map(|v| v as u8 as i8)
                .collect()
        })
        .collect()
}

fn expected(model: &HostModel, windows: &[Vec<i8>]) -> Vec<Vec<i8>> {
    model
        .run_quantized(windows.iter().map(Vec::as_slice))
        .unwrap()
        .into_iter()
        .map(|p| p.quantized)
        .collect()
}

fn int8() -> MlperfFormat {
    MlperfFormat::new(OutputFormat::Int8)
}

#[tokio::test]
async fn the_text_only_band_runs_its_baked_model_bit_exact_and_times_it() {
    let model = baked_model();
    let windows = windows(&model, 4);
    let expected = expected(&model, &windows);
    let config = DeviceConfig::Mlperf(MlperfConfig {
        link: MlperfLink::Qemu(qemu::config(FIRMWARE)),
        format: int8(),
    });
    let mut band = harbor::dut::open(&config).await.unwrap();
    assert_eq!(
        mlperf::identify(&mut band).await.unwrap(),
        "harbor band-qemu-mlperf"
    );
    let profile = band.command("profile").await.unwrap();
    assert!(
        profile.contains(&"m-model-[loaded]".to_string()),
        "{profile:?}"
    );
    for (window, expected) in windows.iter().zip(&expected) {
        let inference = mlperf::infer(&mut band, &int8(), window).await.unwrap();
        assert_eq!(&inference.logits, expected);
        // Timed by the device's own m-lap-us stamps; nothing else is claimed.
        assert!(
            inference.elapsed_us.is_some_and(|us| us > 0),
            "{inference:?}"
        );
        assert_eq!(inference.instructions, None);
        assert_eq!(inference.stack_high_water, None);
    }
    band.shutdown().await;
}

#[tokio::test]
async fn the_text_only_band_does_not_answer_binary_frames() {
    let mut config = qemu::config(FIRMWARE);
    config.exchange_timeout = Duration::from_secs(2);
    let mut band = harbor::dut::QemuTarget::launch(config).await.unwrap();
    let err = band.info().await.unwrap_err();
    assert_eq!(err.kind(), "hang", "{err}");
}

#[tokio::test]
async fn a_window_larger_than_the_command_buffer_allows_is_cut_into_short_db_lines() {
    // A device with a 20-character command buffer: 8 bytes per `db` line.
    let model = baked_model();
    let windows = windows(&model, 1);
    let mut format = int8();
    format.line_chars = 20;
    let config = DeviceConfig::Mlperf(MlperfConfig {
        link: MlperfLink::Qemu(qemu::config(FIRMWARE)),
        format: format.clone(),
    });
    let mut band = harbor::dut::open(&config).await.unwrap();
    let inference = mlperf::infer(&mut band, &format, &windows[0])
        .await
        .unwrap();
    assert_eq!(inference.logits, expected(&model, &windows)[0]);
    band.shutdown().await;
}

/// Bytes that are neither commands nor replies: control characters, 0xA5, NUL.
fn noise(len: usize) -> Vec<u8> {
    (0..len as u32)
        .map(|i| match i % 5 {
            0 => 0xA5,
            _ => (i.wrapping_mul(2_654_435_761) >> 24) as u8 & 0x1F,
        })
        .collect()
}

async fn band_on_pty_behind_relay() -> (
    harbor::dut::QemuPty,
    FaultInjectingTestRelay,
    harbor::dut::Dut,
) {
    let pty = qemu_on_pty(FIRMWARE).await;
    let relay = FaultInjectingTestRelay::new(&pty.pty);
    let mut serial = serial_config(&relay.port);
    serial.exchange_timeout = Duration::from_secs(5);
    let config = DeviceConfig::Mlperf(MlperfConfig {
        link: MlperfLink::Serial(serial),
        format: int8(),
    });
    let band = harbor::dut::open(&config)
        .await
        .unwrap_or_else(|e| panic!("opening {} through the relay: {e}", relay.port));
    (pty, relay, band)
}

#[tokio::test]
async fn line_noise_on_a_pty_is_recovered_from_by_sending_the_window_again() {
    let model = baked_model();
    let windows = windows(&model, 4);
    let expected = expected(&model, &windows);
    let (_pty, relay, mut band) = band_on_pty_behind_relay().await;
    let mut outcomes = Vec::new();
    for (i, (window, expected)) in windows.iter().zip(&expected).enumerate() {
        // Window 0 is clean; then noise into the device (garbles the next command), noise
        // to the host (garbles a reply line), clean again.
        match i {
            1 => relay.garbage_to_board(&noise(40)),
            2 => relay.garbage_to_host(&noise(40)),
            _ => {}
        }
        match mlperf::infer(&mut band, &int8(), window).await {
            Ok(inference) => {
                assert_eq!(&inference.logits, expected, "window {i}");
                outcomes.push(format!("{i}: ok"));
            }
            Err(e) => outcomes.push(format!("{i}: {} ({e})", e.kind())),
        }
    }
    eprintln!("{outcomes:#?}");
    // The garbled command or reply is refused, the window sent again, the result exact.
    assert!(
        outcomes.iter().all(|o| o.ends_with(": ok")),
        "{outcomes:#?}"
    );
}

#[tokio::test]
async fn a_device_that_stops_answering_is_named_a_hang() {
    let model = baked_model();
    let windows = windows(&model, 1);
    let (_pty, relay, mut band) = band_on_pty_behind_relay().await;
    relay.mute_board();
    let err = mlperf::infer(&mut band, &int8(), &windows[0])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "hang", "{err}");
    assert!(err.to_string().contains("db load"), "{err}");
}

#[tokio::test]
async fn an_input_the_model_does_not_take_is_a_named_refusal_after_every_try() {
    let model = baked_model();
    let windows = windows(&model, 1);
    let config = DeviceConfig::Mlperf(MlperfConfig {
        link: MlperfLink::Qemu(qemu::config(FIRMWARE)),
        format: int8(),
    });
    let mut band = harbor::dut::open(&config).await.unwrap();
    // One byte short of the model's input: the device refuses to infer, harbor names it.
    let short = &windows[0][..windows[0].len() - 1];
    let err = mlperf::infer(&mut band, &int8(), short).await.unwrap_err();
    assert_eq!(err.kind(), "refused", "{err}");
    assert!(err.to_string().contains("infer 1 0"), "{err}");
    assert!(err.to_string().contains("the model takes"), "{err}");
    // The device still answers: a refusal is not a dead link.
    assert_eq!(
        mlperf::identify(&mut band).await.unwrap(),
        "harbor band-qemu-mlperf"
    );
    band.shutdown().await;
}
