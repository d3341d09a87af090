//! Requantization primitives against hand-computed values (gemmlowp / TFLite semantics).

use harbor_core::fixedpoint::{
    QuantizedMultiplier, multiply_by_quantized_multiplier, quantize_multiplier,
    rounding_divide_by_pot, saturating_rounding_doubling_high_mul as srdhm,
};
use harbor_core::kernels::ActivationRange;
use harbor_core::kernels::mean::MeanParams;

#[test]
fn doubling_high_mul_saturates_only_at_min_times_min() {
    assert_eq!(srdhm(i32::MIN, i32::MIN), i32::MAX);
    // -2^31 · (2^31 - 1) · 2 / 2^32 = -(2^31 - 1), exactly representable.
    assert_eq!(srdhm(i32::MIN, i32::MAX), -i32::MAX);
    assert_eq!(srdhm(i32::MAX, i32::MAX), i32::MAX - 1);
}

#[test]
fn doubling_high_mul_rounds_ties_upward() {
    // 2·a·b / 2^32 with b = 2^30 is a / 2: +0.5 rounds to 1, -0.5 to 0, -1.5 to -1
    // (gemmlowp's nudge plus truncating division rounds ties toward +infinity).
    assert_eq!(srdhm(1, 1 << 30), 1);
    assert_eq!(srdhm(-1, 1 << 30), 0);
    assert_eq!(srdhm(-3, 1 << 30), -1);
    assert_eq!(srdhm(3, 1 << 30), 2);
    assert_eq!(srdhm(1 << 30, 1 << 30), 1 << 29);
}

#[test]
fn rounding_divide_by_pot_rounds_half_away_from_zero() {
    assert_eq!(rounding_divide_by_pot(3, 1), 2); // 1.5
    assert_eq!(rounding_divide_by_pot(-3, 1), -2); // -1.5
    assert_eq!(rounding_divide_by_pot(-5, 2), -1); // -1.25
    assert_eq!(rounding_divide_by_pot(-6, 2), -2); // -1.5
    assert_eq!(rounding_divide_by_pot(5, 2), 1); // 1.25
    assert_eq!(rounding_divide_by_pot(12345, 0), 12345);
    assert_eq!(rounding_divide_by_pot(i32::MIN, 31), -1);
    assert_eq!(rounding_divide_by_pot(i32::MAX, 31), 1);
}

#[test]
fn multiply_by_quantized_multiplier_rounds_twice() {
    // 5 · 0.5 · 2^-1 = 1.25, but TFLM rounds 2.5 → 3 first, then 1.5 → 2.
    assert_eq!(multiply_by_quantized_multiplier(5, 1 << 30, -1), 2);
    assert_eq!(multiply_by_quantized_multiplier(100, 1 << 30, 0), 50);
    assert_eq!(multiply_by_quantized_multiplier(100, 1 << 30, -1), 25);
    assert_eq!(multiply_by_quantized_multiplier(3, 1 << 30, 2), 6);
    assert_eq!(multiply_by_quantized_multiplier(-100, 1 << 30, -2), -13); // -12.5
}

#[test]
fn quantize_multiplier_matches_tflite_edge_cases() {
    let q = |multiplier, shift| QuantizedMultiplier { multiplier, shift };
    assert_eq!(quantize_multiplier(0.0), q(0, 0));
    assert_eq!(quantize_multiplier(0.5), q(1 << 30, 0));
    assert_eq!(quantize_multiplier(1.0), q(1 << 30, 1));
    assert_eq!(quantize_multiplier(0.75), q(1_610_612_736, 0));
    assert_eq!(quantize_multiplier(0.1), q(1_717_986_918, -3)); // 0.8 · 2^31 rounded
    // Significand 1 - 2^-40 rounds up to 2^31: halved, exponent + 1.
    assert_eq!(quantize_multiplier(1.0 - 2f64.powi(-40)), q(1 << 30, 1));
    // Below 2^-32 TFLite flushes to zero rather than shift right by more than 31.
    assert_eq!(quantize_multiplier(2f64.powi(-40)), q(0, 0));
    assert_eq!(quantize_multiplier(2f64.powi(-32)), q(1 << 30, -31));
}

#[test]
fn fused_activation_ranges_are_quantized_bounds() {
    let range = |f| ActivationRange::quantized(f, 0.05, -10).unwrap();
    assert_eq!(
        range(0),
        ActivationRange {
            min: -128,
            max: 127
        }
    );
    assert_eq!(range(1), ActivationRange { min: -10, max: 127 });
    assert_eq!(range(2), ActivationRange { min: -30, max: 10 });
    assert_eq!(range(3), ActivationRange { min: -10, max: 110 });
    assert!(
        ActivationRange::quantized(4, 0.05, -10).is_none(),
        "TANH is not fusable"
    );
}

#[test]
fn mean_folds_the_count_into_the_multiplier_like_tflm() {
    // s_in / s_out = 0.5 → (2^30, 0); n = 30: shift = floor(log2 30) = 4,
    // multiplier = (2^30 << 4) / 30 = 572662306, exponent 0 - 4.
    let p = MeanParams::new(30, -5, 3, quantize_multiplier(0.5));
    assert_eq!(
        p,
        MeanParams::Requantize {
            count: 30,
            input_zero_point: -5,
            output_zero_point: 3,
            multiplier: QuantizedMultiplier {
                multiplier: 572_662_306,
                shift: -4
            },
        }
    );
    // Sum of 30 values all equal to 15 (real 20 units above zp): 0.5 · 20 = 10, + zp 3.
    assert_eq!(p.finish(30 * 15), 13);
    // Same quantization still requantizes (multiplier 1.0): the mean is rounded, not
    // truncated as older TFLite did (-7 / 4 = -1.75 → -2).
    let same = MeanParams::new(4, 0, 0, quantize_multiplier(1.0));
    assert_eq!(same.finish(-7), -2);
    assert_eq!(same.finish(7), 2);
}
