//! The OTA section of each report file: a table of cases (expected, got, link figures) in
//! `report.md` and `report.html`, and a testsuite with a testcase per case in
//! `report.junit.xml`. The writers call these for a report with [`super::Report::ota`].

use std::fmt::Write;

use super::html::{esc, table, td, td_num, td_result};
use super::junit::{escape_xml, escape_xml_text};
use super::markdown::markdown_table;
use crate::ota::{CaseResult, INFRASTRUCTURE_ERROR, OtaResults};

/// The result column of a case the harness could not finish.
const ERROR: &str = "ERROR";

fn radio_name(ota: &OtaResults) -> String {
    format!("{:?}", ota.radio).to_lowercase()
}

fn passed_count(ota: &OtaResults) -> usize {
    ota.cases.iter().filter(|c| c.passed).count()
}

fn error_count(ota: &OtaResults) -> usize {
    ota.infrastructure_errors().count()
}

/// `, K could not run (infrastructure error)` when the harness failed cases.
fn errors_clause(ota: &OtaResults) -> String {
    match error_count(ota) {
        0 => String::new(),
        n => format!(", {n} could not finish (infrastructure error)"),
    }
}

/// One line per case the harness failed: `` `case`: infrastructure error (kind): message ``.
fn infrastructure_lines(ota: &OtaResults) -> Vec<(String, String)> {
    ota.infrastructure_errors()
        .filter_map(|c| {
            c.infrastructure_error
                .as_ref()
                .map(|e| (c.name.clone(), e.message.clone()))
        })
        .collect()
}

fn energy(e: Option<f64>) -> String {
    e.map_or("–".into(), |e| format!("{e:.1}"))
}

/// One row per device of every case.
fn rows(ota: &OtaResults) -> Vec<[String; 10]> {
    let mut rows = Vec::new();
    for c in &ota.cases {
        if let Some(e) = &c.infrastructure_error {
            let none = || "–".to_string();
            rows.push([
                c.name.clone(),
                none(),
                c.expected.clone(),
                format!("{INFRASTRUCTURE_ERROR} ({})", e.kind),
                ERROR.to_string(),
                none(),
                none(),
                none(),
                none(),
                none(),
            ]);
            continue;
        }
        for d in &c.devices {
            rows.push([
                c.name.clone(),
                d.device.clone(),
                c.expected.clone(),
                d.outcome.clone(),
                if c.passed { "pass" } else { "FAIL" }.to_string(),
                d.link.bytes_down.to_string(),
                format!("{:.3}", d.link.duration_s),
                format!("{:.3}", d.link.radio_on_s),
                energy(d.radio_energy_mj),
                d.resumes.to_string(),
            ]);
        }
    }
    rows
}

const HEADER: [&str; 10] = [
    "case",
    "device",
    "expected",
    "got",
    "result",
    "bytes down",
    "duration s",
    "radio on s",
    "radio energy mJ",
    "resumes",
];

/// Personalization and power-cut sweep figures, one sentence per case that has them.
fn notes(ota: &OtaResults) -> Vec<String> {
    let mut notes = Vec::new();
    for c in &ota.cases {
        if let Some(a) = &c.accuracy {
            notes.push(format!(
                "Personalization `{}`: on-device accuracy for user {} on {} of their windows \
                 (not uploaded): {:.3} before, {} after the update ({} windows per class uploaded).",
                c.name,
                a.user,
                a.test_windows,
                a.before,
                a.after.map_or("–".into(), |v| format!("{v:.3}")),
                a.shots_per_class
            ));
        }
        if let Some(tried) = c.cut_points_tried {
            notes.push(format!(
                "Power-cut sweep `{}`: {tried} cut points tried, {} unbootable.",
                c.name,
                c.unbootable.unwrap_or(0)
            ));
        }
    }
    notes
}

/// The `## OTA cases` section of `report.md`.
pub fn markdown(ota: &OtaResults) -> String {
    let mut md = format!(
        "## OTA cases: {} of {} ended as expected{}\n\nRadio: {}. Verdicts: {}.\n\n",
        passed_count(ota),
        ota.cases.len(),
        errors_clause(ota),
        radio_name(ota),
        ota.verified_by
    );
    let mut table = vec![HEADER.map(String::from).to_vec()];
    table.extend(rows(ota).into_iter().map(|mut r| {
        if r[4] == "FAIL" || r[4] == ERROR {
            r[4] = format!("**{}**", r[4]);
        }
        r.to_vec()
    }));
    let _ = writeln!(md, "{}", markdown_table(table));
    for note in notes(ota) {
        let _ = write!(md, "\n{note}\n");
    }
    for c in &ota.cases {
        for why in &c.unbootable_after {
            let _ = writeln!(md, "- `{}`: unbootable after {why}", c.name);
        }
    }
    for (case, message) in infrastructure_lines(ota) {
        let _ = writeln!(md, "- `{case}`: infrastructure error: {message}");
    }
    md
}

/// Why a case failed: expected, and what each device that differed got.
fn failure(c: &CaseResult) -> String {
    let got: Vec<String> = c
        .devices
        .iter()
        .filter(|d| d.outcome != c.expected)
        .map(|d| format!("{}: {}", d.device, d.outcome))
        .collect();
    let mut message = if got.is_empty() {
        // Every device got it; something else failed (a personalization that did not help).
        format!(
            "expected {}, got it, but the case's figures fall short",
            c.expected
        )
    } else {
        format!("expected {}, got {}", c.expected, got.join("; "))
    };
    if !c.unbootable_after.is_empty() {
        let _ = write!(
            message,
            " (unbootable after {})",
            c.unbootable_after.join("; ")
        );
    }
    message
}

/// The `report.junit.xml` testsuite of the OTA cases of `scenario`, with its test, failure
/// and error counts (a case the harness could not finish is an error, not a failure).
pub fn junit_suite(scenario: &str, ota: &OtaResults) -> (String, usize, usize, usize) {
    let suite = escape_xml(scenario);
    let tests = ota.cases.len();
    let errors = error_count(ota);
    let failures = tests - passed_count(ota) - errors;
    let mut xml = format!(
        "  <testsuite name=\"ota: {suite}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"0\">\n"
    );
    for c in &ota.cases {
        let open = format!(
            r#"    <testcase name="{}" classname="ota.{suite}""#,
            escape_xml(&c.name)
        );
        if let Some(e) = &c.infrastructure_error {
            let _ = writeln!(
                xml,
                "{open}>\n      <error type=\"infrastructure\" message=\"{}\">{}</error>\n    </testcase>",
                escape_xml(&format!("{}: {}", e.kind, e.message)),
                escape_xml_text(&e.message)
            );
        } else if c.passed {
            let _ = writeln!(xml, "{open}/>");
        } else {
            let message = failure(c);
            let _ = writeln!(
                xml,
                "{open}>\n      <failure type=\"unexpected-outcome\" message=\"{}\">{}</failure>\n    </testcase>",
                escape_xml(&message),
                escape_xml_text(&message)
            );
        }
    }
    xml.push_str("  </testsuite>\n");
    (xml, tests, failures, errors)
}

/// The OTA section of `report.html`.
pub fn html(ota: &OtaResults) -> String {
    let passed = passed_count(ota);
    let mut html = format!(
        "<h2>OTA cases</h2>\n<p>Radio {}; verdicts: {}. <span id=\"ota-verdict\" class=\"{}\">{passed} of {} cases ended as expected{}</span>.</p>\n",
        esc(&radio_name(ota)),
        esc(&ota.verified_by),
        if passed == ota.cases.len() {
            "pass"
        } else {
            "fail"
        },
        ota.cases.len(),
        esc(&errors_clause(ota))
    );
    let body: Vec<Vec<String>> = rows(ota)
        .into_iter()
        .map(|r| {
            let ok = r[4] == "pass";
            let [case, device, expected, got, result, rest @ ..] = r;
            let mut row = vec![
                td(&case),
                td(&device),
                td(&expected),
                td(&got),
                td_result(ok, &result, &result),
            ];
            row.extend(rest.iter().map(|v| td_num(v)));
            row
        })
        .collect();
    html += &table("ota", &HEADER, &body);
    for note in notes(ota) {
        let _ = writeln!(html, "<p>{}</p>", esc(&note));
    }
    let unbootable: Vec<String> = ota
        .cases
        .iter()
        .flat_map(|c| {
            c.unbootable_after.iter().map(move |why| {
                format!(
                    "<li><code>{}</code>: unbootable after {}</li>",
                    esc(&c.name),
                    esc(why)
                )
            })
        })
        .collect();
    let errors: Vec<String> = infrastructure_lines(ota)
        .iter()
        .map(|(case, message)| {
            format!(
                "<li><code>{}</code>: infrastructure error: {}</li>",
                esc(case),
                esc(message)
            )
        })
        .collect();
    if !errors.is_empty() {
        let _ = writeln!(
            html,
            "<ul id=\"ota-infrastructure-errors\">\n{}\n</ul>",
            errors.join("\n")
        );
    }
    if !unbootable.is_empty() {
        let _ = writeln!(
            html,
            "<ul id=\"ota-unbootable\">\n{}\n</ul>",
            unbootable.join("\n")
        );
    }
    html
}
