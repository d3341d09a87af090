//! A CSV-like dataset described by a YAML spec (`docs/custom-datasets.md`): the spec names the
//! files, columns, units, axis map, labels and subjects, so no code is needed per dataset.
//!
//! The loader root is the spec file; globs are relative to its folder.

pub mod join;
mod read;
pub mod spec;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::{DatasetError, LoadOptions, Loaded, Progress, text};
use read::{FileRef, Role};
use spec::{SensorKind, Trials};

pub use join::{JoinReport, JoinedFile};
pub use spec::{Resolved, parse};

/// Loads the dataset the spec file `root` describes.
pub fn load(
    root: &Path,
    opts: &LoadOptions,
    progress: &dyn Progress,
) -> Result<Loaded, DatasetError> {
    let yaml = String::from_utf8(text::read_file(root, &super::NoProgress)?)
        .map_err(|e| DatasetError::invalid(root, format!("the spec is not UTF-8 ({e})")))?;
    let spec = parse(root, &yaml)?;
    let base = root.parent().unwrap_or(Path::new("."));
    let files = find_files(root, base, &spec.globs)?;
    progress.start(text::total_size(files.iter().map(PathBuf::as_path)));
    let mut loaded = Loaded {
        units: spec.units,
        ..Loaded::default()
    };
    match &spec.recording {
        None => {
            let no_groups = BTreeMap::new();
            for file in &files {
                let bytes = text::read_file(file, progress)?;
                loaded.bytes_read += bytes.len() as u64;
                let rel = relative_slash_path(base, file);
                let file = FileRef {
                    path: file,
                    rel: &rel,
                    groups: &no_groups,
                    role: Role::Whole,
                };
                read::read_file(&spec, &file, &bytes, opts, &mut loaded)?;
            }
        }
        Some(trials) => {
            for trial in group_trials(root, base, &files, trials, spec.gyro.is_some())? {
                load_trial(&spec, trials, &trial, opts, progress, &mut loaded)?;
            }
        }
    }
    Ok(loaded)
}

/// The files of one trial, found by `recording.path`.
struct Trial {
    groups: BTreeMap<String, String>,
    accel: (PathBuf, String),
    gyro: Option<(PathBuf, String)>,
}

/// Groups the files into trials by `recording.path`'s named groups; every file must match,
/// every trial needs its accel file (and its gyro file when the spec describes a gyro).
fn group_trials(
    spec_path: &Path,
    base: &Path,
    files: &[PathBuf],
    trials: &Trials,
    needs_gyro: bool,
) -> Result<Vec<Trial>, DatasetError> {
    type Sensors = BTreeMap<SensorKind, (PathBuf, String)>;
    let mut by_key: BTreeMap<Vec<String>, (BTreeMap<String, String>, Sensors)> = BTreeMap::new();
    for file in files {
        let rel = relative_slash_path(base, file);
        let caps = trials.path.captures(&rel).ok_or_else(|| {
            DatasetError::invalid(
                file,
                format!(
                    "`recording.path` `{}` does not match `{rel}` (narrow `files` or widen the regex)",
                    trials.path.as_str()
                ),
            )
        })?;
        let sensor_value = caps.name("sensor").map_or("", |m| m.as_str());
        let sensor = *trials.sensors.get(sensor_value).ok_or_else(|| {
            let known: Vec<&str> = trials.sensors.keys().map(String::as_str).collect();
            DatasetError::invalid(
                file,
                format!(
                    "sensor `{sensor_value}` is not in `recording.sensors` (it has: {})",
                    known.join(", ")
                ),
            )
        })?;
        let groups: BTreeMap<String, String> = trials
            .key_groups
            .iter()
            .map(|g| {
                let v = caps.name(g).map_or("", |m| m.as_str());
                (g.clone(), v.to_string())
            })
            .collect();
        let key: Vec<String> = groups.values().cloned().collect();
        let entry = by_key
            .entry(key)
            .or_insert_with(|| (groups, BTreeMap::new()));
        if let Some((other, _)) = entry.1.get(&sensor) {
            return Err(DatasetError::invalid(
                file,
                format!(
                    "is the same trial and sensor as {} (`recording.path` groups must tell them apart)",
                    other.display()
                ),
            ));
        }
        entry.1.insert(sensor, (file.clone(), rel));
    }
    let mut out = Vec::with_capacity(by_key.len());
    for (groups, mut sensors) in by_key.into_values() {
        let trial_name = groups
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(", ");
        let any_file = sensors.values().next().map(|(p, _)| p.clone());
        let Some(accel) = sensors.remove(&SensorKind::Accel) else {
            return Err(DatasetError::invalid(
                &any_file.unwrap_or_else(|| spec_path.to_path_buf()),
                format!("trial ({trial_name}) has no accel file"),
            ));
        };
        let gyro = sensors.remove(&SensorKind::Gyro);
        if needs_gyro && gyro.is_none() {
            return Err(DatasetError::invalid(
                &accel.0,
                format!("trial ({trial_name}) has no gyro file"),
            ));
        }
        out.push(Trial {
            groups,
            accel,
            gyro,
        });
    }
    Ok(out)
}

/// Reads one trial's accel file (times, accel, labels) and joins its gyro file onto it.
fn load_trial(
    spec: &Resolved,
    trials: &Trials,
    trial: &Trial,
    opts: &LoadOptions,
    progress: &dyn Progress,
    loaded: &mut Loaded,
) -> Result<(), DatasetError> {
    let (accel_path, accel_rel) = &trial.accel;
    let bytes = text::read_file(accel_path, progress)?;
    loaded.bytes_read += bytes.len() as u64;
    let mut part = Loaded::default();
    let file = FileRef {
        path: accel_path,
        rel: accel_rel,
        groups: &trial.groups,
        role: Role::AccelOnly,
    };
    read::read_file(spec, &file, &bytes, opts, &mut part)?;
    loaded.skipped.append(&mut part.skipped);
    let Some((gyro_path, _)) = &trial.gyro else {
        loaded.recordings.append(&mut part.recordings);
        return Ok(());
    };
    let bytes = text::read_file(gyro_path, progress)?;
    loaded.bytes_read += bytes.len() as u64;
    let series = read::read_series(spec, gyro_path, &bytes, opts, &mut loaded.skipped)?;
    for rec in part.recordings {
        let (rec, report) = join::join(rec, &series, trials.base)?;
        loaded.recordings.push(rec);
        loaded.joins.push(report);
    }
    Ok(())
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
            // Directories a glob happens to match are not data; anything else that is not a
            // regular file (a FIFO, a device) would block or never end, so it is an error.
            if !path.is_dir() {
                text::check_regular_file(&path)?;
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
