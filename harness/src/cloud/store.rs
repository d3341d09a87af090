//! The cloud's state on disk, for `harbor cloud serve --state DIR` (docs/cloud.md):
//!
//! ```text
//! DIR/state.json                  users, devices, tokens, jobs, releases (format 1)
//! DIR/samples/<device>/<n>.bin    one file per accepted upload
//! DIR/artifacts/<id>.bin          release images
//! DIR/lock                        held (flock) by the process that owns DIR
//! ```
//!
//! Every file is written to a temp file, synced, then renamed over its name: a reader (or
//! a restart after a crash) sees the old file or the new one, never half of one. Samples
//! are one file per upload so an upload costs its own size, not the device's history.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::registry::{Registry, valid_name, valid_opaque_id};
use super::samples::{InputContract, LabelledWindow};
use super::state::Job;

/// The `format` of `state.json` this harbor reads and writes.
pub const STATE_FORMAT: u32 = 1;
const STATE_FILE: &str = "state.json";
const LOCK_FILE: &str = "lock";
const SAMPLE_MAGIC: &[u8; 8] = b"HBSAMP01";
const SAMPLE_HEADER: usize = 8 + 2 + 1 + 4;

/// Why the state directory could not be used.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// Another process (a running `harbor cloud serve`) holds the directory.
    #[error(
        "{dir} is in use by another harbor cloud process{holder} (it holds {dir}/lock); stop it first"
    )]
    Locked {
        /// The state directory.
        dir: PathBuf,
        /// ` (pid N)` when the holder wrote its pid.
        holder: String,
    },
    /// A state file is not what harbor wrote.
    #[error("corrupt cloud state file {path}: {message}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// `state.json` was written by another format version.
    #[error("{path}: state format {found}, this harbor reads format {STATE_FORMAT}")]
    Format {
        /// The file.
        path: PathBuf,
        /// The format it says.
        found: u32,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// A release as `state.json` keeps it: the signed manifest in hex.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StoredRelease {
    /// Release id.
    pub id: String,
    /// Device it is for.
    pub device: String,
    /// The 164-byte signed manifest, hex.
    pub manifest: String,
    /// Artifact id (`artifacts/<id>.bin`).
    pub artifact: String,
}

/// Everything in `state.json`.
#[derive(Debug, Serialize, Deserialize)]
pub struct Meta {
    /// [`STATE_FORMAT`].
    pub format: u32,
    /// Seeds ids and tokens (drawn at random when the directory is created by the CLI).
    pub seed: u64,
    /// Ids handed out so far (ids count up from it).
    pub ids: u64,
    /// Users, devices, tokens.
    pub registry: Registry,
    /// Personalization jobs.
    pub jobs: BTreeMap<String, Job>,
    /// Published releases, oldest first.
    pub releases: Vec<StoredRelease>,
}

/// `state.json` as written from borrowed parts (no copy of the registry per write).
#[derive(Serialize)]
pub struct MetaRef<'a> {
    /// [`STATE_FORMAT`].
    pub format: u32,
    /// See [`Meta::seed`].
    pub seed: u64,
    /// See [`Meta::ids`].
    pub ids: u64,
    /// See [`Meta::registry`].
    pub registry: &'a Registry,
    /// See [`Meta::jobs`].
    pub jobs: &'a BTreeMap<String, Job>,
    /// See [`Meta::releases`].
    pub releases: Vec<StoredRelease>,
}

/// An open state directory; holds its lock until dropped.
#[derive(Debug)]
pub struct Store {
    dir: PathBuf,
    _lock: File,
}

/// Writes `bytes` to `path` atomically: temp file, sync, rename. Owner-only permissions
/// (the state holds bearer tokens).
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp"));
    let write = || -> std::io::Result<()> {
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_data()?;
        fs::rename(&tmp, path)
    };
    write().map_err(|e| {
        let _ = fs::remove_file(&tmp);
        io(path)(e)
    })
}

impl Store {
    /// Opens (creating if needed) `dir` and takes its lock; `seed` seeds a new state.
    /// Refuses a directory another process holds.
    pub fn open(dir: &Path, seed: u64) -> Result<(Store, Meta), StoreError> {
        for sub in ["", "samples", "artifacts"] {
            let d = dir.join(sub);
            fs::create_dir_all(&d).map_err(io(&d))?;
        }
        let lock_path = dir.join(LOCK_FILE);
        let mut lock = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&lock_path)
            .map_err(io(&lock_path))?;
        // SAFETY: flock on a descriptor we own; released when the file is closed, also
        // when the process is killed.
        if unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
            let holder = fs::read_to_string(&lock_path)
                .ok()
                .and_then(|s| s.trim().parse::<u32>().ok())
                .map(|pid| format!(" (pid {pid})"))
                .unwrap_or_default();
            return Err(StoreError::Locked {
                dir: dir.to_path_buf(),
                holder,
            });
        }
        lock.set_len(0)
            .and_then(|()| write!(lock, "{}", std::process::id()))
            .map_err(io(&lock_path))?;
        let store = Store {
            dir: dir.to_path_buf(),
            _lock: lock,
        };
        let meta = match read_meta(dir)? {
            Some(meta) => meta,
            None => {
                let meta = Meta {
                    format: STATE_FORMAT,
                    seed,
                    ids: 0,
                    registry: Registry::new(seed),
                    jobs: BTreeMap::new(),
                    releases: Vec::new(),
                };
                store.save_meta(&MetaRef {
                    format: STATE_FORMAT,
                    seed,
                    ids: 0,
                    registry: &meta.registry,
                    jobs: &meta.jobs,
                    releases: Vec::new(),
                })?;
                meta
            }
        };
        Ok((store, meta))
    }

    /// The state directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Rewrites `state.json`.
    pub fn save_meta(&self, meta: &MetaRef<'_>) -> Result<(), StoreError> {
        let path = self.dir.join(STATE_FILE);
        let bytes = serde_json::to_vec_pretty(meta).map_err(|e| StoreError::Corrupt {
            path: path.clone(),
            message: format!("cannot encode: {e}"),
        })?;
        write_atomically(&path, &bytes)
    }

    /// Stores upload number `seq` of `device`.
    pub fn write_samples(
        &self,
        device: &str,
        seq: u64,
        windows: &[LabelledWindow],
        contract: &InputContract,
    ) -> Result<(), StoreError> {
        let dir = self.dir.join("samples").join(device);
        fs::create_dir_all(&dir).map_err(io(&dir))?;
        let per = contract.window * contract.channels;
        let mut bytes = Vec::with_capacity(SAMPLE_HEADER + windows.len() * (1 + 2 * per));
        bytes.extend_from_slice(SAMPLE_MAGIC);
        bytes.extend_from_slice(&(contract.window as u16).to_le_bytes());
        bytes.push(contract.channels as u8);
        bytes.extend_from_slice(&(windows.len() as u32).to_le_bytes());
        for w in windows {
            bytes.push(w.class as u8);
            for v in &w.samples {
                bytes.extend_from_slice(&v.to_le_bytes());
            }
        }
        write_atomically(&dir.join(format!("{seq:08}.bin")), &bytes)
    }

    /// Every device's stored windows in upload order, and how many uploads each has.
    pub fn load_samples(
        &self,
        contract: &InputContract,
    ) -> Result<BTreeMap<String, (Vec<LabelledWindow>, u64)>, StoreError> {
        let root = self.dir.join("samples");
        let mut out = BTreeMap::new();
        for device_dir in sorted_entries(&root)? {
            let device = file_name(&device_dir);
            if !valid_name(&device) || !device_dir.is_dir() {
                return Err(StoreError::Corrupt {
                    path: device_dir,
                    message: "not a device's sample folder".into(),
                });
            }
            let mut windows = Vec::new();
            let mut uploads = 0u64;
            for file in sorted_entries(&device_dir)? {
                let name = file_name(&file);
                if name.starts_with('.') && name.ends_with(".tmp") {
                    // A write cut short before its rename: never acknowledged.
                    let _ = fs::remove_file(&file);
                    continue;
                }
                let expected = format!("{uploads:08}.bin");
                if name != expected {
                    return Err(StoreError::Corrupt {
                        path: file,
                        message: format!("expected upload file {expected} next"),
                    });
                }
                windows.extend(read_samples(&file, contract)?);
                uploads += 1;
            }
            out.insert(device, (windows, uploads));
        }
        Ok(out)
    }

    /// Stores a release image.
    pub fn write_artifact(&self, id: &str, bytes: &[u8]) -> Result<(), StoreError> {
        write_atomically(&self.artifact_path(id), bytes)
    }

    /// Reads a release image back.
    pub fn read_artifact(&self, id: &str) -> Result<Vec<u8>, StoreError> {
        let path = self.artifact_path(id);
        if !valid_opaque_id(id) {
            return Err(StoreError::Corrupt {
                path,
                message: format!("artifact id `{id}` is not 32 hex digits"),
            });
        }
        fs::read(&path).map_err(io(&path))
    }

    fn artifact_path(&self, id: &str) -> PathBuf {
        self.dir.join("artifacts").join(format!("{id}.bin"))
    }
}

/// Reads `state.json` of `dir` without taking the lock (the file is replaced atomically,
/// so a reader sees one complete version); `None` when there is none yet.
pub fn read_meta(dir: &Path) -> Result<Option<Meta>, StoreError> {
    let path = dir.join(STATE_FILE);
    let bytes = match fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(&path)(e)),
    };
    let corrupt = |message: String| StoreError::Corrupt {
        path: path.clone(),
        message,
    };
    let value: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| corrupt(format!("not JSON: {e}")))?;
    let found = value
        .get("format")
        .and_then(serde_json::Value::as_u64)
        .ok_or_else(|| corrupt("no `format` number".into()))?;
    if found != u64::from(STATE_FORMAT) {
        return Err(StoreError::Format {
            path,
            found: u32::try_from(found).unwrap_or(u32::MAX),
        });
    }
    let meta: Meta = serde_json::from_value(value).map_err(|e| corrupt(e.to_string()))?;
    Ok(Some(meta))
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>, StoreError> {
    let mut paths = fs::read_dir(dir)
        .map_err(io(dir))?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(io(dir))?;
    paths.sort();
    Ok(paths)
}

fn read_samples(path: &Path, contract: &InputContract) -> Result<Vec<LabelledWindow>, StoreError> {
    let bytes = fs::read(path).map_err(io(path))?;
    let corrupt = |message: String| StoreError::Corrupt {
        path: path.to_path_buf(),
        message,
    };
    if bytes.len() < SAMPLE_HEADER || &bytes[..8] != SAMPLE_MAGIC {
        return Err(corrupt("not a harbor sample file (bad magic)".into()));
    }
    let window = usize::from(u16::from_le_bytes([bytes[8], bytes[9]]));
    let channels = usize::from(bytes[10]);
    let count = u32::from_le_bytes([bytes[11], bytes[12], bytes[13], bytes[14]]) as usize;
    if window != contract.window || channels != contract.channels {
        return Err(corrupt(format!(
            "windows of {window}x{channels}, the model takes {}x{}",
            contract.window, contract.channels
        )));
    }
    let per = window * channels;
    let want = SAMPLE_HEADER + count * (1 + 2 * per);
    if bytes.len() != want {
        return Err(corrupt(format!(
            "{} bytes, {count} windows need {want}",
            bytes.len()
        )));
    }
    let mut windows = Vec::with_capacity(count);
    for (i, rec) in bytes[SAMPLE_HEADER..].chunks_exact(1 + 2 * per).enumerate() {
        let class = usize::from(rec[0]);
        if class >= contract.classes.len() {
            return Err(corrupt(format!(
                "window {i}: class {class}, the model has {}",
                contract.classes.len()
            )));
        }
        let samples = rec[1..]
            .chunks_exact(2)
            .map(|b| i16::from_le_bytes([b[0], b[1]]))
            .collect();
        windows.push(LabelledWindow { class, samples });
    }
    Ok(windows)
}
