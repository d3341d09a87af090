//! `harbor models train --on-bad-line` like `prepare`: on a custom dataset written by the test
//! (three subjects, two activities, accel and gyro), one malformed line stops training with
//! its file and line by default, and is skipped (the model trained) with `skip`.

#![cfg(feature = "train")]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::support::cli::{code, harbor, text};

/// 30 s per subject and activity at 50 Hz; returns the spec and subject 1's walking file.
fn write_dataset(root: &Path) -> (PathBuf, PathBuf) {
    for subject in 1..=3 {
        for (k, activity) in ["walk", "sit"].iter().enumerate() {
            let dir = root.join(format!("s{subject}"));
            std::fs::create_dir_all(&dir).unwrap();
            let mut csv = String::from("t_ms,ax,ay,az,gx,gy,gz\n");
            for i in 0..1500 {
                let t = f64::from(i) / 50.0;
                let a = if k == 0 {
                    3.0 * (std::f64::consts::TAU * 1.8 * t).sin()
                } else {
                    0.05 * f64::from(subject)
                };
                writeln!(
                    csv,
                    "{},{:.4},{:.4},{:.4},{:.4},{:.4},{:.4}",
                    i * 20,
                    a,
                    0.3,
                    9.8 + a,
                    0.5 * a,
                    0.1,
                    -0.2 * a
                )
                .unwrap();
            }
            std::fs::write(dir.join(format!("{activity}.csv")), csv).unwrap();
        }
    }
    let spec = root.join("spec.yaml");
    std::fs::write(
        &spec,
        "name: tiny\nfiles: ['s*/*.csv']\nheader: true\ntime: {column: t_ms, unit: ms}\n\
         accel: {columns: [ax, ay, az], unit: m/s2}\ngyro: {columns: [gx, gy, gz], unit: rad/s}\n\
         label: {from_path: '/(walk|sit)\\.csv$', map: {walk: walking, sit: sitting}}\n\
         subject: {from_path: 's(\\d)/'}\n",
    )
    .unwrap();
    (spec, root.join("s1/walk.csv"))
}

fn train(spec: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    let mut args: Vec<String> = [
        "models",
        "train",
        "--dataset",
        "custom",
        "--root",
        &spec.to_string_lossy(),
        "--variant",
        "tiny",
        "--max-epochs",
        "1",
        "--classes",
        "walking,sitting",
        "--train-subjects",
        "1",
        "--val-subjects",
        "2",
        "--test-subjects",
        "3",
        "--out",
        &out.to_string_lossy(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.extend(extra.iter().map(|s| s.to_string()));
    harbor(&args)
}

#[test]
fn a_bad_line_stops_training_unless_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let (spec, walk) = write_dataset(dir.path());
    let mut lines: Vec<String> = std::fs::read_to_string(&walk)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    lines[100] = "2000,not-a-number,0,0,0,0,0".into();
    std::fs::write(&walk, lines.join("\n") + "\n").unwrap();

    let out_dir = dir.path().join("m");
    let out = train(&spec, &out_dir, &[]);
    assert_eq!(code(&out), 2, "{}", text(&out));
    assert!(text(&out).contains("walk.csv:101"), "{}", text(&out));
    assert!(!out_dir.exists(), "nothing written on a refused run");

    let out = train(&spec, &out_dir, &["--on-bad-line", "skip"]);
    assert_eq!(code(&out), 0, "{}", text(&out));
    assert!(out_dir.join("card.yaml").is_file(), "{}", text(&out));
}
