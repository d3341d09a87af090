//! What `harbor datasets inspect` reports about a loaded dataset.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::Serialize;

use super::custom::{JoinReport, JoinedFile};
use super::{Loaded, Skipped};

/// Counts and durations of a loaded dataset.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Summary {
    /// Dataset name.
    pub dataset: String,
    /// Distinct subjects.
    pub subjects: usize,
    /// Number of recordings.
    pub recordings: usize,
    /// Samples over all recordings.
    pub samples: usize,
    /// Sum of the recordings' durations in seconds.
    pub duration_s: f64,
    /// Median of the recordings' effective rates (median sample spacing).
    pub effective_rate_hz: Option<f64>,
    /// Recordings that carry gyroscope data.
    pub recordings_with_gyro: usize,
    /// Seconds per activity; a sample counts for the spacing to its successor, capped at
    /// four nominal periods so a gap is not credited to the activity before it.
    pub activities: BTreeMap<String, f64>,
    /// Bytes of input read.
    pub bytes_read: u64,
    /// Lines skipped on purpose.
    pub skipped_lines: usize,
    /// Skipped lines per cause (the reason with its numbers and quoted values blanked).
    pub skipped_by_cause: BTreeMap<String, usize>,
    /// The first skipped lines, for the user to look at.
    pub skipped_examples: Vec<Skipped>,
    /// How per-sensor files were joined, if they were.
    pub joins: Option<JoinSummary>,
}

/// Skipped lines listed by file:line in summaries and in a prepared file's `meta`.
pub const SKIP_EXAMPLES: usize = 10;

/// What joining per-sensor files did over a whole dataset.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct JoinSummary {
    /// Recordings joined from per-sensor files.
    pub recordings: usize,
    /// Seconds of accel files outside the span both sensors cover, summed.
    pub accel_outside_s: f64,
    /// Seconds of gyro files outside that span, summed.
    pub gyro_outside_s: f64,
    /// Output samples dropped because a sensor had a gap around them.
    pub dropped_in_gaps: usize,
    /// The file with the longest spacing between two samples.
    pub largest_gap: Option<JoinedFile>,
}

impl JoinSummary {
    fn of(joins: &[JoinReport]) -> Option<JoinSummary> {
        if joins.is_empty() {
            return None;
        }
        let files = || joins.iter().flat_map(|j| &j.files);
        let outside = |sensor: &str| -> f64 {
            files()
                .filter(|f| f.sensor == sensor)
                .map(|f| f.outside_s)
                .sum()
        };
        Some(JoinSummary {
            recordings: joins.len(),
            accel_outside_s: outside("accel"),
            gyro_outside_s: outside("gyro"),
            dropped_in_gaps: joins.iter().map(|j| j.dropped_in_gaps).sum(),
            largest_gap: files()
                .max_by(|a, b| a.largest_gap_s.total_cmp(&b.largest_gap_s))
                .cloned(),
        })
    }
}

/// A skip reason with its specifics blanked, so that lines skipped for the same cause count
/// together: digits become `N`, backquoted values become `…`.
pub fn cause_of(reason: &str) -> String {
    let mut out = String::with_capacity(reason.len());
    let mut quoted = false;
    for c in reason.chars() {
        match c {
            '`' => {
                if !quoted {
                    out.push_str("`…`");
                }
                quoted = !quoted;
            }
            _ if quoted => {}
            '0'..='9' if out.ends_with('N') => {}
            '0'..='9' => out.push('N'),
            _ => out.push(c),
        }
    }
    out
}

/// What a prepared file's `meta` says about skipped input lines.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SkippedLines {
    /// Skipped lines per cause.
    pub by_cause: BTreeMap<String, usize>,
    /// The first [`SKIP_EXAMPLES`] of them, with file and line.
    pub first: Vec<Skipped>,
}

impl SkippedLines {
    /// Counts and the first examples of `skipped`.
    pub fn of(skipped: &[Skipped]) -> SkippedLines {
        SkippedLines {
            by_cause: skipped_by_cause(skipped),
            first: skipped.iter().take(SKIP_EXAMPLES).cloned().collect(),
        }
    }
}

/// Skipped lines per cause.
pub fn skipped_by_cause(skipped: &[Skipped]) -> BTreeMap<String, usize> {
    let mut causes = BTreeMap::new();
    for s in skipped {
        *causes.entry(cause_of(&s.reason)).or_default() += 1;
    }
    causes
}

impl Summary {
    /// Counts and durations of what a loader produced.
    pub fn of(loaded: &Loaded) -> Summary {
        let recs = &loaded.recordings;
        let subjects: BTreeSet<&str> = recs.iter().map(|r| r.subject.as_str()).collect();
        let mut activities: BTreeMap<String, f64> = BTreeMap::new();
        for rec in recs {
            let cap_ns = (4.0e9 / rec.nominal_rate_hz.max(f64::MIN_POSITIVE)) as i64;
            for (i, w) in rec.t_ns.windows(2).enumerate() {
                let dt = (w[1] - w[0]).min(cap_ns);
                *activities
                    .entry(rec.label_at(i).name().to_string())
                    .or_default() += dt as f64 * 1e-9;
            }
        }
        let mut rates: Vec<f64> = recs.iter().filter_map(|r| r.effective_rate_hz()).collect();
        rates.sort_by(f64::total_cmp);
        Summary {
            dataset: recs.first().map(|r| r.dataset.clone()).unwrap_or_default(),
            subjects: subjects.len(),
            recordings: recs.len(),
            samples: recs.iter().map(|r| r.len()).sum(),
            duration_s: recs.iter().map(|r| r.duration_s()).sum(),
            effective_rate_hz: rates.get(rates.len() / 2).copied(),
            recordings_with_gyro: recs.iter().filter(|r| r.gyro.is_some()).count(),
            activities,
            bytes_read: loaded.bytes_read,
            skipped_lines: loaded.skipped.len(),
            skipped_by_cause: skipped_by_cause(&loaded.skipped),
            skipped_examples: loaded.skipped.iter().take(SKIP_EXAMPLES).cloned().collect(),
            joins: JoinSummary::of(&loaded.joins),
        }
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "dataset      {}", self.dataset)?;
        writeln!(f, "subjects     {}", self.subjects)?;
        writeln!(
            f,
            "recordings   {} ({} with gyro)",
            self.recordings, self.recordings_with_gyro
        )?;
        writeln!(f, "samples      {}", self.samples)?;
        writeln!(f, "duration     {}", hms(self.duration_s))?;
        match self.effective_rate_hz {
            Some(rate) => writeln!(f, "rate         {rate:.2} Hz (median of recordings)")?,
            None => writeln!(f, "rate         -")?,
        }
        writeln!(f, "input        {:.1} MB", self.bytes_read as f64 / 1e6)?;
        writeln!(f, "skipped      {} lines", self.skipped_lines)?;
        for (cause, count) in &self.skipped_by_cause {
            writeln!(f, "  {count:>8} × {cause}")?;
        }
        for skip in &self.skipped_examples {
            writeln!(f, "  {skip}")?;
        }
        if self.skipped_lines > self.skipped_examples.len() {
            writeln!(
                f,
                "  ... ({} more; --json lists the first {SKIP_EXAMPLES})",
                self.skipped_lines - self.skipped_examples.len()
            )?;
        }
        if let Some(j) = &self.joins {
            writeln!(
                f,
                "joined       {} recordings from per-sensor files; outside the common span: accel {:.2} s, gyro {:.2} s; {} samples dropped in sensor gaps",
                j.recordings, j.accel_outside_s, j.gyro_outside_s, j.dropped_in_gaps
            )?;
            if let Some(g) = &j.largest_gap {
                writeln!(
                    f,
                    "  largest gap {:.3} s in {} ({}) at {:.2} s",
                    g.largest_gap_s,
                    g.path.display(),
                    g.sensor,
                    g.largest_gap_at_s
                )?;
            }
        }
        writeln!(f, "activities")?;
        let width = self.activities.keys().map(String::len).max().unwrap_or(0);
        for (name, secs) in &self.activities {
            writeln!(f, "  {name:<width$}  {}", hms(*secs))?;
        }
        Ok(())
    }
}

fn hms(secs: f64) -> String {
    let s = secs.round() as u64;
    format!("{}h{:02}m{:02}s", s / 3600, s / 60 % 60, s % 60)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::datasets::{Activity, BodyPosition, Recording};

    fn rec(subject: &str, t_ns: Vec<i64>, labels: Vec<u16>) -> Recording {
        let n = t_ns.len();
        Recording {
            dataset: "test".into(),
            subject: subject.into(),
            session: "s".into(),
            position: BodyPosition::Wrist,
            sources: vec![],
            nominal_rate_hz: 10.0,
            t_ns,
            accel: vec![[0.0; 3]; n],
            gyro: None,
            labels,
            activities: vec![Activity::Walking, Activity::Sitting],
        }
    }

    #[test]
    fn counts_subjects_durations_and_caps_gaps() {
        let ms = 1_000_000;
        // 10 Hz: 3 walking intervals of 100 ms, then a 10 s gap credited only 400 ms (4 periods).
        let a = rec(
            "1",
            vec![0, 100 * ms, 200 * ms, 300 * ms, 10_300 * ms],
            vec![0, 0, 0, 1, 1],
        );
        let b = rec("2", vec![0, 100 * ms], vec![1, 1]);
        let loaded = Loaded {
            recordings: vec![a, b.clone(), b],
            skipped: vec![],
            bytes_read: 42,
            joins: vec![],
            units: Default::default(),
        };
        let s = Summary::of(&loaded);
        assert_eq!((s.subjects, s.recordings, s.samples), (2, 3, 9));
        assert!((s.activities["walking"] - 0.3).abs() < 1e-9);
        assert!((s.activities["sitting"] - (0.4 + 0.1 + 0.1)).abs() < 1e-9);
        assert!((s.duration_s - 10.5).abs() < 1e-9);
        assert_eq!(s.effective_rate_hz, Some(10.0));
        assert!(s.to_string().contains("subjects     2"));
    }

    #[test]
    fn causes_blank_numbers_and_quoted_values() {
        assert_eq!(
            cause_of("accel x (column 2): `x98` is not a finite number"),
            "accel x (column N): `…` is not a finite number"
        );
        assert_eq!(
            cause_of("timestamp 500 ns is not after the previous row's 600 ns (line 3)"),
            cause_of("timestamp 7 ns is not after the previous row's 8 ns (line 12)")
        );
    }
}
