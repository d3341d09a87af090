//! Why an update or a boot did not go as asked, with stable one-byte codes for the wire
//! (OtaStatus' last error, Error detail) and the state record.

use super::flash::FlashError;
use super::manifest::ManifestError;

/// Every way an update or a boot decision can fail; [`OtaError::code`] gives its wire byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OtaError {
    /// The release manifest is malformed, unsigned, incompatible or a downgrade.
    Manifest(ManifestError),
    /// The flash refused a read, erase or program.
    Flash(FlashError),
    /// A chunk not at the next offset (detail: the offset expected).
    OutOfOrder {
        /// Offset the next chunk must start at.
        expected: u32,
    },
    /// The image would not fit the slot, or a chunk runs past the manifest's image size.
    TooLarge {
        /// Largest image size allowed.
        limit: u32,
    },
    /// Finish before the whole image arrived.
    Incomplete {
        /// Image bytes received.
        written: u32,
        /// Image bytes the manifest announced.
        expected: u32,
    },
    /// A chunk or finish without a begun update.
    NoUpdate,
    /// An update was begun while the running image is not confirmed yet.
    PendingVerify,
    /// Confirm with nothing pending.
    NothingToConfirm,
    /// The firmware refused the model itself (does not parse, does not fit, wrong shape).
    ModelRejected,
    /// The self-test on the release's golden window gave other logits.
    SelfTestFailed,
    /// Booted once as PENDING_VERIFY and never confirmed: rolled back.
    NotConfirmed,
}

impl OtaError {
    /// Stable code (docs/ota-device.md); 0 means "no error".
    pub const fn code(&self) -> u8 {
        match self {
            Self::Manifest(m) => match m {
                ManifestError::Truncated { .. } => 1,
                ManifestError::BadMagic => 2,
                ManifestError::UnsupportedFormat { .. } => 3,
                ManifestError::BadField { .. } => 4,
                ManifestError::UnknownKey { .. } => 5,
                ManifestError::BadSignature => 6,
                ManifestError::HashMismatch => 7,
                ManifestError::SizeMismatch { .. } => 8,
                ManifestError::Incompatible { .. } => 9,
                ManifestError::Downgrade { .. } => 10,
            },
            Self::Flash(_) => 11,
            Self::OutOfOrder { .. } => 12,
            Self::TooLarge { .. } => 13,
            Self::Incomplete { .. } => 14,
            Self::NoUpdate => 15,
            Self::PendingVerify => 16,
            Self::NothingToConfirm => 17,
            Self::ModelRejected => 18,
            Self::SelfTestFailed => 19,
            Self::NotConfirmed => 20,
        }
    }

    /// A number that says more (expected offset, minimum version, …), 0 if none.
    pub const fn detail(&self) -> u32 {
        match self {
            Self::Manifest(ManifestError::Downgrade { minimum, .. }) => *minimum,
            Self::Manifest(ManifestError::UnknownKey { key_id }) => *key_id,
            Self::Manifest(ManifestError::Incompatible { field }) => *field as u32,
            Self::Manifest(ManifestError::SizeMismatch { found, .. }) => *found,
            Self::OutOfOrder { expected } => *expected,
            Self::TooLarge { limit } => *limit,
            Self::Incomplete { written, .. } => *written,
            _ => 0,
        }
    }
}

/// The name of an error code (host side reads codes off the wire).
pub const fn code_name(code: u8) -> &'static str {
    match code {
        0 => "none",
        1 => "manifest-truncated",
        2 => "bad-magic",
        3 => "unsupported-format",
        4 => "bad-field",
        5 => "unknown-key",
        6 => "bad-signature",
        7 => "hash-mismatch",
        8 => "size-mismatch",
        9 => "incompatible",
        10 => "downgrade",
        11 => "flash-error",
        12 => "out-of-order",
        13 => "too-large",
        14 => "incomplete",
        15 => "no-update",
        16 => "pending-verify",
        17 => "nothing-to-confirm",
        18 => "model-rejected",
        19 => "self-test-failed",
        20 => "not-confirmed",
        _ => "unknown",
    }
}

impl From<FlashError> for OtaError {
    fn from(e: FlashError) -> Self {
        Self::Flash(e)
    }
}

impl From<ManifestError> for OtaError {
    fn from(e: ManifestError) -> Self {
        Self::Manifest(e)
    }
}

impl core::fmt::Display for OtaError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Manifest(m) => m.fmt(f),
            Self::Flash(e) => e.fmt(f),
            other => write!(f, "{} ({})", code_name(other.code()), other.detail()),
        }
    }
}
