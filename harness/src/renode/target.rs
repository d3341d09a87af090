//! The Renode backend: the band firmware in a `renode` process, UART on a raw TCP socket.
//!
//! Renode is looked up as `$HARBOR_RENODE`, else `renode` on PATH. When it is absent,
//! [`RenodeError::Missing`] says how to install it; tests that need it are `#[ignore]`d
//! with that reason so they are reported as skipped, never as passed.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use harbor_core::protocol::Request;
use harbor_core::protocol::frame::MAX_FRAME;
use harbor_core::protocol::text::Reply;
use tokio::net::TcpStream;
use tokio::process::{Child, Command};
use tokio::time::Instant;

use super::resd::ResdError;
use super::script::{ScriptParams, platform_path, render};
use crate::target::link::{Incoming, Link, LinkFailure};
use crate::target::{BinaryReply, Target, TargetError};

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

/// A running Renode with the firmware, connected and past its `m-ready` banner.
pub struct RenodeTarget {
    name: String,
    child: Child,
    link: Link<TcpStream>,
    exchange_timeout: Duration,
    failed: Option<String>,
    log_path: PathBuf,
    /// Holds the generated script and Renode's log; removed on drop.
    _dir: tempfile::TempDir,
}

impl RenodeTarget {
    pub async fn launch(config: RenodeConfig) -> Result<Self, RenodeError> {
        let renode = find_renode()?;
        let name = format!(
            "renode:{}",
            config.firmware.file_name().map_or_else(
                || config.firmware.display().to_string(),
                |n| n.to_string_lossy().into_owned()
            )
        );
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
        let dir = tempfile::Builder::new()
            .prefix("harbor-renode-")
            .tempdir()
            .map_err(|e| io("creating a run folder", e))?;
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
        let log_path = dir.path().join("renode.log");
        let log = std::fs::File::create(&log_path).map_err(|e| io("creating the Renode log", e))?;
        let log_err = log
            .try_clone()
            .map_err(|e| io("creating the Renode log", e))?;

        let mut child = Command::new(&renode)
            .arg("--disable-xwt")
            .arg("--plain")
            .arg(&script_path)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .kill_on_drop(true)
            .spawn()
            .map_err(|source| match source.kind() {
                std::io::ErrorKind::NotFound => RenodeError::Missing {
                    looked: format!("{} could not be executed", renode.display()),
                },
                _ => TargetError::EmulatorFailed {
                    binary: renode.clone(),
                    source,
                }
                .into(),
            })?;

        let stream = connect(&name, &mut child, uart_port, config.boot_timeout, &log_path).await?;
        let mut target = RenodeTarget {
            name,
            child,
            link: Link::new(stream, config.garbage_budget),
            exchange_timeout: config.exchange_timeout,
            failed: None,
            log_path,
            _dir: dir,
        };
        target.await_ready(config.boot_timeout, "booting").await?;
        Ok(target)
    }

    /// Renode's console output so far (errors loading the platform show up here).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    async fn await_ready(
        &mut self,
        timeout: Duration,
        during: &str,
    ) -> Result<Vec<String>, TargetError> {
        let deadline = Instant::now() + timeout;
        let mut lines = Vec::new();
        loop {
            match self.link.next(deadline).await {
                Ok(Incoming::Line(line)) if Reply::parse(&line) == Some(Reply::Ready) => {
                    return Ok(lines);
                }
                Ok(Incoming::Line(line)) => lines.push(line),
                Ok(Incoming::Frame { ty, .. }) => {
                    let got = format!("a {ty:?} frame");
                    return Err(self.fail(TargetError::Unexpected {
                        target: self.name.clone(),
                        expected: "text lines",
                        got,
                    }));
                }
                Err(failure) => return Err(self.link_failure(failure, during, timeout)),
            }
        }
    }

    fn link_failure(
        &mut self,
        failure: LinkFailure,
        during: &str,
        waited: Duration,
    ) -> TargetError {
        let (target, during) = (self.name.clone(), during.to_string());
        let error = match failure {
            LinkFailure::Timeout => TargetError::Hang {
                target,
                during,
                waited,
            },
            LinkFailure::Trap(report) => TargetError::Trap {
                target,
                during,
                report,
            },
            LinkFailure::Closed => TargetError::Exited {
                target,
                code: None,
                during,
                stderr: self.log(),
            },
            LinkFailure::Garbage(bytes) => TargetError::Garbage {
                target,
                during,
                bytes,
            },
            LinkFailure::Io(source) => TargetError::Io {
                target,
                context: during,
                source,
            },
        };
        self.fail(error)
    }

    /// Records the first failure and stops Renode: the target is unusable afterwards.
    fn fail(&mut self, error: TargetError) -> TargetError {
        let _ = self.child.start_kill();
        self.failed.get_or_insert_with(|| error.to_string());
        error
    }

    fn check_alive(&self) -> Result<(), TargetError> {
        match &self.failed {
            Some(first_failure) => Err(TargetError::Dead {
                target: self.name.clone(),
                first_failure: first_failure.clone(),
            }),
            None => Ok(()),
        }
    }
}

/// A port that was free a moment ago; Renode binds it as the UART's server socket.
fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// Connects to Renode's UART socket, retrying while Renode starts.
async fn connect(
    name: &str,
    child: &mut Child,
    port: u16,
    timeout: Duration,
    log: &Path,
) -> Result<TcpStream, TargetError> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Ok(stream) = TcpStream::connect(("127.0.0.1", port)).await {
            return Ok(stream);
        }
        if let Ok(Some(status)) = child.try_wait() {
            let stderr = std::fs::read_to_string(log).unwrap_or_default();
            return Err(TargetError::Exited {
                target: name.to_string(),
                code: status.code(),
                during: "starting".into(),
                stderr,
            });
        }
        if Instant::now() >= deadline {
            let _ = child.start_kill();
            return Err(TargetError::Hang {
                target: name.to_string(),
                during: "waiting for Renode's UART socket".into(),
                waited: timeout,
            });
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

impl Target for RenodeTarget {
    fn name(&self) -> &str {
        &self.name
    }

    async fn exchange(&mut self, request: &Request<'_>) -> Result<BinaryReply, TargetError> {
        self.check_alive()?;
        let ty = request.message_type();
        let during = format!("answering {ty:?}");
        let mut frame = [0u8; MAX_FRAME];
        let n = request.encode(&mut frame).map_err(|e| TargetError::Io {
            target: self.name.clone(),
            context: format!("encoding {ty:?}"),
            source: std::io::Error::new(std::io::ErrorKind::InvalidInput, e.to_string()),
        })?;
        let deadline = Instant::now() + self.exchange_timeout;
        if let Err(failure) = self.link.send(&frame[..n], deadline).await {
            return Err(self.link_failure(failure, &during, self.exchange_timeout));
        }
        loop {
            match self.link.next(deadline).await {
                Ok(Incoming::Frame {
                    ty: reply_ty,
                    payload,
                }) => {
                    return BinaryReply::from_frame(reply_ty, &payload).ok_or_else(|| {
                        let got = format!("a {reply_ty:?} frame with a malformed payload");
                        self.fail(TargetError::Unexpected {
                            target: self.name.clone(),
                            expected: "a response frame",
                            got,
                        })
                    });
                }
                Ok(Incoming::Line(_)) => {}
                Err(failure) => {
                    return Err(self.link_failure(failure, &during, self.exchange_timeout));
                }
            }
        }
    }

    async fn command(&mut self, command: &str) -> Result<Vec<String>, TargetError> {
        self.check_alive()?;
        let during = format!("answering `{command}%`");
        let mut bytes = command.as_bytes().to_vec();
        bytes.push(b'%');
        if let Err(failure) = self
            .link
            .send(&bytes, Instant::now() + self.exchange_timeout)
            .await
        {
            return Err(self.link_failure(failure, &during, self.exchange_timeout));
        }
        self.await_ready(self.exchange_timeout, &during).await
    }
}

impl Drop for RenodeTarget {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}
