//! Stream-mode workload: the dataset slice as raw int16 IMU segments at the band's rate, and
//! which of the device's windows are scored against which host window.
//!
//! The device numbers its windows per segment (`index`, covering model-rate samples
//! `[index·hop, index·hop + len)` after the rate converter's warm-up outputs). The host's
//! `signal::prepare` cuts the same windows from the same samples and stamps each with its
//! recording and start time, so window `index` of a segment is the host window starting at
//! `t0 + offset(warmup + index·hop)`. Device windows the host dropped (impure, unlabelled,
//! outside the model's classes) have no truth and are counted, not scored.

use std::collections::HashMap;

use harbor_core::input::InputQuant;

use crate::board::BoardProfile;
use crate::datasets::{LoadOptions, NoProgress};
use crate::dut::StreamConfig;
use crate::model::input::device_input_quant;
use crate::signal::model_rate::ModelRateConverter;
use crate::signal::resample::resample;
use crate::signal::{ClipCounts, ImuQuantizer, Rate, ResampleConfig, prepare};

use super::super::scenario::DatasetEntry;
use super::recordings::RecordingCache;
use super::workload::{ModelBundle, ReplayWindows, WorkloadError, load_options};

/// What a stream cell sends and how its answers map onto scored windows.
pub struct StreamWorkload {
    /// Raw readings at the IMU rate, one entry per gap-free segment, in dataset order.
    pub segments: Vec<Vec<[i16; 6]>>,
    /// Stream-mode rates and window geometry sent to the device.
    pub config: StreamConfig,
    /// The int16 → int8 input conversion sent to the device.
    pub input: InputQuant,
    /// (segment, device window index) → index into `windows`.
    pub slots: HashMap<(u32, u32), usize>,
    /// The scored windows, in stream order, with their host references.
    pub windows: ReplayWindows,
}

impl StreamWorkload {
    /// Whole segments in dataset order until at least `max_windows` windows are scored.
    pub fn build(
        model: &ModelBundle,
        dataset: &DatasetEntry,
        board: &BoardProfile,
        recordings: &RecordingCache,
    ) -> Result<Self, WorkloadError> {
        let prep = |message: String| WorkloadError::Prepare {
            dataset: dataset.name.clone(),
            message,
        };
        let (kind, root) = dataset
            .recordings()
            .ok_or_else(|| prep("a `windows` dataset has no recordings to stream".to_string()))?;
        let options: LoadOptions = load_options(model, dataset)?;
        let loaded = recordings.load(kind, root, &options)?;
        let spec = model.window_spec();
        let prepared = prepare(
            &loaded.recordings,
            board,
            &spec,
            &ResampleConfig::default(),
            &NoProgress,
        )
        .map_err(|e| prep(e.to_string()))?;
        let host = &prepared.windows;
        let by_start: HashMap<(u32, i64), usize> = host
            .info
            .iter()
            .enumerate()
            .map(|(i, w)| ((w.source, w.start_ns), i))
            .collect();

        let imu_rate =
            Rate::from_hz(board.imu.odr_hz, "imu.odr_hz").map_err(|e| prep(e.to_string()))?;
        let model_rate = spec.rate().map_err(|e| prep(e.to_string()))?;
        let converter =
            ModelRateConverter::new(imu_rate, model_rate).map_err(|e| prep(e.to_string()))?;
        let quantizer = ImuQuantizer::new(&board.imu).map_err(|e| prep(e.to_string()))?;
        let (up, down) = model_rate.ratio_to(imu_rate);
        let (len, hop) = (
            spec.samples().map_err(|e| prep(e.to_string()))?,
            spec.hop().map_err(|e| prep(e.to_string()))?,
        );
        let narrow = |v: u64, what: &str| {
            u16::try_from(v)
                .map_err(|_| prep(format!("{what} {v} does not fit the protocol's u16")))
        };
        let config = StreamConfig {
            up: narrow(up, "rate ratio numerator")?,
            down: narrow(down, "rate ratio denominator")?,
            window_len: narrow(len as u64, "window length")?,
            hop: narrow(hop as u64, "hop")?,
        };
        let input = device_input_quant(&model.conversion).map_err(|e| WorkloadError::Model {
            path: model.dir.join("card.yaml"),
            message: e.to_string(),
        })?;

        let warmup = converter.warmup_outputs();
        let mut segments = Vec::new();
        let mut slots = HashMap::new();
        let mut chosen = Vec::new();
        let mut clipped = ClipCounts::default();
        let mut source = 0u32;
        'recordings: for rec in &loaded.recordings {
            // `prepare` numbers sources over non-empty recordings only.
            if rec.is_empty() {
                continue;
            }
            let resampled = resample(rec, imu_rate, &ResampleConfig::default())
                .map_err(|e| prep(e.to_string()))?;
            for seg in &resampled.segments {
                let segment = segments.len() as u32;
                let imu: Vec<[i16; 6]> = seg
                    .values
                    .iter()
                    .map(|v| quantizer.quantize(v, &mut clipped))
                    .collect();
                let model_samples = imu.len() as u64 * up / down;
                for k in 0..=model_samples / hop as u64 {
                    let t = seg.t0_ns + converter.output_offset_ns(warmup + k * hop as u64);
                    let Some(&i) = by_start.get(&(source, t)) else {
                        continue;
                    };
                    if let Some(class) = model.classes.class_of(host.info[i].activity.name()) {
                        slots.insert((segment, k as u32), chosen.len());
                        chosen.push((i, class));
                    }
                }
                segments.push(imu);
                if dataset.max_windows.is_some_and(|max| chosen.len() >= max) {
                    break 'recordings;
                }
            }
            source += 1;
        }
        let mut windows = ReplayWindows::from_chosen(model, dataset, host, &chosen)?;
        windows.available = chosen.len();
        Ok(StreamWorkload {
            segments,
            config,
            input,
            slots,
            windows,
        })
    }
}
