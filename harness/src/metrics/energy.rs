//! The energy proxy: board-profile currents × supply × time. Every figure is an estimate
//! built on the profile's sourced currents and the *estimated* inference latency.
//!
//! Units: mA × V × ms = µJ; mA × s = mC, and 1 mAh = 3600 mC.

use serde::{Deserialize, Serialize};

use crate::board::PowerSpec;

const HOURS_PER_DAY: f64 = 24.0;

/// Energy of one inference and the band's budget over one window hop.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EnergyEstimate {
    /// Active current × supply × estimated inference time.
    pub inference_uj: f64,
    /// Seconds between inferences (the window hop at the model rate).
    pub hop_s: f64,
    /// IMU on for the whole hop.
    pub imu_uj_per_hop: f64,
    /// Light sleep for the rest of the hop.
    pub sleep_uj_per_hop: f64,
    /// Inference + IMU + sleep over one hop.
    pub total_uj_per_window: f64,
    /// The hop's average current, over a day.
    pub mah_per_day: f64,
    /// The profile's figures the numbers rest on, with their sources.
    pub supply_v: f64,
    /// Active current (mA) and where the figure comes from.
    pub active_ma: f64,
    /// Source of `active_ma`.
    pub active_source: String,
    /// Light-sleep current (mA).
    pub light_sleep_ma: f64,
    /// Source of `light_sleep_ma`.
    pub light_sleep_source: String,
    /// IMU current (mA).
    pub imu_ma: f64,
    /// Source of `imu_ma`.
    pub imu_source: String,
}

impl EnergyEstimate {
    /// `inference_ms` is the estimated latency; `hop_s` the time between inferences.
    pub fn new(power: &PowerSpec, inference_ms: f64, hop_s: f64) -> Self {
        let v = power.supply_v;
        let inference_s = (inference_ms / 1e3).min(hop_s);
        let uj = |ma: f64, s: f64| ma * v * s * 1e3;
        let inference_uj = uj(power.active.ma, inference_s);
        let imu_uj_per_hop = uj(power.imu.ma, hop_s);
        let sleep_uj_per_hop = uj(power.light_sleep.ma, hop_s - inference_s);
        let charge_mc = power.active.ma * inference_s
            + power.imu.ma * hop_s
            + power.light_sleep.ma * (hop_s - inference_s);
        let average_ma = if hop_s > 0.0 { charge_mc / hop_s } else { 0.0 };
        EnergyEstimate {
            inference_uj,
            hop_s,
            imu_uj_per_hop,
            sleep_uj_per_hop,
            total_uj_per_window: inference_uj + imu_uj_per_hop + sleep_uj_per_hop,
            mah_per_day: average_ma * HOURS_PER_DAY,
            supply_v: v,
            active_ma: power.active.ma,
            active_source: power.active.source.clone(),
            light_sleep_ma: power.light_sleep.ma,
            light_sleep_source: power.light_sleep.source.clone(),
            imu_ma: power.imu.ma,
            imu_source: power.imu.source.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::board::Current;

    fn current(ma: f64) -> Current {
        Current {
            ma,
            source: format!("test {ma}"),
        }
    }

    #[test]
    fn hand_computed_budget() {
        let power = PowerSpec {
            supply_v: 3.0,
            active: current(20.0),
            light_sleep: current(0.5),
            imu: current(1.0),
        };
        // 10 ms inference in a 1 s hop.
        let e = EnergyEstimate::new(&power, 10.0, 1.0);
        // 20 mA × 3 V × 10 ms = 600 µJ.
        assert!((e.inference_uj - 600.0).abs() < 1e-9);
        // IMU: 1 mA × 3 V × 1 s = 3000 µJ; sleep: 0.5 mA × 3 V × 0.99 s = 1485 µJ.
        assert!((e.imu_uj_per_hop - 3000.0).abs() < 1e-9);
        assert!((e.sleep_uj_per_hop - 1485.0).abs() < 1e-9);
        assert!((e.total_uj_per_window - 5085.0).abs() < 1e-9);
        // Average current 0.2 + 1 + 0.495 = 1.695 mA → 40.68 mAh/day.
        assert!((e.mah_per_day - 40.68).abs() < 1e-9);
        assert_eq!(e.active_source, "test 20");
    }
}
