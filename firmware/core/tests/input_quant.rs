//! The int16 → int8 input conversion: its 32-bit path gives the 64-bit formula's result for
//! every reading and parameter set, at and beyond the bounds where it applies.

use harbor_core::input::{ChannelQuant, MAX_SHIFT};
use proptest::prelude::*;

/// The documented formula, in 64 bits.
fn formula(raw: i16, offset: i32, multiplier: i32, shift: u8, zero_point: i8) -> i8 {
    let shift = shift.min(MAX_SHIFT);
    let rounding = if shift == 0 { 0 } else { 1i64 << (shift - 1) };
    let scaled = ((i64::from(raw) - i64::from(offset)) * i64::from(multiplier) + rounding) >> shift;
    (scaled + i64::from(zero_point)).clamp(-128, 127) as i8
}

/// Parameters around the 32-bit path's bounds (±32,767, shift 17) and far beyond them.
fn offsets() -> impl Strategy<Value = i32> {
    prop_oneof![
        -32_767..=32_767i32,
        -32_770..=-32_765i32,
        32_765..=32_770i32,
        any::<i32>().prop_map(|v| v / 2),
    ]
}

fn multipliers() -> impl Strategy<Value = i32> {
    prop_oneof![
        -400..=400i32,
        -32_767..=32_767i32,
        32_760..=32_775i32,
        -32_775..=-32_760i32,
        -(1 << 20)..(1 << 20),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(20_000))]

    #[test]
    fn quantize_equals_the_64_bit_formula(
        raw in prop_oneof![any::<i16>(), Just(i16::MIN), Just(i16::MAX)],
        offset in offsets(),
        multiplier in multipliers(),
        shift in 0u8..=MAX_SHIFT,
        zero_point in any::<i8>(),
    ) {
        let c = ChannelQuant { offset, multiplier, shift };
        prop_assert_eq!(
            c.quantize(raw, zero_point),
            formula(raw, offset, multiplier, shift, zero_point)
        );
    }
}

#[test]
fn the_extremes_of_the_32_bit_path_agree() {
    for offset in [-32_767, 0, 32_767] {
        for multiplier in [-32_767, -1, 1, 32_767] {
            for shift in [0, 1, 16, 17] {
                for raw in [i16::MIN, -1, 0, 1, i16::MAX] {
                    for zero_point in [i8::MIN, 0, i8::MAX] {
                        let c = ChannelQuant {
                            offset,
                            multiplier,
                            shift,
                        };
                        assert_eq!(
                            c.quantize(raw, zero_point),
                            formula(raw, offset, multiplier, shift, zero_point),
                            "{c:?} raw {raw} zp {zero_point}"
                        );
                    }
                }
            }
        }
    }
}
