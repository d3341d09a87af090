//! `fixedpoint::scales` (integer-only multipliers) against TFLite Micro's double formulas
//! computed in f64: identical for any f32 bit pattern, for adversarial scales (subnormal,
//! huge, equal, 31-bit ties, quotients within 2^-53 of a tie, f32 product ties) and for every
//! scale combination in the committed models.

use std::path::{Path, PathBuf};

use harbor_core::fixedpoint::scales::{
    add_multipliers, f32_product_ratio, product_ratio, ratio, rounded_quotient,
    softmax_input_multiplier,
};
use harbor_core::fixedpoint::{
    QuantizedMultiplier, quantize_multiplier, round_half_away_from_zero,
};
use harbor_core::kernels::softmax::SoftmaxParams;
use harbor_core::tflite::Model;
use proptest::prelude::*;

// ---- The f64 formulas, as TFLM writes them (and as harbor computed them before). ----

fn ref_product_ratio(a: f32, b: f32, c: f32) -> QuantizedMultiplier {
    quantize_multiplier(f64::from(a) * f64::from(b) / f64::from(c))
}

fn ref_f32_product_ratio(a: f32, b: f32, c: f32) -> QuantizedMultiplier {
    quantize_multiplier(f64::from(a * b) / f64::from(c))
}

fn ref_ratio(a: f32, c: f32) -> QuantizedMultiplier {
    quantize_multiplier(f64::from(a) / f64::from(c))
}

fn ref_softmax(beta: f32, scale: f32) -> QuantizedMultiplier {
    quantize_multiplier(
        (f64::from(beta) * f64::from(scale) * f64::from(1u32 << 26)).min(2_147_483_647.0),
    )
}

fn ref_softmax_diff_min(shift: i32) -> i32 {
    let max_input_rescaled = 31.0 * (1i64 << 26) as f64 / (1i64 << shift.clamp(0, 62)) as f64;
    -(max_input_rescaled as i64 as i32)
}

fn ref_add(s1: f32, s2: f32, out: f32) -> Option<[QuantizedMultiplier; 3]> {
    let twice_max = 2.0 * f64::from(s1.max(s2));
    let smaller_than_one = |real: f64| {
        let q = quantize_multiplier(real);
        (real > 0.0 && real < 1.0 && q.shift <= 0).then_some(q)
    };
    Some([
        smaller_than_one(f64::from(s1) / twice_max)?,
        smaller_than_one(f64::from(s2) / twice_max)?,
        smaller_than_one(twice_max / (f64::from(1u32 << 20) * f64::from(out)))?,
    ])
}

fn ref_rounded_quotient(x: f32, scale: f32) -> i32 {
    round_half_away_from_zero(f64::from(x / scale)) as i32
}

// TFLM rejects when `abs(...) > tolerance`, so NaN passes: keep the negation.
#[allow(clippy::neg_cmp_op_on_partial_ord)]
fn ref_softmax_scale_ok(scale: f32) -> bool {
    !((scale - 1.0 / 256.0).abs() > 1.0 / 256.0 * 1e-3)
}

/// Every function of `scales` against its reference on one triple of scales.
fn check_all(a: f32, b: f32, c: f32) {
    let show = |x: f32| format!("{x:e} ({:#010x})", x.to_bits());
    let at = || format!("a {}, b {}, c {}", show(a), show(b), show(c));
    assert_eq!(
        product_ratio(a, b, c),
        ref_product_ratio(a, b, c),
        "product_ratio {}",
        at()
    );
    assert_eq!(
        f32_product_ratio(a, b, c),
        ref_f32_product_ratio(a, b, c),
        "f32_product_ratio {}",
        at()
    );
    assert_eq!(ratio(a, c), ref_ratio(a, c), "ratio {}", at());
    assert_eq!(
        softmax_input_multiplier(a, b, 26),
        ref_softmax(a, b),
        "softmax {}",
        at()
    );
    assert_eq!(
        add_multipliers(a, b, c, 20),
        ref_add(a, b, c),
        "add {}",
        at()
    );
    for x in [0.0f32, -0.0, 1.0, -1.0, 6.0, a] {
        assert_eq!(
            rounded_quotient(x, c),
            ref_rounded_quotient(x, c),
            "rounded_quotient x {} {}",
            show(x),
            at()
        );
    }
    assert_eq!(
        SoftmaxParams::output_scale_ok(c),
        ref_softmax_scale_ok(c),
        "scale {}",
        at()
    );
}

// ---- Strategies. ----

/// Any bit pattern: NaNs, infinities, zeros, subnormals, negatives.
fn any_f32() -> impl Strategy<Value = f32> {
    any::<u32>().prop_map(f32::from_bits)
}

/// Positive normal scales of the size models have (2^-30 … 2^4).
fn scale_like() -> impl Strategy<Value = f32> {
    (97u32..=131, 0u32..1 << 23).prop_map(|(e, m)| f32::from_bits(e << 23 | m))
}

/// Edges: subnormal-ish tiny, huge, specials, short significands (products that fit).
fn edge() -> impl Strategy<Value = f32> {
    prop_oneof![
        (1u32..1 << 23).prop_map(f32::from_bits),
        (0u32..8, 0u32..1 << 23).prop_map(|(e, m)| f32::from_bits(e << 23 | m)),
        (247u32..255, 0u32..1 << 23).prop_map(|(e, m)| f32::from_bits(e << 23 | m)),
        (1u32..255, 0u32..16).prop_map(|(e, m)| f32::from_bits(e << 23 | m << 19)),
        prop::sample::select(vec![
            0.0f32,
            -0.0,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::NAN,
            f32::MIN_POSITIVE,
            f32::MAX,
            f32::EPSILON,
            1.0,
            0.5,
            1.0 / 256.0,
            f32::from_bits(1),
            f32::from_bits(0x7f_ffff),
        ]),
    ]
}

fn mixed() -> impl Strategy<Value = f32> {
    prop_oneof![3 => scale_like(), 2 => edge(), 1 => any_f32(), 1 => scale_like().prop_map(|x| -x)]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(20_000))]

    #[test]
    fn identical_on_any_bit_patterns(a in any_f32(), b in any_f32(), c in any_f32()) {
        check_all(a, b, c);
    }

    #[test]
    fn identical_on_scales_and_edges(a in mixed(), b in mixed(), c in mixed()) {
        check_all(a, b, c);
    }

    #[test]
    fn identical_on_equal_scales(a in mixed(), b in mixed()) {
        check_all(a, a, a);
        check_all(a, b, a);
        check_all(a, a, b);
        check_all(b, a, a);
    }

    /// a·b odd with 32 significant bits (most draws): fraction · 2^31 ends in exactly 1/2.
    #[test]
    fn identical_on_31_bit_ties(x in 46_341u32..65_536, y in 46_341u32..65_536, e in -20i32..20) {
        let (x, y) = (x | 1, y | 1);
        let a = x as f32 * 2f32.powi(e);
        let b = y as f32 * 2f32.powi(-e - 40);
        check_all(a, b, 2f32.powi(e / 3));
        check_all(a, b, 1.0);
    }

    /// a·b odd with 25 significant bits (most draws): the f32 product is a tie.
    #[test]
    fn identical_on_f32_product_ties(x in 4_097u32..8_192, y in 4_097u32..8_192, c in scale_like()) {
        let (x, y) = (x | 1, y | 1);
        check_all(x as f32 * 2f32.powi(-20), y as f32 * 2f32.powi(-9), c);
    }

    /// Subnormal f32 products (FULLY_CONNECTED per-tensor multiplies in f32 first).
    #[test]
    fn identical_on_underflowing_products(a in 1u32..0x0100_0000, b in 1u32..0x0100_0000, c in mixed()) {
        check_all(f32::from_bits(a), f32::from_bits(b) * 2f32.powi(-10), c);
    }
}

/// `num / den · 2^p = t + rho / den` with `t` odd and 32 bits: the quotient is within
/// 3 / 2^24 of a 31-bit tie, inside half a double ulp (2^-22 at that size), so the double
/// rounding lands exactly on the tie.
fn near_ties() -> Vec<(f32, f32)> {
    fn inverse(a: i128, m: i128) -> i128 {
        let (mut r0, mut r1, mut s0, mut s1) = (m, a.rem_euclid(m), 0i128, 1i128);
        while r1 != 0 {
            let q = r0 / r1;
            (r0, r1) = (r1, r0 - q * r1);
            (s0, s1) = (s1, s0 - q * s1);
        }
        assert_eq!(r0, 1);
        s0.rem_euclid(m)
    }
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut cases = Vec::new();
    while cases.len() < 4_000 {
        let den = ((next() % (1 << 23)) as i128 | 1 << 23) | 1;
        for rho in [-3i128, -2, -1, 1, 2, 3] {
            for p in 32..=34 {
                let num = (rho * inverse(1i128 << p, den)).rem_euclid(den);
                let t = (num * (1i128 << p) - rho) / den;
                if num > 0 && t & 1 == 1 && (1i128 << 31..1i128 << 32).contains(&t) {
                    cases.push((num as f32, den as f32));
                }
            }
        }
    }
    cases
}

#[test]
fn identical_where_double_rounding_meets_a_tie() {
    let mut single_rounding_differs = 0;
    for (num, den) in near_ties() {
        for k in [-12, 0, 7] {
            let (a, c) = (num * 2f32.powi(k), den * 2f32.powi(-k));
            check_all(a, 1.0, c);
            check_all(a, 0.5, c);
            // The exact quotient rounded once, half away from zero, to 31 bits.
            let exact = ref_ratio(a, c);
            let once = {
                let (n, d) = (num as u128, den as u128);
                let mut p = 0;
                while (n << p) / d < 1 << 30 {
                    p += 1;
                }
                // n·2^p/d in [2^30, 2^31) rounded half away from zero: remainder against d/2.
                let q = (n << p) / d;
                let r = (n << p) % d;
                (q + u128::from(2 * r >= d)) as i64
            };
            if i64::from(exact.multiplier) != once && once != 1 << 31 {
                single_rounding_differs += 1;
            }
        }
    }
    // These cases matter: rounding the exact quotient once would be wrong for many of them.
    assert!(single_rounding_differs > 1_000, "{single_rounding_differs}");
}

#[test]
fn softmax_radius_matches_the_double_formula() {
    for (beta, scale) in [
        (1.0f32, 1.0 / 256.0),
        (1.0, 0.0625),
        (0.5, 3e-3),
        (1.0, 1e-9),
    ] {
        let params = SoftmaxParams::new(beta, scale);
        assert_eq!(params.input_multiplier, ref_softmax(beta, scale));
        assert_eq!(
            params.diff_min,
            ref_softmax_diff_min(params.input_multiplier.shift)
        );
    }
    for shift in -3..=70 {
        let radius = ((31u64 << 26) >> shift.clamp(0, 62)) as i32;
        assert_eq!(-radius, ref_softmax_diff_min(shift), "shift {shift}");
    }
}

#[test]
fn softmax_output_scale_check_matches_around_its_bounds() {
    let centre = (1.0f32 / 256.0).to_bits();
    for bits in centre - 40_000..centre + 40_000 {
        let s = f32::from_bits(bits);
        assert_eq!(
            SoftmaxParams::output_scale_ok(s),
            ref_softmax_scale_ok(s),
            "{bits:#x}"
        );
    }
    assert!(SoftmaxParams::output_scale_ok(1.0 / 256.0));
    assert!(!SoftmaxParams::output_scale_ok(1.0 / 128.0));
}

// ---- Every committed model's scales. ----

fn model_files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files = Vec::new();
    for dir in ["models", "fixtures/models", "peers/microflow-band/model"] {
        let mut stack = vec![root.join(dir)];
        while let Some(d) = stack.pop() {
            for entry in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "tflite") {
                    files.push(path);
                }
            }
        }
    }
    files.sort();
    files
}

fn scales_of(model: &Model<'_>, tensor: usize) -> Vec<f32> {
    let t = model.tensor(tensor).unwrap();
    t.quantization
        .map(|q| (0..q.len()).map(|i| q.scale(i)).collect())
        .unwrap_or_default()
}

#[test]
fn identical_on_every_committed_model() {
    let mut models = 0;
    let mut combinations = 0usize;
    for path in model_files() {
        let bytes = std::fs::read(&path).unwrap();
        // Float models and the unsupported fixture are not int8 models.
        let Ok(model) = Model::parse(&bytes) else {
            continue;
        };
        models += 1;
        let mut all = Vec::new();
        for index in 0..model.num_operators() {
            let op = model.operator(index).unwrap();
            let inputs: Vec<Vec<f32>> = (0..op.num_inputs())
                .filter_map(|i| op.input(i))
                .map(|t| scales_of(&model, t))
                .collect();
            let outputs: Vec<f32> = (0..op.num_outputs())
                .filter_map(|i| op.output(i))
                .flat_map(|t| scales_of(&model, t))
                .collect();
            let first = inputs.first().cloned().unwrap_or_default();
            let second = inputs.get(1).cloned().unwrap_or_else(|| vec![1.0]);
            for &a in &first {
                for &b in &second {
                    for &c in &outputs {
                        check_all(a, b, c);
                        combinations += 1;
                    }
                }
            }
            all.extend(inputs.into_iter().flatten());
            all.extend(outputs);
        }
        all.sort_by(f32::total_cmp);
        all.dedup();
        for &a in &all {
            for &c in &all {
                check_all(a, a, c);
                check_all(a, c, a);
                combinations += 2;
            }
        }
    }
    assert!(models >= 10, "only {models} models found");
    assert!(combinations > 10_000, "only {combinations} combinations");
}
