//! Runs an OTA scenario: one mock cloud, each case on fresh devices, and the run report with
//! the cases as its `ota` section.

use std::time::Instant;

use harbor_core::ota::manifest::{DeviceProfile, HardwareId};

use crate::board::BoardProfile;
use crate::cloud::{CloudConfig, CloudServer};
use crate::ota::case::{CaseContext, link_model};
use crate::ota::error::OtaError;
use crate::ota::outcome::{CaseResult, OtaResults};
use crate::report::{BoardSummary, Report, RunStatus, SCHEMA_VERSION};
use crate::scenario::OtaScenario;
use crate::shutdown::{Stop, StopSignal};

/// Runs every case against one cloud; the results say which ended as expected. A case the
/// harness fails (an emulator that stalls or is killed) is recorded as an infrastructure
/// error and the next case runs; any other case error stops the run.
pub async fn run(s: &OtaScenario) -> Result<OtaResults, OtaError> {
    Ok(run_until(s, &StopSignal::never()).await?.0)
}

/// [`run`] until `stop` fires: the case running then is dropped (its emulator killed, its
/// flash images removed) and the results hold the cases that finished, with the signal.
pub async fn run_until(
    s: &OtaScenario,
    stop: &StopSignal,
) -> Result<(OtaResults, Option<Stop>), OtaError> {
    if let Some(fw) = s.firmware.as_ref().filter(|f| !f.is_file()) {
        return Err(OtaError::MissingFirmware(fw.clone()));
    }
    if s.firmware.is_none()
        && let Some(c) = s.cases.iter().find(|c| c.needs_band())
    {
        return Err(OtaError::NeedsBand(c.name.clone()));
    }
    let board = BoardProfile::load(&s.board)?;
    let config = CloudConfig {
        hardware: vec![board.name.clone()],
        ..CloudConfig::new(&s.model)
    };
    let signing = config.keys[0].clone();
    let server = CloudServer::start(config)?;
    server.add_user("ota")?;
    // Checked against its card (the scenario was too, but the file may have changed since).
    let model = crate::model::load_checked(&s.model)
        .map_err(|e| OtaError::Model(Box::new(e)))?
        .host
        .model_bytes()
        .to_vec();
    let (_, contract) = crate::cloud::release::build_image(&model, None)?;
    let hardware_id =
        HardwareId::new(&board.name).ok_or_else(|| OtaError::HardwareId(board.name.clone()))?;
    let ctx = CaseContext {
        scenario: s,
        server: &server,
        board: &board,
        model: &model,
        signing: &signing,
        keys: server.trusted_keys(),
        device: DeviceProfile {
            hardware_id,
            channels: contract.channels,
            max_window_len: contract.window_len,
            active: Some(contract),
        },
    };
    let mut cases = Vec::new();
    let mut interrupted_by = None;
    for (index, case) in s.cases.iter().enumerate() {
        let outcome = tokio::select! {
            outcome = ctx.run(index, case) => outcome,
            signal = stop.requested() => {
                interrupted_by = Some(signal);
                break;
            }
        };
        let result = match outcome {
            Ok(result) => result,
            // The harness failed this case: say so and go on with the next.
            Err(source) => match source.infrastructure().map(|infra| infra.kind()) {
                Some(kind) => CaseResult::infrastructure_error(
                    &case.name,
                    &case.expect,
                    kind,
                    source.to_string(),
                ),
                None => {
                    return Err(OtaError::Case {
                        case: case.name.clone(),
                        source: Box::new(source),
                    });
                }
            },
        };
        cases.push(result);
    }
    let results = OtaResults {
        radio: link_model(&s.link, None, 0).radio,
        verified_by: match &s.firmware {
            Some(fw) => format!("the emulated band ({}) after push and reboot", fw.display()),
            None => "harbor-core release checks on the host (the band's own checks)".into(),
        },
        passed: interrupted_by.is_none() && cases.iter().all(|c| c.passed),
        cases,
    };
    Ok((results, interrupted_by))
}

/// `harbor run` of an OTA scenario: runs it and returns the run report, the cases in its
/// `ota` section. With `stop_on_signals`, SIGINT or SIGTERM ends it early with the cases
/// that finished and `status: interrupted`.
pub fn run_report(s: &OtaScenario, stop_on_signals: bool) -> Result<Report, OtaError> {
    let board = BoardProfile::load(&s.board)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(OtaError::Runtime)?;
    let started = Instant::now();
    let (results, interrupted_by) = runtime.block_on(async {
        let stop = if stop_on_signals {
            StopSignal::listen().map_err(OtaError::Runtime)?
        } else {
            StopSignal::never()
        };
        run_until(s, &stop).await
    })?;
    Ok(Report {
        schema_version: SCHEMA_VERSION,
        harbor_version: env!("CARGO_PKG_VERSION").to_string(),
        scenario: s.name.clone(),
        scenario_file: s.path.display().to_string(),
        board: BoardSummary::of(&board),
        jobs: 1,
        shard: None,
        wall_s: started.elapsed().as_secs_f64(),
        results: Vec::new(),
        ota: Some(results),
        status: match interrupted_by {
            Some(_) => RunStatus::Interrupted,
            None => RunStatus::Complete,
        },
        interrupted_by,
    })
}
