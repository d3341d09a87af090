//! Scenario parsing: the accepted shape and errors with line and column.

use std::path::PathBuf;

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
    let s = ReplayScenario::parse(&scenario_path(), GOOD).unwrap();
    assert_eq!(s.jobs, 2);
    assert_eq!(s.board, "esp32c3-band");
    assert_eq!(s.modes, vec![Mode::Tensor, Mode::Stream]);
    assert_eq!(s.datasets[0].subjects, Subjects::ModelTest);
    assert_eq!(s.datasets[0].name, "wisdm2019-watch");
    assert_eq!(s.models[0].name, "small-int8-generalized");
    assert!(s.targets[0].firmware.ends_with("elf/band-qemu.elf"));
}

fn error_of(text: &str) -> (u64, u64, String) {
    match ReplayScenario::parse(&scenario_path(), text).unwrap_err() {
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
    let listed = GOOD.replace(
        "subjects: model_test",
        "subjects: {list: [\"1617\", \"1624\"]}",
    );
    let s = ReplayScenario::parse(&scenario_path(), &listed).unwrap();
    assert_eq!(
        s.datasets[0].subjects,
        Subjects::List(vec!["1617".into(), "1624".into()])
    );
    let default = GOOD.replace("    subjects: model_test\n", "");
    let s = ReplayScenario::parse(&scenario_path(), &default).unwrap();
    assert_eq!(s.datasets[0].subjects, Subjects::All);
    let (line, _, reason) = error_of(&GOOD.replace("subjects: model_test", "subjects: heldout"));
    assert_eq!(line, 6, "{reason}");
    assert!(reason.contains("heldout"), "{reason}");
}

/// GOOD with a second model, a second target and thresholds; line numbers matter below.
const MATRIX: &str = "\
name: m
datasets:
  - kind: wisdm2019-watch
    root: wisdm2019
models:
  - ../models/small-int8-generalized
  - ../models/tiny-int8-generalized
targets:
  - name: qemu
    kind: qemu
    firmware: ../target/firmware/elf/band-qemu.elf
  - name: qemu-b
    kind: qemu
    firmware: ../target/firmware/elf/band-qemu.elf
modes: [tensor, stream]
thresholds:
  accuracy: \">= 0.70\"
  flash_bytes: <= 128KiB
  agreement_int8: == 1.0
overrides:
  - match: { model: tiny-int8-generalized, mode: stream }
    thresholds: { accuracy: \">= 0.6\", est_latency_ms: <= 10 }
";

fn ids(s: &ReplayScenario) -> Vec<String> {
    s.cells.iter().map(|c| s.cell_id(c)).collect()
}

#[test]
fn the_matrix_expands_in_model_dataset_target_mode_order() {
    let s = ReplayScenario::parse(&scenario_path(), MATRIX).unwrap();
    assert_eq!(
        ids(&s),
        [
            "small-int8-generalized/wisdm2019-watch/qemu/tensor",
            "small-int8-generalized/wisdm2019-watch/qemu/stream",
            "small-int8-generalized/wisdm2019-watch/qemu-b/tensor",
            "small-int8-generalized/wisdm2019-watch/qemu-b/stream",
            "tiny-int8-generalized/wisdm2019-watch/qemu/tensor",
            "tiny-int8-generalized/wisdm2019-watch/qemu/stream",
            "tiny-int8-generalized/wisdm2019-watch/qemu-b/tensor",
            "tiny-int8-generalized/wisdm2019-watch/qemu-b/stream",
        ]
    );
}

fn thresholds_of(s: &ReplayScenario, id: &str) -> Vec<(String, CompareOpText, f64, String)> {
    let cell = s.cells.iter().find(|c| s.cell_id(c) == id).unwrap();
    cell.thresholds
        .iter()
        .map(|t| {
            let origin = t.origin.rsplit_once("test.yaml:").unwrap().1.to_string();
            (t.metric.clone(), t.op.symbol(), t.expected, origin)
        })
        .collect()
}

type CompareOpText = &'static str;

#[test]
fn overrides_replace_and_add_thresholds_of_the_cells_they_match_only() {
    let s = ReplayScenario::parse(&scenario_path(), MATRIX).unwrap();
    let base = vec![
        ("accuracy".to_string(), ">=", 0.70, "17:3".to_string()),
        (
            "flash_bytes".to_string(),
            "<=",
            131_072.0,
            "18:3".to_string(),
        ),
        ("agreement_int8".to_string(), "==", 1.0, "19:3".to_string()),
    ];
    assert_eq!(
        thresholds_of(&s, "tiny-int8-generalized/wisdm2019-watch/qemu/tensor"),
        base
    );
    assert_eq!(
        thresholds_of(&s, "small-int8-generalized/wisdm2019-watch/qemu-b/stream"),
        base
    );
    let overridden = vec![
        ("accuracy".to_string(), ">=", 0.6, "22:19".to_string()),
        (
            "flash_bytes".to_string(),
            "<=",
            131_072.0,
            "18:3".to_string(),
        ),
        ("agreement_int8".to_string(), "==", 1.0, "19:3".to_string()),
        (
            "est_latency_ms".to_string(),
            "<=",
            10.0,
            "22:39".to_string(),
        ),
    ];
    for target in ["qemu", "qemu-b"] {
        assert_eq!(
            thresholds_of(
                &s,
                &format!("tiny-int8-generalized/wisdm2019-watch/{target}/stream")
            ),
            overridden
        );
    }
}

#[test]
fn exclude_drops_cells_and_later_overrides_win() {
    let text = MATRIX.to_string()
        + "  - match: { model: tiny-int8-generalized }\n    thresholds: { accuracy: \">= 0.5\" }\n"
        + "exclude:\n  - { target: qemu-b }\n";
    let s = ReplayScenario::parse(&scenario_path(), &text).unwrap();
    assert_eq!(s.cells.len(), 4);
    assert!(ids(&s).iter().all(|id| !id.contains("qemu-b")));
    let tiny_stream = thresholds_of(&s, "tiny-int8-generalized/wisdm2019-watch/qemu/stream");
    assert_eq!(tiny_stream[0].2, 0.5, "{tiny_stream:?}");
}

#[test]
fn threshold_errors_point_at_the_metric_or_the_value() {
    let (line, column, reason) =
        error_of(&MATRIX.replace("  accuracy: \">= 0.70\"", "  acuracy: \">= 0.70\""));
    assert_eq!((line, column), (17, 3), "{reason}");
    assert!(reason.contains("unknown metric `acuracy`"), "{reason}");
    let (line, column, reason) = error_of(&MATRIX.replace("<= 128KiB", "<= 128kib"));
    assert_eq!((line, column), (18, 16), "{reason}");
    assert!(reason.contains("unknown size unit `kib`"), "{reason}");
    let (line, column, reason) = error_of(&MATRIX.replace("== 1.0", "= 1.0"));
    assert_eq!((line, column), (19, 19), "{reason}");
    assert!(reason.contains("expected an operator"), "{reason}");
}

#[test]
fn an_override_matching_nothing_or_naming_an_unknown_cell_is_an_error() {
    // Every name exists, but no tiny stream cell is left after excluding stream.
    let text = MATRIX.to_string() + "exclude:\n  - { mode: stream }\n";
    let (line, column, reason) = error_of(&text);
    assert_eq!((line, column), (21, 12), "{reason}");
    assert!(reason.contains("selects no cell"), "{reason}");
    let (line, column, reason) =
        error_of(&MATRIX.replace("model: tiny-int8-generalized", "model: tiny"));
    assert_eq!((line, column), (21, 21), "{reason}");
    assert!(
        reason.contains("no model named `tiny`") && reason.contains("small-int8-generalized"),
        "{reason}"
    );
    let (line, _, reason) = error_of(&MATRIX.replace("mode: stream }", "mod: stream }"));
    assert_eq!(line, 21, "{reason}");
    assert!(reason.contains("mod"), "{reason}");
    let (line, _, reason) = error_of(&MATRIX.replace("modes: [tensor, stream]", "modes: [tensor]"));
    assert_eq!(line, 21, "{reason}");
    assert!(
        reason.contains("not among the scenario's `modes`"),
        "{reason}"
    );
}

#[test]
fn duplicate_names_would_make_cell_ids_ambiguous() {
    let (line, column, reason) = error_of(&MATRIX.replace("name: qemu-b", "name: qemu"));
    assert_eq!((line, column), (12, 11), "{reason}");
    assert!(reason.contains("second target named `qemu`"), "{reason}");
}

#[test]
fn shards_partition_the_matrix_every_cell_exactly_once_in_order() {
    let s = ReplayScenario::parse(&scenario_path(), MATRIX).unwrap();
    let all = ids(&s);
    for count in 1..=10 {
        let mut seen: Vec<String> = Vec::new();
        for index in 1..=count {
            let shard = crate::report::Shard { index, count };
            let cells = s.shard_cells(Some(shard));
            let shard_ids: Vec<String> = cells.iter().map(|c| s.cell_id(c)).collect();
            // Stable: the same shard twice gives the same cells, in matrix order.
            assert_eq!(
                shard_ids,
                s.shard_cells(Some(shard))
                    .iter()
                    .map(|c| s.cell_id(c))
                    .collect::<Vec<_>>()
            );
            let positions: Vec<usize> = shard_ids
                .iter()
                .map(|id| all.iter().position(|a| a == id).unwrap())
                .collect();
            assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
            assert!(positions.iter().all(|p| p % count == index - 1));
            seen.extend(shard_ids);
        }
        seen.sort();
        let mut expected = all.clone();
        expected.sort();
        assert_eq!(seen, expected, "{count} shards");
    }
    assert_eq!(s.shard_cells(None).len(), all.len());
}

#[test]
fn shard_arguments_are_one_based_and_bounded() {
    assert_eq!(
        parse_shard("2/4"),
        Ok(crate::report::Shard { index: 2, count: 4 })
    );
    for bad in ["0/4", "5/4", "2", "a/b", "1/0", "-1/2"] {
        assert!(parse_shard(bad).is_err(), "{bad}");
    }
}

#[test]
fn subjects_may_be_the_cards_validation_or_training_users() {
    for (text, expected) in [
        ("model_val", Subjects::ModelVal),
        ("model_train", Subjects::ModelTrain),
    ] {
        let s = ReplayScenario::parse(&scenario_path(), &GOOD.replace("model_test", text)).unwrap();
        assert_eq!(s.datasets[0].subjects, expected);
    }
}

fn with_target(target: &str) -> String {
    GOOD.replace(
        "  - name: qemu\n    kind: qemu\n    firmware: ../target/firmware/elf/band-qemu.elf\n",
        target,
    )
}

#[test]
fn an_mlperf_target_states_its_link_input_and_outputs() {
    use crate::dut::mlperf::{InputEncoding, InputLayout, MlperfLink, OutputFormat};
    let text = with_target(
        "  - name: vendor\n    kind: mlperf\n    via: serial\n    port: /dev/ttyACM0\n    baud: 9600\n    firmware: fw.elf\n    outputs: float\n    input: uint8\n    layout: channels_first\n    line_chars: 40\n    tolerance: 0.02\n",
    );
    let s = ReplayScenario::parse(&scenario_path(), &text).unwrap();
    let crate::dut::DeviceConfig::Mlperf(config) = &s.targets[0].device else {
        panic!("{:?}", s.targets[0].device)
    };
    let MlperfLink::Serial(serial) = &config.link else {
        panic!("{:?}", config.link)
    };
    assert_eq!((serial.port.as_str(), serial.baud), ("/dev/ttyACM0", 9600));
    assert_eq!(config.format.outputs, OutputFormat::Float);
    assert_eq!(config.format.input, InputEncoding::Uint8);
    assert_eq!(config.format.layout, InputLayout::ChannelsFirst);
    assert_eq!(
        (config.format.line_chars, config.format.tolerance),
        (40, 0.02)
    );
    // QEMU is the default link.
    let text =
        with_target("  - name: band\n    kind: mlperf\n    firmware: fw.elf\n    outputs: int8\n");
    let s = ReplayScenario::parse(&scenario_path(), &text).unwrap();
    assert!(matches!(
        &s.targets[0].device,
        crate::dut::DeviceConfig::Mlperf(c) if matches!(c.link, MlperfLink::Qemu(_))
    ));
}

#[test]
fn mlperf_keys_are_checked_at_their_line_and_column() {
    let target = |extra: &str| {
        with_target(&format!(
            "  - name: band\n    kind: mlperf\n    firmware: fw.elf\n{extra}"
        ))
    };
    // `kind` is on line 12; the keys after `firmware` start on line 14.
    for (extra, at, needle) in [
        ("", (12, 11), "needs `outputs: float` or `outputs: int8`"),
        ("    outputs: fp32\n", (14, 14), "int8, float"),
        (
            "    outputs: int8\n    tolerance: 0.1\n",
            (15, 16),
            "is for `outputs: float`",
        ),
        ("    outputs: float\n    tolerance: -1\n", (15, 16), "≥ 0"),
        (
            "    outputs: int8\n    line_chars: 4\n",
            (15, 17),
            "at least 5",
        ),
        (
            "    outputs: int8\n    input: int16\n",
            (15, 12),
            "int8, uint8",
        ),
        (
            "    outputs: int8\n    layout: nhwc\n",
            (15, 13),
            "samples_first, channels_first",
        ),
        (
            "    outputs: int8\n    via: usb\n",
            (15, 10),
            "expected qemu or serial",
        ),
        (
            "    outputs: int8\n    port: /dev/ttyUSB0\n",
            (15, 11),
            "is for `via: serial`",
        ),
        (
            "    outputs: int8\n    via: serial\n",
            (12, 11),
            "needs `port`",
        ),
    ] {
        let (line, column, reason) = error_of(&target(extra));
        assert!(reason.contains(needle), "{extra:?}: {reason}");
        assert_eq!((line, column), at, "{extra:?}: {reason}");
    }
    // MLPerf keys belong to mlperf targets only.
    let text = GOOD.replace(
        "    firmware: ../target/firmware/elf/band-qemu.elf\n",
        "    firmware: ../target/firmware/elf/band-qemu.elf\n    outputs: int8\n",
    );
    let (_, _, reason) = error_of(&text);
    assert!(
        reason.contains("`outputs` is for `kind: mlperf` targets only"),
        "{reason}"
    );
    let text = GOOD.replace(
        "    firmware: ../target/firmware/elf/band-qemu.elf\n",
        "    firmware: ../target/firmware/elf/band-qemu.elf\n    port: /dev/ttyUSB0\n",
    );
    let (_, _, reason) = error_of(&text);
    assert!(
        reason.contains("`port` is for `kind: serial` and `kind: mlperf` targets only"),
        "{reason}"
    );
}
