//! Custom specs over per-sensor files (MobiFall v2.0's layout), header blocks, bad lines,
//! and inputs that are not regular files.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use harbor::datasets::{self, BadLinePolicy, DatasetKind, LoadOptions, Loaded, NoProgress};
use harbor::signal::PreparedFile;

fn fixture(rel: &str) -> PathBuf {
    datasets::workspace_root().join("fixtures").join(rel)
}

fn mobifall() -> PathBuf {
    fixture("custom/mobifall/mobifall.yaml")
}

fn harbor(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_harbor"))
        .args(args)
        .output()
        .expect("harbor binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn load(spec: &Path, on_bad_line: BadLinePolicy) -> Result<Loaded, datasets::DatasetError> {
    let opts = LoadOptions {
        on_bad_line,
        ..LoadOptions::default()
    };
    datasets::load(DatasetKind::Custom, spec, &opts, &NoProgress)
}

/// `timestamp_ns, x, y, z` rows after `@DATA`, read independently of harbor's reader.
fn raw_rows(path: &Path) -> Vec<(i64, [f64; 3])> {
    let body = std::fs::read_to_string(path).unwrap();
    let data = body.split_once("@DATA\r\n").expect("has @DATA").1;
    data.lines()
        .map(|l| {
            let f: Vec<&str> = l.trim_end_matches('\r').split(", ").collect();
            (
                f[0].parse().unwrap(),
                [
                    f[1].parse().unwrap(),
                    f[2].parse().unwrap(),
                    f[3].parse().unwrap(),
                ],
            )
        })
        .collect()
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A copy of the MobiFall fixture to break.
fn mobifall_copy() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&fixture("custom/mobifall"), dir.path());
    let spec = dir.path().join("mobifall.yaml");
    (dir, spec)
}

#[test]
fn mobifall_layout_joins_accel_and_gyro_files_per_trial() {
    let loaded = load(&mobifall(), BadLinePolicy::Error).unwrap();
    assert_eq!(loaded.recordings.len(), 4);
    assert!(loaded.skipped.is_empty(), "{:?}", &loaded.skipped[..1]);
    let walk = loaded
        .recordings
        .iter()
        .find(|r| r.sources[0].ends_with("sub1/ADL/WAL/WAL_acc_1_1.txt"))
        .expect("sub1 walking trial");
    assert_eq!(walk.subject, "1");
    assert_eq!(walk.dataset, "mobifall");
    assert_eq!(walk.activities, vec![datasets::Activity::Walking]);
    assert!(walk.sources[1].ends_with("sub1/ADL/WAL/WAL_gyro_1_1.txt"));

    // The accel's timestamps are the time base, cut to the span the gyro covers.
    let acc = raw_rows(&walk.sources[0]);
    let gyro = raw_rows(&walk.sources[1]);
    let (g0, g1) = (gyro[0].0, gyro[gyro.len() - 1].0);
    let inside: Vec<_> = acc.iter().filter(|(t, _)| (g0..=g1).contains(t)).collect();
    assert_eq!(walk.t_ns.len(), inside.len());
    assert_eq!(walk.t_ns[0], inside[0].0);
    assert!(
        acc[0].0 < walk.t_ns[0],
        "accel rows before the gyro starts are cut"
    );
    // Accel values pass through; gyro is interpolated between its two neighbours.
    let g = walk.gyro.as_ref().expect("gyro joined");
    for k in [0, 57, 300, walk.t_ns.len() - 1] {
        let t = walk.t_ns[k];
        assert!((walk.accel[k][1] as f64 - inside[k].1[1]).abs() < 1e-5);
        let j = gyro.partition_point(|(gt, _)| *gt <= t) - 1;
        let expected = if gyro[j].0 == t {
            gyro[j].1[0]
        } else {
            let f = (t - gyro[j].0) as f64 / (gyro[j + 1].0 - gyro[j].0) as f64;
            gyro[j].1[0] + (gyro[j + 1].1[0] - gyro[j].1[0]) * f
        };
        assert!((g[k][0] as f64 - expected).abs() < 1e-5, "sample {k}");
    }

    // The join reports the accel stall and the parts outside the common span.
    assert_eq!(loaded.joins.len(), 4);
    let report = loaded
        .joins
        .iter()
        .find(|j| j.files[0].path == walk.sources[0])
        .unwrap();
    let stall = &report.files[0];
    assert!((stall.largest_gap_s - 0.2).abs() < 0.012, "{stall:?}");
    assert!((stall.largest_gap_at_s - 0.99).abs() < 0.02, "{stall:?}");
    // Accel starts ~30 ms before the gyro; the gyro ends ~40 ms after the accel.
    let (a0, a1) = (acc[0].0, acc[acc.len() - 1].0);
    let (start, end) = (a0.max(g0), a1.min(g1));
    let outside = |first: i64, last: i64| ((start - first) + (last - end)) as f64 * 1e-9;
    assert!(
        (stall.outside_s - outside(a0, a1)).abs() < 1e-9,
        "{stall:?}"
    );
    assert!((report.files[1].outside_s - outside(g0, g1)).abs() < 1e-9);
    assert!((0.025..0.035).contains(&stall.outside_s), "{stall:?}");
    assert!((0.035..0.05).contains(&report.files[1].outside_s));
    assert_eq!(
        stall.outside_samples,
        acc.iter().filter(|(t, _)| *t < start).count()
    );
}

#[test]
fn mobifall_layout_inspects_and_prepares_with_gyro_from_yaml_alone() {
    let spec = mobifall();
    let spec = spec.to_str().unwrap();
    let out = harbor(&["datasets", "inspect", "custom", spec, "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["recordings"], 4);
    assert_eq!(summary["recordings_with_gyro"], 4);
    assert_eq!(summary["subjects"], 2);
    assert_eq!(summary["joins"]["recordings"], 4);
    let gap = &summary["joins"]["largest_gap"];
    assert!(gap["path"].as_str().unwrap().ends_with("WAL_acc_1_1.txt"));
    let text_out = harbor(&["datasets", "inspect", "custom", spec]);
    assert!(
        text(&text_out.stdout).contains("largest gap 0.2"),
        "{}",
        text(&text_out.stdout)
    );

    let dir = tempfile::tempdir().unwrap();
    let npz = dir.path().join("mobifall.npz");
    let out = harbor(&["prepare", "custom", spec, "--out", npz.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let file = PreparedFile::read(&npz).unwrap();
    assert!(file.windows >= 4, "{} windows", file.windows);
    // Channels 3..6 are the gyro: the walking windows turn, so they are not all zero.
    let gyro_energy: f32 = file
        .x
        .chunks(6)
        .map(|s| s[3] * s[3] + s[4] * s[4] + s[5] * s[5])
        .sum();
    assert!(gyro_energy > 1.0, "gyro channels are empty: {gyro_energy}");
    assert!(file.classes.contains(&"walking".to_string()));
    // The SCH trial is a stand-to-sit transition: dropped by default...
    assert!(!file.classes.contains(&"stand_to_sit".to_string()));
    // ...and kept with --keep-transitions.
    let out = harbor(&[
        "prepare",
        "custom",
        spec,
        "--out",
        npz.to_str().unwrap(),
        "--keep-transitions",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let kept = PreparedFile::read(&npz).unwrap();
    assert!(kept.classes.contains(&"stand_to_sit".to_string()));
    assert!(kept.windows > file.windows);
}

#[test]
fn header_marker_missing_is_an_error_naming_the_file() {
    let (dir, spec) = mobifall_copy();
    let file = dir.path().join("sub2/ADL/WAL/WAL_gyro_2_1.txt");
    let body = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, body.replace("@DATA", "@DATTA")).unwrap();
    let err = load(&spec, BadLinePolicy::Error).unwrap_err().to_string();
    assert!(
        err.contains("WAL_gyro_2_1.txt") && err.contains("@DATA"),
        "{err}"
    );
}

#[test]
fn trial_without_its_gyro_file_is_an_error() {
    let (dir, spec) = mobifall_copy();
    std::fs::remove_file(dir.path().join("sub1/ADL/STD/STD_gyro_1_1.txt")).unwrap();
    let err = load(&spec, BadLinePolicy::Error).unwrap_err().to_string();
    assert!(
        err.contains("STD_acc_1_1.txt") && err.contains("no gyro file"),
        "{err}"
    );
}

/// Replaces line `line` (1-based) of `path`, keeping CRLF endings.
fn replace_line(path: &Path, line: usize, new: &str) {
    let body = std::fs::read_to_string(path).unwrap();
    let mut lines: Vec<&str> = body.split("\r\n").collect();
    lines[line - 1] = new;
    std::fs::write(path, lines.join("\r\n")).unwrap();
}

#[test]
fn bad_lines_stop_by_default_and_are_counted_by_cause_with_skip() {
    let (dir, spec) = mobifall_copy();
    let acc = dir.path().join("sub2/ADL/WAL/WAL_acc_2_1.txt");
    let gyro = dir.path().join("sub1/ADL/STD/STD_gyro_1_1.txt");
    replace_line(&acc, 40, "513245830000000, 0.1, oops, 9.8");
    replace_line(&acc, 41, "513245840000000, 0.1, 9.8");
    replace_line(&gyro, 100, "2013880595000000, x, 0, 0");

    let err = load(&spec, BadLinePolicy::Error).unwrap_err().to_string();
    assert!(err.contains("STD_gyro_1_1.txt:100:"), "{err}");

    let loaded = load(&spec, BadLinePolicy::Skip).unwrap();
    assert_eq!(loaded.recordings.len(), 4);
    let lines: Vec<String> = loaded
        .skipped
        .iter()
        .map(|s| {
            format!(
                "{}:{}",
                s.path.file_name().unwrap().to_str().unwrap(),
                s.line
            )
        })
        .collect();
    assert_eq!(
        lines,
        [
            "STD_gyro_1_1.txt:100",
            "WAL_acc_2_1.txt:40",
            "WAL_acc_2_1.txt:41"
        ]
    );
    let causes = datasets::summary::skipped_by_cause(&loaded.skipped);
    assert_eq!(causes.len(), 3, "{causes:?}");

    // The CLI lists the causes and the lines, and the prepared file's meta keeps them.
    let spec_text = spec.to_str().unwrap();
    let out = harbor(&[
        "datasets",
        "inspect",
        "custom",
        spec_text,
        "--on-bad-line",
        "skip",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let shown = text(&out.stdout);
    assert!(shown.contains("skipped      3 lines"), "{shown}");
    assert!(shown.contains("WAL_acc_2_1.txt:41:"), "{shown}");
    assert!(shown.contains("is not a finite number"), "{shown}");
    let npz = dir.path().join("w.npz");
    let out = harbor(&[
        "prepare",
        "custom",
        spec_text,
        "--on-bad-line",
        "skip",
        "--out",
        npz.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let meta: serde_json::Value =
        serde_json::from_str(&PreparedFile::read(&npz).unwrap().meta).unwrap();
    assert_eq!(meta["skipped_lines"], 3);
    let listed = meta["skipped"]["first"].as_array().unwrap();
    assert_eq!(listed.len(), 3);
    assert!(
        listed[0]["path"]
            .as_str()
            .unwrap()
            .ends_with("STD_gyro_1_1.txt")
    );
    assert_eq!(listed[0]["line"], 100);
    assert_eq!(meta["skipped"]["by_cause"].as_object().unwrap().len(), 3);
}

#[test]
fn a_file_written_in_reverse_is_an_error_even_when_skipping() {
    let (dir, spec) = mobifall_copy();
    let gyro = dir.path().join("sub2/ADL/WAL/WAL_gyro_2_1.txt");
    let body = std::fs::read_to_string(&gyro).unwrap();
    let (head, data) = body.split_once("@DATA\r\n").unwrap();
    let mut rows: Vec<&str> = data.split_terminator("\r\n").collect();
    rows.reverse();
    std::fs::write(&gyro, format!("{head}@DATA\r\n{}\r\n", rows.join("\r\n"))).unwrap();
    let err = load(&spec, BadLinePolicy::Skip).unwrap_err().to_string();
    assert!(
        err.contains("WAL_gyro_2_1.txt") && err.contains("backwards"),
        "{err}"
    );
}

#[cfg(unix)]
#[test]
fn a_fifo_among_the_files_is_an_error_not_a_hang() {
    let (dir, spec) = mobifall_copy();
    let fifo = dir.path().join("sub2/ADL/WAL/WAL_gyro_2_1.txt");
    std::fs::remove_file(&fifo).unwrap();
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    // Run the binary with a deadline: a hang must fail the test, not stall it.
    let mut child = Command::new(env!("CARGO_BIN_EXE_harbor"))
        .args(["datasets", "inspect", "custom", spec.to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("harbor blocked on a FIFO");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("WAL_gyro_2_1.txt") && err.contains("FIFO"),
        "{err}"
    );

    // The same for a dataset kind whose loader finds its files itself, and for the spec.
    let spec_fifo = dir.path().join("spec-fifo.yaml");
    assert!(
        Command::new("mkfifo")
            .arg(&spec_fifo)
            .status()
            .unwrap()
            .success()
    );
    let err = load(&spec_fifo, BadLinePolicy::Error)
        .unwrap_err()
        .to_string();
    assert!(err.contains("FIFO"), "{err}");
}

/// The MobiFall copy with `from` replaced by `to` in its spec.
fn mobifall_with(from: &str, to: &str) -> (tempfile::TempDir, PathBuf) {
    let (dir, spec) = mobifall_copy();
    let yaml = std::fs::read_to_string(&spec).unwrap();
    assert!(yaml.contains(from), "{from}");
    std::fs::write(&spec, yaml.replace(from, to)).unwrap();
    (dir, spec)
}

/// `inspect` warns and exits 0; with `--strict` it exits 2; the warning names the fix.
fn warns_then_fails_strict(from: &str, to: &str, check: &str, fix: &str) {
    let (_dir, spec) = mobifall_with(from, to);
    let spec = spec.to_str().unwrap();
    let out = harbor(&["datasets", "inspect", "custom", spec, "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let warnings = summary["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!(warnings[0]["check"], check);
    let message = warnings[0]["message"].as_str().unwrap();
    assert!(message.contains(fix), "{message}");
    assert!(text(&out.stderr).contains(fix), "{}", text(&out.stderr));

    let strict = harbor(&["datasets", "inspect", "custom", spec, "--strict"]);
    assert_eq!(strict.status.code(), Some(2), "{}", text(&strict.stderr));
    let dir = tempfile::tempdir().unwrap();
    let npz = dir.path().join("w.npz");
    let out = harbor(&[
        "prepare",
        "custom",
        spec,
        "--strict",
        "--out",
        npz.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(!npz.exists(), "--strict wrote the windows anyway");
}

#[test]
fn the_unmodified_fixture_raises_no_warning() {
    let out = harbor(&[
        "datasets",
        "inspect",
        "custom",
        mobifall().to_str().unwrap(),
        "--strict",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["warnings"], serde_json::json!([]));
}

#[test]
fn accel_in_m_s2_declared_as_g_is_named() {
    warns_then_fails_strict(
        "unit: m/s2}",
        "unit: g}",
        "accel-at-rest",
        "`accel.unit: m/s2`",
    );
}

#[test]
fn gyro_in_rad_s_declared_as_deg_s_is_named() {
    warns_then_fails_strict(
        "unit: rad/s}",
        "unit: deg/s}",
        "gyro-range",
        "`gyro.unit: rad/s`",
    );
}

#[test]
fn ns_timestamps_declared_as_us_are_named() {
    warns_then_fails_strict("unit: ns}", "unit: us}", "rate", "`time.unit: ns`");
}

#[test]
fn output_larger_than_the_bound_is_refused_before_writing() {
    let spec = mobifall();
    let spec = spec.to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let npz = dir.path().join("w.npz");
    let npz_text = npz.to_str().unwrap();
    let out = harbor(&[
        "prepare",
        "custom",
        spec,
        "--max-windows",
        "2",
        "--out",
        npz_text,
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains("more than the bound of 2 windows") && err.contains("--force"),
        "{err}"
    );
    assert!(!npz.exists());
    let out = harbor(&[
        "prepare",
        "custom",
        spec,
        "--max-windows",
        "2",
        "--force",
        "--out",
        npz_text,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(PreparedFile::read(&npz).unwrap().windows > 2);
    let zero = harbor(&[
        "prepare",
        "custom",
        spec,
        "--max-windows",
        "0",
        "--out",
        npz_text,
    ]);
    assert_eq!(zero.status.code(), Some(2));
}

/// A recording of linear acceleration (gravity removed by the device): 10 s still, 10 s
/// moving, at 50 Hz. Returns the spec with `accel` set to `accel`.
fn linear_accel_dataset(dir: &Path, accel: &str) -> PathBuf {
    let mut csv = String::from("t,ax,ay,az\n");
    for i in 0..1000 {
        let s = if i < 500 {
            0.0
        } else {
            3.0 * (f64::from(i) * 0.2).sin()
        };
        csv += &format!("{},{:.4},{:.4},{:.4}\n", i * 20, 0.05 + s, 0.02, 0.1 + s);
    }
    std::fs::write(dir.join("rec.csv"), csv).unwrap();
    let spec = dir.join("linear.yaml");
    std::fs::write(
        &spec,
        format!(
            "name: linear\nfiles: ['*.csv']\nheader: true\ntime: {{column: t, unit: ms}}\n\
             accel: {accel}\nlabel: {{value: walking}}\nsubject: {{value: a}}\n"
        ),
    )
    .unwrap();
    spec
}

/// Inspect's warnings (JSON) of a spec.
fn inspect_warnings(spec: &Path) -> Vec<serde_json::Value> {
    let out = harbor(&[
        "datasets",
        "inspect",
        "custom",
        spec.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    summary["warnings"].as_array().unwrap().clone()
}

#[test]
fn accel_at_rest_applies_only_when_the_spec_says_gravity_is_included() {
    let dir = tempfile::tempdir().unwrap();
    // Default (`gravity: included`): 0.1 m/s² at rest is far from 1 g.
    let spec = linear_accel_dataset(dir.path(), "{columns: [ax, ay, az], unit: m/s2}");
    let warnings = inspect_warnings(&spec);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!(warnings[0]["check"], "accel-at-rest");
    // Declared gravity-free: nothing to check against.
    let spec = linear_accel_dataset(
        dir.path(),
        "{columns: [ax, ay, az], unit: m/s2, gravity: removed}",
    );
    assert_eq!(inspect_warnings(&spec), Vec::<serde_json::Value>::new());
    // `gravity` belongs to the accelerometer.
    let spec = dir.path().join("linear.yaml");
    let yaml = std::fs::read_to_string(&spec).unwrap();
    std::fs::write(
        &spec,
        yaml.replace("gravity: removed", "").replace(
            "subject:",
            "gyro: {columns: [ax, ay, az], unit: rad/s, gravity: removed}\nsubject:",
        ),
    )
    .unwrap();
    let out = harbor(&["datasets", "inspect", "custom", spec.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains("put it under `accel`") && err.contains("linear.yaml:7: column"),
        "{err}"
    );
}

#[test]
fn gravity_included_with_a_wrong_unit_still_warns() {
    warns_then_fails_strict(
        "unit: m/s2}",
        "unit: mg, gravity: included}",
        "accel-at-rest",
        "`accel.unit: m/s2`",
    );
}
