//! The committed CI scenario end to end (real WISDM 2019 files, the band firmware in QEMU):
//! insta snapshots of report.md, report.json and report.junit.xml, and the shard/merge round
//! trip: two shards merged give exactly the unsharded report.
//!
//! harbor runs in the workspace with the scenario's relative path, so threshold origins read
//! `scenarios/ci.yaml:L:C` wherever the tree is checked out; only wall times are redacted.

use std::path::{Path, PathBuf};

use harbor::report::Report;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Runs harbor in the workspace with `args`; returns its exit code and combined output.
fn harbor(args: &[&str]) -> (i32, String) {
    let out = crate::support::cli::command()
        .current_dir(workspace())
        .args(args)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), text)
}

/// `harbor run scenarios/ci.yaml --jobs 2 --out <dir> <extra>`, which must pass.
fn run_ci(out: &Path, extra: &[&str]) {
    let mut args = vec![
        "run",
        "scenarios/ci.yaml",
        "--jobs",
        "2",
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let (code, text) = harbor(&args);
    assert_eq!(code, 0, "harbor {args:?}:\n{text}");
}

fn read(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file))
        .unwrap_or_else(|e| panic!("{}: {e}", dir.join(file).display()))
}

/// report.md's one volatile phrase: "…, 12.3 s wall."
fn redact_wall(md: &str) -> String {
    let re = regex_lite::Regex::new(r"\d+\.\d s wall").unwrap();
    re.replace_all(md, "[wall] s wall").into_owned()
}

#[test]
fn ci_scenario_reports_match_their_snapshots() {
    let dir = tempfile::tempdir().unwrap();
    run_ci(dir.path(), &[]);
    insta::assert_snapshot!("ci_report_md", redact_wall(&read(dir.path(), "report.md")));
    insta::assert_snapshot!("ci_report_junit_xml", read(dir.path(), "report.junit.xml"));
    let json: serde_json::Value = serde_json::from_str(&read(dir.path(), "report.json")).unwrap();
    insta::assert_json_snapshot!("ci_report_json", json, {
        ".wall_s" => "[wall_s]",
    });
    // The page is written too (its content is checked in report_html.rs).
    assert!(read(dir.path(), "report.html").contains("id=\"plot-confusion-0\""));
}

#[test]
fn two_shards_merged_equal_the_unsharded_run() {
    let dir = tempfile::tempdir().unwrap();
    let whole = dir.path().join("whole");
    let shards = [dir.path().join("shard-1"), dir.path().join("shard-2")];
    run_ci(&whole, &[]);
    run_ci(&shards[0], &["--shard", "1/2"]);
    run_ci(&shards[1], &["--shard", "2/2"]);
    let merged = dir.path().join("merged");
    let (code, text) = harbor(&[
        "merge",
        shards[1].to_str().unwrap(),
        shards[0].to_str().unwrap(),
        "--out",
        merged.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{text}");

    let load = |d: &Path| Report::from_json(&read(d, "report.json")).unwrap();
    let (expected, mut got) = (load(&whole), load(&merged));
    let (one, two) = (load(&shards[0]), load(&shards[1]));
    assert!(
        !one.results.is_empty() && !two.results.is_empty(),
        "both shards hold cells"
    );
    assert_eq!(
        one.results.len() + two.results.len(),
        expected.results.len()
    );
    got.wall_s = expected.wall_s;
    assert_eq!(got, expected);
    assert_eq!(
        read(&merged, "report.junit.xml"),
        read(&whole, "report.junit.xml")
    );
    assert_eq!(
        redact_wall(&read(&merged, "report.md")),
        redact_wall(&read(&whole, "report.md"))
    );
}
