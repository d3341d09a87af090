//! `harbor models train --classes … --train/val/test-subjects …` end to end on a small
//! WISDM 2019 watch tree written by the test (real loader, real signal chain, real training):
//! the card records the classes, the activity mapping and the subject lists, and unknown
//! activities or subjects are usage errors naming them.

#![cfg(feature = "train")]

use std::path::Path;

use harbor::model::ModelCard;

use crate::support::cli::{code, harbor, text};
use crate::support::wisdm_tree::write_watch_tree;

/// Subjects 1600..=1606 of the small WISDM tree.
const SUBJECTS: u32 = 7;

fn train(root: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "models".to_string(),
        "train".into(),
        "--dataset".into(),
        "wisdm2019-watch".into(),
        "--root".into(),
        root.to_string_lossy().into_owned(),
        "--variant".into(),
        "tiny".into(),
        "--max-epochs".into(),
        "1".into(),
        "--out".into(),
        out.to_string_lossy().into_owned(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    harbor(&args)
}

fn ids(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[test]
fn classes_and_subject_lists_are_used_and_recorded() {
    let dir = tempfile::tempdir().expect("temp dir");
    write_watch_tree(dir.path(), SUBJECTS);
    let out_dir = dir.path().join("m");
    let out = train(
        dir.path(),
        &out_dir,
        &[
            "--classes",
            "walking,sitting,hand=writing+jogging",
            "--train-subjects",
            "1600-1602,1603",
            "--val-subjects",
            "1604",
            "--test-subjects",
            "1605-1606",
        ],
    );
    assert_eq!(code(&out), 0, "{}", text(&out));
    let card = ModelCard::load(&out_dir.join("card.yaml")).expect("card");
    let names: Vec<&str> = card.classes.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["walking", "sitting", "hand"]);
    assert_eq!(ids(&card.classes[2].activities), ["jogging", "writing"]);
    assert_eq!(ids(&card.classes[0].activities), ["walking"]);
    assert_eq!(
        ids(&card.dataset.train_subjects),
        ["1600", "1601", "1602", "1603"]
    );
    assert_eq!(ids(&card.dataset.val_subjects), ["1604"]);
    assert_eq!(ids(&card.dataset.test_subjects), ["1605", "1606"]);
    assert!(card.dataset.personal_subjects.is_empty());
    assert!(card.personalization.is_none());
    assert!(
        card.dataset.split.contains("explicit"),
        "{}",
        card.dataset.split
    );
    // 2 test subjects × 4 activities, all mapped: every activity's windows are scored.
    assert_eq!(card.results.float.per_class.len(), 3);
    assert!(
        card.reproduce
            .contains("--classes walking,sitting,hand=jogging+writing")
            && card.reproduce.contains("--train-subjects 1600-1602,1603")
            && card.reproduce.contains("--test-subjects 1605-1606"),
        "{}",
        card.reproduce
    );
}

#[test]
fn val_defaults_to_a_seeded_draw_from_the_other_subjects() {
    let dir = tempfile::tempdir().expect("temp dir");
    write_watch_tree(dir.path(), SUBJECTS);
    let out_dir = dir.path().join("m");
    let out = train(
        dir.path(),
        &out_dir,
        &["--classes", "walking,sitting", "--test-subjects", "1606"],
    );
    assert_eq!(code(&out), 0, "{}", text(&out));
    let card = ModelCard::load(&out_dir.join("card.yaml")).expect("card");
    assert_eq!(ids(&card.dataset.test_subjects), ["1606"]);
    assert_eq!(
        card.dataset.val_subjects.len(),
        1,
        "15 % of 6, at least one"
    );
    assert_eq!(card.dataset.train_subjects.len(), 5);
    let mut all = card.dataset.train_subjects.clone();
    all.extend(card.dataset.val_subjects.clone());
    all.sort();
    assert_eq!(ids(&all), ["1600", "1601", "1602", "1603", "1604", "1605"]);
}

#[test]
fn unknown_activity_is_a_usage_error_naming_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    write_watch_tree(dir.path(), SUBJECTS);
    let out_dir = dir.path().join("m");
    let out = train(
        dir.path(),
        &out_dir,
        &["--classes", "walking,swimming", "--test-subjects", "1606"],
    );
    assert_eq!(code(&out), 2, "{}", text(&out));
    assert!(text(&out).contains("`swimming`"), "{}", text(&out));
    assert!(!out_dir.exists(), "nothing written on a refused run");
}

#[test]
fn unknown_or_doubly_listed_subjects_are_usage_errors_naming_them() {
    let dir = tempfile::tempdir().expect("temp dir");
    write_watch_tree(dir.path(), SUBJECTS);
    let out_dir = dir.path().join("m");
    for (args, named) in [
        (&["--test-subjects", "1699"][..], "1699"),
        (&["--test-subjects", "1700-1710"][..], "1700-1710"),
        (
            &["--train-subjects", "1600-1606", "--test-subjects", "1606"][..],
            "1606",
        ),
        (&["--train-subjects", "1600"][..], "--test-subjects"),
        (&["--test-subjects", "1605-1601"][..], "1605-1601"),
    ] {
        let out = train(dir.path(), &out_dir, args);
        assert_eq!(code(&out), 2, "{args:?}: {}", text(&out));
        assert!(text(&out).contains(named), "{args:?}: {}", text(&out));
        assert!(!out_dir.exists(), "{args:?}: nothing written");
    }
}
