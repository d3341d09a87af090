//! The serial backend end to end: the band firmware in QEMU with its UART on a real
//! pseudo-terminal (`-chardev pty`), opened by `SerialTarget` exactly like a board's port.

use std::path::Path;

use crate::support::serial::{open, qemu_on_pty, serial_config};
use harbor::dut::{SerialTarget, StreamConfig, Target, TargetError};
use harbor::model::HostModel;
use harbor::model::card::ModelCard;
use harbor::model::input::device_input_quant;

#[tokio::test]
async fn hello_info_and_text_commands_over_a_pty() {
    let qemu = qemu_on_pty("band-qemu").await;
    let port = qemu.pty.to_string_lossy().into_owned();
    let mut band = open(&port).await;
    assert_eq!(band.name(), format!("serial:{port}"));
    let info = band.info().await.unwrap();
    assert_eq!(info.name, "band-qemu");
    assert_eq!(info.max_payload, 1024);
    assert_eq!(
        band.command("name").await.unwrap(),
        ["m-name-dut-[harbor band-qemu]"]
    );
}

#[tokio::test]
async fn tensor_inference_over_a_pty_equals_the_host_reference() {
    let golden = crate::support::qemu::golden("har_conv1d");
    let host = HostModel::from_bytes(Path::new("har_conv1d.tflite"), golden.model.clone()).unwrap();
    let qemu = qemu_on_pty("band-qemu").await;
    let mut band = open(&qemu.pty.to_string_lossy()).await;
    band.load_model(&golden.model).await.unwrap();
    let inputs: Vec<&[i8]> = golden.records.iter().map(|(i, _)| i.as_slice()).collect();
    let reference = host.run_quantized(inputs.iter().copied()).unwrap();
    let mut checked = 0;
    for ((input, tflm), host) in golden.records.iter().zip(&reference) {
        let result = band.infer(input).await.unwrap();
        assert_eq!(result.logits, host.quantized, "band vs host int8 engine");
        assert_eq!(&result.logits, tflm, "band vs TFLM golden vector");
        assert_eq!(usize::from(result.predicted), host.class);
        checked += 1;
    }
    assert!(checked >= 10, "{checked} vectors");
}

#[tokio::test]
async fn stream_mode_over_a_pty_equals_the_host_reference() {
    let model_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/small-int8-generalized");
    let host = HostModel::load(&model_dir.join("model.tflite")).unwrap();
    let card = ModelCard::load(&model_dir.join("card.yaml")).unwrap();
    let conversion = &card.normalization.device_conversion;
    // No rate conversion (1/1): windows are cut straight from the samples sent.
    let (len, hop) = (60usize, 30usize);
    let config = StreamConfig {
        up: 1,
        down: 1,
        window_len: len as u16,
        hop: hop as u16,
    };
    // A deterministic wrist-like signal: three windows' worth plus a partial one.
    let samples: Vec<[i16; 6]> = (0..len * 3 + 7)
        .map(|n| std::array::from_fn(|c| (((n * 37 + c * 101) % 4001) as i32 - 2000) as i16))
        .collect();

    let qemu = qemu_on_pty("band-qemu").await;
    let mut band = open(&qemu.pty.to_string_lossy()).await;
    band.load_model(host.model_bytes()).await.unwrap();
    band.configure_input(&device_input_quant(conversion).unwrap())
        .await
        .unwrap();
    band.configure_stream(config).await.unwrap();
    let outcome = band.stream(0, &samples).await.unwrap();
    assert_eq!(outcome.received as usize, samples.len());

    let expected = harbor_core::window::windows_in(samples.len() as u64, len, hop) as usize;
    assert_eq!(outcome.windows.len(), expected);
    let host_windows: Vec<Vec<i8>> = (0..expected)
        .map(|k| {
            samples[k * hop..k * hop + len]
                .iter()
                .flat_map(|s| (0..6).map(move |c| conversion.quantize(c, i32::from(s[c]))))
                .collect()
        })
        .collect();
    let reference = host
        .run_quantized(host_windows.iter().map(Vec::as_slice))
        .unwrap();
    for (k, (window, host)) in outcome.windows.iter().zip(&reference).enumerate() {
        assert_eq!(window.index as usize, k);
        assert_eq!(window.inference.logits, host.quantized, "window {k}");
    }
}

#[tokio::test]
async fn a_missing_port_is_named_with_what_to_check() {
    let err = SerialTarget::open(&serial_config("/dev/harbor-no-such-port"))
        .await
        .err()
        .expect("opening must fail");
    assert_eq!(err.kind(), "port-unavailable", "{err}");
    let message = err.to_string();
    assert!(message.contains("/dev/harbor-no-such-port"), "{message}");
    assert!(message.contains("No such file"), "the OS error: {message}");
    assert!(message.contains("harbor ports"), "{message}");
}

#[tokio::test]
async fn a_port_in_use_is_busy() {
    let qemu = qemu_on_pty("band-qemu").await;
    let port = qemu.pty.to_string_lossy().into_owned();
    let _first = open(&port).await;
    let err = SerialTarget::open(&serial_config(&port))
        .await
        .err()
        .expect("a second open must fail");
    match &err {
        TargetError::PortUnavailable { problem, .. } => {
            assert_eq!(*problem, harbor::dut::PortProblem::Busy, "{err}")
        }
        other => panic!("expected port-unavailable, got {other}"),
    }
    assert!(
        err.to_string().contains("another program holds the port"),
        "{err}"
    );
}

#[tokio::test]
async fn an_emulator_that_dies_is_a_disconnect() {
    let mut qemu = qemu_on_pty("band-qemu").await;
    let mut band = open(&qemu.pty.to_string_lossy()).await;
    band.info().await.unwrap();
    qemu.process.kill().await;
    let err = band.info().await.unwrap_err();
    assert_eq!(err.kind(), "disconnected", "{err}");
    assert!(err.to_string().contains("answering Hello"), "{err}");
    assert_eq!(band.info().await.unwrap_err().kind(), "dead");
}

#[tokio::test]
async fn a_reset_needs_modem_lines_and_says_so() {
    // A pty has no DTR/RTS: the ESP32 reset fails by name instead of silently doing nothing.
    let qemu = qemu_on_pty("band-qemu").await;
    let mut config = serial_config(&qemu.pty.to_string_lossy());
    config.reset = harbor::dut::Reset::DtrRts;
    let err = SerialTarget::open(&config)
        .await
        .err()
        .expect("no modem lines on a pty");
    assert_eq!(err.kind(), "io", "{err}");
    assert!(err.to_string().contains("DTR/RTS"), "{err}");
}
