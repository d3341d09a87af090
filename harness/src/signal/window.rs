//! Cutting model-rate streams into labelled windows.

use serde::Serialize;

use super::{Rate, SignalError};
use crate::datasets::Activity;

/// The model's input: `length_s` seconds at `rate_hz`, consecutive windows overlapping by
/// `overlap`, kept only if at least `purity` of their samples carry the majority label.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WindowSpec {
    /// Model input rate in Hz.
    pub rate_hz: f64,
    /// Window length in seconds.
    pub length_s: f64,
    /// Overlap of consecutive windows, in [0, 1).
    pub overlap: f64,
    /// Least share of samples that must carry the majority label.
    pub purity: f64,
    /// Keep windows whose majority label is a postural transition (`stand_to_sit`, …).
    pub keep_transitions: bool,
}

impl Default for WindowSpec {
    /// The modelled design: 3 s at 20 Hz (60 samples), 50 % overlap. Purity 0.8 keeps
    /// windows that straddle an activity change by at most 0.6 s.
    fn default() -> Self {
        WindowSpec {
            rate_hz: 20.0,
            length_s: 3.0,
            overlap: 0.5,
            purity: 0.8,
            keep_transitions: false,
        }
    }
}

impl WindowSpec {
    /// The model rate; errors if it is out of range.
    pub fn rate(&self) -> Result<Rate, SignalError> {
        Rate::from_hz(self.rate_hz, "window rate_hz")
    }

    /// Samples per window.
    pub fn samples(&self) -> Result<usize, SignalError> {
        let n = (self.length_s * self.rate()?.hz()).round();
        if !(n.is_finite() && (1.0..=1e6).contains(&n)) {
            return Err(SignalError::config(
                "window length_s",
                format!("{} s gives {n} samples", self.length_s),
            ));
        }
        Ok(n as usize)
    }

    /// Samples between window starts: `samples · (1 − overlap)`, at least 1.
    pub fn hop(&self) -> Result<usize, SignalError> {
        if !(0.0..1.0).contains(&self.overlap) {
            return Err(SignalError::config(
                "window overlap",
                format!("{} is not in [0, 1)", self.overlap),
            ));
        }
        Ok(((self.samples()? as f64 * (1.0 - self.overlap)).round() as usize).max(1))
    }

    /// Errors if a setting is out of range.
    pub fn check(&self) -> Result<(), SignalError> {
        self.hop()?;
        if !(self.purity > 0.0 && self.purity <= 1.0) {
            return Err(SignalError::config(
                "window purity",
                format!("{} is not in (0, 1]", self.purity),
            ));
        }
        Ok(())
    }
}

/// Who and when a window came from.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Source {
    /// Dataset name.
    pub dataset: String,
    /// Subject id.
    pub subject: String,
    /// Session id.
    pub session: String,
}

/// One kept window; its samples live in [`Windows`] at `index · length`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WindowInfo {
    /// Index into [`Windows::sources`].
    pub source: u32,
    /// Time of the window's first sample on the recording's clock.
    pub start_ns: i64,
    /// The window's majority label.
    pub activity: Activity,
    /// Fraction of samples carrying `activity`.
    pub purity: f32,
}

/// All kept windows, samples stored contiguously (window `i` is `raw[i·length..(i+1)·length]`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Windows {
    /// Samples per window.
    pub length: usize,
    /// Time a window spans: `length` samples at the model rate.
    pub duration_ns: i64,
    /// Model-rate raw IMU readings, exactly what the model receives in stream mode.
    pub raw: Vec<[i16; 6]>,
    /// The same readings in physical units (m/s², rad/s).
    pub physical: Vec<[f32; 6]>,
    /// Per-window metadata.
    pub info: Vec<WindowInfo>,
    /// The recordings windows come from ([`WindowInfo::source`] indexes them).
    pub sources: Vec<Source>,
}

impl Windows {
    /// Number of windows.
    pub fn len(&self) -> usize {
        self.info.len()
    }

    /// Whether there are no windows.
    pub fn is_empty(&self) -> bool {
        self.info.is_empty()
    }

    /// Raw readings of window `i`.
    pub fn raw(&self, i: usize) -> &[[i16; 6]] {
        &self.raw[i * self.length..(i + 1) * self.length]
    }

    /// Physical readings of window `i`.
    pub fn physical(&self, i: usize) -> &[[f32; 6]] {
        &self.physical[i * self.length..(i + 1) * self.length]
    }

    /// The recording window `i` comes from.
    pub fn source(&self, i: usize) -> &Source {
        &self.sources[self.info[i].source as usize]
    }

    /// The classes present, in canonical order: `y` indexes this list.
    pub fn classes(&self) -> Vec<Activity> {
        let mut classes: Vec<Activity> = self.info.iter().map(|w| w.activity.clone()).collect();
        classes.sort();
        classes.dedup();
        classes
    }
}

/// Windows kept and dropped, by reason.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct WindowCounts {
    /// Windows kept.
    pub kept: u64,
    /// Majority label below the purity threshold.
    pub impure: u64,
    /// Majority label is `unlabelled`.
    pub unlabelled: u64,
    /// Majority label is a postural transition.
    pub transition: u64,
    /// Segments too short for a single window (their samples are unused).
    pub short_segments: u64,
}

impl WindowCounts {
    /// Windows dropped for their label (impure, unlabelled, transition).
    pub fn dropped(&self) -> u64 {
        self.impure + self.unlabelled + self.transition
    }

    /// Adds another segment's counts.
    pub fn merge(&mut self, other: &WindowCounts) {
        self.kept += other.kept;
        self.impure += other.impure;
        self.unlabelled += other.unlabelled;
        self.transition += other.transition;
        self.short_segments += other.short_segments;
    }
}

/// A gap-free model-rate stream to cut: windows never span two of these.
pub struct ModelSegment<'a> {
    /// Index of the recording in [`Windows::sources`].
    pub source: u32,
    /// Time of each sample (ns, recording clock).
    pub t_ns: &'a [i64],
    /// Raw readings at the model rate.
    pub raw: &'a [[i16; 6]],
    /// The same readings in physical units.
    pub physical: &'a [[f32; 6]],
    /// Per-sample label ids into `activities`.
    pub labels: &'a [u16],
    /// Activities the labels index.
    pub activities: &'a [Activity],
}

/// Cuts `seg` into windows of `length` samples every `hop`, appending the kept ones to `out`.
/// `votes` is scratch space reused across calls (one counter per activity).
pub fn cut(
    seg: &ModelSegment<'_>,
    length: usize,
    hop: usize,
    spec: &WindowSpec,
    out: &mut Windows,
    counts: &mut WindowCounts,
    votes: &mut Vec<u32>,
) {
    if seg.raw.len() < length {
        counts.short_segments += 1;
        return;
    }
    for start in (0..=seg.raw.len() - length).step_by(hop) {
        votes.clear();
        votes.resize(seg.activities.len(), 0);
        for &l in &seg.labels[start..start + length] {
            votes[usize::from(l)] += 1;
        }
        // Ties go to the lower label id, so the choice never depends on iteration order.
        let (majority, &n) = votes
            .iter()
            .enumerate()
            .rev()
            .max_by_key(|&(_, n)| *n)
            .unwrap_or((0, &0));
        let activity = &seg.activities[majority];
        let fraction = f64::from(n) / length as f64;
        match activity {
            Activity::Unlabelled => counts.unlabelled += 1,
            Activity::Transition(_) if !spec.keep_transitions => counts.transition += 1,
            _ if fraction < spec.purity => counts.impure += 1,
            _ => {
                counts.kept += 1;
                out.raw.extend_from_slice(&seg.raw[start..start + length]);
                out.physical
                    .extend_from_slice(&seg.physical[start..start + length]);
                out.info.push(WindowInfo {
                    source: seg.source,
                    start_ns: seg.t_ns[start],
                    activity: activity.clone(),
                    purity: fraction as f32,
                });
            }
        }
    }
}
