//! `harbor diff` and the baseline comparison: deltas, tolerances, exit codes 0/1/2.

use crate::support::cli::{harbor, text};
use std::path::Path;

use harbor::metrics::METRICS;
use harbor::report::{Report, Status, Tolerances, TolerancesError, diff};

fn write(dir: &Path, name: &str, report: &Report) -> std::path::PathBuf {
    let sub = dir.join(name);
    report.write(&sub).unwrap();
    sub.join("report.json")
}

#[test]
fn an_identical_report_has_no_regression() {
    let r = crate::support::report::report();
    let d = diff("old.json", &r, &r, &Tolerances::default());
    assert_eq!(d.regressions, 0);
    assert_eq!(d.cells.len(), 2);
    assert!(
        d.cells
            .iter()
            .flat_map(|c| &c.metrics)
            .all(|m| m.delta.is_none_or(|d| d == 0.0))
    );
}

#[test]
fn worse_beyond_tolerance_is_a_regression_within_it_is_not() {
    let old = crate::support::report::report();
    let mut new = old.clone();
    let cell = &mut new.results[0];
    cell.accuracy = cell.accuracy.map(|a| a - 0.004); // within the default 0.005
    cell.flash_bytes = Some(98_646 + 2_000); // +2 %: beyond the default 1 %
    cell.instructions.as_mut().unwrap().median -= 50_000; // better: never a regression
    let d = diff("old.json", &old, &new, &Tolerances::default());
    let metric = |name: &str| {
        d.cells[0]
            .metrics
            .iter()
            .find(|m| m.metric == name)
            .unwrap()
    };
    assert!(!metric("accuracy").regression);
    assert!(metric("flash_bytes").regression);
    assert_eq!(metric("flash_bytes").delta, Some(2_000.0));
    assert!(!metric("instructions_median").regression);
    assert_eq!(d.regressions, 1);

    // Tolerances from the command line loosen or tighten the gate.
    let mut loose = Tolerances::default();
    loose.set("flash_bytes=3%").unwrap();
    loose.set("accuracy=0.001").unwrap();
    let d = diff("old.json", &old, &new, &loose);
    let names: Vec<&str> = d.cells[0]
        .metrics
        .iter()
        .filter(|m| m.regression)
        .map(|m| m.metric.as_str())
        .collect();
    assert_eq!(names, ["accuracy"]);
    assert!(Tolerances::default().set("flash_bytes=lots").is_err());
}

#[test]
fn an_unknown_tolerance_metric_is_rejected_with_the_compared_names_of_the_table() {
    let err = Tolerances::default().set("latency=1").unwrap_err();
    assert_eq!(
        err,
        TolerancesError::NotCompared {
            metric: "latency".into()
        }
    );
    let message = err.to_string();
    assert!(message.contains("accuracy, macro_f1"), "{message}");
    let compared: Vec<_> = METRICS
        .iter()
        .filter(|m| m.diff_tolerance.is_some())
        .collect();
    assert_eq!(compared.len(), Tolerances::metrics().count());
    for m in compared {
        assert!(
            message.contains(m.name),
            "{} missing from: {message}",
            m.name
        );
    }
    // A metric of the table that baselines do not compare is refused the same way.
    assert!(Tolerances::default().set("windows=1").is_err());
}

#[test]
fn a_cell_that_stopped_working_and_lost_metrics_regresses() {
    let old = crate::support::report::report();
    let mut new = old.clone();
    new.results[0].status = Status::Partial;
    new.results[0].energy_uj = None;
    let d = diff("old.json", &old, &new, &Tolerances::default());
    assert!(d.cells[0].status_regression);
    let energy = d.cells[0]
        .metrics
        .iter()
        .find(|m| m.metric == "energy_uj")
        .unwrap();
    assert!(energy.regression);
    assert_eq!(d.regressions, 2);
}

#[test]
fn added_and_removed_cells_are_listed() {
    let old = crate::support::report::report();
    let mut new = old.clone();
    new.results[1].model = "tiny-int8-generalized".into();
    let d = diff("old.json", &old, &new, &Tolerances::default());
    assert_eq!(
        d.added,
        ["tiny-int8-generalized/wisdm2019-watch-held-out/qemu-band/stream"]
    );
    assert_eq!(
        d.removed,
        ["small-int8-generalized/wisdm2019-watch-held-out/qemu-band/stream"]
    );
    assert_eq!(d.cells.len(), 1);
}

#[test]
fn cli_exits_0_on_no_regression_1_on_regression_2_on_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let old = crate::support::report::report();
    let mut worse = old.clone();
    worse.results[0].ram_bytes = Some(70_000);
    let old_json = write(dir.path(), "old", &old);
    let worse_json = write(dir.path(), "worse", &worse);

    let same = harbor(&["diff".as_ref(), old_json.as_os_str(), old_json.as_os_str()]);
    assert_eq!(same.status.code(), Some(0), "{}", text(&same));

    // A folder holding report.json works as well as the file.
    let out = harbor(&[
        "diff".as_ref(),
        dir.path().join("old").as_os_str(),
        worse_json.as_os_str(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let t = text(&out);
    assert!(
        t.contains("ram_bytes")
            && t.contains("57804")
            && t.contains("70000")
            && t.contains("REGRESSION"),
        "{t}"
    );

    let loose = harbor(&[
        "diff".as_ref(),
        old_json.as_os_str(),
        worse_json.as_os_str(),
        "--tolerance".as_ref(),
        "ram_bytes=25%".as_ref(),
    ]);
    assert_eq!(loose.status.code(), Some(0), "{}", text(&loose));

    let bad_tolerance = harbor(&[
        "diff".as_ref(),
        old_json.as_os_str(),
        worse_json.as_os_str(),
        "--tolerance".as_ref(),
        "ram=1".as_ref(),
    ]);
    assert_eq!(
        bad_tolerance.status.code(),
        Some(2),
        "{}",
        text(&bad_tolerance)
    );

    let missing = harbor(&[
        "diff".as_ref(),
        dir.path().join("nope.json").as_os_str(),
        old_json.as_os_str(),
    ]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(text(&missing).contains("nope.json"), "{}", text(&missing));

    let mut v1: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&old_json).unwrap()).unwrap();
    v1["schema_version"] = 1.into();
    let v1_json = dir.path().join("v1.json");
    std::fs::write(&v1_json, v1.to_string()).unwrap();
    let mismatched = harbor(&["diff".as_ref(), v1_json.as_os_str(), old_json.as_os_str()]);
    assert_eq!(mismatched.status.code(), Some(2));
    assert!(
        text(&mismatched).contains("schema_version 1"),
        "{}",
        text(&mismatched)
    );

    let not_json = dir.path().join("garbage.json");
    std::fs::write(&not_json, "{ not json").unwrap();
    let garbage = harbor(&["diff".as_ref(), not_json.as_os_str(), old_json.as_os_str()]);
    assert_eq!(garbage.status.code(), Some(2), "{}", text(&garbage));
}
