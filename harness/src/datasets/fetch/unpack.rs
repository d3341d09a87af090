//! Unpacking archives with the system's `zstd`, `tar` and `unzip` (installed by
//! `scripts/setup`), into a temporary folder first so a failure leaves nothing half-done.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::FetchError;

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

/// Unpacks a publisher's `.zip` or `.tar.gz` into `folder` (its own layout inside).
pub fn publisher_archive(archive: &Path, folder: &Path) -> Result<(), FetchError> {
    let parent = folder.parent().unwrap_or(Path::new("."));
    let stage = staging(parent)?;
    let name = archive.to_string_lossy().to_lowercase();
    let status = if name.ends_with(".zip") {
        tool("unzip", "Debian: apt-get install unzip", archive)?;
        Command::new("unzip")
            .arg("-q")
            .arg("-o")
            .arg(archive)
            .arg("-d")
            .arg(stage.path())
            .status()
    } else if name.ends_with(".tar.gz") || name.ends_with(".tgz") {
        tool("tar", "Debian: apt-get install tar", archive)?;
        Command::new("tar")
            .arg("-xzf")
            .arg(archive)
            .arg("-C")
            .arg(stage.path())
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
    std::fs::create_dir_all(folder).map_err(|e| FetchError::io(folder, e))?;
    move_entries(stage.path(), folder)?;
    Ok(())
}
