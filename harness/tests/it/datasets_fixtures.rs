//! Loads the hand-made excerpts in `fixtures/` (UCI HAR Inertial Signals, WISDM v1.1, PAMAP2,
//! the custom-spec example) through `harbor::datasets::load` and checks the canonical result
//! against values read straight from the fixture text, so expectations never come from the
//! loader itself. Error cases write a broken copy to a temp dir and check file:line.

use std::f64::consts::PI;
use std::path::{Path, PathBuf};

use harbor::datasets::{
    self, Activity, BodyPosition, DatasetError, DatasetKind, LoadOptions, Loaded, NoProgress,
    Pamap2Imu, STANDARD_GRAVITY,
};
use proptest::prelude::*;

fn fixture(rel: &str) -> PathBuf {
    datasets::workspace_root().join("fixtures").join(rel)
}

fn load(kind: DatasetKind, root: &Path, opts: &LoadOptions) -> Result<Loaded, DatasetError> {
    datasets::load(kind, root, opts, &NoProgress)
}

fn load_ok(kind: DatasetKind, root: &Path) -> Loaded {
    load(kind, root, &LoadOptions::default())
        .unwrap_or_else(|e| panic!("{kind} fixture failed to load: {e}"))
}

/// Whitespace-separated token `index` (0-based) of 1-based line `line` of a text file.
fn token(path: &Path, line: usize, index: usize) -> f64 {
    let text = std::fs::read_to_string(path).unwrap();
    let l = text.lines().nth(line - 1).unwrap();
    l.split_whitespace().nth(index).unwrap().parse().unwrap()
}

fn close(a: f32, b: f64) -> bool {
    (a as f64 - b).abs() <= 1e-6 * b.abs().max(1.0)
}

/// Copies a fixture tree into a temp dir so a test can break one file.
fn copy_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn replace_line(path: &Path, line: usize, new: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines[line - 1] = new;
    std::fs::write(path, lines.join("\n") + "\n").unwrap();
}

// ---------------------------------------------------------------- WISDM v1.1

const WISDM_ROOT: &str = "wisdm_v1.1";

#[test]
fn wisdm_v11_reads_runs_in_native_units_and_ns() {
    let loaded = load_ok(DatasetKind::WisdmV11, &fixture(WISDM_ROOT));
    let summary: Vec<(&str, &str, usize, &str)> = loaded
        .recordings
        .iter()
        .map(|r| {
            (
                r.subject.as_str(),
                r.session.as_str(),
                r.len(),
                r.activities[0].name(),
            )
        })
        .collect();
    // Lines 1-6 and both records of line 10 are user 33 jogging; user 17's clock goes back at line 15.
    assert_eq!(
        summary,
        [
            ("33", "line1", 8, "jogging"),
            ("17", "line12", 3, "walking"),
            ("17", "line15", 2, "walking"),
            ("17", "line17", 2, "sitting")
        ]
    );
    let jog = &loaded.recordings[0];
    assert_eq!(jog.t_ns[0], 49_105_962_326_000);
    assert_eq!(jog.accel[0], [-0.6946377, 12.680544, 0.50395286]);
    // Line 6 ends in `,;` and is read whole.
    assert_eq!(jog.accel[5], [1.3756552, -2.4925237, -6.510526]);
    // Line 10 holds two records.
    assert_eq!(&jog.t_ns[6..], &[49_106_592_290_000, 49_106_642_306_000]);
    assert_eq!(jog.accel[7], [0.95342433, 10.882658, -0.23154591]);
    assert!(jog.gyro.is_none());
    assert_eq!(jog.position, BodyPosition::Pocket);
    // Consecutive samples ~50 ms apart: the timestamp really is nanoseconds.
    let rate = jog.effective_rate_hz().unwrap();
    assert!((8.0..=25.0).contains(&rate), "rate {rate}");
}

#[test]
fn wisdm_v11_counts_each_known_quirk_with_its_line() {
    let loaded = load_ok(DatasetKind::WisdmV11, &fixture(WISDM_ROOT));
    let raw = fixture("wisdm_v1.1/WISDM_ar_v1.1/WISDM_ar_v1.1_raw.txt");
    let skips: Vec<(usize, &str)> = loaded
        .skipped
        .iter()
        .map(|s| (s.line, s.reason.as_str()))
        .collect();
    assert_eq!(
        skips.iter().map(|s| s.0).collect::<Vec<_>>(),
        [7, 8, 9, 11],
        "{skips:?}"
    );
    assert!(skips[0].1.contains("5 fields"), "{}", skips[0].1);
    assert!(skips[1].1.contains("empty y"), "{}", skips[1].1);
    assert!(skips[2].1.contains("zero timestamp"), "{}", skips[2].1);
    assert!(skips[3].1.contains("repeats"), "{}", skips[3].1);
    assert!(loaded.skipped.iter().all(|s| s.path == raw));
    assert!(
        loaded.skipped[0]
            .to_string()
            .starts_with(&format!("{}:7: ", raw.display()))
    );
}

#[test]
fn wisdm_v11_subject_filter_keeps_only_that_user() {
    let opts = LoadOptions {
        subjects: vec!["17".into()],
        ..Default::default()
    };
    let loaded = load(DatasetKind::WisdmV11, &fixture(WISDM_ROOT), &opts).unwrap();
    assert_eq!(loaded.recordings.len(), 3);
    assert!(loaded.recordings.iter().all(|r| r.subject == "17"));
}

#[test]
fn wisdm_v11_unknown_activity_is_an_error_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("WISDM_ar_v1.1_raw.txt");
    std::fs::write(
        &path,
        "33,Jogging,49105962326000,-0.69,12.68,0.50;\n33,Swimming,49106062271000,5.0,11.2,0.9;\n",
    )
    .unwrap();
    let err = load(DatasetKind::WisdmV11, dir.path(), &LoadOptions::default())
        .unwrap_err()
        .to_string();
    assert!(err.starts_with(&format!("{}:2: ", path.display())), "{err}");
    assert!(err.contains("Swimming"), "{err}");
}

// ---------------------------------------------------------------- UCI HAR

const UCI_ROOT: &str = "uci_har";

fn uci_signal(split: &str, name: &str) -> PathBuf {
    fixture(&format!(
        "uci_har/UCI HAR Dataset/{split}/Inertial Signals/{name}_{split}.txt"
    ))
}

#[test]
fn uci_har_stitches_overlapping_rows_of_one_subject() {
    let loaded = load_ok(DatasetKind::UciHar, &fixture(UCI_ROOT));
    let summary: Vec<(&str, &str, usize)> = loaded
        .recordings
        .iter()
        .map(|r| (r.subject.as_str(), r.session.as_str(), r.len()))
        .collect();
    // Train rows 1-3 overlap exactly; row 4 differs in one body_gyro_z value; row 5 overlaps
    // row 4 but is another subject. Test rows 1-2 overlap.
    assert_eq!(
        summary,
        [
            ("1", "train-rows1-3", 128 + 64 + 64),
            ("1", "train-rows4-4", 128),
            ("3", "train-rows5-5", 128),
            ("2", "test-rows1-2", 192)
        ]
    );
    assert!(loaded.skipped.is_empty());
}

#[test]
fn uci_har_converts_g_keeps_rad_s_and_labels_by_window() {
    let loaded = load_ok(DatasetKind::UciHar, &fixture(UCI_ROOT));
    let stream = &loaded.recordings[0];
    // Stream sample 0 is row 1 value 0; sample 130 is row 2 value 66; sample 200 is row 3 value 72.
    for (sample, line, k) in [(0, 1, 0), (130, 2, 66), (200, 3, 72)] {
        for (axis, name) in ["x", "y", "z"].iter().enumerate() {
            let g = token(&uci_signal("train", &format!("total_acc_{name}")), line, k);
            assert!(
                close(stream.accel[sample][axis], g * STANDARD_GRAVITY),
                "accel {sample} {name}"
            );
            let w = token(&uci_signal("train", &format!("body_gyro_{name}")), line, k);
            assert!(
                close(stream.gyro.as_ref().unwrap()[sample][axis], w),
                "gyro {sample} {name}"
            );
        }
    }
    // The genuine first sample of the real train row 1: upright phone, ~1 g on x.
    assert!(close(stream.accel[0][0], 1.012817 * STANDARD_GRAVITY));
    assert_eq!(&stream.t_ns[..3], &[0, 20_000_000, 40_000_000]);
    assert_eq!(stream.nominal_rate_hz, 50.0);
    assert_eq!(stream.position, BodyPosition::Waist);
    // Rows 1-2 are STANDING (y=5); row 3 (y=4, SITTING) only adds its second half.
    let names: Vec<&str> = (0..stream.len())
        .map(|i| stream.label_at(i).name())
        .collect();
    assert!(names[..192].iter().all(|&n| n == "standing"));
    assert!(names[192..].iter().all(|&n| n == "sitting"));
    let lying = &loaded.recordings[3];
    assert!((0..lying.len()).all(|i| *lying.label_at(i) == Activity::Lying));
}

#[test]
fn uci_har_short_row_is_an_error_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&fixture(UCI_ROOT), dir.path());
    let broken = dir
        .path()
        .join("UCI HAR Dataset/train/Inertial Signals/total_acc_y_train.txt");
    let text = std::fs::read_to_string(&broken).unwrap();
    let line2 = text.lines().nth(1).unwrap();
    replace_line(&broken, 2, &line2[..line2.len() - 14]); // drop the last value
    let err = load(DatasetKind::UciHar, dir.path(), &LoadOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with(&format!("{}:2: ", broken.display())),
        "{err}"
    );
    assert!(err.contains("127 values"), "{err}");
}

#[test]
fn uci_har_label_missing_from_activity_labels_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&fixture(UCI_ROOT), dir.path());
    let y = dir.path().join("UCI HAR Dataset/test/y_test.txt");
    replace_line(&y, 2, "9");
    let err = load(DatasetKind::UciHar, dir.path(), &LoadOptions::default())
        .unwrap_err()
        .to_string();
    assert!(err.starts_with(&format!("{}:2: ", y.display())), "{err}");
}

/// The real metadata (subject and y files) is in the shared data: its counts are published in
/// the UCI HAR paper and README (7352 + 2947 windows, 30 volunteers, 70/30 split by person).
#[test]
fn uci_har_real_metadata_has_the_published_counts() {
    let root = datasets::data_root().join("uci_har");
    let base = datasets::uci_har::dataset_dir(&root)
        .unwrap_or_else(|e| panic!("{e}; run scripts/fetch-data or set HARBOR_DATA"));
    let train =
        datasets::uci_har::read_windows_metadata(&base, datasets::uci_har::Split::Train).unwrap();
    let test =
        datasets::uci_har::read_windows_metadata(&base, datasets::uci_har::Split::Test).unwrap();
    assert_eq!((train.len(), test.len()), (7352, 2947));
    let subjects = |rows: &[datasets::uci_har::WindowMeta]| {
        let mut s: Vec<u32> = rows.iter().map(|r| r.subject.parse().unwrap()).collect();
        s.sort();
        s.dedup();
        s
    };
    let (tr, te) = (subjects(&train), subjects(&test));
    assert_eq!((tr.len(), te.len()), (21, 9));
    let mut all: Vec<u32> = tr.iter().chain(&te).copied().collect();
    all.sort();
    assert_eq!(
        all,
        (1..=30).collect::<Vec<_>>(),
        "train and test volunteers are disjoint and cover 1-30"
    );
    assert!(
        train
            .iter()
            .chain(&test)
            .all(|r| (1..=6).contains(&r.activity_id))
    );
    // Rows are grouped by subject (stitching relies on neighbours being the same person's).
    let changes = train
        .windows(2)
        .filter(|w| w[0].subject != w[1].subject)
        .count();
    assert_eq!(changes, tr.len() - 1);
}

// ---------------------------------------------------------------- PAMAP2

const PAMAP2_ROOT: &str = "pamap2";

fn pamap2_file(rel: &str) -> PathBuf {
    fixture(&format!("pamap2/PAMAP2_Dataset/{rel}"))
}

#[test]
fn pamap2_hand_imu_values_labels_and_splices() {
    let loaded = load_ok(DatasetKind::Pamap2, &fixture(PAMAP2_ROOT));
    let summary: Vec<(&str, &str, usize)> = loaded
        .recordings
        .iter()
        .map(|r| (r.subject.as_str(), r.session.as_str(), r.len()))
        .collect();
    // Protocol/subject101.dat: lines 1-8 minus the hand drop on line 6, then a 29 s jump at line 9.
    assert_eq!(
        summary,
        [
            ("101", "optional", 3),
            ("101", "protocol", 7),
            ("101", "protocol-line9", 4),
            ("102", "protocol", 2)
        ]
    );
    let rec = &loaded.recordings[1];
    let dat = pamap2_file("Protocol/subject101.dat");
    // Samples 0..5 are lines 1..5, sample 5 is line 7 (line 6 was dropped).
    for (sample, line) in [(0, 1), (3, 4), (5, 7)] {
        assert_eq!(
            rec.t_ns[sample],
            (token(&dat, line, 0) * 1e9).round() as i64
        );
        for axis in 0..3 {
            assert!(
                close(rec.accel[sample][axis], token(&dat, line, 4 + axis)),
                "acc16 line {line}"
            );
            assert!(
                close(
                    rec.gyro.as_ref().unwrap()[sample][axis],
                    token(&dat, line, 10 + axis)
                ),
                "gyro line {line}"
            );
        }
    }
    assert_eq!(rec.t_ns[0], 8_380_000_000);
    assert_eq!(rec.position, BodyPosition::Wrist);
    let names: Vec<&str> = (0..rec.len()).map(|i| rec.label_at(i).name()).collect();
    assert_eq!(
        names,
        [
            "unlabelled",
            "unlabelled",
            "unlabelled",
            "lying",
            "lying",
            "lying",
            "lying"
        ]
    );
    let spliced = &loaded.recordings[2];
    assert_eq!(spliced.label_at(3).name(), "rope_jumping");
    assert_eq!(loaded.recordings[0].label_at(0).name(), "computer_work");
    assert_eq!(loaded.recordings[3].label_at(0), &Activity::Upstairs);
    let skips: Vec<(PathBuf, usize)> = loaded
        .skipped
        .iter()
        .map(|s| (s.path.clone(), s.line))
        .collect();
    assert_eq!(skips, [(dat, 6)]);
}

#[test]
fn pamap2_chest_imu_reads_its_own_block_and_drops() {
    let opts = LoadOptions {
        pamap2_imu: Pamap2Imu::Chest,
        subjects: vec!["101".into()],
        ..Default::default()
    };
    let loaded = load(DatasetKind::Pamap2, &fixture(PAMAP2_ROOT), &opts).unwrap();
    let dat = pamap2_file("Protocol/subject101.dat");
    assert_eq!(
        loaded.skipped.iter().map(|s| s.line).collect::<Vec<_>>(),
        [7]
    );
    let rec = &loaded.recordings[1];
    assert_eq!(rec.position, BodyPosition::Chest);
    // Line 6 (hand dropped) is kept for the chest: sample 5.
    for axis in 0..3 {
        assert!(close(rec.accel[5][axis], token(&dat, 6, 21 + axis)));
        assert!(close(
            rec.gyro.as_ref().unwrap()[5][axis],
            token(&dat, 6, 27 + axis)
        ));
    }
    assert!(loaded.recordings.iter().all(|r| r.subject == "101"));
}

#[test]
fn pamap2_wrong_column_count_is_an_error_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&fixture(PAMAP2_ROOT), dir.path());
    let dat = dir.path().join("PAMAP2_Dataset/Protocol/subject102.dat");
    replace_line(&dat, 2, "6.01 12 NaN 30");
    let err = load(DatasetKind::Pamap2, dir.path(), &LoadOptions::default())
        .unwrap_err()
        .to_string();
    assert!(err.starts_with(&format!("{}:2: ", dat.display())), "{err}");
    assert!(err.contains("4 columns"), "{err}");
}

// ---------------------------------------------------------------- custom spec

fn custom_spec() -> PathBuf {
    fixture("custom/lab-band.yaml")
}

#[test]
fn custom_worked_example_applies_units_axes_labels_and_subjects() {
    let loaded = load_ok(DatasetKind::Custom, &custom_spec());
    let summary: Vec<(&str, &str, &str, usize)> = loaded
        .recordings
        .iter()
        .map(|r| {
            (
                r.dataset.as_str(),
                r.subject.as_str(),
                r.session.as_str(),
                r.len(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("lab-band", "07", "morning", 5),
            ("lab-band", "12", "evening", 3)
        ]
    );
    let rec = &loaded.recordings[0];
    // Line 3: 1000,12,-980,35,1.5,-0.5,0.25 in ms, mg, deg/s; axes [y, -x, z].
    let mg = STANDARD_GRAVITY / 1000.0;
    let expected_accel = [-980.0 * mg, -12.0 * mg, 35.0 * mg];
    let expected_gyro = [-0.5 * PI / 180.0, -1.5 * PI / 180.0, 0.25 * PI / 180.0];
    for axis in 0..3 {
        assert!(
            close(rec.accel[0][axis], expected_accel[axis]),
            "accel {axis}"
        );
        assert!(
            close(rec.gyro.as_ref().unwrap()[0][axis], expected_gyro[axis]),
            "gyro {axis}"
        );
    }
    assert_eq!(&rec.t_ns[..2], &[1_000_000_000, 1_020_000_000]);
    assert!((rec.nominal_rate_hz - 50.0).abs() < 1e-9);
    assert_eq!(rec.position, BodyPosition::Wrist);
    let names: Vec<&str> = (0..rec.len()).map(|i| rec.label_at(i).name()).collect();
    assert_eq!(
        names,
        ["walking", "walking", "walking", "upstairs", "upstairs"]
    );
    assert_eq!(loaded.recordings[1].label_at(0), &Activity::Sitting);
    // evening.csv ends with a blank line: reported, not silently dropped.
    let blank: Vec<String> = loaded.skipped.iter().map(|s| s.to_string()).collect();
    assert_eq!(blank.len(), 1);
    assert!(blank[0].ends_with("evening.csv:6: blank line"), "{blank:?}");
}

/// Writes a spec (and the fixture's data next to it) into a temp dir.
fn temp_spec(yaml: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let recordings = dir.path().join("recordings");
    std::fs::create_dir_all(&recordings).unwrap();
    copy_tree(&fixture("custom/recordings"), &recordings);
    let spec = dir.path().join("spec.yaml");
    std::fs::write(&spec, yaml).unwrap();
    (dir, spec)
}

fn example_with(from: &str, to: &str) -> String {
    let yaml = std::fs::read_to_string(custom_spec()).unwrap();
    assert!(
        yaml.contains(from),
        "the example spec no longer contains `{from}`"
    );
    yaml.replacen(from, to, 1)
}

/// Loads a spec that must fail; returns the message and the temp dir (kept alive).
fn custom_err(yaml: &str) -> (String, tempfile::TempDir) {
    let (dir, spec) = temp_spec(yaml);
    let err = load(DatasetKind::Custom, &spec, &LoadOptions::default())
        .unwrap_err()
        .to_string();
    (err, dir)
}

fn line_of(yaml: &str, needle: &str) -> usize {
    yaml.lines().position(|l| l.contains(needle)).unwrap() + 1
}

#[test]
fn custom_unknown_unit_names_line_column_and_valid_units() {
    let yaml = example_with("unit: mg", "unit: milli_g");
    let (err, dir) = custom_err(&yaml);
    let at = format!(
        "{}:{}: column ",
        dir.path().join("spec.yaml").display(),
        line_of(&yaml, "milli_g")
    );
    assert!(err.starts_with(&at), "{err}");
    assert!(
        err.contains("`milli_g`") && err.contains("expected one of m/s2"),
        "{err}"
    );
    assert!(err.contains(", g, mg"), "{err}");
    let twice = format!("line {} column", line_of(&yaml, "milli_g"));
    assert!(!err.contains(&twice), "position given twice: {err}");
}

#[test]
fn custom_unknown_key_is_rejected_with_its_line() {
    let yaml = example_with("header: true", "header: true\nheaders: true");
    let (err, dir) = custom_err(&yaml);
    assert!(
        err.starts_with(&format!(
            "{}:{}: ",
            dir.path().join("spec.yaml").display(),
            line_of(&yaml, "headers:")
        )),
        "{err}"
    );
    assert!(err.contains("headers"), "{err}");
}

#[test]
fn custom_semantic_spec_errors_point_at_the_yaml_node() {
    let yaml = example_with("axes: [y, -x, z]", "axes: [y, -y, z]");
    let (err, dir) = custom_err(&yaml);
    assert!(
        err.starts_with(&format!(
            "{}:{}: ",
            dir.path().join("spec.yaml").display(),
            line_of(&yaml, "axes:")
        )),
        "{err}"
    );
    assert!(err.contains("once"), "{err}");
    let yaml = example_with("  unit: ms", "  unit: ms\n  rate_hz: 50");
    let (err, _) = custom_err(&yaml);
    assert!(err.contains("not both"), "{err}");
}

#[test]
fn custom_missing_header_column_names_file_and_header_line() {
    let yaml = example_with("[gx_dps, gy_dps, gz_dps]", "[gx_dps, gy_dps, gyro_z]");
    let (err, dir) = custom_err(&yaml);
    let csv = dir.path().join("recordings/subject_07/morning.csv");
    assert!(err.starts_with(&format!("{}:2: ", csv.display())), "{err}");
    assert!(err.contains("gyro_z"), "{err}");
}

#[test]
fn custom_bad_value_and_unmapped_label_name_file_and_line() {
    let (dir, spec) = temp_spec(&std::fs::read_to_string(custom_spec()).unwrap());
    let csv = dir.path().join("recordings/subject_12/evening.csv");
    replace_line(&csv, 4, "520,1,-4,x98,0.25,0.0,-0.25,rest");
    let err = load(DatasetKind::Custom, &spec, &LoadOptions::default())
        .unwrap_err()
        .to_string();
    assert!(err.starts_with(&format!("{}:4: ", csv.display())), "{err}");
    assert!(err.contains("accel z") && err.contains("x98"), "{err}");

    replace_line(&csv, 4, "520,1,-4,998,0.25,0.0,-0.25,jump");
    let err = load(DatasetKind::Custom, &spec, &LoadOptions::default())
        .unwrap_err()
        .to_string();
    assert!(err.starts_with(&format!("{}:4: ", csv.display())), "{err}");
    assert!(
        err.contains("`jump`") && err.contains("rest, stairs_up, walk"),
        "{err}"
    );

    replace_line(&csv, 4, "500,1,-4,998,0.25,0.0,-0.25,rest");
    let err = load(DatasetKind::Custom, &spec, &LoadOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with(&format!("{}:4: ", csv.display())) && err.contains("not after"),
        "{err}"
    );
}

/// The other spec modes: 0-based indices without a header, whitespace separator, a fixed
/// rate, no gyro, subject and session from columns, label from the path.
#[test]
fn custom_indices_rate_and_per_row_subjects() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("logs/sitting");
    std::fs::create_dir_all(&data).unwrap();
    // subject, trial, x, y, z (m/s2); subject A trial 1 twice, interrupted by B; a leading BOM.
    let rows = "\u{feff}A 1 0.1 0.2 9.8\nA 1 0.2 0.3 9.7\nB 1 1.0 2.0 3.0\nA 1 0.3 0.4 9.6\nA 2 0.5 0.5 9.5\n";
    std::fs::write(data.join("all.txt"), rows).unwrap();
    let spec = dir.path().join("spec.yaml");
    std::fs::write(
        &spec,
        "files: ['logs/**/*.txt']\nseparator: whitespace\ntime: {rate_hz: 25}\n\
         accel: {columns: [2, 3, 4], unit: m/s2}\naxes: [-x, -y, z]\n\
         label: {from_path: 'logs/([a-z]+)/'}\nsubject: {column: 0}\nsession: {column: 1, map: {'1': first, '2': second}}\n",
    )
    .unwrap();
    let loaded = load_ok(DatasetKind::Custom, &spec);
    let summary: Vec<(&str, &str, usize)> = loaded
        .recordings
        .iter()
        .map(|r| (r.subject.as_str(), r.session.as_str(), r.len()))
        .collect();
    assert_eq!(
        summary,
        [
            ("A", "first", 2),
            ("B", "first", 1),
            ("A", "first-line4", 1),
            ("A", "second", 1)
        ]
    );
    let a = &loaded.recordings[0];
    assert_eq!(a.dataset, "custom");
    assert_eq!(a.t_ns, [0, 40_000_000]);
    assert_eq!(a.nominal_rate_hz, 25.0);
    assert_eq!(a.accel[1], [-0.2, -0.3, 9.7]);
    assert!(a.gyro.is_none());
    assert_eq!(a.position, BodyPosition::Unknown);
    assert!(
        loaded
            .recordings
            .iter()
            .all(|r| *r.label_at(0) == Activity::Sitting)
    );

    let opts = LoadOptions {
        subjects: vec!["B".into()],
        ..Default::default()
    };
    let only_b = load(DatasetKind::Custom, &spec, &opts).unwrap();
    assert_eq!(only_b.recordings.len(), 1);
    assert_eq!(only_b.recordings[0].accel[0], [-1.0, -2.0, 3.0]);
}

#[test]
fn custom_glob_matching_nothing_and_short_rows_are_errors() {
    let yaml = example_with("recordings/*/*.csv", "recording/*/*.csv");
    let (err, dir) = custom_err(&yaml);
    assert!(
        err.contains("recording/*/*.csv") && err.contains(&dir.path().display().to_string()),
        "{err}"
    );

    let (dir, spec) = temp_spec(&std::fs::read_to_string(custom_spec()).unwrap());
    let csv = dir.path().join("recordings/subject_07/morning.csv");
    replace_line(&csv, 5, "1040,-25,-950,61,-2.5,0.0");
    let err = load(DatasetKind::Custom, &spec, &LoadOptions::default())
        .unwrap_err()
        .to_string();
    assert!(err.starts_with(&format!("{}:5: ", csv.display())), "{err}");
    assert!(
        err.contains("6 fields") && err.contains("column 7") && err.contains("missing"),
        "{err}"
    );
}

// ---------------------------------------------------------------- robustness

proptest! {
    #[test]
    fn wisdm_v11_line_parser_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = datasets::wisdm_v11::parse_line(&bytes);
    }

    #[test]
    fn wisdm_v11_line_parser_survives_near_valid_lines(s in "[0-9]{1,2},(Walking|Jogging|Sitting),[0-9]{0,15},[-0-9.e]{0,8},[-0-9.]{0,8}[,;]{0,3}[-0-9.]{0,8};?") {
        let _ = datasets::wisdm_v11::parse_line(s.as_bytes());
    }

    #[test]
    fn uci_har_row_parser_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = datasets::uci_har::parse_window(&bytes);
    }

    #[test]
    fn pamap2_line_parser_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = datasets::pamap2::parse_line(&bytes, Pamap2Imu::Hand);
    }

    #[test]
    fn pamap2_line_parser_survives_54_random_tokens(tokens in proptest::collection::vec("(NaN|inf|-?[0-9]{1,12}(\\.[0-9]{0,6})?|[a-z]{1,3})", 54)) {
        for imu in [Pamap2Imu::Hand, Pamap2Imu::Chest, Pamap2Imu::Ankle] {
            let _ = datasets::pamap2::parse_line(tokens.join(" ").as_bytes(), imu);
        }
    }
}

proptest! {
    // Each case writes files, so fewer cases than the in-memory parsers get.
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Whatever a data file holds, the custom loader answers with recordings or an error.
    #[test]
    fn custom_loader_never_panics_on_arbitrary_data(
        body in proptest::collection::vec(prop_oneof![any::<u8>(), Just(b','), Just(b'\n'), Just(b'1'), Just(b'-')], 0..400),
    ) {
        let (dir, spec) = temp_spec(&std::fs::read_to_string(custom_spec()).unwrap());
        let csv = dir.path().join("recordings/subject_07/morning.csv");
        let mut bytes = b"banner\ntime_ms,ax_mg,ay_mg,az_mg,gx_dps,gy_dps,gz_dps,activity\n".to_vec();
        bytes.extend(&body);
        std::fs::write(&csv, bytes).unwrap();
        let _ = load(DatasetKind::Custom, &spec, &LoadOptions::default());
    }
}
