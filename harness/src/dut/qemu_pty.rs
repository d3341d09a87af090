//! The band firmware in QEMU with its UART on a pseudo-terminal: a real tty that
//! [`super::SerialTarget`] opens like a board's port. This is how the serial backend is
//! tested end to end without a board (docs/serial.md).
//!
//! QEMU is started with `-chardev pty,id=uart0 -serial chardev:uart0` and prints
//! `char device redirected to /dev/pts/N (label uart0)` on **stdout**; the launcher reads
//! that line. QEMU drops what the firmware writes while no one has the pty open, so the
//! boot banner is lost: open the port with `Reset::None` (it probes with Hello).

use std::path::{Path, PathBuf};

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::ChildStdout;

use super::launch::EmulatorProcess;
use super::{QemuConfig, TargetError};

/// A running QEMU whose UART is the pty at [`Self::pty`]; killed when dropped.
pub struct QemuPty {
    /// The QEMU process.
    pub process: EmulatorProcess,
    /// The pty device QEMU's UART is on (e.g. `/dev/pts/7`).
    pub pty: PathBuf,
    /// Kept open so QEMU never writes to a closed pipe.
    _stdout: BufReader<ChildStdout>,
}

impl QemuPty {
    /// Starts QEMU with `config`'s firmware and waits (boot timeout) for its pty's name.
    pub async fn launch(config: &QemuConfig) -> Result<Self, TargetError> {
        let prepare = |_: &str, _: &Path| Ok((config.args_with_chardev("pty,id=uart0".into()), ()));
        let read_name = |name: String, (), stdout: Option<ChildStdout>| async move {
            let stdout = stdout.ok_or_else(|| TargetError::Io {
                target: name.clone(),
                context: "reading QEMU's stdout".into(),
                source: std::io::Error::other("spawned without a stdout pipe"),
            })?;
            let mut stdout = BufReader::new(stdout);
            let pty = read_pty_name(&name, &mut stdout).await?;
            Ok((pty, stdout))
        };
        let launched = config
            .launcher("qemu-pty", true)
            .start(prepare, read_name, "waiting for QEMU to name its pty")
            .await?;
        let (pty, stdout) = launched.ready;
        Ok(Self {
            process: launched.process,
            pty,
            _stdout: stdout,
        })
    }
}

async fn read_pty_name(
    name: &str,
    stdout: &mut BufReader<ChildStdout>,
) -> Result<PathBuf, TargetError> {
    let mut line = String::new();
    loop {
        line.clear();
        let n = stdout
            .read_line(&mut line)
            .await
            .map_err(|source| TargetError::Io {
                target: name.to_string(),
                context: "reading QEMU's output".into(),
                source,
            })?;
        if n == 0 {
            // QEMU closed stdout: it is exiting; the process wait reports how.
            std::future::pending::<()>().await;
        }
        if let Some(path) = pty_of(&line) {
            return Ok(path);
        }
    }
}

/// The device in QEMU's `char device redirected to /dev/pts/N (label …)` line.
pub fn pty_of(line: &str) -> Option<PathBuf> {
    let rest = line.trim().strip_prefix("char device redirected to ")?;
    let path = rest.split_once(" (label ").map_or(rest, |(path, _)| path);
    path.starts_with("/dev/").then(|| PathBuf::from(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pty_is_read_from_qemus_redirect_line() {
        assert_eq!(
            pty_of("char device redirected to /dev/pts/7 (label uart0)\n"),
            Some(PathBuf::from("/dev/pts/7"))
        );
        assert_eq!(
            pty_of("qemu-system-riscv32: warning: No satp mode set"),
            None
        );
        assert_eq!(pty_of("char device redirected to nowhere (label x)"), None);
    }
}
