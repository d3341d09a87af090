//! The QEMU backend: the band firmware in a real `qemu-system-riscv32 -M virt` process.
//!
//! harbor listens on a unix socket first and QEMU connects to it as the UART's chardev
//! (`server=off`), so there is no start-up race. `-icount shift=0,align=off,sleep=off`
//! makes `minstret` count retired instructions, deterministically. The process is killed
//! when the target is dropped and whenever an exchange fails.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use harbor_core::protocol::Request;
use harbor_core::protocol::frame::{MAX_FRAME, RESYNC_FILL, RESYNC_FILL_LEN};
use harbor_core::protocol::text::Reply;
use tokio::net::{UnixListener, UnixStream};
use tokio::process::{Child, Command};
use tokio::time::Instant;

use super::link::{Incoming, Link, LinkFailure};
use super::{BinaryReply, Target, TargetError};

/// The emulated CPU: RV32IMC like the ESP32-C3 (`c` is required: the image is compressed).
pub const CPU: &str = "rv32i,m=true,c=true,zicsr=true";

/// How to run the firmware.
#[derive(Clone, Debug)]
pub struct QemuConfig {
    /// The emulator binary (looked up on PATH when bare).
    pub qemu: PathBuf,
    /// The firmware ELF (scripts/build-firmware prints its path).
    pub firmware: PathBuf,
    /// Deadline from connect to the firmware's `m-ready` banner.
    pub boot_timeout: Duration,
    /// Deadline for each request → response exchange.
    pub exchange_timeout: Duration,
    /// Bytes of noise tolerated before an exchange fails as garbage.
    pub garbage_budget: usize,
    /// Persistent OTA flash: a 32 MiB raw file behind `virt`'s second CFI flash bank
    /// (0x2200_0000), kept across QEMU restarts (docs/ota-device.md). `None`: no file, the
    /// bank is volatile.
    pub flash_image: Option<PathBuf>,
}

impl QemuConfig {
    pub fn new(firmware: impl Into<PathBuf>) -> Self {
        Self {
            qemu: PathBuf::from("qemu-system-riscv32"),
            firmware: firmware.into(),
            boot_timeout: Duration::from_secs(10),
            exchange_timeout: Duration::from_secs(10),
            garbage_budget: 4 * MAX_FRAME,
            flash_image: None,
        }
    }

    /// QEMU's arguments with the UART on `socket` (docs/emulation.md explains each).
    pub fn args(&self, socket: &Path) -> Vec<OsString> {
        let mut chardev = OsString::from("socket,id=uart0,server=off,path=");
        chardev.push(socket);
        let mut args: Vec<OsString> = [
            "-M",
            "virt",
            "-cpu",
            CPU,
            "-smp",
            "1",
            "-m",
            "128M",
            "-bios",
            "none",
            "-display",
            "none",
            "-monitor",
            "none",
            "-nodefaults",
            "-icount",
            "shift=0,align=off,sleep=off",
            "-chardev",
        ]
        .iter()
        .map(OsString::from)
        .collect();
        args.push(chardev);
        args.extend(["-serial", "chardev:uart0", "-kernel"].map(OsString::from));
        args.push(self.firmware.clone().into_os_string());
        if let Some(image) = &self.flash_image {
            // Unit 1: unit 0 would become the boot ROM and move the reset vector.
            // QEMU's option syntax escapes a comma in a value by doubling it.
            let file = image.to_string_lossy().replace(',', ",,");
            let drive = format!("if=pflash,unit=1,format=raw,file={file}");
            args.extend([OsString::from("-drive"), OsString::from(drive)]);
        }
        args
    }
}

/// A running QEMU with the firmware, connected and past its boot banner.
pub struct QemuTarget {
    name: String,
    config: QemuConfig,
    child: Child,
    link: Link<UnixStream>,
    /// Why the target stopped working, once it has.
    failed: Option<String>,
    stderr_path: PathBuf,
    /// Holds the socket and QEMU's stderr log; removed on drop.
    _dir: tempfile::TempDir,
}

impl QemuTarget {
    /// Starts QEMU with the firmware and waits for its `m-ready` banner.
    pub async fn launch(config: QemuConfig) -> Result<Self, TargetError> {
        let name = format!(
            "qemu:{}",
            config.firmware.file_name().map_or_else(
                || config.firmware.display().to_string(),
                |n| n.to_string_lossy().into_owned()
            )
        );
        if !config.firmware.is_file() {
            return Err(TargetError::FirmwareMissing {
                path: config.firmware.clone(),
            });
        }
        let io = |context: &str| {
            let target = name.clone();
            let context = context.to_string();
            move |source| TargetError::Io {
                target,
                context,
                source,
            }
        };
        let dir = tempfile::Builder::new()
            .prefix("harbor-qemu-")
            .tempdir()
            .map_err(io("creating a socket folder"))?;
        let socket = dir.path().join("uart.sock");
        let listener = UnixListener::bind(&socket).map_err(io("listening on the UART socket"))?;
        let stderr_path = dir.path().join("qemu.stderr");
        let stderr =
            std::fs::File::create(&stderr_path).map_err(io("creating the emulator log"))?;

        let mut child = Command::new(&config.qemu)
            .args(config.args(&socket))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .kill_on_drop(true)
            .spawn()
            .map_err(|source| match source.kind() {
                std::io::ErrorKind::NotFound => TargetError::EmulatorMissing {
                    binary: config.qemu.clone(),
                },
                _ => TargetError::EmulatorFailed {
                    binary: config.qemu.clone(),
                    source,
                },
            })?;

        let deadline = Instant::now() + config.boot_timeout;
        let stream = tokio::select! {
            accepted = tokio::time::timeout_at(deadline, listener.accept()) => match accepted {
                Ok(Ok((stream, _))) => stream,
                Ok(Err(source)) => return Err(TargetError::Io { target: name, context: "accepting QEMU's connection".into(), source }),
                Err(_) => {
                    let _ = child.kill().await;
                    return Err(TargetError::Hang { target: name, during: "waiting for QEMU to connect".into(), waited: config.boot_timeout });
                }
            },
            status = child.wait() => {
                let code = status.ok().and_then(|s| s.code());
                let stderr = std::fs::read_to_string(&stderr_path).unwrap_or_default();
                return Err(TargetError::Exited { target: name, code, during: "starting".into(), stderr });
            }
        };
        let link = Link::new(stream, config.garbage_budget);
        let boot_timeout = config.boot_timeout;
        let mut target = Self {
            name,
            config,
            child,
            link,
            failed: None,
            stderr_path,
            _dir: dir,
        };
        target.await_ready(boot_timeout, "booting").await?;
        Ok(target)
    }

    /// Stops the emulator now (also done on drop).
    pub async fn shutdown(mut self) {
        let _ = self.child.kill().await;
    }

    /// Writes raw bytes to the band's UART without waiting for an answer: fault
    /// injection (line noise) for robustness tests.
    pub async fn send_raw(&mut self, bytes: &[u8]) -> Result<(), TargetError> {
        self.check_alive()?;
        let timeout = self.config.exchange_timeout;
        match self.link.send(bytes, Instant::now() + timeout).await {
            Ok(()) => Ok(()),
            Err(failure) => Err(self.fail(failure, "receiving raw bytes", timeout).await),
        }
    }

    /// Sends the resynchronisation fill (docs/protocol.md): afterwards any half-received
    /// frame in the band is resolved and the next request is read cleanly.
    pub async fn resync(&mut self) -> Result<(), TargetError> {
        self.send_raw(&[RESYNC_FILL; RESYNC_FILL_LEN]).await
    }

    /// The emulator's process id while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Lines the firmware printed that were not protocol replies.
    pub fn stray_lines(&self) -> &[String] {
        self.link.stray_lines()
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
                    return Err(self.fail_with(TargetError::Unexpected {
                        target: self.name.clone(),
                        expected: "text lines",
                        got: format!("a {ty:?} frame"),
                    }));
                }
                Err(failure) => return Err(self.fail(failure, during, timeout).await),
            }
        }
    }

    /// Turns a link failure into its named cause; the emulator is dead afterwards.
    async fn fail(&mut self, failure: LinkFailure, during: &str, timeout: Duration) -> TargetError {
        let target = self.name.clone();
        let during = during.to_string();
        let error = match failure {
            LinkFailure::Timeout => {
                let _ = self.child.kill().await;
                TargetError::Hang {
                    target,
                    during,
                    waited: timeout,
                }
            }
            LinkFailure::Trap(report) => {
                self.reap().await;
                TargetError::Trap {
                    target,
                    during,
                    report,
                }
            }
            LinkFailure::Closed => {
                let code = self.reap().await;
                let stderr = std::fs::read_to_string(&self.stderr_path).unwrap_or_default();
                TargetError::Exited {
                    target,
                    code,
                    during,
                    stderr,
                }
            }
            LinkFailure::Garbage(bytes) => {
                let _ = self.child.kill().await;
                TargetError::Garbage {
                    target,
                    during,
                    bytes,
                }
            }
            LinkFailure::Io(source) => {
                let _ = self.child.kill().await;
                TargetError::Io {
                    target,
                    context: during,
                    source,
                }
            }
        };
        self.fail_with(error)
    }

    fn fail_with(&mut self, error: TargetError) -> TargetError {
        let _ = self.child.start_kill();
        self.failed.get_or_insert_with(|| error.to_string());
        error
    }

    /// The next response frame by `deadline`, skipping text lines.
    async fn next_reply(
        &mut self,
        deadline: Instant,
        during: &str,
    ) -> Result<BinaryReply, TargetError> {
        loop {
            match self.link.next(deadline).await {
                Ok(Incoming::Frame {
                    ty: reply_ty,
                    payload,
                }) => {
                    return match BinaryReply::from_frame(reply_ty, &payload) {
                        Some(reply) => Ok(reply),
                        None => Err(self.fail_with(TargetError::Unexpected {
                            target: self.name.clone(),
                            expected: "a response frame",
                            got: format!("a {reply_ty:?} frame with a malformed payload"),
                        })),
                    };
                }
                // Text while waiting for a frame (e.g. a late `m-ready`) is not an answer.
                Ok(Incoming::Line(_)) => {}
                Err(failure) => {
                    return Err(self
                        .fail(failure, during, self.config.exchange_timeout)
                        .await);
                }
            }
        }
    }

    /// Waits briefly for the emulator to exit on its own, then kills it; the exit code.
    async fn reap(&mut self) -> Option<i32> {
        match tokio::time::timeout(Duration::from_secs(2), self.child.wait()).await {
            Ok(Ok(status)) => status.code(),
            _ => {
                let _ = self.child.kill().await;
                None
            }
        }
    }
}

impl Target for QemuTarget {
    fn name(&self) -> &str {
        &self.name
    }

    async fn receive(&mut self) -> Result<BinaryReply, TargetError> {
        self.check_alive()?;
        let deadline = Instant::now() + self.config.exchange_timeout;
        self.next_reply(deadline, "finishing a multi-frame reply")
            .await
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
        let deadline = Instant::now() + self.config.exchange_timeout;
        if let Err(failure) = self.link.send(&frame[..n], deadline).await {
            return Err(self
                .fail(failure, &during, self.config.exchange_timeout)
                .await);
        }
        self.next_reply(deadline, &during).await
    }

    async fn command(&mut self, command: &str) -> Result<Vec<String>, TargetError> {
        self.check_alive()?;
        let during = format!("answering `{command}%`");
        let timeout = self.config.exchange_timeout;
        let mut bytes = command.as_bytes().to_vec();
        bytes.push(b'%');
        if let Err(failure) = self.link.send(&bytes, Instant::now() + timeout).await {
            return Err(self.fail(failure, &during, timeout).await);
        }
        self.await_ready(timeout, &during).await
    }
}

impl Drop for QemuTarget {
    fn drop(&mut self) {
        // kill_on_drop also does this; being explicit keeps it true if that changes.
        let _ = self.child.start_kill();
    }
}
