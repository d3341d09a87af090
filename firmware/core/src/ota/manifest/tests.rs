use super::*;
use crate::ota::keys::{DEV_KEY_ID, DEV_KEY_SEED, TRUSTED_KEYS};

const CONTRACT: InputContract = InputContract {
    window_len: 4,
    channels: 2,
    classes: 3,
    input_scale: 0.5,
    input_zero_point: -7,
};

fn band() -> HardwareId {
    HardwareId::new("esp32c3-band").unwrap()
}

/// model (10 bytes) || golden input (8) || expected logits (3)
fn image() -> [u8; 21] {
    core::array::from_fn(|i| i as u8 * 7 + 1)
}

fn signed(version: u32) -> Manifest {
    Manifest::describe(version, &image(), 10, band(), CONTRACT).sign(DEV_KEY_ID, &DEV_KEY_SEED)
}

fn device(active: Option<InputContract>) -> DeviceProfile {
    DeviceProfile {
        hardware_id: band(),
        channels: 2,
        max_window_len: 256,
        active,
    }
}

#[test]
fn encode_decode_round_trip_and_verify() {
    let m = signed(3);
    let bytes = m.encode();
    assert_eq!(bytes.len(), MANIFEST_LEN);
    assert_eq!(&bytes[..4], b"HOTA");
    let back = Manifest::decode(&bytes).unwrap();
    assert_eq!(back, m);
    back.verify_signature(TRUSTED_KEYS).unwrap();
    back.verify_image(&image()).unwrap();
    back.check_release(TRUSTED_KEYS, &device(Some(CONTRACT)), 3)
        .unwrap();
    let img = image();
    let (input, logits) = back.golden(&img).unwrap();
    assert_eq!((input.len(), logits.len()), (8, 3));
    assert_eq!(back.model(&image()).unwrap(), &image()[..10]);
}

#[test]
fn field_offsets_are_the_documented_ones() {
    let bytes = signed(0x0102_0304).encode();
    assert_eq!(&bytes[4..6], &[1, 0]);
    assert_eq!(&bytes[8..12], &[4, 3, 2, 1]);
    assert_eq!(&bytes[12..16], &21u32.to_le_bytes());
    assert_eq!(&bytes[16..20], &10u32.to_le_bytes());
    assert_eq!(&bytes[20..52], &sha256(&image()));
    assert_eq!(&bytes[52..64], b"esp32c3-band");
    assert!(bytes[64..84].iter().all(|&b| b == 0));
    assert_eq!(&bytes[84..88], &[4, 0, 2, 3]);
    assert_eq!(&bytes[88..92], &0.5f32.to_bits().to_le_bytes());
    assert_eq!(bytes[92], (-7i8) as u8);
    assert_eq!(&bytes[96..100], &DEV_KEY_ID.to_le_bytes());
}

#[test]
fn every_tampered_signed_byte_is_a_bad_signature() {
    let good = signed(3).encode();
    let mut checked = 0;
    for i in 0..MANIFEST_LEN {
        let mut bytes = good;
        bytes[i] ^= 0x01;
        match Manifest::decode(&bytes) {
            // Key id bytes select another key: that is UnknownKey, not BadSignature.
            Ok(m) if (96..100).contains(&i) => {
                assert_eq!(
                    m.verify_signature(TRUSTED_KEYS),
                    Err(ManifestError::UnknownKey { key_id: m.key_id })
                );
            }
            Ok(m) => {
                assert_eq!(
                    m.verify_signature(TRUSTED_KEYS),
                    Err(ManifestError::BadSignature),
                    "byte {i}"
                );
                checked += 1;
            }
            // Layout checks caught it first (magic, format, reserved, id padding).
            Err(_) => {}
        }
    }
    assert!(
        checked > 100,
        "only {checked} tampered bytes reached the signature check"
    );
}

#[test]
fn unknown_key_id_and_foreign_key() {
    let m = Manifest::describe(3, &image(), 10, band(), CONTRACT).sign(9, &DEV_KEY_SEED);
    assert_eq!(
        m.verify_signature(TRUSTED_KEYS),
        Err(ManifestError::UnknownKey { key_id: 9 })
    );
    // Right id, wrong key.
    let m = Manifest::describe(3, &image(), 10, band(), CONTRACT).sign(DEV_KEY_ID, &[7; 32]);
    assert_eq!(
        m.verify_signature(TRUSTED_KEYS),
        Err(ManifestError::BadSignature)
    );
}

#[test]
fn image_hash_and_size_are_checked() {
    let m = signed(3);
    let mut img = image();
    img[20] ^= 0x80;
    assert_eq!(m.verify_image(&img), Err(ManifestError::HashMismatch));
    assert_eq!(
        m.verify_image(&image()[..20]),
        Err(ManifestError::SizeMismatch {
            expected: 21,
            found: 20
        })
    );
}

#[test]
fn layout_errors_are_named() {
    let good = signed(3).encode();
    assert_eq!(
        Manifest::decode(&good[..50]),
        Err(ManifestError::Truncated { len: 50 })
    );
    assert_eq!(
        Manifest::decode(&[]),
        Err(ManifestError::Truncated { len: 0 })
    );
    let mut b = good;
    b[0] = b'X';
    assert_eq!(Manifest::decode(&b), Err(ManifestError::BadMagic));
    assert_eq!(Manifest::decode(&b[..20]), Err(ManifestError::BadMagic));
    let mut b = good;
    b[4] = 2;
    assert_eq!(
        Manifest::decode(&b),
        Err(ManifestError::UnsupportedFormat { version: 2 })
    );
    let mut b = good;
    b[12] = 99;
    assert_eq!(
        Manifest::decode(&b),
        Err(ManifestError::BadField {
            field: "image size"
        })
    );
    let mut b = good;
    b[70] = b'x'; // text after the zero padding began
    assert_eq!(
        Manifest::decode(&b),
        Err(ManifestError::BadField {
            field: "hardware id"
        })
    );
}

#[test]
fn incompatible_releases_name_the_field() {
    let m = signed(3);
    let other_hw = DeviceProfile {
        hardware_id: HardwareId::new("nrf52840-band").unwrap(),
        ..device(None)
    };
    assert_eq!(
        m.check_compatible(&other_hw),
        Err(ManifestError::Incompatible {
            field: CompatField::HardwareId
        })
    );
    let six_axes = DeviceProfile {
        channels: 6,
        ..device(None)
    };
    assert_eq!(
        m.check_compatible(&six_axes),
        Err(ManifestError::Incompatible {
            field: CompatField::Channels
        })
    );
    let eight_classes = InputContract {
        classes: 8,
        ..CONTRACT
    };
    assert_eq!(
        m.check_compatible(&device(Some(eight_classes))),
        Err(ManifestError::Incompatible {
            field: CompatField::Classes
        })
    );
    let other_scale = InputContract {
        input_scale: 0.25,
        ..CONTRACT
    };
    assert_eq!(
        m.check_compatible(&device(Some(other_scale))),
        Err(ManifestError::Incompatible {
            field: CompatField::InputScale
        })
    );
    m.check_compatible(&device(None)).unwrap();
}

#[test]
fn downgrade_is_refused() {
    let m = signed(3);
    assert_eq!(
        m.check_release(TRUSTED_KEYS, &device(None), 4),
        Err(ManifestError::Downgrade {
            version: 3,
            minimum: 4
        })
    );
    m.check_version(3).unwrap();
}

#[test]
fn hardware_id_bounds() {
    assert!(HardwareId::new("").is_none());
    assert!(HardwareId::new(&"x".repeat(33)).is_none());
    assert_eq!(HardwareId::new(&"x".repeat(32)).unwrap().as_str().len(), 32);
    assert!(HardwareId::new("a\0b").is_none());
}
