//! The band firmware boots in a real QEMU and answers both protocols.

use harbor::dut::{QemuConfig, QemuTarget, Target};

#[tokio::test]
async fn boots_and_describes_itself() {
    let mut band = crate::support::qemu::launch("band-qemu").await;
    let info = band.info().await.unwrap();
    assert_eq!(info.name, "band-qemu");
    assert_eq!(info.version, [0, 1, 0]);
    // The budget firmware/band-qemu/link.x and app.rs reserve (docs/emulation.md).
    assert_eq!(info.stack_size, 96 * 1024);
    assert_eq!(info.arena_size, 128 * 1024);
    assert_eq!(info.model_slot_size, 256 * 1024);
    assert_eq!(info.max_payload, 1024);
}

#[tokio::test]
async fn answers_mlperf_tiny_text_commands() {
    let mut band = crate::support::qemu::launch("band-qemu").await;
    assert_eq!(
        band.command("name").await.unwrap(),
        ["m-name-dut-[harbor band-qemu]"]
    );
    assert_eq!(
        band.command("db load 4").await.unwrap(),
        ["m-[Expecting 4 bytes]"]
    );
    // Hex may arrive over several `db` commands; m-load-done only after the last byte.
    assert!(band.command("db 0102").await.unwrap().is_empty());
    assert_eq!(band.command("db FF04").await.unwrap(), ["m-load-done"]);
    assert_eq!(
        band.command("db print").await.unwrap(),
        ["m-buffer-01-02-ff-04"]
    );

    // Inference needs a model; harbor loads models with binary frames (qemu_binary.rs).
    assert_eq!(
        band.command("infer 2 1").await.unwrap(),
        ["m-warmup-start-1", "e-[No model loaded]"]
    );
}

#[tokio::test]
async fn text_errors_use_the_reference_messages() {
    let mut band = crate::support::qemu::launch("band-qemu").await;
    assert_eq!(
        band.command("fly").await.unwrap(),
        ["e-[Unknown command: fly]"]
    );
    assert_eq!(
        band.command("db load 2").await.unwrap(),
        ["m-[Expecting 2 bytes]"]
    );
    assert_eq!(
        band.command("db 123").await.unwrap(),
        ["e-[Insufficent number of hex digits]"]
    );
    assert_eq!(
        band.command("infer 0").await.unwrap(),
        ["e-[Inference iterations must be >0]"]
    );
    // Still answering after the errors.
    assert_eq!(
        band.command("name").await.unwrap(),
        ["m-name-dut-[harbor band-qemu]"]
    );
}

#[tokio::test]
async fn missing_emulator_is_named_with_the_fix() {
    let mut config = QemuConfig::new(crate::support::qemu::firmware("band-qemu"));
    config.qemu = "/nonexistent/qemu-system-riscv32".into();
    let err = QemuTarget::launch(config)
        .await
        .err()
        .expect("launch must fail");
    assert_eq!(err.kind(), "emulator-missing", "{err}");
    let message = err.to_string();
    assert!(
        message.contains("scripts/setup") && message.contains("qemu-system-misc"),
        "{message}"
    );
}

#[tokio::test]
async fn missing_firmware_is_named() {
    let err = QemuTarget::launch(QemuConfig::new("/nonexistent/band.elf"))
        .await
        .err()
        .expect("launch must fail");
    assert_eq!(err.kind(), "firmware-missing", "{err}");
    assert!(err.to_string().contains("scripts/build-firmware"), "{err}");
}
