//! The YAML shape of a replay scenario, as written by users (see docs/scenarios.md).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use serde_saphyr::{Location, Spanned};

use crate::dut::probe::ProbeConfig;
use crate::dut::{DeviceConfig, QemuConfig, RenodeConfig, SerialConfig};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawScenario {
    /// `replay` when given (the default kind).
    #[serde(default)]
    pub kind: Option<Spanned<String>>,
    pub name: String,
    #[serde(default = "default_board")]
    pub board: Spanned<String>,
    #[serde(default = "default_jobs")]
    pub jobs: Spanned<usize>,
    #[serde(default)]
    pub timeouts: Timeouts,
    pub datasets: Spanned<Vec<RawDataset>>,
    pub models: Spanned<Vec<Spanned<String>>>,
    pub targets: Spanned<Vec<RawTarget>>,
    pub modes: Spanned<Vec<Mode>>,
    /// Matrix cells to leave out: each entry selects cells like an override's `match`.
    #[serde(default)]
    pub exclude: Vec<Spanned<RawMatch>>,
    /// `metric: "op value"` for every cell.
    #[serde(default)]
    pub thresholds: RawThresholds,
    /// Later entries win: each replaces or adds thresholds of the cells it matches.
    #[serde(default)]
    pub overrides: Vec<RawOverride>,
}

/// Metric name → threshold text, both with their positions (map order is restored from them).
pub(super) type RawThresholds = std::collections::HashMap<Spanned<String>, Spanned<String>>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawOverride {
    #[serde(rename = "match")]
    pub selector: Spanned<RawMatch>,
    pub thresholds: RawThresholds,
}

/// Selects matrix cells: every given key must equal the cell's (absent keys match anything).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMatch {
    #[serde(default)]
    pub model: Option<Spanned<String>>,
    #[serde(default)]
    pub dataset: Option<Spanned<String>>,
    #[serde(default)]
    pub target: Option<Spanned<String>>,
    #[serde(default)]
    pub mode: Option<Spanned<Mode>>,
}

fn default_board() -> Spanned<String> {
    unplaced(crate::board::BoardProfile::DEFAULT.to_string())
}

/// A default value: it has no place in the file.
pub(super) fn unplaced<T>(value: T) -> Spanned<T> {
    Spanned {
        value,
        referenced: serde_saphyr::Location::UNKNOWN,
        defined: serde_saphyr::Location::UNKNOWN,
    }
}

fn default_jobs() -> Spanned<usize> {
    unplaced(1)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Timeouts {
    #[serde(default = "default_boot_s")]
    pub boot_s: Spanned<f64>,
    #[serde(default = "default_exchange_s")]
    pub exchange_s: Spanned<f64>,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            boot_s: default_boot_s(),
            exchange_s: default_exchange_s(),
        }
    }
}

fn default_boot_s() -> Spanned<f64> {
    unplaced(20.0)
}

fn default_exchange_s() -> Spanned<f64> {
    unplaced(10.0)
}

/// The longest deadline a scenario may set: a day. Longer is a typo, and a value this
/// bounded always converts to a `Duration`.
pub(super) const MAX_TIMEOUT_S: f64 = 86_400.0;

/// A deadline in seconds: finite, above zero (zero would fail every exchange, reported as
/// a hang) and at most [`MAX_TIMEOUT_S`].
pub(super) fn timeout(
    key: &str,
    seconds: &Spanned<f64>,
) -> Result<std::time::Duration, (Location, String)> {
    let s = seconds.value;
    if s.is_finite() && s > 0.0 && s <= MAX_TIMEOUT_S {
        Ok(std::time::Duration::from_secs_f64(s))
    } else {
        Err((
            seconds.referenced,
            format!(
                "`timeouts.{key}` must be above 0 and at most {MAX_TIMEOUT_S} seconds, not {s}"
            ),
        ))
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDataset {
    #[serde(default)]
    pub name: Option<Spanned<String>>,
    /// A `harbor datasets list` kind.
    pub kind: Spanned<String>,
    /// Relative to the data root.
    pub root: Spanned<String>,
    #[serde(default)]
    pub subjects: Subjects,
    #[serde(default)]
    pub max_windows: Option<usize>,
}

/// Which subjects of a dataset to replay.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Subjects {
    /// Every subject in the dataset.
    #[default]
    All,
    /// The model card's `test_subjects`: users the model never trained on.
    ModelTest,
    /// The card's `val_subjects` (seen during training for early stopping: not held out).
    ModelVal,
    /// The card's `train_subjects`: how well the model fits its own training users.
    ModelTrain,
    /// These subject ids.
    List(Vec<String>),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTarget {
    pub name: Spanned<String>,
    /// Any [`TargetKind`]; another word is an error at its line and column.
    pub kind: Spanned<TargetKind>,
    /// The firmware ELF, relative to the scenario file (for `serial`: the image the board
    /// runs, read for its flash/RAM figures; harbor does not flash it).
    pub firmware: Spanned<String>,
    /// `serial` only: the board's port, its baud rate and `reset: none|dtr-rts`.
    #[serde(default)]
    pub port: Option<Spanned<String>>,
    #[serde(default)]
    pub baud: Option<Spanned<u32>>,
    #[serde(default)]
    pub reset: Option<Spanned<String>>,
    /// `probe` only: the probe-rs chip name, the probe (`VID:PID[:SERIAL]`) and whether to
    /// flash the firmware first (default true).
    #[serde(default)]
    pub chip: Option<Spanned<String>>,
    #[serde(default)]
    pub probe: Option<Spanned<String>>,
    #[serde(default)]
    pub flash: Option<Spanned<bool>>,
}

/// The kind of a scenario target: every backend of [`crate::dut`].
pub use crate::dut::DeviceKind as TargetKind;

impl RawTarget {
    /// The device this target describes, running `firmware`; an error names the key at fault.
    pub fn device(&self, firmware: PathBuf) -> Result<DeviceConfig, (Location, String)> {
        let kind = self.kind.value;
        if let Some(reason) = kind.unavailable() {
            return Err((self.kind.referenced, reason.to_string()));
        }
        let kind_only = [
            (
                TargetKind::Serial,
                "port",
                self.port.as_ref().map(|v| v.referenced),
            ),
            (
                TargetKind::Serial,
                "baud",
                self.baud.as_ref().map(|v| v.referenced),
            ),
            (
                TargetKind::Serial,
                "reset",
                self.reset.as_ref().map(|v| v.referenced),
            ),
            (
                TargetKind::Probe,
                "chip",
                self.chip.as_ref().map(|v| v.referenced),
            ),
            (
                TargetKind::Probe,
                "probe",
                self.probe.as_ref().map(|v| v.referenced),
            ),
            (
                TargetKind::Probe,
                "flash",
                self.flash.as_ref().map(|v| v.referenced),
            ),
        ];
        for (owner, field, at) in kind_only {
            if let Some(at) = at.filter(|_| owner != kind) {
                let owner = owner.name();
                return Err((at, format!("`{field}` is for `kind: {owner}` targets only")));
            }
        }
        Ok(match kind {
            TargetKind::Qemu => DeviceConfig::Qemu(QemuConfig::new(firmware)),
            TargetKind::Serial => DeviceConfig::Serial(self.serial()?),
            TargetKind::Renode => DeviceConfig::Renode(RenodeConfig::new(firmware)),
            TargetKind::Probe => {
                let chip = self.chip.as_ref().ok_or_else(|| {
                    (
                        self.kind.referenced,
                        "a `probe` target needs `chip` (a probe-rs chip name, e.g. esp32c3)".into(),
                    )
                })?;
                let mut config = ProbeConfig::new(chip.value.clone(), firmware);
                config.selector = self.probe.as_ref().map(|p| p.value.clone());
                config.flash = self.flash.as_ref().is_none_or(|f| f.value);
                DeviceConfig::Probe(config)
            }
        })
    }

    /// A `serial` target's port settings.
    fn serial(&self) -> Result<SerialConfig, (Location, String)> {
        let port = self.port.as_ref().ok_or_else(|| {
            (
                self.kind.referenced,
                "a `serial` target needs `port` (e.g. /dev/ttyUSB0; `harbor ports` lists them)"
                    .into(),
            )
        })?;
        let mut config = SerialConfig::new(port.value.clone());
        if let Some(baud) = &self.baud {
            if baud.value == 0 {
                return Err((baud.referenced, "baud must be above 0".into()));
            }
            config.baud = baud.value;
        }
        if let Some(reset) = &self.reset {
            config.reset = reset.value.parse().map_err(|e| (reset.referenced, e))?;
        }
        Ok(config)
    }
}

/// How windows reach the device.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Host-prepared int8 windows, one TensorInfer each.
    Tensor,
    /// Raw int16 IMU samples at the band's rate; the device windows and infers.
    Stream,
}

impl Mode {
    /// The mode's name in YAML and reports (`tensor`, `stream`).
    pub fn name(self) -> &'static str {
        match self {
            Mode::Tensor => "tensor",
            Mode::Stream => "stream",
        }
    }
}
