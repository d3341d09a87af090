//! The Renode backend: the band firmware in a `renode` process, UART on a raw TCP socket,
//! IMU fed from RESD files.
//!
//! [`resd`] is the RESD container (bytes out and back in), [`convert`] turns harbor's IMU
//! stream into RESD blocks, [`script`] renders the `.resc` from `renode/band.resc`, and
//! [`RenodeTarget`] runs it. `docs/renode.md` has the format facts and their sources.
//!
//! Renode is looked up as `$HARBOR_RENODE`, else `renode` on PATH. When it is absent,
//! [`TargetError::EmulatorMissing`] says how to install it; tests that need it are
//! `#[ignore]`d with that reason so they are reported as skipped, never as passed.

pub mod convert;
pub mod resd;
pub mod script;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use harbor_core::protocol::frame::MAX_FRAME;
use tokio::net::TcpStream;

pub use convert::{ImuSegment, ResdLayout, ResdScale};
pub use resd::{Block, ResdError, ResdFile, SampleType};
pub use script::ScriptError;

use super::launch::{EmulatorProcess, Launch};
use super::{LinkTarget, TargetError, Tool};
use script::{ScriptParams, platform_path, render};

/// Environment variable naming the Renode binary.
pub const RENODE_ENV: &str = "HARBOR_RENODE";

/// How to get Renode; part of every missing-Renode message and skipped-test reason.
pub const INSTALL_HINT: &str = Tool::Renode.install_hint();

/// Finds the Renode binary: `$HARBOR_RENODE` (must exist), else `renode` on PATH.
pub fn find_renode() -> Result<PathBuf, TargetError> {
    find_renode_in(
        std::env::var_os(RENODE_ENV).map(PathBuf::from),
        std::env::var_os("PATH"),
    )
}

/// [`find_renode`] with its environment passed in, for tests.
pub fn find_renode_in(
    explicit: Option<PathBuf>,
    path_var: Option<OsString>,
) -> Result<PathBuf, TargetError> {
    let missing = |binary: PathBuf| TargetError::EmulatorMissing {
        tool: Tool::Renode,
        binary,
    };
    if let Some(binary) = explicit {
        return if binary.is_file() {
            Ok(binary)
        } else {
            Err(missing(binary))
        };
    }
    path_var
        .as_deref()
        .into_iter()
        .flat_map(std::env::split_paths)
        .map(|d| d.join("renode"))
        .find(|candidate| candidate.is_file())
        .ok_or_else(|| missing(PathBuf::from("renode")))
}

/// How to run the firmware under Renode.
#[derive(Clone, Debug)]
pub struct RenodeConfig {
    /// The firmware ELF.
    pub firmware: PathBuf,
    /// RESD stream for the IMU model (see [`super::convert`]).
    pub resd: Option<PathBuf>,
    /// The platform description (`renode/band-rv32.repl`).
    pub platform: PathBuf,
    /// Renode starts slowly (.NET runtime): connect + boot banner deadline.
    pub boot_timeout: Duration,
    /// Deadline for each request → response exchange.
    pub exchange_timeout: Duration,
    /// Bytes of noise tolerated before an exchange fails as garbage.
    pub garbage_budget: usize,
}

impl RenodeConfig {
    /// `firmware` on harbor's band platform, no RESD stream, default deadlines.
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
    /// Starts Renode on the firmware and waits for its `m-ready` banner.
    pub async fn launch(config: RenodeConfig) -> Result<Self, TargetError> {
        let renode = find_renode()?;
        let prepare = |name: &str, dir: &Path| {
            let io = |context: &str, source| TargetError::Io {
                target: name.to_string(),
                context: context.to_string(),
                source,
            };
            let uart_port = free_port().map_err(|e| io("finding a free TCP port", e))?;
            let firmware = std::path::absolute(&config.firmware)
                .map_err(|e| io("resolving the firmware path", e))?;
            let script = render(&ScriptParams {
                platform: &config.platform,
                firmware: &firmware,
                uart_port,
                resd: config.resd.as_deref(),
            })
            .map_err(|source| TargetError::Setup {
                target: name.to_string(),
                source,
            })?;
            let script_path = dir.join("band.resc");
            std::fs::write(&script_path, script).map_err(|e| io("writing the Renode script", e))?;
            let args = ["--disable-xwt", "--plain"]
                .map(OsString::from)
                .into_iter()
                .chain([script_path.into_os_string()])
                .collect();
            Ok((args, uart_port))
        };
        let launch = Launch {
            prefix: "renode",
            tool: Tool::Renode,
            binary: &renode,
            firmware: &config.firmware,
            log_name: "renode.log",
            pipe_stdout: false,
            boot_timeout: config.boot_timeout,
        };
        launch
            .link(
                prepare,
                |_, port, _| connect(port),
                "waiting for Renode's UART socket",
                config.garbage_budget,
                config.exchange_timeout,
            )
            .await
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
