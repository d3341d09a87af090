//! Instructions per inference as the firmware counted them (`minstret` under QEMU's icount).

use serde::{Deserialize, Serialize};

/// Minimum, median and maximum over a cell's inferences.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstructionStats {
    /// The fewest instructions of any inference.
    pub min: u64,
    /// The lower median (element `(n-1)/2` of the sorted counts): always a count that
    /// actually occurred, so it stays an integer.
    pub median: u64,
    /// The most instructions of any inference.
    pub max: u64,
}

impl InstructionStats {
    /// `None` for no inferences.
    pub fn of(counts: impl IntoIterator<Item = u64>) -> Option<Self> {
        let mut sorted: Vec<u64> = counts.into_iter().collect();
        if sorted.is_empty() {
            return None;
        }
        sorted.sort_unstable();
        Some(InstructionStats {
            min: sorted[0],
            median: sorted[(sorted.len() - 1) / 2],
            max: sorted[sorted.len() - 1],
        })
    }
}
