//! `harbor study lodo | transfer | personalize` smoke runs: two datasets (a small WISDM 2019
//! watch tree written by the test and the real BasicMotions files), one epoch of the tiny
//! model, a few windows per model on the band firmware in QEMU. They check the machinery
//! and the report's schema (rows, device figures, bit-exactness), not the numbers.

#![cfg(feature = "train")]

use std::path::Path;

use harbor::study::report::{STUDY_SCHEMA_VERSION, StudyReport};

use crate::support::cli::{code, harbor, text};
use crate::support::qemu::firmware;
use crate::support::train::basicmotions;
use crate::support::wisdm_tree::write_watch_tree;

fn study(args: &[&str], out: &Path) -> std::process::Output {
    let fw = firmware("band-qemu");
    let mut all: Vec<String> = vec!["study".into()];
    all.extend(args.iter().map(|s| s.to_string()));
    all.extend(
        [
            "--variant",
            "tiny",
            "--epochs",
            "1",
            "--device",
            "qemu",
            "--max-device-windows",
            "6",
        ]
        .map(String::from),
    );
    all.push("--firmware".into());
    all.push(fw.to_string_lossy().into_owned());
    all.push("--out".into());
    all.push(out.to_string_lossy().into_owned());
    harbor(&all)
}

/// The report's files exist, its schema holds, and every device run is complete and
/// bit-exact with the host, with instructions, flash and RAM.
fn check_report(out: &Path, study: &str, rows: usize) -> StudyReport {
    let json = std::fs::read_to_string(out.join("study.json")).expect("study.json");
    let report: StudyReport = serde_json::from_str(&json).expect("study.json parses");
    assert_eq!(report.schema_version, STUDY_SCHEMA_VERSION);
    assert_eq!(report.study, study);
    assert!(
        report.command.contains(&format!("study {study}")),
        "{}",
        report.command
    );
    assert!(report.wall_seconds > 0.0);
    // Every study trains, exports and replays here: each phase took time, and they fit
    // in the wall time.
    let p = report.phases.clone().expect("wall time by phase");
    assert!(p.train > 0.0 && p.export > 0.0 && p.device > 0.0, "{p:?}");
    assert!(
        p.train + p.export + p.device + p.other <= report.wall_seconds + 1e-6,
        "{p:?} vs {}",
        report.wall_seconds
    );
    assert_eq!(report.rows.len(), rows, "{:#?}", report.rows);
    for r in &report.rows {
        assert!(r.test_windows > 0, "{r:?}");
        for s in [r.host.float, r.host.int8] {
            assert!((0.0..=1.0).contains(&s.accuracy) && (0.0..=1.0).contains(&s.macro_f1));
        }
        let d = r.device.as_ref().expect("device column");
        let expected = r.test_windows.min(6);
        assert_eq!(
            (d.windows, d.windows_completed),
            (expected, expected),
            "{r:?}"
        );
        assert_eq!(
            d.agreement_int8,
            Some(1.0),
            "device bit-exact with the host: {r:?}"
        );
        assert!(d.passed, "{r:?}");
        assert!(d.instructions_per_inference.unwrap_or(0) > 1000, "{r:?}");
        assert!(d.flash_bytes.unwrap_or(0) > d.model_bytes && d.ram_bytes.unwrap_or(0) > 0);
        assert!(out.join(&d.report).is_file(), "{}", d.report);
    }
    let md = std::fs::read_to_string(out.join("study.md")).expect("study.md");
    assert!(
        md.contains("| setting | ratio | groups | float | int8 | device"),
        "{md}"
    );
    assert!(md.contains(&report.command), "the command is in study.md");
    assert!(
        md.contains("device replay"),
        "the wall time split is in study.md"
    );
    let html = std::fs::read_to_string(out.join("study.html")).expect("study.html");
    assert!(html.contains("<table>") && html.contains("hsl("), "heatmap");
    report
}

#[test]
fn lodo_runs_every_target_ratio_and_strategy_on_host_and_device() {
    let dir = tempfile::tempdir().expect("temp dir");
    write_watch_tree(dir.path(), 7);
    let out = dir.path().join("lodo");
    let datasets = format!(
        "wisdm2019-watch={},{}",
        dir.path().display(),
        basicmotions()
    );
    let run = study(
        &[
            "lodo",
            "--datasets",
            &datasets,
            "--ratios",
            "0,10",
            "--strategies",
            "rd,pf,pu",
        ],
        &out,
    );
    assert_eq!(code(&run), 0, "{}", text(&run));
    // 2 targets × 2 ratios × 3 strategies.
    let report = check_report(&out, "lodo", 12);
    assert_eq!(report.datasets, ["wisdm2019-watch", "basicmotions"]);
    assert_eq!(report.summary.len(), 6, "one mean per strategy and ratio");
    assert!(
        report
            .summary
            .iter()
            .all(|s| s.groups == 2 && s.device_bit_exact == Some(true))
    );
    let targets: Vec<&str> = report.rows.iter().map(|r| r.group.as_str()).collect();
    assert_eq!(targets.iter().filter(|t| **t == "basicmotions").count(), 6);
    let bm = report
        .rows
        .iter()
        .find(|r| r.group == "basicmotions")
        .unwrap();
    assert_eq!(bm.sources, ["wisdm2019-watch"]);
    // 0 %: nothing fine-tuned; 10 %: a share of every class of the target's training part.
    for r in &report.rows {
        assert_eq!(r.train_windows == 0, r.ratio == Some(0.0), "{r:?}");
    }
    assert!(
        report
            .published
            .iter()
            .any(|p| p.ratio == Some(70.0) && p.value == 0.908)
    );
    let md = std::fs::read_to_string(out.join("study.md")).unwrap();
    assert!(md.contains("0.897 (Presotto"), "published beside ours");
    assert!(
        std::fs::read_to_string(out.join("study.html"))
            .unwrap()
            .contains("<svg")
    );
}

#[test]
fn transfer_compares_pre_trained_with_from_scratch() {
    let dir = tempfile::tempdir().expect("temp dir");
    write_watch_tree(dir.path(), 7);
    let out = dir.path().join("transfer");
    let to = format!("wisdm2019-watch={}", dir.path().display());
    let run = study(
        &[
            "transfer",
            "--from",
            &basicmotions(),
            "--to",
            &to,
            "--ratios",
            "5,50",
        ],
        &out,
    );
    assert_eq!(code(&run), 0, "{}", text(&run));
    let report = check_report(&out, "transfer", 4);
    let settings: Vec<&str> = report.rows.iter().map(|r| r.setting.as_str()).collect();
    assert_eq!(settings, ["rd", "pu", "rd", "pu"]);
    assert!(report.rows.iter().all(|r| r.group == "wisdm2019-watch"));
}

#[test]
fn personalize_scores_gs_ps_and_pm_per_user() {
    let dir = tempfile::tempdir().expect("temp dir");
    write_watch_tree(dir.path(), 8);
    let out = dir.path().join("personalize");
    let d = format!("wisdm2019-watch={}", dir.path().display());
    let run = study(
        &[
            "personalize",
            "--dataset",
            &d,
            "--users",
            "2",
            "--shots",
            "3",
        ],
        &out,
    );
    assert_eq!(code(&run), 0, "{}", text(&run));
    // GS once, then PS and PM for each of 2 users.
    let report = check_report(&out, "personalize", 5);
    let settings: Vec<&str> = report.rows.iter().map(|r| r.setting.as_str()).collect();
    assert_eq!(settings, ["GS", "PS", "PM", "PS", "PM"]);
    assert_eq!(report.rows[1].group, report.rows[2].group);
    assert_eq!(
        report.rows[2].train_windows,
        4 * 3,
        "3 shots of each of 4 classes"
    );
    assert_eq!(report.settings.shots, Some(3));
    assert!(
        report
            .published
            .iter()
            .any(|p| p.setting == "PM" && p.value == 0.8029)
    );
}

#[test]
fn bad_study_arguments_are_usage_errors_naming_the_cause() {
    let dir = tempfile::tempdir().expect("temp dir");
    write_watch_tree(dir.path(), 7);
    let w = format!("wisdm2019-watch={}", dir.path().display());
    let out = dir.path().join("bad");
    let two = format!("{w},{}", basicmotions());
    for (args, named) in [
        (vec!["lodo", "--datasets", w.as_str()], "at least two"),
        (
            vec!["lodo", "--datasets", two.as_str(), "--ratios", "150"],
            "150",
        ),
        (
            vec!["lodo", "--datasets", two.as_str(), "--strategies", "rd,xx"],
            "xx",
        ),
        (
            vec!["transfer", "--from", w.as_str(), "--to", w.as_str()],
            "same dataset",
        ),
        (
            vec!["personalize", "--dataset", w.as_str(), "--users", "6"],
            "7 subjects",
        ),
    ] {
        let run = study(&args, &out);
        assert_eq!(code(&run), 2, "{args:?}: {}", text(&run));
        assert!(text(&run).contains(named), "{args:?}: {}", text(&run));
        assert!(!out.join("study.json").exists(), "{args:?}: no report");
    }
    let mut all: Vec<String> = ["study", "lodo", "--datasets", &two, "--device", "qemu"]
        .map(String::from)
        .to_vec();
    all.extend(["--firmware", "/nonexistent.elf", "--out"].map(String::from));
    all.push(out.to_string_lossy().into_owned());
    let run = harbor(&all);
    assert_eq!(code(&run), 2, "{}", text(&run));
    assert!(
        text(&run).contains("scripts/build-firmware"),
        "{}",
        text(&run)
    );
}
