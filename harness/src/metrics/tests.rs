//! Metrics against matrices and figures worked out by hand.

use super::*;

#[test]
fn accuracy_and_macro_f1_of_a_hand_computed_matrix() {
    // truth:     0 0 0 1 1 2 2 2 2
    // predicted: 0 0 1 1 2 2 2 2 0
    let truth = [0, 0, 0, 1, 1, 2, 2, 2, 2];
    let predicted = [0, 0, 1, 1, 2, 2, 2, 2, 0];
    let c = Confusion::from_pairs(3, &truth, &predicted);
    assert_eq!(c.counts, vec![vec![2, 1, 0], vec![0, 1, 1], vec![1, 0, 3]]);
    // 6 of 9 on the diagonal.
    assert!((c.accuracy() - 6.0 / 9.0).abs() < 1e-12);
    // class 0: p 2/3 r 2/3 f1 2/3; class 1: p 1/2 r 1/2 f1 1/2; class 2: p 3/4 r 3/4 f1 3/4.
    let f1: Vec<f64> = c.per_class().iter().map(|s| s.f1).collect();
    for (got, want) in f1.iter().zip([2.0 / 3.0, 0.5, 0.75]) {
        assert!((got - want).abs() < 1e-12, "{f1:?}");
    }
    let macro_f1 = (2.0 / 3.0 + 0.5 + 0.75) / 3.0;
    assert!((c.macro_f1() - macro_f1).abs() < 1e-12);
}

#[test]
fn macro_f1_ignores_classes_absent_from_the_truth_but_counts_wrong_predictions_of_them() {
    // Class 2 never occurs but is predicted once: it lowers class 0's recall, adds no F1 term.
    let c = Confusion::from_pairs(3, &[0, 0, 1, 1], &[0, 2, 1, 1]);
    // class 0: p 1/1, r 1/2 → f1 2/3; class 1: p 1, r 1 → 1.
    assert!((c.macro_f1() - (2.0 / 3.0 + 1.0) / 2.0).abs() < 1e-12);
    assert!((c.accuracy() - 0.75).abs() < 1e-12);
}

#[test]
fn int8_agreement_lists_every_mismatch_with_its_window() {
    let host = [vec![1i8, 2, 3], vec![4, 5, 6], vec![7, 8, 9], vec![0, 0, 0]];
    let device = [
        vec![1i8, 2, 3],
        vec![4, 5, 7],
        vec![7, 8, 9],
        vec![0, -1, 0],
    ];
    let (fraction, mismatches) = int8_agreement(
        [10, 11, 12, 13]
            .into_iter()
            .zip(device.iter().zip(&host))
            .map(|(w, (d, h))| (w, d.as_slice(), h.as_slice())),
    );
    assert_eq!(fraction, Some(0.5));
    assert_eq!(
        mismatches.iter().map(|m| m.window).collect::<Vec<_>>(),
        vec![11, 13]
    );
    assert_eq!(mismatches[0].device, vec![4, 5, 7]);
    assert_eq!(mismatches[0].host, vec![4, 5, 6]);
}

#[test]
fn agreement_over_nothing_is_unknown_not_perfect() {
    assert_eq!(int8_agreement(std::iter::empty()).0, None);
    assert_eq!(agreement_float(std::iter::empty()), None);
    assert_eq!(
        agreement_float([(1, 1), (2, 0), (3, 3), (0, 0)]),
        Some(0.75)
    );
}

#[test]
fn instruction_stats_use_the_lower_median() {
    assert_eq!(InstructionStats::of(Vec::<u64>::new()), None);
    let s = InstructionStats::of([500, 100, 300, 200]).unwrap();
    assert_eq!((s.min, s.median, s.max), (100, 200, 500));
    let s = InstructionStats::of([7, 3, 5]).unwrap();
    assert_eq!((s.min, s.median, s.max), (3, 5, 7));
}
