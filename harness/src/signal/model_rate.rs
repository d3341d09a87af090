//! IMU rate → model input rate on the host, with the firmware's own converter
//! (`harbor_core::rate`), so tensor-mode windows equal what stream mode computes bit for bit.

use harbor_core::rate::{
    DEFAULT_TAPS_PER_PHASE, IMU25_TO_MODEL20, ImuSample, PolyphaseFir, RateConverter,
};

use super::{Rate, SignalError};

/// Coefficient capacity for ratios other than the band's 4/5 (up to 64/… at 32 taps).
const HOST_TABLE: usize = 64 * DEFAULT_TAPS_PER_PHASE;

enum Filter {
    /// The firmware's compile-time table (25 Hz → 20 Hz).
    Band(&'static PolyphaseFir<{ 4 * DEFAULT_TAPS_PER_PHASE }>),
    Designed(Box<PolyphaseFir<HOST_TABLE>>),
    /// Same rate: the model reads the IMU samples unchanged.
    Identity,
}

/// Converts a gap-free IMU stream to the model rate and tells where each output lies in time.
pub struct ModelRateConverter {
    filter: Filter,
    imu: Rate,
    model: Rate,
    up: u64,
    down: u64,
    /// Nanoseconds per half prototype sample when that is a whole number (25 Hz·4: 5 000 000).
    ns_per_half_proto: Option<i64>,
}

impl ModelRateConverter {
    /// The converter from `imu` to `model` rate; errors if the ratio has no filter.
    pub fn new(imu: Rate, model: Rate) -> Result<Self, SignalError> {
        let (up, down) = model.ratio_to(imu);
        let filter = if up == down {
            Filter::Identity
        } else if (up, down) == (4, 5) {
            Filter::Band(&IMU25_TO_MODEL20)
        } else if up <= 64 && down <= 1000 {
            Filter::Designed(Box::new(PolyphaseFir::design(
                up as u32,
                down as u32,
                DEFAULT_TAPS_PER_PHASE,
            )))
        } else {
            return Err(SignalError::config(
                "window rate",
                format!(
                    "model rate {} Hz / IMU rate {} Hz reduces to {up}/{down}: too fine a ratio",
                    model.hz(),
                    imu.hz()
                ),
            ));
        };
        let denom = 2 * up as i128 * i128::from(imu.millihertz());
        let ns_per_half_proto =
            (1_000_000_000_000 % denom == 0).then(|| (1_000_000_000_000 / denom) as i64);
        Ok(ModelRateConverter {
            filter,
            imu,
            model,
            up,
            down,
            ns_per_half_proto,
        })
    }

    /// The output rate.
    pub fn model_rate(&self) -> Rate {
        self.model
    }

    /// Converts one segment (the converter is restarted, as the firmware does after a gap).
    pub fn convert(&self, imu: &[ImuSample], out: &mut Vec<ImuSample>) {
        match &self.filter {
            Filter::Identity => out.extend_from_slice(imu),
            Filter::Band(fir) => run(fir, imu, out),
            Filter::Designed(fir) => run(fir, imu, out),
        }
    }

    /// Outputs at the start of each segment that precede its first input (the firmware's
    /// stream mode skips the same number: `PolyphaseFir::warmup_outputs`).
    pub fn warmup_outputs(&self) -> u64 {
        match &self.filter {
            Filter::Identity => 0,
            Filter::Band(fir) => fir.warmup_outputs(),
            Filter::Designed(fir) => fir.warmup_outputs(),
        }
    }

    /// Time of model output `n` relative to the segment's first IMU sample: its position
    /// `n·down/up` IMU periods minus the filter's group delay. Negative for the outputs the
    /// filter computes from its primed history before the first input.
    pub fn output_offset_ns(&self, n: u64) -> i64 {
        let delay_half_proto = match &self.filter {
            Filter::Identity => 0,
            Filter::Band(fir) => fir.group_delay_half_proto_samples(),
            Filter::Designed(fir) => fir.group_delay_half_proto_samples(),
        };
        // Prototype samples are 1/(up·f_imu) long; work in half prototype samples.
        if let Some(ns) = self.ns_per_half_proto {
            return (2 * n as i64 * self.down as i64 - i64::from(delay_half_proto)) * ns;
        }
        let half_protos = 2 * i128::from(n) * i128::from(self.down) - i128::from(delay_half_proto);
        let denom = 2 * i128::from(self.up) * i128::from(self.imu.millihertz());
        (half_protos * 1_000_000_000_000 / denom) as i64
    }
}

fn run<const N: usize>(fir: &PolyphaseFir<N>, imu: &[ImuSample], out: &mut Vec<ImuSample>) {
    let mut conv = RateConverter::new(fir);
    for &s in imu {
        conv.push(s, |y| out.push(y));
    }
}
