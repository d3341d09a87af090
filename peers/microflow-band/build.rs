//! Links with link.x and names the files the images embed: `PEER_HARBOR_MODEL` (default the
//! small peer model) and `PEER_INPUTS` (default its test windows). MicroFlow's macro takes a
//! literal path, so its image picks the model with a feature (src/bin/microflow.rs).
//! `PEER_HARBOR_PLAN` (no default) is the Rust file `harbor models compile` wrote for
//! peer-harbor-compiled.
use std::path::PathBuf;

fn main() {
    let dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    println!("cargo:rustc-link-search={}", dir.display());
    println!("cargo:rustc-link-arg-bins=-Tlink.x");
    println!("cargo:rerun-if-changed=link.x");
    for variant in ["tiny", "small", "base"] {
        println!("cargo:rerun-if-changed=model/{variant}/model.tflite");
    }
    for (var, default) in [
        ("PEER_HARBOR_MODEL", "model/small/model.tflite"),
        ("PEER_INPUTS", "model/small/inputs.i8"),
    ] {
        println!("cargo:rerun-if-env-changed={var}");
        let path = std::env::var_os(var).map_or_else(|| dir.join(default), PathBuf::from);
        let path = path
            .canonicalize()
            .unwrap_or_else(|e| panic!("{var}, {}: {e}", path.display()));
        println!("cargo:rerun-if-changed={}", path.display());
        println!("cargo:rustc-env={var}={}", path.display());
    }
    // The compiled plan (`harbor models compile`), only for peer-harbor-compiled.
    println!("cargo:rerun-if-env-changed=PEER_HARBOR_PLAN");
    if let Some(plan) = std::env::var_os("PEER_HARBOR_PLAN") {
        println!("cargo:rerun-if-changed={}", PathBuf::from(&plan).display());
        println!(
            "cargo:rustc-env=PEER_HARBOR_PLAN={}",
            PathBuf::from(plan).display()
        );
    }
}
