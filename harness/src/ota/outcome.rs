//! What an OTA scenario's cases ended with: the `ota` section of `report.json`
//! (docs/report-json.md), read back by `harbor diff` and `harbor merge` like the rest.

use serde::{Deserialize, Serialize};

use crate::board::BoardProfile;
use crate::ota::link_model::{LinkTotals, RadioKind};
use crate::ota::radio::RadioBridge;

/// Every case of one OTA scenario.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OtaResults {
    /// How the bands' radios reach the cloud.
    pub radio: RadioKind,
    /// Who judged the releases: the emulated band, or harbor-core's checks on the host.
    pub verified_by: String,
    /// Every case ended as expected.
    pub passed: bool,
    /// One result per case, in scenario order.
    pub cases: Vec<CaseResult>,
}

/// One case: what it expected, what its devices got, and their link figures.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CaseResult {
    /// The case's name.
    pub name: String,
    /// The outcome the scenario expects (`expect:`).
    pub expected: String,
    /// The distinct outcomes of its devices, in device order.
    pub got: Vec<String>,
    /// Every device ended with the expected outcome.
    pub passed: bool,
    /// Each device's outcome and link figures.
    pub devices: Vec<DeviceOutcome>,
    /// Faults the cloud injected (names, in order).
    pub faults_hit: Vec<String>,
    /// Power-cut sweep only: cut points tried.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cut_points_tried: Option<u32>,
    /// Power-cut sweep only: bands left unbootable (must be 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unbootable: Option<u32>,
    /// Power-cut sweep only: the cut points that left a band unbootable, and why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unbootable_after: Vec<String>,
    /// Personalized release only: on-device accuracy for its user before and after.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accuracy: Option<AccuracyGain>,
    /// Whether the case ran to an outcome, or the harness failed it.
    #[serde(default)]
    pub status: CaseStatus,
    /// With `status: infrastructure_error`: what failed (the emulator that stalled or was
    /// killed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub infrastructure_error: Option<InfrastructureError>,
}

/// Whether a case ran to an outcome.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    /// The case ran: `got` holds its devices' outcomes, passed or not.
    #[default]
    Completed,
    /// The harness could not finish the case (an emulator stalled or was killed): no
    /// verdict on the band; `harbor run` exits 3.
    InfrastructureError,
}

/// Why the harness could not finish a case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InfrastructureError {
    /// The failure's kind (`emulator-stalled`, `emulator-killed`: `TargetError::kind`).
    pub kind: String,
    /// The whole message, with the step the case was at.
    pub message: String,
}

/// The outcome an infrastructure failure puts in `got`.
pub const INFRASTRUCTURE_ERROR: &str = "infrastructure_error";

impl CaseResult {
    /// A case whose devices ended with `devices`; it passes when every one got `expected`.
    pub fn new(name: &str, expected: &str, devices: Vec<DeviceOutcome>) -> Self {
        let mut got: Vec<String> = Vec::new();
        for d in &devices {
            if !got.contains(&d.outcome) {
                got.push(d.outcome.clone());
            }
        }
        CaseResult {
            name: name.to_string(),
            expected: expected.to_string(),
            passed: !devices.is_empty() && devices.iter().all(|d| d.outcome == expected),
            got,
            devices,
            faults_hit: Vec::new(),
            cut_points_tried: None,
            unbootable: None,
            unbootable_after: Vec::new(),
            accuracy: None,
            status: CaseStatus::Completed,
            infrastructure_error: None,
        }
    }

    /// A case the harness could not finish: `kind` names the failure, `message` says it all.
    pub fn infrastructure_error(name: &str, expected: &str, kind: &str, message: String) -> Self {
        CaseResult {
            got: vec![INFRASTRUCTURE_ERROR.to_string()],
            status: CaseStatus::InfrastructureError,
            infrastructure_error: Some(InfrastructureError {
                kind: kind.to_string(),
                message,
            }),
            ..CaseResult::new(name, expected, Vec::new())
        }
    }

    /// The harness failed this case (an emulator stalled or was killed).
    pub fn is_infrastructure_error(&self) -> bool {
        self.status == CaseStatus::InfrastructureError
    }
}

impl OtaResults {
    /// Cases the harness could not finish.
    pub fn infrastructure_errors(&self) -> impl Iterator<Item = &CaseResult> {
        self.cases.iter().filter(|c| c.is_infrastructure_error())
    }
}

/// One device's result in one case.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeviceOutcome {
    /// The device id.
    pub device: String,
    /// How the update ended on it (e.g. `updated`, `rejected:signature`).
    pub outcome: String,
    /// Downloads resumed after a cut.
    pub resumes: u32,
    /// Bytes, requests and air time of its radio link.
    pub link: LinkTotals,
    /// Radio energy from the board's currents (none when the board has no radio figures).
    pub radio_energy_mj: Option<f64>,
}

impl DeviceOutcome {
    /// A band's verdict with its radio's link figures.
    pub fn of(bridge: &RadioBridge, board: &BoardProfile, outcome: String, resumes: u32) -> Self {
        DeviceOutcome {
            device: bridge.device.clone(),
            outcome,
            resumes,
            link: bridge.totals().clone(),
            radio_energy_mj: bridge.link.energy_mj(board),
        }
    }
}

/// On-device accuracy on a user's held-out windows, measured on the band.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AccuracyGain {
    /// The held-out user.
    pub user: String,
    /// Windows per class uploaded for fine-tuning.
    pub shots_per_class: usize,
    /// The user's windows beyond the uploads, scored before and after.
    pub test_windows: usize,
    /// Accuracy with the generalized model.
    pub before: f64,
    /// None when the band did not take the release.
    pub after: Option<f64>,
}
