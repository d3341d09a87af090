//! Shared by the qemu_* tests: where the firmware images are, and launching them.

use std::path::{Path, PathBuf};
use std::time::Duration;

use harbor::dut::{QemuConfig, QemuTarget};

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

/// A model from fixtures/models and its TFLM golden vectors (format in make_golden.py).
pub struct Golden {
    pub model: Vec<u8>,
    pub input_len: usize,
    pub output_len: usize,
    pub records: Vec<(Vec<i8>, Vec<i8>)>,
}

pub fn fixture_model(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/models")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub fn golden(stem: &str) -> Golden {
    let model = fixture_model(&format!("{stem}.tflite"));
    let bytes = fixture_model(&format!("{stem}.golden"));
    let golden = harbor_core::golden::GoldenVectors::parse(&bytes)
        .unwrap_or_else(|e| panic!("{stem}.golden: {e}"));
    let as_i8 = |b: &[u8]| b.iter().map(|&v| v as i8).collect::<Vec<i8>>();
    Golden {
        model,
        input_len: golden.input_len,
        output_len: golden.output_len,
        records: golden
            .records()
            .map(|(i, o)| (as_i8(i), as_i8(o)))
            .collect(),
    }
}
