//! Parameter and MAC counts of the variants against counts worked out by hand.

use harbor::model::{Arch, ArchError, Variant};

#[test]
fn small_variant_counts_match_hand_computation() {
    let a = Arch::new(Variant::Small, 60, 6, 8).expect("valid arch");
    // conv 6->16 k5: 6*16*5 + 16 = 496; length 60 -> 56 -> pool 28
    // conv 16->24 k5: 16*24*5 + 24 = 1944; 28 -> 24 -> pool 12
    // conv 24->32 k3: 24*32*3 + 32 = 2336; 12 -> 10
    // dense 32->8: 256 + 8 = 264
    assert_eq!(a.params(), 496 + 1944 + 2336 + 264);
    // MACs: 56*16*6*5 + 24*24*16*5 + 10*32*24*3 + 32*8
    assert_eq!(a.macs(), 26_880 + 46_080 + 23_040 + 256);
    // int8 weights + int32 biases: (5040 - 80) + 80*4
    assert_eq!(a.int8_weight_bytes(), 4960 + 320);
}

#[test]
fn small_stays_within_six_kilobytes_of_weights() {
    for classes in [6, 8, 12] {
        let a = Arch::new(Variant::Small, 60, 6, classes).expect("valid arch");
        assert!(
            a.int8_weight_bytes() <= 6 * 1024,
            "{classes} classes: {} bytes",
            a.int8_weight_bytes()
        );
    }
}

#[test]
fn tiny_counts_match_hand_computation() {
    let a = Arch::new(Variant::Tiny, 60, 6, 8).expect("valid arch");
    // conv 6->8 k5: 248, 60 -> 56 -> 28; conv 8->16 k5: 656, 28 -> 24; dense 16->8: 136
    assert_eq!(a.params(), 248 + 656 + 136);
    assert_eq!(a.macs(), 56 * 8 * 6 * 5 + 24 * 16 * 8 * 5 + 16 * 8);
}

#[test]
fn medium_counts_match_hand_computation() {
    let a = Arch::new(Variant::Medium, 60, 6, 7).expect("valid arch");
    // 60 -k5-> 56 -pool-> 28 -k5-> 24 -pool-> 12 -k3-> 10.
    assert_eq!(
        a.params(),
        (6 * 5 * 20 + 20) + (20 * 5 * 28 + 28) + (28 * 3 * 40 + 40) + (40 * 7 + 7)
    );
    assert_eq!(
        a.macs(),
        56 * 20 * 6 * 5 + 24 * 28 * 20 * 5 + 10 * 40 * 28 * 3 + 40 * 7
    );
    assert_eq!("medium".parse::<Variant>(), Ok(Variant::Medium));
}

#[test]
fn variants_grow_in_size() {
    let p: Vec<usize> = Variant::ALL
        .iter()
        .map(|&v| Arch::new(v, 60, 6, 8).expect("valid").params())
        .collect();
    assert!(p.windows(2).all(|w| w[0] < w[1]), "{p:?}");
}

#[test]
fn too_short_window_is_an_error_not_a_panic() {
    let err =
        Arch::new(Variant::Base, 8, 6, 8).expect_err("8 samples cannot feed three conv blocks");
    assert!(
        matches!(
            err,
            ArchError::WindowTooShort { .. } | ArchError::PoolsToNothing { .. }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("8 samples"), "{err}");
    assert_eq!(
        Arch::new(Variant::Small, 60, 6, 1).expect_err("one class"),
        ArchError::TooFewClasses(1)
    );
}

#[test]
fn variant_names_parse() {
    assert_eq!("Small".parse::<Variant>(), Ok(Variant::Small));
    assert!("huge".parse::<Variant>().is_err());
}
