//! Over-the-air model updates: what the band and the harbor host must agree on, and the
//! band's A/B slot logic (host-testable: it runs over any [`Flash`]).
//!
//! - [`manifest`]: the signed release manifest (fixed little-endian bytes, ed25519);
//! - [`keys`]: the public keys the band trusts;
//! - [`flash`], [`layout`], [`otadata`]: NOR flash, where things live, the two-sector
//!   state record;
//! - [`boot`]: the boot decision, confirm, abort; [`updater`]: begin → write → finish.
//!
//! docs/ota-device.md describes the bytes, the flash layout and the boot decision.

pub mod boot;
pub mod error;
pub mod flash;
pub mod keys;
pub mod layout;
pub mod manifest;
pub mod otadata;
pub mod updater;

#[cfg(any(test, feature = "std"))]
pub mod sim;
#[cfg(test)]
mod tests;

pub use boot::{Boot, OtaConfig, SlotImage};
pub use error::OtaError;
pub use flash::{Flash, FlashError};
pub use keys::{TRUSTED_KEYS, TrustedKey};
pub use layout::Layout;
pub use manifest::{
    CompatField, DeviceProfile, HardwareId, InputContract, MANIFEST_LEN, Manifest, ManifestError,
};
pub use otadata::SlotState;
pub use updater::Updater;
