//! Loader placeholder: being written (see the datasets issue).

use std::path::Path;

use super::{DatasetError, LoadOptions, Loaded, Progress};

pub fn load(root: &Path, _opts: &LoadOptions, _progress: &dyn Progress) -> Result<Loaded, DatasetError> {
    Err(DatasetError::invalid(root, "this loader is not implemented yet"))
}
