//! The probe session (feature `probe`): probe-rs attaches (the ESP32-C3 through
//! its built-in USB-JTAG with the probe-rs-espressif plugin, Cortex-M boards by probe-rs chip
//! name), flashes the ELF, and carries harbor's protocol over RTT: up channel 0 holds the
//! band's bytes, down channel 0 the host's (firmware/band-esp32c3 with feature `rtt`).
//!
//! probe-rs is blocking, so a pump thread owns the probe session: it moves bytes between the
//! RTT buffers and an in-memory duplex stream, and the usual [`LinkTarget`] (deadlines, frame
//! decoding, named failures) runs on the other end. docs/hardware.md has the commands.

use std::path::Path;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, Once};
use std::task::{Context, Poll, Waker};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use probe_rs::flashing::{DownloadOptions, ElfLoader, ElfOptions, download_file_with_options};
use probe_rs::probe::DebugProbeSelector;
use probe_rs::probe::list::Lister;
use probe_rs::rtt::Rtt;
use probe_rs::{Architecture, MemoryInterface, Permissions, RegisterId, Session};
use tokio::io::{AsyncRead, AsyncWrite, DuplexStream, ReadBuf};

use super::ProbeConfig;
use crate::dut::{Backing, LinkTarget, Target, TargetError};

/// The C3's performance counter count register (docs/firmware.md: event select 0x7E0 = instructions).
const C3_COUNTER_CSR: u16 = 0x7E2;
/// Cortex-M DWT: cycle counter, its enable, and the debug block's trace enable.
const DWT_CTRL: u64 = 0xE000_1000;
const DWT_CYCCNT: u64 = 0xE000_1004;
const DEMCR: u64 = 0xE000_EDFC;
const DEMCR_TRCENA: u32 = 1 << 24;
/// Pump poll interval when neither side has bytes.
const IDLE: Duration = Duration::from_millis(1);

/// A board behind a probe, speaking harbor's protocol over RTT.
pub type ProbeTarget = LinkTarget<DuplexStream, ProbeBoard>;

/// The pump thread that owns the probe session.
pub struct ProbeBoard {
    shared: Arc<Shared>,
    counter_requests: mpsc::Sender<mpsc::Sender<Result<u64, String>>>,
    thread: Option<JoinHandle<()>>,
}

struct Shared {
    stop: AtomicBool,
    /// Why the pump stopped on its own (probe unplugged, target lost).
    failure: Mutex<Option<String>>,
}

fn probe_error(target: &str, context: &str, e: impl std::fmt::Display) -> TargetError {
    TargetError::Io {
        target: target.to_string(),
        context: context.to_string(),
        source: std::io::Error::other(e.to_string()),
    }
}

/// Registers the Espressif targets, probe driver and IDF image format with probe-rs once.
fn register_espressif() {
    static ONCE: Once = Once::new();
    ONCE.call_once(probe_rs_espressif::register_plugin);
}

/// Everything blocking: open, attach, flash, reset, find the RTT control block.
fn attach_blocking(config: &ProbeConfig, name: &str) -> Result<(Session, Rtt), TargetError> {
    if config.is_espressif() {
        register_espressif();
    }
    let lister = Lister::new();
    let probe = match &config.selector {
        Some(s) => {
            let selector: DebugProbeSelector =
                s.parse().map_err(|e| probe_error(name, &format!("probe selector `{s}`"), e))?;
            lister.open(selector)
        }
        None => match lister.list_all().as_slice() {
            [] => {
                return Err(probe_error(
                    name,
                    "looking for a debug probe",
                    "none attached (plug the board's USB-JTAG or a probe in; on Linux install probe-rs's udev rules, docs/hardware.md)",
                ));
            }
            [one] => one.open(),
            many => {
                let names: Vec<String> = many.iter().map(|p| p.to_string()).collect();
                return Err(probe_error(
                    name,
                    "choosing a debug probe",
                    format!("{} attached, pick one with a selector: {}", many.len(), names.join("; ")),
                ));
            }
        },
    }
    .map_err(|e| probe_error(name, "opening the debug probe (permissions: docs/hardware.md)", e))?;
    let mut session = probe
        .attach(config.chip.as_str(), Permissions::default())
        .map_err(|e| probe_error(name, &format!("attaching to `{}`", config.chip), e))?;
    if config.flash {
        flash(&mut session, config, name)?;
    }
    let elf = std::fs::read(&config.firmware)
        .map_err(|e| probe_error(name, &format!("reading {}", config.firmware.display()), e))?;
    let rtt_addr = probe_rs::rtt::find_rtt_control_block_in_raw_file(&elf)
        .ok()
        .flatten()
        .ok_or_else(|| {
            probe_error(
                name,
                "finding the RTT control block in the ELF",
                "no _SEGGER_RTT symbol: build the firmware with its `rtt` feature",
            )
        })?;
    {
        let mut core = session
            .core(0)
            .map_err(|e| probe_error(name, "selecting core 0", e))?;
        core.reset()
            .map_err(|e| probe_error(name, "resetting the core", e))?;
        if core.architecture() == Architecture::Arm {
            enable_cycle_counter(&mut core)
                .map_err(|e| probe_error(name, "enabling the DWT cycle counter", e))?;
        }
    }
    // The firmware writes the control block early in start-up: retry until it is there.
    let deadline = Instant::now() + config.boot_timeout;
    loop {
        let mut core = session
            .core(0)
            .map_err(|e| probe_error(name, "selecting core 0", e))?;
        match Rtt::attach_at(&mut core, rtt_addr) {
            Ok(rtt) => {
                drop(core);
                return Ok((session, rtt));
            }
            Err(e) if Instant::now() >= deadline => {
                return Err(TargetError::Hang {
                    target: name.to_string(),
                    during: format!("waiting for the RTT control block at {rtt_addr:#x} ({e})"),
                    waited: config.boot_timeout,
                });
            }
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}

fn flash(session: &mut Session, config: &ProbeConfig, name: &str) -> Result<(), TargetError> {
    let path: &Path = &config.firmware;
    let outcome = if config.is_espressif() {
        download_file_with_options(
            session,
            path,
            probe_rs_espressif::image_format::IdfLoader::default(),
            DownloadOptions::default(),
        )
    } else {
        download_file_with_options(
            session,
            path,
            ElfLoader(ElfOptions::default()),
            DownloadOptions::default(),
        )
    };
    outcome.map_err(|e| probe_error(name, &format!("flashing {}", path.display()), e))
}

fn enable_cycle_counter(core: &mut probe_rs::Core<'_>) -> Result<(), probe_rs::Error> {
    let demcr = core.read_word_32(DEMCR)?;
    core.write_word_32(DEMCR, demcr | DEMCR_TRCENA)?;
    let ctrl = core.read_word_32(DWT_CTRL)?;
    core.write_word_32(DWT_CTRL, ctrl | 1)
}

/// The core's counter: the C3's instruction counter CSR (read with the hart halted for an
/// instant: abstract register access needs it), or a Cortex-M's DWT cycle counter.
fn read_counter(session: &mut Session) -> Result<u64, String> {
    let mut core = session.core(0).map_err(|e| e.to_string())?;
    match core.architecture() {
        Architecture::Riscv => {
            core.halt(Duration::from_millis(100))
                .map_err(|e| e.to_string())?;
            let value: Result<u32, _> = core.read_core_reg(RegisterId(C3_COUNTER_CSR));
            core.run().map_err(|e| e.to_string())?;
            value.map(u64::from).map_err(|e| e.to_string())
        }
        Architecture::Arm => core
            .read_word_32(DWT_CYCCNT)
            .map(u64::from)
            .map_err(|e| e.to_string()),
        other => Err(format!("no counter for a {other:?} core")),
    }
}

/// Moves bytes between the RTT channels and the device end of the duplex stream.
fn pump(
    mut session: Session,
    mut rtt: Rtt,
    mut device: DuplexStream,
    shared: Arc<Shared>,
    counter_requests: mpsc::Receiver<mpsc::Sender<Result<u64, String>>>,
) {
    let mut cx = Context::from_waker(Waker::noop());
    let mut up_buf = vec![0u8; 4096];
    let mut to_host: Vec<u8> = Vec::new();
    let mut to_band: Vec<u8> = Vec::new();
    let result: Result<(), String> = (|| {
        while !shared.stop.load(Ordering::Relaxed) {
            while let Ok(reply) = counter_requests.try_recv() {
                let _ = reply.send(read_counter(&mut session));
            }
            let mut busy = false;
            let mut core = session.core(0).map_err(|e| e.to_string())?;
            // Band → host.
            if to_host.is_empty() {
                let up = rtt
                    .up_channel(0)
                    .ok_or("the firmware has no RTT up channel 0")?;
                let n = up.read(&mut core, &mut up_buf).map_err(|e| e.to_string())?;
                to_host.extend_from_slice(&up_buf[..n]);
            }
            if !to_host.is_empty()
                && let Poll::Ready(r) = Pin::new(&mut device).poll_write(&mut cx, &to_host)
            {
                let n = r.map_err(|e| e.to_string())?;
                to_host.drain(..n);
                busy = true;
            }
            // Host → band.
            if to_band.is_empty() {
                let mut buf = [0u8; 1024];
                let mut rb = ReadBuf::new(&mut buf);
                match Pin::new(&mut device).poll_read(&mut cx, &mut rb) {
                    // The host side closed: the target was dropped.
                    Poll::Ready(Ok(())) if rb.filled().is_empty() => return Ok(()),
                    Poll::Ready(Ok(())) => to_band.extend_from_slice(rb.filled()),
                    Poll::Ready(Err(e)) => return Err(e.to_string()),
                    Poll::Pending => {}
                }
            }
            if !to_band.is_empty() {
                let down = rtt
                    .down_channel(0)
                    .ok_or("the firmware has no RTT down channel 0")?;
                let n = down.write(&mut core, &to_band).map_err(|e| e.to_string())?;
                to_band.drain(..n);
                busy |= n > 0;
            }
            drop(core);
            if !busy {
                std::thread::sleep(IDLE);
            }
        }
        Ok(())
    })();
    if let Err(e) = result {
        *shared.failure.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
    }
    // Dropping `device` closes the stream: the link sees Closed and asks `closed()` why.
}

impl ProbeBoard {
    fn stop_thread(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
    }
}

impl Backing for ProbeBoard {
    fn stop(&mut self) {
        self.stop_thread();
    }

    async fn settle(&mut self) {}

    async fn closed(&mut self, target: String, during: String) -> TargetError {
        let failure = self
            .shared
            .failure
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        TargetError::Io {
            target,
            context: during,
            source: std::io::Error::other(
                failure.unwrap_or_else(|| "the probe session ended".into()),
            ),
        }
    }
}

impl Drop for ProbeBoard {
    fn drop(&mut self) {
        self.stop_thread();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl LinkTarget<DuplexStream, ProbeBoard> {
    /// Attaches, flashes (unless `config.flash` is false), resets and waits for `m-ready`.
    pub async fn attach(config: &ProbeConfig) -> Result<Self, TargetError> {
        let name = format!("probe:{}", config.chip);
        if !config.firmware.is_file() {
            return Err(TargetError::FirmwareMissing {
                path: config.firmware.clone(),
            });
        }
        let (session, rtt) = {
            let (config, for_thread) = (config.clone(), name.clone());
            tokio::task::spawn_blocking(move || attach_blocking(&config, &for_thread))
                .await
                .map_err(|e| probe_error(&name, "attaching", e))??
        };
        let (host, device) = tokio::io::duplex(64 * 1024);
        let shared = Arc::new(Shared {
            stop: AtomicBool::new(false),
            failure: Mutex::new(None),
        });
        let (tx, rx) = mpsc::channel();
        let thread = {
            let shared = shared.clone();
            std::thread::Builder::new()
                .name("harbor-rtt-pump".into())
                .spawn(move || pump(session, rtt, device, shared, rx))
                .map_err(|e| probe_error(&name, "starting the RTT pump thread", e))?
        };
        let board = ProbeBoard {
            shared,
            counter_requests: tx,
            thread: Some(thread),
        };
        let mut target = LinkTarget::new(
            name,
            host,
            board,
            config.garbage_budget,
            config.exchange_timeout,
        );
        target.await_ready(config.boot_timeout, "booting").await?;
        Ok(target)
    }

    /// The core's counter read through the probe: retired instructions on the ESP32-C3
    /// (32-bit CSR 0x7E2), cycles on a Cortex-M (DWT_CYCCNT).
    pub async fn counter(&self) -> Result<u64, TargetError> {
        let target = self.name_for_errors();
        let (tx, rx) = mpsc::channel();
        self.backing().counter_requests.send(tx).map_err(|_| {
            probe_error(
                &target,
                "reading the counter",
                "the probe session has ended",
            )
        })?;
        tokio::task::spawn_blocking(move || rx.recv_timeout(Duration::from_secs(5)))
            .await
            .map_err(|e| probe_error(&target, "reading the counter", e))?
            .map_err(|_| {
                probe_error(
                    &target,
                    "reading the counter",
                    "no answer from the probe thread",
                )
            })?
            .map_err(|e| probe_error(&target, "reading the counter", e))
    }

    fn name_for_errors(&self) -> String {
        self.name().to_string()
    }
}
