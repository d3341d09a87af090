//! Why talking to a device under test failed, as named causes the reports can print.

use std::path::PathBuf;
use std::time::Duration;

use harbor_core::protocol::trap::TrapReport;
use harbor_core::protocol::{ErrorCause, MessageType};

#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error(
        "emulator `{binary}` not found: run scripts/setup, or `apt-get install -t bookworm-backports qemu-system-misc` (Debian bookworm)"
    )]
    EmulatorMissing { binary: PathBuf },
    #[error("could not start emulator `{binary}`: {source}")]
    EmulatorFailed {
        binary: PathBuf,
        source: std::io::Error,
    },
    #[error("firmware image {path} does not exist: run scripts/build-firmware")]
    FirmwareMissing { path: PathBuf },
    #[error("{target} exited with {} while {during}{}", exit_text(*code), stderr_text(stderr))]
    Exited {
        target: String,
        code: Option<i32>,
        during: String,
        stderr: String,
    },
    #[error(
        "{target} trapped while {during}: {} (mcause=0x{:08x}) at mepc=0x{:08x}, mtval=0x{:08x}",
        report.cause_name(), report.mcause, report.mepc, report.mtval
    )]
    Trap {
        target: String,
        during: String,
        report: TrapReport,
    },
    #[error("{target} hung: no answer within {waited:?} while {during} (emulator killed)")]
    Hang {
        target: String,
        during: String,
        waited: Duration,
    },
    #[error("{target} sent {bytes} bytes that never formed a valid response while {during}")]
    Garbage {
        target: String,
        during: String,
        bytes: usize,
    },
    #[error("{target} refused {request:?}: {cause} (detail 0x{detail:08x})")]
    Rejected {
        target: String,
        request: MessageType,
        cause: ErrorCause,
        detail: u32,
    },
    #[error("{target} answered {got} where {expected} was expected")]
    Unexpected {
        target: String,
        expected: &'static str,
        got: String,
    },
    #[error("{target}: {context}: {source}")]
    Io {
        target: String,
        context: String,
        source: std::io::Error,
    },
    #[error("{target} is unusable after an earlier failure: {first_failure}")]
    Dead {
        target: String,
        first_failure: String,
    },
}

fn exit_text(code: Option<i32>) -> String {
    match code {
        Some(c) => format!("code {c}"),
        None => "no exit code (killed by a signal)".into(),
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
    /// A short stable name of the failure kind, for reports and test assertions.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::EmulatorMissing { .. } => "emulator-missing",
            Self::EmulatorFailed { .. } => "emulator-failed",
            Self::FirmwareMissing { .. } => "firmware-missing",
            Self::Exited { .. } => "exited",
            Self::Trap { .. } => "trap",
            Self::Hang { .. } => "hang",
            Self::Garbage { .. } => "garbage",
            Self::Rejected { .. } => "rejected",
            Self::Unexpected { .. } => "unexpected",
            Self::Io { .. } => "io",
            Self::Dead { .. } => "dead",
        }
    }
}
