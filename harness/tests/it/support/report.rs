//! A report built in code (no QEMU): two cells, one passing its checks but one, one failed on
//! the device; origins and messages carry characters XML and HTML must escape.

use harbor::metrics::{
    CellResult, CheckResult, CompareOp, Confusion, EnergyEstimate, InstructionStats, ShardFailure,
    Status,
};
use harbor::replay::Mode;
use harbor::report::{BoardSummary, Report, RunStatus, SCHEMA_VERSION};

pub const CLASSES: [&str; 8] = [
    "walking",
    "jogging",
    "stairs",
    "sitting",
    "standing",
    "typing",
    "brushing teeth",
    "eating",
];

pub fn check(
    metric: &str,
    op: CompareOp,
    expected: f64,
    measured: Option<f64>,
    origin: &str,
) -> CheckResult {
    CheckResult {
        metric: metric.into(),
        op,
        expected,
        measured,
        passed: measured.is_some_and(|m| op.holds(m, expected)),
        origin: origin.into(),
    }
}

fn energy() -> EnergyEstimate {
    EnergyEstimate {
        inference_uj: 469.25,
        hop_s: 1.5,
        imu_uj_per_hop: 2722.5,
        sleep_uj_per_hop: 643.5,
        total_uj_per_window: 3835.25,
        mah_per_day: 23.8,
        supply_v: 3.3,
        active_ma: 23.0,
        active_source: "ESP32-C3 datasheet <table 4-4> & \"typical\"".into(),
        light_sleep_ma: 0.13,
        light_sleep_source: "datasheet".into(),
        imu_ma: 0.55,
        imu_source: "LSM6DSO datasheet".into(),
    }
}

pub fn ok_cell() -> CellResult {
    let mut confusion = Confusion::new(CLASSES.len());
    for i in 0..CLASSES.len() {
        for j in 0..CLASSES.len() {
            for _ in 0..(if i == j { 10 + i } else { (i + j) % 3 }) {
                confusion.add(i, j);
            }
        }
    }
    let accuracy = confusion.accuracy();
    let mut cell = CellResult {
        model: "small-int8-generalized".into(),
        target: "qemu-band".into(),
        dataset: "wisdm2019-watch-held-out".into(),
        mode: Mode::Tensor,
        status: Status::Ok,
        windows: 150,
        windows_completed: 150,
        windows_available: 1000,
        windows_unscored: 0,
        window_selection: "evenly_spread".into(),
        left_out: Default::default(),
        classes: CLASSES.iter().map(|c| c.to_string()).collect(),
        accuracy: Some(accuracy),
        macro_f1: Some(0.7125),
        confusion: Some(confusion),
        host_int8_accuracy: Some(accuracy),
        float_accuracy: Some(0.75),
        agreement_int8: Some(1.0),
        int8_mismatches: vec![],
        agreement_float: Some(0.98),
        agreement_outputs: None,
        instructions: Some(InstructionStats {
            min: 983_373,
            median: 988_666,
            max: 1_002_001,
        }),
        est_latency_ms: Some(6.179),
        measured_latency_ms: None,
        flash_bytes: Some(98_646),
        ram_bytes: Some(57_804),
        stack_bytes: Some(3_876),
        arena_bytes: Some(1_984),
        energy_uj: Some(469.25),
        energy: Some(energy()),
        subjects_seen_in_training: vec![],
        failures: vec![],
        checks: vec![],
    };
    cell.checks = vec![
        CheckResult::status_ok(&cell),
        check(
            "accuracy",
            CompareOp::Ge,
            0.9,
            cell.accuracy,
            "scenarios/ci.yaml:14:15 <\"strict\" & 'high'>",
        ),
        check(
            "agreement_int8",
            CompareOp::Eq,
            1.0,
            Some(1.0),
            "scenarios/ci.yaml:15:21",
        ),
        check(
            "flash_bytes",
            CompareOp::Le,
            131072.0,
            Some(98646.0),
            "scenarios/ci.yaml:16:18",
        ),
    ];
    cell
}

pub fn failed_cell() -> CellResult {
    let mut cell = CellResult {
        model: "small-int8-generalized".into(),
        target: "qemu-band".into(),
        dataset: "wisdm2019-watch-held-out".into(),
        mode: Mode::Stream,
        status: Status::Failed,
        windows: 40,
        windows_completed: 0,
        windows_available: 40,
        windows_unscored: 0,
        window_selection: "whole_segments".into(),
        left_out: Default::default(),
        classes: CLASSES.iter().map(|c| c.to_string()).collect(),
        accuracy: None,
        macro_f1: None,
        confusion: None,
        host_int8_accuracy: None,
        float_accuracy: None,
        agreement_int8: None,
        int8_mismatches: vec![],
        agreement_float: None,
        agreement_outputs: None,
        instructions: None,
        est_latency_ms: None,
        measured_latency_ms: None,
        flash_bytes: None,
        ram_bytes: None,
        stack_bytes: None,
        arena_bytes: None,
        energy_uj: None,
        energy: None,
        subjects_seen_in_training: vec![],
        failures: vec![ShardFailure {
            kind: "hang".into(),
            message: "qemu-band: no answer within 10 s (last bytes <A5 07>)".into(),
            during: "inferring".into(),
            window: Some(0),
            windows_lost: 0..40,
        }],
        checks: vec![],
    };
    cell.checks = vec![
        CheckResult::status_ok(&cell),
        check(
            "accuracy",
            CompareOp::Ge,
            0.7,
            None,
            "scenarios/ci.yaml:14:15",
        ),
    ];
    cell
}

pub fn report() -> Report {
    Report {
        schema_version: SCHEMA_VERSION,
        harbor_version: "0.1.0".into(),
        scenario: "sample <&>".into(),
        scenario_file: "scenarios/sample.yaml".into(),
        board: BoardSummary {
            name: "esp32c3-band".into(),
            clock_hz: Some(160_000_000),
            cycles_per_instruction: Some(1.0),
            cpi_source: Some("uncalibrated".into()),
        },
        jobs: 2,
        shard: None,
        wall_s: 12.5,
        results: vec![ok_cell(), failed_cell()],
        ota: None,
        status: RunStatus::Complete,
        interrupted_by: None,
    }
}
