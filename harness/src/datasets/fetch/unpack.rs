//! Unpacking archives with the system's `zstd`, `tar` and `unzip` (installed by
//! `scripts/setup`), into a temporary folder first so a failure leaves nothing half-done.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::FetchError;
use super::registry::Step;

/// The mirror's archives were written with `zstd --long=27`.
const ZSTD_WINDOW_LOG: &str = "--long=27";

fn tool(name: &'static str, install: &'static str, archive: &Path) -> Result<(), FetchError> {
    let found = Command::new(name)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if found {
        Ok(())
    } else {
        Err(FetchError::MissingTool {
            tool: name,
            install,
            archive: archive.to_path_buf(),
        })
    }
}

/// A fresh temporary folder inside `dest` (same file system, so moving out is a rename).
fn staging(dest: &Path) -> Result<tempfile::TempDir, FetchError> {
    tempfile::Builder::new()
        .prefix(".unpacking-")
        .tempdir_in(dest)
        .map_err(|e| FetchError::io(dest, e))
}

/// Moves every top-level entry of `from` into `to`, replacing what is there.
fn move_entries(from: &Path, to: &Path) -> Result<Vec<PathBuf>, FetchError> {
    let mut moved = Vec::new();
    for entry in std::fs::read_dir(from).map_err(|e| FetchError::io(from, e))? {
        let entry = entry.map_err(|e| FetchError::io(from, e))?;
        let target = to.join(entry.file_name());
        if target.is_dir() {
            std::fs::remove_dir_all(&target).map_err(|e| FetchError::io(&target, e))?;
        } else if target.exists() {
            std::fs::remove_file(&target).map_err(|e| FetchError::io(&target, e))?;
        }
        std::fs::rename(entry.path(), &target).map_err(|e| FetchError::io(&target, e))?;
        moved.push(target);
    }
    Ok(moved)
}

/// Unpacks the `.tar.zst` archive made of `parts` (joined in order) into `dest`.
pub fn tar_zst(parts: &[PathBuf], dest: &Path) -> Result<(), FetchError> {
    let first = parts.first().cloned().unwrap_or_default();
    tool("zstd", "Debian: apt-get install zstd", &first)?;
    tool("tar", "Debian: apt-get install tar", &first)?;
    let stage = staging(dest)?;
    let failed = |reason: String| FetchError::Unpack {
        archive: first.clone(),
        reason,
    };
    let mut zstd = Command::new("zstd")
        .args(["-dc", ZSTD_WINDOW_LOG])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| failed(format!("zstd: {e}")))?;
    let zstd_out = zstd.stdout.take().expect("piped");
    let tar = Command::new("tar")
        .arg("-xf")
        .arg("-")
        .arg("-C")
        .arg(stage.path())
        .stdin(zstd_out)
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| failed(format!("tar: {e}")))?;
    let mut stdin = zstd.stdin.take().expect("piped");
    let mut fed = Ok(());
    for part in parts {
        let mut f = std::fs::File::open(part).map_err(|e| FetchError::io(part, e))?;
        if let Err(e) = std::io::copy(&mut f, &mut stdin) {
            fed = Err(e);
            break;
        }
    }
    drop(stdin);
    let zstd = zstd.wait_with_output().map_err(|e| failed(e.to_string()))?;
    let tar = tar.wait_with_output().map_err(|e| failed(e.to_string()))?;
    if !zstd.status.success() || !tar.status.success() || fed.is_err() {
        return Err(failed(format!(
            "zstd: {} {}; tar: {} {}",
            zstd.status,
            String::from_utf8_lossy(&zstd.stderr).trim(),
            tar.status,
            String::from_utf8_lossy(&tar.stderr).trim()
        )));
    }
    move_entries(stage.path(), dest)?;
    Ok(())
}

/// Unpacks a publisher's `.zip` or `.tar.gz` into `folder`, mapped by `layout` onto the
/// loader's layout; fails, leaving `folder` untouched, when `loader_reads` is then missing.
pub fn publisher_archive(
    archive: &Path,
    folder: &Path,
    layout: &[Step],
    loader_reads: &str,
) -> Result<(), FetchError> {
    let parent = folder.parent().unwrap_or(Path::new("."));
    let stage = staging(parent)?;
    extract(archive, stage.path())?;
    drop_macos_folders(stage.path())?;
    for step in layout {
        apply(*step, archive, stage.path())?;
        drop_macos_folders(stage.path())?;
    }
    if !stage.path().join(loader_reads).exists() {
        return Err(FetchError::Layout {
            archive: archive.to_path_buf(),
            expected: loader_reads.to_string(),
            found: top_names(stage.path())?,
        });
    }
    std::fs::create_dir_all(folder).map_err(|e| FetchError::io(folder, e))?;
    move_entries(stage.path(), folder)?;
    Ok(())
}

/// Extracts a `.zip` or `.tar.gz` into the existing folder `into`.
fn extract(archive: &Path, into: &Path) -> Result<(), FetchError> {
    let name = archive.to_string_lossy().to_lowercase();
    let status = if name.ends_with(".zip") {
        tool("unzip", "Debian: apt-get install unzip", archive)?;
        Command::new("unzip")
            .arg("-q")
            .arg("-o")
            .arg(archive)
            .arg("-d")
            .arg(into)
            .status()
    } else if name.ends_with(".tar.gz") || name.ends_with(".tgz") {
        tool("tar", "Debian: apt-get install tar", archive)?;
        Command::new("tar")
            .arg("-xzf")
            .arg(archive)
            .arg("-C")
            .arg(into)
            .status()
    } else {
        return Err(FetchError::Unpack {
            archive: archive.to_path_buf(),
            reason: "not a .zip or .tar.gz".into(),
        });
    };
    let status = status.map_err(|e| FetchError::io(archive, e))?;
    if !status.success() {
        return Err(FetchError::Unpack {
            archive: archive.to_path_buf(),
            reason: status.to_string(),
        });
    }
    Ok(())
}

fn apply(step: Step, archive: &Path, stage: &Path) -> Result<(), FetchError> {
    match step {
        Step::UnzipInner(inner) => {
            let path = stage.join(inner);
            if !path.is_file() {
                return Err(FetchError::Layout {
                    archive: archive.to_path_buf(),
                    expected: inner.to_string(),
                    found: top_names(stage)?,
                });
            }
            extract(&path, stage)?;
            std::fs::remove_file(&path).map_err(|e| FetchError::io(&path, e))
        }
        Step::StripTop => {
            let names = top_names(stage)?;
            let [only] = names.as_slice() else {
                return Ok(());
            };
            let top = stage.join(only);
            if !top.is_dir() {
                return Ok(());
            }
            // Renamed first: the folder may hold an entry of its own name.
            let moved = stage.join(".top-folder");
            std::fs::rename(&top, &moved).map_err(|e| FetchError::io(&top, e))?;
            move_entries(&moved, stage)?;
            std::fs::remove_dir(&moved).map_err(|e| FetchError::io(&moved, e))
        }
        Step::Into(name) => {
            let inner = stage.join(".into-folder");
            std::fs::create_dir(&inner).map_err(|e| FetchError::io(&inner, e))?;
            for entry in top_names(stage)? {
                if entry != ".into-folder" {
                    let from = stage.join(&entry);
                    let to = inner.join(&entry);
                    std::fs::rename(&from, &to).map_err(|e| FetchError::io(&from, e))?;
                }
            }
            let target = stage.join(name);
            std::fs::rename(&inner, &target).map_err(|e| FetchError::io(&target, e))
        }
    }
}

/// Removes the `__MACOSX/` resource-fork folders that archives made on a Mac carry.
fn drop_macos_folders(stage: &Path) -> Result<(), FetchError> {
    let mac = stage.join("__MACOSX");
    if mac.is_dir() {
        std::fs::remove_dir_all(&mac).map_err(|e| FetchError::io(&mac, e))?;
    }
    Ok(())
}

/// The names at the top of `dir`, sorted.
fn top_names(dir: &Path) -> Result<Vec<String>, FetchError> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| FetchError::io(dir, e))? {
        let entry = entry.map_err(|e| FetchError::io(dir, e))?;
        names.push(entry.file_name().to_string_lossy().into_owned());
    }
    names.sort();
    Ok(names)
}
