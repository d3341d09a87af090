//! What a replay cell sends and what it is compared against: a model's classes, input
//! conversion and references, and a dataset slice cut into that model's windows.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::board::BoardProfile;
use crate::datasets::{self, DatasetKind, LoadOptions, NoProgress};
use crate::metrics::ScoredWindows;
use crate::model::card::ModelCard;
use crate::model::confusion::argmax;
use crate::model::import::{ImportSpec, import};
use crate::model::input::{InputQuant, Normalization};
use crate::model::saved::{CARD_FILE, FLOAT_FILE};
use crate::model::user_windows::{LabelledWindows, WindowsError, load_labelled, reference_classes};
use crate::model::{ClassSet, FloatNet, FloatReference};
use crate::model::{HostModel, IntegrityError, load_checked};
use crate::signal::{ResampleConfig, WindowSpec, Windows, prepare};

use super::super::scenario::{DatasetEntry, DatasetSource, ModelEntry, Subjects};
use super::recordings::RecordingCache;

const CHANNELS: usize = 6;

/// Why a replay workload (model or windows) could not be prepared.
#[derive(Debug, thiserror::Error)]
pub enum WorkloadError {
    /// A model directory could not be loaded.
    #[error("{}: {message}", path.display())]
    Model {
        /// The model directory or file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// A dataset could not be loaded.
    #[error(transparent)]
    Dataset(#[from] datasets::DatasetError),
    /// A model directory does not hold the model its card describes.
    #[error(transparent)]
    Integrity(Box<IntegrityError>),
    /// A `windows` dataset does not fit a model.
    #[error(transparent)]
    Windows(Box<WindowsError>),
    /// A dataset's windows could not be prepared.
    #[error("{dataset}: {message}")]
    Prepare {
        /// The dataset.
        dataset: String,
        /// What went wrong.
        message: String,
    },
}

/// The float parameters in `float.json` (other keys there are ignored).
#[derive(Deserialize)]
struct FloatFile {
    net: FloatNet,
    norm: Normalization,
}

/// A model loaded for replay: a model directory (checked against its card) or an inline
/// bare `.tflite`.
pub struct ModelBundle {
    /// Model name as the scenario gives it.
    pub name: String,
    /// The model directory (or the bare `.tflite`).
    pub dir: PathBuf,
    /// The model card (built in memory for an inline `.tflite`).
    pub card: ModelCard,
    /// Host int8 reference (harbor-core interpreter).
    pub host: HostModel,
    /// The band's int16 → int8 input conversion.
    pub conversion: InputQuant,
    /// The model's classes.
    pub classes: ClassSet,
    /// Class names in output order.
    pub class_names: Vec<String>,
    /// The float model (`float.json`), when the directory has one.
    float: Option<FloatFile>,
    /// An imported model's float32 `.tflite` (`import --float`), when its card lists one.
    float_tflite: Option<FloatReference>,
}

impl ModelBundle {
    /// Loads a scenario's model entry; `board` gives an inline `.tflite` its input conversion.
    pub fn load_entry(entry: &ModelEntry, board: &BoardProfile) -> Result<Self, WorkloadError> {
        match &entry.inline {
            None => Self::load(&entry.name, &entry.dir),
            Some(spec) => Self::from_tflite(&entry.name, &entry.dir, spec, board),
        }
    }

    /// Loads the model directory `dir` under the name `name`: the card, `model.tflite`
    /// checked against it, and `float.json` when present.
    pub fn load(name: &str, dir: &Path) -> Result<Self, WorkloadError> {
        let model_err = |path: PathBuf, message: String| WorkloadError::Model { path, message };
        let checked = load_checked(dir).map_err(|e| WorkloadError::Integrity(Box::new(e)))?;
        let float_path = dir.join(FLOAT_FILE);
        let float = if float_path.is_file() {
            let text = std::fs::read_to_string(&float_path)
                .map_err(|e| model_err(float_path.clone(), e.to_string()))?;
            let float: FloatFile = serde_json::from_str(&text)
                .map_err(|e| model_err(float_path.clone(), e.to_string()))?;
            if float.norm.mean.len() != CHANNELS {
                return Err(model_err(
                    float_path,
                    format!("harbor's bands feed {CHANNELS} channels"),
                ));
            }
            Some(float)
        } else {
            None
        };
        // harbor's own models have float.json (statistics in raw counts); an imported one
        // may have a float32 .tflite instead.
        let float_tflite = match float {
            Some(_) => None,
            None => FloatReference::load(dir, &checked.card, &checked.host)
                .map_err(|e| model_err(dir.to_path_buf(), e.to_string()))?,
        };
        let mut bundle = Self::new(name, dir, checked.card, checked.host, float)?;
        bundle.float_tflite = float_tflite;
        Ok(bundle)
    }

    /// A bare `.tflite` with its input described inline (as `harbor models import` would card it).
    pub fn from_tflite(
        name: &str,
        path: &Path,
        spec: &ImportSpec,
        board: &BoardProfile,
    ) -> Result<Self, WorkloadError> {
        let model_err = |message: String| WorkloadError::Model {
            path: path.to_path_buf(),
            message,
        };
        let bytes = std::fs::read(path).map_err(|e| model_err(e.to_string()))?;
        let imported =
            import(name, path, &bytes, spec, board).map_err(|e| model_err(e.to_string()))?;
        let host = HostModel::from_bytes(path, bytes).map_err(|e| model_err(e.to_string()))?;
        Self::new(name, path, imported.card, host, None)
    }

    fn new(
        name: &str,
        dir: &Path,
        card: ModelCard,
        host: HostModel,
        float: Option<FloatFile>,
    ) -> Result<Self, WorkloadError> {
        if card.input.channels.len() != CHANNELS {
            return Err(WorkloadError::Model {
                path: dir.join(CARD_FILE),
                message: format!("harbor's bands feed {CHANNELS} channels"),
            });
        }
        let groups: Vec<(&str, Vec<&str>)> = card
            .classes
            .iter()
            .map(|c| {
                (
                    c.name.as_str(),
                    c.activities.iter().map(String::as_str).collect(),
                )
            })
            .collect();
        let groups: Vec<(&str, &[&str])> = groups.iter().map(|(n, a)| (*n, a.as_slice())).collect();
        Ok(ModelBundle {
            name: name.to_string(),
            dir: dir.to_path_buf(),
            conversion: card.normalization.device_conversion.clone(),
            classes: ClassSet::from_groups(&groups),
            class_names: card.classes.iter().map(|c| c.name.clone()).collect(),
            card,
            host,
            float,
            float_tflite: None,
        })
    }

    /// The model's windowing: rate, length and hop from its card.
    pub fn window_spec(&self) -> WindowSpec {
        let input = &self.card.input;
        WindowSpec {
            rate_hz: input.rate_hz,
            length_s: input.window_samples as f64 / input.rate_hz,
            overlap: 1.0 - input.window_stride_samples as f64 / input.window_samples as f64,
            ..WindowSpec::default()
        }
    }

    /// Seconds between inferences on the band.
    pub fn hop_s(&self) -> f64 {
        self.card.input.window_stride_samples as f64 / self.card.input.rate_hz
    }

    /// The float model's class, when the model has a float reference.
    /// Whether the model has a float reference for recordings (`float.json`, or an
    /// imported model's float32 `.tflite`), which the float metrics need.
    pub fn has_float(&self) -> bool {
        self.float.is_some() || self.float_tflite.is_some()
    }

    fn float_class(&self, raw: &[[i16; 6]]) -> Result<Option<usize>, WorkloadError> {
        if let Some(reference) = &self.float_tflite {
            let counts: Vec<f32> = raw.iter().flatten().map(|&v| f32::from(v)).collect();
            let classes = reference
                .classes_of_counts([counts.as_slice()])
                .map_err(|e| self.error(e))?;
            return Ok(classes.first().copied());
        }
        let Some(float) = self.float.as_ref() else {
            return Ok(None);
        };
        let normalized: Vec<f32> = raw
            .iter()
            .flat_map(|s| {
                s.iter()
                    .enumerate()
                    .map(|(c, &v)| (f32::from(v) - float.norm.mean[c]) / float.norm.std[c])
            })
            .collect();
        Ok(Some(argmax(&float.net.logits(&normalized))))
    }

    /// The float reference's class of each user window (real input values), when the model
    /// has a float32 `.tflite`.
    fn float_classes_of_inputs(&self, real: &[&[f32]]) -> Result<Vec<usize>, WorkloadError> {
        match &self.float_tflite {
            Some(reference) => reference
                .classes_of_inputs(real.iter().copied())
                .map_err(|e| self.error(e)),
            None => Ok(Vec::new()),
        }
    }

    fn error(&self, e: impl std::fmt::Display) -> WorkloadError {
        WorkloadError::Model {
            path: self.dir.clone(),
            message: e.to_string(),
        }
    }
}

/// The windows of one (model, dataset) pair with everything they are scored against.
#[derive(Clone, Debug, Default)]
pub struct ReplayWindows {
    /// True class per window (index into the model's classes).
    pub truth: Vec<usize>,
    /// Subject per window.
    pub subject: Vec<String>,
    /// Model-rate int16 readings per window (what stream mode's device windows contain).
    pub raw: Vec<Vec<[i16; 6]>>,
    /// The int8 input tensor per window (the band's own conversion, done on the host).
    pub int8: Vec<Vec<i8>>,
    /// Host int8 reference (harbor-core interpreter): logits and class.
    pub host_logits: Vec<Vec<i8>>,
    /// Host int8 reference class per window.
    pub host_class: Vec<usize>,
    /// The float model's class (empty when the model has no float reference).
    pub float_class: Vec<usize>,
    /// Windows of activities outside the model's classes, by activity (not replayed).
    pub left_out: BTreeMap<String, usize>,
    /// Windows that were available before `max_windows` thinned them.
    pub available: usize,
    /// Replayed subjects the model trained or validated on (empty: a held-out slice).
    pub seen_in_training: Vec<String>,
}

impl ReplayWindows {
    /// Number of windows.
    pub fn len(&self) -> usize {
        self.truth.len()
    }

    /// Whether there are no windows.
    pub fn is_empty(&self) -> bool {
        self.truth.is_empty()
    }

    /// What the device's answers are scored against (the metrics' view of these windows).
    pub fn scored(&self) -> ScoredWindows<'_> {
        ScoredWindows {
            truth: &self.truth,
            host_logits: &self.host_logits,
            host_class: &self.host_class,
            float_class: &self.float_class,
            available: self.available,
            left_out: &self.left_out,
            seen_in_training: &self.seen_in_training,
        }
    }

    /// Loads the dataset slice, prepares it at the board's IMU rate and the model's windows,
    /// and computes the host references.
    pub fn build(
        model: &ModelBundle,
        dataset: &DatasetEntry,
        board: &BoardProfile,
        recordings: &RecordingCache,
    ) -> Result<Self, WorkloadError> {
        let Some((kind, root)) = dataset.recordings() else {
            return Self::from_user_windows(model, dataset);
        };
        let options = load_options(model, dataset)?;
        let loaded = recordings.load(kind, root, &options)?;
        if loaded.recordings.is_empty() {
            return Err(WorkloadError::Prepare {
                dataset: dataset.name.clone(),
                message: format!(
                    "no recordings under {} for the selected subjects",
                    root.display()
                ),
            });
        }
        let prepared = prepare(
            &loaded.recordings,
            board,
            &model.window_spec(),
            &ResampleConfig::default(),
            &NoProgress,
        )
        .map_err(|e| WorkloadError::Prepare {
            dataset: dataset.name.clone(),
            message: e.to_string(),
        })?;
        let windows = &prepared.windows;

        let mut out = ReplayWindows::default();
        let mut kept = Vec::new();
        for i in 0..windows.len() {
            let activity = windows.info[i].activity.name().to_string();
            match model.classes.class_of(&activity) {
                Some(class) => kept.push((i, class)),
                None => *out.left_out.entry(activity).or_default() += 1,
            }
        }
        out.available = kept.len();
        let chosen: Vec<(usize, usize)> = match dataset.max_windows {
            // Evenly spread over the dataset's (subject, session, time) order: every subject
            // and activity is represented, and the choice never depends on anything else.
            Some(max) if max < kept.len() => (0..max).map(|k| kept[k * kept.len() / max]).collect(),
            _ => kept,
        };
        let mut filled = Self::from_chosen(model, dataset, windows, &chosen)?;
        filled.left_out = out.left_out;
        filled.available = out.available;
        Ok(filled)
    }

    /// The chosen `(prepared window, class)` pairs with their int8 inputs and references.
    pub fn from_chosen(
        model: &ModelBundle,
        dataset: &DatasetEntry,
        windows: &Windows,
        chosen: &[(usize, usize)],
    ) -> Result<Self, WorkloadError> {
        let mut out = ReplayWindows::default();
        for &(i, class) in chosen {
            let raw = windows.raw(i).to_vec();
            let flat: Vec<f32> = raw.iter().flatten().map(|&v| f32::from(v)).collect();
            out.int8
                .push(model.conversion.quantize_window(&flat, CHANNELS));
            out.float_class.extend(model.float_class(&raw)?);
            out.truth.push(class);
            out.subject.push(windows.source(i).subject.clone());
            out.raw.push(raw);
        }
        let predictions = model
            .host
            .run_quantized(out.int8.iter().map(Vec::as_slice))
            .map_err(|e| WorkloadError::Model {
                path: model.dir.clone(),
                message: e.to_string(),
            })?;
        for p in predictions {
            out.host_class.push(p.class);
            out.host_logits.push(p.quantized);
        }
        if dataset.recordings().map(|(kind, _)| kind)
            == model.card.dataset.name.parse::<DatasetKind>().ok()
        {
            let seen: Vec<&String> = model
                .card
                .dataset
                .train_subjects
                .iter()
                .chain(&model.card.dataset.val_subjects)
                .collect();
            let mut overlap: Vec<String> = out
                .subject
                .iter()
                .filter(|s| seen.contains(s))
                .cloned()
                .collect();
            overlap.sort();
            overlap.dedup();
            out.seen_in_training = overlap;
        }
        Ok(out)
    }
}

impl ReplayWindows {
    /// The user's windows and labels of a `windows` dataset, checked against `model`, and
    /// the classes of the user's own reference outputs when the dataset gives `reference`.
    pub fn read_user_windows(
        model: &ModelBundle,
        dataset: &DatasetEntry,
    ) -> Result<(LabelledWindows, Option<Vec<usize>>), WorkloadError> {
        let DatasetSource::Windows {
            path,
            labels,
            reference,
            ..
        } = &dataset.source
        else {
            return Err(WorkloadError::Prepare {
                dataset: dataset.name.clone(),
                message: "not a `windows` dataset".into(),
            });
        };
        let windows = load_labelled(
            path,
            labels.as_deref(),
            &model.host,
            model.class_names.len(),
        )
        .map_err(|e| WorkloadError::Windows(Box::new(e)))?;
        let reference = reference
            .as_deref()
            .map(|r| reference_classes(r, windows.labels.len(), model.class_names.len()))
            .transpose()
            .map_err(|e| WorkloadError::Windows(Box::new(e)))?;
        Ok((windows, reference))
    }

    /// A `windows` dataset: exactly the user's windows (thinned evenly by `max_windows`),
    /// with the host int8 reference and a float one: the user's `reference` outputs, else
    /// the model's float32 `.tflite` on the windows' real values, else none.
    pub fn from_user_windows(
        model: &ModelBundle,
        dataset: &DatasetEntry,
    ) -> Result<Self, WorkloadError> {
        let (all, reference) = Self::read_user_windows(model, dataset)?;
        let n = all.labels.len();
        let chosen: Vec<usize> = match dataset.max_windows {
            Some(max) if max < n => (0..max).map(|k| k * n / max).collect(),
            _ => (0..n).collect(),
        };
        let mut out = ReplayWindows {
            available: n,
            ..ReplayWindows::default()
        };
        for &i in &chosen {
            out.int8.push(all.int8[i].clone());
            out.truth.push(all.labels[i]);
            out.subject.push(String::new());
        }
        out.float_class = match reference {
            Some(classes) => chosen.iter().map(|&i| classes[i]).collect(),
            None => {
                let real: Vec<&[f32]> = chosen.iter().map(|&i| all.real[i].as_slice()).collect();
                model.float_classes_of_inputs(&real)?
            }
        };
        let predictions = model
            .host
            .run_quantized(out.int8.iter().map(Vec::as_slice))
            .map_err(|e| WorkloadError::Model {
                path: model.dir.clone(),
                message: e.to_string(),
            })?;
        for p in predictions {
            out.host_class.push(p.class);
            out.host_logits.push(p.quantized);
        }
        Ok(out)
    }
}

/// Which subjects to load: the card's test, validation or training subjects for `model_*`.
pub(super) fn load_options(
    model: &ModelBundle,
    dataset: &DatasetEntry,
) -> Result<LoadOptions, WorkloadError> {
    let card = &model.card.dataset;
    let (subjects, part) = match &dataset.subjects {
        Subjects::All => return Ok(LoadOptions::default()),
        Subjects::ModelTest => (&card.test_subjects, "test_subjects"),
        Subjects::ModelVal => (&card.val_subjects, "val_subjects"),
        Subjects::ModelTrain => (&card.train_subjects, "train_subjects"),
        Subjects::List(list) => (list, ""),
    };
    // An empty list means "every subject" to the loader: never let a selection mean that.
    if subjects.is_empty() {
        return Err(WorkloadError::Prepare {
            dataset: dataset.name.clone(),
            message: if part.is_empty() {
                "`subjects: {list: []}` selects no subject".to_string()
            } else {
                format!("model {}'s card lists no {part}", model.name)
            },
        });
    }
    Ok(LoadOptions {
        subjects: subjects.clone(),
        ..LoadOptions::default()
    })
}

/// Loads what `dataset` selects for `model` (through `recordings`, so the replay reuses it)
/// and checks it the way the replay would: every line of the selected files parses, and every
/// selected subject has recordings (the loader reads only the selected subjects and would
/// drop an unknown one silently).
pub fn check_subjects(
    model: &ModelBundle,
    dataset: &DatasetEntry,
    recordings: &RecordingCache,
) -> Result<(), WorkloadError> {
    let Some((kind, root)) = dataset.recordings() else {
        return Ok(());
    };
    let options = load_options(model, dataset)?;
    let loaded = recordings.load(kind, root, &options)?;
    let missing: Vec<&str> = options
        .subjects
        .iter()
        .filter(|s| !loaded.recordings.iter().any(|r| &r.subject == *s))
        .map(String::as_str)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(WorkloadError::Prepare {
        dataset: dataset.name.clone(),
        message: format!(
            "no recordings of subject{} {} under {} (`harbor datasets inspect {} {}` lists its subjects)",
            if missing.len() == 1 { "" } else { "s" },
            missing.join(", "),
            root.display(),
            kind.name(),
            root.display()
        ),
    })
}

/// The subject ids `dataset` selects for `model` (empty: all, or a selection that is an error).
pub fn selected_subjects(model: &ModelBundle, dataset: &DatasetEntry) -> Vec<String> {
    load_options(model, dataset)
        .map(|o| o.subjects)
        .unwrap_or_default()
}
