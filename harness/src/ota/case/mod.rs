//! The three kinds of OTA case (`scenario::CaseKind`), each on a fresh device of one cloud,
//! and what they share: the link, the fault mapping and the poll-and-download step.

mod personalized;
mod power_cut;
mod update;

use std::time::Duration;

use harbor_core::ota::TrustedKey;
use harbor_core::ota::manifest::DeviceProfile;

use crate::board::BoardProfile;
use crate::cloud::{CloudServer, Fault, HttpClient, ReleaseInfo, SigningKey};
use crate::ota::error::CaseError;
use crate::ota::link_model::{Link, LinkModel};
use crate::ota::outcome::CaseResult;
use crate::ota::radio::{Download, Poll, RadioBridge};
use crate::scenario::{CaseKind, FaultSpec, LinkSpec, OtaCase, OtaScenario, Radio};

/// What every case of one scenario runs against.
pub struct CaseContext<'a> {
    pub scenario: &'a OtaScenario,
    pub server: &'a CloudServer,
    pub board: &'a BoardProfile,
    /// The base model's `.tflite`.
    pub model: &'a [u8],
    /// The cloud's signing key (to re-sign a release whose self-test must fail).
    pub signing: &'a SigningKey,
    /// What the host-side checks trust and check against (the band's own profile).
    pub keys: Vec<TrustedKey>,
    pub device: DeviceProfile,
}

impl CaseContext<'_> {
    /// Runs case number `index`.
    pub async fn run(&self, index: usize, case: &OtaCase) -> Result<CaseResult, CaseError> {
        let first_device = format!("case{index}-dev0");
        match &case.kind {
            CaseKind::Update { .. } => update::run(self, index, case).await,
            CaseKind::PowerCutSweep => power_cut::run(self, &first_device, case).await,
            CaseKind::Personalized(spec) => {
                personalized::run(self, &first_device, case, spec).await
            }
        }
    }

    /// A registered device with its radio bridge; `seed_offset` gives each device its own
    /// loss pattern.
    fn bridge(&self, id: &str, case: &OtaCase, seed_offset: u64) -> Result<RadioBridge, CaseError> {
        let token = self.server.add_device("ota", id, &self.board.name)?;
        let spec = &self.scenario.link;
        let link = Link::new(link_model(
            spec,
            case.loss,
            spec.seed.wrapping_add(seed_offset),
        ));
        Ok(RadioBridge::new(
            HttpClient::new(self.server.base_url(), Some(&token)),
            id,
            &self.board.name,
            link,
        ))
    }
}

/// The link model of `spec`, with a case's `loss` override.
pub fn link_model(spec: &LinkSpec, loss: Option<f64>, seed: u64) -> LinkModel {
    let mut m = match spec.radio {
        Radio::Wifi => LinkModel::wifi(),
        Radio::Ble => LinkModel::ble(),
    };
    if let Some(t) = spec.throughput_bps {
        m.throughput_bps = t;
    }
    if let Some(l) = spec.latency_ms {
        m.latency = Duration::from_millis(l);
    }
    m.with_loss(loss.unwrap_or(spec.loss), seed)
}

/// The cloud fault for a YAML fault, and how many requests it hits (`None`: every one).
fn cloud_fault(spec: &FaultSpec) -> (Fault, Option<u32>) {
    match *spec {
        FaultSpec::Truncate { len } => (Fault::Truncate { len }, None),
        FaultSpec::CorruptByte { offset } => (Fault::CorruptByte { offset }, None),
        FaultSpec::BadSignature => (Fault::BadSignature, None),
        FaultSpec::UnknownKey => (Fault::UnknownKey, None),
        FaultSpec::WrongHardware => (Fault::WrongHardware, None),
        FaultSpec::WrongModelShape => (Fault::WrongModelShape, None),
        FaultSpec::OlderVersion => (Fault::OlderVersion, None),
        FaultSpec::Stall { ms } => (
            Fault::Stall {
                delay: Duration::from_millis(ms),
            },
            Some(1),
        ),
        // Once: the resumed request gets through.
        FaultSpec::ResetMidBody { after } => (Fault::ResetMidBody { after }, Some(1)),
        FaultSpec::Unavailable {
            retry_after_s,
            times,
        } => (Fault::Unavailable { retry_after_s }, Some(times)),
    }
}

/// Polls once and downloads the offered release; a case that needs an update fails without one.
async fn fetch_update(
    bridge: &mut RadioBridge,
    case: &OtaCase,
) -> Result<(ReleaseInfo, Download), CaseError> {
    let info = match bridge.poll(case.current_version).await {
        Ok(Poll::Update(info)) => info,
        Ok(Poll::NoUpdate) => return Err(CaseError::NoUpdate),
        Err(e) => return Err(CaseError::Poll(e)),
    };
    let d = bridge.download(&info).await.map_err(CaseError::Download)?;
    Ok((info, d))
}
