//! Why preparing model windows failed. Variants name the recording (and its first source
//! file) or the setting at fault.

use std::path::PathBuf;

/// Why a signal-chain step could not run.
#[derive(Debug, thiserror::Error)]
pub enum SignalError {
    /// A setting is out of range (rates, fractions, window length...).
    #[error("invalid {setting}: {reason}")]
    Config {
        /// The setting's name.
        setting: &'static str,
        /// Why its value is refused.
        reason: String,
    },
    /// A recording broke the canonical invariants.
    #[error("{}: recording {dataset}/{subject}/{session}: {reason}", source_file.display())]
    Recording {
        /// First file the recording was read from.
        source_file: PathBuf,
        /// Dataset name.
        dataset: String,
        /// Subject id.
        subject: String,
        /// Session id.
        session: String,
        /// Which invariant it broke.
        reason: String,
    },
    /// A split cannot be made from the subjects at hand.
    #[error("split: {0}")]
    Split(String),
}

impl SignalError {
    /// An out-of-range setting.
    pub fn config(setting: &'static str, reason: impl Into<String>) -> Self {
        SignalError::Config {
            setting,
            reason: reason.into(),
        }
    }

    /// A recording that broke an invariant.
    pub fn recording(rec: &crate::datasets::Recording, reason: impl Into<String>) -> Self {
        SignalError::Recording {
            source_file: rec
                .sources
                .first()
                .cloned()
                .unwrap_or_else(|| PathBuf::from("<no source file>")),
            dataset: rec.dataset.clone(),
            subject: rec.subject.clone(),
            session: rec.session.clone(),
            reason: reason.into(),
        }
    }
}
