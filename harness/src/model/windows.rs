//! Labelled windows in memory, as the trainer, the exporter and eval consume them.
//!
//! Windowing and subject-wise splitting belong to [`crate::signal`]; this module only holds
//! their result in the layout the model uses (time-major, like the band's NHWC input tensor).

/// Windows of `window` samples × `channels`, flattened time-major: sample `t`, channel `c` of
/// window `i` is `x[(i * window + t) * channels + c]`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WindowSet {
    /// Samples per window.
    pub window: usize,
    /// Channels per sample.
    pub channels: usize,
    /// All windows' values, time-major (see the type's doc).
    pub x: Vec<f32>,
    /// Class index of every window (into the model's class list).
    pub y: Vec<usize>,
    /// Subject id of every window.
    pub subject: Vec<String>,
}

impl WindowSet {
    /// An empty set of windows of `window` × `channels`.
    pub fn new(window: usize, channels: usize) -> Self {
        WindowSet {
            window,
            channels,
            ..Default::default()
        }
    }

    /// Number of windows.
    pub fn len(&self) -> usize {
        self.y.len()
    }

    /// True when there are no windows.
    pub fn is_empty(&self) -> bool {
        self.y.is_empty()
    }

    /// Values per window.
    pub fn stride(&self) -> usize {
        self.window * self.channels
    }

    /// The values of window `i`.
    pub fn get(&self, i: usize) -> &[f32] {
        &self.x[i * self.stride()..(i + 1) * self.stride()]
    }

    /// Appends a window with its class and subject.
    pub fn push(&mut self, window: &[f32], class: usize, subject: &str) {
        debug_assert_eq!(window.len(), self.stride());
        self.x.extend_from_slice(window);
        self.y.push(class);
        self.subject.push(subject.to_string());
    }

    /// Appends every window of `other` (same window shape).
    pub fn extend(&mut self, other: &WindowSet) {
        debug_assert!(other.is_empty() || other.stride() == self.stride());
        self.x.extend_from_slice(&other.x);
        self.y.extend_from_slice(&other.y);
        self.subject.extend_from_slice(&other.subject);
    }

    /// The windows at `indices`, in that order.
    pub fn select(&self, indices: &[usize]) -> WindowSet {
        let mut out = WindowSet::new(self.window, self.channels);
        out.x.reserve(indices.len() * self.stride());
        for &i in indices {
            out.push(self.get(i), self.y[i], &self.subject[i]);
        }
        out
    }

    /// The windows whose subject satisfies `keep`.
    pub fn filter_subjects(&self, keep: impl Fn(&str) -> bool) -> WindowSet {
        let indices: Vec<usize> = (0..self.len())
            .filter(|&i| keep(&self.subject[i]))
            .collect();
        self.select(&indices)
    }

    /// Subjects in sorted order.
    pub fn subjects(&self) -> Vec<String> {
        let mut s: Vec<String> = self.subject.clone();
        s.sort();
        s.dedup();
        s
    }

    /// Window count per class.
    pub fn class_counts(&self, classes: usize) -> Vec<usize> {
        let mut counts = vec![0; classes];
        for &y in &self.y {
            counts[y] += 1;
        }
        counts
    }
}
