//! Classification metrics: confusion matrix, accuracy, per-class precision/recall/F1, macro-F1.

use serde::{Deserialize, Serialize};

/// Rows are true classes, columns predicted classes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confusion {
    /// `counts[truth][predicted]`.
    pub counts: Vec<Vec<u64>>,
}

/// Precision, recall and F1 of one class.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClassScore {
    /// Of the windows predicted as this class, the share that are.
    pub precision: f64,
    /// Of the windows of this class, the share predicted as it.
    pub recall: f64,
    /// Harmonic mean of precision and recall.
    pub f1: f64,
    /// Windows whose true class is this one.
    pub support: u64,
}

impl Confusion {
    /// An empty matrix of `classes` × `classes`.
    pub fn new(classes: usize) -> Self {
        Confusion {
            counts: vec![vec![0; classes]; classes],
        }
    }

    /// Counts every (truth, predicted) pair.
    pub fn from_pairs(classes: usize, truth: &[usize], predicted: &[usize]) -> Self {
        let mut c = Confusion::new(classes);
        for (&t, &p) in truth.iter().zip(predicted) {
            c.add(t, p);
        }
        c
    }

    /// Counts one window.
    pub fn add(&mut self, truth: usize, predicted: usize) {
        self.counts[truth][predicted] += 1;
    }

    /// Number of classes.
    pub fn classes(&self) -> usize {
        self.counts.len()
    }

    /// Windows counted.
    pub fn total(&self) -> u64 {
        self.counts.iter().flatten().sum()
    }

    /// Share of windows on the diagonal.
    pub fn accuracy(&self) -> f64 {
        let correct: u64 = (0..self.classes()).map(|i| self.counts[i][i]).sum();
        ratio(correct, self.total())
    }

    /// Precision, recall, F1 and support of every class.
    pub fn per_class(&self) -> Vec<ClassScore> {
        (0..self.classes())
            .map(|c| {
                let tp = self.counts[c][c];
                let support: u64 = self.counts[c].iter().sum();
                let predicted: u64 = self.counts.iter().map(|row| row[c]).sum();
                let precision = ratio(tp, predicted);
                let recall = ratio(tp, support);
                let f1 = if precision + recall > 0.0 {
                    2.0 * precision * recall / (precision + recall)
                } else {
                    0.0
                };
                ClassScore {
                    precision,
                    recall,
                    f1,
                    support,
                }
            })
            .collect()
    }

    /// Mean F1 over the classes present in the truth (absent classes would add a meaningless 0).
    pub fn macro_f1(&self) -> f64 {
        let scores: Vec<f64> = self
            .per_class()
            .into_iter()
            .filter(|s| s.support > 0)
            .map(|s| s.f1)
            .collect();
        if scores.is_empty() {
            0.0
        } else {
            scores.iter().sum::<f64>() / scores.len() as f64
        }
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

/// Index of the largest value (first on ties), as a classifier's decision.
pub fn argmax<T: PartialOrd + Copy>(values: &[T]) -> usize {
    let mut best = 0;
    for (i, v) in values.iter().enumerate() {
        if *v > values[best] {
            best = i;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_scores() {
        // truth 0 0 1 1 2, predicted 0 1 1 1 0
        let c = Confusion::from_pairs(3, &[0, 0, 1, 1, 2], &[0, 1, 1, 1, 0]);
        assert_eq!(c.accuracy(), 3.0 / 5.0);
        let s = c.per_class();
        // class 0: tp 1, predicted 2, support 2 -> p 0.5 r 0.5 f1 0.5
        assert!((s[0].f1 - 0.5).abs() < 1e-12);
        // class 1: tp 2, predicted 3, support 2 -> p 2/3 r 1 f1 0.8
        assert!((s[1].f1 - 0.8).abs() < 1e-12);
        // class 2: tp 0 -> f1 0
        assert_eq!(s[2].f1, 0.0);
        assert!((c.macro_f1() - 1.3 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn argmax_takes_first_maximum() {
        assert_eq!(argmax(&[1, 3, 3, 2]), 1);
        assert_eq!(argmax(&[-5i8]), 0);
    }
}
