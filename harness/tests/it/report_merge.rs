//! `harbor merge`: shard reports back into matrix order; wrong sets of shards are errors (2).

use harbor::report::{MergeError, Report, Shard, merge};

/// A 5-cell report and its split into `n` shards the way `--shard i/n` partitions.
fn split(n: usize) -> (Report, Vec<(String, Report)>) {
    let mut whole = crate::support::report::report();
    let cells = whole.results.clone();
    whole.results = (0..5)
        .map(|k| {
            let mut c = cells[k % 2].clone();
            c.model = format!("model-{k}");
            c
        })
        .collect();
    let shards = (1..=n)
        .map(|i| {
            let mut r = whole.clone();
            r.shard = Some(Shard { index: i, count: n });
            r.wall_s = i as f64;
            r.results = whole
                .results
                .iter()
                .skip(i - 1)
                .step_by(n)
                .cloned()
                .collect();
            (format!("shard-{i}"), r)
        })
        .collect();
    (whole, shards)
}

#[test]
fn merged_shards_equal_the_whole_in_any_order() {
    for n in [1, 2, 3, 5] {
        let (whole, mut shards) = split(n);
        shards.reverse();
        let mut merged = merge(shards).unwrap();
        assert_eq!(merged.wall_s, n as f64, "the longest shard");
        merged.wall_s = whole.wall_s;
        assert_eq!(merged, whole, "{n} shards");
    }
}

#[test]
fn missing_duplicate_foreign_and_unsharded_reports_are_refused() {
    let (whole, shards) = split(3);
    assert_eq!(
        merge(shards[..2].to_vec()),
        Err(MergeError::Missing { index: 3, count: 3 })
    );

    let mut twice = shards.clone();
    twice[2] = ("again".into(), shards[0].1.clone());
    assert!(matches!(
        merge(twice),
        Err(MergeError::Duplicate { index: 1, .. })
    ));

    let mut foreign = shards.clone();
    foreign[1].1.scenario = "other".into();
    assert!(matches!(
        merge(foreign),
        Err(MergeError::ScenarioMismatch { .. })
    ));

    let (_, of_two) = split(2);
    let mut mixed = shards.clone();
    mixed[2] = of_two[1].clone();
    assert!(matches!(
        merge(mixed),
        Err(MergeError::CountMismatch { .. })
    ));

    let mut unsharded = shards.clone();
    unsharded.push(("whole".into(), whole));
    assert_eq!(merge(unsharded), Err(MergeError::NotAShard("whole".into())));

    let mut short = shards;
    short[0].1.results.pop();
    assert!(matches!(
        merge(short),
        Err(MergeError::CellCount { index: 1, .. })
    ));
    assert_eq!(merge(vec![]), Err(MergeError::Empty));
}

#[test]
fn cli_writes_all_four_outputs_and_exits_by_the_checks() {
    let dir = tempfile::tempdir().unwrap();
    let (whole, shards) = split(2);
    let mut args = vec!["merge".to_string()];
    for (name, r) in &shards {
        r.write(&dir.path().join(name)).unwrap();
        args.push(dir.path().join(name).display().to_string());
    }
    let out_dir = dir.path().join("merged");
    args.extend(["--out".to_string(), out_dir.display().to_string()]);
    let out = crate::support::cli::command().args(&args).output().unwrap();
    // The sample report has failing checks: the merged report says so with exit 1.
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for file in [
        "report.json",
        "report.md",
        "report.junit.xml",
        "report.html",
    ] {
        assert!(out_dir.join(file).is_file(), "{file} not written");
    }
    let merged =
        Report::from_json(&std::fs::read_to_string(out_dir.join("report.json")).unwrap()).unwrap();
    assert_eq!(merged.results, whole.results);
    assert_eq!(merged.shard, None);

    // Only one of the two shards: a usage error naming the missing one.
    let out = crate::support::cli::command()
        .args([&args[0], &args[1], "--out", &out_dir.display().to_string()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("shard 2/2 is missing"));
}
