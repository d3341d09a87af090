//! Labelled windows in memory, as the trainer consumes them, and the band's class set.
//!
//! Windowing and subject-wise splitting belong to [`crate::signal`]; this module only holds
//! their result in the layout the trainer and the exporter use (time-major, like the band's
//! NHWC input tensor) and maps activities onto the classes a model predicts.

use std::collections::BTreeMap;

/// Windows of `window` samples × `channels`, flattened time-major: sample `t`, channel `c` of
/// window `i` is `x[(i * window + t) * channels + c]`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WindowSet {
    pub window: usize,
    pub channels: usize,
    pub x: Vec<f32>,
    /// Class index of every window (into the model's class list).
    pub y: Vec<usize>,
    /// Subject id of every window.
    pub subject: Vec<String>,
}

impl WindowSet {
    pub fn new(window: usize, channels: usize) -> Self {
        WindowSet {
            window,
            channels,
            ..Default::default()
        }
    }

    pub fn len(&self) -> usize {
        self.y.len()
    }

    pub fn is_empty(&self) -> bool {
        self.y.is_empty()
    }

    pub fn stride(&self) -> usize {
        self.window * self.channels
    }

    pub fn get(&self, i: usize) -> &[f32] {
        &self.x[i * self.stride()..(i + 1) * self.stride()]
    }

    pub fn push(&mut self, window: &[f32], class: usize, subject: &str) {
        debug_assert_eq!(window.len(), self.stride());
        self.x.extend_from_slice(window);
        self.y.push(class);
        self.subject.push(subject.to_string());
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

/// Which activities a model predicts and how dataset activities map onto them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClassSet {
    /// Class names, in output order.
    pub classes: Vec<String>,
    /// Canonical activity name → class index. Activities not listed are left out.
    pub members: BTreeMap<String, usize>,
}

impl ClassSet {
    /// The classes of the band model on WISDM 2019 watch (see docs/models.md for why):
    /// locomotion, postures and the daily hand activities a wrist band sees every day.
    /// The four eating activities are one class: on the wrist they are the same hand-to-mouth
    /// motion. Sports drills (kicking, catch, dribbling), writing, clapping, folding and
    /// drinking are left out.
    pub fn wisdm_band() -> Self {
        let groups: [(&str, &[&str]); 8] = [
            ("walking", &["walking"]),
            ("jogging", &["jogging"]),
            ("stairs", &["stairs"]),
            ("sitting", &["sitting"]),
            ("standing", &["standing"]),
            ("typing", &["typing"]),
            ("brushing_teeth", &["brushing_teeth"]),
            (
                "eating",
                &[
                    "eating_soup",
                    "eating_chips",
                    "eating_pasta",
                    "eating_sandwich",
                ],
            ),
        ];
        Self::from_groups(&groups)
    }

    pub fn from_groups(groups: &[(&str, &[&str])]) -> Self {
        let mut members = BTreeMap::new();
        for (i, (_, names)) in groups.iter().enumerate() {
            for n in *names {
                members.insert((*n).to_string(), i);
            }
        }
        ClassSet {
            classes: groups.iter().map(|(c, _)| (*c).to_string()).collect(),
            members,
        }
    }

    pub fn len(&self) -> usize {
        self.classes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.classes.is_empty()
    }

    /// The class of a canonical activity name, `None` if the model leaves it out.
    pub fn class_of(&self, activity: &str) -> Option<usize> {
        self.members.get(activity).copied()
    }

    /// Activity names that map to class `class`, for the model card.
    pub fn members_of(&self, class: usize) -> Vec<String> {
        self.members
            .iter()
            .filter(|(_, c)| **c == class)
            .map(|(n, _)| n.clone())
            .collect()
    }
}

/// A small deterministic RNG (SplitMix64) for shuffling and sampling: the same seed gives the
/// same order on every machine, independent of any framework's RNG.
#[derive(Clone, Debug)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0); the modulo bias is negligible for dataset sizes.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn band_class_set_merges_eating_and_drops_sports() {
        let c = ClassSet::wisdm_band();
        assert_eq!(c.len(), 8);
        assert_eq!(c.class_of("eating_pasta"), c.class_of("eating_soup"));
        assert_eq!(c.class_of("kicking"), None);
        assert_eq!(c.members_of(7).len(), 4);
    }

    #[test]
    fn shuffle_is_a_seeded_permutation() {
        let mut a: Vec<u32> = (0..50).collect();
        let mut b = a.clone();
        SplitMix64::new(7).shuffle(&mut a);
        SplitMix64::new(7).shuffle(&mut b);
        assert_eq!(a, b);
        assert_ne!(a, (0..50).collect::<Vec<_>>());
        a.sort();
        assert_eq!(a, (0..50).collect::<Vec<_>>());
    }
}
