//! Stream mode's state: IMU-rate samples in, model-rate windows out.
//!
//! Per segment: `harbor_core::rate` converts the IMU rate to the model rate, a
//! `harbor_core::input` converts each model-rate sample to int8 (the conversion is per
//! reading), and a `harbor_core::window::Windower` of int8 samples keeps the last window and
//! says when one is complete. The host runs the same pieces, which is why stream-mode windows
//! equal tensor-mode windows bit for bit. The ring is the only copy of a window: inference
//! copies it straight into the model's input tensor.

use harbor_core::input::InputQuant;
use harbor_core::protocol::{ErrorCause, mailbox};
use harbor_core::rate::{
    AXES, DEFAULT_TAPS_PER_PHASE, IMU25_TO_MODEL20, ImuSample, PolyphaseFir, RateConverter,
};
use harbor_core::window::Windower;

use crate::inference::{Input, WindowFeed};

/// Longest window stream mode holds, in model-rate samples (a 60-sample window is 3 s at 20 Hz).
pub const MAX_WINDOW: usize = 256;

/// The band's only designed filter: 25 Hz IMU → 20 Hz model, computed at compile time.
/// Designing other ratios needs f64 math the FPU-less band should not do at run time.
static BAND_FIR: PolyphaseFir<{ 4 * DEFAULT_TAPS_PER_PHASE }> = IMU25_TO_MODEL20;

/// Model-rate samples one IMU sample can complete (supported ratios are 1/1 and 4/5).
pub const MAX_OUTPUTS_PER_INPUT: usize = 1;
// One output per input completes at most one window per input: a window is inferred before
// the next input arrives, so the ring never moves under a pending window.
const _: () = assert!(MAX_OUTPUTS_PER_INPUT == 1);

enum Converter {
    /// Same rate: IMU samples are model samples.
    Identity,
    Band(RateConverter<'static, { 4 * DEFAULT_TAPS_PER_PHASE }>),
}

/// Stream mode's converter and window ring. It lives in the app's static state and is
/// reconfigured in place (a ring built on the stack and moved in would be a second copy).
pub struct Stream {
    /// Whether ConfigureStream set it up for the loaded model.
    configured: bool,
    converter: Converter,
    windower: Windower<MAX_WINDOW, [i8; AXES]>,
    /// IMU samples received in the current segment.
    received: u32,
    /// Converter outputs at the start of each segment that come from the primed history
    /// (before the first input): the host drops them too, so window 0 starts at the
    /// segment's first model-rate sample on both sides.
    primed: u32,
    /// Of those, still to drop in the current segment.
    to_drop: u32,
    /// The configured ratio and hop (they bound the samples of one mailbox request).
    up: u16,
    down: u16,
    hop: u16,
    /// The window whose convolution columns the arena's stream cache holds (see
    /// `inference::run_stream`); forgotten whenever something else may write the arena.
    cached: Option<u32>,
}

impl Stream {
    /// A stream that is not configured.
    pub const fn new() -> Self {
        let windower = match Windower::filled(1, 1, [0; AXES]) {
            Ok(w) => w,
            Err(_) => panic!("a one-sample window fits any ring"),
        };
        Self {
            configured: false,
            converter: Converter::Identity,
            windower,
            received: 0,
            primed: 0,
            to_drop: 0,
            up: 1,
            down: 1,
            hop: 1,
            cached: None,
        }
    }

    /// The stream, if configured.
    pub fn active(&self) -> Option<&Self> {
        self.configured.then_some(self)
    }

    /// The stream, if configured.
    pub fn active_mut(&mut self) -> Option<&mut Self> {
        self.configured.then_some(self)
    }

    /// Forgets the configuration (a new model, or a failed ConfigureStream).
    pub fn disable(&mut self) {
        self.configured = false;
        self.cached = None;
    }

    /// Forgets the stream cache: the arena beyond the model's plan may have been written
    /// (another model prepared there, e.g. an update's check).
    pub fn forget_cache(&mut self) {
        self.cached = None;
    }

    /// Configures the IMU → model ratio `up/down` (reduced) and the window geometry, and
    /// starts a new segment; on an error the stream is left unconfigured.
    pub fn configure(
        &mut self,
        up: u16,
        down: u16,
        window_len: u16,
        hop: u16,
    ) -> Result<(), (ErrorCause, u32)> {
        self.configured = false;
        let primed = match (up, down) {
            (1, 1) => {
                self.converter = Converter::Identity;
                0
            }
            (4, 5) => {
                self.converter = Converter::Band(RateConverter::new(&BAND_FIR));
                // At most a few dozen: the filter's group delay in output periods.
                BAND_FIR.warmup_outputs() as u32
            }
            _ => {
                return Err((
                    ErrorCause::UnsupportedRate,
                    (u32::from(up) << 16) | u32::from(down),
                ));
            }
        };
        self.windower
            .set_geometry(usize::from(window_len), usize::from(hop))
            .map_err(|_| (ErrorCause::Malformed, u32::from(window_len)))?;
        self.primed = primed;
        (self.up, self.down, self.hop) = (up, down, hop);
        self.reset();
        self.configured = true;
        Ok(())
    }

    /// IMU samples received in the current segment.
    pub fn received(&self) -> u32 {
        self.received
    }

    /// Most samples one MailboxStream request may carry with this configuration.
    pub fn max_mailbox_samples(&self) -> u32 {
        mailbox::max_stream_samples(self.up, self.down, self.hop)
    }

    /// The windows `samples` complete, one at a time, for inference.
    pub fn feed<'a, I: Iterator<Item = ImuSample>>(
        &'a mut self,
        quant: &'a InputQuant,
        samples: I,
    ) -> Feed<'a, I> {
        Feed {
            stream: self,
            quant,
            samples,
        }
    }

    /// Starts a new segment: converter history, window ring and counters are forgotten.
    pub fn reset(&mut self) {
        if let Converter::Band(c) = &mut self.converter {
            c.reset();
        }
        self.windower.reset();
        self.received = 0;
        self.to_drop = self.primed;
        self.cached = None;
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

    /// Converts a model-rate sample to int8 and adds it; the index of the window it
    /// completes, if any.
    pub fn push_model_sample(&mut self, sample: ImuSample, quant: &InputQuant) -> Option<u32> {
        let mut int8 = [0i8; AXES];
        quant.quantize_sample(&sample, &mut int8);
        self.windower.push(int8)
    }

    /// Int8 values in one window.
    pub fn window_values(&self) -> usize {
        self.windower.len() * AXES
    }

    /// Writes the current window (oldest sample first) into `out` as int8 bytes.
    pub fn copy_window(&self, out: &mut [u8]) {
        for (dst, sample) in out.chunks_exact_mut(AXES).zip(self.windower.window()) {
            for (d, &v) in dst.iter_mut().zip(sample) {
                *d = v as u8;
            }
        }
    }
}

/// One request's samples on their way through the stream: each [`WindowFeed::next_window`]
/// converts samples until one completes a window, which stays in the ring until the next.
pub struct Feed<'a, I> {
    stream: &'a mut Stream,
    quant: &'a InputQuant,
    samples: I,
}

impl<I: Iterator<Item = ImuSample>> WindowFeed for Feed<'_, I> {
    fn next_window(&mut self) -> Option<u32> {
        for sample in self.samples.by_ref() {
            let (model_samples, n) = self.stream.convert(sample);
            if n == 1
                && let Some(index) = self.stream.push_model_sample(model_samples[0], self.quant)
            {
                return Some(index);
            }
        }
        None
    }

    fn window(&self) -> Input<'_> {
        Input::Window(self.stream)
    }

    fn shift(&self) -> usize {
        usize::from(self.stream.hop) * AXES
    }

    fn cached(&mut self) -> &mut Option<u32> {
        &mut self.stream.cached
    }
}
