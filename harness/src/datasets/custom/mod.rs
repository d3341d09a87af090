//! A CSV-like dataset described by a YAML spec (`docs/custom-datasets.md`): the spec names the
//! files, columns, units, axis map, labels and subjects, so no code is needed per dataset.
//!
//! The loader root is the spec file; globs are relative to its folder.

mod read;
pub mod spec;

use std::path::{Path, PathBuf};

use super::{DatasetError, LoadOptions, Loaded, Progress, text};

pub use spec::{Resolved, parse};

/// Loads the dataset the spec file `root` describes.
pub fn load(
    root: &Path,
    opts: &LoadOptions,
    progress: &dyn Progress,
) -> Result<Loaded, DatasetError> {
    let yaml = std::fs::read_to_string(root).map_err(|e| DatasetError::io(root, e))?;
    let spec = parse(root, &yaml)?;
    let base = root.parent().unwrap_or(Path::new("."));
    let files = find_files(root, base, &spec.globs)?;
    progress.start(text::total_size(files.iter().map(PathBuf::as_path)));
    let mut loaded = Loaded::default();
    for file in &files {
        let bytes = text::read_file(file, progress)?;
        loaded.bytes_read += bytes.len() as u64;
        let rel = relative_slash_path(base, file);
        read::read_file(&spec, file, &rel, &bytes, opts, &mut loaded)?;
    }
    Ok(loaded)
}

/// Expands the globs under `base`; a glob that matches no file is an error (a typo, usually).
fn find_files(
    spec_path: &Path,
    base: &Path,
    globs: &[String],
) -> Result<Vec<PathBuf>, DatasetError> {
    let base_text = base.to_str().ok_or_else(|| {
        DatasetError::invalid(
            spec_path,
            "the spec's folder path is not UTF-8, so globs cannot be built",
        )
    })?;
    let prefix = if base_text.is_empty() {
        String::new()
    } else {
        format!("{}/", glob::Pattern::escape(base_text))
    };
    let mut files = Vec::new();
    for g in globs {
        let pattern = format!("{prefix}{g}");
        let paths = glob::glob(&pattern)
            .map_err(|e| DatasetError::invalid(spec_path, format!("files: bad glob `{g}`: {e}")))?;
        let before = files.len();
        for entry in paths {
            let path = entry
                .map_err(|e| DatasetError::io(e.path(), std::io::Error::other(e.to_string())))?;
            if path.is_file() {
                files.push(path);
            }
        }
        if files.len() == before {
            return Err(DatasetError::Empty {
                root: spec_path.to_path_buf(),
                what: format!("file matching `{g}`"),
                expected: format!("files under {}", base.display()),
            });
        }
    }
    files.sort();
    files.dedup();
    Ok(files)
}

/// The path of `file` relative to `base` with `/` separators: what `from_path` regexes see.
fn relative_slash_path(base: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(base).unwrap_or(file);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}
