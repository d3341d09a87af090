//! Shared by the serial_* tests: the firmware in QEMU on a pty, a SerialTarget on it, and a
//! fault-injecting relay between the two (test code standing in for a bad cable).

use std::io::{ErrorKind, Read, Write};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use harbor::dut::{QemuPty, SerialConfig, SerialTarget};
use serialport::{SerialPort, TTYPort};

/// QEMU running `variant` with its UART on a pty.
pub async fn qemu_on_pty(variant: &str) -> QemuPty {
    QemuPty::launch(&crate::support::qemu::config(variant))
        .await
        .unwrap_or_else(|e| panic!("launching {variant} on a pty: {e}"))
}

/// Generous deadlines (two shared cores); fault tests shorten the exchange deadline.
pub fn serial_config(port: &str) -> SerialConfig {
    let mut config = SerialConfig::new(port);
    config.boot_timeout = Duration::from_secs(20);
    config.exchange_timeout = Duration::from_secs(20);
    config
}

pub async fn open(port: &str) -> SerialTarget {
    SerialTarget::open(&serial_config(port))
        .await
        .unwrap_or_else(|e| panic!("opening {port}: {e}"))
}

/// Faults the relay applies to the bytes the board sends, and to those it receives.
#[derive(Default)]
struct Faults {
    /// Sent to the host before the board's next bytes.
    garbage_to_host: Mutex<Vec<u8>>,
    /// Sent to the board before the host's next bytes.
    garbage_to_board: Mutex<Vec<u8>>,
    /// 1 + the index (counted from when it was set) of a board byte to drop; 0 = none.
    drop_board_byte: AtomicUsize,
    /// 1 + the index of a host byte to drop; 0 = none.
    drop_host_byte: AtomicUsize,
    /// The board's bytes are swallowed: a board that stops answering.
    mute_board: AtomicBool,
}

/// TEST CODE: a pty pair the test owns, relaying QEMU's UART pty to the port a SerialTarget
/// opens ([`Self::port`]) and injecting garbage, dropped bytes and silence on request.
pub struct FaultInjectingTestRelay {
    pub port: String,
    faults: Arc<Faults>,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
    /// The pair's own slave end, held so the master never sees a hang-up between openers.
    _slave: TTYPort,
}

impl FaultInjectingTestRelay {
    pub fn new(qemu_pty: &std::path::Path) -> Self {
        let board = serialport::new(qemu_pty.to_string_lossy(), 115_200)
            .timeout(Duration::from_millis(20))
            .open_native()
            .expect("opening QEMU's pty");
        let (mut host, slave) = TTYPort::pair().expect("a pty pair");
        host.set_timeout(Duration::from_millis(20)).unwrap();
        let port = slave.name().expect("the pair's slave has a path");
        let faults = Arc::new(Faults::default());
        let stop = Arc::new(AtomicBool::new(false));
        let to_host = {
            let (from, to) = (
                board.try_clone_native().unwrap(),
                host.try_clone_native().unwrap(),
            );
            let (faults, stop) = (faults.clone(), stop.clone());
            std::thread::spawn(move || {
                forward(from, to, &stop, |chunk| {
                    if faults.mute_board.load(Ordering::SeqCst) {
                        return Vec::new();
                    }
                    let mut out = std::mem::take(&mut *faults.garbage_to_host.lock().unwrap());
                    out.extend(drop_one(chunk, &faults.drop_board_byte));
                    out
                })
            })
        };
        let to_board = {
            let (faults, stop) = (faults.clone(), stop.clone());
            std::thread::spawn(move || {
                forward(host, board, &stop, |chunk| {
                    let mut out = std::mem::take(&mut *faults.garbage_to_board.lock().unwrap());
                    out.extend(drop_one(chunk, &faults.drop_host_byte));
                    out
                })
            })
        };
        Self {
            port,
            faults,
            stop,
            threads: vec![to_host, to_board],
            _slave: slave,
        }
    }

    /// Line noise the host receives ahead of the board's next bytes.
    pub fn garbage_to_host(&self, bytes: &[u8]) {
        self.faults
            .garbage_to_host
            .lock()
            .unwrap()
            .extend_from_slice(bytes);
    }

    /// Line noise the board receives ahead of the host's next bytes.
    pub fn garbage_to_board(&self, bytes: &[u8]) {
        self.faults
            .garbage_to_board
            .lock()
            .unwrap()
            .extend_from_slice(bytes);
    }

    /// Drops the board's byte number `index` from now on (0 = the next one).
    pub fn drop_board_byte(&self, index: usize) {
        self.faults
            .drop_board_byte
            .store(index + 1, Ordering::SeqCst);
    }

    /// Drops the host's byte number `index` from now on.
    pub fn drop_host_byte(&self, index: usize) {
        self.faults
            .drop_host_byte
            .store(index + 1, Ordering::SeqCst);
    }

    /// From now on nothing the board sends reaches the host.
    pub fn mute_board(&self) {
        self.faults.mute_board.store(true, Ordering::SeqCst);
    }
}

impl Drop for FaultInjectingTestRelay {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// `chunk` without the byte the countdown in `slot` points at, if it falls in this chunk.
fn drop_one(chunk: &[u8], slot: &AtomicUsize) -> Vec<u8> {
    let mut out = chunk.to_vec();
    let armed = slot.load(Ordering::SeqCst);
    if armed == 0 {
        return out;
    }
    let index = armed - 1;
    if index < out.len() {
        out.remove(index);
        slot.store(0, Ordering::SeqCst);
    } else {
        slot.store(armed - out.len(), Ordering::SeqCst);
    }
    out
}

/// Copies `from` → `to` through `alter` until `stop`; reads wake every 20 ms to check it.
fn forward(
    mut from: TTYPort,
    mut to: TTYPort,
    stop: &AtomicBool,
    mut alter: impl FnMut(&[u8]) -> Vec<u8>,
) {
    let mut buf = [0u8; 4096];
    while !stop.load(Ordering::SeqCst) {
        match from.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => {
                let out = alter(&buf[..n]);
                if to.write_all(&out).is_err() {
                    return;
                }
            }
            Err(e) if e.kind() == ErrorKind::TimedOut || e.kind() == ErrorKind::WouldBlock => {}
            Err(_) => return,
        }
    }
}
