//! `harbor datasets fetch`: puts the public datasets harbor reads under a destination folder,
//! from a mirror (a folder or an HTTP(S) URL holding the archives of [`registry`]) or from
//! their publishers.
//!
//! Downloads go to `<dest>/.downloads/<file>.part` and resume with `Range` after an
//! interruption; an archive is used only once its sha256 matches, and is unpacked into a
//! temporary folder first, so a failure never leaves a half-unpacked dataset behind.

mod download;
pub mod registry;
mod unpack;

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

pub use download::download;
pub use registry::{Entry, Part, REGISTRY, Step};

use super::Progress;

/// Where archives come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// A folder holding the mirror's archives.
    MirrorDir(PathBuf),
    /// An HTTP(S) URL under which the mirror's archives are served by file name.
    MirrorUrl(String),
    /// The publishers' own downloads; `base_url` replaces each URL's scheme and host (a
    /// mirror of the publishers' sites, or a test server).
    Publisher {
        /// `http(s)://host[:port][/prefix]`, or `None` for the publishers themselves.
        base_url: Option<String>,
    },
}

/// Why a dataset could not be fetched.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// A name the registry does not have.
    #[error("unknown dataset `{name}` (known: {})", known.join(", "))]
    UnknownName {
        /// The name asked for.
        name: String,
        /// The registry's names.
        known: Vec<&'static str>,
    },
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The server could not be reached, or the transfer broke off.
    #[error("{url}: {reason}")]
    Transfer {
        /// The URL.
        url: String,
        /// What happened.
        reason: String,
    },
    /// The server answered with an error status.
    #[error("{url}: HTTP {status}")]
    Status {
        /// The URL.
        url: String,
        /// The status code.
        status: u16,
    },
    /// A file's content is not the registered one.
    #[error(
        "{}: sha256 {actual}, expected {expected} ({size} bytes): the file is corrupt or not the published one; it was removed, fetch again",
        path.display()
    )]
    Checksum {
        /// The file (removed).
        path: PathBuf,
        /// The registered sha256.
        expected: String,
        /// What the file hashed to.
        actual: String,
        /// Its size.
        size: u64,
    },
    /// A tool harbor runs to unpack is not installed.
    #[error("`{tool}` is needed to unpack {}: install it ({install})", archive.display())]
    MissingTool {
        /// The program.
        tool: &'static str,
        /// How to install it.
        install: &'static str,
        /// The archive.
        archive: PathBuf,
    },
    /// A publisher's archive is not laid out as the registry describes.
    #[error(
        "{}: the publisher's archive no longer has the layout harbor knows: `{expected}` is missing (found at the top: {}); unpack it by hand into the folder the loader reads (docs/datasets.md)",
        archive.display(),
        found.join(", ")
    )]
    Layout {
        /// The archive.
        archive: PathBuf,
        /// The path that should be there.
        expected: String,
        /// What the archive's top level holds instead.
        found: Vec<String>,
    },
    /// Unpacking failed.
    #[error("unpacking {} failed: {reason}", archive.display())]
    Unpack {
        /// The archive.
        archive: PathBuf,
        /// What went wrong.
        reason: String,
    },
}

impl FetchError {
    fn io(path: &Path, source: std::io::Error) -> Self {
        FetchError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// The mirror found without being asked: `$HARBOR_DATA_MIRROR`, else a `shared/datasets`
/// folder beside the repository, if it exists.
pub fn default_mirror() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("HARBOR_DATA_MIRROR") {
        return Some(PathBuf::from(dir));
    }
    let beside = super::workspace_root()
        .parent()?
        .join("shared")
        .join("datasets");
    beside.is_dir().then_some(beside)
}

/// A `--mirror` argument: a URL if it has a scheme, else a folder.
pub fn mirror_source(arg: &str) -> Source {
    if arg.starts_with("http://") || arg.starts_with("https://") {
        Source::MirrorUrl(arg.trim_end_matches('/').to_string())
    } else {
        Source::MirrorDir(PathBuf::from(arg))
    }
}

/// What fetching one dataset did.
#[derive(Debug)]
pub struct Fetched {
    /// The dataset's folder under the destination.
    pub folder: PathBuf,
    /// Whether it was already there and checked (nothing downloaded or unpacked).
    pub already_there: bool,
}

/// Fetches `entry` into `dest` from `source`; `progress` counts bytes transferred.
pub fn fetch(
    entry: &Entry,
    source: &Source,
    dest: &Path,
    progress: &dyn Progress,
) -> Result<Fetched, FetchError> {
    std::fs::create_dir_all(dest).map_err(|e| FetchError::io(dest, e))?;
    let downloads = dest.join(".downloads");
    std::fs::create_dir_all(&downloads).map_err(|e| FetchError::io(&downloads, e))?;
    let folder = dest.join(entry.folder);
    match source {
        Source::Publisher { base_url } => {
            let url = publisher_url(entry, base_url.as_deref());
            let name = url
                .rsplit('/')
                .next()
                .unwrap_or("download")
                .replace('+', "_");
            let file = downloads.join(&name);
            if !file.is_file() {
                download(&url, &file, None, progress)?;
            }
            unpack::publisher_archive(&file, &folder, entry.publisher_layout, entry.loader_reads)?;
            Ok(Fetched {
                folder,
                already_there: false,
            })
        }
        Source::MirrorDir(_) | Source::MirrorUrl(_) => {
            let stamp = dest.join(format!(".{}.fetched", archive_name(entry.mirror)));
            let joined = joined_sha256(entry.mirror);
            if folder.is_dir() && std::fs::read_to_string(&stamp).is_ok_and(|s| s.trim() == joined)
            {
                return Ok(Fetched {
                    folder,
                    already_there: true,
                });
            }
            let mut files = Vec::with_capacity(entry.mirror.len());
            for part in entry.mirror {
                files.push(get_part(part, source, &downloads, progress)?);
            }
            unpack::tar_zst(&files, dest)?;
            std::fs::write(&stamp, format!("{joined}\n")).map_err(|e| FetchError::io(&stamp, e))?;
            for f in &files {
                // The unpacked data is what stays; the archives are not kept twice.
                if matches!(source, Source::MirrorUrl(_)) {
                    let _ = std::fs::remove_file(f);
                }
            }
            Ok(Fetched {
                folder,
                already_there: false,
            })
        }
    }
}

/// The publisher's URL of `entry`, with scheme and host replaced by `base_url` if given.
pub fn publisher_url(entry: &Entry, base_url: Option<&str>) -> String {
    let Some(base) = base_url else {
        return entry.publisher_url.to_string();
    };
    let after_scheme = entry
        .publisher_url
        .split_once("://")
        .map_or(entry.publisher_url, |(_, rest)| rest);
    let path = after_scheme.find('/').map_or("", |i| &after_scheme[i..]);
    format!("{}{path}", base.trim_end_matches('/'))
}

/// `hapt` for `hapt.tar.zst`, `wisdm2019-watch` for its `.part00`, `.part01`.
fn archive_name(parts: &[Part]) -> &'static str {
    parts.first().map_or("archive", |p| {
        p.file.split(".tar.zst").next().unwrap_or(p.file)
    })
}

/// The sha256 of the parts joined, as the stamp of an unpacked archive.
fn joined_sha256(parts: &[Part]) -> String {
    // The stamp names the parts' own hashes: enough to tell one archive version from another.
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.sha256.as_bytes());
    }
    hex(&h.finalize())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A part of a mirror archive, checked: taken from the mirror folder where it lies, or
/// downloaded (resuming) into `downloads`.
fn get_part(
    part: &Part,
    source: &Source,
    downloads: &Path,
    progress: &dyn Progress,
) -> Result<PathBuf, FetchError> {
    match source {
        Source::MirrorDir(dir) => {
            let path = dir.join(part.file);
            check_file(&path, part, false)?;
            progress.advance(part.size);
            Ok(path)
        }
        Source::MirrorUrl(base) => {
            let path = downloads.join(part.file);
            if path.is_file() && check_file(&path, part, false).is_ok() {
                return Ok(path);
            }
            let url = format!("{base}/{}", part.file);
            download(&url, &path, Some(part.size), progress)?;
            check_file(&path, part, true)?;
            Ok(path)
        }
        Source::Publisher { .. } => unreachable!("publisher downloads are not mirror parts"),
    }
}

/// Checks size and sha256 of `path` against `part`; a mismatching download is removed.
fn check_file(path: &Path, part: &Part, remove_if_bad: bool) -> Result<(), FetchError> {
    let actual = sha256_file(path)?;
    if actual == part.sha256 {
        return Ok(());
    }
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    if remove_if_bad {
        std::fs::remove_file(path).map_err(|e| FetchError::io(path, e))?;
    }
    Err(FetchError::Checksum {
        path: path.to_path_buf(),
        expected: part.sha256.to_string(),
        actual,
        size,
    })
}

/// The sha256 of a file, streamed.
pub fn sha256_file(path: &Path) -> Result<String, FetchError> {
    use std::io::Read;
    let mut file = std::fs::File::open(path).map_err(|e| FetchError::io(path, e))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buf).map_err(|e| FetchError::io(path, e))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex(&h.finalize()))
}
