//! The band's release checks run on the host (harbor-core, the code the band runs), and the
//! tampering that makes a release's self-test fail.

use harbor_core::ota::TrustedKey;
use harbor_core::ota::manifest::{DeviceProfile, Manifest};

use crate::cloud::client::{hex, unhex};
use crate::cloud::{ReleaseInfo, SigningKey};
use crate::ota::error::CaseError;
use crate::ota::radio::Download;

/// What the band would conclude about `manifest_hex` + `image` (`accepted`, `incomplete` or
/// the band's refusal name).
pub fn host_verdict(
    manifest_hex: &str,
    image: &[u8],
    complete: bool,
    keys: &[TrustedKey],
    device: &DeviceProfile,
    current_version: u32,
) -> String {
    let Some(bytes) = unhex(manifest_hex) else {
        return "bad-manifest-encoding".into();
    };
    let checked = Manifest::decode(&bytes)
        .and_then(|m| {
            m.check_release(keys, device, current_version + 1)
                .map(|_| m)
        })
        .and_then(|m| m.verify_image(image));
    match checked {
        Ok(()) => "accepted".into(),
        Err(e) if !complete && e.name() == "size-mismatch" => "incomplete".into(),
        Err(e) => e.name().into(),
    }
}

/// Makes a downloaded release's self-test fail on the band: its expected logits change and
/// the manifest is re-signed with the cloud's key, so every check before the self-test passes.
pub fn fail_self_test(
    info: &mut ReleaseInfo,
    d: &mut Download,
    key: &SigningKey,
) -> Result<(), CaseError> {
    let m = unhex(&info.manifest)
        .and_then(|b| Manifest::decode(&b).ok())
        .ok_or(CaseError::BadManifest("the release's manifest"))?;
    let last = d
        .bytes
        .last_mut()
        .ok_or_else(|| CaseError::MissingImage(info.release.clone()))?;
    *last = last.wrapping_add(1);
    let resigned = Manifest::describe(m.version, &d.bytes, m.model_size, m.hardware_id, m.contract)
        .sign(key.id, &key.seed);
    info.manifest = hex(&resigned.encode());
    Ok(())
}
