//! Why talking to a device under test failed, as named causes the reports can print.

use std::path::PathBuf;
use std::time::Duration;

use harbor_core::protocol::trap::TrapReport;
use harbor_core::protocol::{ErrorCause, MessageType};

/// A program harbor starts for a target, named in errors with how to get it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tool {
    /// `qemu-system-riscv32`.
    Qemu,
    /// `renode`.
    Renode,
}

impl Tool {
    /// The program's name in messages.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Qemu => "QEMU",
            Self::Renode => "Renode",
        }
    }

    /// The exact step that installs it.
    pub const fn install_hint(self) -> &'static str {
        match self {
            Self::Qemu => {
                "run scripts/setup, or `apt-get install -t bookworm-backports qemu-system-misc` (Debian bookworm)"
            }
            Self::Renode => {
                "install Renode from its release packages (github.com/renode/renode/releases: the Linux portable \
package or the .deb) and put `renode` on PATH, or set HARBOR_RENODE=/path/to/renode"
            }
        }
    }
}

/// Why a serial port could not be opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PortProblem {
    /// No such device.
    Missing,
    /// Another program holds it.
    Busy,
    /// No permission.
    Denied,
    /// Anything else the OS said.
    Other,
}

impl PortProblem {
    /// What to check or change, by cause.
    pub fn hint(self) -> &'static str {
        match self {
            Self::Missing => {
                "is the board plugged in? `harbor ports` lists the serial ports with their USB VID:PID"
            }
            Self::Busy => {
                "another program holds the port (a serial monitor, `espflash monitor`, another harbor run): close it"
            }
            Self::Denied => {
                "no permission to open it: add your user to the group owning the device (`dialout` on Debian: `sudo usermod -aG dialout $USER`, then log in again)"
            }
            Self::Other => "check the device path and that it is a serial port (`harbor ports`)",
        }
    }
}

/// Why a device could not be reached or did not answer as it should.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    /// The emulator binary is not installed.
    #[error("{} `{binary}` not found: {}", tool.name(), tool.install_hint())]
    EmulatorMissing {
        /// Which emulator.
        tool: Tool,
        /// The binary harbor looked for.
        binary: PathBuf,
    },
    /// This build of harbor cannot drive the backend (e.g. `probe` without its feature).
    #[error("cannot run a `{kind}` device: {reason}")]
    Unavailable {
        /// The backend (`probe`, …).
        kind: &'static str,
        /// Why.
        reason: &'static str,
    },
    /// The emulator's run files could not be prepared.
    #[error("{target}: cannot prepare the emulator run: {source}")]
    Setup {
        /// The device's name in messages.
        target: String,
        /// The underlying error.
        source: super::renode::ScriptError,
    },
    /// The serial port could not be opened.
    #[error("cannot open serial port {port}: {reason}; {}", problem.hint())]
    PortUnavailable {
        /// The port path.
        port: String,
        /// The cause, with its hint.
        problem: PortProblem,
        /// The OS error as the serial library reported it.
        reason: String,
    },
    /// A board's port closed.
    #[error("{target} disconnected while {during} (the port closed: board unplugged or reset?)")]
    Disconnected {
        /// The device's name in messages.
        target: String,
        /// What harbor was doing.
        during: String,
    },
    /// The emulator binary exists but could not be started.
    #[error("could not start emulator `{binary}`: {source}")]
    EmulatorFailed {
        /// The binary.
        binary: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The firmware image does not exist.
    #[error("firmware image {path} does not exist: run scripts/build-firmware")]
    FirmwareMissing {
        /// The image looked for.
        path: PathBuf,
    },
    /// The emulator process ended.
    #[error("{target} exited with {} while {during}{}", exit_text(*code), stderr_text(stderr))]
    Exited {
        /// The device's name in messages.
        target: String,
        /// The exit code; `None` if killed by a signal.
        code: Option<i32>,
        /// What harbor was doing.
        during: String,
        /// The emulator's output.
        stderr: String,
    },
    /// The firmware's trap handler reported a CPU exception.
    #[error(
        "{target} trapped while {during}: {} (mcause=0x{:08x}) at mepc=0x{:08x}, mtval=0x{:08x}",
        report.cause_name(), report.mcause, report.mepc, report.mtval
    )]
    Trap {
        /// The device's name in messages.
        target: String,
        /// What harbor was doing.
        during: String,
        /// The trap handler's report.
        report: TrapReport,
    },
    /// The emulator process was stopped (state `T`: SIGSTOP, a debugger) when the deadline
    /// passed: the harness's trouble, not the firmware's. The process is killed.
    #[error(
        "{target}: emulator stalled (process {pid} stopped, SIGSTOP): no answer within {waited:?} while {during}"
    )]
    EmulatorStalled {
        /// The device's name in messages.
        target: String,
        /// The stopped process.
        pid: u32,
        /// What harbor was doing.
        during: String,
        /// How long harbor waited.
        waited: Duration,
    },
    /// The emulator process was ended by a signal harbor did not send (kill -9, the OOM
    /// killer): the harness's trouble, not the firmware's.
    #[error("{target}: emulator killed by signal {signal} ({}) while {during}", signal_name(*signal))]
    EmulatorKilled {
        /// The device's name in messages.
        target: String,
        /// The signal number.
        signal: i32,
        /// What harbor was doing.
        during: String,
    },
    /// No answer within the deadline.
    #[error("{target} hung: no answer within {waited:?} while {during}")]
    Hang {
        /// The device's name in messages.
        target: String,
        /// What harbor was doing.
        during: String,
        /// How long harbor waited.
        waited: Duration,
    },
    /// Part of a frame came and the rest did not.
    #[error(
        "{target} sent {held} bytes of a frame and not the rest within {waited:?} while {during} (bytes lost on the line?)"
    )]
    Truncated {
        /// The device's name in messages.
        target: String,
        /// What harbor was doing.
        during: String,
        /// Bytes of the frame held.
        held: usize,
        /// How long harbor waited.
        waited: Duration,
    },
    /// Too many bytes that never formed a frame or protocol line.
    #[error("{target} sent {bytes} bytes that never formed a valid response while {during}")]
    Garbage {
        /// The device's name in messages.
        target: String,
        /// What harbor was doing.
        during: String,
        /// Bytes received that formed nothing.
        bytes: usize,
    },
    /// The firmware refused the request (it stays usable).
    #[error("{target} refused {request:?}: {cause} (detail 0x{detail:08x})")]
    Rejected {
        /// The device's name in messages.
        target: String,
        /// The refused request's type.
        request: MessageType,
        /// The firmware's reason.
        cause: ErrorCause,
        /// Cause-specific detail.
        detail: u32,
    },
    /// An MLPerf text command answered `e-[…]`, or lacked the line it must print (the
    /// device still answers: the command can be sent again).
    #[error("{target} refused `{command}%`: {message}")]
    Refused {
        /// The device's name in messages.
        target: String,
        /// The command (a long `db` line cut short).
        command: String,
        /// What the device said, or which line was missing.
        message: String,
    },
    /// An answer of the wrong type.
    #[error("{target} answered {got} where {expected} was expected")]
    Unexpected {
        /// The device's name in messages.
        target: String,
        /// What was expected.
        expected: &'static str,
        /// What came instead.
        got: String,
    },
    /// An I/O error on the link or the host.
    #[error("{target}: {context}: {source}")]
    Io {
        /// The device's name in messages.
        target: String,
        /// What harbor was doing.
        context: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A call after a failure the target cannot recover from.
    #[error("{target} is unusable after an earlier failure: {first_failure}")]
    Dead {
        /// The device's name in messages.
        target: String,
        /// The first failure's message.
        first_failure: String,
    },
}

fn exit_text(code: Option<i32>) -> String {
    match code {
        Some(c) => format!("code {c}"),
        None => "no exit code (killed by a signal)".into(),
    }
}

fn signal_name(signal: i32) -> &'static str {
    match signal {
        libc::SIGKILL => "SIGKILL",
        libc::SIGTERM => "SIGTERM",
        libc::SIGINT => "SIGINT",
        libc::SIGHUP => "SIGHUP",
        libc::SIGQUIT => "SIGQUIT",
        libc::SIGABRT => "SIGABRT",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGBUS => "SIGBUS",
        libc::SIGPIPE => "SIGPIPE",
        _ => "another signal",
    }
}

fn stderr_text(stderr: &str) -> String {
    let stderr = stderr.trim();
    if stderr.is_empty() {
        String::new()
    } else {
        format!("; emulator said: {stderr}")
    }
}

impl TargetError {
    /// Kinds that say the harness could not reach the device (nothing to install or plug in
    /// was there), not that the device misbehaved: `harbor run` exits 3 on them.
    pub const INFRASTRUCTURE_KINDS: &[&str] = &[
        "emulator-missing",
        "emulator-failed",
        "backend-unavailable",
        "firmware-missing",
        "port-unavailable",
        "emulator-stalled",
        "emulator-killed",
    ];

    /// Whether the harness, not the device, is at fault (one of [`Self::INFRASTRUCTURE_KINDS`]).
    pub fn is_infrastructure(&self) -> bool {
        Self::INFRASTRUCTURE_KINDS.contains(&self.kind())
    }

    /// A short stable name of the failure kind, for reports and test assertions.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::EmulatorMissing { .. } => "emulator-missing",
            Self::Unavailable { .. } => "backend-unavailable",
            // The run could not be set up: as infrastructure as an emulator that fails to start.
            Self::Setup { .. } => "emulator-failed",
            Self::PortUnavailable { .. } => "port-unavailable",
            Self::Disconnected { .. } => "disconnected",
            Self::EmulatorFailed { .. } => "emulator-failed",
            Self::FirmwareMissing { .. } => "firmware-missing",
            Self::Exited { .. } => "exited",
            Self::Trap { .. } => "trap",
            Self::EmulatorStalled { .. } => "emulator-stalled",
            Self::EmulatorKilled { .. } => "emulator-killed",
            Self::Hang { .. } => "hang",
            Self::Truncated { .. } => "truncated",
            Self::Garbage { .. } => "garbage",
            Self::Rejected { .. } => "rejected",
            Self::Refused { .. } => "refused",
            Self::Unexpected { .. } => "unexpected",
            Self::Io { .. } => "io",
            Self::Dead { .. } => "dead",
        }
    }
}
