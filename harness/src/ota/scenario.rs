//! OTA scenarios (`kind: ota` YAML, e.g. scenarios/ota.yaml): each case publishes a release
//! on a fresh device of one real mock cloud, arms a fault, lets the radio bridge poll and
//! download under the link model, and judges what arrived with harbor-core's release checks
//! (signature, compatibility, anti-rollback, image hash) — the checks the band runs.
//!
//! With `firmware:` set, every device is a band-qemu with its own persistent flash: it is
//! first given the factory release (`current_version`), then the downloaded release is
//! pushed into it (`ota::device`) and the outcome is the band's own verdict after a reboot.
//! `sweep: power_cut` runs `ota::sweep` (a cut at every flash operation of the update and
//! its confirm); `self_test_fails: true` delivers a release whose self-test window fails,
//! and the band must roll back (`rolled_back`). Both need `firmware:`.
//! `personalize:` makes the release the cloud's personalization for a held-out user and
//! measures the band's accuracy on that user's other windows before and after.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::board::BoardProfile;
use crate::cloud::client::{hex, unhex};
use crate::cloud::{
    CloudConfig, CloudServer, Fault, FaultTarget, HttpClient, ReleaseInfo, SigningKey,
};
use crate::ota::device as ota_device;
use crate::ota::link_model::{Link, LinkModel, LinkTotals, RadioKind};
use crate::ota::personalized::{
    AccuracyGain, PersonalizeSpec, band_accuracy, personalize, user_windows,
};
use crate::ota::radio::{Download, Poll, RadioBridge};
use crate::ota::sweep::{SignedRelease, power_cut_sweep};
use crate::dut::{DeviceConfig, Dut, QemuConfig};
use harbor_core::ota::manifest::{DeviceProfile, HardwareId, Manifest};

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OtaScenario {
    /// Must be `ota`.
    pub kind: String,
    pub name: String,
    /// Base model directory (relative to the scenario file).
    pub model: PathBuf,
    /// Board profile name or path (radio currents, hardware id).
    #[serde(default = "default_board")]
    pub board: String,
    #[serde(default)]
    pub link: LinkSpec,
    /// Band firmware ELF (relative to the scenario file): push into emulated bands. Without
    /// it the band's checks run on the host.
    #[serde(default)]
    pub firmware: Option<PathBuf>,
    pub cases: Vec<OtaCase>,
}

fn default_board() -> String {
    "esp32c3-band".into()
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkSpec {
    #[serde(default = "default_radio")]
    pub radio: String,
    pub throughput_bps: Option<f64>,
    pub latency_ms: Option<u64>,
    #[serde(default)]
    pub loss: f64,
    #[serde(default = "default_seed")]
    pub seed: u64,
}

fn default_radio() -> String {
    "wifi".into()
}
fn default_seed() -> u64 {
    1
}

impl Default for LinkSpec {
    fn default() -> Self {
        LinkSpec {
            radio: default_radio(),
            throughput_bps: None,
            latency_ms: None,
            loss: 0.0,
            seed: default_seed(),
        }
    }
}

impl LinkSpec {
    fn model(&self, loss: Option<f64>, seed: u64) -> Result<LinkModel, String> {
        let mut m = match self.radio.as_str() {
            "wifi" => LinkModel::wifi(),
            "ble" => LinkModel::ble(),
            other => return Err(format!("link.radio `{other}`: use wifi or ble")),
        };
        if let Some(t) = self.throughput_bps {
            m.throughput_bps = t;
        }
        if let Some(l) = self.latency_ms {
            m.latency = Duration::from_millis(l);
        }
        let loss = loss.unwrap_or(self.loss);
        if !(0.0..1.0).contains(&loss) {
            return Err(format!("loss {loss}: must be in [0, 1)"));
        }
        Ok(m.with_loss(loss, seed))
    }
}

/// A fault as written in YAML: `{type: truncate, len: 1000}`.
#[derive(Clone, Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum FaultSpec {
    Truncate { len: u64 },
    CorruptByte { offset: u64 },
    BadSignature,
    UnknownKey,
    WrongHardware,
    WrongModelShape,
    OlderVersion,
    Stall { ms: u64 },
    ResetMidBody { after: u64 },
    Unavailable { retry_after_s: u32, times: u32 },
}

impl FaultSpec {
    fn fault(&self) -> (Fault, Option<u32>) {
        match *self {
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
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OtaCase {
    pub name: String,
    #[serde(default)]
    pub fault: Option<FaultSpec>,
    /// `accepted`, `no_update`, `incomplete`, or the ManifestError name the band must give
    /// (`bad-signature`, `unknown-key`, `incompatible`, `downgrade`, `hash-mismatch`,
    /// `size-mismatch`).
    pub expect: String,
    #[serde(default = "one")]
    pub current_version: u32,
    #[serde(default = "two")]
    pub release_version: u32,
    /// Devices updating concurrently against the one cloud.
    #[serde(default = "one_usize")]
    pub devices: usize,
    /// Overrides the scenario's link loss for this case.
    pub loss: Option<f64>,
    /// `power_cut`: cut the power at every flash operation of the update and its confirm;
    /// the outcome is `never_bricked` when every cut leaves a bootable band.
    #[serde(default)]
    pub sweep: Option<String>,
    /// The delivered release's expected self-test logits are wrong (re-signed, so only the
    /// self-test can catch it): the band must roll back (`rolled_back`).
    #[serde(default)]
    pub self_test_fails: bool,
    /// The release is the cloud's personalization of the base model for this user; the
    /// band's accuracy on the user's other windows is measured before and after.
    #[serde(default)]
    pub personalize: Option<PersonalizeSpec>,
}

fn one() -> u32 {
    1
}
fn two() -> u32 {
    2
}
fn one_usize() -> usize {
    1
}

/// One device's result in one case.
#[derive(Clone, Debug, Serialize)]
pub struct DeviceOutcome {
    pub device: String,
    pub outcome: String,
    pub resumes: u32,
    pub link: LinkTotals,
    pub radio_energy_mj: Option<f64>,
}

impl DeviceOutcome {
    /// A band's verdict with its radio's link figures.
    fn of(bridge: &RadioBridge, board: &BoardProfile, outcome: String, resumes: u32) -> Self {
        DeviceOutcome {
            device: bridge.device.clone(),
            outcome,
            resumes,
            link: bridge.totals().clone(),
            radio_energy_mj: bridge.link.energy_mj(board),
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct CaseResult {
    pub name: String,
    pub expected: String,
    pub passed: bool,
    pub devices: Vec<DeviceOutcome>,
    /// Faults the cloud injected (names, in order).
    pub faults_hit: Vec<String>,
    /// Power-cut sweep only: cut points tried and bands left unbootable (must be 0).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cut_points_tried: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unbootable: Option<u32>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unbootable_after: Vec<String>,
    /// Personalized release only: on-device accuracy for its user before and after.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accuracy: Option<AccuracyGain>,
}

#[derive(Clone, Debug, Serialize)]
pub struct OtaReport {
    pub scenario: String,
    pub radio: RadioKind,
    pub verified_by: String,
    pub cases: Vec<CaseResult>,
    pub passed: bool,
}

impl OtaScenario {
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut s: OtaScenario =
            serde_saphyr::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        if s.kind != "ota" {
            return Err(format!(
                "{}: kind `{}` is not `ota`",
                path.display(),
                s.kind
            ));
        }
        if s.cases.is_empty() {
            return Err(format!("{}: no cases", path.display()));
        }
        let base = path.parent().unwrap_or(Path::new("")).to_path_buf();
        if s.model.is_relative() {
            s.model = base.join(&s.model);
        }
        if let Some(fw) = &mut s.firmware
            && fw.is_relative()
        {
            *fw = base.join(&*fw);
        }
        Ok(s)
    }
}

/// Whether `path` is an OTA scenario (top-level `kind: ota`), for `harbor run`'s dispatch.
pub fn is_ota_scenario(path: &Path) -> bool {
    std::fs::read_to_string(path)
        .map(|t| t.lines().any(|l| l.trim_end() == "kind: ota"))
        .unwrap_or(false)
}

/// What the band would conclude about `manifest` + `image` (host-side, harbor-core).
fn verdict(
    manifest_hex: &str,
    image: &[u8],
    complete: bool,
    keys: &[harbor_core::ota::TrustedKey],
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

/// An emulated band with its own flash file, running the factory release.
struct Band {
    _dir: tempfile::TempDir,
    config: QemuConfig,
    target: Dut,
}

fn band_config(firmware: &Path) -> QemuConfig {
    let mut config = QemuConfig::new(firmware);
    // Two shared cores: generous deadlines, several bands may boot at once.
    config.boot_timeout = Duration::from_secs(30);
    config.exchange_timeout = Duration::from_secs(30);
    config
}

/// Makes a downloaded release's self-test fail on the band: its expected logits change and
/// the manifest is re-signed with the cloud's key, so every check before the self-test passes.
fn fail_self_test(
    info: &mut ReleaseInfo,
    d: &mut Download,
    key: &SigningKey,
) -> Result<(), String> {
    let m = unhex(&info.manifest)
        .and_then(|b| Manifest::decode(&b).ok())
        .ok_or("the release's manifest does not decode")?;
    let last = d.bytes.last_mut().ok_or("empty image")?;
    *last = last.wrapping_add(1);
    let resigned = Manifest::describe(m.version, &d.bytes, m.model_size, m.hardware_id, m.contract)
        .sign(key.id, &key.seed);
    info.manifest = hex(&resigned.encode());
    Ok(())
}

/// Polls once and downloads the offered release; a case that needs an update fails without one.
async fn fetch_update(
    bridge: &mut RadioBridge,
    case: &OtaCase,
) -> Result<(ReleaseInfo, Download), String> {
    let info = match bridge.poll(case.current_version).await {
        Ok(Poll::Update(info)) => info,
        Ok(Poll::NoUpdate) => {
            return Err(format!("case `{}`: the cloud offered no update", case.name));
        }
        Err(e) => return Err(format!("case `{}`: poll: {e}", case.name)),
    };
    let d = bridge
        .download(&info)
        .await
        .map_err(|e| format!("case `{}`: download: {e}", case.name))?;
    Ok((info, d))
}

/// `sweep: power_cut`: the release is downloaded over the radio, then pushed into copies of
/// a band running `current_version` with a power cut at every flash operation.
async fn sweep_case(
    s: &OtaScenario,
    server: &CloudServer,
    board: &BoardProfile,
    model: &[u8],
    id: &str,
    case: &OtaCase,
) -> Result<CaseResult, String> {
    if case.sweep.as_deref() != Some("power_cut") {
        return Err(format!(
            "case `{}`: sweep `{}`: the one sweep is `power_cut`",
            case.name,
            case.sweep.as_deref().unwrap_or("")
        ));
    }
    let fw = s
        .firmware
        .as_ref()
        .ok_or_else(|| format!("case `{}`: a power-cut sweep needs `firmware:`", case.name))?;
    let token = server
        .add_device("ota", id, &board.name)
        .map_err(|e| e.to_string())?;
    let factory = server
        .publish(id, model, case.current_version, None)
        .map_err(|e| e.to_string())?;
    let v1 = SignedRelease {
        manifest: unhex(&factory.manifest).ok_or("factory manifest")?,
        image: server
            .artifact_bytes(&factory)
            .ok_or("factory image missing")?,
    };
    server
        .publish(id, model, case.release_version, None)
        .map_err(|e| e.to_string())?;
    let link = Link::new(s.link.model(case.loss, s.link.seed)?);
    let mut bridge = RadioBridge::new(
        HttpClient::new(server.base_url(), Some(&token)),
        id,
        &board.name,
        link,
    );
    let (info, d) = fetch_update(&mut bridge, case).await?;
    let v2 = SignedRelease {
        manifest: unhex(&info.manifest).ok_or("release manifest")?,
        image: d.bytes.clone(),
    };
    let sweep = power_cut_sweep(&band_config(fw), &v1, &v2).await?;
    let unbootable = sweep.unbootable.len() as u32;
    let outcome = if unbootable == 0 && sweep.cut_points_tried > 0 {
        "never_bricked".to_string()
    } else {
        format!(
            "unbootable after {unbootable} of {} cuts",
            sweep.cut_points_tried
        )
    };
    Ok(CaseResult {
        name: case.name.clone(),
        expected: case.expect.clone(),
        passed: outcome == case.expect,
        devices: vec![DeviceOutcome::of(&bridge, board, outcome, d.resumes)],
        faults_hit: Vec::new(),
        accuracy: None,
        cut_points_tried: Some(sweep.cut_points_tried),
        unbootable: Some(unbootable),
        unbootable_after: sweep.unbootable,
    })
}

/// `personalize:`: the cloud personalizes the base model for a held-out user, the band
/// (running the base model) takes the release over the radio, and the user's other windows
/// are replayed on the band before and after.
async fn personalized_case(
    s: &OtaScenario,
    server: &CloudServer,
    board: &BoardProfile,
    model: &[u8],
    id: &str,
    case: &OtaCase,
    spec: &PersonalizeSpec,
) -> Result<CaseResult, String> {
    let fw = s.firmware.as_ref().ok_or_else(|| {
        format!(
            "case `{}`: personalization runs on a band: set `firmware:`",
            case.name
        )
    })?;
    let contract = server.contract().clone();
    let windows = user_windows(spec, board, &s.model, contract.classes.len())?;
    let token = server
        .add_device("ota", id, &board.name)
        .map_err(|e| e.to_string())?;
    let band = factory_band(fw, server, id, model, case.current_version).await?;
    let client = HttpClient::new(server.base_url(), Some(&token));
    let job = personalize(&client, id, &contract, &windows.uploads).await?;
    let Band {
        _dir,
        config,
        mut target,
    } = band;
    let before = band_accuracy(&mut target, &windows.test).await?;
    let link = Link::new(s.link.model(case.loss, s.link.seed)?);
    let mut bridge = RadioBridge::new(client, id, &board.name, link);
    let (info, d) = fetch_update(&mut bridge, case).await?;
    if info.release != job.release {
        return Err(format!(
            "case `{}`: offered {} instead of the job's release",
            case.name, info.release
        ));
    }
    let band = Band {
        _dir,
        config,
        target,
    };
    let (outcome, after) = match band_verdict_keep(band, &info, &d).await {
        (v, Some(mut band)) if v == "accepted" => {
            let confirmed = ota_device::confirm(&mut band.target)
                .await
                .map_err(|e| format!("confirm: {e}"));
            let after = match confirmed {
                Ok(_) => band_accuracy(&mut band.target, &windows.test).await,
                Err(e) => Err(e),
            };
            band.target.shutdown().await;
            (v, Some(after?))
        }
        (v, band) => {
            if let Some(band) = band {
                band.target.shutdown().await;
            }
            (v, None)
        }
    };
    Ok(CaseResult {
        name: case.name.clone(),
        expected: case.expect.clone(),
        passed: outcome == case.expect && after.is_some_and(|a| a > before),
        devices: vec![DeviceOutcome::of(&bridge, board, outcome, d.resumes)],
        faults_hit: Vec::new(),
        cut_points_tried: None,
        unbootable: None,
        unbootable_after: Vec::new(),
        accuracy: Some(AccuracyGain {
            user: spec.user.clone(),
            shots_per_class: spec.shots_per_class,
            test_windows: windows.test.len(),
            before,
            after: after.unwrap_or(f64::NAN),
        }),
    })
}

async fn factory_band(
    firmware: &Path,
    server: &CloudServer,
    device: &str,
    model: &[u8],
    version: u32,
) -> Result<Band, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let flash = dir.path().join("flash.img");
    ota_device::create_flash_image(&flash).map_err(|e| e.to_string())?;
    let mut config = band_config(firmware);
    config.flash_image = Some(flash);
    let mut target = crate::dut::open(&DeviceConfig::Qemu(config.clone()))
        .await
        .map_err(|e| e.to_string())?;
    if version > 0 {
        // Installed at the factory: straight from the cloud's store, no radio.
        let info = server
            .publish(device, model, version, None)
            .map_err(|e| e.to_string())?;
        let image = server
            .artifact_bytes(&info)
            .ok_or("factory image missing")?;
        let manifest = unhex(&info.manifest).ok_or("factory manifest")?;
        ota_device::push_update(
            &mut target,
            &manifest,
            &image,
            ota_device::MAX_CHUNK,
            |_, _| {},
        )
        .await
        .map_err(|e| format!("factory install: {e}"))?;
        target = ota_device::reboot_qemu(target, &config)
            .await
            .map_err(|e| e.to_string())?;
        ota_device::confirm(&mut target)
            .await
            .map_err(|e| format!("factory confirm: {e}"))?;
    }
    Ok(Band {
        _dir: dir,
        config,
        target,
    })
}

/// Pushes the download into the band and reads what it concluded after a reboot.
async fn band_verdict(band: Band, info: &ReleaseInfo, d: &Download) -> String {
    let (verdict, band) = band_verdict_keep(band, info, d).await;
    if let Some(band) = band {
        band.target.shutdown().await;
    }
    verdict
}

/// [`band_verdict`], keeping the band running after its reboot (when it came back up).
async fn band_verdict_keep(band: Band, info: &ReleaseInfo, d: &Download) -> (String, Option<Band>) {
    let Band {
        _dir,
        config,
        mut target,
    } = band;
    if let Err(e) = crate::ota::radio::deliver(&mut target, info, d, ota_device::MAX_CHUNK).await {
        target.shutdown().await;
        return (
            e.refusal()
                .map_or_else(|| format!("push-failed: {e}"), str::to_string),
            None,
        );
    }
    let mut target = match ota_device::reboot_qemu(target, &config).await {
        Err(e) => return (format!("reboot-failed: {e}"), None),
        Ok(t) => t,
    };
    let verdict = match ota_device::status(&mut target).await {
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
    (
        verdict,
        Some(Band {
            _dir,
            config,
            target,
        }),
    )
}

/// Runs every case against one cloud; the report says which passed.
pub async fn run(s: &OtaScenario) -> Result<OtaReport, String> {
    if let Some(fw) = s.firmware.as_ref().filter(|f| !f.is_file()) {
        return Err(format!(
            "firmware image {} does not exist: run scripts/build-firmware",
            fw.display()
        ));
    }
    let board = BoardProfile::load(&s.board).map_err(|e| e.to_string())?;
    if s.firmware.is_none()
        && let Some(c) = s
            .cases
            .iter()
            .find(|c| c.sweep.is_some() || c.self_test_fails || c.personalize.is_some())
    {
        return Err(format!(
            "case `{}` runs on emulated bands: set `firmware:`",
            c.name
        ));
    }
    let config = CloudConfig {
        hardware: vec![board.name.clone()],
        ..CloudConfig::new(&s.model)
    };
    let signing = config.keys[0].clone();
    let server = CloudServer::start(config).map_err(|e| e.to_string())?;
    server.add_user("ota").map_err(|e| e.to_string())?;
    let model = std::fs::read(s.model.join("model.tflite"))
        .map_err(|e| format!("{}: {e}", s.model.display()))?;
    let (_, contract) = crate::cloud::release::build_image(&model, None)?;
    let hardware_id = HardwareId::new(&board.name).ok_or("board name is not a hardware id")?;
    let device = DeviceProfile {
        hardware_id,
        channels: contract.channels,
        max_window_len: contract.window_len,
        active: Some(contract),
    };
    let keys = server.trusted_keys();
    let mut cases = Vec::new();
    for (ci, case) in s.cases.iter().enumerate() {
        let log_before = server.fault_log().len();
        if let Some(spec) = &case.personalize {
            cases.push(
                personalized_case(
                    s,
                    &server,
                    &board,
                    &model,
                    &format!("case{ci}-dev0"),
                    case,
                    spec,
                )
                .await?,
            );
            continue;
        }
        if case.sweep.is_some() {
            cases.push(
                sweep_case(s, &server, &board, &model, &format!("case{ci}-dev0"), case).await?,
            );
            continue;
        }
        let mut bridges = Vec::new();
        for d in 0..case.devices.max(1) {
            let id = format!("case{ci}-dev{d}");
            let token = server
                .add_device("ota", &id, &board.name)
                .map_err(|e| e.to_string())?;
            let band = match &s.firmware {
                Some(fw) => {
                    Some(factory_band(fw, &server, &id, &model, case.current_version).await?)
                }
                None => None,
            };
            server
                .publish(&id, &model, case.release_version, None)
                .map_err(|e| e.to_string())?;
            if let Some(f) = &case.fault {
                let (fault, times) = f.fault();
                server.inject(FaultTarget::Device(id.clone()), fault, times);
            }
            let link = Link::new(
                s.link
                    .model(case.loss, s.link.seed.wrapping_add(d as u64))?,
            );
            let client = HttpClient::new(server.base_url(), Some(&token));
            bridges.push((RadioBridge::new(client, &id, &board.name, link), band));
        }
        let runs = bridges.into_iter().map(|(mut b, band)| {
            let keys = keys.clone();
            let signing = &signing;
            async move {
                let outcome = match b.poll(case.current_version).await {
                    Ok(Poll::NoUpdate) => ("no_update".to_string(), 0),
                    Ok(Poll::Update(mut info)) => match b.download(&info).await {
                        Ok(mut d) => match band {
                            Some(band) => match case
                                .self_test_fails
                                .then(|| fail_self_test(&mut info, &mut d, signing))
                            {
                                Some(Err(e)) => {
                                    (format!("cannot break the self-test: {e}"), d.resumes)
                                }
                                _ => (band_verdict(band, &info, &d).await, d.resumes),
                            },
                            None => (
                                verdict(
                                    &info.manifest,
                                    &d.bytes,
                                    d.complete,
                                    &keys,
                                    &device,
                                    case.current_version,
                                ),
                                d.resumes,
                            ),
                        },
                        Err(e) => (format!("download-failed: {e}"), 0),
                    },
                    Err(e) => (format!("poll-failed: {e}"), 0),
                };
                (b, outcome)
            }
        });
        let finished = futures_util::future::join_all(runs).await;
        let devices: Vec<DeviceOutcome> = finished
            .into_iter()
            .map(|(b, (outcome, resumes))| DeviceOutcome::of(&b, &board, outcome, resumes))
            .collect();
        let faults_hit = server.fault_log()[log_before..]
            .iter()
            .map(|h| h.fault.name().to_string())
            .collect();
        cases.push(CaseResult {
            name: case.name.clone(),
            passed: devices.iter().all(|d| d.outcome == case.expect),
            expected: case.expect.clone(),
            devices,
            faults_hit,
            cut_points_tried: None,
            unbootable: None,
            unbootable_after: Vec::new(),
            accuracy: None,
        });
    }
    let radio = s.link.model(None, 0)?.radio;
    Ok(OtaReport {
        scenario: s.name.clone(),
        radio,
        verified_by: match &s.firmware {
            Some(fw) => format!("the emulated band ({}) after push and reboot", fw.display()),
            None => "harbor-core release checks on the host (the band's own checks)".into(),
        },
        passed: cases.iter().all(|c| c.passed),
        cases,
    })
}

/// Markdown table of a report.
pub fn to_markdown(r: &OtaReport) -> String {
    let mut md = format!(
        "# OTA scenario `{}`\n\nRadio: {:?}. Verdicts: {}.\n\n| case | expected | outcome | pass | bytes down | duration s | radio on s | energy mJ | resumes |\n|---|---|---|---|---|---|---|---|---|\n",
        r.scenario, r.radio, r.verified_by
    );
    for c in &r.cases {
        for d in &c.devices {
            md.push_str(&format!(
                "| {} ({}) | {} | {} | {} | {} | {:.3} | {:.3} | {} | {} |\n",
                c.name,
                d.device,
                c.expected,
                d.outcome,
                if c.passed { "yes" } else { "**no**" },
                d.link.bytes_down,
                d.link.duration_s,
                d.link.radio_on_s,
                d.radio_energy_mj.map_or("–".into(), |e| format!("{e:.1}")),
                d.resumes
            ));
        }
    }
    for c in &r.cases {
        if let Some(a) = &c.accuracy {
            md.push_str(&format!(
                "\nPersonalization `{}`: on-device accuracy for user {} on {} of their windows (not uploaded): {:.3} before, {:.3} after the update ({} windows per class uploaded).\n",
                c.name, a.user, a.test_windows, a.before, a.after, a.shots_per_class
            ));
        }
    }
    for c in r.cases.iter().filter(|c| c.cut_points_tried.is_some()) {
        md.push_str(&format!(
            "\nPower-cut sweep `{}`: {} cut points tried, {} unbootable.\n",
            c.name,
            c.cut_points_tried.unwrap_or(0),
            c.unbootable.unwrap_or(0)
        ));
        for why in &c.unbootable_after {
            md.push_str(&format!("- unbootable after {why}\n"));
        }
    }
    md
}

/// `harbor run <ota scenario>`: runs it, writes `ota-report.{json,md,junit.xml}` to `out`; `Ok(false)`
/// when a case did not end as expected.
pub fn run_to_dir(path: &Path, out: &Path) -> Result<bool, String> {
    let scenario = OtaScenario::load(path)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let report = runtime.block_on(run(&scenario))?;
    std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let json = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
    std::fs::write(out.join("ota-report.json"), json)
        .map_err(|e| format!("{}: {e}", out.display()))?;
    std::fs::write(out.join("ota-report.md"), to_markdown(&report))
        .map_err(|e| format!("{}: {e}", out.display()))?;
    std::fs::write(
        out.join("ota-report.junit.xml"),
        crate::ota::junit::to_junit(&report),
    )
    .map_err(|e| format!("{}: {e}", out.display()))?;
    print!("{}", to_markdown(&report));
    Ok(report.passed)
}
