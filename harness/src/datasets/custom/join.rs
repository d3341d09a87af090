//! Joins the per-sensor files of one trial (accel file + gyro file) onto one time base.
//!
//! Both files are cut to their common span. Inside it, every output time needs a sample of
//! each sensor on both sides no further apart than [`GAP_PERIODS`] of that sensor's median
//! spacing; otherwise the time is dropped, which leaves a gap the resampler later splits at,
//! instead of inventing data across a sensor stall.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::datasets::{DatasetError, Recording};

/// A spacing longer than this many median periods is a gap, as in the resampler.
pub const GAP_PERIODS: f64 = 2.5;

/// Which time base the joined recording gets.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum JoinBase {
    /// The accelerometer's own timestamps; the gyro is interpolated onto them.
    Accel,
    /// A regular grid at this rate; both sensors are interpolated onto it.
    Grid {
        /// Grid rate in Hz.
        rate_hz: f64,
    },
}

/// One sensor's samples as read from its file.
#[derive(Debug)]
pub struct Series {
    /// The file.
    pub path: PathBuf,
    /// Sample times, strictly increasing.
    pub t_ns: Vec<i64>,
    /// Readings in canonical units and the band frame.
    pub xyz: Vec<[f32; 3]>,
}

/// How one file fared in a join.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct JoinedFile {
    /// The file.
    pub path: PathBuf,
    /// `accel` or `gyro`.
    pub sensor: &'static str,
    /// Samples in the file.
    pub samples: usize,
    /// Samples before or after the span both files cover (dropped).
    pub outside_samples: usize,
    /// Seconds of the file before or after that span.
    pub outside_s: f64,
    /// Longest spacing between two samples of the file, in seconds.
    pub largest_gap_s: f64,
    /// Where that spacing starts, in seconds from the file's first sample.
    pub largest_gap_at_s: f64,
}

/// What joining one trial's files did.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct JoinReport {
    /// `subject/session` of the joined recording.
    pub recording: String,
    /// The accel file, then the gyro file.
    pub files: Vec<JoinedFile>,
    /// Output times dropped because a sensor had a gap around them.
    pub dropped_in_gaps: usize,
}

/// Puts the gyro `series` onto `base` (read from the accel file: times, accel, labels).
pub fn join(
    mut rec: Recording,
    gyro: &Series,
    mode: JoinBase,
) -> Result<(Recording, JoinReport), DatasetError> {
    let accel_path = rec.sources.first().cloned().unwrap_or_default();
    let (Some(&a0), Some(&a1), Some(&g0), Some(&g1)) = (
        rec.t_ns.first(),
        rec.t_ns.last(),
        gyro.t_ns.first(),
        gyro.t_ns.last(),
    ) else {
        return Err(DatasetError::invalid(&gyro.path, "has no samples to join"));
    };
    let (start, end) = (a0.max(g0), a1.min(g1));
    if start >= end {
        return Err(DatasetError::invalid(
            &gyro.path,
            format!(
                "does not overlap in time with {} (accel {a0}..{a1} ns, gyro {g0}..{g1} ns)",
                accel_path.display()
            ),
        ));
    }
    let accel_limit = gap_limit(&rec.t_ns);
    let gyro_limit = gap_limit(&gyro.t_ns);
    let times: Vec<i64> = match mode {
        JoinBase::Accel => rec
            .t_ns
            .iter()
            .copied()
            .filter(|t| (start..=end).contains(t))
            .collect(),
        JoinBase::Grid { rate_hz } => {
            let period = 1e9 / rate_hz;
            let n = ((end - start) as f64 / period).floor() as usize + 1;
            (0..n)
                .map(|k| start + (k as f64 * period).round() as i64)
                .collect()
        }
    };
    let mut out_t = Vec::with_capacity(times.len());
    let mut out_a = Vec::with_capacity(times.len());
    let mut out_g = Vec::with_capacity(times.len());
    let mut out_l = Vec::with_capacity(times.len());
    let mut dropped = 0;
    let (mut ia, mut ig) = (0, 0);
    for t in times {
        let (Some(a), Some(g)) = (
            bracket(&rec.t_ns, t, &mut ia, accel_limit),
            bracket(&gyro.t_ns, t, &mut ig, gyro_limit),
        ) else {
            dropped += 1;
            continue;
        };
        out_t.push(t);
        out_a.push(lerp(&rec.accel, a));
        out_g.push(lerp(&gyro.xyz, g));
        out_l.push(rec.labels[a.0]);
    }
    let report = JoinReport {
        recording: format!("{}/{}", rec.subject, rec.session),
        files: vec![
            joined_file(&accel_path, "accel", &rec.t_ns, start, end),
            joined_file(&gyro.path, "gyro", &gyro.t_ns, start, end),
        ],
        dropped_in_gaps: dropped,
    };
    if out_t.len() < 2 {
        return Err(DatasetError::invalid(
            &gyro.path,
            format!(
                "joined with {} leaves fewer than 2 samples (gaps in both files cover the common span)",
                accel_path.display()
            ),
        ));
    }
    rec.t_ns = out_t;
    rec.accel = out_a;
    rec.gyro = Some(out_g);
    rec.labels = out_l;
    rec.sources.push(gyro.path.clone());
    rec.nominal_rate_hz = match mode {
        JoinBase::Accel => rec.effective_rate_hz().unwrap_or(rec.nominal_rate_hz),
        JoinBase::Grid { rate_hz } => rate_hz,
    };
    Ok((rec, report))
}

/// The spacing beyond which two samples of `t` no longer bracket a time.
fn gap_limit(t: &[i64]) -> i64 {
    let mut dt: Vec<i64> = t.windows(2).map(|w| w[1] - w[0]).collect();
    if dt.is_empty() {
        return 0;
    }
    let mid = dt.len() / 2;
    let (_, median, _) = dt.select_nth_unstable(mid);
    (*median as f64 * GAP_PERIODS) as i64
}

/// The samples `(i, i + 1, fraction)` around `t`, if they are close enough together.
/// `cursor` only moves forward: callers ask for increasing `t`.
fn bracket(t_ns: &[i64], t: i64, cursor: &mut usize, limit: i64) -> Option<(usize, usize, f64)> {
    while *cursor + 1 < t_ns.len() && t_ns[*cursor + 1] <= t {
        *cursor += 1;
    }
    let i = *cursor;
    if t_ns[i] == t {
        return Some((i, i, 0.0));
    }
    let j = i + 1;
    if j >= t_ns.len() || t_ns[i] > t || t_ns[j] - t_ns[i] > limit {
        return None;
    }
    Some((i, j, (t - t_ns[i]) as f64 / (t_ns[j] - t_ns[i]) as f64))
}

fn lerp(v: &[[f32; 3]], (i, j, f): (usize, usize, f64)) -> [f32; 3] {
    std::array::from_fn(|k| (v[i][k] as f64 + (v[j][k] as f64 - v[i][k] as f64) * f) as f32)
}

fn joined_file(
    path: &Path,
    sensor: &'static str,
    t_ns: &[i64],
    start: i64,
    end: i64,
) -> JoinedFile {
    let first = t_ns[0];
    let last = t_ns[t_ns.len() - 1];
    let (gap, at) = t_ns
        .windows(2)
        .map(|w| (w[1] - w[0], w[0]))
        .max_by_key(|&(gap, _)| gap)
        .unwrap_or((0, first));
    JoinedFile {
        path: path.to_path_buf(),
        sensor,
        samples: t_ns.len(),
        outside_samples: t_ns.iter().filter(|t| !(start..=end).contains(*t)).count(),
        outside_s: ((start - first) + (last - end)) as f64 * 1e-9,
        largest_gap_s: gap as f64 * 1e-9,
        largest_gap_at_s: (at - first) as f64 * 1e-9,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::datasets::{Activity, BodyPosition};

    const MS: i64 = 1_000_000;

    fn accel(t_ns: Vec<i64>) -> Recording {
        let n = t_ns.len();
        Recording {
            dataset: "t".into(),
            subject: "1".into(),
            session: "a".into(),
            position: BodyPosition::Pocket,
            sources: vec![PathBuf::from("acc.txt")],
            nominal_rate_hz: 100.0,
            accel: t_ns
                .iter()
                .map(|&t| [t as f32 / MS as f32, 0.0, 9.8])
                .collect(),
            t_ns,
            gyro: None,
            labels: vec![0; n],
            activities: vec![Activity::Walking],
        }
    }

    fn gyro(t_ns: Vec<i64>) -> Series {
        Series {
            path: PathBuf::from("gyro.txt"),
            xyz: t_ns
                .iter()
                .map(|&t| [0.0, t as f32 / MS as f32, 0.0])
                .collect(),
            t_ns,
        }
    }

    #[test]
    fn accel_base_trims_to_the_common_span_and_interpolates_gyro() {
        // accel every 10 ms from 0 to 100 ms; gyro every 5 ms from 12 ms to 120 ms
        let a = accel((0..=10).map(|k| k * 10 * MS).collect());
        let g = gyro((0..=21).map(|k| 12 * MS + k * 5 * MS).collect());
        let (rec, report) = join(a, &g, JoinBase::Accel).unwrap();
        assert_eq!(rec.t_ns.first(), Some(&(20 * MS)));
        assert_eq!(rec.t_ns.last(), Some(&(100 * MS)));
        let gy = rec.gyro.as_ref().unwrap();
        // gyro y holds its own time in ms: interpolation at t gives t
        for (t, v) in rec.t_ns.iter().zip(gy) {
            assert!((v[1] - (*t / MS) as f32).abs() < 1e-4, "{t} {v:?}");
        }
        assert_eq!(report.files[0].outside_samples, 2); // 0 and 10 ms
        assert!((report.files[0].outside_s - 0.012).abs() < 1e-12);
        assert!((report.files[1].outside_s - 0.017).abs() < 1e-12); // 12..117 vs 100
        assert_eq!(rec.sources.len(), 2);
    }

    #[test]
    fn a_stall_in_either_sensor_is_left_as_a_gap_and_reported() {
        // accel stalls from 30 to 230 ms
        let mut t: Vec<i64> = (0..=3).map(|k| k * 10 * MS).collect();
        t.extend((23..=40).map(|k| k * 10 * MS));
        let a = accel(t);
        let g = gyro((0..=80).map(|k| k * 5 * MS).collect());
        let (rec, report) = join(a, &g, JoinBase::Grid { rate_hz: 100.0 }).unwrap();
        assert!(rec.t_ns.windows(2).any(|w| w[1] - w[0] >= 200 * MS));
        assert_eq!(report.dropped_in_gaps, 19); // 40..220 ms
        assert!((report.files[0].largest_gap_s - 0.2).abs() < 1e-12);
        assert!((report.files[0].largest_gap_at_s - 0.03).abs() < 1e-12);
        let ax = &rec.accel;
        for (t, v) in rec.t_ns.iter().zip(ax) {
            assert!((v[0] - (*t / MS) as f32).abs() < 1e-4);
        }
    }

    #[test]
    fn files_without_overlap_are_an_error_naming_both() {
        let a = accel((0..10).map(|k| k * 10 * MS).collect());
        let g = gyro((0..10).map(|k| 1_000 * MS + k * 5 * MS).collect());
        let err = join(a, &g, JoinBase::Accel).unwrap_err().to_string();
        assert!(err.contains("gyro.txt") && err.contains("acc.txt"), "{err}");
    }
}
