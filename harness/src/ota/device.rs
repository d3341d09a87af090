//! The host's side of the band's OTA link protocol (docs/ota-device.md): push a signed
//! release into the band's inactive slot, read its OTA state, confirm, reboot, and the
//! power-cut test hook. Works over any [`Target`]; [`relaunch`] and [`create_flash_image`]
//! are the QEMU parts (the emulated band's persistent flash is a file harbor owns).

use std::path::Path;

use harbor_core::ota::SlotState;
use harbor_core::ota::error::code_name;
use harbor_core::protocol::frame::MAX_PAYLOAD;
use harbor_core::protocol::message::{EXIT_POWER_CUT, OtaStatusReport};
use harbor_core::protocol::{ErrorCause, MessageType, Request};

use crate::dut::{BinaryReply, DeviceConfig, Dut, QemuConfig, Target, TargetError};

/// Size of the flash file behind QEMU `virt`'s second CFI flash bank (it must match).
pub const FLASH_IMAGE_LEN: usize = 32 * 1024 * 1024;
/// Largest image chunk one OtaChunk carries (a full payload minus the offset).
pub const MAX_CHUNK: usize = MAX_PAYLOAD - 4;

/// Why an OTA step on the band failed.
#[derive(Debug, thiserror::Error)]
pub enum OtaDeviceError {
    /// The band refused a step; `code` is `harbor_core::ota::OtaError::code`.
    #[error("band refused {step:?}: {name} (code {code}, detail {detail})")]
    Refused {
        /// The request refused.
        step: MessageType,
        /// The OTA error code.
        code: u8,
        /// The code's name.
        name: &'static str,
        /// The code's detail (e.g. the minimum version).
        detail: u32,
    },
    /// The power-cut hook fired (the band powered off mid-request).
    #[error("band powered off (power-cut hook) while answering {during:?}")]
    PowerCut {
        /// The request being answered.
        during: MessageType,
    },
    /// A chunk size outside what one frame carries.
    #[error("chunk size {0} is outside 1..={MAX_CHUNK}")]
    ChunkSize(usize),
    /// The band acknowledged another byte count than was sent.
    #[error("band acknowledged {got} image bytes after sending {sent}")]
    AckMismatch {
        /// Image bytes sent.
        sent: u32,
        /// Bytes the band acknowledged.
        got: u32,
    },
    /// The device link failed.
    #[error(transparent)]
    Target(#[from] TargetError),
    /// The band's flash file could not be read or written.
    #[error("flash image {path}: {source}")]
    FlashImage {
        /// The flash file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
}

impl OtaDeviceError {
    /// The OTA error name the band gave (`bad-signature`, `downgrade`, …), if it refused.
    pub fn refusal(&self) -> Option<&'static str> {
        match self {
            Self::Refused { name, .. } => Some(name),
            _ => None,
        }
    }

    /// The harness's own trouble behind this error (an emulator that stalled or was killed,
    /// [`TargetError::is_infrastructure`]), if that is what it is: not the band's doing.
    pub fn infrastructure(&self) -> Option<&TargetError> {
        match self {
            Self::Target(t) if t.is_infrastructure() => Some(t),
            _ => None,
        }
    }
}

/// What a finished push did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pushed {
    /// The slot the release went to (0 = A, 1 = B); it runs after the next reboot.
    pub slot: u8,
    /// OtaChunk frames sent.
    pub chunks: u32,
    /// Bytes on the wire for the whole update (frames with headers and CRCs).
    pub wire_bytes: u64,
}

/// The band's OTA state (OtaStatus).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeviceOtaStatus {
    /// The slot running now, if any.
    pub active_slot: Option<u8>,
    /// The active slot's state, if a record exists.
    pub state: Option<SlotState>,
    /// Name of the last OTA error (`none` if none).
    pub last_error: &'static str,
    /// Whether the running model passed its self-test.
    pub self_test_passed: bool,
    /// Version of the running model (0: none from flash).
    pub version: u32,
    /// Anti-rollback floor.
    pub min_version: u32,
    /// Flash erase/program operations since boot.
    pub flash_ops: u32,
}

impl From<OtaStatusReport> for DeviceOtaStatus {
    fn from(r: OtaStatusReport) -> Self {
        Self {
            active_slot: r.active_slot,
            state: r.state,
            last_error: code_name(r.last_error),
            self_test_passed: r.self_test_passed,
            version: r.version,
            min_version: r.min_version,
            flash_ops: r.flash_ops,
        }
    }
}

/// Frame bytes of a request with `payload` bytes: sync, type, length, payload, CRC.
fn frame_len(payload: usize) -> u64 {
    (4 + payload + 4) as u64
}

/// A request that must be acknowledged; refusals and power cuts get their own errors.
async fn ack(target: &mut impl Target, request: &Request<'_>) -> Result<u32, OtaDeviceError> {
    let step = request.message_type();
    match target.exchange(request).await {
        Ok(BinaryReply::Ack { value, .. }) => Ok(value),
        Ok(BinaryReply::Error { cause, detail, .. }) => Err(refused(step, cause, detail)),
        Ok(other) => Err(TargetError::Unexpected {
            target: target.name().to_string(),
            expected: "Ack",
            got: format!("{other:?}"),
        }
        .into()),
        Err(e) => Err(classify(step, e)),
    }
}

fn refused(step: MessageType, cause: ErrorCause, detail: u32) -> OtaDeviceError {
    if cause == ErrorCause::OtaRefused {
        let code = (detail >> 24) as u8;
        OtaDeviceError::Refused {
            step,
            code,
            name: code_name(code),
            detail: detail & 0x00FF_FFFF,
        }
    } else {
        // Not an OTA refusal (e.g. an older firmware without OTA: unknown-message).
        OtaDeviceError::Refused {
            step,
            code: 0,
            name: cause.name(),
            detail,
        }
    }
}

/// The exit code of the power-cut hook is a power cut, not a crash.
fn classify(step: MessageType, e: TargetError) -> OtaDeviceError {
    match e {
        TargetError::Exited {
            code: Some(code), ..
        } if code == EXIT_POWER_CUT as i32 => OtaDeviceError::PowerCut { during: step },
        other => OtaDeviceError::Target(other),
    }
}

/// Sends a release: OtaBegin(manifest), the image in `chunk_size` pieces, OtaFinish.
/// `progress(sent, total)` is called after each acknowledged chunk.
pub async fn push_update(
    target: &mut impl Target,
    manifest: &[u8],
    image: &[u8],
    chunk_size: usize,
    mut progress: impl FnMut(usize, usize) + Send,
) -> Result<Pushed, OtaDeviceError> {
    if chunk_size == 0 || chunk_size > MAX_CHUNK {
        return Err(OtaDeviceError::ChunkSize(chunk_size));
    }
    let slot = ack(target, &Request::OtaBegin { manifest }).await?;
    let mut wire_bytes = frame_len(manifest.len()) + frame_len(5);
    let mut chunks = 0;
    for (i, data) in image.chunks(chunk_size).enumerate() {
        let offset = (i * chunk_size) as u32;
        let held = ack(target, &Request::OtaChunk { offset, data }).await?;
        let sent = offset + data.len() as u32;
        if held != sent {
            return Err(OtaDeviceError::AckMismatch { sent, got: held });
        }
        chunks += 1;
        wire_bytes += frame_len(4 + data.len()) + frame_len(5);
        progress(sent as usize, image.len());
    }
    let finished = ack(target, &Request::OtaFinish).await?;
    wire_bytes += frame_len(0) + frame_len(5);
    debug_assert_eq!(finished, slot, "finish names the slot begin chose");
    Ok(Pushed {
        slot: finished as u8,
        chunks,
        wire_bytes,
    })
}

/// The band's OTA state.
pub async fn status(target: &mut impl Target) -> Result<DeviceOtaStatus, OtaDeviceError> {
    match target.exchange(&Request::OtaStatus).await {
        Ok(BinaryReply::OtaStatus(report)) => Ok(report.into()),
        Ok(BinaryReply::Error { cause, detail, .. }) => {
            Err(refused(MessageType::OtaStatus, cause, detail))
        }
        Ok(other) => Err(TargetError::Unexpected {
            target: target.name().to_string(),
            expected: "OtaStatus",
            got: format!("{other:?}"),
        }
        .into()),
        Err(e) => Err(classify(MessageType::OtaStatus, e)),
    }
}

/// Confirms the running (PENDING_VERIFY) model; returns the new anti-rollback floor.
pub async fn confirm(target: &mut impl Target) -> Result<u32, OtaDeviceError> {
    ack(target, &Request::OtaConfirm).await
}

/// Arms the power-cut hook: after `after_flash_ops` more flash operations the band powers
/// off. Returns the operations done so far this boot.
pub async fn arm_power_cut(
    target: &mut impl Target,
    after_flash_ops: u32,
) -> Result<u32, OtaDeviceError> {
    ack(target, &Request::ArmPowerCut { after_flash_ops }).await
}

/// Asks the band to restart; it acknowledges, then goes down. Bringing it back up is
/// the backend's job: [`relaunch`] for QEMU.
pub async fn reboot(target: &mut impl Target) -> Result<(), OtaDeviceError> {
    ack(target, &Request::Reboot).await.map(|_| ())
}

/// QEMU: reboot the band, wait for the old process to be gone (it holds the flash file's
/// lock), and start it again on the same flash image.
pub async fn reboot_qemu(mut target: Dut, config: &QemuConfig) -> Result<Dut, OtaDeviceError> {
    reboot(&mut target).await?;
    relaunch(target, config).await
}

/// QEMU: stop `target` (whatever state it is in, e.g. after a power cut) and boot the
/// firmware again on the same flash image.
pub async fn relaunch(target: Dut, config: &QemuConfig) -> Result<Dut, OtaDeviceError> {
    target.shutdown().await;
    Ok(crate::dut::open(&DeviceConfig::Qemu(config.clone())).await?)
}

/// Creates (or resets) an erased flash file for the emulated band: 32 MiB of 0xFF.
pub fn create_flash_image(path: &Path) -> Result<(), OtaDeviceError> {
    std::fs::write(path, vec![0xFF; FLASH_IMAGE_LEN]).map_err(|source| OtaDeviceError::FlashImage {
        path: path.display().to_string(),
        source,
    })
}
