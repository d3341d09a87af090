//! `report.html`: one self-contained page (inline CSS and SVG, no scripts, no URLs) with the
//! summary, the threshold checks, the baseline deltas and the plots.

use std::fmt::Write;

use super::diff::Diff;
use super::plots::{self, PlotError};
use super::{CellResult, Report};
use crate::metrics::{ACCURACY, format_value};

const STYLE: &str = "
body { font-family: sans-serif; margin: 2em; color: #222; max-width: 1200px; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; }
th { background: #f0f0f0; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.pass { color: #1a7f37; }
.fail { color: #cf222e; font-weight: bold; }
figure { margin: 1.5em 0; }
figcaption { font-size: 0.85em; color: #555; }
.plots { display: flex; flex-wrap: wrap; gap: 1em; }
svg.plot { max-width: 100%; height: auto; }
";

pub(super) fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn opt(v: Option<f64>, f: impl Fn(f64) -> String) -> String {
    v.map_or_else(|| "–".to_string(), f)
}

fn pct(v: Option<f64>) -> String {
    opt(v, |v| format!("{:.2} %", 100.0 * v))
}

fn status_name(cell: &CellResult) -> String {
    format!("{:?}", cell.status).to_lowercase()
}

/// `<table>` with a header row; `cells` are already HTML.
pub(super) fn table(id: &str, header: &[&str], rows: &[Vec<String>]) -> String {
    let mut t = format!("<table id=\"{id}\">\n<thead><tr>");
    for h in header {
        let _ = write!(t, "<th>{}</th>", esc(h));
    }
    t.push_str("</tr></thead>\n<tbody>\n");
    for row in rows {
        t.push_str("<tr>");
        for c in row {
            t.push_str(c);
        }
        t.push_str("</tr>\n");
    }
    t.push_str("</tbody>\n</table>\n");
    t
}

pub(super) fn td(text: &str) -> String {
    format!("<td>{}</td>", esc(text))
}

pub(super) fn td_num(text: &str) -> String {
    format!("<td class=\"num\">{}</td>", esc(text))
}

pub(super) fn td_result(passed: bool, pass: &str, fail: &str) -> String {
    if passed {
        format!("<td class=\"pass\">{pass}</td>")
    } else {
        format!("<td class=\"fail\">{fail}</td>")
    }
}

fn summary(report: &Report) -> String {
    let rows: Vec<Vec<String>> = report
        .results
        .iter()
        .map(|r| {
            vec![
                td(&r.id()),
                td_result(
                    r.status == super::Status::Ok,
                    &status_name(r),
                    &status_name(r),
                ),
                td_num(&format!("{}/{}", r.windows_completed, r.windows)),
                td_num(&pct(r.accuracy)),
                td_num(&pct(r.host_int8_accuracy)),
                td_num(&pct(r.float_accuracy)),
                td_num(&pct(r.agreement_int8)),
                td_num(&r.instructions.map_or("–".into(), |s| s.median.to_string())),
                td_num(&opt(r.est_latency_ms, |v| format!("~{v:.3} ms"))),
                td_num(&opt(r.measured_latency_ms, |v| format!("{v:.3} ms"))),
                td_num(&r.flash_bytes.map_or("–".into(), |v| v.to_string())),
                td_num(&r.ram_bytes.map_or("–".into(), |v| v.to_string())),
                td_num(&opt(r.energy_uj, |v| format!("{v:.1}"))),
            ]
        })
        .collect();
    table(
        "summary",
        &[
            "cell",
            "status",
            "windows",
            ACCURACY.name,
            "host int8",
            "host float",
            "int8 bit-exact",
            "instr. median",
            "est. latency (instr × CPI)",
            "measured latency",
            "flash B",
            "RAM B",
            "energy µJ",
        ],
        &rows,
    )
}

fn thresholds(report: &Report) -> String {
    let rows: Vec<Vec<String>> = report
        .results
        .iter()
        .flat_map(|r| {
            r.checks.iter().map(move |c| {
                vec![
                    td(&r.id()),
                    td(&c.metric),
                    td_num(&format!("{} {}", c.op, c.expected)),
                    td_num(&opt(c.measured, |m| format_value(&c.metric, m))),
                    td_result(c.passed, "pass", "FAIL"),
                    td(&c.origin),
                ]
            })
        })
        .collect();
    if rows.is_empty() {
        return "<p id=\"thresholds\">No thresholds.</p>\n".into();
    }
    table(
        "thresholds",
        &[
            "cell",
            "metric",
            "expected",
            "measured",
            "result",
            "threshold from",
        ],
        &rows,
    )
}

fn baseline(diff: &Diff) -> String {
    let mut rows = Vec::new();
    for cell in &diff.cells {
        if cell.old_status != cell.new_status || cell.status_regression {
            rows.push(vec![
                td(&cell.cell),
                td("status"),
                td(&format!("{:?}", cell.old_status).to_lowercase()),
                td(&format!("{:?}", cell.new_status).to_lowercase()),
                td("–"),
                td("–"),
                td_result(!cell.status_regression, "ok", "REGRESSION"),
            ]);
        }
        for m in cell
            .metrics
            .iter()
            .filter(|m| m.old != m.new || m.regression)
        {
            let value = |v: Option<f64>| v.map_or("–".into(), |v| format_value(&m.metric, v));
            rows.push(vec![
                td(&cell.cell),
                td(&m.metric),
                td_num(&value(m.old)),
                td_num(&value(m.new)),
                td_num(&value(m.delta)),
                td_num(&m.tolerance.to_string()),
                td_result(!m.regression, "ok", "REGRESSION"),
            ]);
        }
    }
    let mut html = format!(
        "<p>Baseline <code>{}</code>: {} cell(s) compared, {} regression(s) beyond tolerance.</p>\n",
        esc(&diff.baseline),
        diff.cells.len(),
        diff.regressions
    );
    if !rows.is_empty() {
        html += &table(
            "baseline",
            &[
                "cell",
                "metric",
                "baseline",
                "now",
                "delta",
                "tolerance",
                "result",
            ],
            &rows,
        );
    }
    for (what, ids) in [("added", &diff.added), ("removed", &diff.removed)] {
        if !ids.is_empty() {
            let list: Vec<String> = ids
                .iter()
                .map(|i| format!("<code>{}</code>", esc(i)))
                .collect();
            let _ = writeln!(html, "<p>Cells {what}: {}</p>", list.join(", "));
        }
    }
    html
}

fn failures(report: &Report) -> String {
    let mut html = String::new();
    for r in &report.results {
        for f in &r.failures {
            let _ = writeln!(
                html,
                "<li><code>{}</code>: <strong>{}</strong> while {}: windows {}..{} without result — {}</li>",
                esc(&r.id()),
                esc(&f.kind),
                esc(&f.during),
                f.windows_lost.start,
                f.windows_lost.end,
                esc(&f.message)
            );
        }
    }
    if html.is_empty() {
        html
    } else {
        format!("<h2>Device failures</h2>\n<ul id=\"failures\">\n{html}</ul>\n")
    }
}

fn figure(svg: String, caption: &str) -> String {
    format!(
        "<figure>\n{svg}\n<figcaption>{}</figcaption>\n</figure>\n",
        esc(caption)
    )
}

/// The confusion plot's element id of result `index` (stable, unlike ids with names in them).
pub fn confusion_id(index: usize) -> String {
    format!("plot-confusion-{index}")
}

/// `report.html` of `report`, with the baseline comparison if there is one.
pub fn to_html(report: &Report, baseline_diff: Option<&Diff>) -> Result<String, PlotError> {
    let cells = &report.results;
    let checks: Vec<_> = cells.iter().flat_map(|r| &r.checks).collect();
    let passed = checks.iter().filter(|c| c.passed).count();
    let b = &report.board;
    let mut html = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>harbor run: {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>harbor run: {}</h1>\n",
        esc(&report.scenario),
        esc(&report.scenario)
    );
    if let Some(stop) = report.interrupted_by {
        let _ = writeln!(
            html,
            "<p id=\"interrupted\" class=\"fail\"><strong>Interrupted</strong> by {stop}: \
             these results hold what completed before it.</p>"
        );
    }
    if let Some(ota) = &report.ota {
        html += &super::ota::html(ota);
        if !report.has_replay() {
            return Ok(html + "</body>\n</html>\n");
        }
    }
    let _ = writeln!(
        html,
        "<p>Board <code>{}</code>; latencies and energy are <strong>estimates</strong> ({} CPI, {} Hz). \
         {} cell(s); <span id=\"verdict\" class=\"{}\">{passed} of {} checks passed</span>.</p>",
        esc(&b.name),
        b.cycles_per_instruction
            .map_or("–".into(), |c| c.to_string()),
        b.clock_hz.map_or("–".into(), |c| c.to_string()),
        cells.len(),
        if passed == checks.len() {
            "pass"
        } else {
            "fail"
        },
        checks.len()
    );
    html += "<h2>Summary</h2>\n";
    html += &summary(report);
    html += "<h2>Thresholds</h2>\n";
    html += &thresholds(report);
    if let Some(diff) = baseline_diff {
        html += "<h2>Baseline</h2>\n";
        html += &baseline(diff);
    }
    html += &failures(report);
    html += "<h2>Plots</h2>\n<div class=\"plots\">\n";
    html += &figure(
        plots::accuracy(cells)?,
        "On-device accuracy next to harbor-core int8 and the float model on the host, same windows.",
    );
    html += &figure(
        plots::instructions(cells)?,
        "Retired instructions per inference (deterministic under QEMU icount).",
    );
    html += &figure(
        plots::footprint(cells)?,
        "Flash: firmware + model; RAM: static data, arena used and stack high-water.",
    );
    html += &figure(
        plots::energy(cells)?,
        "Energy proxy per inference from the board profile's currents.",
    );
    html += "</div>\n<h2>Confusion matrices</h2>\n<div class=\"plots\">\n";
    for (i, r) in cells.iter().enumerate() {
        let title = format!("Confusion: {}", r.id());
        let svg = match &r.confusion {
            Some(c) => plots::confusion(&confusion_id(i), &title, &r.classes, &c.counts)?,
            None => {
                let _ = writeln!(
                    html,
                    "<p>{}: no completed windows, no confusion matrix.</p>",
                    esc(&r.id())
                );
                continue;
            }
        };
        html += &figure(
            svg,
            &format!(
                "{}: rows true class, columns the device's prediction.",
                r.id()
            ),
        );
    }
    html += "</div>\n</body>\n</html>\n";
    Ok(html)
}
