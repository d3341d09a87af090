//! `harbor models import` on the Keras-made `har_conv1d` (TensorFlow's converter): the card it
//! writes, the band's input conversion within 0.01 % gain, and the exit-2 errors that name the
//! tensor or op at fault.

use harbor::board::BoardProfile;
use harbor::model::card::sha256_hex;
use harbor::model::import::MAX_GAIN_ERROR;
use harbor::model::{ModelCard, load_checked};

use crate::support::byo::{HAR_CLASSES, arg, har_tflite, harbor};

#[test]
fn import_writes_a_minimal_card_and_a_fine_conversion() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("har");
    let mean = "0.1,-9.6,0.8,0.0,0.02,-0.01";
    let std = "4.0,5.0,3.5,1.2,0.9,1.1";
    let (code, text) = harbor(&[
        "models",
        "import",
        &arg(&har_tflite()),
        "--out",
        &arg(&out),
        "--classes",
        HAR_CLASSES,
        "--rate",
        "20",
        "--hop",
        "30",
        &format!("--mean={mean}"),
        "--std",
        std,
    ]);
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("device_conversion for board esp32c3-band"),
        "{text}"
    );
    let card = ModelCard::load(&out.join("card.yaml")).unwrap();
    assert_eq!(card.provenance, "imported");
    assert_eq!(card.classes.len(), 7);
    assert_eq!(card.classes[6].name, "brushing_teeth");
    assert_eq!(
        (
            card.input.window_samples,
            card.input.window_stride_samples,
            card.input.rate_hz
        ),
        (60, 30, 20.0)
    );
    let bytes = std::fs::read(har_tflite()).unwrap();
    assert_eq!(card.file.sha256, sha256_hex(&bytes));
    assert_eq!(card.file.bytes, bytes.len() as u64);
    assert!(card.recipe == Default::default() && card.dataset == Default::default());
    assert!(!out.join("float.json").exists());
    // The card's fields are the input tensor's and the ones given.
    assert_eq!(
        (
            card.normalization.input_scale,
            card.normalization.input_zero_point
        ),
        (0.075_209_34, 7)
    );
    let q = &card.normalization.device_conversion;
    let board = BoardProfile::load("esp32c3-band").unwrap();
    let stds: Vec<f64> = std.split(',').map(|s| s.parse().unwrap()).collect();
    assert_eq!(stds.len(), 6);
    for (c, std_c) in stds.iter().enumerate() {
        let unit = if c < 3 {
            board.imu.accel_scale()
        } else {
            board.imu.gyro_scale()
        };
        let exact =
            unit / (std_c * f64::from(card.normalization.input_scale)) * (1u64 << q.shift) as f64;
        let error = ((f64::from(q.multiplier[c]) - exact) / exact).abs();
        assert!(error <= MAX_GAIN_ERROR, "channel {c}: gain error {error}");
    }
    // It loads like any model directory, integrity checked.
    assert!(load_checked(&out).is_ok());
    // A second import into the same directory is refused and changes nothing.
    let before = std::fs::read(out.join("card.yaml")).unwrap();
    let (code, text) = harbor(&[
        "models",
        "import",
        &arg(&har_tflite()),
        "--out",
        &arg(&out),
        "--classes",
        HAR_CLASSES,
    ]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("already holds a model"), "{text}");
    assert_eq!(std::fs::read(out.join("card.yaml")).unwrap(), before);
}

/// `harbor models import` with `extra` must exit 2 with every `needle`, writing nothing.
fn refused(model: &std::path::Path, extra: &[&str], needles: &[&str]) {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("m");
    let mut args = vec![
        "models".to_string(),
        "import".into(),
        arg(model),
        "--out".into(),
        arg(&out),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let (code, text) = harbor(&args);
    assert_eq!(code, 2, "{args:?}:\n{text}");
    for needle in needles {
        assert!(text.contains(needle), "no `{needle}` in:\n{text}");
    }
    assert!(!out.exists(), "a refused import wrote {}", out.display());
}

#[test]
fn an_output_count_other_than_the_classes_names_the_output_tensor() {
    refused(
        &har_tflite(),
        &["--classes", "a,b,c"],
        &["output tensor", "7 values", "3 classes"],
    );
}

#[test]
fn an_input_shape_other_than_window_by_channels_names_the_input_tensor() {
    refused(
        &har_tflite(),
        &["--classes", HAR_CLASSES, "--window", "80"],
        &["input tensor", "[1, 60, 6]", "--window 80"],
    );
}

#[test]
fn an_unsupported_op_is_named() {
    let model =
        harbor::datasets::workspace_root().join("fixtures/models/unsupported_shape_op.tflite");
    refused(
        &model,
        &["--classes", HAR_CLASSES],
        &["unsupported operator SHAPE"],
    );
}

#[test]
fn normalization_lists_need_six_positive_values() {
    refused(
        &har_tflite(),
        &["--classes", HAR_CLASSES, "--std", "1,2,3"],
        &["--std", "3 values"],
    );
    refused(
        &har_tflite(),
        &["--classes", HAR_CLASSES, "--std", "1,1,1,0,1,1"],
        &["--std", "above 0"],
    );
}
