//! Over-the-air model updates: what the band and the harbor host must agree on.
//!
//! - [`manifest`]: the signed release manifest (fixed little-endian bytes, ed25519);
//! - [`keys`]: the public keys the band trusts.
//!
//! docs/ota-device.md describes the bytes, the flash layout and the boot decision.

pub mod keys;
pub mod manifest;

pub use keys::{TRUSTED_KEYS, TrustedKey};
pub use manifest::{
    CompatField, DeviceProfile, HardwareId, InputContract, MANIFEST_LEN, Manifest, ManifestError,
};
