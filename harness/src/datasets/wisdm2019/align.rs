//! Puts WISDM accel and gyro rows on one clock.
//!
//! Both sensors of a device share its uptime clock and, in the watch data, sample on the same
//! grid (99.95 % of accel timestamps also occur in the gyro file). So the accel timestamps are
//! the common clock: gyro is taken as-is where the timestamps match and interpolated linearly
//! where they do not. Accel rows outside the span gyro covers, or whose gyro neighbours are
//! further apart than [`MAX_GYRO_BRACKET_NS`], have no trustworthy gyro value and are dropped
//! (reported by the caller with their lines).

/// Longest gyro interval bridged by interpolation: two nominal 20 Hz periods, so one missing
/// gyro row is bridged but a real gap is never filled with invented motion.
pub const MAX_GYRO_BRACKET_NS: i64 = 100_000_000;

/// Samples of one sensor in one activity block, timestamps strictly increasing.
#[derive(Debug, Default)]
pub struct Series {
    pub t_ns: Vec<i64>,
    pub xyz: Vec<[f32; 3]>,
    /// 1-based line of each sample in its file, for skip reports.
    pub lines: Vec<u32>,
}

impl Series {
    pub fn push(&mut self, t_ns: i64, xyz: [f32; 3], line: u32) {
        self.t_ns.push(t_ns);
        self.xyz.push(xyz);
        self.lines.push(line);
    }
}

#[derive(Debug, Default, PartialEq)]
pub struct Aligned {
    pub t_ns: Vec<i64>,
    pub accel: Vec<[f32; 3]>,
    pub gyro: Vec<[f32; 3]>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DropReason {
    OutsideGyroSpan,
    GyroGap,
}

/// Consecutive accel rows dropped for the same reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DroppedRun {
    pub reason: DropReason,
    pub first_line: u32,
    pub last_line: u32,
    pub rows: usize,
}

/// Aligns `gyro` onto the timestamps of `accel`.
pub fn align(accel: &Series, gyro: &Series) -> (Aligned, Vec<DroppedRun>) {
    let mut out = Aligned::default();
    let mut dropped: Vec<DroppedRun> = Vec::new();
    // A run only grows by the sample right after its last one: rows kept in between split it.
    let mut last_dropped: Option<usize> = None;
    let mut drop = |reason, i: usize| {
        let line = accel.lines[i];
        match dropped.last_mut() {
            Some(run) if run.reason == reason && last_dropped.is_some_and(|d| d + 1 == i) => {
                run.last_line = line;
                run.rows += 1;
            }
            _ => dropped.push(DroppedRun {
                reason,
                first_line: line,
                last_line: line,
                rows: 1,
            }),
        }
        last_dropped = Some(i);
    };
    let tg = &gyro.t_ns;
    let (Some(&g_first), Some(&g_last)) = (tg.first(), tg.last()) else {
        (0..accel.t_ns.len()).for_each(|i| drop(DropReason::OutsideGyroSpan, i));
        return (out, dropped);
    };
    let mut j = 0;
    for (i, (&t, &a)) in accel.t_ns.iter().zip(&accel.xyz).enumerate() {
        if t < g_first || t > g_last {
            drop(DropReason::OutsideGyroSpan, i);
            continue;
        }
        // Invariant: tg[j] <= t, and t is within the gyro span, so j + 1 exists unless tg[j] == t.
        while j + 1 < tg.len() && tg[j + 1] <= t {
            j += 1;
        }
        let g = if tg[j] == t {
            gyro.xyz[j]
        } else {
            let (t0, t1) = (tg[j], tg[j + 1]);
            if t1 - t0 > MAX_GYRO_BRACKET_NS {
                drop(DropReason::GyroGap, i);
                continue;
            }
            let w = ((t - t0) as f64 / (t1 - t0) as f64) as f32;
            let (g0, g1) = (gyro.xyz[j], gyro.xyz[j + 1]);
            std::array::from_fn(|k| g0[k] + w * (g1[k] - g0[k]))
        };
        out.t_ns.push(t);
        out.accel.push(a);
        out.gyro.push(g);
    }
    (out, dropped)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn series(points: &[(i64, f32)]) -> Series {
        let mut s = Series::default();
        for (i, &(t, v)) in points.iter().enumerate() {
            s.push(t, [v, -v, 2.0 * v], i as u32 + 1);
        }
        s
    }

    const MS: i64 = 1_000_000;

    #[test]
    fn matching_timestamps_are_copied_and_others_interpolated() {
        let accel = series(&[(0, 0.0), (50 * MS, 1.0), (75 * MS, 2.0), (100 * MS, 3.0)]);
        let gyro = series(&[(0, 10.0), (50 * MS, 20.0), (100 * MS, 40.0)]);
        let (out, dropped) = align(&accel, &gyro);
        assert!(dropped.is_empty());
        assert_eq!(out.t_ns, vec![0, 50 * MS, 75 * MS, 100 * MS]);
        assert_eq!(out.accel[2], [2.0, -2.0, 4.0]);
        // 75 ms is halfway between gyro rows of 20 and 40.
        assert_eq!(
            out.gyro.iter().map(|g| g[0]).collect::<Vec<_>>(),
            vec![10.0, 20.0, 30.0, 40.0]
        );
        assert_eq!(out.gyro[2], [30.0, -30.0, 60.0]);
    }

    #[test]
    fn rows_outside_the_gyro_span_or_across_a_gyro_gap_are_dropped_in_runs() {
        let accel = series(&[
            (0, 0.0),
            (10 * MS, 0.0),
            (50 * MS, 0.0),
            (100 * MS, 0.0),
            (300 * MS, 0.0),
            (400 * MS, 0.0),
        ]);
        let gyro = series(&[(50 * MS, 1.0), (350 * MS, 1.0)]);
        let (out, dropped) = align(&accel, &gyro);
        assert_eq!(out.t_ns, vec![50 * MS]);
        assert_eq!(
            dropped,
            vec![
                DroppedRun {
                    reason: DropReason::OutsideGyroSpan,
                    first_line: 1,
                    last_line: 2,
                    rows: 2
                },
                DroppedRun {
                    reason: DropReason::GyroGap,
                    first_line: 4,
                    last_line: 5,
                    rows: 2
                },
                DroppedRun {
                    reason: DropReason::OutsideGyroSpan,
                    first_line: 6,
                    last_line: 6,
                    rows: 1
                },
            ]
        );
    }

    #[test]
    fn first_and_last_rows_outside_the_span_are_separate_runs() {
        let accel = series(&[(0, 0.0), (50 * MS, 0.0), (100 * MS, 0.0)]);
        let gyro = series(&[(50 * MS, 1.0)]);
        let (out, dropped) = align(&accel, &gyro);
        assert_eq!(out.t_ns, vec![50 * MS]);
        let runs: Vec<_> = dropped
            .iter()
            .map(|r| (r.first_line, r.last_line, r.rows))
            .collect();
        assert_eq!(runs, vec![(1, 1, 1), (3, 3, 1)]);
    }

    #[test]
    fn empty_gyro_drops_everything() {
        let accel = series(&[(0, 0.0), (1, 0.0)]);
        let (out, dropped) = align(&accel, &Series::default());
        assert!(out.t_ns.is_empty());
        assert_eq!(dropped.len(), 1);
        assert_eq!(dropped[0].rows, 2);
    }

    /// Strictly increasing timestamps from steps of 1 ms..250 ms, with values.
    fn arb_series(max_len: usize) -> impl Strategy<Value = Series> {
        proptest::collection::vec((1i64..250, -50f32..50.0), 0..max_len).prop_map(|steps| {
            let mut s = Series::default();
            let mut t = 0;
            for (i, (step, v)) in steps.into_iter().enumerate() {
                t += step * MS;
                s.push(t, [v, 0.0, -v], i as u32 + 1);
            }
            s
        })
    }

    proptest! {
        #[test]
        fn keeps_exactly_the_accel_rows_with_a_close_gyro_bracket(accel in arb_series(60), gyro in arb_series(60)) {
            let (out, dropped) = align(&accel, &gyro);
            let dropped_rows: usize = dropped.iter().map(|r| r.rows).sum();
            prop_assert_eq!(out.t_ns.len() + dropped_rows, accel.t_ns.len());
            prop_assert!(out.t_ns.windows(2).all(|w| w[0] < w[1]));
            // Each run covers consecutive accel rows only: no kept row inside it.
            for run in &dropped {
                let inside = accel.lines.iter().filter(|&&l| (run.first_line..=run.last_line).contains(&l)).count();
                prop_assert_eq!(inside, run.rows, "{:?}", run);
            }
            let (lo, hi) = gyro.xyz.iter().fold((f32::MAX, f32::MIN), |(lo, hi), g| (lo.min(g[0]), hi.max(g[0])));
            for (i, &t) in accel.t_ns.iter().enumerate() {
                // Brute force: the gyro rows at or around t.
                let exact = gyro.t_ns.iter().position(|&g| g == t);
                let before = gyro.t_ns.iter().rposition(|&g| g < t);
                let after = gyro.t_ns.iter().position(|&g| g > t);
                let keep = exact.is_some()
                    || matches!((before, after), (Some(b), Some(a)) if gyro.t_ns[a] - gyro.t_ns[b] <= MAX_GYRO_BRACKET_NS);
                let k = out.t_ns.iter().position(|&o| o == t);
                prop_assert_eq!(k.is_some(), keep, "accel row {} at {}", i + 1, t);
                if let Some(k) = k {
                    prop_assert_eq!(out.accel[k], accel.xyz[i]);
                    let g = out.gyro[k][0];
                    match exact {
                        Some(e) => prop_assert_eq!(g, gyro.xyz[e][0]),
                        None => prop_assert!(g >= lo - 1e-3 && g <= hi + 1e-3, "interpolated {} outside [{}, {}]", g, lo, hi),
                    }
                }
            }
        }
    }
}
