//! Stopping a run on SIGINT or SIGTERM: the signal becomes a [`StopSignal`] that the replay
//! and OTA runners watch, so emulators are killed, temp folders removed and the report of
//! what completed is written (`status: interrupted`) before harbor exits 130 or 143.

use std::future::pending;

use serde::{Deserialize, Serialize};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::watch;

/// A signal that asks a run to stop.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Stop {
    /// SIGINT (Ctrl-C).
    #[serde(rename = "SIGINT")]
    Interrupt,
    /// SIGTERM (a CI runner cancelling a job, `kill`).
    #[serde(rename = "SIGTERM")]
    Terminate,
}

impl Stop {
    /// The signal's name, `SIGINT` or `SIGTERM`.
    pub fn name(self) -> &'static str {
        match self {
            Stop::Interrupt => "SIGINT",
            Stop::Terminate => "SIGTERM",
        }
    }

    /// The exit code a shell gives a process this signal ended: 128 + the signal number.
    pub fn exit_code(self) -> u8 {
        match self {
            Stop::Interrupt => 130,
            Stop::Terminate => 143,
        }
    }
}

impl std::fmt::Display for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Tells async work that a stop was requested; cheap to clone, one per task.
#[derive(Clone, Debug)]
pub struct StopSignal {
    requested: watch::Receiver<Option<Stop>>,
}

impl StopSignal {
    /// A signal that never fires (library use, tests): the process keeps its default
    /// SIGINT and SIGTERM behaviour.
    pub fn never() -> Self {
        let (_, requested) = watch::channel(None);
        StopSignal { requested }
    }

    /// Catches SIGINT and SIGTERM from now on (for the rest of the process: the default
    /// "die at once" does not come back). Must be called inside a tokio runtime with its
    /// I/O driver; the listening task lives as long as that runtime.
    pub fn listen() -> std::io::Result<Self> {
        let mut interrupt = signal(SignalKind::interrupt())?;
        let mut terminate = signal(SignalKind::terminate())?;
        let (tx, requested) = watch::channel(None);
        tokio::spawn(async move {
            let stop = tokio::select! {
                _ = interrupt.recv() => Stop::Interrupt,
                _ = terminate.recv() => Stop::Terminate,
            };
            let _ = tx.send(Some(stop));
            // Keep the sender: receivers would otherwise see a closed channel.
            pending::<()>().await;
        });
        Ok(StopSignal { requested })
    }

    /// The stop requested so far, if any.
    pub fn get(&self) -> Option<Stop> {
        *self.requested.borrow()
    }

    /// Waits until a stop is requested (forever for [`Self::never`]).
    pub async fn requested(&self) -> Stop {
        let mut rx = self.requested.clone();
        loop {
            if let Some(stop) = *rx.borrow_and_update() {
                return stop;
            }
            if rx.changed().await.is_err() {
                return pending().await;
            }
        }
    }
}
