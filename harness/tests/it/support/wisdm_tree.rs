//! A small WISDM 2019 watch tree in the dataset's raw line format, written by a test: real
//! loader, real signal chain, seconds to train on.

use std::fmt::Write as _;
use std::path::Path;

/// WISDM codes: A walking, B jogging, D sitting, Q writing.
pub const CODES: [char; 4] = ['A', 'B', 'D', 'Q'];

/// 15 s per subject and activity at 20 Hz, each activity its own wave on the accel and gyro
/// axes (plus a per-subject offset), for subjects `1600..1600 + subjects`.
pub fn write_watch_tree(root: &Path, subjects: u32) {
    for sensor in ["accel", "gyro"] {
        let dir = root.join(format!("wisdm-dataset/raw/watch/{sensor}"));
        std::fs::create_dir_all(&dir).expect("mkdir");
        for subject in 1600..1600 + subjects {
            let mut text = String::new();
            let mut t_ns: u64 = 90_000_000_000_000;
            for (k, code) in CODES.iter().enumerate() {
                for i in 0..300 {
                    let t = i as f64 / 20.0;
                    let f = 0.5 + k as f64;
                    let a = (std::f64::consts::TAU * f * t).sin() * (1.0 + k as f64);
                    let off = f64::from(subject - 1600) * 0.1;
                    let (x, y, z) = if sensor == "accel" {
                        (a + off, 9.81 * (k as f64 / 4.0), -a)
                    } else {
                        (0.3 * a, off, 0.1 * k as f64)
                    };
                    writeln!(text, "{subject},{code},{t_ns},{x:.6},{y:.6},{z:.6};").unwrap();
                    t_ns += 50_000_000;
                }
                t_ns += 10_000_000_000;
            }
            let name = format!("data_{subject}_{sensor}_watch.txt");
            std::fs::write(dir.join(name), text).expect("write");
        }
    }
}
