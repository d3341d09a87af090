//! `report.md`: the summary table and, per result, failures, mismatches and the energy basis.

use std::fmt::Write;

use super::{CellResult, Report};

fn opt<T>(v: Option<T>, f: impl Fn(T) -> String) -> String {
    v.map_or_else(|| "–".to_string(), f)
}

fn pct(v: Option<f64>) -> String {
    opt(v, |v| format!("{:.2} %", 100.0 * v))
}

/// The summary table's header and one line per result (shared with the CLI's output).
pub fn summary_rows(results: &[CellResult]) -> Vec<[String; 11]> {
    let mut rows = vec![
        [
            "model",
            "dataset",
            "target",
            "mode",
            "status",
            "windows",
            "accuracy",
            "host int8",
            "int8 bit-exact",
            "instr. median",
            "est. latency",
        ]
        .map(String::from),
    ];
    for r in results {
        rows.push([
            r.model.clone(),
            r.dataset.clone(),
            r.target.clone(),
            r.mode.name().to_string(),
            format!("{:?}", r.status).to_lowercase(),
            format!("{}/{}", r.windows_completed, r.windows),
            pct(r.accuracy),
            pct(r.host_int8_accuracy),
            pct(r.agreement_int8),
            opt(r.instructions, |s| s.median.to_string()),
            opt(r.est_latency_ms, |ms| format!("~{ms:.3} ms")),
        ]);
    }
    rows
}

pub fn to_markdown(report: &Report) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "# harbor run: {}\n", report.scenario);
    let b = &report.board;
    let _ = writeln!(
        md,
        "Board `{}`; latencies are **estimates**: instructions × {} CPI ({}) / {} Hz. \
         {} emulator(s) in parallel, {:.1} s wall.\n",
        b.name,
        opt(b.cycles_per_instruction, |c| c.to_string()),
        b.cpi_source.as_deref().unwrap_or("no source"),
        opt(b.clock_hz, |c| c.to_string()),
        report.jobs,
        report.wall_s
    );
    let rows = summary_rows(&report.results);
    for (i, row) in rows.iter().enumerate() {
        let _ = writeln!(md, "| {} |", row.join(" | "));
        if i == 0 {
            let _ = writeln!(md, "|{}", "---|".repeat(row.len()));
        }
    }
    for r in &report.results {
        let _ = writeln!(
            md,
            "\n## {} · {} · {} · {}\n",
            r.model,
            r.dataset,
            r.target,
            r.mode.name()
        );
        let _ = writeln!(
            md,
            "- accuracy {} · macro-F1 {} · host int8 {} · float {} · same class as float {}",
            pct(r.accuracy),
            opt(r.macro_f1, |v| format!("{v:.4}")),
            pct(r.host_int8_accuracy),
            pct(r.float_accuracy),
            pct(r.agreement_float)
        );
        if let Some(s) = r.instructions {
            let _ = writeln!(
                md,
                "- instructions per inference: min {} · median {} · max {} → est. latency ~{} ms",
                s.min,
                s.median,
                s.max,
                opt(r.est_latency_ms, |v| format!("{v:.3}"))
            );
        }
        if let (Some(flash), Some(ram)) = (r.flash_bytes, r.ram_bytes) {
            let _ = writeln!(
                md,
                "- flash {flash} B · RAM {ram} B (stack high-water {} B, arena {} B)",
                opt(r.stack_bytes, |v| v.to_string()),
                opt(r.arena_bytes, |v| v.to_string())
            );
        }
        if let Some(e) = &r.energy {
            let _ = writeln!(
                md,
                "- energy (estimate): {:.2} µJ per inference; per {:.2} s hop: IMU {:.0} µJ + sleep {:.0} µJ → {:.0} µJ per window, {:.2} mAh/day",
                e.inference_uj,
                e.hop_s,
                e.imu_uj_per_hop,
                e.sleep_uj_per_hop,
                e.total_uj_per_window,
                e.mah_per_day
            );
            let _ = writeln!(
                md,
                "  - supply {} V; active {} mA ({}); light sleep {} mA ({}); IMU {} mA ({})",
                e.supply_v,
                e.active_ma,
                e.active_source,
                e.light_sleep_ma,
                e.light_sleep_source,
                e.imu_ma,
                e.imu_source
            );
        }
        if !r.subjects_seen_in_training.is_empty() {
            let _ = writeln!(
                md,
                "- **not a held-out slice**: the model trained on subjects {}",
                r.subjects_seen_in_training.join(", ")
            );
        }
        for m in &r.int8_mismatches {
            let _ = writeln!(
                md,
                "- int8 mismatch, window {}: device {:?} host {:?}",
                m.window, m.device, m.host
            );
        }
        for f in &r.failures {
            let _ = writeln!(
                md,
                "- **{}** while {}{}: windows {}..{} without result — {}",
                f.kind,
                f.during,
                f.window
                    .map(|w| format!(" (window {w})"))
                    .unwrap_or_default(),
                f.windows_lost.start,
                f.windows_lost.end,
                f.message
            );
        }
    }
    md
}
