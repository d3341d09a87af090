//! Running the `harbor` binary as a user would, and reading what it said.

use std::ffi::OsStr;
use std::process::{Command, Output};

/// A `harbor` command, ready for more arguments or environment.
pub fn command() -> Command {
    Command::new(env!("CARGO_BIN_EXE_harbor"))
}

/// Runs `harbor ARGS…` to completion.
pub fn harbor<S: AsRef<OsStr>>(args: &[S]) -> Output {
    command()
        .args(args)
        .output()
        .expect("the harbor binary runs")
}

/// What it printed on stdout.
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// What it printed on stderr.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// stdout then stderr, for assertion messages.
pub fn text(out: &Output) -> String {
    stdout(out) + &stderr(out)
}

/// Its exit code (-1 when a signal ended it).
pub fn code(out: &Output) -> i32 {
    out.status.code().unwrap_or(-1)
}
