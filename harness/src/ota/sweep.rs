//! The power-cut sweep (the MCUboot-simulator standard) on an emulated band: cut the power
//! before every flash operation of an update and of the confirm after it, restart QEMU on the
//! persisted flash, and check the band boots a signed model that passes its self-test window
//! and reports its version. Used by `kind: ota` scenarios (`sweep: power_cut`).

use std::path::PathBuf;

use harbor_core::ota::{Manifest, SlotState};
use serde::Serialize;

use crate::dut::{DeviceConfig, Dut, QemuConfig, Target};
use crate::ota::device::{self, MAX_CHUNK, OtaDeviceError, create_flash_image};

/// Infrastructure trouble that stops a sweep (a band left unbootable is a result instead).
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    /// The release manifest does not decode.
    #[error("release manifest: {0}")]
    Manifest(&'static str),
    /// The release image is shorter than its manifest says.
    #[error("release image is {len} bytes, its manifest needs {needed}")]
    ShortImage {
        /// Bytes in the image.
        len: usize,
        /// Bytes the manifest's layout needs.
        needed: usize,
    },
    /// The flash image could not be copied for the next cut.
    #[error("flash copy: {0}")]
    Flash(std::io::Error),
    /// The band failed at one step.
    #[error("{step}: {source}")]
    Device {
        /// The step.
        step: &'static str,
        /// What the band or its link said.
        source: OtaDeviceError,
    },
    /// The band ended another way than by the armed power cut.
    #[error("{point}: the band ended with {got}, not a power cut")]
    NoPowerCut {
        /// Where the cut was armed.
        point: String,
        /// How the band ended instead.
        got: String,
    },
}

impl SweepError {
    /// The harness's own trouble behind this error (an emulator that stalled or was
    /// killed), if that is what it is.
    pub fn infrastructure(&self) -> Option<&crate::dut::TargetError> {
        match self {
            Self::Device { source, .. } => source.infrastructure(),
            _ => None,
        }
    }
}

/// Why a band is not usable after a cut (recorded in the report, by cut point).
#[derive(Debug, thiserror::Error)]
enum Unbootable {
    #[error(transparent)]
    Step(#[from] SweepError),
    #[error("boots without a valid model: {0}")]
    NoValidModel(String),
    #[error("infer: {0}")]
    Infer(crate::dut::TargetError),
    #[error("v{version} gives {got:?} on its self-test window, not {expected:?}")]
    WrongLogits {
        version: u32,
        got: Vec<i8>,
        expected: Vec<i8>,
    },
    #[error("the update after the cut left v{0} running")]
    NotUpdated(u32),
}

/// A signed release as the band receives it.
#[derive(Clone, Debug)]
pub struct SignedRelease {
    /// The encoded, signed manifest.
    pub manifest: Vec<u8>,
    /// The image it describes.
    pub image: Vec<u8>,
}

impl SignedRelease {
    fn decoded(&self) -> Result<Manifest, SweepError> {
        Manifest::decode(&self.manifest).map_err(|e| SweepError::Manifest(e.name()))
    }

    /// The self-test window and the expected logits the image carries after the model.
    fn self_test(&self) -> Result<(Vec<i8>, Vec<i8>), SweepError> {
        let m = self.decoded()?;
        let start = m.model_size as usize;
        let split = start + m.contract.input_len();
        let end = split + usize::from(m.contract.classes);
        if self.image.len() < end {
            return Err(SweepError::ShortImage {
                len: self.image.len(),
                needed: end,
            });
        }
        let as_i8 = |b: &[u8]| b.iter().map(|&x| x as i8).collect();
        Ok((
            as_i8(&self.image[start..split]),
            as_i8(&self.image[split..end]),
        ))
    }
}

/// What a sweep found.
#[derive(Clone, Debug, Default, Serialize)]
pub struct SweepReport {
    /// Flash operations of the update (OtaBegin..OtaFinish).
    pub update_ops: u32,
    /// Flash operations of the confirm.
    pub confirm_ops: u32,
    /// Cut points at which a power cut was made.
    pub cut_points_tried: u32,
    /// Cut points after which the band did not boot a valid model (must be none).
    pub unbootable: Vec<String>,
    /// The version each cut left running.
    pub versions_after_cut: Vec<u32>,
}

/// A band on its own copy of a flash file.
struct Flash {
    _dir: tempfile::TempDir,
    config: QemuConfig,
}

impl Flash {
    fn erased(template: &QemuConfig) -> Result<Self, SweepError> {
        Self::new(template, |path| {
            create_flash_image(path).map_err(step("flash image"))
        })
    }

    fn copy_of(template: &QemuConfig, other: &Flash) -> Result<Self, SweepError> {
        let from = other.path();
        Self::new(template, |path| {
            std::fs::copy(&from, path)
                .map(|_| ())
                .map_err(SweepError::Flash)
        })
    }

    fn new(
        template: &QemuConfig,
        make: impl FnOnce(&PathBuf) -> Result<(), SweepError>,
    ) -> Result<Self, SweepError> {
        let dir = tempfile::tempdir().map_err(SweepError::Flash)?;
        let path = dir.path().join("flash.img");
        make(&path)?;
        let mut config = template.clone();
        config.flash_image = Some(path);
        config.power_cut_at_boot = None;
        Ok(Self { _dir: dir, config })
    }

    fn path(&self) -> PathBuf {
        self.config.flash_image.clone().expect("set in new")
    }

    async fn launch(&self) -> Result<Dut, SweepError> {
        crate::dut::open(&DeviceConfig::Qemu(self.config.clone()))
            .await
            .map_err(|e| step("launch band")(e.into()))
    }
}

fn step(step: &'static str) -> impl Fn(OtaDeviceError) -> SweepError {
    move |source| SweepError::Device { step, source }
}

async fn push(target: &mut Dut, r: &SignedRelease) -> Result<device::Pushed, OtaDeviceError> {
    device::push_update(target, &r.manifest, &r.image, MAX_CHUNK, |_, _| {}).await
}

async fn flash_ops(target: &mut Dut) -> Result<u32, SweepError> {
    Ok(device::status(target)
        .await
        .map_err(step("status"))?
        .flash_ops)
}

/// Push, reboot, confirm; the running band after it.
async fn install(flash: &Flash, mut target: Dut, r: &SignedRelease) -> Result<Dut, SweepError> {
    push(&mut target, r).await.map_err(step("install push"))?;
    let mut target = device::reboot_qemu(target, &flash.config)
        .await
        .map_err(step("install reboot"))?;
    device::confirm(&mut target)
        .await
        .map_err(step("install confirm"))?;
    Ok(target)
}

/// Installs `v1` on a fresh band, then cuts the power at every flash operation of pushing
/// and confirming `v2`. `Err` only for infrastructure trouble (QEMU would not start, an
/// unexpected reply before the cut); a band left unbootable is in the report.
pub async fn power_cut_sweep(
    template: &QemuConfig,
    v1: &SignedRelease,
    v2: &SignedRelease,
) -> Result<SweepReport, SweepError> {
    let (v1_version, v2_version) = (v1.decoded()?.version, v2.decoded()?.version);
    let base = Flash::erased(template)?;
    let target = base.launch().await?;
    install(&base, target, v1).await?.shutdown().await;

    // Dry run: how many flash operations the update and the confirm take.
    let dry = Flash::copy_of(template, &base)?;
    let mut target = dry.launch().await?;
    let before = flash_ops(&mut target).await?;
    push(&mut target, v2).await.map_err(step("dry-run push"))?;
    let update_ops = flash_ops(&mut target).await? - before;
    let mut target = device::reboot_qemu(target, &dry.config)
        .await
        .map_err(step("dry-run reboot"))?;
    let before = flash_ops(&mut target).await?;
    device::confirm(&mut target)
        .await
        .map_err(step("dry-run confirm"))?;
    let confirm_ops = flash_ops(&mut target).await? - before;
    target.shutdown().await;

    let mut report = SweepReport {
        update_ops,
        confirm_ops,
        ..SweepReport::default()
    };
    let versions = (v1_version, v2_version);
    for k in 0..update_ops {
        let band = Flash::copy_of(template, &base)?;
        let mut target = band.launch().await?;
        device::arm_power_cut(&mut target, k)
            .await
            .map_err(step("arm"))?;
        match push(&mut target, v2).await {
            Err(OtaDeviceError::PowerCut { .. }) => {}
            Err(e) if e.infrastructure().is_some() => return Err(step("update cut")(e)),
            other => {
                return Err(SweepError::NoPowerCut {
                    point: format!("update cut {k}"),
                    got: format!("{other:?}"),
                });
            }
        }
        record(
            &mut report,
            &format!("update op {k}"),
            check_bootable(&band, target, versions, v1, v2).await,
        )?;
    }
    // Each copy of this flash boots v2 for the first time (NEW → PENDING_VERIFY).
    let pushed = Flash::copy_of(template, &base)?;
    let mut target = pushed.launch().await?;
    push(&mut target, v2).await.map_err(step("push"))?;
    target.shutdown().await;
    for k in 0..confirm_ops {
        let band = Flash::copy_of(template, &pushed)?;
        let mut target = band.launch().await?;
        device::arm_power_cut(&mut target, k)
            .await
            .map_err(step("arm"))?;
        match device::confirm(&mut target).await {
            Err(OtaDeviceError::PowerCut { .. }) => {}
            Err(e) if e.infrastructure().is_some() => return Err(step("confirm cut")(e)),
            other => {
                return Err(SweepError::NoPowerCut {
                    point: format!("confirm cut {k}"),
                    got: format!("{other:?}"),
                });
            }
        }
        record(
            &mut report,
            &format!("confirm op {k}"),
            check_bootable(&band, target, versions, v1, v2).await,
        )?;
    }
    Ok(report)
}

/// Counts the cut and records what it left; an emulator that stalled or was killed is the
/// harness's trouble, not an unbootable band: it ends the sweep as an error.
fn record(
    report: &mut SweepReport,
    point: &str,
    result: Result<u32, Unbootable>,
) -> Result<(), SweepError> {
    match result {
        Ok(version) => report.versions_after_cut.push(version),
        Err(why) => match why.into_infrastructure() {
            Ok(infra) => return Err(infra),
            Err(why) => report.unbootable.push(format!("{point}: {why}")),
        },
    }
    report.cut_points_tried += 1;
    Ok(())
}

impl Unbootable {
    /// `Ok` with the sweep error when the harness, not the band, failed; else `Err(self)`.
    fn into_infrastructure(self) -> Result<SweepError, Self> {
        match self {
            Self::Step(e) if e.infrastructure().is_some() => Ok(e),
            Self::Infer(e) if e.is_infrastructure() => Ok(SweepError::Device {
                step: "infer after the cut",
                source: e.into(),
            }),
            other => Err(other),
        }
    }
}

/// After a cut: a fresh QEMU on the flash boots v1 or v2, the model it runs gives its
/// release's self-test logits, and finishing the job (confirm, or the update again) brings
/// it to v2. The version the cut left running, or why the band is not usable.
async fn check_bootable(
    band: &Flash,
    target: Dut,
    (v1_version, v2_version): (u32, u32),
    v1: &SignedRelease,
    v2: &SignedRelease,
) -> Result<u32, Unbootable> {
    let mut target = device::relaunch(target, &band.config)
        .await
        .map_err(step("boot after the cut"))?;
    let result = async {
        let s = device::status(&mut target)
            .await
            .map_err(step("status after the cut"))?;
        let running = match (s.active_slot, s.version) {
            (Some(_), v) if v == v1_version => v1,
            (Some(_), v) if v == v2_version => v2,
            _ => return Err(Unbootable::NoValidModel(format!("{s:?}"))),
        };
        let (window, expected) = running.self_test()?;
        let got = target
            .infer(&window)
            .await
            .map_err(Unbootable::Infer)?
            .logits;
        if got != expected {
            return Err(Unbootable::WrongLogits {
                version: s.version,
                got,
                expected,
            });
        }
        Ok(s)
    }
    .await;
    let s = match result {
        Ok(s) => s,
        Err(e) => {
            target.shutdown().await;
            return Err(e);
        }
    };
    // Finish the job: a pending v2 is confirmed, a v1 band takes the update again.
    if s.version == v2_version {
        if s.state == Some(SlotState::PendingVerify) {
            device::confirm(&mut target)
                .await
                .map_err(step("confirm after the cut"))?;
        }
    } else {
        target = install(band, target, v2).await?;
    }
    let now = device::status(&mut target)
        .await
        .map_err(step("status after retry"))?;
    target.shutdown().await;
    if now.version != v2_version {
        return Err(Unbootable::NotUpdated(now.version));
    }
    Ok(s.version)
}

#[cfg(test)]
mod tests {
    //! What a cut's trouble is recorded as: a band's own failure is an unbootable cut point,
    //! an emulator that stalled or was killed ends the sweep as an infrastructure error.

    use std::time::Duration;

    use harbor_core::protocol::MessageType;

    use super::*;
    use crate::dut::TargetError;

    fn stalled() -> TargetError {
        TargetError::EmulatorStalled {
            target: "qemu:band-qemu.elf".into(),
            pid: 4242,
            during: "answering OtaStatus".into(),
            waited: Duration::from_secs(30),
        }
    }

    fn killed() -> TargetError {
        TargetError::EmulatorKilled {
            target: "qemu:band-qemu.elf".into(),
            signal: 9,
            during: "answering OtaChunk".into(),
        }
    }

    fn hang() -> TargetError {
        TargetError::Hang {
            target: "qemu:band-qemu.elf".into(),
            during: "booting".into(),
            waited: Duration::from_secs(30),
        }
    }

    fn at_step(e: TargetError) -> Unbootable {
        Unbootable::Step(step("status after the cut")(e.into()))
    }

    #[test]
    fn a_stalled_or_killed_emulator_ends_the_sweep_and_is_not_counted_unbootable() {
        for (fault, kind) in [
            (at_step(stalled()), "emulator-stalled"),
            (at_step(killed()), "emulator-killed"),
            (Unbootable::Infer(killed()), "emulator-killed"),
        ] {
            let mut report = SweepReport::default();
            let err = record(&mut report, "update op 3", Err(fault)).unwrap_err();
            assert_eq!(
                err.infrastructure().map(TargetError::kind),
                Some(kind),
                "{err}"
            );
            assert_eq!(report.cut_points_tried, 0, "{err}");
            assert!(report.unbootable.is_empty(), "{:?}", report.unbootable);
            let case = crate::ota::CaseError::Sweep(err);
            assert_eq!(case.infrastructure().map(TargetError::kind), Some(kind));
        }
    }

    #[test]
    fn a_band_that_fails_on_its_own_is_an_unbootable_cut_point() {
        for fault in [
            at_step(hang()),
            Unbootable::NoValidModel("no active slot".into()),
            Unbootable::NotUpdated(1),
            Unbootable::Step(step("confirm")(OtaDeviceError::PowerCut {
                during: MessageType::OtaConfirm,
            })),
        ] {
            let mut report = SweepReport::default();
            record(&mut report, "confirm op 0", Err(fault)).unwrap();
            assert_eq!(report.cut_points_tried, 1);
            assert_eq!(report.unbootable.len(), 1);
            assert!(report.unbootable[0].starts_with("confirm op 0: "));
        }
        let mut report = SweepReport::default();
        record(&mut report, "update op 0", Ok(2)).unwrap();
        assert_eq!(
            (report.cut_points_tried, report.versions_after_cut),
            (1, vec![2])
        );
        assert!(
            crate::ota::CaseError::Sweep(step("arm")(hang().into()))
                .infrastructure()
                .is_none(),
            "a hang is the firmware's"
        );
    }
}
