//! Stream-mode windowing: a fixed ring of the latest model-rate samples that says when a
//! window is complete. Shared so the host can reproduce exactly which samples the band
//! infers on.
//!
//! Window `k` of a segment covers model-rate samples `[k·hop, k·hop + len)`: the first
//! window starts at the segment's first model-rate sample, as `harbor::signal::window::cut`
//! cuts tensor-mode windows, once the rate converter's warm-up outputs
//! (`PolyphaseFir::warmup_outputs`) are dropped. A new segment (after a gap) starts with
//! [`Windower::reset`].

use crate::rate::{AXES, ImuSample};

/// Why a window geometry cannot be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WindowError {
    /// `len` is zero or exceeds the ring's capacity.
    Length {
        /// Window length asked for.
        len: usize,
        /// Samples the ring holds.
        capacity: usize,
    },
    /// `hop` is zero.
    Hop,
}

impl core::fmt::Display for WindowError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Length { len, capacity } => {
                write!(f, "window of {len} samples: must be 1..={capacity}")
            }
            Self::Hop => f.write_str("hop must be at least one sample"),
        }
    }
}

/// Ring buffer of the last `len` samples (capacity `CAP`, no heap) plus the hop counter.
/// Samples are raw readings by default; a band that converts each sample to int8 as it
/// arrives keeps `[i8; AXES]` and holds half the bytes.
#[derive(Clone, Debug)]
pub struct Windower<const CAP: usize, S = ImuSample> {
    ring: [S; CAP],
    len: usize,
    hop: usize,
    /// Slot the next sample goes to; once full, also the oldest sample's slot.
    write: usize,
    /// Samples pushed since the segment started.
    pushed: u64,
    /// `pushed` value at which the next window is complete.
    next_end: u64,
    /// Index of the next window in this segment.
    next_index: u32,
}

impl<const CAP: usize> Windower<CAP> {
    /// A windower for windows of `len` samples every `hop` samples; errors if either is out of range.
    pub const fn new(len: usize, hop: usize) -> Result<Self, WindowError> {
        Self::filled(len, hop, [0; AXES])
    }
}

impl<const CAP: usize, S: Copy> Windower<CAP, S> {
    /// [`Windower::new`] for any sample type, the ring filled with `empty`.
    pub const fn filled(len: usize, hop: usize, empty: S) -> Result<Self, WindowError> {
        if len == 0 || len > CAP {
            return Err(WindowError::Length { len, capacity: CAP });
        }
        if hop == 0 {
            return Err(WindowError::Hop);
        }
        Ok(Self {
            ring: [empty; CAP],
            len,
            hop,
            write: 0,
            pushed: 0,
            next_end: len as u64,
            next_index: 0,
        })
    }

    /// Changes the window geometry in place (a new segment starts); on an error nothing
    /// changes.
    pub fn set_geometry(&mut self, len: usize, hop: usize) -> Result<(), WindowError> {
        if len == 0 || len > CAP {
            return Err(WindowError::Length { len, capacity: CAP });
        }
        if hop == 0 {
            return Err(WindowError::Hop);
        }
        self.len = len;
        self.hop = hop;
        self.reset();
        Ok(())
    }

    /// Samples per window.
    pub const fn len(&self) -> usize {
        self.len
    }

    /// Whether no sample was pushed since the segment started.
    pub const fn is_empty(&self) -> bool {
        self.pushed == 0
    }

    /// Samples between window starts.
    pub const fn hop(&self) -> usize {
        self.hop
    }

    /// Samples pushed since the segment started.
    pub const fn pushed(&self) -> u64 {
        self.pushed
    }

    /// Starts a new segment: no window spans the reset.
    pub fn reset(&mut self) {
        self.write = 0;
        self.pushed = 0;
        self.next_end = self.len as u64;
        self.next_index = 0;
    }

    /// Adds one model-rate sample; returns the index of the window it completes, if any.
    /// Read that window with [`Windower::window`] before the next push.
    pub fn push(&mut self, sample: S) -> Option<u32> {
        self.ring[self.write] = sample;
        self.write = if self.write + 1 == self.len {
            0
        } else {
            self.write + 1
        };
        self.pushed += 1;
        if self.pushed != self.next_end {
            return None;
        }
        self.next_end += self.hop as u64;
        let index = self.next_index;
        self.next_index = self.next_index.wrapping_add(1);
        Some(index)
    }

    /// The last `len` samples, oldest first (meaningful once a window completed).
    pub fn window(&self) -> impl Iterator<Item = &S> + '_ {
        let ring = &self.ring[..self.len];
        ring[self.write..].iter().chain(&ring[..self.write])
    }
}

/// First model-rate sample of window `index` (window `k` starts at `k·hop`).
pub const fn window_start(index: u32, hop: usize) -> u64 {
    index as u64 * hop as u64
}

/// Windows a segment of `samples` model-rate samples yields: `floor((n − len)/hop) + 1`,
/// or 0 when it is shorter than one window.
pub const fn windows_in(samples: u64, len: usize, hop: usize) -> u64 {
    if samples < len as u64 || hop == 0 {
        0
    } else {
        (samples - len as u64) / hop as u64 + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(i: i16) -> ImuSample {
        [i, -i, i, 0, 0, 0]
    }

    /// Windows from pushing 0..n, as (index, first value of each sample).
    fn run(len: usize, hop: usize, n: i16) -> [(u32, [i16; 8]); 8] {
        let mut w = Windower::<8>::new(len, hop).unwrap();
        let mut got = [(u32::MAX, [0; 8]); 8];
        let mut count = 0;
        for i in 0..n {
            if let Some(index) = w.push(sample(i)) {
                let mut firsts = [0; 8];
                for (d, s) in firsts.iter_mut().zip(w.window()) {
                    *d = s[0];
                }
                got[count] = (index, firsts);
                count += 1;
            }
        }
        assert_eq!(count as u64, windows_in(n as u64, len, hop));
        got
    }

    #[test]
    fn windows_start_at_multiples_of_the_hop() {
        let got = run(4, 2, 9);
        assert_eq!(got[0], (0, [0, 1, 2, 3, 0, 0, 0, 0]));
        assert_eq!(got[1], (1, [2, 3, 4, 5, 0, 0, 0, 0]));
        assert_eq!(got[2], (2, [4, 5, 6, 7, 0, 0, 0, 0]));
        assert_eq!(got[3].0, u32::MAX, "8 is not the end of a window");
    }

    #[test]
    fn hops_longer_than_the_window_skip_samples() {
        let got = run(2, 3, 9);
        assert_eq!(got[0], (0, [0, 1, 0, 0, 0, 0, 0, 0]));
        assert_eq!(got[1], (1, [3, 4, 0, 0, 0, 0, 0, 0]));
        assert_eq!(got[2], (2, [6, 7, 0, 0, 0, 0, 0, 0]));
    }

    #[test]
    fn a_reset_starts_a_new_segment() {
        let mut w = Windower::<8>::new(3, 3).unwrap();
        assert_eq!(w.push(sample(1)), None);
        assert_eq!(w.push(sample(2)), None);
        w.reset();
        assert_eq!(w.push(sample(10)), None);
        assert_eq!(w.push(sample(11)), None);
        assert_eq!(w.push(sample(12)), Some(0));
        let firsts: [i16; 3] = core::array::from_fn(|i| w.window().nth(i).unwrap()[0]);
        assert_eq!(firsts, [10, 11, 12]);
    }

    #[test]
    fn a_new_geometry_starts_a_new_segment_and_a_bad_one_changes_nothing() {
        let mut w = Windower::<8, [i8; 2]>::filled(2, 2, [0; 2]).unwrap();
        assert_eq!(w.push([1, 1]), None);
        assert_eq!(
            w.set_geometry(9, 1),
            Err(WindowError::Length {
                len: 9,
                capacity: 8
            })
        );
        assert_eq!((w.len(), w.hop(), w.pushed()), (2, 2, 1));
        assert_eq!(w.set_geometry(3, 1), Ok(()));
        assert_eq!((w.len(), w.hop(), w.pushed()), (3, 1, 0));
        assert_eq!(w.push([1, 1]), None);
        assert_eq!(w.push([2, 2]), None);
        assert_eq!(w.push([3, 3]), Some(0));
        let window: [[i8; 2]; 3] = core::array::from_fn(|i| *w.window().nth(i).unwrap());
        assert_eq!(window, [[1, 1], [2, 2], [3, 3]]);
        assert_eq!(w.push([4, 4]), Some(1));
    }

    #[test]
    fn geometry_is_checked() {
        assert_eq!(
            Windower::<8>::new(9, 1).unwrap_err(),
            WindowError::Length {
                len: 9,
                capacity: 8
            }
        );
        assert_eq!(
            Windower::<8>::new(0, 1).unwrap_err(),
            WindowError::Length {
                len: 0,
                capacity: 8
            }
        );
        assert_eq!(Windower::<8>::new(4, 0).unwrap_err(), WindowError::Hop);
        assert_eq!(window_start(3, 30), 90);
        assert_eq!(windows_in(59, 60, 30), 0);
        assert_eq!(windows_in(60, 60, 30), 1);
        assert_eq!(windows_in(119, 60, 30), 2);
    }
}
