//! `harbor cloud`: the mock cloud on its own — serve a state directory, register users and
//! devices in it, and measure it under load (docs/cloud.md).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, Subcommand};

use super::{CliError, CliResult, Exit};
use crate::cloud::load::{LoadPlan, LoadReport};
use crate::cloud::registry::Principal;
use crate::cloud::store::{self, MetaRef, STATE_FORMAT, Store, StoreError};
use crate::cloud::{CloudConfig, CloudError, CloudServer, RateLimit};
use crate::shutdown::StopSignal;

/// `harbor cloud` subcommands.
#[derive(Debug, Subcommand)]
pub enum CloudCommand {
    /// Serve the cloud API from a state directory until SIGINT or SIGTERM; the first line
    /// printed is the URL it listens on.
    Serve(ServeArgs),
    /// Users of a state directory.
    #[command(subcommand)]
    User(UserCommand),
    /// Devices of a state directory.
    #[command(subcommand)]
    Device(DeviceCommand),
    /// Drive a fresh server with N concurrent devices x M requests (upload, poll, ranged
    /// download) over loopback; report throughput and latency per request kind.
    Bench(BenchArgs),
}

/// `harbor cloud serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Model directory: its card is the upload contract, its model the personalization base.
    #[arg(long)]
    model: PathBuf,
    /// State directory (created if missing); held exclusively while serving.
    #[arg(long)]
    state: PathBuf,
    /// Address to listen on; port 0 lets the OS pick.
    #[arg(long, default_value = "127.0.0.1:8470")]
    addr: SocketAddr,
    /// Allow a non-loopback --addr (the API has bearer tokens but no TLS).
    #[arg(long)]
    allow_remote: bool,
    /// Requests per second per token (token bucket); over it, 429 with Retry-After.
    #[arg(long)]
    rate: Option<f64>,
    /// Requests a token may send back to back (default: --rate rounded up).
    #[arg(long, requires = "rate")]
    burst: Option<u32>,
    /// Hardware versions the release API knows (besides those of registered devices).
    #[arg(long = "hardware", default_value = "esp32c3-band")]
    hardware: Vec<String>,
}

/// `harbor cloud user ...`.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Register a user; prints its bearer token.
    Add {
        /// State directory (created if missing); refused while a server holds it.
        #[arg(long)]
        state: PathBuf,
        /// User name (1-64 of [A-Za-z0-9_-]).
        #[arg(long)]
        user: String,
    },
}

/// `harbor cloud device ...`.
#[derive(Debug, Subcommand)]
pub enum DeviceCommand {
    /// Register a user's device; prints its bearer token.
    Add {
        /// State directory (created if missing); refused while a server holds it.
        #[arg(long)]
        state: PathBuf,
        /// The owner (a registered user).
        #[arg(long)]
        user: String,
        /// Device id (1-64 of [A-Za-z0-9_-]).
        #[arg(long)]
        device: String,
        /// Hardware version (1-32 bytes), as the device reports it.
        #[arg(long)]
        hardware: String,
    },
    /// List devices: id, owner, hardware (also while a server runs).
    List {
        /// State directory.
        #[arg(long)]
        state: PathBuf,
    },
}

/// `harbor cloud bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Model directory the server is started with; its model.tflite is every device's release.
    #[arg(long)]
    model: PathBuf,
    /// Concurrent devices, one connection each.
    #[arg(long, default_value_t = 16)]
    devices: usize,
    /// Requests per device, cycling upload, poll, ranged download.
    #[arg(long, default_value_t = 300)]
    requests: usize,
    /// Stop issuing requests after this many seconds.
    #[arg(long, default_value_t = 120.0)]
    max_seconds: f64,
    /// Keep the server's state in memory instead of a temporary directory.
    #[arg(long)]
    in_memory: bool,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

/// Runs a `harbor cloud` subcommand.
pub fn run(cmd: CloudCommand) -> CliResult {
    match cmd {
        CloudCommand::Serve(args) => serve(args),
        CloudCommand::User(UserCommand::Add { state, user }) => {
            let token = change_offline(&state, |r| r.add_user(&user))?;
            outln!("{token}");
            Ok(Exit::Ok)
        }
        CloudCommand::Device(DeviceCommand::Add {
            state,
            user,
            device,
            hardware,
        }) => {
            if harbor_core::ota::manifest::HardwareId::new(&hardware).is_none() {
                return Err(CliError::usage(format!(
                    "--hardware `{hardware}`: 1-32 bytes"
                )));
            }
            let token = change_offline(&state, |r| r.add_device(&user, &device, &hardware))?;
            outln!("{token}");
            Ok(Exit::Ok)
        }
        CloudCommand::Device(DeviceCommand::List { state }) => list_devices(&state),
        CloudCommand::Bench(args) => bench(&args),
    }
}

fn store_error(e: StoreError) -> CliError {
    match e {
        StoreError::Io { .. } => CliError::infrastructure(e),
        _ => CliError::usage(e),
    }
}

fn cloud_error(e: CloudError) -> CliError {
    match e {
        CloudError::State(e) => store_error(e),
        CloudError::Start(_) => CliError::infrastructure(e),
        _ => CliError::usage(e),
    }
}

/// A seed nobody can guess, for a new state directory's tokens and ids.
fn random_seed() -> Result<u64, CliError> {
    let mut bytes = [0u8; 8];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut bytes))
        .map_err(|e| CliError::infrastructure(format!("/dev/urandom: {e}")))?;
    Ok(u64::from_le_bytes(bytes))
}

/// Applies `change` to the registry of a state directory no server holds.
fn change_offline(
    dir: &Path,
    change: impl FnOnce(
        &mut crate::cloud::registry::Registry,
    ) -> Result<String, crate::cloud::RegistryError>,
) -> Result<String, CliError> {
    let (store, mut meta) = Store::open(dir, random_seed()?).map_err(|e| match e {
        StoreError::Locked { .. } => CliError::usage(format!(
            "{e}: a running `harbor cloud serve` owns its devices; stop it (SIGINT), add, start it again"
        )),
        e => store_error(e),
    })?;
    let token = change(&mut meta.registry).map_err(CliError::usage)?;
    store
        .save_meta(&MetaRef {
            format: STATE_FORMAT,
            seed: meta.seed,
            ids: meta.ids,
            registry: &meta.registry,
            jobs: &meta.jobs,
            releases: meta.releases,
        })
        .map_err(store_error)?;
    Ok(token)
}

fn list_devices(dir: &Path) -> CliResult {
    let meta = store::read_meta(dir).map_err(store_error)?.ok_or_else(|| {
        CliError::usage(format!("{}: no cloud state (state.json)", dir.display()))
    })?;
    outln!("{:<24} {:<24} hardware", "device", "owner");
    for (id, d) in meta.registry.devices() {
        outln!("{id:<24} {:<24} {}", d.owner, d.hardware);
    }
    // Tokens are in state.json (owner-only); list only says whether one exists.
    let missing: Vec<&str> = meta
        .registry
        .devices()
        .filter(|(id, _)| {
            meta.registry
                .token_of(&Principal::Device((*id).to_string()))
                .is_none()
        })
        .map(|(id, _)| id)
        .collect();
    if !missing.is_empty() {
        eprintln!("warning: devices without a token: {}", missing.join(", "));
    }
    Ok(Exit::Ok)
}

fn serve(args: ServeArgs) -> CliResult {
    let rate_limit = match args.rate {
        None => None,
        Some(rate) if rate.is_finite() && rate > 0.0 => Some(RateLimit {
            rate,
            burst: args.burst.unwrap_or(rate.ceil() as u32).max(1),
        }),
        Some(rate) => {
            return Err(CliError::usage(format!(
                "--rate {rate}: requests per second, > 0"
            )));
        }
    };
    if args.burst == Some(0) {
        return Err(CliError::usage("--burst 0: at least 1"));
    }
    let mut config = CloudConfig::new(&args.model);
    config.addr = args.addr;
    config.allow_remote = args.allow_remote;
    config.state_dir = Some(args.state.clone());
    config.rate_limit = rate_limit;
    config.hardware = args.hardware;
    config.seed = random_seed()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::infrastructure(format!("tokio runtime: {e}")))?;
    // Catch the signals before the URL is out: a caller may signal as soon as it reads it.
    let stop = runtime
        .block_on(async { StopSignal::listen() })
        .map_err(|e| CliError::infrastructure(format!("signal handlers: {e}")))?;
    let server = CloudServer::start(config).map_err(cloud_error)?;
    outln!("{}", server.base_url());
    eprintln!(
        "harbor cloud: serving {} with state {} (SIGINT or SIGTERM stops it)",
        args.model.display(),
        args.state.display()
    );
    let signal = runtime.block_on(stop.requested());
    server.stop();
    eprintln!("harbor cloud: {signal}: stopped");
    Ok(Exit::from(signal))
}

fn bench(args: &BenchArgs) -> CliResult {
    if !(args.max_seconds.is_finite() && args.max_seconds > 0.0 && args.max_seconds <= 3600.0) {
        return Err(CliError::usage(format!(
            "--max-seconds {}: use (0, 3600]",
            args.max_seconds
        )));
    }
    let plan = LoadPlan {
        model_dir: args.model.clone(),
        devices: args.devices,
        requests: args.requests,
        max_duration: Duration::from_secs_f64(args.max_seconds),
        persist: !args.in_memory,
    };
    let report = crate::cloud::load::run(&plan).map_err(|e| match e {
        crate::cloud::load::LoadError::Cloud(e) => cloud_error(e),
        crate::cloud::load::LoadError::Plan(m) => CliError::usage(m),
        e => CliError::infrastructure(e),
    })?;
    if args.json {
        let text = serde_json::to_string_pretty(&report)
            .map_err(|e| CliError::infrastructure(format!("report: {e}")))?;
        outln!("{text}");
    } else {
        print_report(&report);
    }
    let failed = report.kinds.iter().any(|k| k.errors > 0)
        || report.windows_stored != report.uploads_acknowledged;
    Ok(if failed { Exit::ChecksFailed } else { Exit::Ok })
}

fn print_report(r: &LoadReport) {
    outln!(
        "{} devices x {} requests: {} requests in {:.2} s = {:.0} req/s ({}){}",
        r.devices,
        r.requests_per_device,
        r.requests,
        r.seconds,
        r.throughput_rps,
        if r.persisted {
            "state on disk"
        } else {
            "state in memory"
        },
        if r.truncated {
            ", stopped by --max-seconds"
        } else {
            ""
        }
    );
    outln!(
        "{:<9} {:>7} {:>7} {:>9} {:>9} {:>9}",
        "kind",
        "count",
        "errors",
        "p50 ms",
        "p99 ms",
        "max ms"
    );
    for k in &r.kinds {
        outln!(
            "{:<9} {:>7} {:>7} {:>9.2} {:>9.2} {:>9.2}",
            k.kind,
            k.count,
            k.errors,
            k.p50_ms,
            k.p99_ms,
            k.max_ms
        );
    }
    outln!(
        "uploads acknowledged {}, windows stored {}",
        r.uploads_acknowledged,
        r.windows_stored
    );
}
