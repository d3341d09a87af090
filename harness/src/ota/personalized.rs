//! The OTA happy path with a personalized release: one held-out user's labelled windows
//! (`shots_per_class` of every class) go to the cloud's personalization job, and the rest of
//! that user's windows are replayed on the band (tensor mode) before and after the update.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::board::BoardProfile;
use crate::cloud::{HttpClient, LabelledWindow, ReleaseInfo, samples};
use crate::dut::{Dut, Target};

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersonalizeSpec {
    /// A WISDM 2019 watch user held out of the base model's training (its card says which).
    pub user: String,
    #[serde(default = "fifteen")]
    pub shots_per_class: usize,
    /// At most this many of the user's other windows are replayed (evenly spaced).
    #[serde(default = "default_test_windows")]
    pub test_windows: usize,
}

fn fifteen() -> usize {
    15
}
fn default_test_windows() -> usize {
    120
}

/// On-device accuracy on the user's held-out windows, measured on the band.
#[derive(Clone, Debug, Serialize)]
pub struct AccuracyGain {
    pub user: String,
    pub shots_per_class: usize,
    pub test_windows: usize,
    pub before: f64,
    pub after: f64,
}

/// The user's upload (shots) and test windows, as the band's int8 input.
pub struct UserWindows {
    pub uploads: Vec<LabelledWindow>,
    pub test: Vec<(Vec<i8>, usize)>,
}

#[cfg(feature = "train")]
pub fn user_windows(
    spec: &PersonalizeSpec,
    board: &BoardProfile,
    model_dir: &Path,
    classes: usize,
) -> Result<UserWindows, String> {
    use crate::datasets::DatasetKind;
    use crate::signal::WindowSpec;
    use crate::model::ClassSet;
    use crate::model::input::InputQuant;
    use crate::train::personalize::split_shots;
    use crate::model::Trained;
    use crate::model::source::load_windows;

    let root = crate::datasets::data_root().join("wisdm2019");
    if !root.is_dir() {
        return Err(format!(
            "{} is missing: unpack the WISDM 2019 dataset there",
            root.display()
        ));
    }
    // Non-overlapping windows: test windows share no samples with the uploads.
    let window_spec = WindowSpec {
        overlap: 0.0,
        ..WindowSpec::default()
    };
    let parted = load_windows(
        DatasetKind::Wisdm2019Watch,
        &root,
        board,
        vec![spec.user.clone()],
        None,
        &window_spec,
        &ClassSet::wisdm_band(),
        &crate::datasets::NoProgress,
    )
    .map_err(|e| format!("user {}: {e}", spec.user))?;
    let user = parted.part("all");
    let split = split_shots(&user, classes, spec.shots_per_class);
    let (shots, rest) = (user.select(&split.shots), user.select(&split.rest));
    if rest.is_empty() {
        return Err(format!(
            "user {} has no windows beyond the uploads",
            spec.user
        ));
    }
    let uploads = (0..shots.len())
        .map(|i| LabelledWindow {
            class: shots.y[i],
            samples: shots.get(i).iter().map(|&v| v as i16).collect(),
        })
        .collect();
    // The band's input conversion; the personalized model keeps it.
    let base = Trained::load(model_dir).map_err(|e| format!("{}: {e}", model_dir.display()))?;
    let conv = InputQuant::new(
        &base.norm,
        base.quant.input.scale,
        base.quant.input.zero_point,
    );
    let n = spec.test_windows.clamp(1, rest.len());
    let test = (0..n)
        .map(|k| k * rest.len() / n)
        .map(|i| (conv.quantize_window(rest.get(i), rest.channels), rest.y[i]))
        .collect();
    Ok(UserWindows { uploads, test })
}

#[cfg(not(feature = "train"))]
pub fn user_windows(
    _: &PersonalizeSpec,
    _: &BoardProfile,
    _: &Path,
    _: usize,
) -> Result<UserWindows, String> {
    Err("this harbor was built without the `train` feature: no personalization".into())
}

/// Uploads the windows as the dashboard does and runs the cloud's personalization job.
pub async fn personalize(
    client: &HttpClient,
    device: &str,
    contract: &crate::cloud::InputContract,
    uploads: &[LabelledWindow],
) -> Result<ReleaseInfo, String> {
    let r = client
        .post(
            &format!("/api/v0/devices/{device}/samples"),
            samples::upload_body(contract, uploads),
        )
        .await
        .map_err(|e| format!("upload: {e}"))?;
    if r.status != 201 {
        return Err(format!(
            "upload: {} {}",
            r.status,
            String::from_utf8_lossy(&r.body)
        ));
    }
    let r = client
        .post(&format!("/api/v0/devices/{device}/personalize"), Vec::new())
        .await
        .map_err(|e| format!("personalize: {e}"))?;
    let status_url = r.json()?["status_url"]
        .as_str()
        .ok_or("personalize: no status_url")?
        .to_string();
    loop {
        let r = client
            .get(&status_url, &[])
            .await
            .map_err(|e| format!("job status: {e}"))?;
        let v = r.json()?;
        match v["status"].as_str() {
            Some("running") => tokio::time::sleep(std::time::Duration::from_millis(100)).await,
            Some("succeeded") => {
                return serde_json::from_value(v["release"].clone()).map_err(|e| e.to_string());
            }
            _ => return Err(format!("personalization job: {v}")),
        }
    }
}

/// Fraction of `test` windows whose argmax on the band is the label.
pub async fn band_accuracy(
    target: &mut Dut,
    test: &[(Vec<i8>, usize)],
) -> Result<f64, String> {
    let mut right = 0;
    for (window, label) in test {
        let logits = target
            .infer(window)
            .await
            .map_err(|e| format!("infer: {e}"))?
            .logits;
        let best = logits
            .iter()
            .enumerate()
            .max_by_key(|&(i, &v)| (v, std::cmp::Reverse(i)))
            .map(|(i, _)| i);
        right += usize::from(best == Some(*label));
    }
    Ok(right as f64 / test.len() as f64)
}
