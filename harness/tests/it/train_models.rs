//! The committed model variants under models/: cards parse and describe the files next to
//! them, and harbor-core's int8 outputs equal TFLite Micro's on the committed golden windows.

use std::path::{Path, PathBuf};

use harbor::model::ClassSet;
use harbor::model::card::{ModelCard, sha256_hex};
use harbor::model::int8;
use harbor::model::{Arch, Variant};

fn models_dir() -> PathBuf {
    harbor::datasets::workspace_root().join("models")
}

/// Every committed model directory (those with a card).
fn model_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(models_dir())
        .expect("models/ exists")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("card.yaml").is_file())
        .collect();
    dirs.sort();
    dirs
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn the_generalized_small_model_is_committed() {
    assert!(
        models_dir()
            .join("small-int8-generalized/card.yaml")
            .is_file()
    );
    assert!(
        models_dir()
            .join("small-int8-generalized/model.tflite")
            .is_file()
    );
}

#[test]
fn cards_parse_and_match_their_files() {
    for dir in model_dirs() {
        let card = ModelCard::load(&dir.join("card.yaml")).unwrap_or_else(|e| panic!("{e}"));
        let bytes = read(&dir.join(&card.file.name));
        assert_eq!(
            card.file.bytes,
            bytes.len() as u64,
            "{}: size",
            dir.display()
        );
        assert_eq!(
            card.file.sha256,
            sha256_hex(&bytes),
            "{}: sha256",
            dir.display()
        );
        // The card's architecture figures are the variant's (hand-checked in train_arch.rs).
        let variant: Variant = card.variant.parse().expect("known variant");
        let arch = Arch::new(
            variant,
            card.input.window_samples,
            card.input.channels.len(),
            card.classes.len(),
        )
        .expect("arch");
        assert_eq!(card.architecture.params, arch.params(), "{}", dir.display());
        assert_eq!(
            card.architecture.macs_per_window,
            arch.macs(),
            "{}",
            dir.display()
        );
        // The model has one output per card class, and the classes read back as `--classes`.
        let mut arena = vec![0u8; int8::arena_bytes(&bytes).expect("arena")];
        let host = int8::HostInt8::new(&bytes, &mut arena).expect("plans");
        assert_eq!(host.output_len, card.classes.len(), "{}", dir.display());
        let spec: Vec<String> = card
            .classes
            .iter()
            .map(|c| format!("{}={}", c.name, c.activities.join("+")))
            .collect();
        let classes = ClassSet::parse(&spec.join(",")).expect("card classes parse");
        assert_eq!(classes.len(), card.classes.len(), "{}", dir.display());
        // Models trained without `--classes` have the band's 8 classes.
        if !card.reproduce.contains("--classes") {
            let names: Vec<&str> = card.classes.iter().map(|c| c.name.as_str()).collect();
            let band = ClassSet::wisdm_band();
            assert_eq!(
                names,
                band.classes.iter().map(String::as_str).collect::<Vec<_>>(),
                "{}",
                dir.display()
            );
        }
    }
}

#[test]
fn harbor_core_matches_tflite_micro_on_committed_golden_windows() {
    let mut checked = 0;
    for dir in model_dirs() {
        let golden = dir.join("golden");
        if !golden.join("tflm_outputs.i8").is_file() {
            continue;
        }
        let model = read(&dir.join("model.tflite"));
        let inputs = read(&golden.join("inputs.i8"));
        let expected = read(&golden.join("tflm_outputs.i8"));
        let mut arena = vec![0u8; int8::arena_bytes(&model).expect("arena")];
        let mut host = int8::HostInt8::new(&model, &mut arena).expect("plans");
        let (n_in, n_out) = (host.input_len, host.output_len);
        assert_eq!(
            inputs.len() % n_in,
            0,
            "{}: inputs not whole windows",
            dir.display()
        );
        let windows = inputs.len() / n_in;
        assert_eq!(
            expected.len(),
            windows * n_out,
            "{}: outputs do not match inputs",
            dir.display()
        );
        assert!(
            windows >= 32,
            "{}: too few golden windows ({windows})",
            dir.display()
        );
        for w in 0..windows {
            let input: Vec<i8> = inputs[w * n_in..(w + 1) * n_in]
                .iter()
                .map(|&b| b as i8)
                .collect();
            let want: Vec<i8> = expected[w * n_out..(w + 1) * n_out]
                .iter()
                .map(|&b| b as i8)
                .collect();
            assert_eq!(
                host.run(&input).expect("invoke"),
                want,
                "{}: window {w}",
                dir.display()
            );
        }
        checked += 1;
    }
    assert!(
        checked >= 1,
        "no model directory has TFLite Micro golden outputs"
    );
}
