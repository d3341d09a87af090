//! Stream mode's state: IMU-rate samples in, model-rate windows out.
//!
//! Per segment: `harbor_core::rate` converts the IMU rate to the model rate, a
//! `harbor_core::window::Windower` keeps the last window and says when one is complete, and
//! `harbor_core::input` converts it to int8. The host runs the same three pieces, which is
//! why stream-mode windows equal tensor-mode windows bit for bit.

use harbor_core::input::InputQuant;
use harbor_core::protocol::ErrorCause;
use harbor_core::rate::{
    DEFAULT_TAPS_PER_PHASE, IMU25_TO_MODEL20, ImuSample, PolyphaseFir, RateConverter,
};
use harbor_core::window::Windower;

/// Longest window stream mode holds, in model-rate samples (a 60-sample window is 3 s at 20 Hz).
pub const MAX_WINDOW: usize = 256;

/// The band's only designed filter: 25 Hz IMU → 20 Hz model, computed at compile time.
/// Designing other ratios needs f64 math the FPU-less band should not do at run time.
static BAND_FIR: PolyphaseFir<{ 4 * DEFAULT_TAPS_PER_PHASE }> = IMU25_TO_MODEL20;

/// Model-rate samples one IMU sample can complete (supported ratios are 1/1 and 4/5).
pub const MAX_OUTPUTS_PER_INPUT: usize = 1;

enum Converter {
    /// Same rate: IMU samples are model samples.
    Identity,
    Band(RateConverter<'static, { 4 * DEFAULT_TAPS_PER_PHASE }>),
}

/// A configured stream: converter and window ring.
pub struct Stream {
    converter: Converter,
    windower: Windower<MAX_WINDOW>,
    /// IMU samples received in the current segment.
    received: u32,
    /// Converter outputs at the start of each segment that come from the primed history
    /// (before the first input): the host drops them too, so window 0 starts at the
    /// segment's first model-rate sample on both sides.
    primed: u32,
    /// Of those, still to drop in the current segment.
    to_drop: u32,
}

impl Stream {
    /// The stream for IMU → model ratio `up/down` (reduced) and the window geometry.
    pub fn new(up: u16, down: u16, window_len: u16, hop: u16) -> Result<Self, (ErrorCause, u32)> {
        let (converter, primed) = match (up, down) {
            (1, 1) => (Converter::Identity, 0),
            (4, 5) => (
                Converter::Band(RateConverter::new(&BAND_FIR)),
                // At most a few dozen: the filter's group delay in output periods.
                BAND_FIR.warmup_outputs() as u32,
            ),
            _ => {
                return Err((
                    ErrorCause::UnsupportedRate,
                    (u32::from(up) << 16) | u32::from(down),
                ));
            }
        };
        let windower = Windower::new(usize::from(window_len), usize::from(hop))
            .map_err(|_| (ErrorCause::Malformed, u32::from(window_len)))?;
        Ok(Self {
            converter,
            windower,
            received: 0,
            primed,
            to_drop: primed,
        })
    }

    /// IMU samples received in the current segment.
    pub fn received(&self) -> u32 {
        self.received
    }

    /// Starts a new segment: converter history, window ring and counters are forgotten.
    pub fn reset(&mut self) {
        if let Converter::Band(c) = &mut self.converter {
            c.reset();
        }
        self.windower.reset();
        self.received = 0;
        self.to_drop = self.primed;
    }

    /// Converts one IMU sample; returns the model-rate samples it completed.
    pub fn convert(&mut self, sample: ImuSample) -> ([ImuSample; MAX_OUTPUTS_PER_INPUT], usize) {
        self.received = self.received.wrapping_add(1);
        let mut out = [[0; 6]; MAX_OUTPUTS_PER_INPUT];
        let mut n = 0;
        match &mut self.converter {
            Converter::Identity => {
                out[0] = sample;
                n = 1;
            }
            Converter::Band(c) => {
                let to_drop = &mut self.to_drop;
                c.push(sample, |y| {
                    if *to_drop > 0 {
                        *to_drop -= 1;
                        return;
                    }
                    // 4/5 emits at most one output per input.
                    if let Some(slot) = out.get_mut(n) {
                        *slot = y;
                        n += 1;
                    }
                });
            }
        }
        (out, n)
    }

    /// Adds a model-rate sample; the index of the window it completes, if any.
    pub fn push_model_sample(&mut self, sample: ImuSample) -> Option<u32> {
        self.windower.push(sample)
    }

    /// Converts the current window to int8 into `out`; returns the values written.
    pub fn quantize_window(&self, quant: &InputQuant, out: &mut [i8]) -> usize {
        quant.quantize_window(self.windower.window(), out)
    }
}
