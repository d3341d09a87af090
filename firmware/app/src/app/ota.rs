//! OTA on the band: the boot decision at start-up (load the active slot's model, self-test
//! a first boot), and the OTA requests. The A/B logic itself is `harbor_core::ota`.

use harbor_core::ota::{
    Boot, DeviceProfile, FlashError, HardwareId, Layout, OtaConfig, OtaError, SlotImage, SlotState,
    TRUSTED_KEYS, Updater, boot,
};
use harbor_core::protocol::message::OtaStatusReport;
use harbor_core::protocol::{ErrorCause, MessageType, Response};
use harbor_core::rate::AXES;

use super::{ARENA_SIZE, Band, DB_CAPACITY, error};
use crate::board::{BandFlash, Board};
use crate::inference;
use crate::stream::MAX_WINDOW;

/// The hardware id releases must name (the band profile `boards/esp32c3-band`; band-qemu
/// emulates that band's budget).
pub const HARDWARE_ID: HardwareId = match HardwareId::new("esp32c3-band") {
    Some(id) => id,
    None => panic!("hardware id"),
};
/// Bytes per model slot (rounded up to whole sectors).
const SLOT_BYTES: u32 = 256 * 1024;

/// What this boot knows about OTA.
#[derive(Clone, Copy)]
pub(super) struct OtaRuntime {
    boot: Option<Boot>,
    updater: Option<Updater>,
    /// Last error of an OTA request this boot (0: none; then the record's is reported).
    last_error: u8,
    self_test_passed: bool,
}

impl OtaRuntime {
    pub(super) const fn new() -> Self {
        Self {
            boot: None,
            updater: None,
            last_error: 0,
            self_test_passed: false,
        }
    }
}

fn config(sector: u32) -> OtaConfig<'static> {
    OtaConfig {
        layout: Layout::new(0, sector, SLOT_BYTES.div_ceil(sector).max(1)),
        keys: TRUSTED_KEYS,
        device: DeviceProfile {
            hardware_id: HARDWARE_ID,
            channels: AXES as u8,
            max_window_len: MAX_WINDOW as u16,
            active: None,
        },
    }
}

/// Error detail on the wire: the OTA error code in the top byte, its detail below.
fn refusal(ty: MessageType, e: OtaError) -> Response<'static> {
    error(
        ty,
        ErrorCause::OtaRefused,
        (u32::from(e.code()) << 24) | (e.detail() & 0x00FF_FFFF),
    )
}

fn ack(ty: MessageType, value: u32) -> Response<'static> {
    Response::Ack {
        for_type: ty as u8,
        value,
    }
}

const NO_FLASH: OtaError = OtaError::Flash(FlashError::Device { status: 0 });

impl Band {
    /// Start-up: decide what to boot and load it. A first boot (PENDING_VERIFY) runs the
    /// release's self-test; a failure marks it ABORTED and the decision runs again, which
    /// rolls back to the other slot.
    pub(super) fn ota_boot(&mut self, board: &mut impl Board) {
        for _ in 0..2 {
            let Some(mut flash) = board.ota_flash() else {
                return;
            };
            let cfg = config(flash.sector_size());
            let decision = match boot::decide(&mut flash, &cfg) {
                Ok(d) => d,
                Err(e) => {
                    self.ota.last_error = e.code();
                    return;
                }
            };
            self.ota.boot = Some(decision);
            let Some(image) = decision.active else {
                return;
            };
            let loaded = self.load_from_flash(flash, &image);
            let failure = if !loaded {
                OtaError::ModelRejected
            } else if !decision.needs_self_test() {
                return;
            } else if self.self_test(board, &image) {
                self.ota.self_test_passed = true;
                return;
            } else {
                OtaError::SelfTestFailed
            };
            self.unload_model();
            self.ota.last_error = failure.code();
            let Some(mut flash) = board.ota_flash() else {
                return;
            };
            if boot::abort(&mut flash, &cfg, failure).is_err() {
                // Not pending (a confirmed slot that will not load): nothing to roll back.
                return;
            }
        }
    }

    /// Copies the slot's model into the RAM model slot and checks the interpreter takes it.
    fn load_from_flash(&mut self, flash: &mut dyn BandFlash, image: &SlotImage) -> bool {
        self.unload_model();
        let addr = image.image_addr;
        let len = image.manifest.model_size as usize;
        if !self
            .slot()
            .load_with(len, |dest| flash.read(addr, dest).is_ok())
        {
            return false;
        }
        let model = self.slot().model().unwrap_or(&[]);
        match inference::check_model(model, ARENA_SIZE) {
            Ok(needed) => {
                self.model_arena = Some(needed);
                true
            }
            Err(_) => false,
        }
    }

    fn unload_model(&mut self) {
        self.model_arena = None;
        self.input = None;
        self.stream.disable();
        self.slot().load_with(0, |_| false);
    }

    /// Runs the release's golden window and compares the logits with the expected ones.
    fn self_test(&mut self, board: &mut impl Board, image: &SlotImage) -> bool {
        let contract = image.manifest.contract;
        let (n_in, n_out) = (contract.input_len(), usize::from(contract.classes));
        if n_in + n_out > DB_CAPACITY {
            return false;
        }
        let Some(flash) = board.ota_flash() else {
            return false;
        };
        let golden = image.image_addr + image.manifest.model_size;
        if flash.read(golden, &mut self.db[..n_in + n_out]).is_err() {
            return false;
        }
        // The golden input goes through the `db` path (the MLPerf buffer is idle at boot).
        self.db_received = n_in;
        let passed = match self.run_model(board, None) {
            Ok(outcome) => {
                outcome.n_logits == n_out
                    && self.logits[..n_out]
                        .iter()
                        .zip(&self.db[n_in..n_in + n_out])
                        .all(|(&got, &want)| got == want as i8)
            }
            Err(_) => false,
        };
        self.db_received = 0;
        self.n_logits = 0;
        passed
    }

    pub(super) fn ota_status(&mut self, board: &mut impl Board) -> Response<'static> {
        let flash_ops = board.ota_flash().map_or(0, |f| f.ops());
        let boot = self.ota.boot;
        let active = boot.and_then(|b| b.active);
        Response::OtaStatus(OtaStatusReport {
            active_slot: active.map(|a| a.slot),
            state: boot.and_then(|b| b.state),
            last_error: match self.ota.last_error {
                0 => boot.map_or(0, |b| b.last_error),
                e => e,
            },
            self_test_passed: self.ota.self_test_passed,
            version: active.map_or(0, |a| a.manifest.version),
            min_version: boot.map_or(0, |b| b.min_version),
            flash_ops,
        })
    }

    pub(super) fn ota_begin(
        &mut self,
        board: &mut impl Board,
        manifest: &[u8],
    ) -> Response<'static> {
        let ty = MessageType::OtaBegin;
        self.ota.updater = None;
        let Some(mut flash) = board.ota_flash() else {
            return refusal(ty, NO_FLASH);
        };
        let cfg = config(flash.sector_size());
        match Updater::begin(&mut flash, &cfg, manifest) {
            Ok(updater) => {
                self.ota.last_error = 0;
                self.ota.updater = Some(updater);
                ack(ty, u32::from(updater.slot()))
            }
            Err(e) => self.refuse(ty, e),
        }
    }

    pub(super) fn ota_chunk(
        &mut self,
        board: &mut impl Board,
        offset: u32,
        data: &[u8],
    ) -> Response<'static> {
        let ty = MessageType::OtaChunk;
        let Some(mut flash) = board.ota_flash() else {
            return refusal(ty, NO_FLASH);
        };
        let cfg = config(flash.sector_size());
        let Some(updater) = self.ota.updater.as_mut() else {
            return self.refuse(ty, OtaError::NoUpdate);
        };
        match updater.write(&mut flash, &cfg, offset, data) {
            Ok(written) => ack(ty, written),
            // A chunk at the wrong offset can be resent; anything else ends the update.
            Err(e @ OtaError::OutOfOrder { .. }) => self.refuse(ty, e),
            Err(e) => {
                self.ota.updater = None;
                self.refuse(ty, e)
            }
        }
    }

    pub(super) fn ota_finish(&mut self, board: &mut impl Board) -> Response<'static> {
        let ty = MessageType::OtaFinish;
        let Some(mut flash) = board.ota_flash() else {
            return refusal(ty, NO_FLASH);
        };
        let cfg = config(flash.sector_size());
        let Some(updater) = self.ota.updater.take() else {
            return self.refuse(ty, OtaError::NoUpdate);
        };
        let mut arena = self.arena.as_deref_mut();
        // Before activation: the model must run here and match its manifest's contract.
        let check = |f: &mut &mut dyn BandFlash, image: &SlotImage| {
            let Some(model) = f.mapped(image.image_addr, image.manifest.model_size) else {
                // No XIP view: the boot-time load check and self-test still guard it.
                return Ok(());
            };
            let fits = match arena.as_deref_mut() {
                Some(arena) => inference::matches_contract(model, arena, &image.manifest.contract),
                None => false,
            };
            if fits {
                Ok(())
            } else {
                Err(OtaError::ModelRejected)
            }
        };
        match updater.finish(&mut flash, &cfg, check) {
            Ok(image) => ack(ty, u32::from(image.slot)),
            Err(e) => self.refuse(ty, e),
        }
    }

    pub(super) fn ota_confirm(&mut self, board: &mut impl Board) -> Response<'static> {
        let ty = MessageType::OtaConfirm;
        let Some(mut flash) = board.ota_flash() else {
            return refusal(ty, NO_FLASH);
        };
        let cfg = config(flash.sector_size());
        match boot::confirm(&mut flash, &cfg) {
            Ok(record) => {
                if let Some(b) = self.ota.boot.as_mut() {
                    b.state = Some(SlotState::Confirmed);
                    b.min_version = record.min_version;
                    b.last_error = 0;
                }
                ack(ty, record.min_version)
            }
            Err(e) => self.refuse(ty, e),
        }
    }

    pub(super) fn arm_power_cut(
        &mut self,
        board: &mut impl Board,
        after: u32,
    ) -> Response<'static> {
        let ty = MessageType::ArmPowerCut;
        let Some(flash) = board.ota_flash() else {
            return refusal(ty, NO_FLASH);
        };
        flash.arm_power_cut(after);
        ack(ty, flash.ops())
    }

    fn refuse(&mut self, ty: MessageType, e: OtaError) -> Response<'static> {
        self.ota.last_error = e.code();
        refusal(ty, e)
    }
}
