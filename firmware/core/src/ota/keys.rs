//! The ed25519 public keys the band accepts releases from, by key id.

/// One trusted release key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TrustedKey {
    /// The manifest's `key_id` that selects this key.
    pub id: u32,
    /// ed25519 public key (compressed Edwards point).
    pub public: [u8; 32],
}

/// Key id of the development key.
pub const DEV_KEY_ID: u32 = 1;

/// Seed of the development signing key. Deliberately public: it signs test releases only
/// (tests, the mock cloud). A production band would trust a key whose seed never left an HSM.
#[cfg(any(test, feature = "std"))]
pub const DEV_KEY_SEED: [u8; 32] = *b"harbor-ota-dev-key-1-not-secret!";

/// The public half of [`DEV_KEY_SEED`] (a unit test derives it again).
pub const DEV_PUBLIC_KEY: [u8; 32] = [
    0x0d, 0xae, 0xf1, 0x63, 0xb2, 0x53, 0xe5, 0xe9, 0xe7, 0xa5, 0xdf, 0x27, 0x4c, 0xe4, 0xa8, 0x8f,
    0x91, 0xe4, 0x47, 0x42, 0x65, 0xb3, 0xfd, 0x2f, 0x8b, 0x13, 0x5e, 0xa3, 0xee, 0x53, 0x68, 0x05,
];

/// Keys compiled into the band.
pub const TRUSTED_KEYS: &[TrustedKey] = &[TrustedKey {
    id: DEV_KEY_ID,
    public: DEV_PUBLIC_KEY,
}];

/// Looks up a key by id.
pub fn find(keys: &[TrustedKey], id: u32) -> Option<&TrustedKey> {
    keys.iter().find(|k| k.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dev_public_key_is_derived_from_the_dev_seed() {
        let key = ed25519_dalek::SigningKey::from_bytes(&DEV_KEY_SEED);
        assert_eq!(key.verifying_key().to_bytes(), DEV_PUBLIC_KEY);
    }
}
