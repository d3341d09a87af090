//! A user's own windows for a model: `.npy`/`.npz` arrays of shape `[N, …input shape]`, int8
//! (the input tensor itself) or float (quantized with the input's scale and zero point), and
//! their labels; plus the bit-for-bit comparison of int8 outputs with a reference.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::confusion::argmax;
use super::host::HostModel;
use crate::npz::{self, NpyArray, NpyData, NpzError};

/// Why a windows or reference file cannot be used; names the file and what it holds.
#[derive(Debug, thiserror::Error)]
pub enum WindowsError {
    /// The file cannot be read as `.npy` / `.npz`.
    #[error(transparent)]
    Npz(#[from] NpzError),
    /// An array's shape does not fit the model.
    #[error("{}: {entry} has shape {shape:?}; {expected}", path.display())]
    Shape {
        /// The file.
        path: PathBuf,
        /// The array (`x`, `y`, or the file itself).
        entry: String,
        /// Its shape.
        shape: Vec<usize>,
        /// The shape the model needs.
        expected: String,
    },
    /// An array's element type is not one harbor takes here.
    #[error("{}: {entry} is {dtype}; {expected}", path.display())]
    Dtype {
        /// The file.
        path: PathBuf,
        /// The array.
        entry: String,
        /// Its element type.
        dtype: &'static str,
        /// What is accepted.
        expected: &'static str,
    },
    /// A `.npz` lacks an array.
    #[error("{}: no `{entry}` array (a windows .npz holds `x` and `y`)", path.display())]
    Missing {
        /// The file.
        path: PathBuf,
        /// The missing array.
        entry: String,
    },
    /// A label is not a class index of the model.
    #[error("{}: label {label} of window {window} is not a class index (the model has {classes} classes)", path.display())]
    Label {
        /// The file.
        path: PathBuf,
        /// Window index.
        window: usize,
        /// The label.
        label: i64,
        /// Classes of the model.
        classes: usize,
    },
}

/// The model input's shape without its batch dimension of 1.
pub fn window_shape(host: &HostModel) -> Vec<usize> {
    let dims = host.input().shape.dims().to_vec();
    match dims.split_first() {
        Some((1, rest)) if !rest.is_empty() => rest.to_vec(),
        _ => dims,
    }
}

/// The int8 input tensors of the windows in `array` (read from `path`, entry `entry`):
/// int8 as they are, float quantized with the model's input parameters.
pub fn quantized(
    path: &Path,
    entry: &str,
    array: &NpyArray,
    host: &HostModel,
) -> Result<Vec<Vec<i8>>, WindowsError> {
    let window = window_shape(host);
    if array.shape.len() != window.len() + 1 || array.shape[1..] != window[..] {
        return Err(WindowsError::Shape {
            path: path.to_path_buf(),
            entry: entry.into(),
            shape: array.shape.clone(),
            expected: format!(
                "the model takes [N, {}] (its input {:?} without the batch dimension)",
                join(&window),
                host.input().shape.dims()
            ),
        });
    }
    let len = host.input().len();
    Ok(match &array.data {
        NpyData::I8(v) => v.chunks_exact(len).map(<[i8]>::to_vec).collect(),
        NpyData::F32(v) => v
            .chunks_exact(len)
            .map(|w| host.quantize_input(w))
            .collect(),
        NpyData::F64(v) => v
            .chunks_exact(len)
            .map(|w| host.quantize_input(&w.iter().map(|&x| x as f32).collect::<Vec<_>>()))
            .collect(),
        other => {
            return Err(WindowsError::Dtype {
                path: path.to_path_buf(),
                entry: entry.into(),
                dtype: other.dtype_name(),
                expected: "windows are int8 (the input tensor) or float32/float64 (quantized with the model's input scale and zero point)",
            });
        }
    })
}

/// int8 rows of an array of shape `[N, values…]` (outputs or a reference).
pub fn int8_rows(
    path: &Path,
    array: &NpyArray,
    values: usize,
) -> Result<Vec<Vec<i8>>, WindowsError> {
    let NpyData::I8(v) = &array.data else {
        return Err(WindowsError::Dtype {
            path: path.to_path_buf(),
            entry: "the array".into(),
            dtype: array.data.dtype_name(),
            expected: "outputs are int8",
        });
    };
    let per: usize = array.shape.iter().skip(1).product();
    if array.shape.is_empty() || per != values {
        return Err(WindowsError::Shape {
            path: path.to_path_buf(),
            entry: "the array".into(),
            shape: array.shape.clone(),
            expected: format!("expected [N, {values}] (one row of {values} outputs per window)"),
        });
    }
    Ok(v.chunks_exact(values.max(1)).map(<[i8]>::to_vec).collect())
}

/// A user's labelled windows, quantized for the model.
#[derive(Clone, Debug, PartialEq)]
pub struct LabelledWindows {
    /// int8 input tensor per window.
    pub int8: Vec<Vec<i8>>,
    /// Class index per window.
    pub labels: Vec<usize>,
    /// The input tensor's real values per window: float windows as given, int8 windows
    /// dequantized (what a float reference of the same network takes).
    pub real: Vec<Vec<f32>>,
}

/// Reads windows and labels: a `.npz` with `x` and `y`, or an `.npy` of windows with labels
/// in `labels` (an `.npy` of integers).
pub fn load_labelled(
    path: &Path,
    labels: Option<&Path>,
    host: &HostModel,
    classes: usize,
) -> Result<LabelledWindows, WindowsError> {
    let is_npz = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("npz"));
    let (x, y, y_path) = if is_npz {
        let mut arrays = npz::read(path)?;
        let mut take = |entry: &str| {
            arrays.remove(entry).ok_or_else(|| WindowsError::Missing {
                path: path.to_path_buf(),
                entry: entry.into(),
            })
        };
        (take("x")?, take("y")?, path.to_path_buf())
    } else {
        let labels = labels.ok_or_else(|| WindowsError::Missing {
            path: path.to_path_buf(),
            entry: "y".into(),
        })?;
        (
            npz::read_npy(path)?,
            npz::read_npy(labels)?,
            labels.to_path_buf(),
        )
    };
    let int8 = quantized(path, "x", &x, host)?;
    let real = real_values(&x, &int8, host);
    let ints: Vec<i64> = match &y.data {
        NpyData::I64(v) => v.clone(),
        NpyData::I32(v) => v.iter().map(|&l| i64::from(l)).collect(),
        NpyData::I8(v) => v.iter().map(|&l| i64::from(l)).collect(),
        other => {
            return Err(WindowsError::Dtype {
                path: y_path,
                entry: "y".into(),
                dtype: other.dtype_name(),
                expected: "labels are integers (int8, int32 or int64 class indices)",
            });
        }
    };
    if y.shape != [int8.len()] {
        return Err(WindowsError::Shape {
            path: y_path,
            entry: "y".into(),
            shape: y.shape.clone(),
            expected: format!("one label per window: [{}]", int8.len()),
        });
    }
    let labels = ints
        .iter()
        .enumerate()
        .map(|(window, &label)| {
            usize::try_from(label)
                .ok()
                .filter(|&l| l < classes)
                .ok_or_else(|| WindowsError::Label {
                    path: y_path.clone(),
                    window,
                    label,
                    classes,
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(LabelledWindows { int8, labels, real })
}

/// The real values of windows `array` (already checked and quantized into `int8`).
fn real_values(array: &NpyArray, int8: &[Vec<i8>], host: &HostModel) -> Vec<Vec<f32>> {
    let len = host.input().len().max(1);
    match &array.data {
        NpyData::F32(v) => v.chunks_exact(len).map(<[f32]>::to_vec).collect(),
        NpyData::F64(v) => v
            .chunks_exact(len)
            .map(|w| w.iter().map(|&x| x as f32).collect())
            .collect(),
        _ => {
            let (scale, zp) = (host.input().scale, host.input().zero_point);
            int8.iter()
                .map(|w| {
                    w.iter()
                        .map(|&q| (i32::from(q) - zp) as f32 * scale)
                        .collect()
                })
                .collect()
        }
    }
}

/// The classes of a desktop reference's outputs (`.npy` of shape `[windows, classes]`, any
/// numeric type): the argmax of each row.
pub fn reference_classes(
    path: &Path,
    windows: usize,
    classes: usize,
) -> Result<Vec<usize>, WindowsError> {
    let array = npz::read_npy(path)?;
    if array.shape != [windows, classes] {
        return Err(WindowsError::Shape {
            path: path.to_path_buf(),
            entry: "the reference".into(),
            shape: array.shape.clone(),
            expected: format!("one row of {classes} outputs per window: [{windows}, {classes}]"),
        });
    }
    let rows = |v: Vec<f64>| -> Vec<usize> { v.chunks_exact(classes.max(1)).map(argmax).collect() };
    Ok(match &array.data {
        NpyData::F32(v) => rows(v.iter().map(|&x| f64::from(x)).collect()),
        NpyData::F64(v) => rows(v.clone()),
        NpyData::I8(v) => rows(v.iter().map(|&x| f64::from(x)).collect()),
        NpyData::I16(v) => rows(v.iter().map(|&x| f64::from(x)).collect()),
        NpyData::I32(v) => rows(v.iter().map(|&x| f64::from(x)).collect()),
        NpyData::I64(v) => rows(v.iter().map(|&x| x as f64).collect()),
        other => {
            return Err(WindowsError::Dtype {
                path: path.to_path_buf(),
                entry: "the reference".into(),
                dtype: other.dtype_name(),
                expected: "reference outputs are numbers (float or integer scores per class)",
            });
        }
    })
}

/// One output value that differs from the reference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mismatch {
    /// Window index.
    pub window: usize,
    /// Output index within the window.
    pub index: usize,
    /// The value produced.
    pub got: i8,
    /// The reference's value.
    pub expected: i8,
}

/// int8 outputs against a reference, value by value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Comparison {
    /// Windows compared.
    pub windows: usize,
    /// Values compared.
    pub values: usize,
    /// Windows with at least one differing value.
    pub mismatched_windows: usize,
    /// |difference| in LSB → number of values (0 included).
    pub histogram: BTreeMap<u32, usize>,
    /// The first mismatches in window order (at most `keep`).
    pub first: Vec<Mismatch>,
}

impl Comparison {
    /// Every value equal.
    pub fn bit_exact(&self) -> bool {
        self.mismatched_windows == 0
    }
}

/// Compares equal-shaped outputs; keeps the first `keep` mismatches.
pub fn compare(got: &[Vec<i8>], expected: &[Vec<i8>], keep: usize) -> Comparison {
    let mut c = Comparison {
        windows: got.len(),
        values: 0,
        mismatched_windows: 0,
        histogram: BTreeMap::new(),
        first: Vec::new(),
    };
    for (window, (g, e)) in got.iter().zip(expected).enumerate() {
        let mut differs = false;
        for (index, (&g, &e)) in g.iter().zip(e).enumerate() {
            let d = (i32::from(g) - i32::from(e)).unsigned_abs();
            *c.histogram.entry(d).or_default() += 1;
            c.values += 1;
            if d != 0 {
                differs = true;
                if c.first.len() < keep {
                    c.first.push(Mismatch {
                        window,
                        index,
                        got: g,
                        expected: e,
                    });
                }
            }
        }
        c.mismatched_windows += usize::from(differs);
    }
    c
}

fn join(dims: &[usize]) -> String {
    dims.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compare_counts_lsb_differences_and_keeps_the_first() {
        let got = vec![vec![1i8, 2, 3], vec![4, 5, 6], vec![-128, 0, 127]];
        let expected = vec![vec![1i8, 2, 3], vec![4, 7, 5], vec![127, 0, 127]];
        let c = compare(&got, &expected, 2);
        assert!(!c.bit_exact());
        assert_eq!(c.mismatched_windows, 2);
        assert_eq!(c.values, 9);
        assert_eq!(c.histogram.get(&0), Some(&6));
        assert_eq!(c.histogram.get(&1), Some(&1));
        assert_eq!(c.histogram.get(&2), Some(&1));
        assert_eq!(c.histogram.get(&255), Some(&1));
        assert_eq!(
            c.first,
            vec![
                Mismatch {
                    window: 1,
                    index: 1,
                    got: 5,
                    expected: 7
                },
                Mismatch {
                    window: 1,
                    index: 2,
                    got: 6,
                    expected: 5
                },
            ]
        );
        assert!(compare(&got, &got, 5).bit_exact());
    }
}
