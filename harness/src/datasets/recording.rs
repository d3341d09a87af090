//! The canonical form every dataset is loaded into.

use std::path::PathBuf;

use serde::Serialize;

use super::Activity;

/// Where on the body the recording device was worn.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BodyPosition {
    /// On the wrist.
    Wrist,
    /// Held in the hand.
    Hand,
    /// On the waist or belt.
    Waist,
    /// In a trouser pocket.
    Pocket,
    /// On the chest.
    Chest,
    /// On the ankle.
    Ankle,
    /// Not stated by the dataset.
    Unknown,
}

/// A continuous recording of one subject in one session, in the band's frame and units.
///
/// Invariants (checked by [`Recording::validate`]): timestamps are strictly increasing,
/// every per-sample vector has the same length, and every label id indexes `activities`.
/// Accel is in m/s² (gravity included), gyro in rad/s, both already mapped to the band's
/// axis frame by the loader (see `docs/datasets.md` for each dataset's axis map).
#[derive(Clone, Debug, PartialEq)]
pub struct Recording {
    /// Dataset identifier, e.g. `wisdm2019-watch`.
    pub dataset: String,
    /// Subject id as the dataset writes it.
    pub subject: String,
    /// Session within the subject (experiment, trial, activity block...).
    pub session: String,
    /// Where the device was worn.
    pub position: BodyPosition,
    /// The files this recording was read from.
    pub sources: Vec<PathBuf>,
    /// The rate the dataset documents; the effective rate is derived from `t_ns`.
    pub nominal_rate_hz: f64,
    /// Sample times in nanoseconds, increasing.
    pub t_ns: Vec<i64>,
    /// Acceleration per sample (m/s², gravity included).
    pub accel: Vec<[f32; 3]>,
    /// `None` for datasets that have no gyroscope (e.g. WISDM v1.1).
    pub gyro: Option<Vec<[f32; 3]>>,
    /// Per-sample index into `activities`.
    pub labels: Vec<u16>,
    /// The distinct activities `labels` index into.
    pub activities: Vec<Activity>,
}

impl Recording {
    /// Number of samples.
    pub fn len(&self) -> usize {
        self.t_ns.len()
    }

    /// Whether the recording has no samples.
    pub fn is_empty(&self) -> bool {
        self.t_ns.is_empty()
    }

    /// Seconds from the first to the last sample.
    pub fn duration_s(&self) -> f64 {
        match (self.t_ns.first(), self.t_ns.last()) {
            (Some(a), Some(b)) => (b - a) as f64 * 1e-9,
            _ => 0.0,
        }
    }

    /// Samples per second measured from the timestamps (median spacing, robust to gaps).
    pub fn effective_rate_hz(&self) -> Option<f64> {
        if self.t_ns.len() < 2 {
            return None;
        }
        let mut dt: Vec<i64> = self.t_ns.windows(2).map(|w| w[1] - w[0]).collect();
        let mid = dt.len() / 2;
        let (_, median, _) = dt.select_nth_unstable(mid);
        (*median > 0).then(|| 1e9 / *median as f64)
    }

    /// The activity of sample `sample`.
    pub fn label_at(&self, sample: usize) -> &Activity {
        &self.activities[self.labels[sample] as usize]
    }

    /// Checks the invariants above; loaders call it before returning a recording.
    pub fn validate(&self) -> Result<(), InvariantError> {
        let n = self.t_ns.len();
        if self.accel.len() != n || self.labels.len() != n {
            return Err(InvariantError::Lengths {
                timestamps: n,
                channel: "accel",
                len: self.accel.len(),
                labels: self.labels.len(),
            });
        }
        if let Some(g) = &self.gyro
            && g.len() != n
        {
            return Err(InvariantError::Lengths {
                timestamps: n,
                channel: "gyro",
                len: g.len(),
                labels: self.labels.len(),
            });
        }
        if let Some(i) = self.t_ns.windows(2).position(|w| w[1] <= w[0]) {
            return Err(InvariantError::TimeNotIncreasing { sample: i + 1 });
        }
        if let Some(&bad) = self
            .labels
            .iter()
            .find(|&&l| l as usize >= self.activities.len())
        {
            return Err(InvariantError::LabelOutOfRange {
                label: bad,
                activities: self.activities.len(),
            });
        }
        Ok(())
    }
}

/// A [`Recording`] invariant a loader broke.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InvariantError {
    /// A per-sample channel or the labels are not as long as the timestamps.
    #[error("length mismatch: {timestamps} timestamps, {len} {channel}, {labels} labels")]
    Lengths {
        /// Number of timestamps.
        timestamps: usize,
        /// The channel compared (`accel` or `gyro`).
        channel: &'static str,
        /// Its length.
        len: usize,
        /// Number of labels.
        labels: usize,
    },
    /// Two timestamps in a row do not increase.
    #[error("timestamps not strictly increasing at sample {sample}")]
    TimeNotIncreasing {
        /// The first sample out of order.
        sample: usize,
    },
    /// A label id has no activity.
    #[error("label id {label} out of range ({activities} activities)")]
    LabelOutOfRange {
        /// The label id.
        label: u16,
        /// Activities in the table.
        activities: usize,
    },
}

/// Interns activities into a recording's label table.
#[derive(Default, Debug, Clone)]
pub struct LabelTable {
    activities: Vec<Activity>,
}

impl LabelTable {
    /// The index of `activity`, adding it on first sight.
    pub fn id(&mut self, activity: &Activity) -> u16 {
        if let Some(i) = self.activities.iter().position(|a| a == activity) {
            return i as u16;
        }
        self.activities.push(activity.clone());
        (self.activities.len() - 1) as u16
    }

    /// The activities in index order.
    pub fn into_activities(self) -> Vec<Activity> {
        self.activities
    }
}
