//! report.json reads back into the same report, and checks evaluate against its metrics.

use super::*;
use crate::metrics::{
    CellContext, CellOutcome, Confusion, EnergyEstimate, InstructionStats, Int8Mismatch, METRICS,
    ScoredWindows, ShardFailure,
};
use crate::scenario::Mode;

/// A cell with every optional part filled and awkward floats (not exactly representable).
fn full_cell(mode: Mode) -> CellResult {
    let mut confusion = Confusion::new(2);
    confusion.add(0, 0);
    confusion.add(1, 0);
    confusion.add(1, 1);
    CellResult {
        model: "small-int8-generalized".into(),
        target: "qemu-band".into(),
        dataset: "wisdm2019-watch-held-out".into(),
        mode,
        status: Status::Partial,
        windows: 3,
        windows_completed: 2,
        windows_available: 7,
        windows_unscored: 1,
        window_selection: "evenly_spread".into(),
        left_out: [("kicking".to_string(), 4)].into_iter().collect(),
        classes: vec!["walking".into(), "sitting".into()],
        accuracy: Some(2.0 / 3.0),
        macro_f1: Some(0.1 + 0.2),
        confusion: Some(confusion),
        host_int8_accuracy: Some(f64::from_bits(0x3FE5_5555_5555_5556)),
        float_accuracy: Some(1e-300),
        agreement_int8: Some(0.5),
        int8_mismatches: vec![Int8Mismatch {
            window: 1,
            device: vec![-128, 127],
            host: vec![-127, 127],
        }],
        agreement_float: None,
        agreement_outputs: None,
        instructions: Some(InstructionStats {
            min: 983_373,
            median: 988_666,
            max: u64::MAX,
        }),
        est_latency_ms: Some(6.179_162_500_000_001),
        measured_latency_ms: Some(7.25),
        flash_bytes: Some(98_646),
        ram_bytes: None,
        stack_bytes: Some(43_876),
        arena_bytes: Some(1_984),
        energy_uj: Some(469.123_456_789_012_3),
        energy: Some(EnergyEstimate {
            inference_uj: 469.123_456_789_012_3,
            hop_s: 1.5,
            imu_uj_per_hop: 1_000.0 / 7.0,
            sleep_uj_per_hop: 3.3e-7,
            total_uj_per_window: 4_917.000_000_000_1,
            mah_per_day: 23.8,
            supply_v: 3.3,
            active_ma: 23.0,
            active_source: "datasheet".into(),
            light_sleep_ma: 0.13,
            light_sleep_source: "datasheet".into(),
            imu_ma: 0.55,
            imu_source: "datasheet".into(),
        }),
        subjects_seen_in_training: vec!["1600".into()],
        failures: vec![ShardFailure {
            kind: "hang".into(),
            message: "no answer within 10 s".into(),
            during: "inferring".into(),
            window: Some(2),
            windows_lost: 2..3,
        }],
        checks: vec![CheckResult {
            metric: "accuracy".into(),
            op: CompareOp::Ge,
            expected: 0.7,
            measured: Some(2.0 / 3.0),
            passed: false,
            origin: "scenarios/ci.yaml:14:5".into(),
        }],
    }
}

fn full_report() -> Report {
    Report {
        schema_version: SCHEMA_VERSION,
        harbor_version: "0.1.0".into(),
        scenario: "ci".into(),
        scenario_file: "scenarios/ci.yaml".into(),
        board: BoardSummary {
            name: "esp32c3-band".into(),
            clock_hz: Some(160_000_000),
            cycles_per_instruction: Some(1.0),
            cpi_source: None,
        },
        jobs: 2,
        shard: Some(Shard { index: 2, count: 4 }),
        wall_s: 11.3 + 1e-14,
        results: vec![full_cell(Mode::Tensor), full_cell(Mode::Stream)],
        ota: None,
        status: RunStatus::Complete,
        interrupted_by: None,
    }
}

#[test]
fn report_json_reads_back_into_the_same_report_and_the_same_json() {
    let report = full_report();
    let json = serde_json::to_string_pretty(&report).unwrap();
    let back = Report::from_json(&json).unwrap();
    assert_eq!(back, report);
    assert_eq!(serde_json::to_string_pretty(&back).unwrap(), json);
    // Operators are written as their symbols.
    assert!(json.contains(r#""op": ">=""#), "{json}");
}

#[test]
fn cell_ids_name_model_dataset_target_and_mode() {
    assert_eq!(
        full_cell(Mode::Stream).id(),
        "small-int8-generalized/wisdm2019-watch-held-out/qemu-band/stream"
    );
}

#[test]
fn checks_read_the_cell_and_fail_on_unmeasured_metrics() {
    let cell = full_cell(Mode::Tensor);
    let check =
        |metric: &str, op, expected| CheckResult::evaluate(&cell, metric, op, expected, "t".into());
    assert!(check("flash_bytes", CompareOp::Le, 98_646.0).passed);
    assert!(!check("flash_bytes", CompareOp::Lt, 98_646.0).passed);
    assert!(check("agreement_int8", CompareOp::Eq, 0.5).passed);
    assert!(!check("accuracy", CompareOp::Ge, 0.7).passed);
    assert!(check("instructions_median", CompareOp::Gt, 988_665.0).passed);
    assert!(check("int8_mismatches", CompareOp::Eq, 1.0).passed);
    let unmeasured = check("ram_bytes", CompareOp::Le, 1e12);
    assert_eq!((unmeasured.measured, unmeasured.passed), (None, false));
    // Every advertised metric is readable (none silently unknown).
    let mut ok = full_cell(Mode::Tensor);
    ok.ram_bytes = Some(1);
    ok.agreement_float = Some(1.0);
    ok.agreement_outputs = Some(1.0);
    for m in METRICS {
        assert!(m.value(&ok).is_some(), "{}", m.name);
    }
    // A partial cell fails the implicit status check; an ok one passes it.
    assert!(!CheckResult::status_ok(&cell).passed);
    ok.status = Status::Ok;
    assert!(CheckResult::status_ok(&ok).passed);
}

/// A cell computed from three answers: instructions always, measured µs only if given.
fn cell_from_answers(
    target: &str,
    instructions: [u64; 3],
    elapsed_us: [Option<u32>; 3],
) -> CellResult {
    let host_logits = [vec![5, -5], vec![-5, 5], vec![5, -5]];
    let windows = ScoredWindows {
        truth: &[0, 1, 0],
        host_logits: &host_logits,
        host_class: &[0, 1, 0],
        float_class: &[0, 1, 0],
        available: 3,
        left_out: &Default::default(),
        seen_in_training: &[],
    };
    let board = crate::board::BoardProfile::load("esp32c3-band").unwrap();
    let classes = ["walking".to_string(), "sitting".to_string()];
    let outcome = CellOutcome {
        inferences: instructions
            .iter()
            .zip(elapsed_us)
            .zip(&host_logits)
            .map(|((&instructions, elapsed_us), logits)| {
                Some(crate::dut::Inference {
                    predicted: u8::from(logits[1] > logits[0]),
                    logits: logits.clone(),
                    outputs: None,
                    instructions: Some(instructions),
                    elapsed_us,
                    stack_high_water: Some(1024),
                    arena_used: Some(2048),
                })
            })
            .collect(),
        ..Default::default()
    };
    let cx = CellContext {
        model: "small-int8",
        target,
        dataset: "fixture",
        mode: Mode::Tensor,
        classes: &classes,
        windows,
        board: &board,
        elf: None,
        model_bytes: 0,
        hop_s: 1.0,
        float_outputs: None,
    };
    CellResult::new(&cx, &outcome)
}

/// The summary row of `target` in report.md, split into its cells.
fn markdown_summary_row(md: &str, target: &str) -> Vec<String> {
    md.lines()
        .filter(|l| l.starts_with('|'))
        .map(|l| {
            l.split('|')
                .map(|c| c.trim().to_string())
                .collect::<Vec<_>>()
        })
        .find(|cells| cells.get(3).is_some_and(|c| c == target))
        .unwrap_or_else(|| panic!("no summary row for {target} in\n{md}"))
}

#[test]
fn estimated_and_measured_latency_render_in_separate_columns() {
    // Emulator: instructions only. Board-like target: instructions and its timer's µs.
    let emulator = cell_from_answers("qemu-band", [160_000, 170_000, 180_000], [None; 3]);
    let board = cell_from_answers(
        "esp32c3-usb",
        [160_000, 160_000, 160_000],
        [Some(9_000), Some(2_400), Some(2_500)],
    );
    // esp32c3-band: 160 MHz, CPI 1 → the estimate is median instructions / 160 000 ms.
    assert_eq!(emulator.est_latency_ms, Some(170_000.0 / 160_000.0));
    assert_eq!(emulator.measured_latency_ms, None);
    assert_eq!(board.est_latency_ms, Some(1.0));
    assert_eq!(board.measured_latency_ms, Some(2.5));
    let mut report = full_report();
    report.results = vec![emulator, board];

    let md = to_markdown(&report, None);
    let header = markdown_summary_row(&md, "target");
    let est = header
        .iter()
        .position(|h| h == "est. latency (instr × CPI)")
        .unwrap();
    let measured = header.iter().position(|h| h == "measured latency").unwrap();
    let emu_row = markdown_summary_row(&md, "qemu-band");
    assert_eq!(
        (emu_row[est].as_str(), emu_row[measured].as_str()),
        ("~1.062 ms", "–")
    );
    let board_row = markdown_summary_row(&md, "esp32c3-usb");
    assert_eq!(
        (board_row[est].as_str(), board_row[measured].as_str()),
        ("~1.000 ms", "2.500 ms")
    );

    let html = to_html(&report, None).unwrap();
    assert!(
        html.contains("<th>est. latency (instr × CPI)</th><th>measured latency</th>"),
        "{html}"
    );
    assert!(
        html.contains("<td class=\"num\">~1.000 ms</td><td class=\"num\">2.500 ms</td>"),
        "{html}"
    );
    assert!(
        html.contains("<td class=\"num\">~1.062 ms</td><td class=\"num\">–</td>"),
        "{html}"
    );

    let json: serde_json::Value = serde_json::to_value(&report).unwrap();
    assert_eq!(
        json["results"][0]["measured_latency_ms"],
        serde_json::Value::Null
    );
    assert_eq!(json["results"][1]["measured_latency_ms"], 2.5);

    let check = |cell: &CellResult| {
        CheckResult::evaluate(cell, "measured_latency_ms", CompareOp::Le, 3.0, "t".into())
    };
    assert!(check(&report.results[1]).passed);
    assert_eq!(
        check(&report.results[0]).measured,
        None,
        "an emulator has no measured time"
    );
}
