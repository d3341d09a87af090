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
async fn an_emulator_killed_by_a_signal_is_named_as_such() {
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
        TargetError::EmulatorKilled { signal, .. } => assert_eq!(*signal, 9),
        other => panic!("expected emulator-killed, got {other}"),
    }
    assert_eq!(err.kind(), "emulator-killed");
    assert!(
        err.is_infrastructure(),
        "the harness's trouble, not the firmware's"
    );
    assert!(
        err.to_string()
            .contains("emulator killed by signal 9 (SIGKILL)"),
        "{err}"
    );
}

#[tokio::test]
async fn a_stopped_emulator_is_named_stalled_at_the_deadline_and_killed() {
    let mut config = crate::support::qemu::config("band-qemu");
    config.exchange_timeout = Duration::from_secs(2);
    let mut band = QemuTarget::launch(config).await.unwrap();
    band.info().await.unwrap();
    let pid = band.pid().expect("QEMU is running");
    // SAFETY: stops the emulator this test started.
    assert_eq!(unsafe { libc::kill(pid as libc::pid_t, libc::SIGSTOP) }, 0);
    let err = band.info().await.unwrap_err();
    match &err {
        TargetError::EmulatorStalled { pid: stopped, .. } => assert_eq!(*stopped, pid),
        other => panic!("expected emulator-stalled, got {other}"),
    }
    assert!(err.is_infrastructure(), "{err}");
    assert!(
        err.to_string().contains("emulator stalled (process")
            && err.to_string().contains("SIGSTOP"),
        "{err}"
    );
    // Killed, not left stopped: SIGKILL ends a stopped process.
    let gone = (0..50).any(|_| {
        std::thread::sleep(Duration::from_millis(100));
        std::fs::read_to_string(format!("/proc/{pid}/stat")).map_or(true, |s| {
            s.rsplit_once(')')
                .is_some_and(|(_, r)| r.trim_start().starts_with('Z'))
        })
    });
    assert!(gone, "the stopped emulator {pid} was not killed");
    drop(band);
}
