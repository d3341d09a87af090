//! `report.md`: the summary table, the threshold checks, per-cell details (failures,
//! mismatches, energy basis) and, after `--baseline`, the deltas. Tables via `tabled`.

use std::fmt::Write;

use tabled::builder::Builder;
use tabled::settings::Style;

use super::diff::{Diff, MetricDelta};
use super::{CellResult, Report};
use crate::metrics::{ACCURACY, format_value};

fn opt<T>(v: Option<T>, f: impl Fn(T) -> String) -> String {
    v.map_or_else(|| "–".to_string(), f)
}

fn pct(v: Option<f64>) -> String {
    opt(v, |v| format!("{:.2} %", 100.0 * v))
}

/// A Markdown table; `|` inside a cell is escaped so it cannot split the row.
pub fn markdown_table(rows: impl IntoIterator<Item = Vec<String>>) -> String {
    let mut builder = Builder::default();
    for row in rows {
        builder.push_record(row.into_iter().map(|c| c.replace('|', "\\|")));
    }
    let mut table = builder.build();
    table.with(Style::markdown());
    table.to_string()
}

/// The summary table's header and one line per result (shared with the CLI's output).
pub fn summary_rows(results: &[CellResult]) -> Vec<[String; 12]> {
    let mut rows = vec![
        [
            "model",
            "dataset",
            "target",
            "mode",
            "status",
            "windows",
            ACCURACY.name,
            "host int8",
            "int8 bit-exact",
            "instr. median",
            "est. latency (instr × CPI)",
            "measured latency",
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
            opt(r.measured_latency_ms, |ms| format!("{ms:.3} ms")),
        ]);
    }
    rows
}

/// Every threshold check of every cell: cell, metric, expected, measured, result, origin.
fn checks_table(results: &[CellResult]) -> Option<String> {
    let mut rows = vec![
        [
            "cell",
            "metric",
            "expected",
            "measured",
            "result",
            "threshold from",
        ]
        .map(String::from)
        .to_vec(),
    ];
    for r in results {
        for c in &r.checks {
            rows.push(vec![
                r.id(),
                c.metric.clone(),
                format!("{} {}", c.op, c.expected),
                opt(c.measured, |m| format_value(&c.metric, m)),
                if c.passed { "pass" } else { "**FAIL**" }.to_string(),
                c.origin.clone(),
            ]);
        }
    }
    (rows.len() > 1).then(|| markdown_table(rows))
}

fn format_delta(m: &MetricDelta) -> String {
    match (m.old, m.delta) {
        (Some(old), Some(d)) => {
            let sign = if d > 0.0 { "+" } else { "" };
            let rel = if old != 0.0 {
                format!(" ({sign}{:.2} %)", 100.0 * d / old.abs())
            } else {
                String::new()
            };
            format!("{sign}{}{rel}", format_value(&m.metric, d))
        }
        _ => "–".to_string(),
    }
}

/// The deltas of a baseline comparison: changed metrics per cell, added and removed cells.
pub fn diff_markdown(diff: &Diff) -> String {
    let mut md = String::new();
    let mut rows = vec![
        [
            "cell",
            "metric",
            "baseline",
            "now",
            "delta",
            "tolerance",
            "result",
        ]
        .map(String::from)
        .to_vec(),
    ];
    let mut unchanged = 0;
    for cell in &diff.cells {
        if cell.old_status != cell.new_status || cell.status_regression {
            rows.push(vec![
                cell.cell.clone(),
                "status".into(),
                format!("{:?}", cell.old_status).to_lowercase(),
                format!("{:?}", cell.new_status).to_lowercase(),
                "–".into(),
                "–".into(),
                if cell.status_regression {
                    "**REGRESSION**"
                } else {
                    "ok"
                }
                .into(),
            ]);
        }
        for m in &cell.metrics {
            if m.old == m.new && !m.regression {
                unchanged += 1;
                continue;
            }
            rows.push(vec![
                cell.cell.clone(),
                m.metric.clone(),
                opt(m.old, |v| format_value(&m.metric, v)),
                opt(m.new, |v| format_value(&m.metric, v)),
                format_delta(m),
                m.tolerance.to_string(),
                if m.regression { "**REGRESSION**" } else { "ok" }.into(),
            ]);
        }
    }
    let _ = writeln!(
        md,
        "Baseline `{}`: {} cell(s) compared, {} regression(s) beyond tolerance, {unchanged} metric value(s) unchanged.\n",
        diff.baseline,
        diff.cells.len(),
        diff.regressions
    );
    if rows.len() > 1 {
        let _ = writeln!(md, "{}\n", markdown_table(rows));
    }
    for (what, ids) in [
        ("added (not in the baseline)", &diff.added),
        ("removed (only in the baseline)", &diff.removed),
    ] {
        if !ids.is_empty() {
            let _ = writeln!(
                md,
                "Cells {what}: {}\n",
                ids.iter()
                    .map(|i| format!("`{i}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }
    md
}

/// `report.md` of `report`, with the baseline comparison if there is one.
pub fn to_markdown(report: &Report, baseline: Option<&Diff>) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "# harbor run: {}\n", report.scenario);
    if let Some(stop) = report.interrupted_by {
        let _ = writeln!(
            md,
            "**Interrupted** by {stop}: these results hold what completed before it.\n"
        );
    }
    if let Some(ota) = &report.ota {
        md += &super::ota::markdown(ota);
        if !report.has_replay() {
            return md;
        }
    }
    let b = &report.board;
    let _ = writeln!(
        md,
        "Board `{}`; latencies are **estimates**: instructions × {} CPI / {} Hz (CPI: {}). \
         {} emulator(s) in parallel, {:.1} s wall.\n",
        b.name,
        opt(b.cycles_per_instruction, |c| c.to_string()),
        opt(b.clock_hz, |c| c.to_string()),
        b.cpi_source.as_deref().unwrap_or("no source"),
        report.jobs,
        report.wall_s
    );
    let rows = summary_rows(&report.results);
    let _ = writeln!(md, "{}", markdown_table(rows.into_iter().map(Vec::from)));
    if let Some(table) = checks_table(&report.results) {
        let failed = report
            .results
            .iter()
            .flat_map(|r| &r.checks)
            .filter(|c| !c.passed)
            .count();
        let total = report.results.iter().map(|r| r.checks.len()).sum::<usize>();
        let _ = writeln!(
            md,
            "\n## Thresholds: {} of {total} checks passed\n\n{table}",
            total - failed
        );
    }
    if let Some(diff) = baseline {
        let _ = write!(md, "\n## Baseline\n\n{}", diff_markdown(diff));
    }
    for r in &report.results {
        cell_details(&mut md, r);
    }
    md
}

fn cell_details(md: &mut String, r: &CellResult) {
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
    if let Some(ms) = r.measured_latency_ms {
        let _ = writeln!(
            md,
            "- measured latency (the device's timer, median): {ms:.3} ms"
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
