//! A study model as the band gets it (int8 `.tflite` + card) and its scores on the host:
//! float network and int8 through harbor-core, both on the target's raw test windows.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::StudyError;
use crate::model::card::{
    ArchitectureInfo, ClassInfo, DatasetInfo, FileInfo, InputInfo, ModelCard, NormalizationInfo,
    sha256_hex,
};
use crate::model::eval::evaluate;
use crate::model::export::to_tflite;
use crate::model::input::{InputQuant, Normalization};
use crate::model::quantize::{QuantModel, quantize};
use crate::model::saved::{CARD_FILE, MODEL_FILE};
use crate::model::windows::WindowSet;
use crate::model::{Arch, ClassSet, Confusion, FloatNet};
use crate::rng::SplitMix64;
use crate::signal::WindowSpec;
use crate::train::cnn::Cnn;

/// Accuracy and macro-F1 (over the classes present in the truth).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Scores {
    /// Share of windows classified right.
    pub accuracy: f64,
    /// Mean F1 over the classes the test windows have.
    pub macro_f1: f64,
}

impl From<&Confusion> for Scores {
    fn from(c: &Confusion) -> Self {
        Scores {
            accuracy: c.accuracy(),
            macro_f1: c.macro_f1(),
        }
    }
}

/// Windows of network input used to calibrate activation ranges.
pub const CALIBRATION_WINDOWS: usize = 2000;

/// A trained model in the band's form.
#[derive(Clone, Debug)]
pub struct Exported {
    /// Float weights.
    pub net: FloatNet,
    /// The int8 model.
    pub quant: QuantModel,
    /// Its `.tflite`.
    pub tflite: Vec<u8>,
    /// Raw counts → network input for the dataset it is scored on.
    pub norm: Normalization,
}

/// Quantizes `model` (activation ranges from up to [`CALIBRATION_WINDOWS`] seeded windows of
/// `calibration`, network input) and exports it; `norm` is the scored dataset's conversion.
pub fn export(
    model: &Cnn,
    arch: &Arch,
    calibration: &WindowSet,
    norm: &Normalization,
    seed: u64,
) -> Result<Exported, StudyError> {
    let net = model.to_float_net(arch);
    let mut idx: Vec<usize> = (0..calibration.len()).collect();
    SplitMix64::new(seed ^ 0xCA11).shuffle(&mut idx);
    idx.truncate(CALIBRATION_WINDOWS);
    let quant = quantize(&net, &calibration.select(&idx));
    let tflite = to_tflite(&quant, "harbor study model").map_err(StudyError::Export)?;
    Ok(Exported {
        net,
        quant,
        tflite,
        norm: norm.clone(),
    })
}

/// Host scores of one model on raw test windows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HostScores {
    /// The float network.
    pub float: Scores,
    /// The int8 model through harbor-core (the band's arithmetic), inputs converted as the
    /// band converts its readings.
    pub int8: Scores,
    /// Share of windows where float and int8 pick the same class.
    pub float_int8_agreement: f64,
}

impl Exported {
    /// Float and int8 scores on `raw_test` (raw int16 counts).
    pub fn score_host(&self, raw_test: &WindowSet) -> Result<HostScores, StudyError> {
        let e = evaluate(&self.net, &self.norm, &self.quant, &self.tflite, raw_test)
            .map_err(StudyError::Int8)?;
        Ok(HostScores {
            float: Scores::from(&e.float),
            int8: Scores::from(&e.int8),
            float_int8_agreement: e.agreement,
        })
    }

    /// The int8 input of every window of `raw` (the band's conversion of its readings).
    pub fn int8_inputs(&self, raw: &WindowSet) -> Vec<Vec<i8>> {
        let conv = self.conversion();
        (0..raw.len())
            .map(|i| conv.quantize_window(raw.get(i), raw.channels))
            .collect()
    }

    fn conversion(&self) -> InputQuant {
        InputQuant::new(
            &self.norm,
            self.quant.input.scale,
            self.quant.input.zero_point,
        )
    }

    /// Writes `model.tflite` and a card into `dir` (what `harbor run` loads).
    pub fn write_dir(
        &self,
        dir: &Path,
        classes: &ClassSet,
        dataset: &str,
        board: &str,
    ) -> Result<(), StudyError> {
        let arch = &self.net.arch;
        let name = dir
            .file_name()
            .map_or("model".into(), |n| n.to_string_lossy().into_owned());
        let spec = WindowSpec::default();
        let card = ModelCard {
            name,
            provenance: "trained".into(),
            variant: arch.variant.name().to_string(),
            precision: "int8".into(),
            audience: "generalized".into(),
            dataset: DatasetInfo {
                name: dataset.to_string(),
                body_position: "wrist".into(),
                ..DatasetInfo::default()
            },
            classes: (0..classes.len())
                .map(|c| ClassInfo {
                    name: classes.classes[c].clone(),
                    activities: classes.members_of(c),
                })
                .collect(),
            input: InputInfo {
                rate_hz: spec.rate_hz,
                window_samples: arch.window,
                window_stride_samples: spec.hop().unwrap_or(arch.window / 2),
                channels: [
                    "accel_x", "accel_y", "accel_z", "gyro_x", "gyro_y", "gyro_z",
                ]
                .map(String::from)
                .to_vec(),
                units: format!("raw int16 IMU counts of board `{board}`"),
            },
            normalization: NormalizationInfo::trained(&self.norm, &self.quant.input),
            architecture: ArchitectureInfo::of(arch),
            file: FileInfo {
                name: MODEL_FILE.into(),
                bytes: self.tflite.len() as u64,
                sha256: sha256_hex(&self.tflite),
            },
            ..ModelCard::default()
        };
        let io = |path: &Path, e: std::io::Error| StudyError::Io {
            path: path.to_path_buf(),
            source: e,
        };
        std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
        let model = dir.join(MODEL_FILE);
        std::fs::write(&model, &self.tflite).map_err(|e| io(&model, e))?;
        let card_path = dir.join(CARD_FILE);
        let yaml = card
            .to_yaml()
            .map_err(|e| StudyError::Output(e.to_string()))?;
        std::fs::write(&card_path, yaml).map_err(|e| io(&card_path, e))?;
        Ok(())
    }
}
