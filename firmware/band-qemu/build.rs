//! Links with link.x, the ESP32-C3 memory budget laid onto QEMU virt's RAM. With feature
//! `mlperf`, names the model baked into the image (`BAND_BAKED_MODEL`, default the small
//! generalized HAR model) for `include_bytes!`.
use std::path::PathBuf;

fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    println!("cargo:rustc-link-search={dir}");
    println!("cargo:rustc-link-arg=-Tlink.x");
    println!("cargo:rerun-if-changed=link.x");
    if std::env::var_os("CARGO_FEATURE_MLPERF").is_some() {
        println!("cargo:rerun-if-env-changed=BAND_BAKED_MODEL");
        let model = std::env::var_os("BAND_BAKED_MODEL").map_or_else(
            || PathBuf::from(&dir).join("../../models/small-int8-generalized/model.tflite"),
            PathBuf::from,
        );
        let model = model
            .canonicalize()
            .unwrap_or_else(|e| panic!("the model to bake in, {}: {e}", model.display()));
        println!("cargo:rerun-if-changed={}", model.display());
        println!("cargo:rustc-env=BAND_BAKED_MODEL={}", model.display());
    }
}
