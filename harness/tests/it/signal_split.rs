//! Subject-wise and personalization splits: disjoint, deterministic, with the stated counts.

use std::collections::{BTreeMap, BTreeSet};

use harbor::datasets::Activity;
use harbor::signal::Windows;
use harbor::signal::split::{
    Part, PersonalizationConfig, SplitFractions, personalization_split, subject_split,
};
use harbor::signal::window::{Source, WindowInfo};

const HOP_NS: i64 = 1_500_000_000;

/// `subjects` subjects × `classes` classes, one session per class with `per_class`
/// consecutive 50 %-overlapping 3 s windows (starts 1.5 s apart).
fn windows(subjects: usize, classes: usize, per_class: usize) -> Windows {
    let names = [
        Activity::Walking,
        Activity::Sitting,
        Activity::Standing,
        Activity::Jogging,
    ];
    let mut w = Windows {
        length: 60,
        duration_ns: 2 * HOP_NS,
        ..Windows::default()
    };
    for s in 0..subjects {
        for (c, name) in names.iter().enumerate().take(classes) {
            w.sources.push(Source {
                dataset: "synthetic".into(),
                subject: format!("{}", 1600 + s),
                session: format!("{c}"),
            });
            // Stored newest first so "earliest" must come from sorting, not storage order.
            for k in (0..per_class).rev() {
                w.info.push(WindowInfo {
                    source: (w.sources.len() - 1) as u32,
                    start_ns: k as i64 * HOP_NS,
                    activity: name.clone(),
                    purity: 1.0,
                });
            }
        }
    }
    w
}

fn subjects_by_part(w: &Windows, parts: &[Part]) -> BTreeMap<Part, BTreeSet<String>> {
    let mut out: BTreeMap<Part, BTreeSet<String>> = BTreeMap::new();
    for (i, p) in parts.iter().enumerate() {
        let part = if matches!(p, Part::FineTune | Part::Excluded) {
            Part::Test
        } else {
            *p
        };
        out.entry(part)
            .or_default()
            .insert(w.source(i).subject.clone());
    }
    out
}

#[test]
fn subject_split_is_disjoint_deterministic_and_sized_by_fractions() {
    let w = windows(20, 3, 10);
    let split = subject_split(&w, SplitFractions::default(), 7).unwrap();
    let by_part = subjects_by_part(&w, &split.parts);
    // 20 subjects: round(20·0.15) = 3 test, 3 val, 14 train.
    assert_eq!(by_part[&Part::Test].len(), 3);
    assert_eq!(by_part[&Part::Val].len(), 3);
    assert_eq!(by_part[&Part::Train].len(), 14);
    let all: Vec<&String> = by_part.values().flatten().collect();
    assert_eq!(
        all.len(),
        all.iter().collect::<BTreeSet<_>>().len(),
        "a subject is in two parts"
    );
    assert_eq!(split.count(Part::Test), 3 * 30);
    // Same seed → same split; window order does not matter (subjects are sorted first).
    assert_eq!(
        subject_split(&w, SplitFractions::default(), 7).unwrap(),
        split
    );
    let mut reordered = w.clone();
    reordered.info.reverse();
    let again = subject_split(&reordered, SplitFractions::default(), 7).unwrap();
    assert_eq!(again.subjects, split.subjects);
    // Another seed picks other test subjects (for 20 choose 3 a collision is very unlikely;
    // over five seeds it would mean the seed is ignored).
    let others: BTreeSet<_> = (8..13)
        .map(|s| {
            subject_split(&w, SplitFractions::default(), s)
                .unwrap()
                .subjects[&Part::Test]
                .clone()
        })
        .collect();
    assert!(others.len() >= 4, "{others:?}");
}

#[test]
fn subject_split_rejects_impossible_requests() {
    let w = windows(2, 1, 3);
    assert!(
        subject_split(&w, SplitFractions::default(), 1)
            .unwrap_err()
            .to_string()
            .contains("2 subjects")
    );
    let bad = SplitFractions {
        train: 0.5,
        val: 0.5,
        test: 0.5,
    };
    assert!(
        subject_split(&windows(10, 1, 1), bad, 1)
            .unwrap_err()
            .to_string()
            .contains("sum to 1")
    );
}

#[test]
fn personalization_holds_out_users_with_earliest_windows_for_fine_tuning() {
    let cfg = PersonalizationConfig {
        held_out: 4,
        per_class: 15,
        val_fraction: 0.2,
    };
    let w = windows(14, 3, 40);
    let split = personalization_split(&w, cfg, 3).unwrap();
    let by_part = subjects_by_part(&w, &split.parts);
    assert_eq!(by_part[&Part::Test].len(), 4);
    // Pool of 10: round(10·0.2) = 2 val, 8 train; no subject in two parts.
    assert_eq!(by_part[&Part::Val].len(), 2);
    assert_eq!(by_part[&Part::Train].len(), 8);
    let all: Vec<&String> = by_part.values().flatten().collect();
    assert_eq!(all.len(), 14);
    assert_eq!(all.iter().collect::<BTreeSet<_>>().len(), 14);

    // Each held-out user × class: 15 fine-tune windows (the earliest: starts 0..14 hops),
    // window 15 overlaps window 14 by half → excluded, the remaining 24 are test.
    let mut per_user_class: BTreeMap<(String, String), Vec<(i64, Part)>> = BTreeMap::new();
    for (i, p) in split.parts.iter().enumerate() {
        if matches!(p, Part::FineTune | Part::Excluded | Part::Test) {
            let key = (
                w.source(i).subject.clone(),
                w.info[i].activity.name().to_string(),
            );
            per_user_class
                .entry(key)
                .or_default()
                .push((w.info[i].start_ns / HOP_NS, *p));
        }
    }
    assert_eq!(per_user_class.len(), 4 * 3);
    for (key, mut v) in per_user_class {
        v.sort();
        let fine: Vec<i64> = v
            .iter()
            .filter(|(_, p)| *p == Part::FineTune)
            .map(|(k, _)| *k)
            .collect();
        assert_eq!(fine, (0..15).collect::<Vec<_>>(), "{key:?}");
        let excluded: Vec<i64> = v
            .iter()
            .filter(|(_, p)| *p == Part::Excluded)
            .map(|(k, _)| *k)
            .collect();
        assert_eq!(excluded, [15], "{key:?}");
        assert_eq!(
            v.iter().filter(|(_, p)| *p == Part::Test).count(),
            24,
            "{key:?}"
        );
    }
    assert!(split.fine_tune_shortfalls.is_empty());
    assert_eq!(personalization_split(&w, cfg, 3).unwrap(), split);
}

#[test]
fn personalization_reports_classes_with_too_few_windows() {
    let cfg = PersonalizationConfig {
        held_out: 1,
        per_class: 15,
        val_fraction: 0.0,
    };
    let split = personalization_split(&windows(3, 2, 10), cfg, 1).unwrap();
    // 10 windows < 15 requested: all fine-tune, none left to test; reported per class.
    assert_eq!(
        split.fine_tune_shortfalls.len(),
        2,
        "{:?}",
        split.fine_tune_shortfalls
    );
    assert_eq!(split.count(Part::FineTune), 20);
    assert_eq!(split.count(Part::Test), 0);
    let err = personalization_split(&windows(1, 1, 5), cfg, 1)
        .unwrap_err()
        .to_string();
    assert!(err.contains("1 subjects"), "{err}");
}
