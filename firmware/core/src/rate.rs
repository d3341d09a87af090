//! Rate conversion from the IMU's output data rate to the model's input rate, in integer math.
//!
//! A polyphase FIR for a rational ratio `up/down` (25 Hz → 20 Hz is 4/5). The prototype
//! low-pass is a Kaiser-windowed sinc designed by a `const fn`, so the firmware's table is
//! computed by the compiler and the device (no FPU) only multiplies Q15 integers. The host
//! calls the same `const fn` (or uses the same constant) and runs the same [`RateConverter`],
//! so tensor-mode windows prepared on the host are bit-identical to what stream mode computes.
//!
//! Design rules (see `docs/signal.md`): stopband edge at the lower of the two Nyquist rates,
//! passband edge at [`PASSBAND_FRACTION`] of it, ≥ 60 dB stopband (Kaiser β = 5.653), every
//! phase's Q15 coefficients sum to exactly 32768 so a constant input comes out unchanged.

/// Axes per IMU sample: accel x, y, z then gyro x, y, z.
pub const AXES: usize = 6;

/// One raw IMU reading, accel then gyro, in sensor LSB.
pub type ImuSample = [i16; AXES];

/// Longest filter phase a [`RateConverter`] can hold (its history buffer is this long).
pub const MAX_TAPS_PER_PHASE: usize = 64;

/// Passband edge as a fraction of the stopband edge (the lower Nyquist rate).
pub const PASSBAND_FRACTION: f64 = 0.7;

/// Kaiser β for ≈ 60 dB stopband attenuation (Kaiser's formula 0.1102·(A − 8.7)).
pub const KAISER_BETA: f64 = 5.653;

/// Q15 unity: every phase sums to this.
pub const Q15_ONE: i32 = 1 << 15;

/// Taps per phase of the default converter: 4·32 = 128 prototype taps give a 0.3·Nyquist
/// transition band with the 60 dB Kaiser window.
pub const DEFAULT_TAPS_PER_PHASE: usize = 32;

/// The band's default conversion, 25 Hz IMU → 20 Hz model input, designed at compile time.
pub const IMU25_TO_MODEL20: PolyphaseFir<{ 4 * DEFAULT_TAPS_PER_PHASE }> =
    PolyphaseFir::design(4, 5, DEFAULT_TAPS_PER_PHASE);

/// A polyphase FIR for the ratio `up/down` with `up · taps_per_phase` Q15 coefficients in a
/// table of capacity `N` (the host designs arbitrary ratios into a large `N`; the coefficients
/// depend only on `up`, `down` and `taps_per_phase`), stored phase by phase: phase `p` tap `k`
/// multiplies the input `k` samples before the newest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolyphaseFir<const N: usize> {
    coeffs: [i16; N],
    up: u32,
    down: u32,
    taps_per_phase: usize,
}

impl<const N: usize> PolyphaseFir<N> {
    /// Designs the filter. Panics (at compile time when used in a `const`) if `N` is less
    /// than `up · taps_per_phase`, the ratio is not reduced, or a phase is too long.
    pub const fn design(up: u32, down: u32, taps_per_phase: usize) -> Self {
        assert!(up >= 1 && down >= 1, "rate ratio terms must be positive");
        assert!(
            gcd(up, down) == 1,
            "rate ratio must be reduced (e.g. 4/5, not 8/10)"
        );
        let len = up as usize * taps_per_phase;
        assert!(N >= len, "N must be at least up * taps_per_phase");
        assert!(
            taps_per_phase >= 2 && taps_per_phase <= MAX_TAPS_PER_PHASE,
            "taps_per_phase out of range"
        );

        // Normalised to the prototype rate up·f_in: the lower Nyquist is min(up, down)/(2·up·down).
        let stop = min_u32(up, down) as f64 / (2.0 * up as f64 * down as f64);
        let cutoff = stop * (1.0 + PASSBAND_FRACTION) / 2.0;
        let centre = (len as f64 - 1.0) / 2.0;
        let i0_beta = bessel_i0(KAISER_BETA);

        let mut proto = [0.0f64; N];
        let mut n = 0;
        while n < len {
            let offset = n as f64 - centre;
            let r = offset / centre;
            let window = bessel_i0(KAISER_BETA * sqrt(1.0 - r * r)) / i0_beta;
            proto[n] = 2.0 * cutoff * sinc(2.0 * cutoff * offset) * window;
            n += 1;
        }

        let mut coeffs = [0i16; N];
        let mut p = 0;
        while p < up as usize {
            let mut sum = 0.0;
            let mut k = 0;
            while k < taps_per_phase {
                sum += proto[p + k * up as usize];
                k += 1;
            }
            // Normalise each phase to unity DC gain, round, then put the rounding residue on
            // the phase's largest tap so the integer sum is exactly Q15_ONE.
            let mut int_sum: i32 = 0;
            let mut largest = 0;
            let mut k = 0;
            while k < taps_per_phase {
                let q = round_to_i32(proto[p + k * up as usize] / sum * Q15_ONE as f64);
                assert!(
                    q >= i16::MIN as i32 && q <= i16::MAX as i32,
                    "coefficient overflows Q15"
                );
                coeffs[p * taps_per_phase + k] = q as i16;
                int_sum += q;
                if abs_i32(q) > abs_i32(coeffs[p * taps_per_phase + largest] as i32) {
                    largest = k;
                }
                k += 1;
            }
            let fixed = coeffs[p * taps_per_phase + largest] as i32 + (Q15_ONE - int_sum);
            assert!(fixed <= i16::MAX as i32, "centre tap overflows Q15");
            coeffs[p * taps_per_phase + largest] = fixed as i16;

            // |acc| ≤ 32768 · Σ|c| must fit i32 with room for the rounding term.
            let mut abs_sum: i32 = 0;
            let mut k = 0;
            while k < taps_per_phase {
                abs_sum += abs_i32(coeffs[p * taps_per_phase + k] as i32);
                k += 1;
            }
            assert!(
                abs_sum < 65535,
                "phase gain too large for an i32 accumulator"
            );
            p += 1;
        }
        PolyphaseFir {
            coeffs,
            up,
            down,
            taps_per_phase,
        }
    }

    /// Upsampling factor.
    pub const fn up(&self) -> u32 {
        self.up
    }

    /// Downsampling factor.
    pub const fn down(&self) -> u32 {
        self.down
    }

    /// Taps of each polyphase branch.
    pub const fn taps_per_phase(&self) -> usize {
        self.taps_per_phase
    }

    /// The Q15 taps of phase `p`, newest input first.
    pub fn phase(&self, p: usize) -> &[i16] {
        &self.coeffs[p * self.taps_per_phase..(p + 1) * self.taps_per_phase]
    }

    /// All Q15 taps, phase by phase.
    pub fn coeffs(&self) -> &[i16; N] {
        &self.coeffs
    }

    /// Group delay in prototype samples (`1/(up·f_in)` each): `(N − 1)/2`, returned doubled
    /// to stay an integer.
    pub const fn group_delay_half_proto_samples(&self) -> u32 {
        self.up * self.taps_per_phase as u32 - 1
    }

    /// Outputs after a (re)start that lie before the first input once the group delay is
    /// accounted for: they come from the primed history, not from data. Stream mode skips
    /// this many so its windows line up with the host's tensor-mode windows (13 for 4/5).
    pub const fn warmup_outputs(&self) -> u64 {
        (self.group_delay_half_proto_samples() as u64).div_ceil(2 * self.down as u64)
    }

    /// Outputs produced after `inputs` pushes: `ceil(inputs · up / down)`.
    pub const fn outputs_after(&self, inputs: u64) -> u64 {
        (inputs * self.up as u64).div_ceil(self.down as u64)
    }
}

/// Streaming converter: push IMU samples one at a time, receive model-rate samples.
///
/// Output `n` is the filter evaluated at input position `n·down/up` (minus the filter's group
/// delay). Before the first sample the history is treated as repeating that sample, so a
/// stream starting at rest has no start-up transient.
#[derive(Clone, Debug)]
pub struct RateConverter<'f, const N: usize> {
    fir: &'f PolyphaseFir<N>,
    history: [ImuSample; MAX_TAPS_PER_PHASE],
    /// Slot of the newest sample in `history` (a ring of `taps_per_phase` slots).
    newest: usize,
    /// Prototype-rate position of the next output, relative to the newest input · up.
    next_phase: u32,
    started: bool,
}

impl<'f, const N: usize> RateConverter<'f, N> {
    /// A converter that has seen no sample yet.
    pub const fn new(fir: &'f PolyphaseFir<N>) -> Self {
        RateConverter {
            fir,
            history: [[0; AXES]; MAX_TAPS_PER_PHASE],
            newest: 0,
            next_phase: 0,
            started: false,
        }
    }

    /// Forgets the history, e.g. across a gap in the stream.
    pub fn reset(&mut self) {
        self.newest = 0;
        self.next_phase = 0;
        self.started = false;
    }

    /// Pushes one IMU sample and calls `emit` for each output sample it completes
    /// (at most `ceil(up/down)` of them).
    pub fn push(&mut self, sample: ImuSample, mut emit: impl FnMut(ImuSample)) {
        let taps = self.fir.taps_per_phase;
        if self.started {
            self.next_phase -= self.fir.up;
            self.newest = if self.newest + 1 == taps {
                0
            } else {
                self.newest + 1
            };
            self.history[self.newest] = sample;
        } else {
            self.history[..taps].fill(sample);
            self.newest = 0;
            self.started = true;
        }
        while self.next_phase < self.fir.up {
            emit(self.filter(self.next_phase as usize));
            self.next_phase += self.fir.down;
        }
    }

    fn filter(&self, phase: usize) -> ImuSample {
        let taps = self.fir.taps_per_phase;
        let coeffs = self.fir.phase(phase);
        // Tap k pairs with the sample k steps before the newest. The ring is walked as two
        // contiguous runs (newest down to slot 0, then the top slot down to newest + 1) and
        // the six sums are separate locals: an indexed accumulator array stayed in memory
        // and the wrap test ran per tap (~60 instructions per tap on RV32 instead of ~20).
        // Integer sums wrap the same in any order, so the result is unchanged.
        let (recent, older) = self.history[..taps].split_at(self.newest + 1);
        let (first, second) = coeffs.split_at(recent.len());
        let mut acc = [0i32; AXES];
        accumulate(&mut acc, first, recent.iter().rev());
        accumulate(&mut acc, second, older.iter().rev());
        let mut out = [0i16; AXES];
        for axis in 0..AXES {
            // Round half up, then saturate: Gibbs overshoot near full scale must not wrap.
            let y = (acc[axis] + (1 << 14)) >> 15;
            out[axis] = y.clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16;
        }
        out
    }
}

/// Adds `Σ c·x` per axis over `coeffs` and `samples` pairwise to `acc`, the six sums held
/// in registers for the whole run.
#[inline(always)]
fn accumulate<'h>(
    acc: &mut [i32; AXES],
    coeffs: &[i16],
    samples: impl Iterator<Item = &'h ImuSample>,
) {
    let [mut a0, mut a1, mut a2, mut a3, mut a4, mut a5] = *acc;
    for (&c, x) in coeffs.iter().zip(samples) {
        let c = i32::from(c);
        a0 = a0.wrapping_add(c * i32::from(x[0]));
        a1 = a1.wrapping_add(c * i32::from(x[1]));
        a2 = a2.wrapping_add(c * i32::from(x[2]));
        a3 = a3.wrapping_add(c * i32::from(x[3]));
        a4 = a4.wrapping_add(c * i32::from(x[4]));
        a5 = a5.wrapping_add(c * i32::from(x[5]));
    }
    *acc = [a0, a1, a2, a3, a4, a5];
}

const fn gcd(mut a: u32, mut b: u32) -> u32 {
    while b != 0 {
        let t = a % b;
        a = b;
        b = t;
    }
    a
}

const fn min_u32(a: u32, b: u32) -> u32 {
    if a < b { a } else { b }
}

const fn abs_i32(x: i32) -> i32 {
    if x < 0 { -x } else { x }
}

// Float helpers written with + − × ÷ only, so compile-time and run-time results are
// bit-identical on every target (IEEE 754 rounds those exactly; libm functions may differ).

const fn round_to_i32(x: f64) -> i32 {
    if x >= 0.0 {
        (x + 0.5) as i32
    } else {
        -((-x + 0.5) as i32)
    }
}

const PI: f64 = core::f64::consts::PI;

/// sin(πx)/(πx).
const fn sinc(x: f64) -> f64 {
    if x == 0.0 {
        1.0
    } else {
        sin(PI * x) / (PI * x)
    }
}

/// Taylor series after reduction to [−π, π]; the arguments here are within a few π.
const fn sin(x: f64) -> f64 {
    let turns = (x / (2.0 * PI)) as i64;
    let mut r = x - turns as f64 * 2.0 * PI;
    if r > PI {
        r -= 2.0 * PI;
    } else if r < -PI {
        r += 2.0 * PI;
    }
    let mut term = r;
    let mut sum = r;
    let mut k = 1;
    while k < 30 {
        term *= -r * r / ((2 * k) as f64 * (2 * k + 1) as f64);
        sum += term;
        k += 1;
    }
    sum
}

/// Modified Bessel function of the first kind, order 0 (power series).
const fn bessel_i0(x: f64) -> f64 {
    let half = x / 2.0;
    let mut term = 1.0;
    let mut sum = 1.0;
    let mut k = 1;
    while k < 40 {
        term *= half / k as f64;
        sum += term * term;
        k += 1;
    }
    sum
}

/// Newton's method; only used on [0, 1].
const fn sqrt(x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    let mut y = if x < 1.0 { 1.0 } else { x };
    let mut i = 0;
    while i < 60 {
        y = 0.5 * (y + x / y);
        i += 1;
    }
    y
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec::Vec;

    fn run<const N: usize>(fir: &PolyphaseFir<N>, input: &[ImuSample]) -> Vec<ImuSample> {
        let mut conv = RateConverter::new(fir);
        let mut out = Vec::new();
        for &s in input {
            conv.push(s, |y| out.push(y));
        }
        out
    }

    fn sine(freq_hz: f64, rate_hz: f64, amplitude: f64, n: usize) -> Vec<ImuSample> {
        (0..n)
            .map(|i| {
                let v = (amplitude
                    * (2.0 * core::f64::consts::PI * freq_hz * i as f64 / rate_hz).sin())
                .round() as i16;
                [v; AXES]
            })
            .collect()
    }

    /// Amplitude of the `freq_hz` component of axis 0 at `rate_hz`, skipping `skip` settling
    /// samples (single-bin DFT; sample peaks would depend on the sampling phase).
    fn amplitude(out: &[ImuSample], skip: usize, freq_hz: f64, rate_hz: f64) -> f64 {
        let (mut re, mut im) = (0.0, 0.0);
        let tail = &out[skip..];
        for (n, s) in tail.iter().enumerate() {
            let phase = 2.0 * core::f64::consts::PI * freq_hz * n as f64 / rate_hz;
            re += f64::from(s[0]) * phase.cos();
            im += f64::from(s[0]) * phase.sin();
        }
        2.0 * (re * re + im * im).sqrt() / tail.len() as f64
    }

    #[test]
    fn every_phase_sums_to_exactly_one() {
        for p in 0..4 {
            let sum: i32 = IMU25_TO_MODEL20
                .phase(p)
                .iter()
                .map(|&c| i32::from(c))
                .sum();
            assert_eq!(sum, Q15_ONE, "phase {p}");
        }
    }

    #[test]
    fn constant_input_comes_out_unchanged_from_the_first_sample() {
        for level in [0i16, 1, -1, 12345, -32768, 32767] {
            let input = [[level, level.saturating_neg(), 7, level / 2, 0, -3]; 200];
            let out = run(&IMU25_TO_MODEL20, &input);
            assert!(out.iter().all(|s| *s == input[0]), "level {level}");
        }
    }

    #[test]
    fn output_count_is_ceil_of_inputs_times_ratio() {
        for n in [1usize, 2, 4, 5, 6, 24, 25, 26, 1000, 1001] {
            let out = run(&IMU25_TO_MODEL20, &vec_of(n));
            assert_eq!(out.len() as u64, (n as u64 * 4).div_ceil(5), "{n} inputs");
            assert_eq!(out.len() as u64, IMU25_TO_MODEL20.outputs_after(n as u64));
        }
        // Upsampling too: 2/1 doubles the count.
        const UP2: PolyphaseFir<32> = PolyphaseFir::design(2, 1, 16);
        assert_eq!(run(&UP2, &vec_of(10)).len(), 20);
    }

    fn vec_of(n: usize) -> Vec<ImuSample> {
        (0..n).map(|i| [i as i16; AXES]).collect()
    }

    #[test]
    fn passband_sine_keeps_its_amplitude() {
        // Up to the 7 Hz passband edge the Kaiser design ripple is ≈ 0.1 %; allow 0.5 %.
        for freq in [0.5, 3.0, 5.0, 7.0] {
            let out = run(&IMU25_TO_MODEL20, &sine(freq, 25.0, 10000.0, 2500));
            let a = amplitude(&out, 100, freq, 20.0);
            assert!((a - 10000.0).abs() < 50.0, "{freq} Hz amplitude {a}");
        }
    }

    #[test]
    fn sine_above_the_new_nyquist_is_removed() {
        // f Hz at 25 Hz aliases to 20 − f Hz at 20 Hz; the stopband starts at 10 Hz. Allow
        // −58 dB: 60 dB design minus Q15 coefficient and output rounding.
        for freq in [10.0, 11.0, 12.0] {
            let out = run(&IMU25_TO_MODEL20, &sine(freq, 25.0, 10000.0, 2500));
            let a = amplitude(&out, 100, 20.0 - freq, 20.0);
            assert!(
                a <= 12.6,
                "{freq} Hz leaked as {} Hz with amplitude {a} (> −58 dB)",
                20.0 - freq
            );
        }
    }

    #[test]
    fn warmup_is_the_group_delay_in_output_periods() {
        // (128 − 1)/2 = 63.5 prototype samples at 100 Hz = 0.635 s; outputs are
        // 50 ms apart, so outputs 0..=12 lie before the first input and 13 is the first after.
        assert_eq!(IMU25_TO_MODEL20.warmup_outputs(), 13);
        const UP2: PolyphaseFir<32> = PolyphaseFir::design(2, 1, 16);
        // (32 − 1)/2 = 15.5 prototype samples, outputs every prototype sample: 16.
        assert_eq!(UP2.warmup_outputs(), 16);
    }

    #[test]
    fn runtime_design_matches_the_compile_time_table() {
        let design: fn(u32, u32, usize) -> PolyphaseFir<128> = PolyphaseFir::design;
        let runtime = core::hint::black_box(design)(4, 5, 32);
        assert_eq!(runtime, IMU25_TO_MODEL20);
        // A larger table holds the same coefficients (the host designs other ratios that way).
        let wide: PolyphaseFir<512> = PolyphaseFir::design(4, 5, 32);
        assert_eq!(wide.coeffs()[..128], IMU25_TO_MODEL20.coeffs()[..]);
        assert!(wide.coeffs()[128..].iter().all(|&c| c == 0));
    }

    #[test]
    fn full_scale_steps_saturate_instead_of_wrapping() {
        let mut input = [[i16::MIN; AXES]; 100].to_vec();
        input.extend([[i16::MAX; AXES]; 100]);
        let out = run(&IMU25_TO_MODEL20, &input);
        // The step's ripple overshoots the rails by ~0.1 %: wrapping would flip its sign.
        assert!(out[..60].iter().all(|s| s[0] < -30000), "{:?}", &out[..60]);
        assert!(out[100..].iter().all(|s| s[0] > 30000), "{:?}", &out[100..]);
    }

    #[test]
    fn float_helpers_agree_with_libm() {
        for i in -40..=40 {
            let x = f64::from(i) * 0.37;
            assert!((sin(x) - x.sin()).abs() < 1e-12, "sin({x})");
        }
        assert!((sqrt(0.3) - 0.3f64.sqrt()).abs() < 1e-15);
        // I0(1) from tables.
        assert!((bessel_i0(1.0) - 1.266_065_877_752_008_4).abs() < 1e-14);
    }
}
