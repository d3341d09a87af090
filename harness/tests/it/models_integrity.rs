//! Every load of a model directory checks `model.tflite` against its card: a flipped weight
//! byte, another model's file and a wrong class count are exit-2 errors naming both values,
//! in `infer`, `eval`, `bench`, `validate` and `run` alike.

use std::path::{Path, PathBuf};

use harbor::model::{IntegrityError, load_checked};

use crate::support::byo::harbor;

fn models() -> PathBuf {
    harbor::datasets::workspace_root().join("models")
}

/// A copy of a committed model directory, to damage.
fn copy_model(name: &str, into: &Path) -> PathBuf {
    let dir = into.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    for file in ["card.yaml", "model.tflite", "float.json"] {
        std::fs::copy(models().join(name).join(file), dir.join(file)).unwrap();
    }
    dir
}

/// One window of int8 zeros for the 60 × 6 input, as `.npy`.
fn zero_window(into: &Path) -> PathBuf {
    let path = into.join("x.npy");
    let array =
        harbor::npz::NpyArray::new(vec![1, 60, 6], harbor::npz::NpyData::I8(vec![0; 360])).unwrap();
    harbor::npz::write_npy(&path, &array).unwrap();
    path
}

/// A scenario replaying `model` on the user's windows (no recordings needed to validate).
fn scenario(into: &Path, model: &Path, windows: &Path) -> PathBuf {
    let labels = into.join("y.npy");
    harbor::npz::write_npy(
        &labels,
        &harbor::npz::NpyArray::new(vec![1], harbor::npz::NpyData::I64(vec![0])).unwrap(),
    )
    .unwrap();
    let firmware = harbor::datasets::workspace_root().join("target/firmware/elf/band-qemu.elf");
    let path = into.join("s.yaml");
    std::fs::write(
        &path,
        format!(
            "name: integrity\ndatasets:\n  - {{ kind: windows, path: {}, labels: {} }}\n\
             models:\n  - {}\ntargets:\n  - {{ name: qemu, kind: qemu, firmware: {} }}\nmodes: [tensor]\n",
            windows.display(),
            labels.display(),
            model.display(),
            firmware.display()
        ),
    )
    .unwrap();
    path
}

/// Every command that loads a model directory refuses `dir` with exit 2 and `needles`.
fn every_loader_refuses(dir: &Path, tmp: &Path, needles: &[&str]) {
    let x = zero_window(tmp);
    let y = tmp.join("y-out.npy");
    let s = scenario(tmp, dir, &x);
    let d = dir.to_str().unwrap();
    let windows = tmp.join("none.npz");
    let report = tmp.join("report");
    let commands: Vec<Vec<&str>> = vec![
        vec![
            "infer",
            d,
            "--inputs",
            x.to_str().unwrap(),
            "--out",
            y.to_str().unwrap(),
        ],
        vec!["eval", "--model", d, "--windows", windows.to_str().unwrap()],
        vec!["bench", "--model", d, "--windows", "1"],
        vec!["validate", s.to_str().unwrap()],
        vec![
            "run",
            s.to_str().unwrap(),
            "--out",
            report.to_str().unwrap(),
        ],
    ];
    for args in commands {
        let (code, text) = harbor(&args);
        assert_eq!(code, 2, "harbor {args:?} should refuse the model:\n{text}");
        for needle in needles {
            assert!(
                text.contains(needle),
                "harbor {args:?}: no `{needle}` in:\n{text}"
            );
        }
        assert!(
            !y.exists(),
            "harbor {args:?} wrote outputs for a refused model"
        );
        assert!(
            !tmp.join("report/report.json").exists(),
            "harbor {args:?} wrote a report"
        );
    }
}

#[test]
fn an_intact_copy_loads_and_infers() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = copy_model("small-int8-generalized", tmp.path());
    let checked = load_checked(&dir).unwrap();
    assert_eq!(checked.card.classes.len(), 8);
    let x = zero_window(tmp.path());
    let y = tmp.path().join("y.npy");
    let (code, text) = harbor(&[
        "infer",
        dir.to_str().unwrap(),
        "--inputs",
        x.to_str().unwrap(),
        "--out",
        y.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{text}");
    let s = scenario(tmp.path(), &dir, &x);
    let (code, text) = harbor(&["validate", s.to_str().unwrap()]);
    assert_eq!(code, 0, "{text}");
}

#[test]
fn a_flipped_weight_byte_is_refused_naming_both_hashes() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = copy_model("small-int8-generalized", tmp.path());
    let card = harbor::model::ModelCard::load(&dir.join("card.yaml")).unwrap();
    let path = dir.join("model.tflite");
    let mut bytes = std::fs::read(&path).unwrap();
    // A byte inside the weights: the file still parses and runs, only its hash tells.
    let at = bytes.len() / 2;
    bytes[at] ^= 0x01;
    std::fs::write(&path, &bytes).unwrap();
    let flipped = harbor::model::card::sha256_hex(&bytes);
    assert!(
        harbor::model::HostModel::load(&path).is_ok(),
        "still a valid model"
    );
    match load_checked(&dir) {
        Err(IntegrityError::Sha256 { card: c, file, .. }) => {
            assert_eq!(
                (c.as_str(), file.as_str()),
                (card.file.sha256.as_str(), flipped.as_str())
            );
        }
        Err(other) => panic!("wrong error: {other}"),
        Ok(_) => panic!("a flipped byte loaded"),
    }
    every_loader_refuses(&dir, tmp.path(), &[&card.file.sha256, &flipped]);
}

#[test]
fn another_models_file_is_refused_naming_both_sizes() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = copy_model("small-int8-generalized", tmp.path());
    let tiny = models().join("tiny-int8-generalized/model.tflite");
    std::fs::copy(&tiny, dir.join("model.tflite")).unwrap();
    let (small_bytes, tiny_bytes) = (
        std::fs::metadata(models().join("small-int8-generalized/model.tflite"))
            .unwrap()
            .len(),
        std::fs::metadata(&tiny).unwrap().len(),
    );
    assert!(
        matches!(load_checked(&dir), Err(IntegrityError::Size { card, file, .. })
        if card == small_bytes && file == tiny_bytes)
    );
    every_loader_refuses(
        &dir,
        tmp.path(),
        &[
            &format!("{tiny_bytes} bytes"),
            &format!("{small_bytes} bytes"),
        ],
    );
}

#[test]
fn a_card_with_the_wrong_class_count_is_refused_naming_both_counts() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = copy_model("small-int8-generalized", tmp.path());
    let mut card = harbor::model::ModelCard::load(&dir.join("card.yaml")).unwrap();
    card.classes.pop();
    std::fs::write(dir.join("card.yaml"), card.to_yaml().unwrap()).unwrap();
    assert!(matches!(
        load_checked(&dir),
        Err(IntegrityError::Classes {
            classes: 7,
            outputs: 8,
            ..
        })
    ));
    every_loader_refuses(&dir, tmp.path(), &["8 values", "7 classes"]);
}
