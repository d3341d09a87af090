//! The release manifest: a fixed 164-byte little-endian record, signed with ed25519.
//!
//! ```text
//! offset len field
//!   0     4  magic "HOTA"
//!   4     2  format version (1)
//!   6     2  reserved, 0
//!   8     4  model version (monotonic; anti-rollback)
//!  12     4  image size: model + self-test window + expected logits
//!  16     4  model size: the .tflite bytes at the start of the image
//!  20    32  SHA-256 of the whole image
//!  52    32  hardware id, UTF-8, zero-padded (1..=32 bytes)
//!  84     2  input contract: window length (model-rate samples)
//!  86     1  ... channels
//!  87     1  ... classes (model outputs)
//!  88     4  ... input scale (f32 bits)
//!  92     1  ... input zero point (i8)
//!  93     3  reserved, 0
//!  96     4  key id
//! 100    64  ed25519 signature over bytes 0..100
//! ```
//!
//! The image is `model || golden input (window_len·channels int8) || expected logits
//! (classes int8)`: the self-test after a PENDING_VERIFY boot runs the golden input and
//! compares the logits, and the hash covers all of it.

use sha2::{Digest, Sha256};

use super::keys::{self, TrustedKey};

/// First four bytes of every manifest.
pub const MAGIC: [u8; 4] = *b"HOTA";
/// Manifest layout version this code reads and writes.
pub const FORMAT_VERSION: u16 = 1;
/// Bytes covered by the signature.
pub const SIGNED_LEN: usize = 100;
/// Bytes of the Ed25519 signature.
pub const SIGNATURE_LEN: usize = 64;
/// Bytes of an encoded manifest.
pub const MANIFEST_LEN: usize = SIGNED_LEN + SIGNATURE_LEN;
/// Bytes reserved for the hardware id (zero-padded).
pub const HARDWARE_ID_LEN: usize = 32;

/// A hardware id: 1..=32 bytes of UTF-8 without NUL, stored zero-padded.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct HardwareId {
    bytes: [u8; HARDWARE_ID_LEN],
    len: u8,
}

impl HardwareId {
    /// `None` when empty, longer than 32 bytes or containing NUL.
    pub const fn new(id: &str) -> Option<Self> {
        let src = id.as_bytes();
        if src.is_empty() || src.len() > HARDWARE_ID_LEN {
            return None;
        }
        let mut bytes = [0u8; HARDWARE_ID_LEN];
        let mut i = 0;
        while i < src.len() {
            if src[i] == 0 {
                return None;
            }
            bytes[i] = src[i];
            i += 1;
        }
        Some(Self {
            bytes,
            len: src.len() as u8,
        })
    }

    fn from_padded(raw: &[u8; HARDWARE_ID_LEN]) -> Option<Self> {
        let len = raw.iter().position(|&b| b == 0).unwrap_or(HARDWARE_ID_LEN);
        // Padding must be all zero, so one id has exactly one encoding.
        if len == 0 || raw[len..].iter().any(|&b| b != 0) {
            return None;
        }
        let text = core::str::from_utf8(&raw[..len]).ok()?;
        Self::new(text)
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        // Built only from a &str or checked UTF-8.
        core::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or("")
    }
}

impl core::fmt::Debug for HardwareId {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{:?}", self.as_str())
    }
}

/// What a model consumes and produces, as far as the band's input path and UI care.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct InputContract {
    /// Samples per input window (model rate).
    pub window_len: u16,
    /// Values per sample (6 for accelerometer + gyroscope).
    pub channels: u8,
    /// Number of output classes.
    pub classes: u8,
    /// Input tensor scale: `real = scale · (q − zero_point)`.
    pub input_scale: f32,
    /// Input tensor zero point.
    pub input_zero_point: i8,
}

impl InputContract {
    /// Bytes of one golden input window.
    pub fn input_len(&self) -> usize {
        usize::from(self.window_len) * usize::from(self.channels)
    }
}

/// A release manifest. [`Manifest::decode`] checks the layout only; the signature, the
/// image, the device and the version are checked by the `verify_*`/`check_*` methods.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Manifest {
    /// Release version; must rise above the band's anti-rollback floor.
    pub version: u32,
    /// Bytes of the image that follows the manifest.
    pub image_size: u32,
    /// Bytes of the `.tflite` model at the start of the image (the rest is golden vectors).
    pub model_size: u32,
    /// SHA-256 of the whole image.
    pub image_sha256: [u8; 32],
    /// The hardware this release is built for.
    pub hardware_id: HardwareId,
    /// What the model consumes and produces.
    pub contract: InputContract,
    /// Which trusted key signed the manifest.
    pub key_id: u32,
    /// Ed25519 signature over the first [`SIGNED_LEN`] bytes.
    pub signature: [u8; SIGNATURE_LEN],
}

/// The device a manifest is checked against.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DeviceProfile {
    /// The band's own hardware id.
    pub hardware_id: HardwareId,
    /// Channels of the band's IMU input path.
    pub channels: u8,
    /// Longest window the band's stream path holds.
    pub max_window_len: u16,
    /// The active model's contract: a new model must keep it (the band's input
    /// conversion and class labels depend on it). `None` before the first model.
    pub active: Option<InputContract>,
}

/// A manifest field that does not fit the device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompatField {
    /// The manifest is for other hardware.
    HardwareId,
    /// The window is longer than the band holds, or differs from the active model's.
    WindowLen,
    /// The channel count differs from the band's input path.
    Channels,
    /// The class count differs from the active model's.
    Classes,
    /// The input scale differs from the active model's.
    InputScale,
    /// The input zero point differs from the active model's.
    InputZeroPoint,
}

impl CompatField {
    /// Human-readable field name for messages.
    pub const fn name(self) -> &'static str {
        match self {
            Self::HardwareId => "hardware id",
            Self::WindowLen => "window length",
            Self::Channels => "channels",
            Self::Classes => "classes",
            Self::InputScale => "input scale",
            Self::InputZeroPoint => "input zero point",
        }
    }
}

/// Why a manifest or the image it describes is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ManifestError {
    /// Fewer than [`MANIFEST_LEN`] bytes (or more, for an exact-length decode).
    Truncated {
        /// Bytes given.
        len: usize,
    },
    /// The manifest does not start with [`MAGIC`].
    BadMagic,
    /// A layout version this code does not read.
    UnsupportedFormat {
        /// The version found.
        version: u16,
    },
    /// A field outside its allowed values (zero sizes, sizes that do not add up, bad id).
    BadField {
        /// Name of the offending field.
        field: &'static str,
    },
    /// No trusted key has this id.
    UnknownKey {
        /// The id the manifest names.
        key_id: u32,
    },
    /// The signature does not verify against the named key.
    BadSignature,
    /// The image is not the one the manifest describes.
    HashMismatch,
    /// The image's length differs from the manifest's.
    SizeMismatch {
        /// Bytes the manifest announces.
        expected: u32,
        /// Bytes present.
        found: u32,
    },
    /// The release does not fit this band or its active model.
    Incompatible {
        /// The first field that does not fit.
        field: CompatField,
    },
    /// The version is not above what the band already runs or has confirmed.
    Downgrade {
        /// The manifest's version.
        version: u32,
        /// Lowest version the band accepts.
        minimum: u32,
    },
}

impl ManifestError {
    /// Short stable name (logs, reports).
    pub const fn name(&self) -> &'static str {
        match self {
            Self::Truncated { .. } => "truncated",
            Self::BadMagic => "bad-magic",
            Self::UnsupportedFormat { .. } => "unsupported-format",
            Self::BadField { .. } => "bad-field",
            Self::UnknownKey { .. } => "unknown-key",
            Self::BadSignature => "bad-signature",
            Self::HashMismatch => "hash-mismatch",
            Self::SizeMismatch { .. } => "size-mismatch",
            Self::Incompatible { .. } => "incompatible",
            Self::Downgrade { .. } => "downgrade",
        }
    }
}

impl core::fmt::Display for ManifestError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Truncated { len } => {
                write!(f, "manifest is {len} bytes, expected {MANIFEST_LEN}")
            }
            Self::BadMagic => f.write_str("not a harbor OTA manifest (bad magic)"),
            Self::UnsupportedFormat { version } => {
                write!(
                    f,
                    "manifest format {version} is not supported (expected {FORMAT_VERSION})"
                )
            }
            Self::BadField { field } => write!(f, "manifest field `{field}` is invalid"),
            Self::UnknownKey { key_id } => {
                write!(f, "manifest signed with unknown key id {key_id}")
            }
            Self::BadSignature => f.write_str("manifest signature does not verify"),
            Self::HashMismatch => f.write_str("image SHA-256 differs from the manifest's"),
            Self::SizeMismatch { expected, found } => {
                write!(f, "image is {found} bytes, the manifest says {expected}")
            }
            Self::Incompatible { field } => {
                write!(f, "release incompatible with this device: {}", field.name())
            }
            Self::Downgrade { version, minimum } => {
                write!(
                    f,
                    "version {version} refused: the device requires at least {minimum}"
                )
            }
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for ManifestError {}

impl Manifest {
    /// Parses exactly [`MANIFEST_LEN`] bytes and checks the layout (not the signature).
    pub fn decode(bytes: &[u8]) -> Result<Self, ManifestError> {
        if bytes.len() != MANIFEST_LEN {
            // Magic first, so a random blob of the right length still says BadMagic.
            if bytes.len() < MANIFEST_LEN {
                if bytes.len() >= 4 && bytes[..4] != MAGIC {
                    return Err(ManifestError::BadMagic);
                }
                return Err(ManifestError::Truncated { len: bytes.len() });
            }
            return Err(ManifestError::BadField {
                field: "length (trailing bytes)",
            });
        }
        if bytes[..4] != MAGIC {
            return Err(ManifestError::BadMagic);
        }
        let u16_at = |o: usize| u16::from_le_bytes([bytes[o], bytes[o + 1]]);
        let u32_at =
            |o: usize| u32::from_le_bytes([bytes[o], bytes[o + 1], bytes[o + 2], bytes[o + 3]]);
        let format = u16_at(4);
        if format != FORMAT_VERSION {
            return Err(ManifestError::UnsupportedFormat { version: format });
        }
        let bad = |field| ManifestError::BadField { field };
        if u16_at(6) != 0 || bytes[93..96] != [0, 0, 0] {
            return Err(bad("reserved"));
        }
        let mut image_sha256 = [0u8; 32];
        image_sha256.copy_from_slice(&bytes[20..52]);
        let mut raw_id = [0u8; HARDWARE_ID_LEN];
        raw_id.copy_from_slice(&bytes[52..84]);
        let hardware_id = HardwareId::from_padded(&raw_id).ok_or(bad("hardware id"))?;
        let contract = InputContract {
            window_len: u16_at(84),
            channels: bytes[86],
            classes: bytes[87],
            input_scale: f32::from_bits(u32_at(88)),
            input_zero_point: bytes[92] as i8,
        };
        if contract.window_len == 0 || contract.channels == 0 || contract.classes == 0 {
            return Err(bad("input contract"));
        }
        if !(contract.input_scale.is_finite() && contract.input_scale > 0.0) {
            return Err(bad("input scale"));
        }
        let mut signature = [0u8; SIGNATURE_LEN];
        signature.copy_from_slice(&bytes[SIGNED_LEN..]);
        let manifest = Self {
            version: u32_at(8),
            image_size: u32_at(12),
            model_size: u32_at(16),
            image_sha256,
            hardware_id,
            contract,
            key_id: u32_at(96),
            signature,
        };
        if manifest.model_size == 0 {
            return Err(bad("model size"));
        }
        if Some(manifest.image_size as usize) != manifest.expected_image_size() {
            return Err(bad("image size"));
        }
        Ok(manifest)
    }

    /// model + golden input + expected logits, `None` on overflow.
    fn expected_image_size(&self) -> Option<usize> {
        (self.model_size as usize)
            .checked_add(self.contract.input_len())?
            .checked_add(usize::from(self.contract.classes))
    }

    /// The bytes the signature covers.
    pub fn signed_bytes(&self) -> [u8; SIGNED_LEN] {
        let mut out = [0u8; SIGNED_LEN];
        out[..4].copy_from_slice(&MAGIC);
        out[4..6].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
        out[8..12].copy_from_slice(&self.version.to_le_bytes());
        out[12..16].copy_from_slice(&self.image_size.to_le_bytes());
        out[16..20].copy_from_slice(&self.model_size.to_le_bytes());
        out[20..52].copy_from_slice(&self.image_sha256);
        out[52..84].copy_from_slice(&self.hardware_id.bytes);
        out[84..86].copy_from_slice(&self.contract.window_len.to_le_bytes());
        out[86] = self.contract.channels;
        out[87] = self.contract.classes;
        out[88..92].copy_from_slice(&self.contract.input_scale.to_bits().to_le_bytes());
        out[92] = self.contract.input_zero_point as u8;
        out[96..100].copy_from_slice(&self.key_id.to_le_bytes());
        out
    }

    /// The full manifest: signed bytes followed by the signature.
    pub fn encode(&self) -> [u8; MANIFEST_LEN] {
        let mut out = [0u8; MANIFEST_LEN];
        out[..SIGNED_LEN].copy_from_slice(&self.signed_bytes());
        out[SIGNED_LEN..].copy_from_slice(&self.signature);
        out
    }

    /// Checks the signature with the key `key_id` names among `keys`.
    pub fn verify_signature(&self, keys: &[TrustedKey]) -> Result<(), ManifestError> {
        let key = keys::find(keys, self.key_id).ok_or(ManifestError::UnknownKey {
            key_id: self.key_id,
        })?;
        let public = ed25519_dalek::VerifyingKey::from_bytes(&key.public)
            .map_err(|_| ManifestError::UnknownKey { key_id: key.id })?;
        let signature = ed25519_dalek::Signature::from_bytes(&self.signature);
        public
            .verify_strict(&self.signed_bytes(), &signature)
            .map_err(|_| ManifestError::BadSignature)
    }

    /// Checks a SHA-256 computed over the image (e.g. streamed from flash).
    pub fn check_image_hash(&self, size: u32, sha256: &[u8; 32]) -> Result<(), ManifestError> {
        if size != self.image_size {
            return Err(ManifestError::SizeMismatch {
                expected: self.image_size,
                found: size,
            });
        }
        if *sha256 != self.image_sha256 {
            return Err(ManifestError::HashMismatch);
        }
        Ok(())
    }

    /// Checks an image held in memory.
    pub fn verify_image(&self, image: &[u8]) -> Result<(), ManifestError> {
        let size = u32::try_from(image.len()).unwrap_or(u32::MAX);
        self.check_image_hash(size, &sha256(image))
    }

    /// Checks hardware id, the device's input path, and the active model's contract.
    pub fn check_compatible(&self, device: &DeviceProfile) -> Result<(), ManifestError> {
        let incompatible = |field| Err(ManifestError::Incompatible { field });
        if self.hardware_id != device.hardware_id {
            return incompatible(CompatField::HardwareId);
        }
        let c = &self.contract;
        if c.channels != device.channels {
            return incompatible(CompatField::Channels);
        }
        if c.window_len > device.max_window_len {
            return incompatible(CompatField::WindowLen);
        }
        if let Some(active) = device.active {
            if c.window_len != active.window_len {
                return incompatible(CompatField::WindowLen);
            }
            if c.classes != active.classes {
                return incompatible(CompatField::Classes);
            }
            if c.input_scale.to_bits() != active.input_scale.to_bits() {
                return incompatible(CompatField::InputScale);
            }
            if c.input_zero_point != active.input_zero_point {
                return incompatible(CompatField::InputZeroPoint);
            }
        }
        Ok(())
    }

    /// Anti-rollback: the version must be at least `minimum`.
    pub fn check_version(&self, minimum: u32) -> Result<(), ManifestError> {
        if self.version < minimum {
            return Err(ManifestError::Downgrade {
                version: self.version,
                minimum,
            });
        }
        Ok(())
    }

    /// Everything that can be checked before the image arrives, cheapest first.
    pub fn check_release(
        &self,
        keys: &[TrustedKey],
        device: &DeviceProfile,
        minimum_version: u32,
    ) -> Result<(), ManifestError> {
        self.verify_signature(keys)?;
        self.check_compatible(device)?;
        self.check_version(minimum_version)
    }

    /// The model part of an image.
    pub fn model<'i>(&self, image: &'i [u8]) -> Option<&'i [u8]> {
        image.get(..self.model_size as usize)
    }

    /// The self-test input window and expected logits of an image.
    pub fn golden<'i>(&self, image: &'i [u8]) -> Option<(&'i [u8], &'i [u8])> {
        let start = self.model_size as usize;
        let mid = start.checked_add(self.contract.input_len())?;
        let end = mid.checked_add(usize::from(self.contract.classes))?;
        Some((image.get(start..mid)?, image.get(mid..end)?))
    }

    /// Signs with the ed25519 key whose seed is `seed`, under `key_id` (host side).
    #[cfg(any(test, feature = "std"))]
    pub fn sign(mut self, key_id: u32, seed: &[u8; 32]) -> Self {
        use ed25519_dalek::Signer;
        self.key_id = key_id;
        let key = ed25519_dalek::SigningKey::from_bytes(seed);
        self.signature = key.sign(&self.signed_bytes()).to_bytes();
        self
    }

    /// An unsigned manifest for `image` = model || golden input || expected logits.
    #[cfg(any(test, feature = "std"))]
    pub fn describe(
        version: u32,
        image: &[u8],
        model_size: u32,
        hardware_id: HardwareId,
        contract: InputContract,
    ) -> Self {
        Self {
            version,
            image_size: image.len() as u32,
            model_size,
            image_sha256: sha256(image),
            hardware_id,
            contract,
            key_id: 0,
            signature: [0; SIGNATURE_LEN],
        }
    }
}

/// SHA-256 of `bytes`.
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(bytes);
    h.finalize().into()
}

/// Incremental SHA-256 (the band hashes the slot in pieces).
pub struct ImageHasher(Sha256);

impl ImageHasher {
    /// A hasher with no input yet.
    pub fn new() -> Self {
        Self(Sha256::new())
    }
    /// Feeds the next piece of the image.
    pub fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
    /// The SHA-256 of everything fed.
    pub fn finish(self) -> [u8; 32] {
        self.0.finalize().into()
    }
}

impl Default for ImageHasher {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests;
