//! `.npz` output: harbor reads back what it wrote, NumPy reads it too, bad files are errors.

use std::path::Path;
use std::process::Command;

use harbor::board::BoardProfile;
use harbor::datasets::{Activity, BodyPosition, NoProgress, Recording};
use harbor::npz::{self, NpyArray, NpyData};
use harbor::signal::split::{SplitFractions, subject_split};
use harbor::signal::{PreparedFile, Provenance, ResampleConfig, WindowSpec, prepare};

fn recording(subject: &str, activity: Activity, phase: f32) -> Recording {
    let n = 1200; // 60 s at 20 Hz
    Recording {
        dataset: "synthetic".into(),
        subject: subject.into(),
        session: format!("ü-{}", activity.name()), // non-ASCII survives the round trip
        position: BodyPosition::Wrist,
        sources: vec![format!("{subject}.txt").into()],
        nominal_rate_hz: 20.0,
        t_ns: (0..n).map(|i| i * 50_000_000).collect(),
        accel: (0..n)
            .map(|i| [(i as f32 * 0.2 + phase).sin() * 5.0, 1.0, 9.0])
            .collect(),
        gyro: Some(
            (0..n)
                .map(|i| [0.0, (i as f32 * 0.1).cos(), -0.5])
                .collect(),
        ),
        labels: vec![0; n as usize],
        activities: vec![activity],
    }
}

fn prepared_file(dir: &Path) -> (PreparedFile, std::path::PathBuf) {
    let recs: Vec<Recording> = (0..5)
        .flat_map(|s| {
            [
                recording(&s.to_string(), Activity::Walking, s as f32),
                recording(&s.to_string(), Activity::Sitting, 0.5),
            ]
        })
        .collect();
    let board = BoardProfile::load(BoardProfile::DEFAULT).unwrap();
    let (spec, cfg) = (WindowSpec::default(), ResampleConfig::default());
    let prepared = prepare(&recs, &board, &spec, &cfg, &NoProgress).unwrap();
    let split = subject_split(
        &prepared.windows,
        SplitFractions {
            train: 0.6,
            val: 0.2,
            test: 0.2,
        },
        1,
    )
    .unwrap();
    let meta = Provenance::new(
        "synthetic",
        dir,
        &recs,
        0,
        &board,
        &spec,
        &cfg,
        &prepared.report,
    );
    let file = PreparedFile::from_prepared(&prepared, Some(&split), &meta).unwrap();
    let path = dir.join("windows.npz");
    file.write(&path).unwrap();
    (file, path)
}

#[test]
fn written_file_reads_back_equal() {
    let dir = tempfile::tempdir().unwrap();
    let (file, path) = prepared_file(dir.path());
    assert!(file.windows > 100);
    // Canonical class order is the `Activity` enum order: walking before sitting.
    assert_eq!(file.classes, ["walking", "sitting"]);
    let back = PreparedFile::read(&path).unwrap();
    assert_eq!(back, file);
}

#[test]
fn numpy_loads_the_file_with_the_documented_arrays() {
    let dir = tempfile::tempdir().unwrap();
    let (file, path) = prepared_file(dir.path());
    let (n, t) = (file.windows, file.length);
    // Values NumPy must see, taken from harbor's own arrays (the point is NumPy's view of
    // the bytes, not the values' origin).
    let probe = format!(
        r#"
import json, sys
import numpy as np
d = np.load(sys.argv[1])
assert d["x"].shape == ({n}, {t}, 6) and d["x"].dtype == np.float32, (d["x"].shape, d["x"].dtype)
assert d["x_raw"].shape == ({n}, {t}, 6) and d["x_raw"].dtype == np.int16
assert d["y"].shape == ({n},) and d["y"].dtype == np.int64
assert d["classes"].dtype.kind == "U" and list(d["classes"]) == {classes:?}
assert d["subject"].shape == ({n},) and d["subject"].dtype.kind == "U"
assert d["session"][0] == {session0:?}, d["session"][0]
assert set(d["split"]) <= {{"train", "val", "test"}}
assert d["meta"].shape == () and d["meta"].dtype.kind == "U"
meta = json.loads(str(d["meta"]))
assert meta["board"]["name"] == "esp32c3-band" and meta["window"]["rate_hz"] == 20.0
assert meta["report"]["windows"]["kept"] == {n}
assert d["x_raw"][1, 2, 0] == {raw120}, d["x_raw"][1, 2, 0]
assert abs(float(d["x"][{last}, {t1}, 4]) - {x_last}) < 1e-6
# x is x_raw in physical units: the accel axes share the datasheet scale.
scale = 0.122e-3 * 9.80665
assert np.allclose(d["x"][..., :3], d["x_raw"][..., :3] * scale, rtol=1e-6, atol=1e-6)
print("ok")
"#,
        classes = file.classes,
        session0 = file.session[0],
        raw120 = file.x_raw[(t + 2) * 6],
        last = n - 1,
        t1 = t - 1,
        x_last = file.x[((n - 1) * t + t - 1) * 6 + 4],
    );
    let out = Command::new("python3")
        .arg("-c")
        .arg(&probe)
        .arg(&path)
        .output();
    let out = match out {
        Ok(out) => out,
        Err(e) => {
            panic!("cannot run python3 ({e}): run scripts/setup to install python3 and numpy")
        }
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    if stderr.contains("No module named 'numpy'") {
        panic!("numpy is not installed: run scripts/setup");
    }
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).trim() == "ok",
        "numpy check failed:\n{stderr}"
    );
}

#[test]
fn generic_arrays_round_trip_including_scalars_and_empty_strings() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.npz");
    let arrays = [
        (
            "f",
            NpyArray::new(
                vec![2, 3],
                NpyData::F32(vec![0.5, -1.0, f32::MAX, 0.0, 1e-30, 3.25]),
            )
            .unwrap(),
        ),
        (
            "i",
            NpyArray::new(vec![4], NpyData::I16(vec![i16::MIN, -1, 0, i16::MAX])).unwrap(),
        ),
        ("l", NpyArray::new(vec![0], NpyData::I64(vec![])).unwrap()),
        (
            "s",
            NpyArray::new(
                vec![3],
                NpyData::Unicode(vec!["".into(), "äb".into(), "𝄞x".into()]),
            )
            .unwrap(),
        ),
        ("m", NpyArray::scalar_str("{\"k\": 1}")),
    ];
    let named: Vec<(&str, &NpyArray)> = arrays.iter().map(|(k, v)| (*k, v)).collect();
    npz::write(&path, &named).unwrap();
    let back = npz::read(&path).unwrap();
    assert_eq!(back.len(), arrays.len());
    for (k, v) in &arrays {
        assert_eq!(&back[*k], v, "{k}");
    }
}

#[test]
fn broken_files_are_errors_naming_the_file_and_entry() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.npz");
    std::fs::write(&path, b"not a zip").unwrap();
    let err = npz::read(&path).unwrap_err().to_string();
    assert!(err.contains("broken.npz"), "{err}");

    // A valid .npz missing `x_raw`.
    let only_x = NpyArray::new(vec![1, 1, 6], NpyData::F32(vec![0.0; 6])).unwrap();
    npz::write(&path, &[("x", &only_x)]).unwrap();
    let err = PreparedFile::read(&path).unwrap_err().to_string();
    assert!(err.contains("broken.npz") && err.contains("x_raw"), "{err}");
    assert!(NpyArray::new(vec![2, 2], NpyData::I16(vec![1])).is_err());
}

#[test]
fn a_failed_write_leaves_no_partial_npz_and_the_older_file_intact() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("windows.npz");
    let good = NpyArray::new(vec![2], NpyData::I16(vec![1, 2])).unwrap();
    npz::write(&path, &[("x", &good)]).unwrap();
    let before = std::fs::read(&path).unwrap();

    // The second entry is inconsistent: the write fails after the first entry went out.
    let bad = NpyArray {
        shape: vec![3],
        data: NpyData::I16(vec![1]),
    };
    let err = npz::write(&path, &[("x", &good), ("y", &bad)]).unwrap_err();
    assert!(err.to_string().contains("does not match"), "{err}");
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "older file untouched"
    );

    // A destination that cannot be replaced: nothing half-written stays beside it.
    let blocked = dir.path().join("blocked.npz");
    std::fs::create_dir(&blocked).unwrap();
    let err = npz::write(&blocked, &[("x", &good)]).unwrap_err();
    assert!(err.to_string().contains("blocked.npz"), "{err}");
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["blocked.npz", "windows.npz"], "no temp file left");
}
