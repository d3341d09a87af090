//! Property tests of harbor's host-side parsers on hostile input: `.npy`/`.npz`, scenario YAML,
//! the custom dataset spec and ESP app images, each on arbitrary bytes and on committed valid
//! inputs with bytes flipped, lines cut or characters inserted. Each must answer with a located
//! error (file and line, line and column, or the offset at fault) or a valid value, never a
//! panic. Bounded case counts keep this to seconds; `fuzz/` runs the same parsers for longer.
//! harbor-core's parsers (.tflite, frames, text protocol, OTA manifest) are in
//! `firmware/core/tests/parsers_fuzz.rs`.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use harbor::flash::{EspChip, EspImage, build_images};
use harbor::scenario::Scenario;
use proptest::prelude::*;

fn repo(rel: &str) -> PathBuf {
    harbor::datasets::workspace_root().join(rel)
}

/// `valid` with `flips` (offset modulo its length, xor mask) applied, cut to `keep` bytes.
fn mutate(valid: &[u8], flips: &[(usize, u8)], keep: Option<usize>) -> Vec<u8> {
    let mut bytes = valid.to_vec();
    for &(at, mask) in flips {
        let n = bytes.len();
        if n > 0 {
            bytes[at % n] ^= mask.max(1);
        }
    }
    if let Some(keep) = keep {
        bytes.truncate(keep % (valid.len() + 1));
    }
    bytes
}

/// `text` with `edits` (position modulo its length in chars, replacement) applied: a YAML
/// punctuation character, a digit, a letter or a deleted character.
fn edit_text(text: &str, edits: &[(usize, char)]) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for &(at, c) in edits {
        if chars.is_empty() {
            break;
        }
        let at = at % chars.len();
        if c == '\u{0}' {
            chars.remove(at);
        } else {
            chars[at] = c;
        }
    }
    chars.into_iter().collect()
}

fn flips() -> impl Strategy<Value = Vec<(usize, u8)>> {
    proptest::collection::vec((any::<usize>(), any::<u8>()), 1..6)
}

fn edits() -> impl Strategy<Value = Vec<(usize, char)>> {
    proptest::collection::vec(
        (
            any::<usize>(),
            prop_oneof![
                proptest::sample::select(vec![
                    ':', '-', '[', ']', '{', '}', ',', '"', '\'', '#', '&', '*', '!', '|', '>',
                    ' ', '\n', '\t', '0', '9', '.', 'x', 'y', 'n', '\u{0}'
                ]),
                any::<char>(),
            ],
        ),
        1..6,
    )
}

/// An error message names its place: the file, and a line or offset.
fn located(message: &str, file: &str) -> bool {
    message.contains(file)
}

/// The `.npz` harbor writes for the signal chain, as bytes.
fn valid_npz() -> &'static [u8] {
    static NPZ: OnceLock<Vec<u8>> = OnceLock::new();
    NPZ.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.npz");
        let x = harbor::npz::NpyArray::new(
            vec![3, 4, 6],
            harbor::npz::NpyData::I16((0..72).map(|v| v as i16 - 30).collect()),
        )
        .unwrap();
        let y =
            harbor::npz::NpyArray::new(vec![3], harbor::npz::NpyData::I64(vec![0, 1, 2])).unwrap();
        harbor::npz::write(&path, &[("x", &x), ("y", &y)]).unwrap();
        std::fs::read(&path).unwrap()
    })
}

/// The band's ESP32-C3 app image, built from its committed ELF.
fn valid_esp_image() -> &'static [u8] {
    static IMAGE: OnceLock<Vec<u8>> = OnceLock::new();
    IMAGE.get_or_init(|| {
        let elf = crate::support::qemu::firmware("band-esp32c3");
        build_images(&elf, EspChip::Esp32c3).unwrap().app.bytes
    })
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn npy_and_npz_arbitrary_and_mutated_bytes_never_panic(
        arbitrary in proptest::collection::vec(any::<u8>(), 0..300),
        flips in flips(),
        keep in proptest::option::of(any::<usize>()),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let mutated = mutate(valid_npz(), &flips, keep);
        for (name, bytes) in [("a.npz", &arbitrary), ("m.npz", &mutated)] {
            let path = write(dir.path(), name, bytes);
            if let Err(e) = harbor::npz::read(&path) {
                prop_assert!(located(&e.to_string(), name), "{e}");
            }
            let npy = write(dir.path(), &name.replace("npz", "npy"), bytes);
            if let Err(e) = harbor::npz::read_npy(&npy) {
                prop_assert!(located(&e.to_string(), ".npy"), "{e}");
            }
        }
        // A valid .npy header followed by a mutated body.
        let mut npy = b"\x93NUMPY\x01\x00".to_vec();
        let header = "{'descr': '<i2', 'fortran_order': False, 'shape': (3, 4), }";
        npy.extend_from_slice(&(header.len() as u16).to_le_bytes());
        npy.extend_from_slice(header.as_bytes());
        npy.extend(arbitrary.iter().take(24));
        let path = write(dir.path(), "h.npy", &mutate(&npy, &flips, keep));
        if let Err(e) = harbor::npz::read_npy(&path) {
            prop_assert!(located(&e.to_string(), "h.npy"), "{e}");
        }
    }

    #[test]
    fn scenario_yaml_mutations_give_located_errors(
        which in 0usize..3,
        edits in edits(),
        arbitrary in any::<String>(),
    ) {
        let name = ["scenarios/ci.yaml", "scenarios/ota.yaml", "scenarios/quickstart.yaml"][which];
        let path = repo(name);
        let valid = std::fs::read_to_string(&path).unwrap();
        for text in [edit_text(&valid, &edits), arbitrary] {
            if let Err(e) = Scenario::parse(&path, &text) {
                let message = e.to_string();
                prop_assert!(located(&message, name.rsplit('/').next().unwrap()), "{message}");
            }
        }
    }

    #[test]
    fn custom_spec_mutations_give_located_errors(
        which in 0usize..2,
        edits in edits(),
        arbitrary in any::<String>(),
    ) {
        let name = ["fixtures/custom/lab-band.yaml", "fixtures/custom/mobifall/mobifall.yaml"][which];
        let path = repo(name);
        let valid = std::fs::read_to_string(&path).unwrap();
        for text in [edit_text(&valid, &edits), arbitrary] {
            if let Err(e) = harbor::datasets::custom::spec::parse(&path, &text) {
                let message = e.to_string();
                prop_assert!(located(&message, name.rsplit('/').next().unwrap()), "{message}");
            }
        }
    }

    #[test]
    fn esp_images_arbitrary_and_mutated_never_panic(
        arbitrary in proptest::collection::vec(any::<u8>(), 0..400),
        flips in flips(),
        keep in proptest::option::of(any::<usize>()),
    ) {
        let mut arbitrary = arbitrary;
        if let Some(b) = arbitrary.first_mut() {
            *b = harbor::flash::esp_image::IMAGE_MAGIC;
        }
        let mutated = mutate(valid_esp_image(), &flips, keep);
        for bytes in [&arbitrary, &mutated] {
            for parsed in [EspImage::parse(bytes), EspImage::parse_exact(bytes)] {
                if let Err(e) = parsed {
                    prop_assert!(!e.to_string().is_empty());
                }
            }
        }
    }
}

/// Found by the property above: a flipped byte in a zip entry's size made `read` reserve
/// petabytes (abort), and a huge `.npy` shape overflowed the element count. Every single-byte
/// corruption of a valid `.npz` (high bit flipped, or set to 0xFF), and shapes whose product
/// overflows, are now errors naming the file.
#[test]
fn every_corrupted_byte_of_an_npz_and_overflowing_shapes_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let valid = valid_npz();
    for at in 0..valid.len() {
        for corrupt in [valid[at] ^ 0x80, 0xFF] {
            let mut bytes = valid.to_vec();
            bytes[at] = corrupt;
            let path = write(dir.path(), "c.npz", &bytes);
            if let Err(e) = harbor::npz::read(&path) {
                assert!(located(&e.to_string(), "c.npz"), "byte {at}: {e}");
            }
        }
    }
    for shape in [
        "(4294967296, 4294967296, 4294967296)",
        "(18446744073709551615, 2)",
    ] {
        let header = format!("{{'descr': '<i2', 'fortran_order': False, 'shape': {shape}, }}");
        let mut npy = b"\x93NUMPY\x01\x00".to_vec();
        npy.extend_from_slice(&(header.len() as u16).to_le_bytes());
        npy.extend_from_slice(header.as_bytes());
        npy.extend_from_slice(&[0; 16]);
        let path = write(dir.path(), "big.npy", &npy);
        let e = harbor::npz::read_npy(&path).expect_err(shape);
        assert!(located(&e.to_string(), "big.npy"), "{e}");
    }
}
