//! The Renode monitor script (`.resc`) for one run, rendered from `renode/band.resc`.

use std::path::{Path, PathBuf};

/// The template, with `{{platform}}`, `{{firmware}}`, `{{uart_port}}` and `{{imu_feed}}`.
pub const TEMPLATE: &str = include_str!("../../../../renode/band.resc");

/// The platform description the template loads.
pub fn platform_path() -> PathBuf {
    crate::datasets::workspace_root()
        .join("renode")
        .join("band-rv32.repl")
}

/// The peripheral that takes RESD streams (see `renode/band-rv32.repl`).
pub const IMU_PERIPHERAL: &str = "sysbus.i2c0.lsm6dso";

/// What one run needs.
#[derive(Clone, Debug)]
pub struct ScriptParams<'a> {
    /// The platform description (`.repl`).
    pub platform: &'a Path,
    /// The firmware ELF.
    pub firmware: &'a Path,
    /// TCP port of the UART's raw socket terminal.
    pub uart_port: u16,
    /// RESD file fed to the IMU's accelerometer and gyroscope, if any.
    pub resd: Option<&'a Path>,
}

/// Why the script could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum ScriptError {
    /// The path isn't UTF-8.
    #[error("{what} path {path} is not UTF-8")]
    NotUtf8 {
        /// Which path (platform, firmware, RESD).
        what: &'static str,
        /// The path.
        path: PathBuf,
    },
    /// The path is relative.
    #[error(
        "{what} path {path} must be absolute (Renode resolves relative paths against its own folder)"
    )]
    Relative {
        /// Which path (platform, firmware, RESD).
        what: &'static str,
        /// The path.
        path: String,
    },
    /// The path holds whitespace or quotes.
    #[error(
        "{what} path {path:?} contains whitespace or quotes, which a Renode `@path` argument cannot hold"
    )]
    Unquotable {
        /// Which path (platform, firmware, RESD).
        what: &'static str,
        /// The path.
        path: String,
    },
    /// The template holds a field harbor does not fill (the text from there).
    #[error("renode/band.resc has an unknown template field at: {0}")]
    UnknownField(String),
}

/// Fills the template. Paths must be absolute and free of whitespace and quotes, since
/// Renode's `@path` arguments end at whitespace.
pub fn render(params: &ScriptParams<'_>) -> Result<String, ScriptError> {
    let path = |what: &'static str, p: &Path| -> Result<String, ScriptError> {
        let text = p.to_str().ok_or_else(|| ScriptError::NotUtf8 {
            what,
            path: p.to_path_buf(),
        })?;
        if !p.is_absolute() {
            return Err(ScriptError::Relative {
                what,
                path: text.to_string(),
            });
        }
        if text
            .chars()
            .any(|c| c.is_whitespace() || c == '"' || c == '\'')
        {
            return Err(ScriptError::Unquotable {
                what,
                path: text.to_string(),
            });
        }
        Ok(text.to_string())
    };
    let imu_feed = match params.resd {
        Some(resd) => {
            let resd = path("RESD", resd)?;
            format!(
                "{IMU_PERIPHERAL} FeedAccelerationSamplesFromRESD @{resd}\n{IMU_PERIPHERAL} FeedAngularRateSamplesFromRESD @{resd}"
            )
        }
        None => "# no RESD stream: the IMU model returns its default samples".to_string(),
    };
    let text = TEMPLATE
        .replace("{{platform}}", &path("platform", params.platform)?)
        .replace("{{firmware}}", &path("firmware", params.firmware)?)
        .replace("{{uart_port}}", &params.uart_port.to_string())
        .replace("{{imu_feed}}", &imu_feed);
    // A field the code does not know would reach Renode as literal braces.
    if let Some(at) = text.find("{{") {
        return Err(ScriptError::UnknownField(
            text[at..text.len().min(at + 30)].to_string(),
        ));
    }
    Ok(text)
}
