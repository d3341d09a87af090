//! The one way a model directory is loaded: its card, then `model.tflite` checked against the
//! card (size, SHA-256) and against its classes (output count), so a flipped weight byte or
//! another model's file never runs as if it were the carded model.

use std::path::{Path, PathBuf};

use super::card::{CardError, FileInfo, ModelCard, sha256_hex};
use super::host::{HostModel, ModelError};
use super::saved::{CARD_FILE, MODEL_FILE};

/// Why a model directory does not hold the model its card describes; names both values.
#[derive(Debug, thiserror::Error)]
pub enum IntegrityError {
    /// The card cannot be read.
    #[error(transparent)]
    Card(#[from] CardError),
    /// The model file cannot be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The model file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file's size is not the card's.
    #[error("{}: {file} bytes, but its card says {card} bytes ({field}.bytes): not the model the card describes", path.display())]
    Size {
        /// The model file.
        path: PathBuf,
        /// The card's entry for it (`file`, or `float_file` for the float reference).
        field: &'static str,
        /// `file.bytes` in the card.
        card: u64,
        /// The file's size.
        file: u64,
    },
    /// The file's SHA-256 is not the card's.
    #[error("{}: SHA-256 {file}, but its card says {card} ({field}.sha256): the file was changed or replaced", path.display())]
    Sha256 {
        /// The model file.
        path: PathBuf,
        /// The card's entry for it (`file`, or `float_file` for the float reference).
        field: &'static str,
        /// `file.sha256` in the card.
        card: String,
        /// The file's hash.
        file: String,
    },
    /// harbor-core refuses the model.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// The model's output count is not the card's class count.
    #[error("{}: the output tensor has {outputs} values, but its card lists {classes} classes", path.display())]
    Classes {
        /// The model file.
        path: PathBuf,
        /// Classes in the card.
        classes: usize,
        /// Output values of the model.
        outputs: usize,
    },
}

/// A model directory whose file matches its card.
pub struct CheckedModel {
    /// The model directory.
    pub dir: PathBuf,
    /// Its card.
    pub card: ModelCard,
    /// The int8 model, validated by harbor-core.
    pub host: HostModel,
}

/// Loads `dir`'s card and model file and checks one against the other: size, SHA-256,
/// harbor-core's validation, output count vs classes.
pub fn load_checked(dir: &Path) -> Result<CheckedModel, IntegrityError> {
    let card = ModelCard::load(&dir.join(CARD_FILE))?;
    let name = if card.file.name.is_empty() {
        MODEL_FILE
    } else {
        card.file.name.as_str()
    };
    let path = dir.join(name);
    let bytes = std::fs::read(&path).map_err(|source| IntegrityError::Io {
        path: path.clone(),
        source,
    })?;
    check_bytes(&card, &path, &bytes)?;
    let host = HostModel::from_bytes(&path, bytes)?;
    check_classes(&card, &path, &host)?;
    Ok(CheckedModel {
        dir: dir.to_path_buf(),
        card,
        host,
    })
}

/// The file's size and SHA-256 against the card's.
pub fn check_bytes(card: &ModelCard, path: &Path, bytes: &[u8]) -> Result<(), IntegrityError> {
    check_file(&card.file, "file", path, bytes)
}

/// A file's size and SHA-256 against the card entry `field` (`info`).
pub fn check_file(
    info: &FileInfo,
    field: &'static str,
    path: &Path,
    bytes: &[u8],
) -> Result<(), IntegrityError> {
    let size = bytes.len() as u64;
    if size != info.bytes {
        return Err(IntegrityError::Size {
            path: path.to_path_buf(),
            field,
            card: info.bytes,
            file: size,
        });
    }
    let hash = sha256_hex(bytes);
    if !hash.eq_ignore_ascii_case(&info.sha256) {
        return Err(IntegrityError::Sha256 {
            path: path.to_path_buf(),
            field,
            card: info.sha256.clone(),
            file: hash,
        });
    }
    Ok(())
}

/// The model's output count against the card's classes.
pub fn check_classes(
    card: &ModelCard,
    path: &Path,
    host: &HostModel,
) -> Result<(), IntegrityError> {
    let outputs = host.output().len();
    if outputs != card.classes.len() {
        return Err(IntegrityError::Classes {
            path: path.to_path_buf(),
            classes: card.classes.len(),
            outputs,
        });
    }
    Ok(())
}

/// A model directory (checked as [`load_checked`] does) or a bare `.tflite` (no card).
pub fn load_model(path: &Path) -> Result<(HostModel, Option<ModelCard>), IntegrityError> {
    if path.is_dir() {
        let checked = load_checked(path)?;
        Ok((checked.host, Some(checked.card)))
    } else {
        Ok((HostModel::load(path)?, None))
    }
}
