//! Shared by the models_* and byo_* tests: the harbor binary, `.npy` files, the Keras-made
//! `har_conv1d` fixture (TensorFlow's converter, TFLite Micro's outputs) and its class names.

use std::path::{Path, PathBuf};

use harbor::npz::{NpyArray, NpyData, write_npy};

/// The classes of fixtures/models/har_conv1d (WISDM 2019 activities A–G, docs/int8.md).
pub const HAR_CLASSES: &str = "walking,jogging,stairs,sitting,standing,typing,brushing_teeth";

/// Runs harbor with `args`: (exit code, stdout + stderr).
pub fn harbor<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> (i32, String) {
    let out = super::cli::harbor(args);
    (super::cli::code(&out), super::cli::text(&out))
}

/// A path as an argument.
pub fn arg(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// Writes an int8 `.npy` of `shape`.
pub fn write_i8(path: &Path, shape: Vec<usize>, data: Vec<i8>) -> PathBuf {
    write_npy(path, &NpyArray::new(shape, NpyData::I8(data)).unwrap()).unwrap();
    path.to_path_buf()
}

/// Reads an int8 `.npy`: (shape, data).
pub fn read_i8(path: &Path) -> (Vec<usize>, Vec<i8>) {
    let array = harbor::npz::read_npy(path).unwrap_or_else(|e| panic!("{e}"));
    match array.data {
        NpyData::I8(v) => (array.shape, v),
        other => panic!("{}: not int8 but {}", path.display(), other.dtype_name()),
    }
}

/// The committed fixture's file.
pub fn har_tflite() -> PathBuf {
    harbor::datasets::workspace_root().join("fixtures/models/har_conv1d.tflite")
}

/// The fixture's TFLM golden vectors as `.npy`: (int8 inputs [N, 60, 6], TFLM outputs [N, 7]).
pub fn har_golden_npy(into: &Path) -> (PathBuf, PathBuf, usize) {
    let golden = super::qemu::golden("har_conv1d");
    let n = golden.records.len();
    let x = write_i8(
        &into.join("x.npy"),
        vec![n, 60, 6],
        golden.records.iter().flat_map(|(i, _)| i.clone()).collect(),
    );
    let y = write_i8(
        &into.join("tflm.npy"),
        vec![n, golden.output_len],
        golden.records.iter().flat_map(|(_, o)| o.clone()).collect(),
    );
    (x, y, n)
}
