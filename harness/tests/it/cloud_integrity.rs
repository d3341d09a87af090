//! The mock cloud and OTA scenarios load model directories through the integrity check: a
//! flipped weight byte in `model.tflite` is refused (exit 2 for `validate` and `run`, an error
//! for the cloud and for personalization's base model), naming the card's and the file's
//! SHA-256.

use std::path::Path;

use harbor::cloud::{CloudConfig, CloudServer};
use harbor::model::card::sha256_hex;
use harbor::model::{ModelCard, ModelDirError, Trained};

use crate::support::byo::{arg, harbor};

/// A copy of models/small-int8-generalized with one weight byte flipped: (card hash, file hash).
fn tampered_copy(dir: &Path) -> (String, String) {
    let source = harbor::datasets::workspace_root().join("models/small-int8-generalized");
    std::fs::create_dir_all(dir).unwrap();
    for file in ["card.yaml", "float.json", "model.tflite"] {
        std::fs::copy(source.join(file), dir.join(file)).unwrap();
    }
    let mut bytes = std::fs::read(dir.join("model.tflite")).unwrap();
    // Past the flatbuffer's tables, inside the weight buffers.
    let at = bytes.len() * 2 / 3;
    bytes[at] ^= 0x10;
    std::fs::write(dir.join("model.tflite"), &bytes).unwrap();
    let card = ModelCard::load(&dir.join("card.yaml")).unwrap();
    (card.file.sha256, sha256_hex(&bytes))
}

#[test]
fn a_flipped_weight_byte_is_refused_by_ota_cloud_and_personalization() {
    let tmp = tempfile::tempdir().unwrap();
    let model = tmp.path().join("model");
    let (card_hash, file_hash) = tampered_copy(&model);
    assert_ne!(card_hash, file_hash);
    let names_both = |text: &str| text.contains(&card_hash) && text.contains(&file_hash);

    let scenario = tmp.path().join("ota.yaml");
    std::fs::write(
        &scenario,
        format!(
            "kind: ota\nname: tampered\nmodel: {}\ncases:\n  - {{name: ok, expect: accepted}}\n",
            model.display()
        ),
    )
    .unwrap();
    let out = tmp.path().join("out");
    for args in [
        vec!["validate".to_string(), arg(&scenario)],
        vec!["run".into(), arg(&scenario), "--out".into(), arg(&out)],
    ] {
        let (code, text) = harbor(&args);
        assert_eq!(code, 2, "{args:?}: {text}");
        assert!(names_both(&text), "{args:?}: both hashes in:\n{text}");
        assert!(!out.join("report.json").exists());
    }

    match CloudServer::start(CloudConfig::new(&model)) {
        Ok(_) => panic!("the cloud served a model that is not its card's"),
        Err(e) => assert!(names_both(&e.to_string()), "{e}"),
    }

    match Trained::load(&model) {
        Err(e @ ModelDirError::Integrity(_)) => assert!(names_both(&e.to_string()), "{e}"),
        Err(e) => panic!("not an integrity error: {e}"),
        Ok(_) => panic!("a tampered base model loaded"),
    }
}
