//! Loader placeholder: being written (see the datasets issue).

use std::path::Path;

use super::{DatasetError, LoadOptions, Loaded, Progress};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Device {
    Watch,
    Phone,
}

pub fn load(root: &Path, _device: Device, _opts: &LoadOptions, _progress: &dyn Progress) -> Result<Loaded, DatasetError> {
    Err(DatasetError::invalid(root, "this loader is not implemented yet"))
}
