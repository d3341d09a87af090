//! The recording `harbor bench` streams: one gap-free segment of a public WISDM 2019 watch
//! recording at the band's IMU rate, the int8 windows tensor mode cuts from it, and the IMU
//! sample after which the band completes each window (so a request can end on a window).

use harbor_core::input::InputQuant;
use harbor_core::rate::ImuSample;
use harbor_core::window::windows_in;

use super::CliError;
use crate::board::BoardProfile;
use crate::datasets::{self, DatasetKind, LoadOptions, NoProgress};
use crate::dut::StreamConfig;
use crate::model::CheckedModel;
use crate::model::input::device_input_quant;
use crate::signal::model_rate::ModelRateConverter;
use crate::signal::resample::resample;
use crate::signal::{ClipCounts, ImuQuantizer, Rate, ResampleConfig};

/// The subject streamed: held out of every model card's training users.
const SUBJECT: &str = "1617";

/// One segment as stream mode and tensor mode each get it.
pub(super) struct StreamSegment {
    /// Rates and window geometry (the model card's window length and stride).
    pub config: StreamConfig,
    /// The int16 → int8 input conversion of the model's card.
    pub input: InputQuant,
    /// Raw int16 readings at the IMU rate: what stream mode sends.
    pub imu: Vec<ImuSample>,
    /// Tensor mode's int8 windows of the same samples, window `k` at index `k`.
    pub windows: Vec<Vec<i8>>,
    /// IMU samples after which window `k` is complete.
    pub ends: Vec<usize>,
}

impl StreamSegment {
    /// The longest segment of the subject's recordings, for `checked`'s window geometry.
    pub fn load(checked: &CheckedModel) -> Result<Self, CliError> {
        let fail = |what: &str, e: &dyn std::fmt::Display| {
            CliError::infrastructure(format!("preparing the stream benchmark: {what}: {e}"))
        };
        let board = BoardProfile::load(BoardProfile::DEFAULT)
            .map_err(|e| fail("the default board profile", &e))?;
        let root = datasets::data_root().join("wisdm2019");
        let opts = LoadOptions {
            subjects: vec![SUBJECT.into()],
            ..LoadOptions::default()
        };
        let loaded = datasets::load(DatasetKind::Wisdm2019Watch, &root, &opts, &NoProgress)
            .map_err(|e| {
                CliError::infrastructure(format!(
                    "harbor bench streams WISDM 2019 watch subject {SUBJECT} from {}: {e} (fetch it with `harbor datasets fetch wisdm2019`)",
                    root.display()
                ))
            })?;
        let card = &checked.card.input;
        let (len, hop) = (card.window_samples, card.window_stride_samples);
        let imu_rate =
            Rate::from_hz(board.imu.odr_hz, "imu.odr_hz").map_err(|e| fail("IMU rate", &e))?;
        let model_rate =
            Rate::from_hz(card.rate_hz, "input.rate_hz").map_err(|e| fail("model rate", &e))?;
        let converter =
            ModelRateConverter::new(imu_rate, model_rate).map_err(|e| fail("rate", &e))?;
        let (up, down) = model_rate.ratio_to(imu_rate);
        let narrow = |v: usize| u16::try_from(v).map_err(|e| fail("window geometry", &e));
        let config = StreamConfig {
            up: up as u16,
            down: down as u16,
            window_len: narrow(len)?,
            hop: narrow(hop)?,
        };
        let input = device_input_quant(&checked.card.normalization.device_conversion)
            .map_err(|e| fail("the card's input conversion", &e))?;
        let quantizer = ImuQuantizer::new(&board.imu).map_err(|e| fail("IMU", &e))?;

        let mut longest: Vec<ImuSample> = Vec::new();
        for rec in &loaded.recordings {
            let resampled =
                resample(rec, imu_rate, &ResampleConfig::default()).map_err(|e| fail("", &e))?;
            for seg in resampled.segments {
                if seg.values.len() > longest.len() {
                    let mut clipped = ClipCounts::default();
                    longest = seg
                        .values
                        .iter()
                        .map(|v| quantizer.quantize(v, &mut clipped))
                        .collect();
                }
            }
        }
        let mut model = Vec::new();
        converter.convert(&longest, &mut model);
        let warmup = converter.warmup_outputs();
        let model = model.get(warmup as usize..).unwrap_or(&[]);
        let count = windows_in(model.len() as u64, len, hop) as usize;
        if count == 0 {
            return Err(fail(
                "the recording",
                &format!("its longest segment holds no {len}-sample window"),
            ));
        }
        let windows = (0..count)
            .map(|k| {
                model[k * hop..k * hop + len]
                    .iter()
                    .flat_map(|sample| {
                        let mut int8 = [0i8; 6];
                        input.quantize_sample(sample, &mut int8);
                        int8
                    })
                    .collect()
            })
            .collect();
        // Window k needs model samples up to k·hop + len after the warm-up outputs.
        let mut ends = Vec::with_capacity(count);
        let mut n = 0u64;
        for k in 0..count {
            let needed = warmup + (k * hop + len) as u64;
            // The converter's outputs after n inputs: ceil(n · up / down).
            while (n * up).div_ceil(down) < needed {
                n += 1;
            }
            ends.push(n as usize);
        }
        Ok(Self {
            config,
            input,
            imu: longest,
            windows,
            ends,
        })
    }
}
