//! Public HAR datasets in their original published formats, loaded into [`Recording`]s.
//!
//! Each loader reads one format, maps units, axes and labels to the canonical form and
//! reports every line it skipped. See `docs/datasets.md` for per-dataset facts.

mod activity;
pub mod basicmotions;
pub mod custom;
mod error;
pub mod fetch;
pub mod hapt;
pub mod motionsense;
pub mod pamap2;
pub mod plausibility;
mod recording;
pub mod summary;
pub mod text;
pub mod uci_har;
pub mod wisdm2019;
pub mod wisdm_v11;

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

pub use activity::Activity;
pub use error::{DatasetError, Skipped};
pub use recording::{BodyPosition, InvariantError, LabelTable, Recording};

/// Standard gravity, for datasets that record acceleration in g.
pub const STANDARD_GRAVITY: f64 = 9.80665;

/// The dataset formats harbor reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DatasetKind {
    /// WISDM 2019, smartwatch accelerometer + gyroscope.
    Wisdm2019Watch,
    /// WISDM 2019, smartphone accelerometer + gyroscope.
    Wisdm2019Phone,
    /// UCI HAPT raw recordings with postural transitions.
    Hapt,
    /// MotionSense device-motion CSVs.
    MotionSense,
    /// UEA BasicMotions `.ts` cases.
    BasicMotions,
    /// UCI HAR pre-windowed inertial signals, stitched back into streams.
    UciHar,
    /// WISDM v1.1 raw accelerometer file.
    WisdmV11,
    /// PAMAP2 `.dat` files (one IMU chosen by [`Pamap2Imu`]).
    Pamap2,
    /// A user-described CSV-like dataset; the root is the spec YAML file.
    Custom,
}

impl DatasetKind {
    /// Every kind, in the order `harbor datasets list` prints them.
    pub const ALL: [DatasetKind; 9] = [
        DatasetKind::Wisdm2019Watch,
        DatasetKind::Wisdm2019Phone,
        DatasetKind::Hapt,
        DatasetKind::MotionSense,
        DatasetKind::BasicMotions,
        DatasetKind::UciHar,
        DatasetKind::WisdmV11,
        DatasetKind::Pamap2,
        DatasetKind::Custom,
    ];

    /// The kind's command-line name (e.g. `wisdm2019-watch`).
    pub fn name(self) -> &'static str {
        match self {
            DatasetKind::Wisdm2019Watch => "wisdm2019-watch",
            DatasetKind::Wisdm2019Phone => "wisdm2019-phone",
            DatasetKind::Hapt => "hapt",
            DatasetKind::MotionSense => "motionsense",
            DatasetKind::BasicMotions => "basicmotions",
            DatasetKind::UciHar => "uci-har",
            DatasetKind::WisdmV11 => "wisdm-v1.1",
            DatasetKind::Pamap2 => "pamap2",
            DatasetKind::Custom => "custom",
        }
    }

    /// Whether the format's accelerometer includes gravity (`None` for `custom`: its spec's
    /// `accel.gravity` says). The at-rest plausibility check applies only when it does.
    pub fn accel_includes_gravity(self) -> Option<bool> {
        match self {
            DatasetKind::Wisdm2019Watch
            | DatasetKind::Wisdm2019Phone
            | DatasetKind::Hapt
            | DatasetKind::UciHar
            | DatasetKind::WisdmV11
            | DatasetKind::Pamap2 => Some(true),
            // The loader adds CoreMotion's gravity back to userAcceleration.
            DatasetKind::MotionSense => Some(true),
            // The watch published linear acceleration (median |a| at rest ≈ 0.4 m/s²).
            DatasetKind::BasicMotions => Some(false),
            DatasetKind::Custom => None,
        }
    }

    /// The folder `harbor datasets fetch` unpacks this format's public recordings to under
    /// the data root (`None` for `custom`, whose root is a spec file).
    pub fn default_folder(self) -> Option<&'static str> {
        match self {
            DatasetKind::Wisdm2019Watch | DatasetKind::Wisdm2019Phone => Some("wisdm2019"),
            DatasetKind::Hapt => Some("hapt"),
            DatasetKind::MotionSense => Some("motionsense"),
            DatasetKind::BasicMotions => Some("basicmotions"),
            DatasetKind::UciHar => Some("uci_har"),
            DatasetKind::WisdmV11 => Some("wisdm_v1.1"),
            DatasetKind::Pamap2 => Some("pamap2"),
            DatasetKind::Custom => None,
        }
    }

    /// One line on what the format is, for `harbor datasets list`.
    pub fn description(self) -> &'static str {
        match self {
            DatasetKind::Wisdm2019Watch => {
                "WISDM 2019 smartwatch accel+gyro (wrist, 20 Hz, timestamped); root: the folder holding wisdm-dataset/ or raw/"
            }
            DatasetKind::Wisdm2019Phone => {
                "WISDM 2019 smartphone accel+gyro (pocket, 20 Hz, timestamped)"
            }
            DatasetKind::Hapt => {
                "UCI HAPT RawData: continuous recordings of the UCI HAR volunteers (waist, 50 Hz)"
            }
            DatasetKind::MotionSense => "MotionSense DeviceMotion CSVs (trouser pocket, 50 Hz)",
            DatasetKind::BasicMotions => {
                "BasicMotions .ts (UEA archive; smartwatch, 10 Hz, 100-sample cases)"
            }
            DatasetKind::UciHar => {
                "UCI HAR Inertial Signals (pre-windowed 128 samples at 50 Hz, stitched back into streams)"
            }
            DatasetKind::WisdmV11 => "WISDM v1.1 raw phone accelerometer file (20 Hz, accel only)",
            DatasetKind::Pamap2 => {
                "PAMAP2 Protocol/Optional .dat files (100 Hz, IMU chosen by body position)"
            }
            DatasetKind::Custom => {
                "a CSV-like dataset described by a YAML spec (root: the spec file)"
            }
        }
    }
}

impl fmt::Display for DatasetKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for DatasetKind {
    type Err = DatasetError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase();
        DatasetKind::ALL
            .into_iter()
            .find(|k| k.name() == wanted)
            .ok_or_else(|| DatasetError::UnknownKind(s.to_string()))
    }
}

/// Which of PAMAP2's three IMUs to read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Pamap2Imu {
    /// The wrist IMU on the dominant arm: what a band sees.
    #[default]
    Hand,
    /// The chest IMU.
    Chest,
    /// The ankle IMU.
    Ankle,
}

/// What a loader does with a line it cannot read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum BadLinePolicy {
    /// Stop with the line's error (file and line).
    #[default]
    Error,
    /// Count the line as skipped, with its cause, and go on.
    Skip,
}

/// Options that apply to some loaders only.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct LoadOptions {
    /// Which PAMAP2 IMU to read.
    pub pamap2_imu: Pamap2Imu,
    /// Load only these subjects (dataset's own ids); empty means all.
    pub subjects: Vec<String>,
    /// What the custom loader does with a malformed line (the built-in loaders skip only the
    /// quirks their format is known for, and report them).
    pub on_bad_line: BadLinePolicy,
}

impl LoadOptions {
    /// Whether `subject` passes the subject filter.
    pub fn wants_subject(&self, subject: &str) -> bool {
        self.subjects.is_empty() || self.subjects.iter().any(|s| s == subject)
    }
}

/// Reports loading progress in bytes of input read.
pub trait Progress: Sync {
    /// Called once before reading, with the input's total size.
    fn start(&self, _total_bytes: u64) {}
    /// Called as input is read, with the bytes since the last call.
    fn advance(&self, _bytes: u64) {}
}

/// A [`Progress`] that shows nothing.
pub struct NoProgress;
impl Progress for NoProgress {}

/// Everything a loader produced: the recordings and the lines it skipped on purpose.
#[derive(Debug, Default)]
pub struct Loaded {
    /// The recordings, in a stable order.
    pub recordings: Vec<Recording>,
    /// Lines skipped on purpose, with the reason.
    pub skipped: Vec<Skipped>,
    /// Bytes of input read, for throughput figures.
    pub bytes_read: u64,
    /// How per-sensor files were joined into recordings (custom specs with `recording`).
    pub joins: Vec<custom::JoinReport>,
    /// The units a custom spec declared (none for the built-in formats).
    pub units: plausibility::DeclaredUnits,
}

/// Loads a dataset of `kind` from `root`.
pub fn load(
    kind: DatasetKind,
    root: &Path,
    opts: &LoadOptions,
    progress: &dyn Progress,
) -> Result<Loaded, DatasetError> {
    let mut loaded = match kind {
        DatasetKind::Wisdm2019Watch => {
            wisdm2019::load(root, wisdm2019::Device::Watch, opts, progress)
        }
        DatasetKind::Wisdm2019Phone => {
            wisdm2019::load(root, wisdm2019::Device::Phone, opts, progress)
        }
        DatasetKind::Hapt => hapt::load(root, opts, progress),
        DatasetKind::MotionSense => motionsense::load(root, opts, progress),
        DatasetKind::BasicMotions => basicmotions::load(root, opts, progress),
        DatasetKind::UciHar => uci_har::load(root, opts, progress),
        DatasetKind::WisdmV11 => wisdm_v11::load(root, opts, progress),
        DatasetKind::Pamap2 => pamap2::load(root, opts, progress),
        DatasetKind::Custom => custom::load(root, opts, progress),
    }?;
    if let Some(gravity) = kind.accel_includes_gravity() {
        loaded.units.gravity_removed = !gravity;
    }
    for rec in &loaded.recordings {
        rec.validate().map_err(|reason| {
            let path = rec
                .sources
                .first()
                .cloned()
                .unwrap_or_else(|| root.to_path_buf());
            DatasetError::Invalid {
                path,
                reason: format!("loader produced an invalid recording: {reason}"),
            }
        })?;
    }
    Ok(loaded)
}

/// Where the unpacked public recordings live: `$HARBOR_DATA`, else `<workspace>/target/datasets`
/// (the default destination of `scripts/fetch-data`).
pub fn data_root() -> PathBuf {
    if let Some(dir) = std::env::var_os("HARBOR_DATA") {
        return PathBuf::from(dir);
    }
    workspace_root().join("target").join("datasets")
}

/// The workspace root, found from this crate's manifest directory at build time.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("harness/ has a parent")
        .to_path_buf()
}
