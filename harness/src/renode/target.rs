//! The Renode backend: the band firmware in a `renode` process, UART on a raw TCP socket.
//!
//! Renode is looked up as `$HARBOR_RENODE`, else `renode` on PATH. When it is absent,
//! [`RenodeError::Missing`] says how to install it; tests that need it are `#[ignore]`d
//! with that reason so they are reported as skipped, never as passed.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use harbor_core::protocol::frame::MAX_FRAME;
use tokio::net::TcpStream;

use super::resd::ResdError;
use super::script::{ScriptParams, platform_path, render};
use crate::target::process::{EmulatorProcess, target_name};
use crate::target::{LinkTarget, TargetError, Tool};

/// Environment variable naming the Renode binary.
pub const RENODE_ENV: &str = "HARBOR_RENODE";

/// How to get Renode; part of every missing-Renode message and skipped-test reason.
pub const INSTALL_HINT: &str = "install Renode from its upstream release (the portable Linux package \
renode-<version>.linux-portable.tar.gz, or renode_<version>_amd64.deb, from github.com/renode/renode/releases), \
then put `renode` on PATH or set HARBOR_RENODE=/path/to/renode; this machine cannot install it (no access to those downloads)";

#[derive(Debug, thiserror::Error)]
pub enum RenodeError {
    #[error("Renode not found ({looked}): {INSTALL_HINT}")]
    Missing { looked: String },
    #[error("Renode script: {0}")]
    Script(String),
    #[error(transparent)]
    Resd(#[from] ResdError),
    #[error(transparent)]
    Target(#[from] TargetError),
}

/// Finds the Renode binary: `$HARBOR_RENODE` (must exist), else `renode` on PATH.
pub fn find_renode() -> Result<PathBuf, RenodeError> {
    find_renode_in(
        std::env::var_os(RENODE_ENV).map(PathBuf::from),
        std::env::var_os("PATH"),
    )
}

/// [`find_renode`] with its environment passed in, for tests.
pub fn find_renode_in(
    explicit: Option<PathBuf>,
    path_var: Option<std::ffi::OsString>,
) -> Result<PathBuf, RenodeError> {
    if let Some(binary) = explicit {
        return if binary.is_file() {
            Ok(binary)
        } else {
            Err(RenodeError::Missing {
                looked: format!("{RENODE_ENV}={} does not exist", binary.display()),
            })
        };
    }
    let dirs: Vec<PathBuf> = path_var
        .as_deref()
        .map(|p| std::env::split_paths(p).collect())
        .unwrap_or_default();
    dirs.iter()
        .map(|d| d.join("renode"))
        .find(|candidate| candidate.is_file())
        .ok_or_else(|| RenodeError::Missing {
            looked: format!(
                "no `renode` in PATH ({} folders) and {RENODE_ENV} unset",
                dirs.len()
            ),
        })
}

/// How to run the firmware under Renode.
#[derive(Clone, Debug)]
pub struct RenodeConfig {
    pub firmware: PathBuf,
    /// RESD stream for the IMU model (see [`super::convert`]).
    pub resd: Option<PathBuf>,
    pub platform: PathBuf,
    /// Renode starts slowly (.NET runtime): connect + boot banner deadline.
    pub boot_timeout: Duration,
    pub exchange_timeout: Duration,
    pub garbage_budget: usize,
}

impl RenodeConfig {
    pub fn new(firmware: impl Into<PathBuf>) -> Self {
        RenodeConfig {
            firmware: firmware.into(),
            resd: None,
            platform: platform_path(),
            boot_timeout: Duration::from_secs(60),
            exchange_timeout: Duration::from_secs(20),
            garbage_budget: 4 * MAX_FRAME,
        }
    }
}

/// A running Renode with the firmware, connected and past its `m-ready` banner; Renode is
/// killed when the target is dropped and whenever an exchange fails.
pub type RenodeTarget = LinkTarget<TcpStream, EmulatorProcess>;

impl LinkTarget<TcpStream, EmulatorProcess> {
    pub async fn launch(config: RenodeConfig) -> Result<Self, RenodeError> {
        let renode = find_renode()?;
        let name = target_name("renode", &config.firmware);
        if !config.firmware.is_file() {
            return Err(TargetError::FirmwareMissing {
                path: config.firmware.clone(),
            }
            .into());
        }
        let io = |context: &str, source| TargetError::Io {
            target: name.clone(),
            context: context.to_string(),
            source,
        };
        let dir = EmulatorProcess::folder(&name, "renode")?;
        let uart_port = free_port().map_err(|e| io("finding a free TCP port", e))?;
        let firmware = std::path::absolute(&config.firmware)
            .map_err(|e| io("resolving the firmware path", e))?;
        let script = render(&ScriptParams {
            platform: &config.platform,
            firmware: &firmware,
            uart_port,
            resd: config.resd.as_deref(),
        })
        .map_err(RenodeError::Script)?;
        let script_path = dir.path().join("band.resc");
        std::fs::write(&script_path, script).map_err(|e| io("writing the Renode script", e))?;
        let args = ["--disable-xwt", "--plain"]
            .map(OsString::from)
            .into_iter()
            .chain([script_path.into_os_string()]);
        let mut process =
            EmulatorProcess::spawn(&name, Tool::Renode, &renode, args, dir, "renode.log", None)?;
        let stream = process
            .await_ready(
                connect(uart_port),
                config.boot_timeout,
                "waiting for Renode's UART socket",
            )
            .await?;
        let mut target = Self::new(
            name,
            stream,
            process,
            config.garbage_budget,
            config.exchange_timeout,
        );
        target.await_ready(config.boot_timeout, "booting").await?;
        Ok(target)
    }
}

/// A port that was free a moment ago; Renode binds it as the UART's server socket.
fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// Connects to Renode's UART socket, retrying while Renode starts (the caller bounds it).
async fn connect(port: u16) -> Result<TcpStream, TargetError> {
    loop {
        if let Ok(stream) = TcpStream::connect(("127.0.0.1", port)).await {
            return Ok(stream);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
