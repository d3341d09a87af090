//! Why a study cannot run.

/// Why a study cannot run; each names what it was working on.
#[derive(Debug, thiserror::Error)]
pub enum StudyError {
    /// A dataset has too few subjects (split units) for the split's parts.
    #[error("{dataset}: {subjects} subjects, the split needs at least {needed}")]
    TooFewSubjects {
        /// The dataset.
        dataset: String,
        /// Subjects it has.
        subjects: usize,
        /// Subjects the split needs.
        needed: usize,
    },
}
