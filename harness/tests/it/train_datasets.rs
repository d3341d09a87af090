//! `harbor models train --datasets a,b [--normalize …]` end to end: a small WISDM 2019 watch
//! tree written by the test and the real BasicMotions files (one subject: split by session),
//! real loaders and signal chain, one epoch. The card records the datasets, their subjects,
//! the activity union and each dataset's input conversion.

#![cfg(feature = "train")]

use std::path::Path;

use harbor::model::ModelCard;

use crate::support::cli::{code, harbor, text};
use crate::support::train::basicmotions;
use crate::support::wisdm_tree::write_watch_tree;

fn train(datasets: &str, out: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "models".to_string(),
        "train".into(),
        "--datasets".into(),
        datasets.into(),
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

#[test]
fn two_datasets_train_one_model_on_the_union_of_their_activities() {
    let dir = tempfile::tempdir().expect("temp dir");
    write_watch_tree(dir.path(), 7);
    let list = format!(
        "wisdm2019-watch={},{}",
        dir.path().display(),
        basicmotions()
    );
    let out_dir = dir.path().join("m");
    let out = train(&list, &out_dir, &[]);
    assert_eq!(code(&out), 0, "{}", text(&out));
    let card = ModelCard::load(&out_dir.join("card.yaml")).expect("card");
    let names: Vec<&str> = card.classes.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "badminton",
            "jogging",
            "running",
            "sitting",
            "standing",
            "walking",
            "writing"
        ]
    );
    let d = &card.dataset;
    assert_eq!(d.name, "wisdm2019-watch+basicmotions");
    assert_eq!(d.normalize, "per-dataset");
    assert_eq!(d.sources.len(), 2);
    let (w, b) = (&d.sources[0], &d.sources[1]);
    assert_eq!(
        (w.name.as_str(), w.split_unit.as_str()),
        ("wisdm2019-watch", "subject")
    );
    assert_eq!(
        (b.name.as_str(), b.split_unit.as_str()),
        ("basicmotions", "session")
    );
    // 7 subjects: 20 % test and 10 % validation round to one each.
    assert_eq!(
        (
            w.train_subjects.len(),
            w.val_subjects.len(),
            w.test_subjects.len()
        ),
        (5, 1, 1)
    );
    assert!(
        w.test_subjects[0].starts_with("wisdm2019-watch:16"),
        "{:?}",
        w.test_subjects
    );
    assert!(
        b.test_subjects
            .iter()
            .all(|s| s.starts_with("basicmotions:"))
    );
    assert_eq!(
        b.activities,
        ["badminton", "running", "standing", "walking"]
    );
    // 80 BasicMotions sessions: 16 test, 8 validation.
    assert_eq!((b.test_subjects.len(), b.val_subjects.len()), (16, 8));
    assert!(b.test_windows > 0 && w.test_windows > 0);
    assert_eq!(d.test_windows, w.test_windows + b.test_windows);
    // Each dataset its own conversion; the card's is the first dataset's.
    let (nw, nb) = (
        w.normalization.clone().unwrap(),
        b.normalization.clone().unwrap(),
    );
    assert_eq!(card.normalization.stats, nw);
    assert_ne!(nw, nb, "per-dataset statistics differ between the datasets");
    assert!(
        card.reproduce
            .contains("--datasets wisdm2019-watch,basicmotions"),
        "{}",
        card.reproduce
    );
    assert!(card.results.float.accuracy > 0.0);

    let global_dir = dir.path().join("g");
    let out = train(&list, &global_dir, &["--normalize", "global"]);
    assert_eq!(code(&out), 0, "{}", text(&out));
    let card = ModelCard::load(&global_dir.join("card.yaml")).expect("card");
    assert_eq!(card.dataset.normalize, "global");
    for s in &card.dataset.sources {
        assert_eq!(
            s.normalization.as_ref(),
            Some(&card.normalization.stats),
            "{}",
            s.name
        );
    }
}

#[test]
fn bad_dataset_lists_are_usage_errors_naming_the_cause() {
    let dir = tempfile::tempdir().expect("temp dir");
    write_watch_tree(dir.path(), 7);
    let out_dir = dir.path().join("m");
    let tree = format!("wisdm2019-watch={}", dir.path().display());
    for (list, extra, named) in [
        ("hapt,hapt", &[][..], "listed twice"),
        ("nope", &[][..], "nope"),
        ("custom", &[][..], "custom=ROOT"),
        (
            tree.as_str(),
            &["--classes", "walking,flying"][..],
            "flying",
        ),
        (
            tree.as_str(),
            &["--test-subjects", "1600"][..],
            "--test-subjects",
        ),
    ] {
        let out = train(list, &out_dir, extra);
        assert_eq!(code(&out), 2, "{list} {extra:?}: {}", text(&out));
        assert!(
            text(&out).contains(named),
            "{list} {extra:?}: {}",
            text(&out)
        );
        assert!(!out_dir.exists(), "{list}: nothing written");
    }
}
