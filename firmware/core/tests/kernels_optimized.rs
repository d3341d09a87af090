//! The optimized int8 kernels against `kernels::reference` (TFLM's loops transcribed
//! literally), bit for bit, on random shapes, strides, dilations, paddings, groups and
//! quantization parameters. Bounded case counts keep this under a few seconds.

use harbor_core::fixedpoint::{QuantizedMultiplier, multiply_by_quantized_multiplier};
use harbor_core::kernels::conv::{ConvParams, conv_per_channel};
use harbor_core::kernels::fully_connected::{FullyConnectedParams, fully_connected};
use harbor_core::kernels::pooling::{PoolKind, PoolParams, pool};
use harbor_core::kernels::reference;
use harbor_core::kernels::requant::Requant;
use harbor_core::kernels::{ActivationRange, Bias, ChannelQuant, Padding, Shape4};
use proptest::prelude::*;

/// Deterministic bytes for the tensors (proptest picks the seed and the geometry).
struct Bytes(u64);
impl Bytes {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn fill(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

/// Per-channel constants: a Q31 multiplier in [2^30, 2^31) (or 0), a shift, a bias.
fn channels(rng: &mut Bytes, n: usize) -> Vec<(QuantizedMultiplier, i32)> {
    (0..n)
        .map(|_| {
            let r = rng.next();
            let multiplier = if r.is_multiple_of(17) {
                0
            } else {
                (1 << 30) + (r >> 34) as i32 % (1 << 30)
            };
            let shift = -(((r >> 8) % 14) as i32) + if r.is_multiple_of(5) { 1 } else { -4 };
            let bias = ((r >> 40) % 200_001) as i32 - 100_000;
            (QuantizedMultiplier { multiplier, shift }, bias)
        })
        .collect()
}

fn activation() -> impl Strategy<Value = ActivationRange> {
    (0i32..60, 0i32..60, any::<bool>()).prop_map(|(lo, hi, full)| {
        if full {
            ActivationRange::INT8
        } else {
            ActivationRange {
                min: -128 + lo,
                max: 127 - hi,
            }
        }
    })
}

fn padding() -> impl Strategy<Value = Padding> {
    prop_oneof![Just(Padding::Same), Just(Padding::Valid)]
}

#[derive(Debug, Clone)]
struct ConvCase {
    input: Shape4,
    filter: Shape4,
    p: ConvParams,
    output: Shape4,
    seed: u64,
}

fn conv_case() -> impl Strategy<Value = Option<ConvCase>> {
    (
        (
            1usize..=2,
            1usize..=5,
            1usize..=24,
            1usize..=7,
            prop_oneof![Just(1usize), Just(1), Just(2), Just(3)],
        ),
        (1usize..=9, 1usize..=3, 1usize..=6),
        (
            1usize..=3,
            1usize..=3,
            1usize..=2,
            prop_oneof![Just(1usize), Just(1), Just(2), Just(3)],
        ),
        (padding(), padding()),
        (-127i32..=128, -128i32..=127, activation()),
        any::<u64>(),
    )
        .prop_map(
            |(
                (n, h, w, fd, groups),
                (per_group, fh, fw),
                (sh, sw, dh, dw),
                (pad_h, pad_w),
                (input_offset, output_offset, activation),
                seed,
            )| {
                let input = Shape4 {
                    n,
                    h,
                    w,
                    c: fd * groups,
                };
                let filter = Shape4 {
                    n: per_group * groups,
                    h: fh,
                    w: fw,
                    c: fd,
                };
                let oh = pad_h.output_size(h, fh, sh, dh)?;
                let ow = pad_w.output_size(w, fw, sw, dw)?;
                let output = Shape4 {
                    n,
                    h: oh,
                    w: ow,
                    c: filter.n,
                };
                let p = ConvParams {
                    stride_h: sh,
                    stride_w: sw,
                    dilation_h: dh,
                    dilation_w: dw,
                    pad_h: Padding::before(h, fh, sh, dh, oh),
                    pad_w: Padding::before(w, fw, sw, dw, ow),
                    input_offset,
                    output_offset,
                    activation,
                };
                Some(ConvCase {
                    input,
                    filter,
                    p,
                    output,
                    seed,
                })
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn requant_equals_multiply_by_quantized_multiplier(
        x in any::<i32>(),
        multiplier in prop_oneof![any::<i32>(), (1i32 << 30)..=i32::MAX, Just(i32::MIN)],
        shift in -40i32..=40,
        output_offset in -128i32..=127,
    ) {
        let q = QuantizedMultiplier { multiplier, shift };
        prop_assert_eq!(
            Requant::new(q, output_offset).apply(x),
            multiply_by_quantized_multiplier(x, multiplier, shift).wrapping_add(output_offset)
        );
    }

    /// Small accumulators and the multipliers real models have: where the one-rounding form
    /// runs, with exact rounding halves common.
    #[test]
    fn requant_equals_the_reference_on_model_like_values(
        x in -(1i32 << 20)..(1i32 << 20),
        multiplier in (1i32 << 30)..=i32::MAX,
        shift in -26i32..=0,
        output_offset in -128i32..=127,
    ) {
        let q = QuantizedMultiplier { multiplier, shift };
        prop_assert_eq!(
            Requant::new(q, output_offset).apply(x),
            multiply_by_quantized_multiplier(x, multiplier, shift).wrapping_add(output_offset)
        );
    }

    #[test]
    fn conv_equals_reference(case in conv_case()) {
        let Some(c) = case else { return Ok(()) };
        let mut rng = Bytes(c.seed);
        let input = rng.fill(c.input.len());
        let filter = rng.fill(c.filter.len());
        let consts = channels(&mut rng, c.output.c);
        let per_channel = c.filter.h * c.filter.w * c.filter.c;
        let bias: Vec<u8> = consts.iter().flat_map(|(_, b)| b.to_le_bytes()).collect();
        let mut quant = vec![0u8; c.output.c * ChannelQuant::BYTES_PER_CHANNEL];
        for (ch, (q, b)) in consts.iter().enumerate() {
            let ws = filter[ch * per_channel..(ch + 1) * per_channel].iter().copied();
            ChannelQuant::encode(&mut quant, ch, *q, ChannelQuant::fold_bias(*b, c.p.input_offset, ws));
        }
        let quant = ChannelQuant::new(&quant);
        let mut fast = vec![0u8; c.output.len()];
        conv_per_channel(&c.p, &quant, c.input, &input, c.filter, &filter, Some(Bias::new(&bias)), c.output, &mut fast, 0..0);
        let mut oracle = vec![0u8; c.output.len()];
        reference::conv_per_channel(&c.p, &quant, c.input, &input, c.filter, &filter, Some(Bias::new(&bias)), c.output, &mut oracle);
        prop_assert_eq!(&fast, &oracle);
        // Kept columns (streaming inference): those hold the oracle's values beforehand and
        // must be left alone, every other column computed over a garbage-filled output.
        let w = c.output.w;
        let (a, b) = ((c.seed as usize) % (w + 1), (c.seed as usize / 7) % (w + 1));
        let kept = a.min(b)..a.max(b);
        let row = c.output.c;
        let mut partial: Vec<u8> = (0..c.output.len()).map(|i| (i * 37 + 11) as u8).collect();
        for (i, v) in partial.iter_mut().enumerate() {
            if kept.contains(&((i / row) % w)) {
                *v = oracle[i];
            }
        }
        conv_per_channel(&c.p, &quant, c.input, &input, c.filter, &filter, Some(Bias::new(&bias)), c.output, &mut partial, kept.clone());
        prop_assert_eq!(partial, oracle, "kept columns {:?}", kept);
    }

    #[test]
    fn fully_connected_equals_reference(
        batches in 1usize..=3,
        depth in 1usize..=70,
        outputs in 1usize..=13,
        input_offset in -127i32..=128,
        output_offset in -128i32..=127,
        activation in activation(),
        with_bias in any::<bool>(),
        seed in any::<u64>(),
    ) {
        let mut rng = Bytes(seed);
        let input = rng.fill(batches * depth);
        let filter = rng.fill(outputs * depth);
        let consts = channels(&mut rng, outputs);
        let bias: Vec<u8> = consts.iter().flat_map(|(_, b)| b.to_le_bytes()).collect();
        let mut quant = vec![0u8; outputs * ChannelQuant::BYTES_PER_CHANNEL];
        for (o, (q, b)) in consts.iter().enumerate() {
            let b = if with_bias { *b } else { 0 };
            let ws = filter[o * depth..(o + 1) * depth].iter().copied();
            ChannelQuant::encode(&mut quant, o, *q, ChannelQuant::fold_bias(b, input_offset, ws));
        }
        let quant = ChannelQuant::new(&quant);
        let bias = with_bias.then(|| Bias::new(&bias));
        let p = FullyConnectedParams { input_offset, output_offset, activation };
        let mut fast = vec![0u8; batches * outputs];
        fully_connected(&p, &quant, batches, depth, outputs, &input, &filter, &mut fast);
        let mut oracle = vec![0u8; batches * outputs];
        reference::fully_connected(&p, &quant, batches, depth, outputs, &input, &filter, bias, &mut oracle);
        prop_assert_eq!(fast, oracle);
    }

    #[test]
    fn pooling_equals_reference(
        (n, h, w, c) in (1usize..=2, 1usize..=5, 1usize..=20, 1usize..=9),
        (fh, fw, sh, sw) in (1usize..=3, 1usize..=4, 1usize..=3, 1usize..=3),
        (pad_h, pad_w) in (padding(), padding()),
        average in any::<bool>(),
        activation in activation(),
        seed in any::<u64>(),
    ) {
        let (Some(oh), Some(ow)) = (pad_h.output_size(h, fh, sh, 1), pad_w.output_size(w, fw, sw, 1)) else {
            return Ok(());
        };
        let is = Shape4 { n, h, w, c };
        let os = Shape4 { n, h: oh, w: ow, c };
        let p = PoolParams {
            filter_h: fh,
            filter_w: fw,
            stride_h: sh,
            stride_w: sw,
            pad_h: Padding::before(h, fh, sh, 1, oh),
            pad_w: Padding::before(w, fw, sw, 1, ow),
            activation,
        };
        let kind = if average { PoolKind::Average } else { PoolKind::Max };
        let input = Bytes(seed).fill(is.len());
        let mut fast = vec![0u8; os.len()];
        pool(kind, &p, is, &input, os, &mut fast);
        let mut oracle = vec![0u8; os.len()];
        reference::pool(kind, &p, is, &input, os, &mut oracle);
        prop_assert_eq!(fast, oracle);
    }
}
