//! The researcher's path of docs/byo-model.md, with a model harbor did not train (the Keras
//! fixture, converted by TensorFlow) and no float.json: import → infer on the host and on QEMU
//! against TFLite Micro's outputs → `harbor run` on the user's own windows (a `windows`
//! dataset), the device's saved outputs equal to TFLM's bit for bit. Also a bare `.tflite`
//! with an inline spec, and `validate` refusing what `run` refuses.

use std::path::{Path, PathBuf};

use harbor::npz::{NpyArray, NpyData};

use crate::support::byo::{HAR_CLASSES, arg, har_golden_npy, har_tflite, harbor, read_i8};

/// The user's windows as float (the input tensor's real values) with labels, as `.npz`.
/// The fixture has no ground truth: the labels are TFLM's classes, so accuracy here reads
/// "agrees with TFLM"; the bit-exact checks are the point.
fn windows_npz(dir: &Path, x: &Path, tflm: &Path) -> PathBuf {
    let (_, q) = read_i8(x);
    let (shape, reference) = read_i8(tflm);
    let n = shape[0];
    let real: Vec<f32> = q
        .iter()
        .map(|&v| (i32::from(v) - 7) as f32 * 0.075_209_34)
        .collect();
    let labels: Vec<i64> = reference
        .chunks(shape[1])
        .map(|o| harbor::model::argmax(o) as i64)
        .collect();
    let path = dir.join("windows.npz");
    harbor::npz::write(
        &path,
        &[
            (
                "x",
                &NpyArray::new(vec![n, 60, 6], NpyData::F32(real)).unwrap(),
            ),
            ("y", &NpyArray::new(vec![n], NpyData::I64(labels)).unwrap()),
        ],
    )
    .unwrap();
    path
}

fn scenario(dir: &Path, models: &str, windows: &Path, modes: &str) -> PathBuf {
    let firmware = crate::support::qemu::firmware("band-qemu");
    let path = dir.join("byo.yaml");
    std::fs::write(
        &path,
        format!(
            "name: byo\njobs: 2\ndatasets:\n  - {{ name: mine, kind: windows, path: {} }}\n\
             models:\n{models}targets:\n  - {{ name: qemu, kind: qemu, firmware: {} }}\n\
             modes: {modes}\nthresholds:\n  agreement_int8: \"== 1.0\"\n  int8_mismatches: \"== 0\"\n",
            windows.display(),
            firmware.display()
        ),
    )
    .unwrap();
    path
}

fn keras(name: &str) -> PathBuf {
    harbor::datasets::workspace_root()
        .join("fixtures/keras")
        .join(name)
}

/// The fixture's `meta.json`.
fn keras_meta() -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(keras("meta.json")).unwrap()).unwrap()
}

/// A comma-separated list of a meta.json array of numbers.
fn list(meta: &serde_json::Value, key: &str) -> String {
    meta[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

/// The committed LiteRT float reference of `variant` against TFLite Micro's int8 outputs on
/// the fixture's windows: (share of windows with the same class, float accuracy on labels).
fn float_reference_figures(variant: &str) -> (f64, f64) {
    let float = harbor::npz::read_npy(&keras(&format!("{variant}_f32_ref.npy"))).unwrap();
    let NpyData::F32(float) = float.data else {
        panic!("{variant}_f32_ref.npy is not float32");
    };
    let (shape, tflm) = read_i8(&keras(&format!("{variant}_tflm.npy")));
    let labels = harbor::npz::read_npy(&keras("labels.npy")).unwrap();
    let labels: Vec<usize> = match labels.data {
        NpyData::I64(v) => v.iter().map(|&l| l as usize).collect(),
        NpyData::I32(v) => v.iter().map(|&l| l as usize).collect(),
        other => panic!("labels.npy is {}", other.dtype_name()),
    };
    let classes = shape[1];
    let float: Vec<usize> = float.chunks(classes).map(harbor::model::argmax).collect();
    let int8: Vec<usize> = tflm.chunks(classes).map(harbor::model::argmax).collect();
    let n = int8.len() as f64;
    let same = float.iter().zip(&int8).filter(|(a, b)| a == b).count() as f64;
    let right = float.iter().zip(&labels).filter(|(a, b)| a == b).count() as f64;
    (same / n, right / n)
}

/// docs/byo-model.md's path with the Keras fixture (fixtures/keras): a Conv1D / MaxPooling1D /
/// GlobalAveragePooling1D / Dense network trained by Keras and converted by TensorFlow, its
/// own normalization in physical units, 32 labelled test windows and TFLite Micro's outputs.
#[test]
fn import_infer_and_run_the_keras_model_bit_exact() {
    let tmp = tempfile::tempdir().unwrap();
    let meta = keras_meta();
    let classes = meta["classes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect::<Vec<_>>()
        .join(",");
    let model = tmp.path().join("cnn");
    let (code, text) = harbor(&[
        "models".to_string(),
        "import".into(),
        arg(&keras("cnn_softmax_int8.tflite")),
        "--out".into(),
        arg(&model),
        "--classes".into(),
        classes.clone(),
        "--rate".into(),
        meta["rate_hz"].to_string(),
        "--window".into(),
        meta["window"].to_string(),
        "--hop".into(),
        meta["hop"].to_string(),
        format!("--mean={}", list(&meta, "mean")),
        format!("--std={}", list(&meta, "std")),
        "--float".into(),
        arg(&keras("cnn_softmax_f32.tflite")),
    ]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("max gain error"), "{text}");
    assert!(!model.join("float.json").exists());
    assert!(model.join("model_f32.tflite").is_file());

    // Host and band, int8 windows and float windows, against TFLite Micro's outputs.
    let tflm = keras("cnn_softmax_tflm.npy");
    for target in ["host", "qemu"] {
        for inputs in ["windows_int8.npy", "windows_f32.npy"] {
            let out = tmp.path().join(format!("{target}-{inputs}"));
            let (code, text) = harbor(&[
                "infer".to_string(),
                arg(&model),
                "--inputs".into(),
                arg(&keras(inputs)),
                "--out".into(),
                arg(&out),
                "--target".into(),
                target.into(),
                "--expect".into(),
                arg(&tflm),
            ]);
            assert_eq!(code, 0, "{target} {inputs}: {text}");
            assert!(text.contains("bit-exact: 0 of 32 windows differ"), "{text}");
        }
    }

    // `harbor run` on the user's own windows: the imported directory and the logits variant
    // as a bare .tflite with its input spec inline.
    let inline = format!(
        "  - {}\n  - {{ tflite: {}, name: cnn-logits, classes: [{}], window: 60, rate_hz: 20, hop: 30 }}\n",
        model.display(),
        keras("cnn_logits_int8.tflite").display(),
        classes.replace(',', ", ")
    );
    let firmware = crate::support::qemu::firmware("band-qemu");
    let s = tmp.path().join("byo.yaml");
    std::fs::write(
        &s,
        format!(
            "name: byo\njobs: 2\ndatasets:\n  - {{ name: mine, kind: windows, path: {}, labels: {} }}\n\
             models:\n{inline}targets:\n  - {{ name: qemu, kind: qemu, firmware: {} }}\n\
             modes: [tensor]\nthresholds:\n  agreement_int8: \"== 1.0\"\n",
            keras("windows_f32.npy").display(),
            keras("labels.npy").display(),
            firmware.display()
        ),
    )
    .unwrap();
    let (code, text) = harbor(&["validate".to_string(), arg(&s)]);
    assert_eq!(code, 0, "{text}");
    let report = tmp.path().join("report");
    let (code, text) = harbor(&[
        "run".to_string(),
        arg(&s),
        "--out".into(),
        arg(&report),
        "--save-outputs".into(),
    ]);
    assert_eq!(code, 0, "{text}");
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(report.join("report.json")).unwrap()).unwrap();
    let results = json["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    for (cell, variant) in results.iter().zip(["cnn_softmax", "cnn_logits"]) {
        assert_eq!(cell["windows_completed"], 32, "{cell}");
        assert_eq!(cell["agreement_int8"], 1.0, "{cell}");
        if variant == "cnn_softmax" {
            // Imported with --float: model_f32.tflite is the desktop reference.
            let (agreement, accuracy) = float_reference_figures(variant);
            assert_eq!(cell["agreement_float"], agreement, "{cell}");
            assert_eq!(cell["float_accuracy"], accuracy, "{cell}");
            assert_eq!(
                cell["float_accuracy"], meta["models"][variant]["f32_accuracy_on_windows"],
                "{cell}"
            );
        } else {
            assert!(cell["float_accuracy"].is_null(), "no float model: {cell}");
            assert!(cell["agreement_float"].is_null(), "no float model: {cell}");
        }
        // The band's accuracy on the labels is the one TFLite Micro's outputs give.
        assert_eq!(
            cell["accuracy"], meta["models"][variant]["int8_accuracy_on_windows"],
            "{cell}"
        );
    }
    // The band's saved outputs are TFLite Micro's, bit for bit.
    for (name, variant) in [("cnn", "cnn_softmax"), ("cnn-logits", "cnn_logits")] {
        let saved = report.join(format!("outputs/{name}__mine__qemu__tensor.npy"));
        assert_eq!(
            read_i8(&saved),
            read_i8(&keras(&format!("{variant}_tflm.npy"))),
            "{}",
            saved.display()
        );
    }
}

#[test]
fn validate_and_run_refuse_the_same_bad_inputs() {
    let tmp = tempfile::tempdir().unwrap();
    let (x, tflm, _) = har_golden_npy(tmp.path());
    let windows = windows_npz(tmp.path(), &x, &tflm);
    let inline = |classes: &str| {
        format!(
            "  - {{ tflite: {}, classes: [{classes}] }}\n",
            har_tflite().display()
        )
    };
    let cases: Vec<(String, &str, &str)> = vec![
        // Too few classes for the output tensor.
        (inline("a, b"), "[tensor]", "7 values, but 2 classes"),
        // A windows dataset cannot be streamed.
        (
            inline(&HAR_CLASSES.replace(',', ", ")),
            "[tensor, stream]",
            "stream mode streams recordings",
        ),
        // A bare .tflite without its input spec.
        (
            format!("  - {}\n", har_tflite().display()),
            "[tensor]",
            "needs its input described inline",
        ),
    ];
    for (models, modes, needle) in cases {
        let s = scenario(tmp.path(), &models, &windows, modes);
        let report = tmp.path().join("r");
        for args in [
            vec!["validate".to_string(), arg(&s)],
            vec!["run".into(), arg(&s), "--out".into(), arg(&report)],
        ] {
            let (code, text) = harbor(&args);
            assert_eq!(code, 2, "{args:?} {models}: {text}");
            assert!(text.contains(needle), "{args:?}: no `{needle}` in:\n{text}");
            assert!(!report.join("report.json").exists());
        }
    }
    // Windows that do not fit the model: 59 samples.
    let short = tmp.path().join("short.npz");
    harbor::npz::write(
        &short,
        &[
            (
                "x",
                &NpyArray::new(vec![1, 59, 6], NpyData::I8(vec![0; 354])).unwrap(),
            ),
            ("y", &NpyArray::new(vec![1], NpyData::I64(vec![0])).unwrap()),
        ],
    )
    .unwrap();
    let s = scenario(
        tmp.path(),
        &inline(&HAR_CLASSES.replace(',', ", ")),
        &short,
        "[tensor]",
    );
    let report = tmp.path().join("r");
    for args in [
        vec!["validate".to_string(), arg(&s)],
        vec!["run".into(), arg(&s), "--out".into(), arg(&report)],
    ] {
        let (code, text) = harbor(&args);
        assert_eq!(code, 2, "{args:?}: {text}");
        assert!(text.contains("[1, 59, 6]"), "{args:?}: {text}");
        assert!(!report.join("report.json").exists());
    }
}

/// A user's own float reference outputs (`reference:` in a `windows` dataset) give
/// `agreement_float` for a model without a float `.tflite`; a reference of the wrong shape
/// and a float `.tflite` that is not the carded one are refused by validate and run alike.
#[test]
fn user_reference_outputs_and_the_float_file_are_checked_and_scored() {
    let tmp = tempfile::tempdir().unwrap();
    let meta = keras_meta();
    let classes = meta["classes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect::<Vec<_>>()
        .join(", ");
    let firmware = crate::support::qemu::firmware("band-qemu");
    let write = |name: &str, models: &str, reference: &Path| {
        let s = tmp.path().join(name);
        std::fs::write(
            &s,
            format!(
                "name: byo-ref\ndatasets:\n  - {{ name: mine, kind: windows, path: {}, labels: {}, reference: {} }}\n\
                 models:\n{models}targets:\n  - {{ name: qemu, kind: qemu, firmware: {} }}\n\
                 modes: [tensor]\n",
                keras("windows_f32.npy").display(),
                keras("labels.npy").display(),
                reference.display(),
                firmware.display()
            ),
        )
        .unwrap();
        s
    };
    let inline = format!(
        "  - {{ tflite: {}, name: cnn-logits, classes: [{classes}], window: 60, rate_hz: 20, hop: 30 }}\n",
        keras("cnn_logits_int8.tflite").display()
    );
    let s = write("ref.yaml", &inline, &keras("cnn_logits_f32_ref.npy"));
    let report = tmp.path().join("report");
    let (code, text) = harbor(&["run".to_string(), arg(&s), "--out".into(), arg(&report)]);
    assert_eq!(code, 0, "{text}");
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(report.join("report.json")).unwrap()).unwrap();
    let cell = &json["results"][0];
    let (agreement, accuracy) = float_reference_figures("cnn_logits");
    assert_eq!(cell["agreement_float"], agreement, "{cell}");
    assert_eq!(cell["float_accuracy"], accuracy, "{cell}");

    // One label per window is not one row of outputs per window.
    let bad = write("bad.yaml", &inline, &keras("labels.npy"));
    for args in [
        vec!["validate".to_string(), arg(&bad)],
        vec![
            "run".into(),
            arg(&bad),
            "--out".into(),
            arg(&tmp.path().join("r")),
        ],
    ] {
        let (code, text) = harbor(&args);
        assert_eq!(code, 2, "{args:?}: {text}");
        assert!(
            text.contains("the reference has shape [32]") && text.contains("[32, 7]"),
            "{args:?}: {text}"
        );
    }

    // An imported directory whose float .tflite was changed after import.
    let model = tmp.path().join("cnn");
    let (code, text) = harbor(&[
        "models".to_string(),
        "import".into(),
        arg(&keras("cnn_logits_int8.tflite")),
        "--out".into(),
        arg(&model),
        "--classes".into(),
        classes.replace(", ", ","),
        "--float".into(),
        arg(&keras("cnn_logits_f32.tflite")),
    ]);
    assert_eq!(code, 0, "{text}");
    let f32_file = model.join("model_f32.tflite");
    let mut bytes = std::fs::read(&f32_file).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 0x01;
    std::fs::write(&f32_file, &bytes).unwrap();
    let s = write(
        "tampered.yaml",
        &format!("  - {}\n", model.display()),
        &keras("cnn_logits_f32_ref.npy"),
    );
    for args in [
        vec!["validate".to_string(), arg(&s)],
        vec![
            "run".into(),
            arg(&s),
            "--out".into(),
            arg(&tmp.path().join("r")),
        ],
    ] {
        let (code, text) = harbor(&args);
        assert_eq!(code, 2, "{args:?}: {text}");
        assert!(text.contains("float_file.sha256"), "{args:?}: {text}");
    }
}
