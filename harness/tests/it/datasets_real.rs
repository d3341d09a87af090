//! The WISDM 2019, HAPT, MotionSense and BasicMotions loaders on the real published files
//! (found through `harbor::datasets::data_root()`), on the hand-made WISDM phone fixture, and
//! on small broken inputs.
//!
//! Expected counts come from the datasets' own documentation and READMEs or from counting the
//! raw files independently (noted where so); physical checks (gravity, axis signs, gyro
//! handedness) come from physics, not from the loaders' output.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

use harbor::datasets::{
    self, Activity, DatasetKind, LoadOptions, Loaded, NoProgress, Recording, STANDARD_GRAVITY,
};

/// A dataset folder under the shared data root; fails clearly when the data was not unpacked.
fn dataset_dir(name: &str) -> PathBuf {
    let dir = datasets::data_root().join(name);
    assert!(
        dir.is_dir(),
        "{} is missing: run scripts/fetch-data (or set HARBOR_DATA to where it unpacked)",
        dir.display()
    );
    dir
}

fn load(kind: DatasetKind, root: &Path) -> Loaded {
    let started = Instant::now();
    let loaded = datasets::load(kind, root, &LoadOptions::default(), &NoProgress)
        .unwrap_or_else(|e| panic!("loading {kind} from {}: {e}", root.display()));
    let secs = started.elapsed().as_secs_f64();
    // Informational only: throughput is measured by the criterion benchmark, not asserted here.
    eprintln!(
        "{kind}: {} recordings, {:.1} MB in {secs:.2} s",
        loaded.recordings.len(),
        loaded.bytes_read as f64 / 1e6
    );
    loaded
}

fn fixture(path: &str) -> PathBuf {
    datasets::workspace_root().join("fixtures").join(path)
}

// ---------- physics helpers ----------

fn norm(v: [f64; 3]) -> f64 {
    (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt()
}

/// Mean accel over the samples labelled `activity` in `recs`.
fn mean_accel<'a>(recs: impl IntoIterator<Item = &'a Recording>, activity: &Activity) -> [f64; 3] {
    let mut sum = [0f64; 3];
    let mut n = 0usize;
    for rec in recs {
        for (i, a) in rec.accel.iter().enumerate() {
            if rec.label_at(i) == activity {
                (0..3).for_each(|k| sum[k] += f64::from(a[k]));
                n += 1;
            }
        }
    }
    assert!(n > 0, "no samples labelled {activity}");
    sum.map(|s| s / n as f64)
}

/// Mean of |accel| over the samples labelled `activity`: ≈ g when the device is still.
fn mean_magnitude<'a>(recs: impl IntoIterator<Item = &'a Recording>, activity: &Activity) -> f64 {
    let (mut sum, mut n) = (0f64, 0usize);
    for rec in recs {
        for (i, a) in rec.accel.iter().enumerate() {
            if rec.label_at(i) == activity {
                sum += norm(a.map(f64::from));
                n += 1;
            }
        }
    }
    sum / n as f64
}

/// A world-fixed vector seen from a rotating device changes as du/dt = u × ω (ω in the device
/// frame, right-handed). Gravity dominates low-passed accel, so low-passed accel should follow
/// that law over the labelled samples of `recs` kept by `keep`.
///
/// `corr`, the correlation of d(accel)/dt with accel × ω, is positive when gyro and accel axes
/// form the same right-handed frame; a mirrored axis or a left-handed gyro drives it to zero or
/// below. It is invariant to the accel sign and to the gyro's scale. `slope`, the least-squares
/// gain from accel × ω to d(accel)/dt, is ≈ 1 for a gyro in rad/s (57 times off in deg/s);
/// linear acceleration noise biases it a little below 1.
struct Consistency {
    corr: f64,
    slope: f64,
}

fn rotation_consistency<'a>(
    recs: impl IntoIterator<Item = &'a Recording>,
    keep: impl Fn(&Activity) -> bool,
) -> Consistency {
    let (mut dot, mut lhs, mut rhs) = (0f64, 0f64, 0f64);
    for rec in recs {
        let gyro = rec.gyro.as_ref().expect("recording has gyro");
        let rate = rec.nominal_rate_hz;
        let win = (rate as usize).max(1); // 1 s moving average
        if rec.len() < win + 2 {
            continue;
        }
        let smooth = |v: &[[f32; 3]]| -> Vec<[f64; 3]> {
            let mut acc = [0f64; 3];
            let mut out = Vec::with_capacity(v.len());
            for (i, x) in v.iter().enumerate() {
                (0..3).for_each(|k| acc[k] += f64::from(x[k]));
                if i >= win {
                    (0..3).for_each(|k| acc[k] -= f64::from(v[i - win][k]));
                }
                out.push(acc.map(|s| s / (i + 1).min(win) as f64));
            }
            out
        };
        let (a, w) = (smooth(&rec.accel), smooth(gyro));
        for i in win..rec.len() - 1 {
            let dt = (rec.t_ns[i + 1] - rec.t_ns[i - 1]) as f64 * 1e-9;
            // Skip gaps and bursts: only evenly sampled stretches give a meaningful derivative.
            if !rec.label_at(i).is_activity()
                || !keep(rec.label_at(i))
                || (dt * rate - 2.0).abs() > 0.5
            {
                continue;
            }
            let da: [f64; 3] = std::array::from_fn(|k| (a[i + 1][k] - a[i - 1][k]) / dt);
            let u = a[i];
            let c = [
                u[1] * w[i][2] - u[2] * w[i][1],
                u[2] * w[i][0] - u[0] * w[i][2],
                u[0] * w[i][1] - u[1] * w[i][0],
            ];
            dot += (0..3).map(|k| da[k] * c[k]).sum::<f64>();
            lhs += da.iter().map(|x| x * x).sum::<f64>();
            rhs += c.iter().map(|x| x * x).sum::<f64>();
        }
    }
    let c = Consistency {
        corr: dot / (lhs * rhs).sqrt(),
        slope: dot / rhs,
    };
    eprintln!(
        "rotation consistency: corr {:.3}, slope {:.3}",
        c.corr, c.slope
    );
    c
}

fn other(name: &str) -> Activity {
    Activity::Other(name.into())
}

fn by_subject(recs: &[Recording]) -> BTreeMap<&str, Vec<&Recording>> {
    let mut map: BTreeMap<&str, Vec<&Recording>> = BTreeMap::new();
    for rec in recs {
        map.entry(rec.subject.as_str()).or_default().push(rec);
    }
    map
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn count_lines(paths: impl IntoIterator<Item = PathBuf>) -> usize {
    paths
        .into_iter()
        .map(|p| {
            std::fs::read(&p)
                .unwrap()
                .iter()
                .filter(|&&b| b == b'\n')
                .count()
        })
        .sum()
}

// ---------- WISDM 2019 ----------

#[test]
fn wisdm2019_watch_loads_all_complete_subjects_with_plausible_physics() {
    let root = dataset_dir("wisdm2019");
    let loaded = load(DatasetKind::Wisdm2019Watch, &root);
    let recs = &loaded.recordings;

    // README: 46 watch subjects 1600-1650 have accel+gyro; 1629 and 1637-1640 are incomplete.
    let subjects: BTreeSet<u32> = recs.iter().map(|r| r.subject.parse().unwrap()).collect();
    let expected: BTreeSet<u32> = (1600..=1650)
        .filter(|s| ![1629, 1637, 1638, 1639, 1640].contains(s))
        .collect();
    assert_eq!(subjects, expected);
    // 1637 has a gyro file but no accel file in this copy: reported, not silently dropped.
    assert!(
        loaded
            .skipped
            .iter()
            .any(|s| s.path.ends_with("data_1637_gyro_watch.txt")
                && s.reason.contains("no accel file")),
        "{:?}",
        loaded
            .skipped
            .iter()
            .filter(|s| s.line == 0)
            .collect::<Vec<_>>()
    );

    // 18 activities. Counted independently from the raw files: 46 × 18 blocks minus four
    // missing ones (1616 jogging, 1618 catch, 1642 stairs and typing).
    let activities: BTreeSet<&str> = recs.iter().map(|r| r.activities[0].name()).collect();
    assert_eq!(activities.len(), 18, "{activities:?}");
    assert_eq!(recs.len(), 46 * 18 - 4);
    assert!(
        recs.iter()
            .all(|r| r.position == datasets::BodyPosition::Wrist && r.activities.len() == 1)
    );
    let sessions_1616: BTreeSet<&str> = recs
        .iter()
        .filter(|r| r.subject == "1616")
        .map(|r| r.session.as_str())
        .collect();
    assert!(
        !sessions_1616.contains("jogging") && sessions_1616.contains("brushing_teeth"),
        "{sessions_1616:?}"
    );

    // The raw files hold no duplicate or backwards timestamps (checked with a script), so the
    // only rows dropped are accel rows outside the gyro block's span: ≤ 0.1 % of all rows.
    assert!(
        !loaded
            .skipped
            .iter()
            .any(|s| s.reason.contains("timestamp")),
        "unexpected timestamp skips"
    );
    let accel_dir = root.join("wisdm-dataset/raw/watch/accel");
    let accel_rows = count_lines(
        expected
            .iter()
            .map(|s| accel_dir.join(format!("data_{s}_accel_watch.txt")))
            .collect::<Vec<_>>(),
    );
    let kept: usize = recs.iter().map(Recording::len).sum();
    // Each report names a run of consecutive lines: "N accel row(s), lines a-b, dropped: ...".
    for s in loaded.skipped.iter().filter(|s| s.line > 0) {
        let (rows, rest) = s.reason.split_once(" accel row(s), lines ").unwrap();
        let (range, _) = rest.split_once(',').unwrap();
        let (a, b) = range.split_once('-').unwrap();
        let (rows, a, b): (usize, usize, usize) = (
            rows.parse().unwrap(),
            a.parse().unwrap(),
            b.parse().unwrap(),
        );
        assert!(a == s.line && b - a + 1 == rows, "{s}");
    }
    let outside = loaded
        .skipped
        .iter()
        .filter(|s| s.reason.contains("outside the time span"))
        .count();
    let gyro_gap = loaded
        .skipped
        .iter()
        .filter(|s| s.reason.contains("gyro has a gap"))
        .count();
    eprintln!(
        "kept {kept} of {accel_rows} accel rows; skip reports: {outside} outside gyro span, {gyro_gap} in gyro gaps"
    );
    assert!(
        kept <= accel_rows && kept as f64 > 0.999 * accel_rows as f64,
        "kept {kept} of {accel_rows} accel rows"
    );

    // ~180 s per block at a nominal 20 Hz; README: about 25 blocks arrive in bursts
    // (Δt < 10 ms) and there are ~370 gaps > 200 ms, all of which must survive loading.
    let rates: Vec<f64> = recs
        .iter()
        .filter_map(Recording::effective_rate_hz)
        .collect();
    let rate = median(rates);
    assert!(
        (19.5..=20.5).contains(&rate),
        "median effective rate {rate} Hz"
    );
    let durations: Vec<f64> = recs.iter().map(Recording::duration_s).collect();
    assert!((170.0..=190.0).contains(&median(durations)));
    let bursty = recs
        .iter()
        .filter(|r| {
            r.t_ns
                .windows(2)
                .filter(|w| w[1] - w[0] < 10_000_000)
                .count()
                * 10
                > r.len()
        })
        .count();
    assert!((20..=30).contains(&bursty), "{bursty} bursty blocks");
    let gaps: usize = recs
        .iter()
        .map(|r| {
            r.t_ns
                .windows(2)
                .filter(|w| w[1] - w[0] > 200_000_000)
                .count()
        })
        .sum();
    assert!((330..=410).contains(&gaps), "{gaps} gaps > 200 ms");

    // Gravity: ~g on average while sitting or typing.
    for act in [Activity::Sitting, other("typing")] {
        let m = mean_magnitude(recs, &act);
        assert!((9.5..=10.1).contains(&m), "mean |accel| while {act}: {m}");
    }
    // Band frame, Android convention: typing holds the watch face up, so z ≈ +g (specific
    // force points up); with the arm hanging (standing) the watch's 3 o'clock points up the
    // forearm on a right wrist, and most subjects are right-handed (worn on the dominant hand).
    let typing = mean_accel(recs, &other("typing"));
    assert!(
        typing[2] > 6.0,
        "typing mean accel {typing:?}: watch should be face up (z > 0)"
    );
    let standing = mean_accel(recs, &Activity::Standing);
    assert!(standing[0] > 3.0, "standing mean accel {standing:?}");
    // Gyro in rad/s and right-handed in the accel's frame: eating moves the wrist slowly,
    // so gravity's apparent rotation follows the gyro closely.
    let eating = [
        "eating_soup",
        "eating_chips",
        "eating_pasta",
        "eating_sandwich",
        "drinking",
    ];
    let c = rotation_consistency(recs, |a| eating.contains(&a.name()));
    assert!(
        c.corr > 0.5,
        "rotation consistency while eating: {}",
        c.corr
    );
    assert!(
        (0.8..=1.25).contains(&c.slope),
        "gyro scale while eating: {}",
        c.slope
    );
}

#[test]
fn wisdm2019_phone_fixture_aligns_gyro_and_reports_every_dropped_row() {
    let root = fixture("wisdm2019");
    let loaded = load(DatasetKind::Wisdm2019Phone, &root);
    let recs = &loaded.recordings;
    assert_eq!(
        recs.len(),
        2,
        "subject 1601 has no gyro file and must not load"
    );
    let walking = recs.iter().find(|r| r.session == "walking").unwrap();
    assert_eq!(
        (walking.dataset.as_str(), walking.subject.as_str()),
        ("wisdm2019-phone", "1600")
    );
    assert_eq!(walking.position, datasets::BodyPosition::Pocket);
    const MS: i64 = 1_000_000;
    // Line 1 precedes the gyro block, line 3 duplicates line 2; the burst and the gap stay.
    assert_eq!(
        walking.t_ns,
        vec![
            1050 * MS,
            1100 * MS,
            1105 * MS,
            1150 * MS,
            1600 * MS,
            1650 * MS
        ]
    );
    assert_eq!(
        walking.accel.iter().map(|a| a[0]).collect::<Vec<_>>(),
        vec![0.1, 0.3, 0.4, 0.5, 0.6, 0.7]
    );
    let gx: Vec<f32> = walking
        .gyro
        .as_ref()
        .unwrap()
        .iter()
        .map(|g| g[0])
        .collect();
    let want = [1.0, 2.0, 2.1, 3.0, 4.0, 5.0]; // 1105 ms is 1/10 of the way from 2.0 to 3.0
    assert!(
        gx.iter().zip(want).all(|(g, w)| (g - w).abs() < 1e-6),
        "{gx:?}"
    );
    let sitting = recs.iter().find(|r| r.session == "sitting").unwrap();
    assert_eq!(sitting.activities, vec![Activity::Sitting]);
    let gz: Vec<f32> = sitting
        .gyro
        .as_ref()
        .unwrap()
        .iter()
        .map(|g| g[2])
        .collect();
    assert_eq!(gz, vec![0.5, 2.0, 3.0]);

    let reports: Vec<String> = loaded.skipped.iter().map(|s| s.to_string()).collect();
    let accel_1600 = "phone/accel/data_1600_accel_phone.txt";
    let expect = [
        format!("{accel_1600}:3: duplicate timestamp"),
        format!("{accel_1600}:1: 1 accel row(s), lines 1-1, dropped: outside the time span"),
        "phone/accel/data_1601_accel_phone.txt:0: subject has no gyro file".to_string(),
    ];
    for e in &expect {
        assert!(
            reports.iter().any(|r| r.contains(e.as_str())),
            "no report containing `{e}` in {reports:#?}"
        );
    }
    assert_eq!(reports.len(), expect.len(), "{reports:#?}");

    // The fixture has no watch folder: a clear error naming the root.
    let err = datasets::load(
        DatasetKind::Wisdm2019Watch,
        &root,
        &LoadOptions::default(),
        &NoProgress,
    )
    .unwrap_err();
    assert!(err.to_string().contains("watch folder"), "{err}");
}

/// Writes a WISDM phone layout with the given accel and gyro files into a tempdir.
fn wisdm_tree(accel: &str, gyro: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let raw = dir.path().join("raw/phone");
    for (sensor, body) in [("accel", accel), ("gyro", gyro)] {
        std::fs::create_dir_all(raw.join(sensor)).unwrap();
        if !body.is_empty() {
            std::fs::write(
                raw.join(sensor)
                    .join(format!("data_1600_{sensor}_phone.txt")),
                body,
            )
            .unwrap();
        }
    }
    dir
}

fn load_err(kind: DatasetKind, root: &Path) -> String {
    match datasets::load(kind, root, &LoadOptions::default(), &NoProgress) {
        Ok(l) => panic!(
            "expected an error, loaded {} recordings",
            l.recordings.len()
        ),
        Err(e) => e.to_string(),
    }
}

#[test]
fn wisdm2019_broken_inputs_name_file_and_line() {
    let good = "1600,A,1000000000,1,2,3;\n1600,A,1050000000,1,2,3;\n";
    for (accel, wanted) in [
        (
            "1600,A,1000000000,1,2,3;\n1600,N,1050000000,1,2,3;\n",
            "data_1600_accel_phone.txt:2: unknown activity code `N`",
        ),
        (
            "1600,A,1000000000,1,2,3;\n1600,A,1050000000,1,2\n",
            "data_1600_accel_phone.txt:2: line does not end with `;`",
        ),
        (
            "1600,A,1000000000,1,2,3;\n1600,A,1050000000,1,,3;\n",
            "data_1600_accel_phone.txt:2: y: empty field",
        ),
        (
            "1600,A,1000000000,1,2,3;\n1600,A,1050000000,x,2,3;\n",
            "data_1600_accel_phone.txt:2: x: `x` is not a finite number",
        ),
        (
            "1600,A,1000000000,1,2,3;\n1601,A,1050000000,1,2,3;\n",
            "data_1600_accel_phone.txt:2: subject 1601",
        ),
        (
            "1600,A,1000000000,1,2,3;\n\n1600,A,1050000000,1,2,3;\n",
            "data_1600_accel_phone.txt:2: line does not end",
        ),
    ] {
        let dir = wisdm_tree(accel, good);
        let err = load_err(DatasetKind::Wisdm2019Phone, dir.path());
        assert!(err.contains(wanted), "got `{err}`, wanted `{wanted}`");
    }
    let dir = wisdm_tree("", good);
    let err = load_err(DatasetKind::Wisdm2019Phone, dir.path());
    assert!(
        err.contains("raw/phone/accel: no accel files found"),
        "{err}"
    );
    let empty = tempfile::tempdir().unwrap();
    let err = load_err(DatasetKind::Wisdm2019Phone, empty.path());
    assert!(err.contains("no WISDM 2019 phone folder found"), "{err}");
    let dir = wisdm_tree(good, "");
    let err = load_err(DatasetKind::Wisdm2019Phone, dir.path());
    assert!(
        err.contains("no subject with both accel and gyro files"),
        "{err}"
    );
}

#[test]
fn wisdm2019_codes_match_activity_key_txt() {
    let key = dataset_dir("wisdm2019").join("wisdm-dataset/activity_key.txt");
    let text = std::fs::read_to_string(&key).unwrap();
    let mut codes = BTreeSet::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let (name, code) = line.split_once('=').unwrap_or_else(|| panic!("{line:?}"));
        let (name, code) = (name.trim(), code.trim().as_bytes()[0]);
        let mapped =
            datasets::wisdm2019::activity(code).unwrap_or_else(|| panic!("code {code} unmapped"));
        // Our names add a verb where the key's word alone is vague (teeth → brushing_teeth).
        assert!(
            mapped.name().ends_with(name),
            "{} ↦ {mapped}, key says {name}",
            code as char
        );
        codes.insert(code);
    }
    assert_eq!(codes.len(), 18);
    let unmapped: Vec<u8> = (b'A'..=b'Z').filter(|c| !codes.contains(c)).collect();
    assert!(
        unmapped
            .iter()
            .all(|&c| datasets::wisdm2019::activity(c).is_none()),
        "N and T-Z must be unknown"
    );
}

// ---------- HAPT ----------

#[test]
fn hapt_ids_match_activity_labels_txt() {
    let path = dataset_dir("hapt").join("HAPT Data Set/activity_labels.txt");
    let text = std::fs::read_to_string(&path).unwrap();
    let basic = [
        ("WALKING", Activity::Walking),
        ("WALKING_UPSTAIRS", Activity::Upstairs),
        ("WALKING_DOWNSTAIRS", Activity::Downstairs),
        ("SITTING", Activity::Sitting),
        ("STANDING", Activity::Standing),
        ("LAYING", Activity::Lying),
    ];
    let mut seen = 0;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let (id, name) = line.trim().split_once(' ').unwrap();
        let (id, name): (u32, &str) = (id.parse().unwrap(), name.trim());
        let want = match basic.iter().find(|(n, _)| *n == name) {
            Some((_, a)) => a.clone(),
            None => Activity::from_name(name), // STAND_TO_SIT → Transition("stand_to_sit")
        };
        assert_eq!(datasets::hapt::activity(id), Some(want), "id {id} ({name})");
        seen += 1;
    }
    assert_eq!(seen, 12);
    assert_eq!(datasets::hapt::activity(13), None);
}

#[test]
fn hapt_loads_61_experiments_of_30_users_with_their_labels() {
    let root = dataset_dir("hapt");
    let loaded = load(DatasetKind::Hapt, &root);
    let recs = &loaded.recordings;
    assert!(loaded.skipped.is_empty(), "{:?}", loaded.skipped);
    assert_eq!(recs.len(), 61);
    assert_eq!(by_subject(recs).len(), 30);
    let present: BTreeSet<&Activity> = recs
        .iter()
        .flat_map(|r| r.labels.iter().map(|&l| &r.activities[l as usize]))
        .collect();
    assert_eq!(
        present.iter().filter(|a| a.is_activity()).count(),
        6,
        "{present:?}"
    );
    assert_eq!(
        present
            .iter()
            .filter(|a| matches!(a, Activity::Transition(_)))
            .count(),
        6,
        "{present:?}"
    );

    // README: only ~73 % of the samples are labelled.
    let total: usize = recs.iter().map(Recording::len).sum();
    let labelled: usize = recs
        .iter()
        .map(|r| {
            (0..r.len())
                .filter(|&i| *r.label_at(i) != Activity::Unlabelled)
                .count()
        })
        .sum();
    let fraction = labelled as f64 / total as f64;
    assert!(
        (0.70..=0.76).contains(&fraction),
        "labelled fraction {fraction}"
    );

    for rec in recs {
        assert_eq!(rec.effective_rate_hz(), Some(50.0), "{}", rec.session);
        assert_eq!(rec.t_ns[1] - rec.t_ns[0], 20_000_000);
    }
    // g → m/s²: the still postures read ≈ g.
    for act in [Activity::Standing, Activity::Sitting, Activity::Lying] {
        let m = mean_magnitude(recs, &act);
        assert!((9.5..=10.4).contains(&m), "mean |accel| while {act}: {m}");
    }
    // Labels must line up with the signal: lying turns the waist-worn phone by roughly 90°
    // relative to standing, so the mean gravity directions differ by a large angle.
    let (stand, lie) = (
        mean_accel(recs, &Activity::Standing),
        mean_accel(recs, &Activity::Lying),
    );
    let cos = (0..3).map(|k| stand[k] * lie[k]).sum::<f64>() / (norm(stand) * norm(lie));
    assert!(cos < 0.5, "standing {stand:?} vs lying {lie:?}: cos {cos}");
    let c = rotation_consistency(recs, |_| true);
    assert!(c.corr > 0.2, "rotation consistency {}", c.corr);
    assert!((0.8..=1.25).contains(&c.slope), "gyro scale {}", c.slope);
}

fn hapt_tree(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let raw = dir.path().join("RawData");
    std::fs::create_dir_all(&raw).unwrap();
    for (name, body) in files {
        std::fs::write(raw.join(name), body).unwrap();
    }
    dir
}

#[test]
fn hapt_broken_inputs_name_file_and_line() {
    let three = "1 0 0\n1 0 0\n1 0 0\n";
    let cases: [(&[(&str, &str)], &str); 5] = [
        (
            &[
                ("labels.txt", "1 1 5 1 3\n"),
                ("acc_exp01_user01.txt", three),
            ],
            "gyro_exp01_user01.txt: missing",
        ),
        (
            &[
                ("labels.txt", "1 1 5 1 3\n"),
                ("acc_exp01_user01.txt", three),
                ("gyro_exp01_user01.txt", "1 0 0\n1 0 0\n"),
            ],
            "gyro_exp01_user01.txt:3: file ends after 2 samples",
        ),
        (
            &[
                ("labels.txt", "1 1 5 1 4\n"),
                ("acc_exp01_user01.txt", three),
                ("gyro_exp01_user01.txt", three),
            ],
            "labels.txt:1: label ends at sample 4 but the experiment has 3",
        ),
        (
            &[
                ("labels.txt", "1 1 5 1 3\n2 1 5 1 3\n"),
                ("acc_exp01_user01.txt", three),
                ("gyro_exp01_user01.txt", three),
            ],
            "labels.txt:2: labels experiment 2 of user 1",
        ),
        (
            &[
                ("labels.txt", "1 1 5 1 3\n"),
                ("acc_exp01_user01.txt", "1 0 0\n1 0 nan\n1 0 0\n"),
                ("gyro_exp01_user01.txt", three),
            ],
            "acc_exp01_user01.txt:2: z: `nan` is not finite",
        ),
    ];
    for (files, wanted) in cases {
        let dir = hapt_tree(files);
        let err = load_err(DatasetKind::Hapt, dir.path());
        assert!(err.contains(wanted), "got `{err}`, wanted `{wanted}`");
    }
    let dir = hapt_tree(&[("labels.txt", "1 1 5 1 3\n")]);
    assert!(load_err(DatasetKind::Hapt, dir.path()).contains("no HAPT experiment files found"));
    let empty = tempfile::tempdir().unwrap();
    assert!(load_err(DatasetKind::Hapt, empty.path()).contains("no HAPT RawData/labels.txt found"));

    // A good tree: 1-based inclusive labels, g → m/s².
    let dir = hapt_tree(&[
        ("labels.txt", "1 1 4 2 3\n"),
        ("acc_exp01_user01.txt", three),
        ("gyro_exp01_user01.txt", three),
    ]);
    let loaded = datasets::load(
        DatasetKind::Hapt,
        dir.path(),
        &LoadOptions::default(),
        &NoProgress,
    )
    .unwrap();
    let rec = &loaded.recordings[0];
    let names: Vec<&str> = (0..3).map(|i| rec.label_at(i).name()).collect();
    assert_eq!(names, ["unlabelled", "sitting", "sitting"]);
    assert_eq!(rec.accel[0][0], STANDARD_GRAVITY as f32);
}

// ---------- MotionSense ----------

#[test]
fn motionsense_loads_24_subjects_by_15_trials_in_the_android_sign_convention() {
    let root = dataset_dir("motionsense");
    let loaded = load(DatasetKind::MotionSense, &root);
    let recs = &loaded.recordings;
    assert!(loaded.skipped.is_empty());
    assert_eq!(recs.len(), 360);
    let subjects = by_subject(recs);
    assert_eq!(subjects.len(), 24);
    assert!(
        subjects.values().all(|r| r.len() == 15),
        "every subject did all 15 trials"
    );
    let activities: BTreeSet<&str> = recs.iter().map(|r| r.activities[0].name()).collect();
    assert_eq!(
        activities,
        BTreeSet::from([
            "downstairs",
            "jogging",
            "sitting",
            "standing",
            "upstairs",
            "walking"
        ])
    );
    assert!(recs.iter().all(|r| r.effective_rate_hz() == Some(50.0)));
    for act in [Activity::Sitting, Activity::Standing] {
        let m = mean_magnitude(recs, &act);
        assert!((9.5..=10.1).contains(&m), "mean |accel| while {act}: {m}");
    }

    // Sign check independent of the gravity columns: CoreMotion's attitude (reference frame
    // with z vertical) says how face-up the phone is; an Android-convention accelerometer
    // then reads z ≈ +g·cos(roll)·cos(pitch) when still. Attitude is read here, not by the loader.
    let mut checked = 0;
    for rec in recs
        .iter()
        .filter(|r| r.session.starts_with("sit") || r.session.starts_with("std"))
    {
        let text = std::fs::read_to_string(&rec.sources[0]).unwrap();
        let (mut expected, mut got) = (0f64, 0f64);
        for (row, line) in text.lines().skip(1).enumerate() {
            let f: Vec<f64> = line
                .split(',')
                .skip(1)
                .take(2)
                .map(|v| v.parse().unwrap())
                .collect();
            expected += STANDARD_GRAVITY * f[0].cos() * f[1].cos();
            got += f64::from(rec.accel[row][2]);
        }
        let n = rec.len() as f64;
        let (expected, got) = (expected / n, got / n);
        assert!(
            (expected - got).abs() < 1.0,
            "{}: mean z {got}, attitude predicts {expected}",
            rec.sources[0].display()
        );
        checked += 1;
    }
    assert_eq!(
        checked,
        24 * 4,
        "sit and std have 2 trials each per subject"
    );
    let c = rotation_consistency(recs, |a| {
        matches!(a, Activity::Sitting | Activity::Standing)
    });
    assert!(c.corr > 0.1, "rotation consistency {}", c.corr);
    assert!((0.8..=1.25).contains(&c.slope), "gyro scale {}", c.slope);

    let info =
        datasets::motionsense::read_subjects_info(&root.join("data_subjects_info.csv")).unwrap();
    assert_eq!(info.len(), 24);
    assert_eq!(
        (info[0].code, info[0].weight_kg, info[0].height_cm),
        (1, 102.0, 188.0),
        "BOM must not hide row 1"
    );
}

#[test]
fn motionsense_broken_inputs_name_file_and_line() {
    let header = ",attitude.roll,attitude.pitch,attitude.yaw,gravity.x,gravity.y,gravity.z,rotationRate.x,rotationRate.y,rotationRate.z,userAcceleration.x,userAcceleration.y,userAcceleration.z\n";
    let dir = tempfile::tempdir().unwrap();
    let trial = dir.path().join("A_DeviceMotion_data/wlk_7");
    std::fs::create_dir_all(&trial).unwrap();
    std::fs::write(
        trial.join("sub_3.csv"),
        format!("{header}0,0,0,0,0,0,-1,0,0,0,0,0,0\n1,0,0,0,0,0,-1,0,0,0,0,0\n"),
    )
    .unwrap();
    let err = load_err(DatasetKind::MotionSense, dir.path());
    assert!(
        err.contains("wlk_7/sub_3.csv:3: 12 fields, the header has 13"),
        "{err}"
    );

    std::fs::write(
        trial.join("sub_3.csv"),
        format!("{header}0,0,0,0,0,0,-1,0,0,0,0,0,0\n"),
    )
    .unwrap();
    std::fs::create_dir_all(dir.path().join("A_DeviceMotion_data/run_1")).unwrap();
    let err = load_err(DatasetKind::MotionSense, dir.path());
    assert!(
        err.contains("run_1: folder name is not `<act>_<trial>`"),
        "{err}"
    );
    std::fs::remove_dir(dir.path().join("A_DeviceMotion_data/run_1")).unwrap();
    std::fs::create_dir_all(dir.path().join("A_DeviceMotion_data/sit_5")).unwrap();
    let err = load_err(DatasetKind::MotionSense, dir.path());
    assert!(err.contains("sit_5: no subject CSV found"), "{err}");
    assert!(
        load_err(
            DatasetKind::MotionSense,
            tempfile::tempdir().unwrap().path()
        )
        .contains("no A_DeviceMotion_data")
    );
}

// ---------- BasicMotions ----------

#[test]
fn basicmotions_loads_80_cases_of_4_balanced_classes() {
    let root = dataset_dir("basicmotions");
    let loaded = load(DatasetKind::BasicMotions, &root);
    let recs = &loaded.recordings;
    assert_eq!(recs.len(), 80);
    let mut per_class: BTreeMap<&str, usize> = BTreeMap::new();
    for rec in recs {
        *per_class.entry(rec.activities[0].name()).or_default() += 1;
    }
    assert_eq!(
        per_class,
        BTreeMap::from([
            ("badminton", 20),
            ("running", 20),
            ("standing", 20),
            ("walking", 20)
        ])
    );
    assert_eq!(
        recs.iter()
            .filter(|r| r.session.starts_with("train_"))
            .count(),
        40
    );
    assert!(
        recs.iter().all(|r| r.len() == 100
            && r.effective_rate_hz() == Some(10.0)
            && r.subject == "unknown")
    );
    // Quirk: the watch removed gravity. Standing reads well under g, running far more.
    let standing = mean_magnitude(recs, &Activity::Standing);
    let running = mean_magnitude(recs, &Activity::Running);
    assert!(
        standing < 2.0 && running > 3.0 * standing,
        "standing {standing}, running {running}"
    );
    // Dimensions 3-5 are the gyro: an angular rate integrates to a bounded angle, so over a
    // 10 s case its mean is near zero even while running.
    for rec in recs {
        let gyro = rec.gyro.as_ref().unwrap();
        let mean: [f64; 3] =
            std::array::from_fn(|k| gyro.iter().map(|g| f64::from(g[k])).sum::<f64>() / 100.0);
        assert!(
            norm(mean) < 1.5,
            "{}: gyro mean {mean:?} rad/s",
            rec.session
        );
    }
}

#[test]
fn basicmotions_missing_or_truncated_files_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let header = "@problemName BasicMotions\n@timeStamps false\n@univariate false\n@dimensions 6\n@seriesLength 2\n@classLabel true Standing Running Walking Badminton\n@data\n";
    std::fs::write(
        dir.path().join("BasicMotions_TRAIN.ts"),
        format!("{header}1,2:3,4:5,6:7,8:9,10:11,12:Walking\n"),
    )
    .unwrap();
    let err = load_err(DatasetKind::BasicMotions, dir.path());
    assert!(err.contains("BasicMotions_TEST.ts"), "{err}");
    std::fs::write(
        dir.path().join("BasicMotions_TEST.ts"),
        format!("{header}1,2:3,4:5,6:7,8:9,10:11,12:Walking\n1,2:3,4:5"),
    )
    .unwrap();
    let err = load_err(DatasetKind::BasicMotions, dir.path());
    assert!(
        err.contains("BasicMotions_TEST.ts:9: 2 dimensions before the class label"),
        "{err}"
    );
}

/// BasicMotions' watch published linear acceleration (median |a| at rest ≈ 0.4 m/s²): the
/// loader declares it gravity-free, so `inspect --strict` raises no accel-at-rest warning.
#[test]
fn basicmotions_is_gravity_free_and_inspects_without_warnings() {
    assert_eq!(
        DatasetKind::BasicMotions.accel_includes_gravity(),
        Some(false)
    );
    let root = dataset_dir("basicmotions");
    let out = crate::support::cli::harbor(&[
        "datasets",
        "inspect",
        "basicmotions",
        root.to_str().unwrap(),
        "--strict",
        "--json",
    ]);
    let text = crate::support::cli::text(&out);
    assert_eq!(crate::support::cli::code(&out), 0, "{text}");
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["warnings"], serde_json::json!([]), "{text}");
}
