//! Broken firmware is reported as named failures, and the harness never hangs on it.
//! The variants answer three commands, then hang or crash on the fourth.

use std::time::Duration;

use harbor::dut::{QemuTarget, Target, TargetError};

#[tokio::test]
async fn hung_firmware_is_reported_as_a_hang() {
    let mut config = crate::support::qemu::config("band-qemu-hang");
    config.exchange_timeout = Duration::from_secs(3);
    let mut band = QemuTarget::launch(config).await.unwrap();
    for _ in 0..3 {
        band.info().await.unwrap();
    }
    let err = band.info().await.unwrap_err();
    assert!(matches!(err, TargetError::Hang { .. }), "{err}");
    assert!(err.to_string().contains("answering Hello"), "{err}");
    // The emulator was killed; the target says so instead of waiting again.
    let again = band.command("name").await.unwrap_err();
    assert_eq!(again.kind(), "dead", "{again}");
}

#[tokio::test]
async fn crashing_firmware_is_reported_as_a_trap() {
    let mut band = crate::support::qemu::launch("band-qemu-crash").await;
    for _ in 0..3 {
        band.info().await.unwrap();
    }
    match band.infer(&[1, 2, 3]).await {
        Err(TargetError::Trap { report, during, .. }) => {
            assert_eq!(report.mcause, 2, "illegal instruction");
            assert_eq!(report.cause_name(), "illegal instruction");
            // The faulting instruction lies in the firmware's flash (code) region.
            assert!(
                (0x8000_0000..0x8040_0000).contains(&report.mepc),
                "mepc 0x{:08x}",
                report.mepc
            );
            assert!(during.contains("TensorInfer"), "{during}");
        }
        other => panic!("expected a trap, got {other:?}"),
    }
}

#[tokio::test]
async fn a_crash_during_a_text_command_is_a_trap_too() {
    let mut band = crate::support::qemu::launch("band-qemu-crash").await;
    for _ in 0..3 {
        band.command("name").await.unwrap();
    }
    let err = band.command("name").await.unwrap_err();
    assert_eq!(err.kind(), "trap", "{err}");
}

#[tokio::test]
async fn an_emulator_that_dies_is_reported_as_exited() {
    let mut band = crate::support::qemu::launch("band-qemu").await;
    band.info().await.unwrap();
    let pid = band.pid().expect("QEMU is running");
    // Kill the emulator from outside, as an OOM killer or a crash would.
    let status = std::process::Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let err = band.info().await.unwrap_err();
    match &err {
        TargetError::Exited { code, .. } => {
            assert_eq!(*code, None, "killed by a signal: no exit code")
        }
        other => panic!("expected exited, got {other}"),
    }
    assert!(err.to_string().contains("killed by a signal"), "{err}");
}
