//! OTA scenarios and the kind dispatch: the accepted shape, and every error at its line and
//! column.

use std::path::PathBuf;

use super::*;

fn path() -> PathBuf {
    crate::datasets::workspace_root().join("scenarios/test-ota.yaml")
}

const GOOD: &str = "\
kind: ota
name: t
model: ../models/small-int8-generalized
firmware: ../target/firmware/elf/band-qemu.elf
link: {radio: ble, loss: 0.1, seed: 7}
cases:
  - {name: plain, expect: accepted}
  - {name: many, devices: 3, loss: 0.2, fault: {type: corrupt_byte, offset: 10}, expect: hash-mismatch}
  - {name: rollback, self_test_fails: true, expect: rolled_back}
  - {name: sweep, sweep: power_cut, expect: never_bricked}
  - {name: mine, personalize: {user: \"1644\"}, expect: accepted}
";

fn ota(text: &str) -> OtaScenario {
    match Scenario::parse(&path(), text).unwrap() {
        Scenario::Ota(s) => s,
        Scenario::Replay(_) => panic!("parsed as a replay scenario"),
    }
}

fn error_of(text: &str) -> (u64, u64, String) {
    match Scenario::parse(&path(), text).unwrap_err() {
        ScenarioError::At {
            line,
            column,
            reason,
            ..
        } => (line, column, reason),
        other => panic!("expected a positioned error, got {other}"),
    }
}

#[test]
fn a_good_ota_scenario_resolves_paths_defaults_and_case_kinds() {
    let s = ota(GOOD);
    assert_eq!(s.board, "esp32c3-band");
    assert!(s.model.join("model.tflite").is_file());
    assert!(s.image_len > 1000, "{}", s.image_len);
    assert_eq!(s.link.radio, Radio::Ble);
    assert_eq!((s.link.loss, s.link.seed), (0.1, 7));
    assert_eq!(s.cases.len(), 5);
    assert!(matches!(
        s.cases[0].kind,
        CaseKind::Update {
            fault: None,
            devices: 1,
            self_test_fails: false
        }
    ));
    assert_eq!(s.cases[0].current_version, 1);
    assert_eq!(s.cases[0].release_version, 2);
    assert!(matches!(
        &s.cases[1].kind,
        CaseKind::Update {
            fault: Some(FaultSpec::CorruptByte { offset: 10 }),
            devices: 3,
            ..
        }
    ));
    assert_eq!(s.cases[1].loss, Some(0.2));
    assert!(s.cases[2].needs_band());
    assert!(matches!(s.cases[3].kind, CaseKind::PowerCutSweep));
    match &s.cases[4].kind {
        CaseKind::Personalized(p) => {
            assert_eq!(
                (p.user.as_str(), p.shots_per_class, p.test_windows),
                ("1644", 15, 120)
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_kind_is_parsed_not_searched_and_an_unknown_kind_is_positioned() {
    // `kind: ota` in a comment does not make an OTA scenario: the replay schema reads it.
    let replay = "# kind: ota\nname: t\ndatasets: []\n";
    let (_, _, reason) = error_of(replay);
    assert!(reason.contains("missing field `models`"), "{reason}");
    let (line, column, reason) = error_of("name: t\nkind: otaa\n");
    assert_eq!((line, column), (2, 7), "{reason}");
    assert!(reason.contains("unknown scenario kind `otaa`"), "{reason}");
    assert!(reason.contains("replay, ota"), "{reason}");
    // A replay file may say so.
    let (_, _, reason) = error_of("kind: replay\nname: t\ndatasets: []\n");
    assert!(reason.contains("missing field `models`"), "{reason}");
    let (line, _, reason) = error_of("name: t\nmodel: x\ncases: []\nkind: ota\n");
    assert_eq!(line, 2, "{reason}");
    // The model directory is loaded through its integrity check, which reads the card first.
    assert!(
        reason.contains("model directory") && reason.contains("scenarios/x"),
        "{reason}"
    );
}

/// `GOOD` with `from` replaced by `to`; the error's line, column and reason.
fn edited(from: &str, to: &str) -> (u64, u64, String) {
    assert!(GOOD.contains(from), "{from}");
    error_of(&GOOD.replacen(from, to, 1))
}

#[test]
fn numeric_ranges_are_checked_at_their_place() {
    let (line, column, reason) = edited("loss: 0.2", "loss: 1.5");
    assert_eq!((line, column), (8, 36), "{reason}");
    assert!(reason.contains("loss 1.5: must be in [0, 1)"), "{reason}");
    let (line, _, reason) = edited("loss: 0.1", "loss: -0.1");
    assert_eq!(line, 5, "{reason}");
    let (line, column, reason) = edited("devices: 3", "devices: 0");
    assert_eq!((line, column), (8, 27), "{reason}");
    assert!(reason.contains("`devices` must be at least 1"), "{reason}");
    let (line, _, reason) = edited("offset: 10", "offset: 99999999");
    assert_eq!(line, 8, "{reason}");
    assert!(reason.contains("outside the"), "{reason}");
    let (_, _, reason) = edited("{user: \"1644\"}", "{user: \"1644\", test_windows: 0}");
    assert!(reason.contains("at least 1"), "{reason}");
    let (_, _, reason) = edited("radio: ble", "radio: lora");
    assert!(reason.contains("use wifi or ble"), "{reason}");
    // Every fault has a deadline: a stall beyond the radio's request deadline is refused.
    let (line, _, reason) = edited(
        "{type: corrupt_byte, offset: 10}",
        "{type: stall, ms: 100000000}",
    );
    assert_eq!(line, 8, "{reason}");
    assert!(reason.contains("use at most 60000"), "{reason}");
    let stall = GOOD.replacen(
        "{type: corrupt_byte, offset: 10}",
        "{type: stall, ms: 60000}",
        1,
    );
    assert!(Scenario::parse(&path(), &stall).is_ok());
}

#[test]
fn expectations_and_case_shapes_are_checked() {
    let (line, column, reason) = edited("expect: accepted}", "expect: acepted}");
    assert_eq!((line, column), (7, 27), "{reason}");
    assert!(reason.contains("expect `acepted`"), "{reason}");
    let (_, _, reason) = edited("sweep: power_cut", "sweep: brownout");
    assert!(reason.contains("the one sweep is `power_cut`"), "{reason}");
    let (_, _, reason) = edited("sweep: power_cut,", "sweep: power_cut, devices: 2,");
    assert!(
        reason.contains("`devices` does not apply to a power-cut sweep"),
        "{reason}"
    );
    let (_, _, reason) = edited("expect: never_bricked", "expect: accepted");
    assert!(reason.contains("never_bricked"), "{reason}");
    let (_, _, reason) = edited("self_test_fails: true, ", "");
    assert!(reason.contains("self_test_fails"), "{reason}");
    let (line, _, reason) = edited("name: many,", "name: plain,");
    assert_eq!(line, 8, "{reason}");
    assert!(reason.contains("a second case named `plain`"), "{reason}");
    let (line, column, reason) =
        edited("{type: corrupt_byte, offset: 10}", "{type: corrupt_bytes}");
    assert_eq!(line, 8, "{reason}");
    assert!(column > 1, "{reason}");
    let (line, _, reason) = edited("expect: rolled_back}", "expect: rolled_back, retries: 2}");
    assert_eq!(line, 9, "{reason}");
    assert!(reason.contains("retries"), "{reason}");
}

#[test]
fn band_cases_need_firmware_and_inputs_are_checked_separately() {
    let (line, _, reason) = edited("firmware: ../target/firmware/elf/band-qemu.elf\n", "");
    assert_eq!(line, 8, "{reason}");
    assert!(reason.contains("set `firmware:`"), "{reason}");
    let s = ota(&GOOD
        .replace("band-qemu.elf", "no-such.elf")
        .replace("link:", "board: no-such-board\nlink:"));
    let problems: Vec<String> = s.check_inputs().iter().map(ToString::to_string).collect();
    assert!(
        problems
            .iter()
            .any(|p| p.contains(":4:11:") && p.contains("no-such.elf does not exist")),
        "{problems:?}"
    );
    assert!(problems.iter().any(|p| p.contains(":5:8:")), "{problems:?}");
}

#[test]
fn every_known_outcome_is_a_harness_outcome_or_a_band_refusal() {
    for known in [
        "accepted",
        "no_update",
        "incomplete",
        "downgrade",
        "hash-mismatch",
        "size-mismatch",
        "bad-signature",
    ] {
        assert!(is_known_outcome(known), "{known}");
    }
    for unknown in ["none", "unknown", "Accepted", ""] {
        assert!(!is_known_outcome(unknown), "{unknown}");
    }
}
