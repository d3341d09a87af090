//! The `harbor` command line: argument parsing, dispatch and exit codes.

/// `println!` for commands that hold emulators or sockets while they print (`run`,
/// `bench`): a closed stdout is ignored instead of panicking, and the command still ends
/// with its own exit code. The other commands die of SIGPIPE quietly (see [`main`]).
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

/// `print!` counterpart of `outln!`.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stdout(), $($arg)*);
    }};
}

mod bench;
mod boards;
mod cloud;
mod compile;
mod datasets;
mod diff;
mod flash;
mod image;
mod import;
mod infer;
mod merge;
mod models;
mod ports;
mod preflight;
mod prepare;
mod progress;
mod run;
#[cfg(feature = "train")]
mod study;
#[cfg(feature = "train")]
mod train;
#[cfg(feature = "train")]
mod train_union;
mod validate;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Exit codes, documented in the README: CI gates on them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// Everything ran and every check passed.
    Ok = 0,
    /// Ran, but a check or threshold failed.
    ChecksFailed = 1,
    /// Bad usage or bad input (arguments, dataset files, profiles, scenarios).
    Usage = 2,
    /// Infrastructure failure: emulator missing, board unreachable, output not writable.
    Infrastructure = 3,
    /// SIGINT stopped a run (128 + 2, as a shell reports it); the report holds what completed.
    Interrupted = 130,
    /// SIGTERM stopped a run (128 + 15).
    Terminated = 143,
}

impl From<crate::shutdown::Stop> for Exit {
    fn from(stop: crate::shutdown::Stop) -> Self {
        match stop {
            crate::shutdown::Stop::Interrupt => Exit::Interrupted,
            crate::shutdown::Stop::Terminate => Exit::Terminated,
        }
    }
}

/// A failure to report to the user, with the exit code it maps to.
#[derive(Debug)]
pub struct CliError {
    /// The process exit code this failure maps to.
    pub exit: Exit,
    /// What to tell the user.
    pub message: String,
}

impl CliError {
    /// A usage or input error (exit 2).
    pub fn usage(message: impl std::fmt::Display) -> Self {
        CliError {
            exit: Exit::Usage,
            message: message.to_string(),
        }
    }

    /// An infrastructure failure (exit 3).
    pub fn infrastructure(message: impl std::fmt::Display) -> Self {
        CliError {
            exit: Exit::Infrastructure,
            message: message.to_string(),
        }
    }
}

impl From<crate::datasets::DatasetError> for CliError {
    fn from(e: crate::datasets::DatasetError) -> Self {
        CliError::usage(e)
    }
}

impl From<crate::board::BoardError> for CliError {
    fn from(e: crate::board::BoardError) -> Self {
        CliError::usage(e)
    }
}

/// What a subcommand returns: its exit code, or a failure to report.
pub type CliResult = Result<Exit, CliError>;

#[derive(Debug, Parser)]
#[command(
    name = "harbor",
    version,
    about = "Hardware-in-the-loop testing for TinyML activity-recognition firmware on wrist bands",
    long_about = "harbor reads public HAR recordings in their published formats, brings them to the band's \
                  IMU rate and readings, replays them into band firmware (emulated or real) and measures \
                  accuracy, latency, memory and energy.\n\n\
                  Exit codes: 0 ok, 1 a check failed, 2 usage or input error, 3 infrastructure failure."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List the dataset formats harbor reads, fetch public datasets, or inspect one on disk.
    #[command(subcommand)]
    Datasets(datasets::DatasetsCommand),
    /// Turn a dataset into labelled model windows at the band's IMU and model rates (.npz).
    Prepare(prepare::PrepareArgs),
    /// Replay a scenario into its targets; write report.json, .md, .junit.xml and .html.
    Run(run::RunArgs),
    /// Check a scenario file without running it: schema, paths, thresholds, matrix size.
    Validate(validate::ValidateArgs),
    /// Compare two report.json files: per-cell metric deltas; exit 1 on a regression.
    Diff(diff::DiffArgs),
    /// Merge shard reports (`harbor run --shard i/n`) into one report.
    Merge(merge::MergeArgs),
    /// Measure windows/s through QEMU, side by side in one emulator: tensor mode and stream
    /// mode (WISDM 2019 watch subject 1617: `harbor datasets fetch wisdm2019`) against compute
    /// only (their ratios), and the harness's share of the CPU time.
    Bench(bench::BenchArgs),
    /// Build the ESP app image (+ bootloader, partition table, merged file) for a firmware ELF.
    Image(image::ImageArgs),
    /// Flash a firmware ELF to an ESP board over its serial port.
    Flash(flash::FlashArgs),
    /// List the serial ports with their USB VID:PID (where a board may be).
    Ports(ports::PortsArgs),
    /// List or show board profiles (boards/*.yaml).
    #[command(subcommand)]
    Boards(boards::BoardsCommand),
    /// Train, personalize, import (a user's .tflite) and list the band's int8 model variants.
    #[command(subcommand)]
    Models(models::ModelsCommand),
    /// Score a model directory (float and int8 on the host) on prepared windows.
    Eval(models::EvalArgs),
    /// Run a model on given windows (.npy) on the host or a device; write its int8 outputs,
    /// optionally compare them bit for bit with a reference.
    Infer(infer::InferArgs),
    /// Run the mock cloud on its own: serve a state directory, add users and devices,
    /// measure it under load.
    #[command(subcommand)]
    Cloud(cloud::CloudCommand),
    /// Research studies: LODO across datasets, transfer, BandX personalization (host and
    /// device columns side by side with the papers' figures).
    #[cfg(feature = "train")]
    #[command(subcommand)]
    Study(study::StudyCommand),
}

/// Restores SIGPIPE's default action, which Rust's runtime ignores: a command whose stdout
/// closes (`harbor validate … | head -1`) then ends at once and quietly, as Unix tools do,
/// instead of panicking in `println!`. Not for commands with emulators or sockets: there
/// a write to a peer that went away must be an error, not the end of harbor.
fn die_quietly_on_closed_stdout() {
    // SAFETY: sets the disposition of one signal to its default; no handler runs.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// Runs the CLI with the process's arguments and returns its exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    if !matches!(
        cli.command,
        Command::Run(_) | Command::Bench(_) | Command::Cloud(_)
    ) {
        die_quietly_on_closed_stdout();
    }
    let outcome = match cli.command {
        Command::Datasets(cmd) => datasets::run(cmd),
        Command::Boards(cmd) => boards::run(cmd),
        Command::Ports(args) => ports::run(&args),
        Command::Image(args) => image::run(args),
        Command::Flash(args) => flash::run(args),
        Command::Prepare(args) => prepare::run(args),
        Command::Run(args) => run::run(args),
        Command::Validate(args) => validate::run(&args),
        Command::Diff(args) => diff::run(args),
        Command::Merge(args) => merge::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Models(cmd) => models::run(cmd),
        Command::Eval(args) => models::eval(&args),
        Command::Infer(args) => infer::run(&args),
        Command::Cloud(cmd) => cloud::run(cmd),
        #[cfg(feature = "train")]
        Command::Study(cmd) => study::run(cmd),
    };
    match outcome {
        Ok(exit) => ExitCode::from(exit as u8),
        Err(err) => {
            eprintln!("error: {}", err.message);
            ExitCode::from(err.exit as u8)
        }
    }
}

/// Writes a command's output file whole or not at all: a temporary file beside it, renamed
/// over it; the temporary file is removed on failure.
pub(crate) fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> Result<(), CliError> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = std::path::PathBuf::from(tmp);
    std::fs::write(&tmp, bytes)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            CliError::infrastructure(format!("{}: {e}", path.display()))
        })
}
