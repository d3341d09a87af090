//! The band's radio link as the harness models it: throughput, latency and loss, with a
//! seeded RNG so a scenario's OTA duration, radio-on time and energy are reproducible.
//!
//! The bytes themselves travel over real HTTP to the mock cloud; the link model decides
//! how long that would take on the band's radio, and when a transfer is cut.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::board::{BoardProfile, RadioSpec};
use crate::rng::SplitMix64;

/// Which of the band's radios carries the link (picks the currents in the board profile).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RadioKind {
    /// Wi-Fi.
    Wifi,
    /// Bluetooth Low Energy.
    Ble,
}

/// A radio link's figures: throughput, latency, loss, header overhead; seeded.
#[derive(Clone, Debug, PartialEq)]
pub struct LinkModel {
    /// Which radio carries it.
    pub radio: RadioKind,
    /// Application payload rate, bits per second.
    pub throughput_bps: f64,
    /// One-way latency.
    pub latency: Duration,
    /// Probability that one response is cut before its end (the link drops).
    pub loss: f64,
    /// HTTP request/response header bytes added to each exchange.
    pub header_bytes: usize,
    /// How long the band listens after a cut before it gives up on the response.
    pub loss_timeout: Duration,
    /// Seed of the loss draws.
    pub seed: u64,
}

impl LinkModel {
    /// Wi-Fi station at a modest 2 Mbit/s of payload and 20 ms one-way latency.
    pub fn wifi() -> Self {
        LinkModel {
            radio: RadioKind::Wifi,
            throughput_bps: 2e6,
            latency: Duration::from_millis(20),
            loss: 0.0,
            header_bytes: 300,
            loss_timeout: Duration::from_millis(500),
            seed: 1,
        }
    }

    /// BLE through a phone: ~100 kbit/s of GATT payload, a 30 ms connection interval.
    pub fn ble() -> Self {
        LinkModel {
            radio: RadioKind::Ble,
            throughput_bps: 1e5,
            latency: Duration::from_millis(30),
            loss: 0.0,
            header_bytes: 300,
            loss_timeout: Duration::from_millis(500),
            seed: 1,
        }
    }

    /// The same link with loss probability `loss`, drawn from `seed`.
    pub fn with_loss(mut self, loss: f64, seed: u64) -> Self {
        self.loss = loss;
        self.seed = seed;
        self
    }

    fn airtime(&self, bytes: usize) -> Duration {
        Duration::from_secs_f64(bytes as f64 * 8.0 / self.throughput_bps)
    }
}

/// What one modelled exchange delivered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Delivered {
    /// Response bytes that reached the band (a prefix when `cut`).
    pub bytes: usize,
    /// Whether the link dropped before the end of the response.
    pub cut: bool,
}

/// Totals of a link's use, for the report.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LinkTotals {
    /// Request/response exchanges.
    pub exchanges: u32,
    /// Exchanges cut by loss.
    pub cuts: u32,
    /// Bytes the band sent.
    pub bytes_up: u64,
    /// Bytes the band received.
    pub bytes_down: u64,
    /// Modelled wall time from the first exchange to the last, waits included.
    pub duration_s: f64,
    /// Seconds transmitting.
    pub tx_s: f64,
    /// Seconds receiving.
    pub rx_s: f64,
    /// Radio on: transmitting or listening.
    pub radio_on_s: f64,
}

/// A link in use: the model plus its clock and counters.
#[derive(Clone, Debug)]
pub struct Link {
    /// The link's figures.
    pub model: LinkModel,
    rng: SplitMix64,
    totals: LinkTotals,
}

impl Link {
    /// A fresh link with zeroed counters.
    pub fn new(model: LinkModel) -> Self {
        Link {
            rng: SplitMix64::new(model.seed),
            model,
            totals: LinkTotals::default(),
        }
    }

    fn uniform(&mut self) -> f64 {
        (self.rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// One request of `up` body bytes answered by `down` body bytes. The band transmits the
    /// request, listens for a round trip, then receives; a cut ends the response at a
    /// random point and the band listens `loss_timeout` before giving up.
    pub fn exchange(&mut self, up: usize, down: usize) -> Delivered {
        let up_total = up + self.model.header_bytes;
        let loss = self.model.loss;
        let cut = loss > 0.0 && self.uniform() < loss;
        let delivered = if cut {
            (self.uniform() * down as f64) as usize
        } else {
            down
        };
        // Headers arrive before the body; a cut response still brought them.
        let down_total = delivered + self.model.header_bytes;
        let m = &self.model;
        let tx = m.airtime(up_total);
        let mut rx = 2 * m.latency + m.airtime(down_total);
        if cut {
            rx += m.loss_timeout;
        }
        let t = &mut self.totals;
        t.exchanges += 1;
        t.cuts += u32::from(cut);
        t.bytes_up += up_total as u64;
        t.bytes_down += down_total as u64;
        t.tx_s += tx.as_secs_f64();
        t.rx_s += rx.as_secs_f64();
        t.radio_on_s += (tx + rx).as_secs_f64();
        t.duration_s += (tx + rx).as_secs_f64();
        Delivered {
            bytes: delivered,
            cut,
        }
    }

    /// Time passing with the radio off (Retry-After, backoff).
    pub fn wait(&mut self, d: Duration) {
        self.totals.duration_s += d.as_secs_f64();
    }

    /// Counters so far.
    pub fn totals(&self) -> &LinkTotals {
        &self.totals
    }

    /// Radio energy in millijoules from the board's currents for this radio, `None` when
    /// the profile has no figures for it.
    pub fn energy_mj(&self, board: &BoardProfile) -> Option<f64> {
        let radio = board.radio.as_ref()?;
        let (tx, rx) = currents(radio, self.model.radio)?;
        let v = board.power.as_ref()?.supply_v;
        Some(v * (tx * self.totals.tx_s + rx * self.totals.rx_s))
    }
}

/// TX and RX currents (mA) of `kind` in `radio`.
pub fn currents(radio: &RadioSpec, kind: RadioKind) -> Option<(f64, f64)> {
    let (tx, rx) = match kind {
        RadioKind::Wifi => (&radio.wifi_tx, &radio.wifi_rx),
        RadioKind::Ble => (&radio.ble_tx, &radio.ble_rx),
    };
    Some((tx.as_ref()?.ma, rx.as_ref()?.ma))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lossless_exchange_costs_round_trip_plus_airtime() {
        let model = LinkModel {
            throughput_bps: 8000.0, // 1 byte per ms
            latency: Duration::from_millis(10),
            header_bytes: 0,
            ..LinkModel::wifi()
        };
        let mut link = Link::new(model);
        assert_eq!(
            link.exchange(100, 1000),
            Delivered {
                bytes: 1000,
                cut: false
            }
        );
        let t = link.totals();
        assert!((t.tx_s - 0.1).abs() < 1e-9);
        assert!((t.rx_s - (0.02 + 1.0)).abs() < 1e-9);
        assert!((t.duration_s - t.radio_on_s).abs() < 1e-12);
        link.wait(Duration::from_secs(2));
        assert!((link.totals().duration_s - link.totals().radio_on_s - 2.0).abs() < 1e-9);
    }

    #[test]
    fn loss_is_seeded_and_cuts_about_as_often_as_asked() {
        let run = |seed| {
            let mut link = Link::new(LinkModel::wifi().with_loss(0.3, seed));
            (0..1000)
                .map(|_| link.exchange(0, 4096))
                .collect::<Vec<_>>()
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
        let cuts = run(7).iter().filter(|d| d.cut).count();
        assert!((240..=360).contains(&cuts), "{cuts} cuts of 1000 at p=0.3");
        assert!(
            run(7)
                .iter()
                .all(|d| d.bytes <= 4096 && (d.cut || d.bytes == 4096))
        );
    }

    #[test]
    fn energy_uses_the_boards_radio_currents() {
        let board = BoardProfile::load("esp32-band").unwrap();
        let mut link = Link::new(LinkModel::wifi());
        link.exchange(1000, 100_000);
        let (tx, rx) = currents(board.radio.as_ref().unwrap(), RadioKind::Wifi).unwrap();
        let t = link.totals();
        let expected = board.power.as_ref().unwrap().supply_v * (tx * t.tx_s + rx * t.rx_s);
        assert!((link.energy_mj(&board).unwrap() - expected).abs() < 1e-9);
        assert!(expected > 0.0);
    }
}
