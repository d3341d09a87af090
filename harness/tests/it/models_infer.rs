//! `harbor infer` on given windows: host and QEMU outputs equal TFLite Micro's for the
//! Keras-made `har_conv1d`; `--expect` reports a mismatch with its LSB histogram and exits 1;
//! float windows are quantized with the input's parameters; a shape that does not fit is exit 2.

use std::path::Path;

use harbor::npz::{NpyArray, NpyData, write_npy};

use crate::support::byo::{arg, har_golden_npy, har_tflite, harbor, read_i8, write_i8};

/// `harbor infer <har_conv1d> --inputs X --out Y` plus `extra`.
fn infer_har(x: &Path, out: &Path, extra: &[&str]) -> (i32, String) {
    let mut args = vec![
        "infer".to_string(),
        arg(&har_tflite()),
        "--inputs".into(),
        arg(x),
        "--out".into(),
        arg(out),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    harbor(&args)
}

#[test]
fn host_outputs_equal_tflm_and_a_changed_reference_fails() {
    let tmp = tempfile::tempdir().unwrap();
    let (x, tflm, n) = har_golden_npy(tmp.path());
    let out = tmp.path().join("y.npy");
    let (code, text) = infer_har(&x, &out, &["--expect", &arg(&tflm)]);
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("bit-exact: 0 of 200 windows differ"),
        "{text}"
    );
    assert_eq!(read_i8(&out), read_i8(&tflm));

    // One value off by 3 LSB in window 5: exit 1, the histogram and the mismatch.
    let (shape, mut wrong) = read_i8(&tflm);
    let at = 5 * shape[1] + 2;
    let expected = wrong[at].wrapping_add(3);
    wrong[at] = expected;
    let wrong_path = write_i8(&tmp.path().join("wrong.npy"), shape, wrong);
    let (code, text) = infer_har(&x, &out, &["--expect", &arg(&wrong_path)]);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("MISMATCH: 1 of 200 windows differ"), "{text}");
    assert!(
        text.contains(&format!("{:>4}: 1", 3)),
        "histogram has one 3-LSB value:\n{text}"
    );
    assert!(
        text.contains(&format!(
            "window 5 output 2: got {}, expected {expected}",
            expected.wrapping_sub(3)
        )),
        "{text}"
    );
    assert_eq!(n, 200);
}

#[test]
fn float_windows_are_quantized_with_the_input_parameters() {
    let tmp = tempfile::tempdir().unwrap();
    let (x, tflm, n) = har_golden_npy(tmp.path());
    let (_, q) = read_i8(&x);
    // The fixture's input quantization (fixtures/models/manifest.json).
    let (scale, zp) = (0.075_209_34_f32, 7);
    let real: Vec<f32> = q
        .iter()
        .map(|&v| (i32::from(v) - zp) as f32 * scale)
        .collect();
    let xf = tmp.path().join("xf.npy");
    write_npy(
        &xf,
        &NpyArray::new(vec![n, 60, 6], NpyData::F32(real)).unwrap(),
    )
    .unwrap();
    let out = tmp.path().join("y.npy");
    let (code, text) = infer_har(&xf, &out, &["--expect", &arg(&tflm)]);
    assert_eq!(code, 0, "{text}");
}

#[test]
fn windows_of_another_shape_are_refused_and_nothing_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let x = write_i8(
        &tmp.path().join("short.npy"),
        vec![2, 59, 6],
        vec![0; 2 * 59 * 6],
    );
    let out = tmp.path().join("y.npy");
    let (code, text) = infer_har(&x, &out, &[]);
    assert_eq!(code, 2, "{text}");
    assert!(
        text.contains("[2, 59, 6]") && text.contains("[N, 60, 6]"),
        "{text}"
    );
    assert!(!out.exists());
}

#[test]
fn qemu_outputs_equal_tflm_with_per_window_instructions() {
    let tmp = tempfile::tempdir().unwrap();
    let (x, tflm, n) = har_golden_npy(tmp.path());
    let out = tmp.path().join("qemu.npy");
    let firmware = crate::support::qemu::firmware("band-qemu");
    let (code, text) = infer_har(
        &x,
        &out,
        &[
            "--target",
            "qemu",
            "--firmware",
            &arg(&firmware),
            "--expect",
            &arg(&tflm),
        ],
    );
    assert_eq!(code, 0, "{text}");
    assert_eq!(read_i8(&out), read_i8(&tflm));
    let figures: serde_json::Value =
        serde_json::from_slice(&std::fs::read(tmp.path().join("qemu.device.json")).unwrap())
            .unwrap();
    let instructions = figures["instructions"].as_array().unwrap();
    assert_eq!(instructions.len(), n);
    assert!(
        instructions
            .iter()
            .all(|i| i.as_u64().is_some_and(|v| v > 10_000)),
        "{figures}"
    );
}
