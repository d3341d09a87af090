//! Prepared windows as a NumPy `.npz` and back.
//!
//! Arrays: `x` float32 [n, T, 6] (m/s², rad/s), `x_raw` int16 [n, T, 6], `y` int64 class
//! index into `classes`, `classes`, `dataset`, `subject`, `session` (unicode [n] / [k]),
//! `start_ns` int64 [n], `split` unicode [n] when assigned, and `meta`: a 0-d unicode
//! array holding the provenance JSON.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::pipeline::{PrepareReport, Prepared};
use super::resample::ResampleConfig;
use super::split::Split;
use super::window::WindowSpec;
use crate::board::BoardProfile;
use crate::npz::{self, NpyArray, NpyData, NpzError};

/// Where the windows came from and how they were made; stored as `meta`.
#[derive(Clone, Debug, Serialize)]
pub struct Provenance {
    /// Version of harbor that wrote the file.
    pub harbor_version: &'static str,
    /// Dataset kind name.
    pub dataset_kind: String,
    /// Dataset root as given.
    pub dataset_root: PathBuf,
    /// Distinct source files and their total size (hashing ~300 MB per prepare is not worth it;
    /// the unpacked datasets carry their own SHA256SUMS).
    pub source_files: usize,
    /// Total bytes of the source files.
    pub source_bytes: u64,
    /// Lines the loader skipped on purpose (each is reported by the loader with file:line).
    pub skipped_lines: usize,
    /// The board profile the windows were made for.
    pub board: BoardProfile,
    /// Window geometry and purity threshold.
    pub window: WindowSpec,
    /// Resampler settings.
    pub resample: ResampleConfig,
    /// Counts from every stage.
    pub report: PrepareReport,
    /// How windows were split by subject, if they were.
    pub split: Option<SplitProvenance>,
    /// Skipped input lines per cause and the first of them with file and line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<crate::datasets::summary::SkippedLines>,
}

/// How a prepared file was split by subject.
#[derive(Clone, Debug, Serialize)]
pub struct SplitProvenance {
    /// `subjects` or `personalization`.
    pub kind: String,
    /// Seed of the subject draw.
    pub seed: u64,
    /// The split's own settings (fractions or personalization protocol).
    pub settings: serde_json::Value,
    /// (user, class) pairs with fewer fine-tuning windows than requested.
    pub fine_tune_shortfalls: Vec<String>,
}

impl Provenance {
    /// Collects the counts from what the loader and [`super::prepare`] produced.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        dataset_kind: &str,
        dataset_root: &Path,
        recordings: &[crate::datasets::Recording],
        skipped_lines: usize,
        board: &BoardProfile,
        window: &WindowSpec,
        resample: &ResampleConfig,
        report: &PrepareReport,
    ) -> Self {
        let files: BTreeSet<&PathBuf> = recordings.iter().flat_map(|r| &r.sources).collect();
        let source_bytes = files
            .iter()
            .filter_map(|f| std::fs::metadata(f).ok())
            .map(|m| m.len())
            .sum();
        Provenance {
            harbor_version: env!("CARGO_PKG_VERSION"),
            dataset_kind: dataset_kind.to_string(),
            dataset_root: dataset_root.to_path_buf(),
            source_files: files.len(),
            source_bytes,
            skipped_lines,
            board: board.clone(),
            window: window.clone(),
            resample: resample.clone(),
            report: report.clone(),
            split: None,
            skipped: None,
        }
    }
}

/// The arrays of a prepared-windows file, as read back.
#[derive(Clone, Debug, PartialEq)]
pub struct PreparedFile {
    /// Number of windows.
    pub windows: usize,
    /// Samples per window.
    pub length: usize,
    /// Windows in physical units, `[windows, length, 6]`.
    pub x: Vec<f32>,
    /// Windows as raw int16 readings, `[windows, length, 6]`.
    pub x_raw: Vec<i16>,
    /// Class index per window.
    pub y: Vec<i64>,
    /// Class names `y` indexes.
    pub classes: Vec<String>,
    /// Dataset name per window.
    pub dataset: Vec<String>,
    /// Subject id per window.
    pub subject: Vec<String>,
    /// Session id per window.
    pub session: Vec<String>,
    /// Window start time per window (ns, recording clock).
    pub start_ns: Vec<i64>,
    /// Split part per window, if the file was split.
    pub split: Option<Vec<String>>,
    /// The provenance JSON text.
    pub meta: String,
}

impl PreparedFile {
    /// Builds the arrays from prepared windows, an optional split and the provenance.
    pub fn from_prepared(
        prepared: &Prepared,
        split: Option<&Split>,
        meta: &Provenance,
    ) -> Result<Self, String> {
        let w = &prepared.windows;
        let classes = w.classes();
        let class_index = |a: &crate::datasets::Activity| {
            classes.binary_search(a).map(|i| i as i64).unwrap_or(-1)
        };
        if let Some(split) = split
            && split.parts.len() != w.len()
        {
            return Err(format!(
                "split covers {} windows, there are {}",
                split.parts.len(),
                w.len()
            ));
        }
        Ok(PreparedFile {
            windows: w.len(),
            length: w.length,
            x: w.physical.iter().flatten().copied().collect(),
            x_raw: w.raw.iter().flatten().copied().collect(),
            y: w.info.iter().map(|i| class_index(&i.activity)).collect(),
            classes: classes.iter().map(|c| c.name().to_string()).collect(),
            dataset: (0..w.len()).map(|i| w.source(i).dataset.clone()).collect(),
            subject: (0..w.len()).map(|i| w.source(i).subject.clone()).collect(),
            session: (0..w.len()).map(|i| w.source(i).session.clone()).collect(),
            start_ns: w.info.iter().map(|i| i.start_ns).collect(),
            split: split.map(|s| s.parts.iter().map(|p| p.name().to_string()).collect()),
            meta: serde_json::to_string(meta).map_err(|e| e.to_string())?,
        })
    }

    /// Writes the arrays as an `.npz` that `numpy.load` reads.
    pub fn write(&self, path: &Path) -> Result<(), NpzError> {
        let (n, t) = (self.windows, self.length);
        let bad = |reason: String| NpzError::Format {
            path: path.to_path_buf(),
            entry: "<all>".into(),
            reason,
        };
        let arr = |shape: Vec<usize>, data: NpyData| {
            NpyArray::new(shape, data).map_err(|e| bad(e.to_string()))
        };
        let mut arrays = vec![
            ("x", arr(vec![n, t, 6], NpyData::F32(self.x.clone()))?),
            (
                "x_raw",
                arr(vec![n, t, 6], NpyData::I16(self.x_raw.clone()))?,
            ),
            ("y", arr(vec![n], NpyData::I64(self.y.clone()))?),
            (
                "classes",
                arr(
                    vec![self.classes.len()],
                    NpyData::Unicode(self.classes.clone()),
                )?,
            ),
            (
                "dataset",
                arr(vec![n], NpyData::Unicode(self.dataset.clone()))?,
            ),
            (
                "subject",
                arr(vec![n], NpyData::Unicode(self.subject.clone()))?,
            ),
            (
                "session",
                arr(vec![n], NpyData::Unicode(self.session.clone()))?,
            ),
            (
                "start_ns",
                arr(vec![n], NpyData::I64(self.start_ns.clone()))?,
            ),
            ("meta", NpyArray::scalar_str(&self.meta)),
        ];
        if let Some(split) = &self.split {
            arrays.push(("split", arr(vec![n], NpyData::Unicode(split.clone()))?));
        }
        let named: Vec<(&str, &NpyArray)> = arrays.iter().map(|(k, v)| (*k, v)).collect();
        npz::write(path, &named)
    }

    /// Reads a file `harbor prepare` wrote.
    pub fn read(path: &Path) -> Result<Self, NpzError> {
        let mut arrays = npz::read(path)?;
        let wrong = |name: &str, what: &str| NpzError::Format {
            path: path.to_path_buf(),
            entry: format!("{name}.npy"),
            reason: format!("expected {what}"),
        };
        let mut take = |name: &str| {
            arrays
                .remove(name)
                .ok_or_else(|| wrong(name, "this array (missing from the file)"))
        };
        let x = take("x")?;
        let [n, t, 6] = x.shape[..] else {
            return Err(wrong("x", "shape [n, T, 6]"));
        };
        let NpyData::F32(x) = x.data else {
            return Err(wrong("x", "float32"));
        };
        let x_raw = match take("x_raw")? {
            NpyArray {
                shape,
                data: NpyData::I16(v),
            } if shape == [n, t, 6] => v,
            _ => return Err(wrong("x_raw", "int16 with the shape of x")),
        };
        let strings = |array: NpyArray, name: &str, len: Option<usize>| match array {
            NpyArray {
                shape,
                data: NpyData::Unicode(v),
            } if len.is_none_or(|l| shape == [l]) => Ok(v),
            _ => Err(wrong(name, "a unicode array of one entry per window")),
        };
        let ints = |array: NpyArray, name: &str| match array {
            NpyArray {
                shape,
                data: NpyData::I64(v),
            } if shape == [n] => Ok(v),
            _ => Err(wrong(name, "int64 of one entry per window")),
        };
        let classes = strings(take("classes")?, "classes", None)?;
        let dataset = strings(take("dataset")?, "dataset", Some(n))?;
        let subject = strings(take("subject")?, "subject", Some(n))?;
        let session = strings(take("session")?, "session", Some(n))?;
        let meta = match (take("meta")?, "meta") {
            (
                NpyArray {
                    shape,
                    data: NpyData::Unicode(mut v),
                },
                _,
            ) if shape.is_empty() && v.len() == 1 => v.remove(0),
            _ => return Err(wrong("meta", "a 0-d unicode array")),
        };
        let y = ints(take("y")?, "y")?;
        let start_ns = ints(take("start_ns")?, "start_ns")?;
        let split = match take("split") {
            Ok(array) => Some(strings(array, "split", Some(n))?),
            Err(_) => None,
        };
        Ok(PreparedFile {
            windows: n,
            length: t,
            x,
            x_raw,
            y,
            classes,
            dataset,
            subject,
            session,
            start_ns,
            split,
            meta,
        })
    }
}
