//! TFLite Micro as a live reference engine: the PyPI package `tflite-micro` (its Python
//! interpreter runs TFLM's own C++ kernels) in the virtualenv `scripts/setup` makes, driven
//! through `models/tools/tflm_run.py`, one Python process per batch of models.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Why the reference engine could not run.
#[derive(Debug, thiserror::Error)]
pub enum TflmError {
    /// The virtualenv (or its `tflite-micro`) is missing.
    #[error(
        "the TFLite Micro reference environment is missing ({}): run scripts/setup, which \
         installs the PyPI packages tflite-micro, ai-edge-litert and numpy there",
        python.display()
    )]
    Missing {
        /// The interpreter that was looked for.
        python: PathBuf,
    },
    /// Writing the batch's files failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The Python process failed as a whole (not one model).
    #[error("{script} failed ({status}): {stderr}")]
    Process {
        /// The script run.
        script: String,
        /// Its exit status.
        status: String,
        /// The end of its standard error.
        stderr: String,
    },
    /// A window's length does not match the model input.
    #[error("model {model}: window of {got} values, the batch's windows have {expected}")]
    WindowLength {
        /// Model index in the batch.
        model: usize,
        /// Values given.
        got: usize,
        /// Values of the first window.
        expected: usize,
    },
}

/// The reference virtualenv: `$HARBOR_PYENV` if set, else `target/pyenv` in the workspace.
pub fn pyenv_dir() -> PathBuf {
    std::env::var_os("HARBOR_PYENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::datasets::workspace_root().join("target/pyenv"))
}

/// The reference environment's Python, checked to exist.
pub fn python() -> Result<PathBuf, TflmError> {
    python_in(&pyenv_dir())
}

/// The Python of the virtualenv at `dir`, checked to exist.
pub fn python_in(dir: &Path) -> Result<PathBuf, TflmError> {
    let python = dir.join("bin/python");
    if python.is_file() {
        Ok(python)
    } else {
        Err(TflmError::Missing { python })
    }
}

/// One model of a batch: `.tflite` bytes and int8 input windows.
pub struct TflmJob<'a> {
    /// The int8 model.
    pub model: &'a [u8],
    /// Input windows, each the model input's size.
    pub windows: &'a [Vec<i8>],
}

/// TFLite Micro's outputs for one model: one int8 vector per window, or TFLM's error.
pub type TflmOutcome = Result<Vec<Vec<i8>>, String>;

/// Runs every job in one Python process; `dir` receives the models, inputs and outputs
/// (`model_<i>.tflite`, `inputs_<i>.i8`, `outputs_<i>.i8`) and is left for inspection.
pub fn run_batch(jobs: &[TflmJob<'_>], dir: &Path) -> Result<Vec<TflmOutcome>, TflmError> {
    let python = python()?;
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| TflmError::Io { path, source }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let mut list = Vec::new();
    for (i, job) in jobs.iter().enumerate() {
        let model = dir.join(format!("model_{i}.tflite"));
        let inputs = dir.join(format!("inputs_{i}.i8"));
        let outputs = dir.join(format!("outputs_{i}.i8"));
        std::fs::write(&model, job.model).map_err(io(&model))?;
        let expected = job.windows.first().map_or(0, Vec::len);
        let mut bytes = Vec::with_capacity(expected * job.windows.len());
        for w in job.windows {
            if w.len() != expected {
                return Err(TflmError::WindowLength {
                    model: i,
                    got: w.len(),
                    expected,
                });
            }
            bytes.extend(w.iter().map(|&v| v as u8));
        }
        std::fs::write(&inputs, bytes).map_err(io(&inputs))?;
        list.push(serde_json::json!({
            "model": model, "inputs": inputs, "outputs": outputs,
        }));
    }
    let jobs_path = dir.join("jobs.json");
    std::fs::write(&jobs_path, serde_json::Value::Array(list).to_string())
        .map_err(io(&jobs_path))?;
    let script = crate::datasets::workspace_root().join("models/tools/tflm_run.py");
    let out = Command::new(&python)
        .arg(&script)
        .arg(&jobs_path)
        .env("TF_CPP_MIN_LOG_LEVEL", "2")
        .output()
        .map_err(io(&python))?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    let process_error = |why: &str| TflmError::Process {
        script: script.display().to_string(),
        status: why.to_string(),
        stderr: tail(&stderr),
    };
    if !out.status.success() {
        return Err(process_error(&out.status.to_string()));
    }
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    if lines.len() != jobs.len() {
        return Err(process_error(&format!(
            "answered {} of {} models",
            lines.len(),
            jobs.len()
        )));
    }
    let mut outcomes = Vec::with_capacity(jobs.len());
    for (i, (job, line)) in jobs.iter().zip(&lines).enumerate() {
        if let Some(error) = line.get("error").and_then(|e| e.as_str()) {
            outcomes.push(Err(error.to_string()));
            continue;
        }
        let path = dir.join(format!("outputs_{i}.i8"));
        let bytes = std::fs::read(&path).map_err(io(&path))?;
        let n = job.windows.len().max(1);
        if bytes.len() % n != 0 {
            outcomes.push(Err(format!("{} output bytes for {n} windows", bytes.len())));
            continue;
        }
        let per = bytes.len() / n;
        outcomes.push(Ok(bytes
            .chunks(per.max(1))
            .map(|c| c.iter().map(|&b| b as i8).collect())
            .collect()));
    }
    Ok(outcomes)
}

fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(12)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_environment_says_to_run_setup() {
        let dir = tempfile::tempdir().expect("temp dir");
        let err = python_in(&dir.path().join("pyenv"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("run scripts/setup"), "{err}");
        assert!(err.contains("tflite-micro"), "{err}");
        assert!(err.contains("pyenv/bin/python"), "{err}");
    }
}
