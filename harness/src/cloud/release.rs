//! Releases: an OTA image (`model || golden input || expected logits`, the layout
//! `harbor_core::ota::manifest` defines) and its signed manifest.

use harbor_core::interpreter::Interpreter;
use harbor_core::ota::manifest::{self, HardwareId, InputContract, Manifest};
use harbor_core::tflite::Model;
use serde::{Deserialize, Serialize};

use super::client::hex;
use super::faults::Fault;

/// One signing key: its id (the manifest's `key_id`) and ed25519 seed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SigningKey {
    /// Key id (the manifest's `key_id`).
    pub id: u32,
    /// Ed25519 seed.
    pub seed: [u8; 32],
}

impl SigningKey {
    /// The public half, as the band stores it.
    pub fn trusted(&self) -> harbor_core::ota::TrustedKey {
        harbor_core::ota::TrustedKey {
            id: self.id,
            public: ed25519_dalek::SigningKey::from_bytes(&self.seed)
                .verifying_key()
                .to_bytes(),
        }
    }
}

/// Key id the [`Fault::UnknownKey`] manifests name; no band trusts it.
pub const ROGUE_KEY_ID: u32 = 0x0BAD_0BAD;
const ROGUE_SEED: [u8; 32] = *b"harbor-rogue-key-nobody-trusts!!";

/// Why a release could not be built or signed.
#[derive(Debug, thiserror::Error)]
pub enum ReleaseError {
    /// The file is not a model harbor-core can read.
    #[error("not a model harbor-core can run: {0}")]
    NotAModel(String),
    /// The model does not fit an arena plan.
    #[error("cannot plan the model: {0}")]
    Plan(String),
    /// The model's input is not `[.., window, channels]`.
    #[error("model input shape {0:?} is not [.., window, channels]")]
    InputShape(Vec<usize>),
    /// A model figure does not fit its manifest field.
    #[error("the model's {0} does not fit the manifest")]
    OutOfRange(&'static str),
    /// The golden self-test input has the wrong length.
    #[error("golden input has {got} values, the model takes {want}")]
    GoldenLen {
        /// Values given.
        got: usize,
        /// Values the model's input takes.
        want: usize,
    },
    /// The self-test window could not be inferred.
    #[error("running the self-test window: {0}")]
    SelfTest(String),
    /// The hardware id is empty, too long or not text.
    #[error("hardware id `{0}`: 1-32 bytes of UTF-8")]
    HardwareId(String),
}

/// An OTA image for `model` with its self-test: `golden` (one int8 input window) and the
/// logits harbor-core computes for it, plus the model's input contract.
pub fn build_image(
    model: &[u8],
    golden: Option<&[i8]>,
) -> Result<(Vec<u8>, InputContract), ReleaseError> {
    let plan = |e: &dyn std::fmt::Display| ReleaseError::Plan(e.to_string());
    let parsed = Model::parse(model).map_err(|e| ReleaseError::NotAModel(e.to_string()))?;
    let mut arena = vec![0u8; Interpreter::arena_required(&parsed).map_err(|e| plan(&e))?];
    let mut interpreter = Interpreter::new(parsed, &mut arena).map_err(|e| plan(&e))?;
    let input = interpreter.input_info(0).map_err(|e| plan(&e))?;
    let output = interpreter.output_info(0).map_err(|e| plan(&e))?;
    let dims = input.shape.dims();
    // [1, window, channels] (or [window, channels]).
    let (window, channels) = match dims {
        [.., w, c] => (*w, *c),
        _ => return Err(ReleaseError::InputShape(dims.to_vec())),
    };
    let range = |what| move |_| ReleaseError::OutOfRange(what);
    let contract = InputContract {
        window_len: u16::try_from(window).map_err(range("window length"))?,
        channels: u8::try_from(channels).map_err(range("channel count"))?,
        classes: u8::try_from(output.len()).map_err(range("class count"))?,
        input_scale: input.scale,
        input_zero_point: i8::try_from(input.zero_point).map_err(range("input zero point"))?,
    };
    // Without a chosen window the self-test input is all zero points (a "still" window).
    let zeros = vec![contract.input_zero_point; contract.input_len()];
    let golden = golden.unwrap_or(&zeros);
    if golden.len() != contract.input_len() {
        return Err(ReleaseError::GoldenLen {
            got: golden.len(),
            want: contract.input_len(),
        });
    }
    let run = |e: &dyn std::fmt::Display| ReleaseError::SelfTest(e.to_string());
    interpreter.set_input(0, golden).map_err(|e| run(&e))?;
    interpreter.invoke().map_err(|e| run(&e))?;
    let logits: Vec<i8> = interpreter.output(0).map_err(|e| run(&e))?.iter().collect();
    let mut image = model.to_vec();
    image.extend(golden.iter().map(|&v| v as u8));
    image.extend(logits.iter().map(|&v| v as u8));
    Ok((image, contract))
}

/// A published release (what the store keeps).
#[derive(Clone, Debug)]
pub struct Release {
    /// Release id.
    pub id: String,
    /// The device it is for.
    pub device: String,
    /// The signed manifest.
    pub manifest: Manifest,
    /// Artifact name in the store.
    pub artifact: String,
}

/// The release API's answer.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct ReleaseInfo {
    /// Release id.
    pub release: String,
    /// The device it is for.
    pub device: String,
    /// Model version.
    pub version: u32,
    /// Hardware version it is built for.
    pub hardware_version: String,
    /// Id of the signing key.
    pub key_id: u32,
    /// The signed manifest, hex.
    pub manifest: String,
    /// Where to download the image.
    pub artifact_url: String,
    /// Image bytes.
    pub size: u64,
    /// SHA-256 of the image, hex.
    pub sha256: String,
}

impl Release {
    /// The answer for this release with `manifest` (possibly altered by a fault).
    pub fn info(&self, manifest: &Manifest) -> ReleaseInfo {
        ReleaseInfo {
            release: self.id.clone(),
            device: self.device.clone(),
            version: manifest.version,
            hardware_version: manifest.hardware_id.as_str().to_string(),
            key_id: manifest.key_id,
            manifest: hex(&manifest.encode()),
            artifact_url: format!("/api/v0/artifacts/{}", self.artifact),
            size: u64::from(self.manifest.image_size),
            sha256: hex(&self.manifest.image_sha256),
        }
    }
}

/// Signs a manifest for `image` with `key`.
pub fn sign(
    version: u32,
    image: &[u8],
    model_size: usize,
    hardware: &str,
    contract: InputContract,
    key: &SigningKey,
) -> Result<Manifest, ReleaseError> {
    let hardware_id =
        HardwareId::new(hardware).ok_or_else(|| ReleaseError::HardwareId(hardware.into()))?;
    let model_size =
        u32::try_from(model_size).map_err(|_| ReleaseError::OutOfRange("model size"))?;
    Ok(
        Manifest::describe(version, image, model_size, hardware_id, contract)
            .sign(key.id, &key.seed),
    )
}

/// The manifest a faulted request gets: `current_version` is the device's, for
/// [`Fault::OlderVersion`].
pub fn apply_manifest_fault(
    manifest: &Manifest,
    fault: &Fault,
    key: &SigningKey,
    current_version: u32,
) -> Manifest {
    let mut m = *manifest;
    let resign = |m: Manifest| m.sign(key.id, &key.seed);
    match fault {
        Fault::BadSignature => {
            m.signature[0] ^= 0x01;
            m
        }
        Fault::UnknownKey => m.sign(ROGUE_KEY_ID, &ROGUE_SEED),
        Fault::WrongHardware => {
            m.hardware_id = HardwareId::new("not-this-band").unwrap_or(m.hardware_id);
            resign(m)
        }
        Fault::WrongModelShape => {
            // Same input size (so the image still adds up), other shape.
            if m.contract.channels.is_multiple_of(2) {
                m.contract.channels /= 2;
                m.contract.window_len = m.contract.window_len.saturating_mul(2);
            } else {
                m.contract.input_scale *= 2.0;
            }
            resign(m)
        }
        Fault::OlderVersion => {
            m.version = current_version.saturating_sub(1);
            resign(m)
        }
        _ => m,
    }
}

/// SHA-256, re-exported for callers comparing downloads.
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    manifest::sha256(bytes)
}
