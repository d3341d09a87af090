//! Subject-wise splits by fractions (seeded) and fine-tuning ratios of a training part.

use serde::{Deserialize, Serialize};

use super::StudyError;
use crate::model::windows::WindowSet;
use crate::rng::{SplitMix64, chacha_shuffle};

/// Which subjects (split units) are in which part.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubjectSplit {
    /// Training subjects.
    pub train: Vec<String>,
    /// Validation subjects (early stopping).
    pub val: Vec<String>,
    /// Test subjects.
    pub test: Vec<String>,
}

/// The windows of each part of a [`SubjectSplit`].
#[derive(Clone, Debug, Default)]
pub struct SplitWindows {
    /// Training windows.
    pub train: WindowSet,
    /// Validation windows.
    pub val: WindowSet,
    /// Test windows.
    pub test: WindowSet,
}

/// A seeded subject-wise split of `set`'s subjects: `test` and `val` are fractions of the
/// subjects (rounded, at least one each when the fraction is above 0), the rest train.
pub fn split_subjects(
    set: &WindowSet,
    dataset: &str,
    test: f64,
    val: f64,
    seed: u64,
) -> Result<SubjectSplit, StudyError> {
    let mut subjects = set.subjects();
    let n = subjects.len();
    let count = |f: f64| {
        if f > 0.0 {
            ((n as f64 * f).round() as usize).max(1)
        } else {
            0
        }
    };
    let (n_test, n_val) = (count(test), count(val));
    if n_test + n_val >= n {
        return Err(StudyError::TooFewSubjects {
            dataset: dataset.to_string(),
            subjects: n,
            needed: n_test + n_val + 1,
        });
    }
    chacha_shuffle(&mut subjects, seed);
    let sorted = |v: &[String]| {
        let mut v = v.to_vec();
        v.sort();
        v
    };
    Ok(SubjectSplit {
        test: sorted(&subjects[..n_test]),
        val: sorted(&subjects[n_test..n_test + n_val]),
        train: sorted(&subjects[n_test + n_val..]),
    })
}

impl SubjectSplit {
    /// The windows of each part.
    pub fn apply(&self, set: &WindowSet) -> SplitWindows {
        let part = |list: &[String]| set.filter_subjects(|s| list.iter().any(|l| l == s));
        SplitWindows {
            train: part(&self.train),
            val: part(&self.val),
            test: part(&self.test),
        }
    }
}

/// A seeded `percent` % of `train`'s windows, drawn per class (at least one window of every
/// class that has any, when `percent` > 0), in their original order.
pub fn fine_tune_part(train: &WindowSet, classes: usize, percent: f64, seed: u64) -> WindowSet {
    if percent <= 0.0 {
        return WindowSet::new(train.window, train.channels);
    }
    let mut rng = SplitMix64::new(seed ^ 0xF17E);
    let mut keep = Vec::new();
    for c in 0..classes {
        let mut idx: Vec<usize> = (0..train.len()).filter(|&i| train.y[i] == c).collect();
        if idx.is_empty() {
            continue;
        }
        let take = ((idx.len() as f64 * percent / 100.0).ceil() as usize).clamp(1, idx.len());
        rng.shuffle(&mut idx);
        keep.extend_from_slice(&idx[..take]);
    }
    keep.sort_unstable();
    train.select(&keep)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(subjects: usize, per: usize) -> WindowSet {
        let mut s = WindowSet::new(1, 1);
        for subject in 0..subjects {
            for i in 0..per {
                s.push(&[i as f32], i % 2, &format!("d:{subject}"));
            }
        }
        s
    }

    #[test]
    fn fractions_of_subjects_and_disjoint_parts() {
        let s = set(30, 4);
        let split = split_subjects(&s, "d", 0.2, 0.1, 7).unwrap();
        assert_eq!(
            (split.test.len(), split.val.len(), split.train.len()),
            (6, 3, 21)
        );
        for t in &split.test {
            assert!(!split.train.contains(t) && !split.val.contains(t));
        }
        assert_eq!(split, split_subjects(&s, "d", 0.2, 0.1, 7).unwrap());
        assert_ne!(split, split_subjects(&s, "d", 0.2, 0.1, 8).unwrap());
        let w = split.apply(&s);
        assert_eq!(w.train.len() + w.val.len() + w.test.len(), s.len());
        let source = split_subjects(&s, "d", 0.0, 0.1, 7).unwrap();
        assert_eq!((source.test.len(), source.val.len()), (0, 3));
        assert!(matches!(
            split_subjects(&set(2, 3), "d", 0.2, 0.1, 7),
            Err(StudyError::TooFewSubjects { subjects: 2, .. })
        ));
    }

    #[test]
    fn ratios_take_a_share_of_every_class() {
        let s = set(10, 20);
        assert!(fine_tune_part(&s, 2, 0.0, 1).is_empty());
        let one = fine_tune_part(&s, 2, 1.0, 1);
        assert_eq!(one.class_counts(2), vec![1, 1]);
        let ten = fine_tune_part(&s, 2, 10.0, 1);
        assert_eq!(ten.class_counts(2), vec![10, 10]);
        assert_eq!(fine_tune_part(&s, 2, 100.0, 1).len(), s.len());
    }
}
