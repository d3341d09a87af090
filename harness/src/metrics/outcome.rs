//! What the device produced for one cell: the input metrics are computed from.

use std::ops::Range;

use serde::{Deserialize, Serialize};

use crate::dut::{DeviceInfo, Inference};

/// A named failure of part of a cell.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardFailure {
    /// `hang`, `trap`, `exited`, `garbage`, … ([`crate::dut::TargetError::kind`]) or
    /// `unsupported`.
    pub kind: String,
    /// The full error.
    pub message: String,
    /// What the device was doing: `launching`, `loading the model` or `inferring`.
    pub during: String,
    /// The window being processed when it failed, if any.
    pub window: Option<usize>,
    /// Windows without a result because of this failure: `first..end`.
    pub windows_lost: Range<usize>,
}

/// Everything a cell produced.
#[derive(Clone, Debug, Default)]
pub struct CellOutcome {
    /// One slot per window; `None` where a failure left it without a result.
    pub inferences: Vec<Option<Inference>>,
    /// Named failures, one per failed shard.
    pub failures: Vec<ShardFailure>,
    /// The firmware's self-description (from the first shard that got one).
    pub device: Option<DeviceInfo>,
    /// Stream mode: windows the device inferred that have no host label (impure,
    /// unlabelled, or an activity outside the model's classes).
    pub unscored_windows: u64,
}

impl CellOutcome {
    /// Windows with a device result.
    pub fn completed(&self) -> usize {
        self.inferences.iter().filter(|i| i.is_some()).count()
    }
}
