//! Shared by the qemu_* tests: where the firmware images are, and launching them.

#![allow(dead_code)] // each test file uses a different subset

use std::path::{Path, PathBuf};
use std::time::Duration;

use harbor::target::{QemuConfig, QemuTarget};

/// `<variant>.elf` as scripts/build-firmware leaves it (or under `$HARBOR_FIRMWARE_DIR`).
pub fn firmware(variant: &str) -> PathBuf {
    let dir = std::env::var_os("HARBOR_FIRMWARE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/firmware/elf"));
    let path = dir.join(format!("{variant}.elf"));
    assert!(
        path.is_file(),
        "firmware image {} is missing: run scripts/build-firmware (scripts/test does it before the tests)",
        path.display()
    );
    path
}

/// Generous exchange deadlines: two cores are shared with builds; hangs use short ones.
pub fn config(variant: &str) -> QemuConfig {
    let mut config = QemuConfig::new(firmware(variant));
    config.boot_timeout = Duration::from_secs(20);
    config.exchange_timeout = Duration::from_secs(20);
    config
}

pub async fn launch(variant: &str) -> QemuTarget {
    match QemuTarget::launch(config(variant)).await {
        Ok(target) => target,
        Err(e) => panic!("launching {variant}: {e}"),
    }
}
