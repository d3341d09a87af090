//! The plain update case: `devices` bands poll one cloud at once, with a fault armed, and
//! each ends with its own verdict (on the band, or by the band's checks on the host).

use crate::cloud::FaultTarget;
use crate::ota::band::Band;
use crate::ota::error::CaseError;
use crate::ota::outcome::{CaseResult, DeviceOutcome};
use crate::ota::radio::{Poll, RadioBridge};
use crate::ota::verdict::{fail_self_test, host_verdict};
use crate::scenario::{CaseKind, OtaCase};

use super::{CaseContext, cloud_fault};

/// Runs case number `index` (a [`CaseKind::Update`]).
pub async fn run(
    ctx: &CaseContext<'_>,
    index: usize,
    case: &OtaCase,
) -> Result<CaseResult, CaseError> {
    let CaseKind::Update {
        fault,
        devices,
        self_test_fails,
    } = &case.kind
    else {
        unreachable!("dispatched on the case kind");
    };
    let log_before = ctx.server.fault_log().len();
    let mut bridges = Vec::new();
    for d in 0..*devices {
        let id = format!("case{index}-dev{d}");
        let bridge = ctx.bridge(&id, case, d as u64)?;
        let band = match &ctx.scenario.firmware {
            Some(fw) => {
                Some(Band::factory(fw, ctx.server, &id, ctx.model, case.current_version).await?)
            }
            None => None,
        };
        ctx.server
            .publish(&id, ctx.model, case.release_version, None)?;
        if let Some(f) = fault {
            let (fault, times) = cloud_fault(f);
            ctx.server
                .inject(FaultTarget::Device(id.clone()), fault, times);
        }
        bridges.push((bridge, band));
    }
    let runs = bridges
        .into_iter()
        .map(|(b, band)| one_device(ctx, case, *self_test_fails, b, band));
    let finished = futures_util::future::join_all(runs).await;
    let mut outcomes = Vec::new();
    for (b, ended) in finished {
        // A band whose emulator stalled or was killed fails the case as infrastructure.
        let (outcome, resumes) = ended?;
        outcomes.push(DeviceOutcome::of(&b, ctx.board, outcome, resumes));
    }
    let mut result = CaseResult::new(&case.name, &case.expect, outcomes);
    result.faults_hit = ctx.server.fault_log()[log_before..]
        .iter()
        .map(|h| h.fault.name().to_string())
        .collect();
    Ok(result)
}

/// One device's poll, download and verdict: the outcome and the resumes it took (`Err`
/// when its emulator stalled or was killed).
async fn one_device(
    ctx: &CaseContext<'_>,
    case: &OtaCase,
    self_test_fails: bool,
    mut b: RadioBridge,
    band: Option<Band>,
) -> (RadioBridge, Result<(String, u32), CaseError>) {
    let outcome = match b.poll(case.current_version).await {
        Ok(Poll::NoUpdate) => ("no_update".to_string(), 0),
        Ok(Poll::Update(mut info)) => match b.download(&info).await {
            Ok(mut d) => match band {
                Some(band) => {
                    let broken =
                        self_test_fails.then(|| fail_self_test(&mut info, &mut d, ctx.signing));
                    match broken {
                        Some(Err(e)) => (format!("cannot break the self-test: {e}"), d.resumes),
                        _ => match band.verdict_and_stop(&info, &d).await {
                            Ok(verdict) => (verdict, d.resumes),
                            Err(e) => return (b, Err(e)),
                        },
                    }
                }
                None => (
                    host_verdict(
                        &info.manifest,
                        &d.bytes,
                        d.complete,
                        &ctx.keys,
                        &ctx.device,
                        case.current_version,
                    ),
                    d.resumes,
                ),
            },
            Err(e) => (format!("download-failed: {e}"), 0),
        },
        Err(e) => (format!("poll-failed: {e}"), 0),
    };
    (b, Ok(outcome))
}
