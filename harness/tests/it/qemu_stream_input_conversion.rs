//! The parameters a model card carries (`harbor::model::input::InputQuant`, which the host
//! uses for tensor-mode inputs) reach the band unchanged through `device_input_quant`: both
//! sides convert every int16 reading of every committed model identically. (The arithmetic
//! itself exists once, in `harbor_core::input`; the float-tracking test in
//! `model::input` checks it.)

use std::path::Path;

use harbor::model::card::ModelCard;
use harbor::model::input::{DeviceConversionError, device_input_quant};

#[test]
fn core_conversion_equals_the_training_conversion_for_every_committed_model() {
    let models = Path::new(env!("CARGO_MANIFEST_DIR")).join("../models");
    let mut checked = Vec::new();
    for entry in std::fs::read_dir(&models).unwrap() {
        let card_path = entry.unwrap().path().join("card.yaml");
        if !card_path.is_file() {
            continue;
        }
        let card = ModelCard::load(&card_path).unwrap_or_else(|e| panic!("{e}"));
        let reference = &card.normalization.device_conversion;
        let device = device_input_quant(reference)
            .unwrap_or_else(|e| panic!("{}: {e}", card_path.display()));
        for c in 0..6 {
            for raw in i16::MIN..=i16::MAX {
                let expected = reference.quantize(c, i32::from(raw));
                let got = device.quantize(c, raw);
                assert_eq!(
                    got,
                    expected,
                    "{}: channel {c}, raw {raw}",
                    card_path.display()
                );
            }
        }
        checked.push(card.name);
    }
    // Guards against a silently empty loop (models moved, cards renamed).
    assert!(
        checked.len() >= 3,
        "only {checked:?} found under {}",
        models.display()
    );
    println!("checked {checked:?}");
}

#[test]
fn parameters_the_band_cannot_take_are_named() {
    let mut q = harbor::model::input::InputQuant {
        offset: vec![0; 6],
        multiplier: vec![1; 6],
        shift: 16,
        zero_point: 200,
    };
    assert_eq!(
        device_input_quant(&q).unwrap_err(),
        DeviceConversionError::ZeroPoint(200)
    );
    assert!(
        device_input_quant(&q)
            .unwrap_err()
            .to_string()
            .contains("zero_point 200")
    );
    q.zero_point = 0;
    q.shift = 40;
    assert!(
        device_input_quant(&q)
            .unwrap_err()
            .to_string()
            .contains("shift 40")
    );
    q.shift = 16;
    q.offset.pop();
    assert!(
        device_input_quant(&q)
            .unwrap_err()
            .to_string()
            .contains("5 offsets")
    );
}
