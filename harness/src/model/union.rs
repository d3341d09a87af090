//! Windows from several datasets at once (`--datasets a,b,c`): each dataset goes through the
//! same chain (the board's IMU rate and int16 counts, the model rate, windows), the model's
//! classes are the union of their activities, and subject ids are prefixed with the dataset
//! so two datasets' subject `1` stay two people.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::classes::ClassSet;
use super::input::Normalization;
use super::source::{SourceError, SplitPlan, from_prepared, load_prepared};
use super::windows::WindowSet;
use crate::board::BoardProfile;
use crate::datasets::{self, DatasetError, DatasetKind};
use crate::signal::WindowSpec;

/// Below this many subjects a dataset is split by recording session instead (BasicMotions
/// has one subject): a subject-wise split needs a subject for each part.
pub const MIN_SUBJECTS_FOR_SUBJECT_SPLIT: usize = 3;

/// One dataset of a `--datasets` list: its format and folder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DatasetSource {
    /// The format.
    pub kind: DatasetKind,
    /// The folder as published.
    pub root: PathBuf,
}

/// Why a `--datasets` item is refused.
#[derive(Debug, thiserror::Error)]
pub enum DatasetListError {
    /// The list is empty.
    #[error("empty dataset list")]
    Empty,
    /// A format name is unknown.
    #[error(transparent)]
    Kind(#[from] DatasetError),
    /// A format without a default folder was given without `=ROOT`.
    #[error("`{0}` has no default folder: give it as `{0}=ROOT`")]
    NoDefaultRoot(String),
    /// The same format twice.
    #[error("dataset `{0}` is listed twice")]
    Duplicate(String),
}

impl FromStr for DatasetSource {
    type Err = DatasetListError;
    /// `kind` (its folder under the data root) or `kind=ROOT`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (kind, root) = match s.split_once('=') {
            Some((k, r)) => (k.trim(), Some(PathBuf::from(r.trim()))),
            None => (s.trim(), None),
        };
        let kind: DatasetKind = kind.parse()?;
        let root = match root {
            Some(r) => r,
            None => datasets::data_root().join(
                kind.default_folder()
                    .ok_or_else(|| DatasetListError::NoDefaultRoot(kind.name().into()))?,
            ),
        };
        Ok(DatasetSource { kind, root })
    }
}

/// A comma-separated `--datasets` list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DatasetList(pub Vec<DatasetSource>);

impl FromStr for DatasetList {
    type Err = DatasetListError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut out: Vec<DatasetSource> = Vec::new();
        for item in s.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let source: DatasetSource = item.parse()?;
            if out.iter().any(|d| d.kind == source.kind) {
                return Err(DatasetListError::Duplicate(source.kind.name().into()));
            }
            out.push(source);
        }
        if out.is_empty() {
            return Err(DatasetListError::Empty);
        }
        Ok(DatasetList(out))
    }
}

impl fmt::Display for DatasetList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.0.iter().map(|d| d.kind.name()).collect();
        f.write_str(&names.join(","))
    }
}

/// How the inputs of several datasets are standardized.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NormalizeMode {
    /// Each dataset by its own training windows' per-channel mean and std (z-scores), as the
    /// cross-dataset studies do: sensors, placements and units differ between datasets.
    #[default]
    PerDataset,
    /// One mean and std over the union's training windows.
    Global,
}

impl NormalizeMode {
    /// The command-line name.
    pub fn name(self) -> &'static str {
        match self {
            NormalizeMode::PerDataset => "per-dataset",
            NormalizeMode::Global => "global",
        }
    }
}

impl fmt::Display for NormalizeMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An unknown `--normalize` value.
#[derive(Debug, thiserror::Error)]
#[error("unknown normalization `{0}` (per-dataset or global)")]
pub struct UnknownNormalize(String);

impl FromStr for NormalizeMode {
    type Err = UnknownNormalize;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "per-dataset" => Ok(NormalizeMode::PerDataset),
            "global" => Ok(NormalizeMode::Global),
            other => Err(UnknownNormalize(other.into())),
        }
    }
}

/// What unit a dataset's subject-wise split draws.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SplitUnit {
    /// Subjects (people).
    Subject,
    /// Recording sessions, for a dataset with too few subjects.
    Session,
}

/// One dataset's windows, mapped onto the union's classes.
#[derive(Clone, Debug)]
pub struct DatasetWindows {
    /// The format.
    pub kind: DatasetKind,
    /// Every window of the union's classes; subjects are `<dataset>:<id>` (or
    /// `<dataset>:<id>/<session>` with [`SplitUnit::Session`]).
    pub windows: WindowSet,
    /// What the split units in `windows.subject` are.
    pub unit: SplitUnit,
    /// The dataset's activities that have windows, sorted.
    pub activities: Vec<String>,
}

/// Several datasets' windows and the classes they share.
#[derive(Clone, Debug)]
pub struct UnionWindows {
    /// The model's classes (the union of activities, or the given set).
    pub classes: ClassSet,
    /// Per dataset, in the order given.
    pub datasets: Vec<DatasetWindows>,
    /// Windows of activities outside the classes, by `dataset:activity`.
    pub left_out: BTreeMap<String, usize>,
}

impl UnionWindows {
    /// The dataset of `kind`.
    pub fn dataset(&self, kind: DatasetKind) -> Option<&DatasetWindows> {
        self.datasets.iter().find(|d| d.kind == kind)
    }
}

/// Loads every source through the same chain and maps their windows onto `classes`, or,
/// when `None`, onto the union of their activities (sorted by name, one class each).
pub fn load_union(
    sources: &[DatasetSource],
    board: &BoardProfile,
    spec: &WindowSpec,
    classes: Option<&ClassSet>,
    options: &datasets::LoadOptions,
    progress: &dyn datasets::Progress,
) -> Result<UnionWindows, SourceError> {
    let mut files = Vec::new();
    for s in sources {
        let mut file = load_prepared(
            s.kind,
            &s.root,
            board,
            options,
            &SplitPlan::None,
            spec,
            progress,
        )?;
        let distinct: BTreeSet<&String> = file.subject.iter().collect();
        let unit = if distinct.len() < MIN_SUBJECTS_FOR_SUBJECT_SPLIT {
            SplitUnit::Session
        } else {
            SplitUnit::Subject
        };
        let prefix = s.kind.name();
        file.subject = file
            .subject
            .iter()
            .zip(&file.session)
            .map(|(subject, session)| match unit {
                SplitUnit::Subject => format!("{prefix}:{subject}"),
                SplitUnit::Session => format!("{prefix}:{subject}/{session}"),
            })
            .collect();
        let mut activities: Vec<String> = file
            .y
            .iter()
            .filter_map(|&y| usize::try_from(y).ok().and_then(|y| file.classes.get(y)))
            .cloned()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        activities.sort();
        files.push((s.kind, file, unit, activities));
    }
    let classes = match classes {
        Some(c) => c.clone(),
        None => {
            let all: BTreeSet<&String> = files.iter().flat_map(|f| &f.3).collect();
            let groups: Vec<(&str, Vec<&str>)> =
                all.iter().map(|a| (a.as_str(), vec![a.as_str()])).collect();
            let groups: Vec<(&str, &[&str])> =
                groups.iter().map(|(c, m)| (*c, m.as_slice())).collect();
            ClassSet::from_groups(&groups)
        }
    };
    let mut out = UnionWindows {
        classes: classes.clone(),
        datasets: Vec::new(),
        left_out: BTreeMap::new(),
    };
    for (kind, file, unit, activities) in files {
        let parted = from_prepared(&file, &classes)?;
        for (activity, n) in parted.left_out {
            *out.left_out
                .entry(format!("{}:{activity}", kind.name()))
                .or_default() += n;
        }
        out.datasets.push(DatasetWindows {
            kind,
            windows: parted
                .parts
                .get("all")
                .cloned()
                .unwrap_or_else(|| WindowSet::new(file.length, 6)),
            unit,
            activities,
        });
    }
    Ok(out)
}

/// Maps `set` (raw values of one dataset) into z-scores by `stats` (that dataset's own
/// training statistics): per-dataset normalization.
pub fn standardize(set: &WindowSet, stats: &Normalization) -> WindowSet {
    stats.apply(set)
}

/// The normalization that takes raw values straight to the network's input when they are
/// first standardized by `inner` and then by `outer`: `((x − m₁)/s₁ − m₂)/s₂ =
/// (x − (m₁ + s₁·m₂)) / (s₁·s₂)`. This is what a dataset's device conversion uses.
pub fn compose(inner: &Normalization, outer: &Normalization) -> Normalization {
    Normalization {
        mean: inner
            .mean
            .iter()
            .zip(&inner.std)
            .zip(&outer.mean)
            .map(|((m1, s1), m2)| m1 + s1 * m2)
            .collect(),
        std: inner
            .std
            .iter()
            .zip(&outer.std)
            .map(|(s1, s2)| s1 * s2)
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn composed_normalization_equals_two_steps() {
        let mut set = WindowSet::new(2, 2);
        set.push(&[100.0, -40.0, 130.0, 10.0], 0, "a");
        set.push(&[90.0, -20.0, 70.0, 0.0], 0, "a");
        let inner = Normalization::fit(&set);
        let outer = Normalization {
            mean: vec![0.3, -0.2],
            std: vec![1.5, 0.5],
        };
        let two = outer.apply(&inner.apply(&set));
        let one = compose(&inner, &outer).apply(&set);
        for (a, b) in two.x.iter().zip(&one.x) {
            assert!((a - b).abs() < 1e-4, "{a} vs {b}");
        }
    }

    #[test]
    fn dataset_lists_parse_and_refuse_duplicates() {
        let l: DatasetList = "hapt=/x/hapt, basicmotions=/y".parse().unwrap();
        assert_eq!(l.0[0].kind, DatasetKind::Hapt);
        assert_eq!(l.0[1].root, PathBuf::from("/y"));
        assert_eq!(l.to_string(), "hapt,basicmotions");
        assert!(matches!(
            "hapt,hapt".parse::<DatasetList>(),
            Err(DatasetListError::Duplicate(_))
        ));
        assert!(matches!(
            "custom".parse::<DatasetList>(),
            Err(DatasetListError::NoDefaultRoot(_))
        ));
        assert!("nope".parse::<DatasetList>().is_err());
        assert_eq!(
            "global".parse::<NormalizeMode>().unwrap(),
            NormalizeMode::Global
        );
        assert!("z".parse::<NormalizeMode>().is_err());
    }
}
