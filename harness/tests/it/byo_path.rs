//! The researcher's path of docs/byo-model.md, with a model harbor did not train (the Keras
//! `har_conv1d`, converted by TensorFlow) and no float.json: import → infer on the host and on
//! QEMU against TFLite Micro's outputs → `harbor run` on the user's own windows (a `windows`
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

#[test]
fn import_infer_and_run_a_foreign_model_bit_exact() {
    let tmp = tempfile::tempdir().unwrap();
    let (x, tflm, n) = har_golden_npy(tmp.path());
    let model = tmp.path().join("har");
    let (code, text) = harbor(&[
        "models",
        "import",
        &arg(&har_tflite()),
        "--out",
        &arg(&model),
        "--classes",
        HAR_CLASSES,
        "--rate",
        "20",
        "--window",
        "60",
        "--hop",
        "30",
    ]);
    assert_eq!(code, 0, "{text}");
    assert!(!model.join("float.json").exists());
    for target in ["host", "qemu"] {
        let out = tmp.path().join(format!("{target}.npy"));
        let (code, text) = harbor(&[
            "infer",
            &arg(&model),
            "--inputs",
            &arg(&x),
            "--out",
            &arg(&out),
            "--target",
            target,
            "--expect",
            &arg(&tflm),
        ]);
        assert_eq!(code, 0, "{target}: {text}");
        assert!(text.contains("bit-exact"), "{text}");
    }

    let windows = windows_npz(tmp.path(), &x, &tflm);
    let inline = format!(
        "  - {}\n  - {{ tflite: {}, name: har-inline, classes: [{}] }}\n",
        model.display(),
        har_tflite().display(),
        HAR_CLASSES.replace(',', ", ")
    );
    let s = scenario(tmp.path(), &inline, &windows, "[tensor]");
    let (code, text) = harbor(&["validate", &arg(&s)]);
    assert_eq!(code, 0, "{text}");
    let report = tmp.path().join("report");
    let (code, text) = harbor(&["run", &arg(&s), "--out", &arg(&report), "--save-outputs"]);
    assert_eq!(code, 0, "{text}");
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(report.join("report.json")).unwrap()).unwrap();
    let results = json["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    for cell in results {
        assert_eq!(cell["windows"], n, "{cell}");
        assert_eq!(cell["windows_completed"], n, "{cell}");
        assert_eq!(
            cell["int8_mismatches"].as_array().map(Vec::len),
            Some(0),
            "{cell}"
        );
        assert_eq!(cell["agreement_int8"], 1.0, "{cell}");
        assert!(
            cell["float_accuracy"].is_null(),
            "no float reference: {cell}"
        );
    }
    // The device's outputs, saved per cell, are TFLite Micro's.
    for name in ["har", "har-inline"] {
        let saved = report.join(format!("outputs/{name}__mine__qemu__tensor.npy"));
        assert_eq!(read_i8(&saved), read_i8(&tflm), "{}", saved.display());
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
