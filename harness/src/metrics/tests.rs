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

/// The rows of docs/report-json.md's `## Metrics` table: name, unit, better, tolerance.
fn documented_metrics() -> Vec<[String; 4]> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/report-json.md");
    let text = std::fs::read_to_string(&path).unwrap();
    let section = text
        .split("\n## Metrics\n")
        .nth(1)
        .expect("docs/report-json.md has a `## Metrics` section");
    let section = section.split("\n## ").next().unwrap_or(section);
    section
        .lines()
        .filter(|l| l.starts_with("| `"))
        .map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            [1, 2, 3, 4].map(|k| cells[k].trim_matches('`').to_string())
        })
        .collect()
}

#[test]
fn report_json_md_documents_exactly_the_metrics_table() {
    let documented = documented_metrics();
    let table: Vec<[String; 4]> = METRICS
        .iter()
        .map(|m| {
            [
                m.name.to_string(),
                m.unit.symbol().to_string(),
                m.better.word().to_string(),
                m.diff_tolerance
                    .map_or_else(|| "–".to_string(), |t| t.to_string()),
            ]
        })
        .collect();
    for row in &table {
        assert!(
            documented.contains(row),
            "docs/report-json.md lacks or differs on {row:?}"
        );
    }
    for row in &documented {
        assert!(
            table.contains(row),
            "docs/report-json.md documents {row:?}, which METRICS does not have"
        );
    }
    assert_eq!(documented.len(), table.len(), "a row documented twice");
}

#[test]
fn metric_names_are_unique_and_look_up() {
    for (i, m) in METRICS.iter().enumerate() {
        assert!(
            METRICS[..i].iter().all(|other| other.name != m.name),
            "{} twice",
            m.name
        );
        assert_eq!(metric(m.name).unwrap().name, m.name);
    }
    let err = metric("latency").unwrap_err().to_string();
    assert!(err.starts_with("unknown metric `latency`; expected one of: accuracy, "));
    assert!(err.ends_with("failures, status_ok"), "{err}");
}

#[test]
fn values_print_with_the_decimals_of_their_unit() {
    assert_eq!(format_value("flash_bytes", 98_646.0), "98646");
    assert_eq!(format_value("instructions_median", 988_666.4), "988666");
    assert_eq!(format_value("energy_uj", 469.123), "469.12");
    assert_eq!(format_value("accuracy", 2.0 / 3.0), "0.6667");
    assert_eq!(format_value("mah_per_day", 23.8), "23.8000");
    // A name this version does not know (a report from another one) still prints.
    assert_eq!(format_value("future_metric", 1.5), "1.5000");
}

#[test]
fn printed_floats_agree_within_the_tolerance_of_the_dequantized_reference() {
    use crate::metrics::{FloatOutputCheck, float_output_agreement};
    // A softmax output: scale 1/256, zero point -128; host int8 [127, -128] is [0.996, 0.0].
    let check = FloatOutputCheck {
        scale: 1.0 / 256.0,
        zero_point: -128,
        tolerance: 0.01,
    };
    let host: [i8; 2] = [127, -128];
    let printed_3dp = [0.996f32, 0.000];
    let one_step_off = [0.992f32, 0.004];
    let other_class = [0.0f32, 0.996];
    let too_few = [0.996f32];
    let agreement =
        |device: &[&[f32]]| float_output_agreement(device.iter().map(|d| (*d, &host[..])), check);
    assert_eq!(agreement(&[&printed_3dp, &one_step_off]), Some(1.0));
    assert_eq!(agreement(&[&printed_3dp, &other_class]), Some(0.5));
    assert_eq!(agreement(&[&too_few]), Some(0.0));
    assert_eq!(agreement(&[]), None);
    let strict = FloatOutputCheck {
        tolerance: 0.001,
        ..check
    };
    assert_eq!(
        float_output_agreement([(&one_step_off[..], &host[..])], strict),
        Some(0.0)
    );
}
