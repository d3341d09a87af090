//! The optimised CONV_2D loops (valid-tap ranges, contiguous rows, unrolled dot) against a
//! literal transcription of TFLM's `reference_integer_ops::ConvPerChannel` loop, over
//! random geometries: strides, dilations, SAME/VALID, groups, borders.

use harbor_core::fixedpoint::{multiply_by_quantized_multiplier, quantize_multiplier};
use harbor_core::kernels::conv::{ConvParams, conv_per_channel};
use harbor_core::kernels::{ActivationRange, Bias, ChannelQuant, Padding, Shape4};

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.next() % (hi - lo + 1) as u64) as usize
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

/// TFLM's loop, tap by tap, with the "is the point inside the image" test.
#[allow(clippy::too_many_arguments)]
fn reference(
    p: &ConvParams,
    mults: &[(i32, i32)],
    is: Shape4,
    input: &[u8],
    fs: Shape4,
    filter: &[u8],
    bias: &[i32],
    os: Shape4,
) -> Vec<u8> {
    let groups = is.c / fs.c;
    let per_group = os.c / groups;
    let mut out = vec![0u8; os.len()];
    for b in 0..os.n {
        for oy in 0..os.h {
            for ox in 0..os.w {
                for oc in 0..os.c {
                    let g = oc / per_group;
                    let mut acc = 0i32;
                    for fy in 0..fs.h {
                        for fx in 0..fs.w {
                            for ic in 0..fs.c {
                                let iy = (oy * p.stride_h) as i64 - p.pad_h as i64
                                    + (fy * p.dilation_h) as i64;
                                let ix = (ox * p.stride_w) as i64 - p.pad_w as i64
                                    + (fx * p.dilation_w) as i64;
                                if iy < 0 || ix < 0 || iy >= is.h as i64 || ix >= is.w as i64 {
                                    continue;
                                }
                                let x = input[is.offset(b, iy as usize, ix as usize, g * fs.c + ic)]
                                    as i8;
                                let w = filter[fs.offset(oc, fy, fx, ic)] as i8;
                                acc += i32::from(w) * (i32::from(x) + p.input_offset);
                            }
                        }
                    }
                    acc += bias[oc];
                    let (m, s) = mults[oc];
                    let v = multiply_by_quantized_multiplier(acc, m, s) + p.output_offset;
                    out[os.offset(b, oy, ox, oc)] = p.activation.clamp(v) as i8 as u8;
                }
            }
        }
    }
    out
}

#[test]
fn optimised_conv_equals_tflm_reference_loop_on_random_geometries() {
    let mut rng = Rng(0x5eed_1234_abcd_ef01);
    let mut checked = 0;
    while checked < 300 {
        let groups = [1, 1, 1, 2, 3][rng.range(0, 4)];
        let fd = rng.range(1, 5);
        let is = Shape4 {
            n: rng.range(1, 2),
            h: rng.range(1, 6),
            w: rng.range(1, 24),
            c: fd * groups,
        };
        let fs = Shape4 {
            n: groups * rng.range(1, 4),
            h: rng.range(1, 3),
            w: rng.range(1, 6),
            c: fd,
        };
        let (stride_h, stride_w) = (rng.range(1, 3), rng.range(1, 3));
        let (dilation_h, dilation_w) = (rng.range(1, 2), [1, 1, 2, 3][rng.range(0, 3)]);
        let padding = if rng.next().is_multiple_of(2) {
            Padding::Same
        } else {
            Padding::Valid
        };
        let (Some(oh), Some(ow)) = (
            padding.output_size(is.h, fs.h, stride_h, dilation_h),
            padding.output_size(is.w, fs.w, stride_w, dilation_w),
        ) else {
            continue;
        };
        let os = Shape4 {
            n: is.n,
            h: oh,
            w: ow,
            c: fs.n,
        };
        let p = ConvParams {
            stride_h,
            stride_w,
            dilation_h,
            dilation_w,
            pad_h: Padding::before(is.h, fs.h, stride_h, dilation_h, oh),
            pad_w: Padding::before(is.w, fs.w, stride_w, dilation_w, ow),
            input_offset: rng.range(0, 255) as i32 - 127,
            output_offset: rng.range(0, 255) as i32 - 128,
            activation: ActivationRange {
                min: -128 + rng.range(0, 60) as i32,
                max: 127 - rng.range(0, 60) as i32,
            },
        };
        let input = rng.bytes(is.len());
        let filter = rng.bytes(fs.len());
        let bias: Vec<i32> = (0..os.c)
            .map(|_| (rng.next() % 20_001) as i32 - 10_000)
            .collect();
        let bias_bytes: Vec<u8> = bias.iter().flat_map(|b| b.to_le_bytes()).collect();
        let mults: Vec<(i32, i32)> = (0..os.c)
            .map(|_| {
                let q = quantize_multiplier((rng.next() % 1_000_000 + 1) as f64 * 1e-8);
                (q.multiplier, q.shift)
            })
            .collect();
        let mut quant_bytes = vec![0u8; os.c * ChannelQuant::BYTES_PER_CHANNEL];
        let per_channel = fs.h * fs.w * fs.c;
        for (c, &(m, s)) in mults.iter().enumerate() {
            let row = filter[c * per_channel..(c + 1) * per_channel]
                .iter()
                .copied();
            ChannelQuant::encode(
                &mut quant_bytes,
                c,
                harbor_core::fixedpoint::QuantizedMultiplier {
                    multiplier: m,
                    shift: s,
                },
                ChannelQuant::fold_bias(bias[c], p.input_offset, row),
            );
        }
        let mut output = vec![0u8; os.len()];
        conv_per_channel(
            &p,
            &ChannelQuant::new(&quant_bytes),
            is,
            &input,
            fs,
            &filter,
            Some(Bias::new(&bias_bytes)),
            os,
            &mut output,
            0..0,
        );
        let expected = reference(&p, &mults, is, &input, fs, &filter, &bias, os);
        assert_eq!(
            output, expected,
            "input {is:?} filter {fs:?} output {os:?} {p:?}"
        );
        checked += 1;
    }
}

#[test]
fn optimised_depthwise_equals_tflm_reference_loop_on_random_geometries() {
    use harbor_core::kernels::depthwise_conv::depthwise_conv_per_channel;
    let mut rng = Rng(0xdead_beef_0bad_cafe);
    let mut checked = 0;
    while checked < 300 {
        let multiplier = rng.range(1, 3);
        let is = Shape4 {
            n: rng.range(1, 2),
            h: rng.range(1, 6),
            w: rng.range(1, 24),
            c: rng.range(1, 5),
        };
        let fs = Shape4 {
            n: 1,
            h: rng.range(1, 3),
            w: rng.range(1, 6),
            c: is.c * multiplier,
        };
        let (stride_h, stride_w) = (rng.range(1, 3), rng.range(1, 3));
        let (dilation_h, dilation_w) = (rng.range(1, 2), rng.range(1, 3));
        let padding = if rng.next().is_multiple_of(2) {
            Padding::Same
        } else {
            Padding::Valid
        };
        let (Some(oh), Some(ow)) = (
            padding.output_size(is.h, fs.h, stride_h, dilation_h),
            padding.output_size(is.w, fs.w, stride_w, dilation_w),
        ) else {
            continue;
        };
        let os = Shape4 {
            n: is.n,
            h: oh,
            w: ow,
            c: fs.c,
        };
        let p = ConvParams {
            stride_h,
            stride_w,
            dilation_h,
            dilation_w,
            pad_h: Padding::before(is.h, fs.h, stride_h, dilation_h, oh),
            pad_w: Padding::before(is.w, fs.w, stride_w, dilation_w, ow),
            input_offset: rng.range(0, 255) as i32 - 127,
            output_offset: rng.range(0, 255) as i32 - 128,
            activation: ActivationRange {
                min: -128 + rng.range(0, 60) as i32,
                max: 127 - rng.range(0, 60) as i32,
            },
        };
        let input = rng.bytes(is.len());
        let filter = rng.bytes(fs.len());
        let bias: Vec<i32> = (0..os.c)
            .map(|_| (rng.next() % 20_001) as i32 - 10_000)
            .collect();
        let bias_bytes: Vec<u8> = bias.iter().flat_map(|b| b.to_le_bytes()).collect();
        let mut quant_bytes = vec![0u8; os.c * ChannelQuant::BYTES_PER_CHANNEL];
        let mut mults = Vec::new();
        for (c, &channel_bias) in bias.iter().enumerate() {
            let q = quantize_multiplier((rng.next() % 1_000_000 + 1) as f64 * 1e-7);
            let taps = filter.iter().skip(c).step_by(os.c).copied();
            ChannelQuant::encode(
                &mut quant_bytes,
                c,
                q,
                ChannelQuant::fold_bias(channel_bias, p.input_offset, taps),
            );
            mults.push((q.multiplier, q.shift));
        }
        let mut output = vec![0u8; os.len()];
        depthwise_conv_per_channel(
            &p,
            multiplier,
            &ChannelQuant::new(&quant_bytes),
            is,
            &input,
            fs,
            &filter,
            Some(Bias::new(&bias_bytes)),
            os,
            &mut output,
        );
        // TFLM's DepthwiseConvPerChannel, tap by tap with the inside-the-image test.
        let mut expected = vec![0u8; os.len()];
        for b in 0..os.n {
            for oy in 0..os.h {
                for ox in 0..os.w {
                    for ic in 0..is.c {
                        for m in 0..multiplier {
                            let oc = m + ic * multiplier;
                            let mut acc = 0i32;
                            for fy in 0..fs.h {
                                for fx in 0..fs.w {
                                    let iy = (oy * stride_h) as i64 - p.pad_h as i64
                                        + (fy * dilation_h) as i64;
                                    let ix = (ox * stride_w) as i64 - p.pad_w as i64
                                        + (fx * dilation_w) as i64;
                                    if iy < 0 || ix < 0 || iy >= is.h as i64 || ix >= is.w as i64 {
                                        continue;
                                    }
                                    let x = input[is.offset(b, iy as usize, ix as usize, ic)] as i8;
                                    let w = filter[fs.offset(0, fy, fx, oc)] as i8;
                                    acc += i32::from(w) * (i32::from(x) + p.input_offset);
                                }
                            }
                            acc += bias[oc];
                            let (mm, s) = mults[oc];
                            let v = multiply_by_quantized_multiplier(acc, mm, s) + p.output_offset;
                            expected[os.offset(b, oy, ox, oc)] = p.activation.clamp(v) as i8 as u8;
                        }
                    }
                }
            }
        }
        assert_eq!(
            output, expected,
            "input {is:?} filter {fs:?} output {os:?} {p:?}"
        );
        checked += 1;
    }
}
