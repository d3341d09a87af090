//! The OTA happy path with a personalized release: one held-out user's labelled windows
//! (`shots_per_class` of every class) go to the cloud's personalization job, and the rest of
//! that user's windows are replayed on the band (tensor mode) before and after the update.

use std::path::{Path, PathBuf};

use crate::board::BoardProfile;
use crate::cloud::client::{ClientError, NotJson};
use crate::cloud::{HttpClient, LabelledWindow, ReleaseInfo, samples};
use crate::dut::{Dut, Target, TargetError};
use crate::scenario::PersonalizeSpec;

/// Why the personalized release could not be prepared or measured.
#[derive(Debug, thiserror::Error)]
pub enum PersonalizeError {
    /// The dataset with the held-out users is not unpacked.
    #[error("{} is missing: unpack the WISDM 2019 dataset there", .0.display())]
    NoDataset(PathBuf),
    /// A user's windows could not be read.
    #[error("user {user}: {source}")]
    Windows {
        /// The user.
        user: String,
        // Boxed: keeps every OTA case error small (clippy::result_large_err).
        /// What went wrong reading them.
        source: Box<crate::model::source::SourceError>,
    },
    /// The user has no windows left to score after the uploads.
    #[error("user {0} has no windows beyond the uploads")]
    NoTestWindows(String),
    /// The base model could not be loaded.
    #[error("base model {}: {source}", path.display())]
    BaseModel {
        /// Its directory.
        path: PathBuf,
        /// Why it could not.
        source: Box<crate::model::ModelDirError>,
    },
    /// Personalization needs training, which this build left out.
    #[error("this harbor was built without the `train` feature: no personalization")]
    NoTrain,
    /// A request to the cloud got no response.
    #[error("{step}: {source}")]
    Http {
        /// What the request was for.
        step: &'static str,
        /// Why there was no response.
        source: ClientError,
    },
    /// The cloud refused a request.
    #[error("{step}: HTTP {status} {body}")]
    Status {
        /// What the request was for.
        step: &'static str,
        /// HTTP status code.
        status: u16,
        /// The answer's body.
        body: String,
    },
    /// An API answer was not JSON.
    #[error(transparent)]
    NotJson(#[from] NotJson),
    /// The personalization job failed.
    #[error("personalization job: {0}")]
    Job(String),
    /// The personalization job was still running at its deadline.
    #[error("personalization job still running after {0:?}")]
    JobTimeout(std::time::Duration),
    /// Inference on the band failed.
    #[error("infer: {0}")]
    Infer(#[from] TargetError),
}

fn http(step: &'static str) -> impl Fn(ClientError) -> PersonalizeError {
    move |source| PersonalizeError::Http { step, source }
}

/// The user's upload (shots) and test windows, as the band's int8 input.
pub struct UserWindows {
    /// Labelled windows the band's owner uploads.
    pub uploads: Vec<LabelledWindow>,
    /// The user's other windows (int8) with their labels.
    pub test: Vec<(Vec<i8>, usize)>,
}

/// `spec.user`'s windows from WISDM 2019: the uploads and the held-out test windows.
#[cfg(feature = "train")]
pub fn user_windows(
    spec: &PersonalizeSpec,
    board: &BoardProfile,
    model_dir: &Path,
    classes: usize,
) -> Result<UserWindows, PersonalizeError> {
    use crate::datasets::DatasetKind;
    use crate::model::ClassSet;
    use crate::model::Trained;
    use crate::model::input::InputQuant;
    use crate::model::source::load_windows;
    use crate::signal::WindowSpec;
    use crate::train::personalize::split_shots;

    let root = crate::datasets::data_root().join("wisdm2019");
    if !root.is_dir() {
        return Err(PersonalizeError::NoDataset(root));
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
    .map_err(|source| PersonalizeError::Windows {
        user: spec.user.clone(),
        source: Box::new(source),
    })?;
    let user = parted.part("all");
    let split = split_shots(&user, classes, spec.shots_per_class);
    let (shots, rest) = (user.select(&split.shots), user.select(&split.rest));
    if rest.is_empty() {
        return Err(PersonalizeError::NoTestWindows(spec.user.clone()));
    }
    let uploads = (0..shots.len())
        .map(|i| LabelledWindow {
            class: shots.y[i],
            samples: shots.get(i).iter().map(|&v| v as i16).collect(),
        })
        .collect();
    // The band's input conversion; the personalized model keeps it.
    let base = Trained::load(model_dir).map_err(|source| PersonalizeError::BaseModel {
        path: model_dir.to_path_buf(),
        source: Box::new(source),
    })?;
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

/// Without the `train` feature there are no windows to personalize on.
#[cfg(not(feature = "train"))]
pub fn user_windows(
    _: &PersonalizeSpec,
    _: &BoardProfile,
    _: &Path,
    _: usize,
) -> Result<UserWindows, PersonalizeError> {
    Err(PersonalizeError::NoTrain)
}

/// Uploads the windows as the dashboard does and runs the cloud's personalization job.
pub async fn personalize(
    client: &HttpClient,
    device: &str,
    contract: &crate::cloud::InputContract,
    uploads: &[LabelledWindow],
) -> Result<ReleaseInfo, PersonalizeError> {
    let r = client
        .post(
            &format!("/api/v0/devices/{device}/samples"),
            samples::upload_body(contract, uploads),
        )
        .await
        .map_err(http("upload"))?;
    if r.status != 201 {
        return Err(PersonalizeError::Status {
            step: "upload",
            status: r.status,
            body: String::from_utf8_lossy(&r.body).into_owned(),
        });
    }
    let r = client
        .post(&format!("/api/v0/devices/{device}/personalize"), Vec::new())
        .await
        .map_err(http("personalize"))?;
    let status_url = r.json()?["status_url"]
        .as_str()
        .ok_or_else(|| PersonalizeError::Job("no status_url".into()))?
        .to_string();
    await_job(client, &status_url, JOB_DEADLINE).await
}

/// How long the cloud's personalization job may run before the case gives up on it (a job
/// takes ~15 s on two cores).
pub const JOB_DEADLINE: std::time::Duration = std::time::Duration::from_secs(600);

/// Polls the job at `status_url` every 100 ms until it ends, for at most `deadline`.
pub async fn await_job(
    client: &HttpClient,
    status_url: &str,
    deadline: std::time::Duration,
) -> Result<ReleaseInfo, PersonalizeError> {
    let started = tokio::time::Instant::now();
    loop {
        let r = client
            .get(status_url, &[])
            .await
            .map_err(http("job status"))?;
        let v = r.json()?;
        match v["status"].as_str() {
            Some("running") if started.elapsed() >= deadline => {
                return Err(PersonalizeError::JobTimeout(deadline));
            }
            Some("running") => tokio::time::sleep(std::time::Duration::from_millis(100)).await,
            Some("succeeded") => {
                return serde_json::from_value(v["release"].clone())
                    .map_err(|e| PersonalizeError::Job(format!("release: {e}")));
            }
            _ => return Err(PersonalizeError::Job(v.to_string())),
        }
    }
}

/// Fraction of `test` windows whose argmax on the band is the label.
pub async fn band_accuracy(
    target: &mut Dut,
    test: &[(Vec<i8>, usize)],
) -> Result<f64, PersonalizeError> {
    let mut right = 0;
    for (window, label) in test {
        let logits = target.infer(window).await?.logits;
        let best = logits
            .iter()
            .enumerate()
            .max_by_key(|&(i, &v)| (v, std::cmp::Reverse(i)))
            .map(|(i, _)| i);
        right += usize::from(best == Some(*label));
    }
    Ok(right as f64 / test.len() as f64)
}
