//! Scenario parsing: the accepted shape and errors with line and column.

use super::*;

const GOOD: &str = "\
name: t
jobs: 2
datasets:
  - kind: wisdm2019-watch
    root: wisdm2019
    subjects: model_test
    max_windows: 10
models:
  - ../models/small-int8-generalized
targets:
  - name: qemu
    kind: qemu
    firmware: ../target/firmware/elf/band-qemu.elf
modes: [tensor, stream]
";

fn scenario_path() -> PathBuf {
    crate::datasets::workspace_root().join("scenarios/test.yaml")
}

#[test]
fn a_good_scenario_resolves_paths_and_defaults() {
    let s = Scenario::parse(&scenario_path(), GOOD).unwrap();
    assert_eq!(s.jobs, 2);
    assert_eq!(s.board, "esp32c3-band");
    assert_eq!(s.modes, vec![Mode::Tensor, Mode::Stream]);
    assert_eq!(s.datasets[0].subjects, Subjects::ModelTest);
    assert_eq!(s.datasets[0].name, "wisdm2019-watch");
    assert_eq!(s.models[0].name, "small-int8-generalized");
    assert!(s.targets[0].firmware.ends_with("elf/band-qemu.elf"));
}

fn error_of(text: &str) -> (u64, u64, String) {
    match Scenario::parse(&scenario_path(), text).unwrap_err() {
        ScenarioError::At {
            line,
            column,
            reason,
            path,
        } => {
            assert_eq!(path, scenario_path());
            (line, column, reason)
        }
        other => panic!("expected a positioned error, got {other}"),
    }
}

#[test]
fn an_unknown_key_is_reported_at_its_line_and_column() {
    let text = GOOD.replace("    max_windows: 10\n", "    max_window: 10\n");
    let (line, column, reason) = error_of(&text);
    assert_eq!((line, column), (7, 5), "{reason}");
    assert!(reason.contains("max_window"), "{reason}");
}

#[test]
fn an_unknown_mode_and_an_unknown_dataset_kind_are_positioned() {
    let (line, _, reason) = error_of(&GOOD.replace("[tensor, stream]", "[tensor, streem]"));
    assert_eq!(line, 14, "{reason}");
    assert!(reason.contains("streem"), "{reason}");
    let (line, column, reason) = error_of(&GOOD.replace("wisdm2019-watch", "wisdm-watch"));
    assert_eq!((line, column), (4, 11), "{reason}");
    assert!(reason.contains("wisdm-watch"), "{reason}");
}

#[test]
fn zero_jobs_and_a_missing_model_are_errors() {
    let (line, _, reason) = error_of(&GOOD.replace("jobs: 2", "jobs: 0"));
    assert_eq!(line, 2, "{reason}");
    let (line, column, reason) = error_of(&GOOD.replace("small-int8-generalized", "no-such-model"));
    assert_eq!((line, column), (9, 5), "{reason}");
    assert!(reason.contains("no-such-model"), "{reason}");
}

#[test]
fn subjects_are_all_by_default_or_an_explicit_list() {
    let listed = GOOD.replace("subjects: model_test", "subjects: {list: [\"1617\", \"1624\"]}");
    let s = Scenario::parse(&scenario_path(), &listed).unwrap();
    assert_eq!(
        s.datasets[0].subjects,
        Subjects::List(vec!["1617".into(), "1624".into()])
    );
    let default = GOOD.replace("    subjects: model_test\n", "");
    let s = Scenario::parse(&scenario_path(), &default).unwrap();
    assert_eq!(s.datasets[0].subjects, Subjects::All);
    let (line, _, reason) = error_of(&GOOD.replace("subjects: model_test", "subjects: heldout"));
    assert_eq!(line, 6, "{reason}");
    assert!(reason.contains("heldout"), "{reason}");
}
