//! OTA scenarios (`kind: ota`, e.g. scenarios/ota.yaml): update cases against the mock cloud,
//! run by [`crate::ota::run`] (docs/cloud.md). Parsing checks every field at its line and
//! column, so `harbor validate` rejects whatever `harbor run` would.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_saphyr::{Location, Spanned};

use super::ota_schema::{RawCase, RawLink, RawOta};
use super::{ScenarioError, ScenarioKind};
use crate::board::BoardProfile;

/// An OTA scenario with paths resolved and every case checked.
#[derive(Clone, Debug)]
pub struct OtaScenario {
    /// The scenario file.
    pub path: PathBuf,
    /// The scenario's name (`name:`).
    pub name: String,
    /// Base model directory (holds `model.tflite`).
    pub model: PathBuf,
    /// Bytes of the release image built from the model (fault offsets must fall inside it).
    pub image_len: usize,
    /// Board profile name or path (radio currents, hardware id).
    pub board: String,
    /// Where `board:` is in the file.
    pub board_at: Location,
    /// The radio link between the bands and the cloud.
    pub link: LinkSpec,
    /// Band firmware ELF: cases run on emulated bands. Without it the band's release checks
    /// run on the host.
    pub firmware: Option<PathBuf>,
    /// Where `firmware:` is in the file.
    pub firmware_at: Location,
    /// The cases, in file order.
    pub cases: Vec<OtaCase>,
}

/// The band's radio the link model follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Radio {
    /// Wi-Fi (`radio: wifi`).
    Wifi,
    /// Bluetooth Low Energy (`radio: ble`).
    Ble,
}

/// The modelled link between the band and the cloud.
#[derive(Clone, Debug, PartialEq)]
pub struct LinkSpec {
    /// Which radio's throughput and latency the link takes.
    pub radio: Radio,
    /// Overrides the radio's throughput.
    pub throughput_bps: Option<f64>,
    /// Overrides the radio's latency.
    pub latency_ms: Option<u64>,
    /// Fraction of exchanges lost, in [0, 1).
    pub loss: f64,
    /// Seeds which exchanges are lost: same seed, same run.
    pub seed: u64,
}

/// One update case and the outcome it must end with.
#[derive(Clone, Debug)]
pub struct OtaCase {
    /// The case's name (unique in the scenario).
    pub name: String,
    /// Where the case's name is in the file.
    pub at: Location,
    /// `accepted`, `no_update`, `incomplete`, `rolled_back`, `never_bricked` or the band's
    /// refusal (`bad-signature`, `unknown-key`, `incompatible`, `downgrade`, `hash-mismatch`, …).
    pub expect: String,
    /// The version the band runs before the update (its factory release).
    pub current_version: u32,
    /// The version of the release the cloud publishes.
    pub release_version: u32,
    /// Overrides the scenario's link loss.
    pub loss: Option<f64>,
    /// What the case does.
    pub kind: CaseKind,
}

/// What a case does.
#[derive(Clone, Debug)]
pub enum CaseKind {
    /// `devices` bands poll and download one release, with an optional fault armed.
    Update {
        /// A fault the cloud injects into the release or the devices' requests.
        fault: Option<FaultSpec>,
        /// How many bands update at once.
        devices: usize,
        /// The delivered release's self-test fails (re-signed): the band must roll back.
        self_test_fails: bool,
    },
    /// `sweep: power_cut`: a power cut at every flash operation of the update and its confirm.
    PowerCutSweep,
    /// `personalize:`: the release is the cloud's personalization for a held-out user.
    Personalized(PersonalizeSpec),
}

impl OtaCase {
    /// Whether the case needs an emulated band (`firmware:`).
    pub fn needs_band(&self) -> bool {
        match &self.kind {
            CaseKind::Update {
                self_test_fails, ..
            } => *self_test_fails,
            CaseKind::PowerCutSweep | CaseKind::Personalized(_) => true,
        }
    }
}

/// A fault as written in YAML: `{type: truncate, len: 1000}`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum FaultSpec {
    /// The image ends after `len` bytes.
    Truncate {
        /// Bytes served.
        len: u64,
    },
    /// The image byte at `offset` is flipped.
    CorruptByte {
        /// Offset of the flipped byte in the image.
        offset: u64,
    },
    /// The manifest's signature has one bit flipped.
    BadSignature,
    /// The manifest is signed by a key the band does not trust.
    UnknownKey,
    /// The manifest (validly signed) is for other hardware.
    WrongHardware,
    /// The manifest (validly signed) is for a model with another input shape.
    WrongModelShape,
    /// The manifest (validly signed) has a version below the band's.
    OlderVersion,
    /// The first request waits `ms` before it is answered.
    Stall {
        /// Milliseconds of the wait.
        ms: u64,
    },
    /// The first download is cut after `after` bytes.
    ResetMidBody {
        /// Body bytes sent before the connection drops.
        after: u64,
    },
    /// `times` requests get 503 with `Retry-After: retry_after_s`.
    Unavailable {
        /// Seconds the device is told to wait.
        retry_after_s: u32,
        /// How many requests get 503.
        times: u32,
    },
}

/// `personalize:` of a case.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersonalizeSpec {
    /// A WISDM 2019 watch user held out of the base model's training (its card says which).
    pub user: String,
    /// Windows per class uploaded for fine-tuning (default 15).
    #[serde(default = "fifteen")]
    pub shots_per_class: usize,
    /// At most this many of the user's other windows are replayed (evenly spaced).
    #[serde(default = "default_test_windows")]
    pub test_windows: usize,
}

fn fifteen() -> usize {
    15
}

fn default_test_windows() -> usize {
    120
}

/// Outcomes the harness names itself; the band's refusals are the others.
const HARNESS_OUTCOMES: [&str; 5] = [
    "accepted",
    "no_update",
    "incomplete",
    "rolled_back",
    "never_bricked",
];

/// Whether `outcome` is one a case can end with.
pub fn is_known_outcome(outcome: &str) -> bool {
    HARNESS_OUTCOMES.contains(&outcome)
        || (1..=u8::MAX)
            .map(harbor_core::ota::error::code_name)
            .take_while(|&n| n != "unknown")
            .any(|n| n == outcome)
}

fn check_loss(loss: &Spanned<f64>) -> Result<f64, (Location, String)> {
    if (0.0..1.0).contains(&loss.value) {
        Ok(loss.value)
    } else {
        Err((
            loss.referenced,
            format!(
                "loss {}: must be in [0, 1) (a link that loses everything never delivers)",
                loss.value
            ),
        ))
    }
}

fn link_of(raw: &RawLink) -> Result<LinkSpec, (Location, String)> {
    let radio = match raw.radio.value.as_str() {
        "wifi" => Radio::Wifi,
        "ble" => Radio::Ble,
        other => {
            return Err((
                raw.radio.referenced,
                format!("link.radio `{other}`: use wifi or ble"),
            ));
        }
    };
    if let Some(t) = &raw.throughput_bps
        && !(t.value.is_finite() && t.value > 0.0)
    {
        return Err((t.referenced, "throughput_bps must be above 0".into()));
    }
    Ok(LinkSpec {
        radio,
        throughput_bps: raw.throughput_bps.as_ref().map(|t| t.value),
        latency_ms: raw.latency_ms,
        loss: raw
            .loss
            .as_ref()
            .map(check_loss)
            .transpose()?
            .unwrap_or(0.0),
        seed: raw.seed,
    })
}

/// The longest `stall` fault: the band radio's per-request deadline, in milliseconds.
pub const MAX_STALL_MS: u64 = crate::cloud::client::REQUEST_TIMEOUT.as_millis() as u64;

/// A fault whose offset or length falls outside the image would never fire; a stall has a
/// deadline.
fn check_fault(fault: &Spanned<FaultSpec>, image_len: usize) -> Result<(), (Location, String)> {
    let inside = |field: &str, value: u64| {
        if value < image_len as u64 {
            Ok(())
        } else {
            Err((
                fault.referenced,
                format!("`{field}: {value}` is outside the {image_len}-byte release image"),
            ))
        }
    };
    match fault.value {
        FaultSpec::Truncate { len } => inside("len", len),
        FaultSpec::CorruptByte { offset } => inside("offset", offset),
        FaultSpec::ResetMidBody { after } => inside("after", after),
        FaultSpec::Unavailable { times: 0, .. } => {
            Err((fault.referenced, "`times` must be at least 1".into()))
        }
        // Every fault has a deadline: a longer stall would only meet the radio's.
        FaultSpec::Stall { ms } if ms > MAX_STALL_MS => Err((
            fault.referenced,
            format!(
                "`stall` of {ms} ms is beyond the radio's {MAX_STALL_MS} ms request deadline \
                 (it would time out, not stall): use at most {MAX_STALL_MS}"
            ),
        )),
        _ => Ok(()),
    }
}

fn case_of(
    raw: RawCase,
    image_len: usize,
    has_firmware: bool,
) -> Result<OtaCase, (Location, String)> {
    let at = raw.name.referenced;
    if !is_known_outcome(&raw.expect.value) {
        return Err((
            raw.expect.referenced,
            format!(
                "expect `{}`: use accepted, no_update, incomplete, rolled_back, never_bricked \
                 or a band refusal (bad-signature, unknown-key, incompatible, downgrade, \
                 hash-mismatch, size-mismatch, …)",
                raw.expect.value
            ),
        ));
    }
    let loss = raw.loss.as_ref().map(check_loss).transpose()?;
    if let Some(d) = &raw.devices
        && d.value == 0
    {
        return Err((d.referenced, "`devices` must be at least 1".into()));
    }
    if let Some(f) = &raw.fault {
        check_fault(f, image_len)?;
    }
    let self_test_fails = raw.self_test_fails.as_ref().is_some_and(|s| s.value);
    // Fields the sweep and the personalized case would silently ignore.
    let update_only = || {
        let stray = [
            raw.fault.as_ref().map(|f| ("fault", f.referenced)),
            raw.devices.as_ref().map(|d| ("devices", d.referenced)),
            raw.self_test_fails
                .as_ref()
                .map(|s| ("self_test_fails", s.referenced)),
        ];
        stray.into_iter().flatten().next()
    };
    let kind = match (&raw.sweep, &raw.personalize) {
        (Some(s), Some(_)) => {
            return Err((
                s.referenced,
                "a case is a sweep or personalized, not both".into(),
            ));
        }
        (Some(s), None) => {
            if s.value != "power_cut" {
                return Err((
                    s.referenced,
                    format!("sweep `{}`: the one sweep is `power_cut`", s.value),
                ));
            }
            if let Some((field, loc)) = update_only() {
                return Err((
                    loc,
                    format!("`{field}` does not apply to a power-cut sweep"),
                ));
            }
            CaseKind::PowerCutSweep
        }
        (None, Some(p)) => {
            if let Some((field, loc)) = update_only() {
                return Err((
                    loc,
                    format!("`{field}` does not apply to a personalized case"),
                ));
            }
            if p.value.shots_per_class == 0 || p.value.test_windows == 0 {
                return Err((
                    p.referenced,
                    "`shots_per_class` and `test_windows` must be at least 1".into(),
                ));
            }
            CaseKind::Personalized(p.value.clone())
        }
        (None, None) => CaseKind::Update {
            fault: raw.fault.as_ref().map(|f| f.value.clone()),
            devices: raw.devices.as_ref().map_or(1, |d| d.value),
            self_test_fails,
        },
    };
    let expect = raw.expect.value.as_str();
    if (expect == "never_bricked") != matches!(kind, CaseKind::PowerCutSweep) {
        return Err((
            raw.expect.referenced,
            "a power-cut sweep, and only a sweep, expects `never_bricked`".into(),
        ));
    }
    if expect == "rolled_back" && !self_test_fails {
        return Err((
            raw.expect.referenced,
            "only a case with `self_test_fails: true` can roll back".into(),
        ));
    }
    let case = OtaCase {
        name: raw.name.value,
        at,
        expect: raw.expect.value,
        current_version: raw.current_version,
        release_version: raw.release_version,
        loss,
        kind,
    };
    if case.needs_band() && !has_firmware {
        return Err((
            at,
            "this case runs on an emulated band: set `firmware:`".into(),
        ));
    }
    Ok(case)
}

impl OtaScenario {
    /// Parses `text` as if read from `path` (used for errors and relative paths).
    pub fn parse(path: &Path, text: &str) -> Result<Self, ScenarioError> {
        let raw: RawOta =
            serde_saphyr::from_str(text).map_err(|e| ScenarioError::from_yaml(path, &e))?;
        let at = |(loc, reason): (Location, String)| ScenarioError::at(path, loc, reason);
        if raw.kind.value != ScenarioKind::Ota.name() {
            return Err(at((
                raw.kind.referenced,
                format!("kind `{}` is not an OTA scenario", raw.kind.value),
            )));
        }
        let base = path.parent().unwrap_or(Path::new(""));
        let model = base.join(&raw.model.value);
        let checked = crate::model::load_checked(&model).map_err(|e| {
            at((
                raw.model.referenced,
                format!("model directory {}: {e}", model.display()),
            ))
        })?;
        let tflite = checked.host.model_bytes();
        let (image, _) = crate::cloud::release::build_image(tflite, None)
            .map_err(|e| at((raw.model.referenced, e.to_string())))?;
        let link = link_of(&raw.link).map_err(at)?;
        if raw.cases.value.is_empty() {
            return Err(at((
                raw.cases.referenced,
                "`cases` needs at least one entry".into(),
            )));
        }
        let has_firmware = raw.firmware.is_some();
        let mut cases: Vec<OtaCase> = Vec::new();
        for c in raw.cases.value {
            if cases.iter().any(|e| e.name == c.name.value) {
                return Err(at((
                    c.name.referenced,
                    format!("a second case named `{}`", c.name.value),
                )));
            }
            cases.push(case_of(c, image.len(), has_firmware).map_err(at)?);
        }
        Ok(OtaScenario {
            path: path.to_path_buf(),
            name: raw.name,
            model,
            image_len: image.len(),
            board: raw.board.value,
            board_at: raw.board.referenced,
            link,
            firmware_at: raw
                .firmware
                .as_ref()
                .map_or(Location::UNKNOWN, |f| f.referenced),
            firmware: raw.firmware.map(|f| base.join(f.value)),
            cases,
        })
    }

    /// Every missing input, each at its place in the file: the board profile (its name must be
    /// a hardware id), the firmware image, and what personalized cases need.
    pub fn check_inputs(&self) -> Vec<ScenarioError> {
        let mut problems = Vec::new();
        let mut problem = |loc, reason: String| {
            problems.push(ScenarioError::at(&self.path, loc, reason));
        };
        match BoardProfile::load(&self.board) {
            Err(e) => problem(self.board_at, e.to_string()),
            Ok(b) if harbor_core::ota::manifest::HardwareId::new(&b.name).is_none() => problem(
                self.board_at,
                format!("board name `{}` is not a hardware id (1-32 bytes)", b.name),
            ),
            Ok(_) => {}
        }
        if let Some(fw) = self.firmware.as_ref().filter(|f| !f.is_file()) {
            problem(
                self.firmware_at,
                format!(
                    "firmware image {} does not exist: run scripts/build-firmware",
                    fw.display()
                ),
            );
        }
        let wisdm = crate::datasets::data_root().join("wisdm2019");
        for c in &self.cases {
            if !matches!(c.kind, CaseKind::Personalized(_)) {
                continue;
            }
            if !cfg!(feature = "train") {
                problem(
                    c.at,
                    "this harbor was built without the `train` feature: no personalization".into(),
                );
            } else if !wisdm.is_dir() {
                problem(
                    c.at,
                    format!(
                        "{} is missing: personalization needs the WISDM 2019 dataset",
                        wisdm.display()
                    ),
                );
            }
        }
        problems
    }
}
