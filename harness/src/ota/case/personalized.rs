//! `personalize:`: the cloud personalizes the base model for a held-out user, the band
//! (running the base model) takes the release over the radio, and the user's other windows
//! are replayed on the band before and after.

use crate::ota::band::Band;
use crate::ota::device;
use crate::ota::error::CaseError;
use crate::ota::outcome::{AccuracyGain, CaseResult, DeviceOutcome};
use crate::ota::personalized::{band_accuracy, personalize, user_windows};
use crate::scenario::{OtaCase, PersonalizeSpec};

use super::{CaseContext, fetch_update};

/// Runs the personalized update on device `id`; it passes when the band accepts the release
/// and its accuracy for the user rises.
pub async fn run(
    ctx: &CaseContext<'_>,
    id: &str,
    case: &OtaCase,
    spec: &PersonalizeSpec,
) -> Result<CaseResult, CaseError> {
    let firmware = ctx
        .scenario
        .firmware
        .as_ref()
        .expect("checked before the cases run");
    let contract = ctx.server.contract().clone();
    let windows = user_windows(spec, ctx.board, &ctx.scenario.model, contract.classes.len())?;
    let mut bridge = ctx.bridge(id, case, 0)?;
    let mut band = Band::factory(firmware, ctx.server, id, ctx.model, case.current_version).await?;
    let job = personalize(bridge.client(), id, &contract, &windows.uploads).await?;
    let before = band_accuracy(&mut band.target, &windows.test).await?;
    let (info, d) = fetch_update(&mut bridge, case).await?;
    if info.release != job.release {
        return Err(CaseError::NotTheJobsRelease(info.release));
    }
    let (outcome, after) = match band.verdict(&info, &d).await? {
        (v, Some(mut band)) if v == "accepted" => {
            let confirmed = device::confirm(&mut band.target)
                .await
                .map_err(CaseError::device("confirm"));
            let after = match confirmed {
                Ok(_) => band_accuracy(&mut band.target, &windows.test)
                    .await
                    .map_err(CaseError::from),
                Err(e) => Err(e),
            };
            band.stop().await;
            (v, Some(after?))
        }
        (v, band) => {
            if let Some(band) = band {
                band.stop().await;
            }
            (v, None)
        }
    };
    let device = DeviceOutcome::of(&bridge, ctx.board, outcome, d.resumes);
    let mut result = CaseResult::new(&case.name, &case.expect, vec![device]);
    result.passed &= after.is_some_and(|a| a > before);
    result.accuracy = Some(AccuracyGain {
        user: spec.user.clone(),
        shots_per_class: spec.shots_per_class,
        test_windows: windows.test.len(),
        before,
        after,
    });
    Ok(result)
}
