//! report.json reads back into the same report, and checks evaluate against its metrics.

use super::*;
use crate::energy::EnergyEstimate;
use crate::metrics::{InstructionStats, Int8Mismatch};
use crate::replay::{Mode, ShardFailure};
use crate::train::metrics::Confusion;

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
        instructions: Some(InstructionStats {
            min: 983_373,
            median: 988_666,
            max: u64::MAX,
        }),
        est_latency_ms: Some(6.179_162_500_000_001),
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
    for m in METRICS {
        assert!(metric_value(&ok, m).is_some(), "{m}");
    }
    // A partial cell fails the implicit status check; an ok one passes it.
    assert!(!CheckResult::status_ok(&cell).passed);
    ok.status = Status::Ok;
    assert!(CheckResult::status_ok(&ok).passed);
}
