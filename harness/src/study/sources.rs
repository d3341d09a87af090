//! Several datasets' windows split subject-wise per dataset, standardized per dataset or
//! not, and put together as one training run's parts.

use super::StudyError;
use super::split::{SplitWindows, SubjectSplit, split_subjects};
use crate::datasets::DatasetKind;
use crate::model::card::SourceDatasetInfo;
use crate::model::input::Normalization;
use crate::model::union::{DatasetWindows, NormalizeMode, SplitUnit, compose};
use crate::model::windows::WindowSet;
use crate::train::pipeline::Splits;

/// One dataset's parts, ready for training.
#[derive(Clone, Debug)]
pub struct DatasetParts {
    /// The format.
    pub kind: DatasetKind,
    /// What the split drew.
    pub unit: SplitUnit,
    /// Its activities with windows.
    pub activities: Vec<String>,
    /// Which subjects are in which part.
    pub split: SubjectSplit,
    /// The windows of each part: z-scores by `stats` when set, raw counts otherwise.
    pub windows: SplitWindows,
    /// Per-dataset statistics (its training part's), with [`NormalizeMode::PerDataset`].
    pub stats: Option<Normalization>,
}

impl DatasetParts {
    /// Splits `d` (fractions of its subjects for test and validation, seeded) and, per
    /// dataset, standardizes every part by the training part's statistics.
    pub fn new(
        d: &DatasetWindows,
        test: f64,
        val: f64,
        mode: NormalizeMode,
        seed: u64,
    ) -> Result<Self, StudyError> {
        let split = split_subjects(&d.windows, d.kind.name(), test, val, seed)?;
        let raw = split.apply(&d.windows);
        let (windows, stats) = match mode {
            NormalizeMode::Global => (raw, None),
            NormalizeMode::PerDataset => {
                let stats = Normalization::fit(&raw.train);
                (
                    SplitWindows {
                        train: stats.apply(&raw.train),
                        val: stats.apply(&raw.val),
                        test: stats.apply(&raw.test),
                    },
                    Some(stats),
                )
            }
        };
        Ok(DatasetParts {
            kind: d.kind,
            unit: d.unit,
            activities: d.activities.clone(),
            split,
            windows,
            stats,
        })
    }

    /// Raw counts → network input for this dataset, given the network's own normalization
    /// `net_norm` (fitted on what it trained on).
    pub fn device_normalization(&self, net_norm: &Normalization) -> Normalization {
        match &self.stats {
            Some(s) => compose(s, net_norm),
            None => net_norm.clone(),
        }
    }

    /// The card's entry for this dataset.
    pub fn info(&self, net_norm: &Normalization) -> SourceDatasetInfo {
        SourceDatasetInfo {
            name: self.kind.name().to_string(),
            split_unit: match self.unit {
                SplitUnit::Subject => "subject",
                SplitUnit::Session => "session",
            }
            .into(),
            activities: self.activities.clone(),
            train_subjects: self.split.train.clone(),
            val_subjects: self.split.val.clone(),
            test_subjects: self.split.test.clone(),
            train_windows: self.windows.train.len(),
            val_windows: self.windows.val.len(),
            test_windows: self.windows.test.len(),
            normalization: Some(self.device_normalization(net_norm)),
        }
    }
}

/// Every dataset's parts put together (no fine-tuning part).
pub fn concat(parts: &[DatasetParts]) -> Splits {
    let first = parts.first().map(|p| &p.windows.train);
    let empty = || first.map_or_else(WindowSet::default, |w| WindowSet::new(w.window, w.channels));
    let mut out = Splits {
        train: empty(),
        val: empty(),
        test: empty(),
        finetune: empty(),
    };
    for p in parts {
        out.train.extend(&p.windows.train);
        out.val.extend(&p.windows.val);
        out.test.extend(&p.windows.test);
    }
    out
}
