//! The YAML shape of a replay scenario, as written by users (see docs/scenarios.md).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use serde_saphyr::{Location, Spanned};

use crate::dut::mlperf::{MlperfConfig, MlperfFormat, MlperfLink, OutputFormat};
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
    pub models: Spanned<Vec<Spanned<RawModel>>>,
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

/// A model entry: a model directory (trained or imported), or a bare `.tflite` with its input
/// described inline.
#[derive(Debug)]
pub(super) enum RawModel {
    Dir(String),
    Inline(RawInlineModel),
}

/// A string is a directory, a mapping an inline model (whose own errors name the key at fault,
/// which `#[serde(untagged)]` would swallow).
impl<'de> Deserialize<'de> for RawModel {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Entry;
        impl<'de> serde::de::Visitor<'de> for Entry {
            type Value = RawModel;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a model directory, or `{ tflite: FILE, classes: [...] }`")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<RawModel, E> {
                Ok(RawModel::Dir(v.to_string()))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<RawModel, A::Error> {
                RawInlineModel::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(RawModel::Inline)
            }
        }
        deserializer.deserialize_any(Entry)
    }
}

/// A bare `.tflite` and what `harbor models import` would ask about it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawInlineModel {
    /// The model file, relative to the scenario file.
    pub tflite: String,
    /// Its name in cell ids (default: the file name without `.tflite`).
    #[serde(default)]
    pub name: Option<String>,
    /// Class names in output order.
    pub classes: Vec<String>,
    #[serde(default)]
    pub rate_hz: Option<f64>,
    #[serde(default)]
    pub window: Option<usize>,
    #[serde(default)]
    pub hop: Option<usize>,
    /// Per-channel mean and standard deviation in m/s² and rad/s.
    #[serde(default)]
    pub mean: Option<Vec<f32>>,
    #[serde(default)]
    pub std: Option<Vec<f32>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDataset {
    #[serde(default)]
    pub name: Option<Spanned<String>>,
    /// A `harbor datasets list` kind, or `windows` (the user's own windows).
    pub kind: Spanned<String>,
    /// Recordings: relative to the data root.
    #[serde(default)]
    pub root: Option<Spanned<String>>,
    /// `windows`: the .npz (`x`, `y`) or .npy of windows, relative to the scenario file.
    #[serde(default)]
    pub path: Option<Spanned<String>>,
    /// `windows` with an .npy `path`: the labels (.npy of class indices).
    #[serde(default)]
    pub labels: Option<Spanned<String>>,
    /// `windows`: the desktop reference's outputs (.npy `[N, classes]`) from the user's own
    /// framework; its classes give `agreement_float`.
    #[serde(default)]
    pub reference: Option<Spanned<String>>,
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
    /// `serial` (and `mlperf` via serial) only: the board's port, its baud rate and
    /// `reset: none|dtr-rts`.
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
    /// `mlperf` only: how harbor reaches it (`qemu`, the default, or `serial`), what its `db`
    /// buffer takes (`input`, `layout`), what `m-results-[…]` carries (`outputs`, required),
    /// its command length (`line_chars`) and the float agreement tolerance.
    #[serde(default)]
    pub via: Option<Spanned<String>>,
    #[serde(default)]
    pub input: Option<Spanned<String>>,
    #[serde(default)]
    pub layout: Option<Spanned<String>>,
    #[serde(default)]
    pub outputs: Option<Spanned<String>>,
    #[serde(default)]
    pub line_chars: Option<Spanned<usize>>,
    #[serde(default)]
    pub tolerance: Option<Spanned<f64>>,
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
        use TargetKind::{Mlperf, Probe, Serial};
        let kind_only: [(&[TargetKind], &str, Option<Location>); 12] = [
            (
                &[Serial, Mlperf],
                "port",
                self.port.as_ref().map(|v| v.referenced),
            ),
            (
                &[Serial, Mlperf],
                "baud",
                self.baud.as_ref().map(|v| v.referenced),
            ),
            (
                &[Serial, Mlperf],
                "reset",
                self.reset.as_ref().map(|v| v.referenced),
            ),
            (&[Probe], "chip", self.chip.as_ref().map(|v| v.referenced)),
            (&[Probe], "probe", self.probe.as_ref().map(|v| v.referenced)),
            (&[Probe], "flash", self.flash.as_ref().map(|v| v.referenced)),
            (&[Mlperf], "via", self.via.as_ref().map(|v| v.referenced)),
            (
                &[Mlperf],
                "input",
                self.input.as_ref().map(|v| v.referenced),
            ),
            (
                &[Mlperf],
                "layout",
                self.layout.as_ref().map(|v| v.referenced),
            ),
            (
                &[Mlperf],
                "outputs",
                self.outputs.as_ref().map(|v| v.referenced),
            ),
            (
                &[Mlperf],
                "line_chars",
                self.line_chars.as_ref().map(|v| v.referenced),
            ),
            (
                &[Mlperf],
                "tolerance",
                self.tolerance.as_ref().map(|v| v.referenced),
            ),
        ];
        for (owners, field, at) in kind_only {
            if let Some(at) = at.filter(|_| !owners.contains(&kind)) {
                let owners: Vec<String> = owners
                    .iter()
                    .map(|o| format!("`kind: {}`", o.name()))
                    .collect();
                let owners = owners.join(" and ");
                return Err((at, format!("`{field}` is for {owners} targets only")));
            }
        }
        Ok(match kind {
            TargetKind::Qemu => DeviceConfig::Qemu(QemuConfig::new(firmware)),
            TargetKind::Serial => DeviceConfig::Serial(self.serial()?),
            TargetKind::Mlperf => DeviceConfig::Mlperf(self.mlperf(firmware)?),
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

    /// An `mlperf` target: how it is reached and what it speaks (docs/mlperf.md).
    fn mlperf(&self, firmware: PathBuf) -> Result<MlperfConfig, (Location, String)> {
        fn spelled<T: std::str::FromStr<Err = String>>(
            value: &Option<Spanned<String>>,
        ) -> Result<Option<T>, (Location, String)> {
            value
                .as_ref()
                .map(|v| v.value.parse().map_err(|e| (v.referenced, e)))
                .transpose()
        }
        let outputs: OutputFormat = spelled(&self.outputs)?.ok_or_else(|| {
            (
                self.kind.referenced,
                "an `mlperf` target needs `outputs: float` or `outputs: int8`: what its `m-results-[…]` line prints".into(),
            )
        })?;
        let mut format = MlperfFormat::new(outputs);
        if let Some(input) = spelled(&self.input)? {
            format.input = input;
        }
        if let Some(layout) = spelled(&self.layout)? {
            format.layout = layout;
        }
        if let Some(n) = &self.line_chars {
            if n.value < MlperfFormat::MIN_LINE_CHARS {
                return Err((
                    n.referenced,
                    format!(
                        "`line_chars` must be at least {} (`db ` and one byte)",
                        MlperfFormat::MIN_LINE_CHARS
                    ),
                ));
            }
            format.line_chars = n.value;
        }
        if let Some(t) = &self.tolerance {
            if outputs != OutputFormat::Float {
                return Err((
                    t.referenced,
                    "`tolerance` is for `outputs: float` (int8 outputs are compared bit for bit)"
                        .into(),
                ));
            }
            if !(t.value.is_finite() && t.value >= 0.0) {
                return Err((t.referenced, "`tolerance` must be a number ≥ 0".into()));
            }
            format.tolerance = t.value;
        }
        let via = self.via.as_ref();
        let link = match via.map_or("qemu", |v| v.value.as_str()) {
            "qemu" => {
                let serial_keys = [
                    ("port", self.port.as_ref().map(|v| v.referenced)),
                    ("baud", self.baud.as_ref().map(|v| v.referenced)),
                    ("reset", self.reset.as_ref().map(|v| v.referenced)),
                ];
                if let Some((field, Some(at))) =
                    serial_keys.into_iter().find(|(_, at)| at.is_some())
                {
                    return Err((
                        at,
                        format!("`{field}` is for `via: serial` (this target runs in QEMU)"),
                    ));
                }
                MlperfLink::Qemu(QemuConfig::new(firmware))
            }
            "serial" => MlperfLink::Serial(self.serial()?),
            other => {
                let at = via.map_or(self.kind.referenced, |v| v.referenced);
                return Err((
                    at,
                    format!("unknown `via: {other}`: expected qemu or serial"),
                ));
            }
        };
        Ok(MlperfConfig { link, format })
    }

    /// A `serial` target's port settings (also an `mlperf` target's `via: serial`).
    fn serial(&self) -> Result<SerialConfig, (Location, String)> {
        let port = self.port.as_ref().ok_or_else(|| {
            let whose = match self.kind.value {
                TargetKind::Mlperf => "an `mlperf` target with `via: serial`",
                _ => "a `serial` target",
            };
            (
                self.kind.referenced,
                format!("{whose} needs `port` (e.g. /dev/ttyUSB0; `harbor ports` lists them)"),
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
