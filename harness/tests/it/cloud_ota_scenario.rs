//! scenarios/ota.yaml end to end against the real mock cloud: every case ends as expected,
//! with bytes, modelled duration, radio-on time and energy per device; a wrong expectation
//! fails the case; `harbor run` runs `kind: ota` scenarios into the shared report files and
//! exits 1 on a failure.

use harbor::ota::{OtaError, run};
use harbor::scenario::{OtaScenario, Scenario};

fn scenario_path() -> std::path::PathBuf {
    harbor::datasets::workspace_root().join("scenarios/ota.yaml")
}

fn load() -> OtaScenario {
    match Scenario::load(&scenario_path()).expect("scenarios/ota.yaml parses") {
        Scenario::Ota(s) => s,
        Scenario::Replay(_) => panic!("scenarios/ota.yaml is not an OTA scenario"),
    }
}

#[tokio::test]
async fn every_ota_case_ends_as_expected_with_link_figures() {
    let mut s = load();
    // The band's checks on the host: the same verdicts, in a fraction of a second. The
    // rollback and the power-cut sweep need a band.
    s.firmware = None;
    assert!(matches!(run(&s).await, Err(OtaError::NeedsBand(_))));
    s.cases.retain(|c| !c.needs_band());
    let report = run(&s).await.expect("runs");
    for c in &report.cases {
        assert!(
            c.passed,
            "{}: expected {}, got {:?}",
            c.name,
            c.expected,
            c.devices.iter().map(|d| &d.outcome).collect::<Vec<_>>()
        );
        for d in &c.devices {
            if d.outcome != "no_update" {
                assert!(
                    d.link.bytes_down > 0 && d.link.duration_s > 0.0 && d.link.radio_on_s > 0.0,
                    "{}: {:?}",
                    c.name,
                    d.link
                );
                assert!(d.radio_energy_mj.is_some_and(|e| e > 0.0));
            }
        }
    }
    let case = |name: &str| report.cases.iter().find(|c| c.name == name).unwrap();
    assert_eq!(case("8 devices at once").devices.len(), 8);
    assert!(case("interrupted download resumes").devices[0].resumes >= 1);
    assert_eq!(
        case("server 503 with Retry-After").faults_hit,
        vec!["unavailable", "unavailable"]
    );
    // Waiting out 2 × 20 s of Retry-After is modelled time with the radio off.
    let waited = &case("server 503 with Retry-After").devices[0].link;
    assert!(waited.duration_s - waited.radio_on_s >= 40.0 - 1e-9);
    assert!(report.passed);
}

// scenarios/ota.yaml has a personalized case, which needs training.
#[cfg(feature = "train")]
#[tokio::test]
async fn on_emulated_bands_every_case_ends_as_the_band_decides() {
    let s = load();
    let elf = s
        .firmware
        .clone()
        .expect("scenarios/ota.yaml names the band firmware");
    assert!(
        elf.is_file(),
        "{} is missing: run scripts/build-firmware",
        elf.display()
    );
    let report = run(&s).await.expect("runs");
    assert!(report.verified_by.contains("emulated band"));
    for c in &report.cases {
        assert!(
            c.passed,
            "{}: expected {}, got {:?}",
            c.name,
            c.expected,
            c.devices.iter().map(|d| &d.outcome).collect::<Vec<_>>()
        );
    }
    let case = |name: &str| report.cases.iter().find(|c| c.name == name).unwrap();
    assert_eq!(
        case("rollback after a failing self-test").devices[0].outcome,
        "rolled_back"
    );
    // A cut before each flash operation of the update (≥ 4) and of the confirm (2).
    let sweep = case("power cut at every flash write");
    println!(
        "power-cut sweep: {:?} cut points, {:?} unbootable",
        sweep.cut_points_tried, sweep.unbootable
    );
    assert!(
        sweep.cut_points_tried.is_some_and(|n| n >= 6),
        "{:?}",
        sweep.cut_points_tried
    );
    assert_eq!(sweep.unbootable, Some(0), "{:?}", sweep.unbootable_after);
    assert!(sweep.devices[0].link.bytes_down > 0);
    // Measured on the band: the personalized release is better for its user.
    let gain = case("happy path")
        .accuracy
        .clone()
        .expect("happy path is personalized");
    println!(
        "on-device accuracy for user {}: {:.3} -> {:?} on {} windows",
        gain.user, gain.before, gain.after, gain.test_windows
    );
    assert_eq!(gain.test_windows, 120);
    assert!(gain.after.is_some_and(|a| a > gain.before), "{gain:?}");
}

#[test]
fn harbor_run_writes_the_shared_reports_and_fails_a_wrong_expectation() {
    let dir = tempfile::tempdir().unwrap();
    let model = harbor::datasets::workspace_root().join("models/small-int8-generalized");
    let yaml = format!(
        "kind: ota\nname: wrong\nmodel: {}\ncases:\n  - {{name: ok, expect: accepted}}\n  - {{name: bad sig accepted?, fault: {{type: bad_signature}}, expect: accepted}}\n",
        model.display()
    );
    let path = dir.path().join("wrong.yaml");
    std::fs::write(&path, yaml).unwrap();
    let out = dir.path().join("out");
    let run = crate::support::cli::command()
        .args([
            "run",
            &path.to_string_lossy(),
            "--out",
            &out.to_string_lossy(),
        ])
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    assert_eq!(run.status.code(), Some(1), "{text}");
    let names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        !names.iter().any(|n| n.starts_with("ota-report")),
        "{names:?}"
    );
    let json = std::fs::read_to_string(out.join("report.json")).unwrap();
    let report = harbor::report::Report::from_json(&json).expect("report.json reads back");
    assert!(report.results.is_empty());
    assert!(!report.passed());
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let cases = &v["ota"]["cases"];
    assert_eq!(cases[0]["passed"], true);
    assert_eq!(cases[1]["passed"], false);
    assert_eq!(cases[1]["expected"], "accepted");
    assert_eq!(cases[1]["got"][0], "bad-signature");
    assert_eq!(cases[1]["devices"][0]["outcome"], "bad-signature");
    assert!(cases[0]["devices"][0]["link"]["bytes_down"].as_u64() > Some(0));
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        md.contains("## OTA cases: 1 of 2 ended as expected"),
        "{md}"
    );
    assert!(
        md.contains("| bad sig accepted? | case1-dev0 | accepted | bad-signature | **FAIL** |"),
        "{md}"
    );
    let junit = std::fs::read_to_string(out.join("report.junit.xml")).unwrap();
    assert_eq!(junit.matches("<testcase ").count(), 2, "{junit}");
    assert!(junit.contains(r#"tests="2" failures="1""#), "{junit}");
    assert!(
        junit.contains(r#"<testcase name="ok" classname="ota.wrong"/>"#),
        "{junit}"
    );
    assert!(
        junit.contains("message=\"expected accepted, got case1-dev0: bad-signature\""),
        "{junit}"
    );
    assert!(junit.contains("name=\"bad sig accepted?\""), "{junit}");
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("<h2>OTA cases</h2>"), "{html}");
    assert!(
        html.contains(r#"<span id="ota-verdict" class="fail">1 of 2 cases"#),
        "{html}"
    );
    assert!(!html.contains("<h2>Summary</h2>"), "{html}");
}
