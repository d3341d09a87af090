//! The BandX personalization study: a generalized model on all but `users` subjects, scored
//! in the generalized setting (GS: later windows of its own training subjects), on each
//! held-out user (PS), and after fine-tuning its head on `shots` windows per class of that
//! user (PM), on the user's other windows. Float, int8 on the host and int8 on the device.

use std::path::Path;

use super::StudyError;
use super::device::{DeviceTarget, score_on_device};
use super::phases::{Phase, PhaseClock};
use super::report::{Published, StudyRow};
use super::score::{Exported, export};
use crate::model::export::to_tflite;
use crate::model::input::Normalization;
use crate::model::quantize::requantize_head;
use crate::model::recipe::{PersonalizeConfig, TrainConfig};
use crate::model::union::DatasetWindows;
use crate::model::windows::WindowSet;
use crate::model::{Arch, ClassSet, Variant};
use crate::rng::chacha_shuffle;
use crate::train::fit::{self, Quiet};
use crate::train::personalize::{personalize, split_shots};

/// Share of each training subject's windows (its last, in time) kept for GS.
pub const GS_FRACTION: f64 = 0.2;
/// Share of the non-held-out subjects that validate (early stopping).
pub const VAL_FRACTION: f64 = 0.1;

/// How the personalization study runs.
#[derive(Clone, Debug)]
pub struct PersonalizeStudy {
    /// Model size.
    pub variant: Variant,
    /// Users held out and personalized.
    pub users: usize,
    /// Training of the generalized model.
    pub train: TrainConfig,
    /// Head fine-tuning (its `shots` per class).
    pub personalize: PersonalizeConfig,
    /// Where the int8 models also run.
    pub device: Option<DeviceTarget>,
}

/// The split as the report states it.
pub fn split_description(users: usize, seed: u64) -> String {
    format!(
        "{users} users held out (seeded, {seed}); of the others {:.0} % of subjects validate, and \
         each training subject's last {:.0} % of windows of each class (after a one-window gap) score GS; \
         held-out users' windows without overlap: shots spread evenly per class, the rest scores PS and PM",
        VAL_FRACTION * 100.0,
        GS_FRACTION * 100.0
    )
}

/// Of each subject's windows of each class, the first train and the last `GS_FRACTION` test
/// (one window dropped in between: with 50 % overlap it shares samples with both). Per class,
/// because a subject's recording walks through the activities one after the other: the last
/// windows of the whole recording would be one activity the training part never saw.
pub fn split_by_time(set: &WindowSet) -> (WindowSet, WindowSet) {
    let (mut train, mut test) = (Vec::new(), Vec::new());
    let classes = set.y.iter().max().map_or(0, |m| m + 1);
    for s in set.subjects() {
        for c in 0..classes {
            let idx: Vec<usize> = (0..set.len())
                .filter(|&i| set.subject[i] == s && set.y[i] == c)
                .collect();
            let n_test = (idx.len() as f64 * GS_FRACTION).round() as usize;
            let cut = idx.len() - n_test;
            train.extend_from_slice(&idx[..cut.saturating_sub(1)]);
            test.extend_from_slice(&idx[cut..]);
        }
    }
    train.sort_unstable();
    test.sort_unstable();
    (set.select(&train), set.select(&test))
}

/// Runs the study on `d` (windows with the training overlap) and `d_users` (the same
/// dataset without overlap, for the held-out users).
pub fn run_personalize(
    d: &DatasetWindows,
    d_users: &DatasetWindows,
    classes: &ClassSet,
    cfg: &PersonalizeStudy,
    out: &Path,
    progress: &dyn Fn(&str),
    clock: &PhaseClock,
) -> Result<Vec<StudyRow>, StudyError> {
    let seed = cfg.train.seed;
    let mut subjects = d.windows.subjects();
    let n_val = ((subjects.len().saturating_sub(cfg.users)) as f64 * VAL_FRACTION)
        .round()
        .max(1.0) as usize;
    if subjects.len() < cfg.users + n_val + 1 || cfg.users == 0 {
        return Err(StudyError::TooFewSubjects {
            dataset: d.kind.name().into(),
            subjects: subjects.len(),
            needed: cfg.users.max(1) + n_val + 1,
        });
    }
    chacha_shuffle(&mut subjects, seed);
    let users: Vec<String> = {
        let mut u = subjects[..cfg.users].to_vec();
        u.sort();
        u
    };
    let val_subjects = &subjects[cfg.users..cfg.users + n_val];
    let train_subjects = &subjects[cfg.users + n_val..];
    let (train_raw, gs_raw) = split_by_time(
        &d.windows
            .filter_subjects(|s| train_subjects.iter().any(|t| t == s)),
    );
    let val_raw = d
        .windows
        .filter_subjects(|s| val_subjects.iter().any(|t| t == s));
    let norm = Normalization::fit(&train_raw);
    let (train, val) = (norm.apply(&train_raw), norm.apply(&val_raw));
    let arch = Arch::new(cfg.variant, train.window, train.channels, classes.len())?;
    progress(&format!(
        "generalized model on {} subjects ({} windows)",
        train_subjects.len(),
        train.len()
    ));
    let (model, _) = clock.time(Phase::Train, || {
        fit::train(&arch, &train, &val, &cfg.train, &Quiet)
    });
    let base = clock.time(Phase::Export, || export(&model, &arch, &train, &norm, seed))?;
    let host = |m: &Exported, raw: &WindowSet| clock.time(Phase::Export, || m.score_host(raw));
    let device = |name: &str, m: &Exported, raw: &WindowSet| -> Result<_, StudyError> {
        match &cfg.device {
            Some(t) => Ok(Some(clock.time(Phase::Device, || {
                score_on_device(
                    out,
                    &out.join("device").join(name),
                    m,
                    classes,
                    d.kind.name(),
                    raw,
                    t,
                )
            })?)),
            None => Ok(None),
        }
    };
    let mut rows = vec![StudyRow {
        group: format!("{} training subjects", train_subjects.len()),
        setting: "GS".into(),
        train_windows: train.len(),
        test_windows: gs_raw.len(),
        host: host(&base, &gs_raw)?,
        device: device("GS", &base, &gs_raw)?,
        ..StudyRow::default()
    }];
    for user in &users {
        let user_raw = d_users.windows.filter_subjects(|s| s == user);
        let user_n = norm.apply(&user_raw);
        let split = split_shots(&user_n, classes.len(), cfg.personalize.shots);
        if split.shots.is_empty() || split.rest.is_empty() {
            return Err(StudyError::NoWindows {
                dataset: user.clone(),
                part: "shot or evaluation".into(),
            });
        }
        let shots = user_n.select(&split.shots);
        let rest_raw = user_raw.select(&split.rest);
        progress(&format!(
            "user {user}: {} shots, {} evaluation windows",
            shots.len(),
            rest_raw.len()
        ));
        let tuned = clock.time(Phase::Train, || {
            personalize(&model, &arch, &shots, &cfg.personalize, &Quiet)
        });
        let net = tuned.to_float_net(&arch);
        // Only the head changes: every other tensor keeps its quantization, as on the band.
        let (quant, tflite) = clock.time(Phase::Export, || {
            let quant = requantize_head(&base.quant, &net, &shots);
            let tflite = to_tflite(&quant, "harbor personalized model");
            (quant, tflite)
        });
        let tflite = tflite.map_err(StudyError::Export)?;
        let pm = Exported {
            net,
            quant,
            tflite,
            norm: norm.clone(),
        };
        let short = user.rsplit(':').next().unwrap_or(user);
        rows.push(StudyRow {
            group: user.clone(),
            setting: "PS".into(),
            train_windows: 0,
            test_windows: rest_raw.len(),
            host: host(&base, &rest_raw)?,
            device: device(&format!("PS-{short}"), &base, &rest_raw)?,
            ..StudyRow::default()
        });
        rows.push(StudyRow {
            group: user.clone(),
            setting: "PM".into(),
            train_windows: shots.len(),
            test_windows: rest_raw.len(),
            host: host(&pm, &rest_raw)?,
            device: device(&format!("PM-{short}"), &pm, &rest_raw)?,
            ..StudyRow::default()
        });
    }
    Ok(rows)
}

/// BandX (Saha et al.): accuracies with 15 windows per class.
pub fn bandx_published() -> Vec<Published> {
    [
        ("BandX, WISDM", "GS", 0.8339),
        ("BandX, WISDM", "PS", 0.7157),
        ("BandX, WISDM", "PM", 0.8029),
        ("BandX, PAMAP2", "PS", 0.6007),
        ("BandX, PAMAP2", "PM", 0.8231),
    ]
    .into_iter()
    .map(|(source, setting, value)| Published {
        source: source.into(),
        setting: setting.into(),
        ratio: None,
        metric: "accuracy".into(),
        value,
    })
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gs_takes_the_last_windows_of_every_class_of_every_subject() {
        let mut set = WindowSet::new(1, 1);
        for subject in ["a", "b"] {
            // One activity after the other, as a recording goes.
            for class in 0..2 {
                for i in 0..10 {
                    set.push(&[i as f32], class, subject);
                }
            }
        }
        let (train, test) = split_by_time(&set);
        assert_eq!(test.len(), 2 * 2 * 2, "20 % of 10, per subject and class");
        assert_eq!(
            train.len(),
            2 * 2 * 7,
            "the window before the cut is dropped"
        );
        assert_eq!(test.class_counts(2), vec![4, 4]);
        assert!(test.x.iter().all(|&v| v >= 8.0) && train.x.iter().all(|&v| v <= 6.0));
    }
}
