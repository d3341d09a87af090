//! On-device metrics per replay cell: classification scores, agreement with the host
//! references, and instruction statistics.
//!
//! The confusion matrix, accuracy and macro-F1 are [`crate::model::confusion::Confusion`]
//! (one implementation for training and replay); this module adds what only replay needs.

mod agreement;
mod instructions;

pub use crate::model::confusion::{ClassScore, Confusion};
pub use agreement::{Int8Mismatch, agreement_float, int8_agreement};
pub use instructions::InstructionStats;

#[cfg(test)]
mod tests;
