//! Everything harbor measures about a replay cell, computed in one place: classification
//! scores, agreement with the host references, instruction statistics, footprint and energy,
//! the cell's result row and its threshold checks.
//!
//! [`METRICS`] is the one table of metric names: thresholds, baseline comparisons and the
//! report writers (`crate::report`, which only formats) read metrics through it.
//!
//! The confusion matrix, accuracy and macro-F1 are [`crate::model::confusion::Confusion`]
//! (one implementation for training and replay).

mod agreement;
mod cell;
mod check;
pub mod energy;
pub mod footprint;
mod instructions;
mod outcome;
mod table;
mod tolerance;

pub use crate::model::confusion::{ClassScore, Confusion};
pub use agreement::{
    FloatOutputCheck, Int8Mismatch, agreement_float, float_output_agreement, int8_agreement,
};
pub use cell::{CellContext, CellResult, ScoredWindows, Status};
pub use check::{CheckResult, CompareOp};
pub use energy::EnergyEstimate;
pub use footprint::{ElfSizes, Footprint, FootprintError};
pub use instructions::InstructionStats;
pub use outcome::{CellOutcome, ShardFailure};
pub use table::{
    ACCURACY, Better, ENERGY_UJ, FLASH_BYTES, FLOAT_ACCURACY, HOST_INT8_ACCURACY, METRICS, Metric,
    RAM_BYTES, STATUS_OK, Unit, UnknownMetric, compared, format_value, metric, names,
};
pub use tolerance::{Tolerance, ToleranceError};

#[cfg(test)]
mod tests;
