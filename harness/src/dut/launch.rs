//! Starting an emulator behind a target, once for QEMU, QEMU-pty and Renode: [`Launch`]
//! checks the firmware, makes a temp run folder, spawns the emulator with its output logged
//! there, waits (boot deadline) for its UART socket or pty, and for socket backends for the
//! firmware's `m-ready`. The [`EmulatorProcess`] is killed on drop, and its exit or failure
//! is named as a [`TargetError`].

use std::ffi::OsString;
use std::future::Future;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::process::{Child, ChildStdout, Command};
use tokio::time::Instant;

use super::TargetError;
use super::error::Tool;
use super::session::{Backing, LinkTarget};

/// One emulator run to start: what to run, on which firmware, and how long it may take.
pub(crate) struct Launch<'a> {
    /// Names the run (`<prefix>:<firmware file>`) and its folder (`harbor-<prefix>-…`).
    pub prefix: &'static str,
    pub tool: Tool,
    pub binary: &'a Path,
    pub firmware: &'a Path,
    /// The log's file name in the run folder (stdout and stderr).
    pub log_name: &'static str,
    /// Hand stdout to `ready` as a pipe instead of logging it (QEMU names its pty there).
    pub pipe_stdout: bool,
    /// Deadline for `ready`, and again for the boot banner.
    pub boot_timeout: Duration,
}

/// A started emulator and what its readiness wait produced.
pub(crate) struct Launched<T> {
    pub name: String,
    pub process: EmulatorProcess,
    pub ready: T,
}

impl Launch<'_> {
    /// Checks the firmware exists, makes the run folder, lets `prepare` put its files there
    /// and return the arguments plus what `ready` needs, spawns the emulator, and waits for
    /// `ready` (what it waits for is `waiting_for`, named in a `Hang`).
    pub async fn start<P, T, Fut>(
        &self,
        prepare: impl FnOnce(&str, &Path) -> Result<(Vec<OsString>, P), TargetError>,
        ready: impl FnOnce(String, P, Option<ChildStdout>) -> Fut,
        waiting_for: &str,
    ) -> Result<Launched<T>, TargetError>
    where
        Fut: Future<Output = Result<T, TargetError>>,
    {
        let name = target_name(self.prefix, self.firmware);
        if !self.firmware.is_file() {
            return Err(TargetError::FirmwareMissing {
                path: self.firmware.to_path_buf(),
            });
        }
        let dir = EmulatorProcess::folder(&name, self.prefix)?;
        let (args, prepared) = prepare(&name, dir.path())?;
        let stdout = self.pipe_stdout.then(Stdio::piped);
        let mut process = EmulatorProcess::spawn(
            &name,
            self.tool,
            self.binary,
            args,
            dir,
            self.log_name,
            stdout,
        )?;
        let stdout = process.take_stdout();
        let ready = process
            .await_ready(
                ready(name.clone(), prepared, stdout),
                self.boot_timeout,
                waiting_for,
            )
            .await?;
        Ok(Launched {
            name,
            process,
            ready,
        })
    }

    /// [`Self::start`] where `ready` yields the UART's byte stream; then the protocol runs
    /// over it, past the firmware's `m-ready` banner.
    pub async fn link<S, P, Fut>(
        &self,
        prepare: impl FnOnce(&str, &Path) -> Result<(Vec<OsString>, P), TargetError>,
        ready: impl FnOnce(String, P, Option<ChildStdout>) -> Fut,
        waiting_for: &str,
        garbage_budget: usize,
        exchange_timeout: Duration,
    ) -> Result<LinkTarget<S, EmulatorProcess>, TargetError>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send,
        Fut: Future<Output = Result<S, TargetError>>,
    {
        let launched = self.start(prepare, ready, waiting_for).await?;
        let mut target = LinkTarget::new(
            launched.name,
            launched.ready,
            launched.process,
            garbage_budget,
            exchange_timeout,
        );
        target.await_ready(self.boot_timeout, "booting").await?;
        Ok(target)
    }
}

/// How long a process that reported a trap or closed its UART gets to exit on its own.
const REAP_GRACE: Duration = Duration::from_secs(2);

/// A running emulator; killed when dropped.
pub struct EmulatorProcess {
    name: String,
    child: Child,
    log_path: PathBuf,
    /// Holds the log (and whatever the caller put there: sockets, scripts); removed on drop.
    dir: tempfile::TempDir,
}

impl EmulatorProcess {
    /// A fresh folder `harbor-<prefix>-…` for the process's files, before it starts.
    pub fn folder(name: &str, prefix: &str) -> Result<tempfile::TempDir, TargetError> {
        tempfile::Builder::new()
            .prefix(&format!("harbor-{prefix}-"))
            .tempdir()
            .map_err(|source| TargetError::Io {
                target: name.to_string(),
                context: "creating a run folder".into(),
                source,
            })
    }

    /// Starts `binary args` with stdout and stderr in `<dir>/<log_name>` (stdout is
    /// `stdout` when given: a pipe the caller reads). A binary that does not exist is
    /// [`TargetError::EmulatorMissing`] with `tool`'s install hint.
    pub fn spawn(
        name: &str,
        tool: Tool,
        binary: &Path,
        args: impl IntoIterator<Item = OsString>,
        dir: tempfile::TempDir,
        log_name: &str,
        stdout: Option<Stdio>,
    ) -> Result<Self, TargetError> {
        let io = |context: &str, source| TargetError::Io {
            target: name.to_string(),
            context: context.to_string(),
            source,
        };
        let log_path = dir.path().join(log_name);
        let log =
            std::fs::File::create(&log_path).map_err(|e| io("creating the emulator log", e))?;
        let stdout = match stdout {
            Some(stdout) => stdout,
            None => log
                .try_clone()
                .map_err(|e| io("creating the emulator log", e))?
                .into(),
        };
        let mut command = Command::new(binary);
        command
            .args(args)
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(log)
            .kill_on_drop(true);
        die_with_parent(&mut command);
        let child = command.spawn().map_err(|source| match source.kind() {
            std::io::ErrorKind::NotFound => TargetError::EmulatorMissing {
                tool,
                binary: binary.to_path_buf(),
            },
            _ => TargetError::EmulatorFailed {
                binary: binary.to_path_buf(),
                source,
            },
        })?;
        Ok(Self {
            name: name.to_string(),
            child,
            log_path,
            dir,
        })
    }

    /// Runs `ready` until it finishes, the process exits (`Exited` with its log) or
    /// `timeout` passes (`Hang`, process killed). `during` names the wait in errors.
    pub async fn await_ready<T>(
        &mut self,
        ready: impl Future<Output = Result<T, TargetError>>,
        timeout: Duration,
        during: &str,
    ) -> Result<T, TargetError> {
        let deadline = Instant::now() + timeout;
        let outcome = tokio::select! {
            done = tokio::time::timeout_at(deadline, ready) => match done {
                Ok(result) => result,
                Err(_) => Err(self.hung(self.name.clone(), during.to_string(), timeout)),
            },
            status = self.child.wait() => Err(self.ended(status.ok(), during.to_string())),
        };
        if outcome.is_err() {
            self.stop();
        }
        outcome
    }

    /// The process's stdout, when [`Self::spawn`] was given a pipe for it.
    pub fn take_stdout(&mut self) -> Option<tokio::process::ChildStdout> {
        self.child.stdout.take()
    }

    /// The folder the process runs with.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// What the process wrote to its log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// The process id while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Kills the process and waits for it.
    pub async fn kill(&mut self) {
        let _ = self.child.kill().await;
    }

    /// Waits briefly for the process to exit on its own, then kills it; how it exited on its
    /// own (`None` when harbor had to kill it).
    async fn reap(&mut self) -> Option<ExitStatus> {
        match tokio::time::timeout(REAP_GRACE, self.child.wait()).await {
            Ok(Ok(status)) => Some(status),
            _ => {
                self.kill().await;
                None
            }
        }
    }

    /// The error for a process that ended by itself with `status`: killed by a signal is the
    /// harness's trouble ([`TargetError::EmulatorKilled`]), an exit code is the firmware's.
    fn ended(&self, status: Option<ExitStatus>, during: String) -> TargetError {
        match status.and_then(|s| s.signal()) {
            Some(signal) => TargetError::EmulatorKilled {
                target: self.name.clone(),
                signal,
                during,
            },
            None => TargetError::Exited {
                target: self.name.clone(),
                code: status.and_then(|s| s.code()),
                during,
                stderr: self.log(),
            },
        }
    }
}

/// Whether process `pid` is stopped (state `T` or `t` in `/proc/<pid>/stat`: SIGSTOP, a
/// tracer). The state follows the command name, which is in parentheses and may hold spaces.
pub fn is_stopped(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| stopped_state(&stat))
}

/// The state letter of a `/proc/<pid>/stat` line says stopped.
fn stopped_state(stat: &str) -> bool {
    stat.rfind(')')
        .and_then(|end| stat[end + 1..].split_whitespace().next())
        .is_some_and(|state| state == "T" || state == "t")
}

impl Backing for EmulatorProcess {
    fn stop(&mut self) {
        let _ = self.child.start_kill();
    }

    async fn settle(&mut self) {
        self.reap().await;
    }

    async fn closed(&mut self, target: String, during: String) -> TargetError {
        let status = self.reap().await;
        let mut error = self.ended(status, during);
        if let TargetError::EmulatorKilled { target: t, .. }
        | TargetError::Exited { target: t, .. } = &mut error
        {
            *t = target;
        }
        error
    }

    /// A stopped process is named as stalled, and killed (SIGKILL ends a stopped process).
    fn hung(&mut self, target: String, during: String, waited: Duration) -> TargetError {
        match self.pid().filter(|&pid| is_stopped(pid)) {
            Some(pid) => {
                self.stop();
                TargetError::EmulatorStalled {
                    target,
                    pid,
                    during,
                    waited,
                }
            }
            None => TargetError::Hang {
                target,
                during,
                waited,
            },
        }
    }

    fn pid(&self) -> Option<u32> {
        EmulatorProcess::pid(self)
    }

    fn log(&self) -> String {
        EmulatorProcess::log(self)
    }

    fn shared_ram(&self) -> Option<PathBuf> {
        let file = self.dir.path().join(super::qemu::SHARED_RAM_FILE);
        file.is_file().then_some(file)
    }
}

impl Drop for EmulatorProcess {
    fn drop(&mut self) {
        // kill_on_drop also does this; being explicit keeps it true if that changes.
        let _ = self.child.start_kill();
    }
}

/// Makes the emulator die with harbor, even when harbor is SIGKILLed and no destructor
/// runs: the kernel sends it SIGKILL when the thread that spawned it ends
/// (`PR_SET_PDEATHSIG`). Spawns happen on the thread that drives the run's runtime, which
/// outlives every emulator it starts.
fn die_with_parent(command: &mut Command) {
    let parent = std::process::id() as libc::pid_t;
    // SAFETY: the closure runs between fork and exec and only makes async-signal-safe
    // system calls (prctl, getppid); it allocates nothing.
    unsafe {
        command.pre_exec(move || {
            if libc::prctl(
                libc::PR_SET_PDEATHSIG,
                libc::SIGKILL as libc::c_ulong,
                0,
                0,
                0,
            ) != 0
            {
                return Err(std::io::Error::last_os_error());
            }
            // harbor died before the prctl took effect: do not outlive it.
            if libc::getppid() != parent {
                return Err(std::io::Error::other(
                    "harbor exited while starting the emulator",
                ));
            }
            Ok(())
        });
    }
}

/// `<prefix>:<file name of path>`, the name a target goes by in messages.
pub fn target_name(prefix: &str, path: &Path) -> String {
    let file = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    format!("{prefix}:{file}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_state_after_the_command_name_decides_stopped() {
        assert!(stopped_state("4242 (qemu-system-ris) T 17 4242 0"));
        assert!(stopped_state("4242 (qemu) t 17"), "stopped by a tracer");
        assert!(!stopped_state("4242 (qemu) S 17 4242 0"));
        assert!(!stopped_state("4242 (qemu) Z 17"));
        // A command name may hold `) T (`: only the last `)` ends it.
        assert!(!stopped_state("4242 (a) T (b) R 17"));
        assert!(!stopped_state("garbage"));
    }

    #[test]
    fn a_real_process_reads_as_stopped_only_while_stopped() {
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let pid = child.id();
        let wait_for = |want: bool| {
            (0..50).any(|_| {
                std::thread::sleep(Duration::from_millis(20));
                is_stopped(pid) == want
            })
        };
        assert!(!is_stopped(pid));
        // SAFETY: signals the child this test started and has not reaped.
        unsafe { libc::kill(pid as libc::pid_t, libc::SIGSTOP) };
        assert!(wait_for(true), "SIGSTOP reads as stopped");
        unsafe { libc::kill(pid as libc::pid_t, libc::SIGCONT) };
        assert!(wait_for(false), "SIGCONT reads as running");
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(!is_stopped(pid), "a process that is gone is not stopped");
    }
}
