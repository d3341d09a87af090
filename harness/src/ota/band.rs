//! An emulated band for OTA cases: band-qemu on its own flash file. The one place cases
//! launch a band, install its factory release and read its verdict after an update.

use std::path::Path;
use std::time::Duration;

use crate::cloud::client::unhex;
use crate::cloud::{CloudServer, ReleaseInfo};
use crate::dut::{DeviceConfig, Dut, QemuConfig};
use crate::ota::device;
use crate::ota::error::CaseError;
use crate::ota::radio::Download;

/// A running emulated band; its flash file lives as long as it does.
pub struct Band {
    _dir: tempfile::TempDir,
    config: QemuConfig,
    /// The running QEMU.
    pub target: Dut,
}

/// QEMU settings for one band running `firmware`.
pub fn band_config(firmware: &Path) -> QemuConfig {
    let mut config = QemuConfig::new(firmware);
    // Generous deadlines: several bands may boot at once on a busy host.
    config.boot_timeout = Duration::from_secs(30);
    config.exchange_timeout = Duration::from_secs(30);
    config
}

impl Band {
    /// A band on an erased flash with `version` of `model` installed at the factory (straight
    /// from the cloud's store, no radio) and confirmed; `version` 0 leaves it empty.
    pub async fn factory(
        firmware: &Path,
        server: &CloudServer,
        device_id: &str,
        model: &[u8],
        version: u32,
    ) -> Result<Band, CaseError> {
        let dir = tempfile::tempdir().map_err(CaseError::TempDir)?;
        let flash = dir.path().join("flash.img");
        device::create_flash_image(&flash).map_err(CaseError::device("flash image"))?;
        let mut config = band_config(firmware);
        config.flash_image = Some(flash);
        let mut target = crate::dut::open(&DeviceConfig::Qemu(config.clone()))
            .await
            .map_err(|e| CaseError::device("launch band")(e.into()))?;
        if version > 0 {
            let info = server.publish(device_id, model, version, None)?;
            let image = server
                .artifact_bytes(&info)
                .ok_or_else(|| CaseError::MissingImage(info.release.clone()))?;
            let manifest =
                unhex(&info.manifest).ok_or(CaseError::BadManifest("factory manifest"))?;
            device::push_update(&mut target, &manifest, &image, device::MAX_CHUNK, |_, _| {})
                .await
                .map_err(CaseError::device("factory install"))?;
            target = device::reboot_qemu(target, &config)
                .await
                .map_err(CaseError::device("factory reboot"))?;
            device::confirm(&mut target)
                .await
                .map_err(CaseError::device("factory confirm"))?;
        }
        Ok(Band {
            _dir: dir,
            config,
            target,
        })
    }

    /// Pushes the download into the band and reads what it concluded after a reboot; the band
    /// stays up when it came back. `Err` only when the harness failed (the emulator stalled
    /// or was killed): that is no verdict of the band's.
    pub async fn verdict(
        self,
        info: &ReleaseInfo,
        d: &Download,
    ) -> Result<(String, Option<Band>), CaseError> {
        let Band {
            _dir,
            config,
            mut target,
        } = self;
        if let Err(e) = crate::ota::radio::deliver(&mut target, info, d, device::MAX_CHUNK).await {
            target.shutdown().await;
            if e.infrastructure().is_some() {
                return Err(CaseError::device("push")(e));
            }
            return Ok((
                e.refusal()
                    .map_or_else(|| format!("push-failed: {e}"), str::to_string),
                None,
            ));
        }
        let mut target = match device::reboot_qemu(target, &config).await {
            Err(e) => {
                if e.infrastructure().is_some() {
                    return Err(CaseError::device("reboot")(e));
                }
                return Ok((format!("reboot-failed: {e}"), None));
            }
            Ok(t) => t,
        };
        let verdict = match device::status(&mut target).await {
            Err(e) if e.infrastructure().is_some() => {
                return Err(CaseError::device("status after the reboot")(e));
            }
            Ok(s) if s.version == info.version && s.self_test_passed => "accepted".to_string(),
            Ok(s)
                if s.last_error == "self-test-failed"
                    && s.version != info.version
                    && s.active_slot.is_some() =>
            {
                "rolled_back".to_string()
            }
            Ok(s) => format!(
                "not-activated (running v{}, last error {})",
                s.version, s.last_error
            ),
            Err(e) => format!("status-failed: {e}"),
        };
        Ok((
            verdict,
            Some(Band {
                _dir,
                config,
                target,
            }),
        ))
    }

    /// [`Band::verdict`], then the band is stopped.
    pub async fn verdict_and_stop(
        self,
        info: &ReleaseInfo,
        d: &Download,
    ) -> Result<String, CaseError> {
        let (verdict, band) = self.verdict(info, d).await?;
        if let Some(band) = band {
            band.stop().await;
        }
        Ok(verdict)
    }

    /// Stops the band's QEMU.
    pub async fn stop(self) {
        self.target.shutdown().await;
    }
}
