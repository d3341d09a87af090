//! `sweep: power_cut`: the release is downloaded over the radio, then pushed into copies of a
//! band running `current_version` with a power cut at every flash operation (`ota::sweep`).

use crate::cloud::client::unhex;
use crate::ota::band::band_config;
use crate::ota::error::CaseError;
use crate::ota::outcome::{CaseResult, DeviceOutcome};
use crate::ota::sweep::{SignedRelease, power_cut_sweep};
use crate::scenario::OtaCase;

use super::{CaseContext, fetch_update};

/// The outcome when every cut leaves a bootable band.
pub const NEVER_BRICKED: &str = "never_bricked";

/// Runs the sweep on device `id`.
pub async fn run(ctx: &CaseContext<'_>, id: &str, case: &OtaCase) -> Result<CaseResult, CaseError> {
    let firmware = ctx
        .scenario
        .firmware
        .as_ref()
        .expect("checked before the cases run");
    let mut bridge = ctx.bridge(id, case, 0)?;
    let factory = ctx
        .server
        .publish(id, ctx.model, case.current_version, None)?;
    let v1 = SignedRelease {
        manifest: unhex(&factory.manifest).ok_or(CaseError::BadManifest("factory manifest"))?,
        image: ctx
            .server
            .artifact_bytes(&factory)
            .ok_or_else(|| CaseError::MissingImage(factory.release.clone()))?,
    };
    ctx.server
        .publish(id, ctx.model, case.release_version, None)?;
    let (info, d) = fetch_update(&mut bridge, case).await?;
    let v2 = SignedRelease {
        manifest: unhex(&info.manifest).ok_or(CaseError::BadManifest("release manifest"))?,
        image: d.bytes.clone(),
    };
    let sweep = power_cut_sweep(&band_config(firmware), &v1, &v2).await?;
    let unbootable = sweep.unbootable.len() as u32;
    let outcome = if unbootable == 0 && sweep.cut_points_tried > 0 {
        NEVER_BRICKED.to_string()
    } else {
        format!(
            "unbootable after {unbootable} of {} cuts",
            sweep.cut_points_tried
        )
    };
    let device = DeviceOutcome::of(&bridge, ctx.board, outcome, d.resumes);
    let mut result = CaseResult::new(&case.name, &case.expect, vec![device]);
    result.cut_points_tried = Some(sweep.cut_points_tried);
    result.unbootable = Some(unbootable);
    result.unbootable_after = sweep.unbootable;
    Ok(result)
}
