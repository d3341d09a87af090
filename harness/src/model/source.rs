//! Windows from [`crate::signal`]'s prepared-windows file (in memory or `.npz`), mapped onto
//! a model's classes and split parts.
//!
//! The model consumes the band's raw int16 readings (`x_raw`), as the device does; windows
//! whose activity the class set leaves out are counted, never silently lost.

use std::collections::BTreeMap;
use std::path::Path;

use crate::board::BoardProfile;
use crate::datasets::{self, DatasetKind, LoadOptions};
use crate::signal::export::{PreparedFile, Provenance};
use crate::signal::split::{PersonalizationConfig, personalization_split};
use crate::signal::subjects::{SubjectSelection, explicit_split};
use crate::signal::{ResampleConfig, WindowSpec, prepare};

use super::classes::ClassSet;
use super::windows::WindowSet;

/// Why windows cannot be loaded for a model.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The prepared file's `x_raw` does not hold `windows` windows.
    #[error("x_raw holds {values} values, expected {windows} windows x {stride}")]
    RawLength {
        /// Values in `x_raw`.
        values: usize,
        /// Windows the file declares.
        windows: usize,
        /// Values per window.
        stride: usize,
    },
    /// A window's label does not index the file's class list.
    #[error("window {window}: label {label} is not an index into classes")]
    Label {
        /// Index of the window.
        window: usize,
        /// Its label.
        label: i64,
    },
    /// The dataset cannot be read.
    #[error(transparent)]
    Dataset(#[from] crate::datasets::DatasetError),
    /// Resampling, windowing or splitting failed.
    #[error(transparent)]
    Signal(#[from] crate::signal::SignalError),
    /// The prepared windows cannot be laid out as a prepared-windows file.
    #[error("{0}")]
    Prepared(String),
}

/// Windows per split part (`train`, `val`, `test`, `finetune`; `excluded` is dropped).
#[derive(Clone, Debug, Default)]
pub struct PartedWindows {
    /// Windows by split part name (`all` when the file has no split).
    pub parts: BTreeMap<String, WindowSet>,
    /// Windows of activities outside the class set, by activity.
    pub left_out: BTreeMap<String, usize>,
    /// Every activity the source has windows of (its class list), sorted.
    pub known_activities: Vec<String>,
}

/// How [`load_windows_split`] assigns subjects to parts.
#[derive(Clone, Debug)]
pub enum SplitPlan {
    /// No split: every window in part `all`.
    None,
    /// The seeded personalization protocol.
    Personalization(PersonalizationConfig, u64),
    /// Explicit subject lists (seed: the val draw when val is not listed).
    Subjects(SubjectSelection, u64),
}

impl PartedWindows {
    /// The windows of part `name` (empty when the file has none).
    pub fn part(&self, name: &str) -> WindowSet {
        self.parts.get(name).cloned().unwrap_or_default()
    }
}

/// Splits `file`'s windows by its `split` column (all in `all` when it has none).
pub fn from_prepared(
    file: &PreparedFile,
    classes: &ClassSet,
) -> Result<PartedWindows, SourceError> {
    const CHANNELS: usize = 6;
    let stride = file.length * CHANNELS;
    if file.x_raw.len() != file.windows * stride {
        return Err(SourceError::RawLength {
            values: file.x_raw.len(),
            windows: file.windows,
            stride,
        });
    }
    let mut out = PartedWindows {
        known_activities: file.classes.clone(),
        ..PartedWindows::default()
    };
    let mut buf = vec![0f32; stride];
    for i in 0..file.windows {
        let activity = usize::try_from(file.y[i])
            .ok()
            .and_then(|y| file.classes.get(y))
            .ok_or(SourceError::Label {
                window: i,
                label: file.y[i],
            })?;
        let Some(class) = classes.class_of(activity) else {
            *out.left_out.entry(activity.clone()).or_default() += 1;
            continue;
        };
        let part = file.split.as_ref().map_or("all", |s| s[i].as_str());
        if part == "excluded" {
            continue;
        }
        for (dst, &src) in buf
            .iter_mut()
            .zip(&file.x_raw[i * stride..(i + 1) * stride])
        {
            *dst = f32::from(src);
        }
        out.parts
            .entry(part.to_string())
            .or_insert_with(|| WindowSet::new(file.length, CHANNELS))
            .push(&buf, class, &file.subject[i]);
    }
    Ok(out)
}

/// Loads a dataset, brings it to `board`'s IMU rate and int16 readings, cuts `spec`'s
/// windows, optionally splits by subject, and maps the windows onto `classes`.
#[allow(clippy::too_many_arguments)]
pub fn load_windows(
    dataset: DatasetKind,
    root: &Path,
    board: &BoardProfile,
    subjects: Vec<String>,
    split: Option<(PersonalizationConfig, u64)>,
    spec: &WindowSpec,
    classes: &ClassSet,
    progress: &dyn datasets::Progress,
) -> Result<PartedWindows, SourceError> {
    let plan = match split {
        Some((cfg, seed)) => SplitPlan::Personalization(cfg, seed),
        None => SplitPlan::None,
    };
    let options = LoadOptions {
        subjects,
        ..LoadOptions::default()
    };
    load_windows_split(
        dataset, root, board, &options, &plan, spec, classes, progress,
    )
}

/// [`load_windows`] with any [`SplitPlan`] and any [`LoadOptions`] (subjects, bad lines).
#[allow(clippy::too_many_arguments)]
pub fn load_windows_split(
    dataset: DatasetKind,
    root: &Path,
    board: &BoardProfile,
    options: &LoadOptions,
    plan: &SplitPlan,
    spec: &WindowSpec,
    classes: &ClassSet,
    progress: &dyn datasets::Progress,
) -> Result<PartedWindows, SourceError> {
    let file = load_prepared(dataset, root, board, options, plan, spec, progress)?;
    from_prepared(&file, classes)
}

/// Loads a dataset and prepares its windows as a prepared-windows file (every activity,
/// split by `plan`), before any mapping onto classes.
pub fn load_prepared(
    dataset: DatasetKind,
    root: &Path,
    board: &BoardProfile,
    options: &LoadOptions,
    plan: &SplitPlan,
    spec: &WindowSpec,
    progress: &dyn datasets::Progress,
) -> Result<PreparedFile, SourceError> {
    let loaded = datasets::load(dataset, root, options, progress)?;
    let resample = ResampleConfig::default();
    let prepared = prepare(
        &loaded.recordings,
        board,
        spec,
        &resample,
        &datasets::NoProgress,
    )?;
    let split = match plan {
        SplitPlan::None => None,
        SplitPlan::Personalization(cfg, seed) => {
            Some(personalization_split(&prepared.windows, *cfg, *seed)?)
        }
        SplitPlan::Subjects(sel, seed) => Some(explicit_split(&prepared.windows, sel, *seed)?),
    };
    let meta = Provenance::new(
        dataset.name(),
        root,
        &loaded.recordings,
        loaded.skipped.len(),
        board,
        spec,
        &resample,
        &prepared.report,
    );
    PreparedFile::from_prepared(&prepared, split.as_ref(), &meta).map_err(SourceError::Prepared)
}
