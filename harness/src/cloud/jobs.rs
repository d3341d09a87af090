//! The personalization job: fine-tune the base model's last layer on a device's uploaded
//! windows (harbor's own `train::pipeline::personalize_on_shots`), quantize to int8, write
//! the `.tflite`, and publish it as a signed release for that device.

use super::release::ReleaseInfo;
use super::state::{AppState, PublishError};

/// Why a personalization job failed (its text is the job's `error`).
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// The cloud has no base model to fine-tune.
    #[error("the cloud was started without a base model to personalize")]
    NoBaseModel,
    /// Fine-tuning the last layer failed.
    #[error("fine-tuning: {0}")]
    Train(String),
    /// The personalized model could not be published as a release.
    #[error(transparent)]
    Publish(#[from] PublishError),
    /// Personalization needs training, which this build left out.
    #[error("this harbor was built without the `train` feature: no personalization")]
    NoTrain,
}

#[cfg(feature = "train")]
/// Fine-tunes the base model on `device`'s uploads and publishes the result for it.
pub fn personalize(state: &AppState, device: &str) -> Result<ReleaseInfo, JobError> {
    use crate::model::WindowSet;
    use crate::model::input::InputQuant;
    use crate::model::recipe::PersonalizeConfig;
    use crate::train::pipeline::personalize_on_shots;

    let base = state.base.clone().ok_or(JobError::NoBaseModel)?;
    let (windows, version) = {
        let inner = state.lock();
        let windows = inner.samples.get(device).cloned().unwrap_or_default();
        let newest = inner
            .releases
            .iter()
            .filter(|r| r.device == device)
            .map(|r| r.manifest.version)
            .max()
            .unwrap_or(0);
        (windows, newest.max(state.config.factory_version) + 1)
    };
    let c = &state.contract;
    let mut shots = WindowSet::new(c.window, c.channels);
    let mut buf = vec![0f32; c.window * c.channels];
    for w in &windows {
        for (dst, &src) in buf.iter_mut().zip(&w.samples) {
            *dst = f32::from(src);
        }
        shots.push(&buf, w.class, device);
    }
    let cfg = PersonalizeConfig {
        shots: usize::MAX,
        epochs: state.config.personalize_epochs,
        seed: state.config.seed,
        ..PersonalizeConfig::default()
    };
    let tuned = personalize_on_shots(&base, &shots, &cfg, &crate::train::fit::Quiet)
        .map_err(|e| JobError::Train(e.to_string()))?;
    // Self-test window: the first upload, through the band's input conversion.
    let conv = InputQuant::new(
        &tuned.norm,
        tuned.quant.input.scale,
        tuned.quant.input.zero_point,
    );
    let golden = conv.quantize_window(shots.get(0), c.channels);
    Ok(state.publish(device, &tuned.tflite, version, Some(&golden))?)
}

#[cfg(not(feature = "train"))]
/// Without the `train` feature there is no fine-tuning.
pub fn personalize(_state: &AppState, _device: &str) -> Result<ReleaseInfo, JobError> {
    Err(JobError::NoTrain)
}
