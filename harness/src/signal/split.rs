//! Subject-wise splits, seeded and reproducible on any machine.
//!
//! Subjects are identified by (dataset, subject), sorted, then shuffled with ChaCha8 seeded
//! from the user's seed and harbor's own Fisher–Yates with unbiased bounded draws, so the
//! result depends on nothing but the seed and the subject set (not on a library's shuffle
//! algorithm, which may change between versions).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::Serialize;

use super::SignalError;
use super::window::Windows;
use crate::datasets::Activity;
use crate::rng::chacha_shuffle;

/// Which part of an experiment a window belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Part {
    /// Fits the model.
    Train,
    /// Picks the epoch and checks for overfitting.
    Val,
    /// Scores the model.
    Test,
    /// A held-out user's labelled windows for personalising the model.
    FineTune,
    /// Held-out user's windows overlapping a fine-tune window: unused, so no sample is both
    /// trained on and scored.
    Excluded,
}

impl Part {
    /// The part's name as stored in the `.npz`.
    pub fn name(self) -> &'static str {
        match self {
            Part::Train => "train",
            Part::Val => "val",
            Part::Test => "test",
            Part::FineTune => "finetune",
            Part::Excluded => "excluded",
        }
    }
}

impl fmt::Display for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A subject across datasets: ids are only unique within a dataset.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct SubjectId {
    /// Dataset name.
    pub dataset: String,
    /// Subject id within the dataset.
    pub subject: String,
}

impl fmt::Display for SubjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.dataset, self.subject)
    }
}

/// A split: one part per window, and the subjects in each part.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Split {
    /// Seed of the subject draw.
    pub seed: u64,
    /// The part of each window, in window order.
    pub parts: Vec<Part>,
    /// The subjects of each part.
    pub subjects: BTreeMap<Part, Vec<SubjectId>>,
    /// Personalization only: (user, class) pairs with fewer windows than requested.
    pub fine_tune_shortfalls: Vec<String>,
}

impl Split {
    /// Windows in `part`.
    pub fn count(&self, part: Part) -> usize {
        self.parts.iter().filter(|&&p| p == part).count()
    }
}

/// Fractions of subjects for train/val/test; they must sum to 1.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct SplitFractions {
    /// Share of subjects for training.
    pub train: f64,
    /// Share of subjects for validation.
    pub val: f64,
    /// Share of subjects for testing.
    pub test: f64,
}

impl Default for SplitFractions {
    fn default() -> Self {
        SplitFractions {
            train: 0.7,
            val: 0.15,
            test: 0.15,
        }
    }
}

/// The personalization protocol: `held_out` users are kept out of the generalized model;
/// each gives `per_class` windows per class (its earliest ones) for fine-tuning, the rest
/// are its test set. The pool's subjects split into train/val by `val_fraction`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct PersonalizationConfig {
    /// Users kept out of the generalized model.
    pub held_out: usize,
    /// Fine-tuning windows per class and user.
    pub per_class: usize,
    /// Share of the pool's subjects used for validation.
    pub val_fraction: f64,
}

impl Default for PersonalizationConfig {
    fn default() -> Self {
        PersonalizationConfig {
            held_out: 5,
            per_class: 15,
            val_fraction: 0.15,
        }
    }
}

fn subject_of(windows: &Windows, i: usize) -> SubjectId {
    let s = windows.source(i);
    SubjectId {
        dataset: s.dataset.clone(),
        subject: s.subject.clone(),
    }
}

/// The distinct subjects of `windows`, sorted, then shuffled by `seed`.
fn shuffled_subjects(windows: &Windows, seed: u64) -> Vec<SubjectId> {
    let set: BTreeSet<SubjectId> = (0..windows.len()).map(|i| subject_of(windows, i)).collect();
    let mut subjects: Vec<SubjectId> = set.into_iter().collect();
    chacha_shuffle(&mut subjects, seed);
    subjects
}

/// Assigns whole subjects to train/val/test: `round(n·test)` test subjects, `round(n·val)`
/// val subjects, the rest train (at least one each when its fraction is positive).
pub fn subject_split(
    windows: &Windows,
    fractions: SplitFractions,
    seed: u64,
) -> Result<Split, SignalError> {
    let SplitFractions { train, val, test } = fractions;
    if [train, val, test].iter().any(|f| !(0.0..=1.0).contains(f))
        || ((train + val + test) - 1.0).abs() > 1e-6
    {
        return Err(SignalError::config(
            "split fractions",
            format!("{train}/{val}/{test} must be in [0, 1] and sum to 1"),
        ));
    }
    let subjects = shuffled_subjects(windows, seed);
    let n = subjects.len();
    let at_least_one = |f: f64| {
        if f > 0.0 {
            ((n as f64 * f).round() as usize).max(1)
        } else {
            0
        }
    };
    let (n_test, n_val) = (at_least_one(test), at_least_one(val));
    let n_train_min = usize::from(train > 0.0);
    if n_test + n_val + n_train_min > n {
        return Err(SignalError::Split(format!(
            "{n} subjects cannot fill {n_test} test + {n_val} val + {n_train_min} train subjects"
        )));
    }
    let mut of_subject = BTreeMap::new();
    for (rank, s) in subjects.iter().enumerate() {
        let part = if rank < n_test {
            Part::Test
        } else if rank < n_test + n_val {
            Part::Val
        } else {
            Part::Train
        };
        of_subject.insert(s.clone(), part);
    }
    Ok(assemble(windows, seed, &of_subject, Vec::new(), |i, _| {
        of_subject[&subject_of(windows, i)]
    }))
}

/// The personalization split described on [`PersonalizationConfig`].
pub fn personalization_split(
    windows: &Windows,
    cfg: PersonalizationConfig,
    seed: u64,
) -> Result<Split, SignalError> {
    if !(0.0..1.0).contains(&cfg.val_fraction) {
        return Err(SignalError::config(
            "val_fraction",
            format!("{} is not in [0, 1)", cfg.val_fraction),
        ));
    }
    let subjects = shuffled_subjects(windows, seed);
    let n = subjects.len();
    let pool = n.saturating_sub(cfg.held_out);
    let n_val = if cfg.val_fraction > 0.0 {
        ((pool as f64 * cfg.val_fraction).round() as usize).max(1)
    } else {
        0
    };
    if cfg.held_out == 0 || pool < n_val + 1 {
        return Err(SignalError::Split(format!(
            "{n} subjects cannot give {} held-out users plus a pool with {n_val} val and ≥ 1 train subject",
            cfg.held_out
        )));
    }
    let mut of_subject = BTreeMap::new();
    for (rank, s) in subjects.iter().enumerate() {
        let part = if rank < cfg.held_out {
            Part::Test
        } else if rank < cfg.held_out + n_val {
            Part::Val
        } else {
            Part::Train
        };
        of_subject.insert(s.clone(), part);
    }

    // Held-out users: per class, the earliest `per_class` windows fine-tune.
    let mut by_user_class: BTreeMap<(SubjectId, &Activity), Vec<usize>> = BTreeMap::new();
    for i in 0..windows.len() {
        let subject = subject_of(windows, i);
        if of_subject[&subject] == Part::Test {
            by_user_class
                .entry((subject, &windows.info[i].activity))
                .or_default()
                .push(i);
        }
    }
    let mut fine_tune = vec![false; windows.len()];
    let mut shortfalls = Vec::new();
    for ((user, class), mut idx) in by_user_class {
        idx.sort_by_key(|&i| (windows.source(i).session.clone(), windows.info[i].start_ns));
        if idx.len() <= cfg.per_class {
            shortfalls.push(format!(
                "{user} {class}: {} windows, {} requested",
                idx.len(),
                cfg.per_class
            ));
        }
        for &i in idx.iter().take(cfg.per_class) {
            fine_tune[i] = true;
        }
    }
    // With overlapping windows a test window may share samples with a fine-tune window.
    let mut fine_tune_starts: BTreeMap<u32, Vec<i64>> = BTreeMap::new();
    for i in (0..windows.len()).filter(|&i| fine_tune[i]) {
        fine_tune_starts
            .entry(windows.info[i].source)
            .or_default()
            .push(windows.info[i].start_ns);
    }
    let overlaps_fine_tune = |i: usize| {
        let w = &windows.info[i];
        fine_tune_starts.get(&w.source).is_some_and(|starts| {
            starts
                .iter()
                .any(|&s| (s - w.start_ns).abs() < windows.duration_ns)
        })
    };
    Ok(assemble(
        windows,
        seed,
        &of_subject,
        shortfalls,
        |i, part| match part {
            Part::Test if fine_tune[i] => Part::FineTune,
            Part::Test if overlaps_fine_tune(i) => Part::Excluded,
            other => other,
        },
    ))
}

fn assemble(
    windows: &Windows,
    seed: u64,
    of_subject: &BTreeMap<SubjectId, Part>,
    fine_tune_shortfalls: Vec<String>,
    part_of: impl Fn(usize, Part) -> Part,
) -> Split {
    let parts: Vec<Part> = (0..windows.len())
        .map(|i| part_of(i, of_subject[&subject_of(windows, i)]))
        .collect();
    let mut subjects: BTreeMap<Part, Vec<SubjectId>> = BTreeMap::new();
    for (subject, part) in of_subject {
        subjects.entry(*part).or_default().push(subject.clone());
    }
    Split {
        seed,
        parts,
        subjects,
        fine_tune_shortfalls,
    }
}
