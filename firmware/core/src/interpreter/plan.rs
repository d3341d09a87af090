//! Arena planning: tensor lifetimes plus greedy first-fit placement (largest first), the
//! same idea as TFLM's `GreedyMemoryPlanner`. Tensors whose lifetimes do not overlap share
//! bytes; views (RESHAPE, EXPAND_DIMS, SQUEEZE) alias their input instead of copying it.

/// One tensor to place: live over `first..=last` operator steps, `len` bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Buffer {
    /// First step at which the bytes must be valid (0 for graph inputs).
    pub first: usize,
    /// Last step that reads them (`usize::MAX` for graph outputs).
    pub last: usize,
    /// Size in bytes; 0 means "not placed" (constants, aliases, unused tensors).
    pub len: usize,
}

impl Buffer {
    fn overlaps_in_time(&self, other: &Buffer) -> bool {
        self.first <= other.last && other.first <= self.last
    }
}

/// Places every buffer with `len > 0` (at most `N`), writing their offsets into `offsets`;
/// returns the total bytes needed.
pub fn place<const N: usize>(buffers: &[Buffer], offsets: &mut [usize; N]) -> usize {
    let n = buffers.len().min(N);
    let mut order = [0usize; N];
    for (i, slot) in order.iter_mut().enumerate().take(n) {
        *slot = i;
    }
    // Largest first (ties by index, so the plan is deterministic); insertion sort, no heap.
    for i in 1..n {
        let mut j = i;
        while j > 0 && buffers[order[j]].len > buffers[order[j - 1]].len {
            order.swap(j, j - 1);
            j -= 1;
        }
    }
    *offsets = [0; N];
    let mut placed = [false; N];
    let mut total = 0;
    for &i in order.iter().take(n) {
        let b = buffers[i];
        if b.len == 0 {
            continue;
        }
        // Candidate offsets: 0 and the end of every placed, time-overlapping buffer.
        let conflicts = |offset: usize| {
            (0..n).any(|k| {
                placed[k]
                    && buffers[k].overlaps_in_time(&b)
                    && offset < offsets[k] + buffers[k].len
                    && offsets[k] < offset + b.len
            })
        };
        let mut best = usize::MAX;
        if !conflicts(0) {
            best = 0;
        }
        for k in 0..n {
            if placed[k] && buffers[k].overlaps_in_time(&b) {
                let candidate = offsets[k] + buffers[k].len;
                if candidate < best && !conflicts(candidate) {
                    best = candidate;
                }
            }
        }
        offsets[i] = best;
        placed[i] = true;
        total = total.max(best + b.len);
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disjoint_lifetimes_share_bytes_and_overlapping_ones_do_not() {
        let buffers = [
            Buffer {
                first: 0,
                last: 1,
                len: 100,
            },
            Buffer {
                first: 1,
                last: 2,
                len: 50,
            },
            Buffer {
                first: 2,
                last: 3,
                len: 100,
            },
        ];
        let mut offsets = [0; 3];
        let total = place(&buffers, &mut offsets);
        // 0 and 2 never live together: same bytes. 1 overlaps both: beside them.
        assert_eq!(offsets[0], offsets[2]);
        assert_eq!(total, 150);
        assert!(offsets[1] >= 100 || offsets[1] + 50 <= offsets[0]);
    }
}
