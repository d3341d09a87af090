//! Where a study's wall time goes: training on burn, quantization + export + host scoring,
//! and replay on the device. The rest of the wall time is loading and preparing windows.

use std::cell::Cell;
use std::time::Instant;

use serde::{Deserialize, Serialize};

/// A part of a study's work.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Pre-training and fine-tuning with burn.
    Train,
    /// Int8 quantization, `.tflite` export, float and int8 scoring on the host.
    Export,
    /// Replays of int8 models on the emulated band.
    Device,
}

/// Accumulates the wall time spent in each [`Phase`].
#[derive(Debug, Default)]
pub struct PhaseClock {
    train: Cell<f64>,
    export: Cell<f64>,
    device: Cell<f64>,
}

impl PhaseClock {
    /// Runs `f`, adding its wall time to `phase`.
    pub fn time<T>(&self, phase: Phase, f: impl FnOnce() -> T) -> T {
        let started = Instant::now();
        let out = f();
        let cell = match phase {
            Phase::Train => &self.train,
            Phase::Export => &self.export,
            Phase::Device => &self.device,
        };
        cell.set(cell.get() + started.elapsed().as_secs_f64());
        out
    }

    /// The totals so far, with the rest of `wall_seconds` as loading.
    pub fn seconds(&self, wall_seconds: f64) -> PhaseSeconds {
        let (train, export, device) = (self.train.get(), self.export.get(), self.device.get());
        PhaseSeconds {
            train,
            export,
            device,
            other: (wall_seconds - train - export - device).max(0.0),
        }
    }
}

/// A study's wall time by phase, seconds.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PhaseSeconds {
    /// Pre-training and fine-tuning (burn, CPU).
    pub train: f64,
    /// Quantization, export and host scoring.
    pub export: f64,
    /// Device replays (QEMU).
    pub device: f64,
    /// Everything else: loading, resampling and windowing the datasets, writing reports.
    pub other: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_adds_up_per_phase_and_the_rest_is_other() {
        let clock = PhaseClock::default();
        let v = clock.time(Phase::Train, || {
            std::thread::sleep(std::time::Duration::from_millis(20));
            7
        });
        assert_eq!(v, 7);
        clock.time(Phase::Device, || {
            std::thread::sleep(std::time::Duration::from_millis(10))
        });
        let s = clock.seconds(1.0);
        assert!(s.train >= 0.02 && s.device >= 0.01, "{s:?}");
        assert_eq!(s.export, 0.0);
        assert!((s.train + s.export + s.device + s.other - 1.0).abs() < 1e-9);
    }
}
