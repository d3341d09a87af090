//! Recordings loaded once per run: the preflight's checks (subjects, every line of the
//! selected files) and each workload built from the same selection share one load.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use crate::datasets::{self, DatasetError, DatasetKind, LoadOptions, Loaded, NoProgress};

type Key = (DatasetKind, PathBuf, LoadOptions);

/// Loaded recordings by (format, root, options), shared by the checks and the replay of one
/// run. [`RecordingCache::clear`] frees them once every workload is built.
#[derive(Default)]
pub struct RecordingCache {
    loaded: Mutex<HashMap<Key, Arc<Loaded>>>,
}

impl RecordingCache {
    /// The recordings of `root` in `kind`'s format with `options`, loaded on first use.
    pub fn load(
        &self,
        kind: DatasetKind,
        root: &Path,
        options: &LoadOptions,
    ) -> Result<Arc<Loaded>, DatasetError> {
        // Held while loading: two workloads of one selection never load it twice.
        let mut loaded = self.loaded.lock().unwrap_or_else(PoisonError::into_inner);
        let key = (kind, root.to_path_buf(), options.clone());
        if let Some(hit) = loaded.get(&key) {
            return Ok(Arc::clone(hit));
        }
        let fresh = Arc::new(datasets::load(kind, root, options, &NoProgress)?);
        loaded.insert(key, Arc::clone(&fresh));
        Ok(fresh)
    }

    /// Forgets every load (the workloads keep what they cut from them).
    pub fn clear(&self) {
        self.loaded
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    /// How many distinct loads are held.
    pub fn len(&self) -> usize {
        self.loaded
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl std::fmt::Debug for RecordingCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordingCache")
            .field("loads", &self.len())
            .finish()
    }
}
