//! The personalization loop through the real mock cloud: one held-out WISDM 2019 watch
//! user's dashboard uploads 15 labelled windows per class, the cloud fine-tunes the last
//! layer, quantizes to int8 and publishes a signed release; the release verifies with
//! harbor-core and its model beats the generalized one on that user's other windows
//! (host int8, harbor-core's interpreter: what the band runs).

#![cfg(feature = "train")]

use crate::support::cloud::{HW, latest_path, model_dir, start, wait_for_job};
use harbor::board::BoardProfile;
use harbor::cloud::client::unhex;
use harbor::cloud::{LabelledWindow, ReleaseInfo, samples};
use harbor::datasets::DatasetKind;
use harbor::model::Trained;
use harbor::model::input::InputQuant;
use harbor::model::source::load_windows;
use harbor::model::{ClassSet, WindowSet};
use harbor::ota::personalized::{PersonalizeError, await_job};
use harbor::signal::WindowSpec;
use harbor::train::personalize::split_shots;
use harbor_core::ota::manifest::{DeviceProfile, HardwareId, Manifest};

/// Held out of the generalized model's training and validation (see its card).
const USER: &str = "1644";

fn int8_accuracy(model: &[u8], conv: &InputQuant, set: &WindowSet) -> f64 {
    let inputs: Vec<Vec<i8>> = (0..set.len())
        .map(|i| conv.quantize_window(set.get(i), set.channels))
        .collect();
    let outputs = harbor::model::int8::run_all(model, &inputs).expect("harbor-core runs the model");
    let right = outputs
        .iter()
        .zip(&set.y)
        .filter(|(o, y)| harbor::model::confusion::argmax(o) == **y)
        .count();
    right as f64 / set.len() as f64
}

#[tokio::test]
async fn personalized_release_verifies_and_beats_the_generalized_model_for_its_user() {
    let root = harbor::datasets::data_root().join("wisdm2019");
    assert!(
        root.is_dir(),
        "{} is missing: run scripts/fetch-data",
        root.display()
    );
    let board = BoardProfile::load("esp32c3-band").expect("board profile");
    // Non-overlapping windows: evaluation windows share no samples with the shots.
    let spec = WindowSpec {
        overlap: 0.0,
        ..WindowSpec::default()
    };
    let parted = load_windows(
        DatasetKind::Wisdm2019Watch,
        &root,
        &board,
        vec![USER.into()],
        None,
        &spec,
        &ClassSet::wisdm_band(),
        &harbor::datasets::NoProgress,
    )
    .expect("user windows");
    let user = parted.part("all");
    let f = start();
    let contract = f.server.contract().clone();
    let split = split_shots(&user, contract.classes.len(), 15);
    let (shots, rest) = (user.select(&split.shots), user.select(&split.rest));
    assert_eq!(
        shots.len(),
        15 * contract.classes.len(),
        "15 windows of every class"
    );
    assert!(rest.len() > 100, "{} evaluation windows", rest.len());

    // The dashboard uploads the labelled windows as int16 readings.
    let uploads: Vec<LabelledWindow> = (0..shots.len())
        .map(|i| LabelledWindow {
            class: shots.y[i],
            samples: shots.get(i).iter().map(|&v| v as i16).collect(),
        })
        .collect();
    let r = f
        .alice
        .post(
            "/api/v0/devices/band-a/samples",
            samples::upload_body(&contract, &uploads),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let r = f
        .alice
        .post("/api/v0/devices/band-a/personalize", Vec::new())
        .await
        .unwrap();
    assert_eq!(r.status, 202, "{}", String::from_utf8_lossy(&r.body));
    let status_url = r.json().unwrap()["status_url"]
        .as_str()
        .unwrap()
        .to_string();
    // A job still running at its deadline is a named error, not an endless poll.
    let early = await_job(&f.alice, &status_url, std::time::Duration::ZERO).await;
    assert!(
        matches!(early, Err(PersonalizeError::JobTimeout(_))),
        "{early:?}"
    );
    let job_release = wait_for_job(&f.alice, &status_url).await;

    // The band finds it through the release API and downloads the image.
    let r = f.band_a.get(&latest_path("band-a", 1), &[]).await.unwrap();
    assert_eq!(r.status, 200);
    let info: ReleaseInfo = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(info, job_release);
    let image = f.band_a.get(&info.artifact_url, &[]).await.unwrap().body;
    let manifest = Manifest::decode(&unhex(&info.manifest).unwrap()).unwrap();
    let base = Trained::load(&model_dir()).expect("base model");
    let base_image = harbor::cloud::release::build_image(&base.tflite, None).unwrap();
    manifest
        .check_release(
            &f.server.trusted_keys(),
            &DeviceProfile {
                hardware_id: HardwareId::new(HW).unwrap(),
                channels: 6,
                max_window_len: 60,
                active: Some(base_image.1),
            },
            2,
        )
        .expect("signed, compatible with the band's current model, not a downgrade");
    manifest
        .verify_image(&image)
        .expect("image matches the manifest");
    let model = manifest.model(&image).unwrap();
    assert_ne!(model, base.tflite.as_slice(), "the head was fine-tuned");

    // Both models see the band's input conversion (the personalized one keeps it).
    let conv = InputQuant::new(
        &base.norm,
        base.quant.input.scale,
        base.quant.input.zero_point,
    );
    let before = int8_accuracy(&base.tflite, &conv, &rest);
    let after = int8_accuracy(model, &conv, &rest);
    eprintln!(
        "user {USER}: int8 accuracy {before:.3} -> {after:.3} on {} windows",
        rest.len()
    );
    assert!(
        after > before,
        "personalized {after:.3} vs generalized {before:.3}"
    );
}
