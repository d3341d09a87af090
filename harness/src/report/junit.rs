//! `report.junit.xml`: a testsuite per matrix cell, a testcase per threshold check.
//!
//! GitLab and Jenkins read the `testsuites`/`testsuite`/`testcase` shape with `tests`,
//! `failures`, `errors` and `skipped` counts. No `time` attributes: the report is
//! deterministic and wall times would make every run differ. A device failure the harness
//! could not run past (emulator or firmware missing) is an `<error>`; anything the device did
//! (hang, trap, garbage, a missed threshold) is a `<failure>`; the split is
//! [`TargetError::INFRASTRUCTURE_KINDS`], the same one `harbor run` exits 3 on.

use std::fmt::Write;

use super::{CellResult, CheckResult, Report};
use crate::dut::TargetError;
use crate::metrics::STATUS_OK;

/// Escapes an XML attribute value (line breaks kept as character references).
pub fn escape_xml(s: &str) -> String {
    escape(s, true)
}

/// Escapes XML character data (line breaks kept as they are).
pub fn escape_xml_text(s: &str) -> String {
    escape(s, false)
}

fn escape(s: &str, attribute: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\n' | '\t' if !attribute => out.push(c),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Keep line breaks of messages inside attributes.
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            // Characters XML 1.0 forbids outright (device garbage can carry them).
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// `measured X, expected <op> Y (origin)`: the line a CI page shows for a failed check.
pub fn failure_message(check: &CheckResult) -> String {
    let measured = check
        .measured
        .map_or_else(|| "not measured".to_string(), |m| format!("measured {m}"));
    format!(
        "{measured}, expected {} {} ({})",
        check.op, check.expected, check.origin
    )
}

enum Outcome {
    Passed,
    Failure {
        kind: &'static str,
        message: String,
        details: String,
    },
    Error {
        message: String,
        details: String,
    },
}

fn device_failures(cell: &CellResult) -> String {
    cell.failures
        .iter()
        .map(|f| {
            let window = f
                .window
                .map(|w| format!(" (window {w})"))
                .unwrap_or_default();
            format!(
                "{} while {}{window}: windows {}..{} without result: {}\n",
                f.kind, f.during, f.windows_lost.start, f.windows_lost.end, f.message
            )
        })
        .collect()
}

fn outcome(cell: &CellResult, check: &CheckResult) -> Outcome {
    if check.passed {
        return Outcome::Passed;
    }
    if check.metric != STATUS_OK.name {
        return Outcome::Failure {
            kind: "threshold",
            message: format!("{}: {}", check.metric, failure_message(check)),
            details: String::new(),
        };
    }
    let status = format!("status {}", status_name(cell));
    // An infrastructure failure anywhere in the cell decides the kind, and is the one named.
    let infrastructure = cell
        .failures
        .iter()
        .find(|f| TargetError::INFRASTRUCTURE_KINDS.contains(&f.kind.as_str()));
    let named = infrastructure
        .or(cell.failures.first())
        .map_or(String::new(), |f| {
            format!(": {} while {}", f.kind, f.during)
        });
    let details = device_failures(cell);
    if infrastructure.is_some() {
        Outcome::Error {
            message: format!("{status}{named}"),
            details,
        }
    } else {
        Outcome::Failure {
            kind: "device",
            message: format!("{status}{named}"),
            details,
        }
    }
}

fn status_name(cell: &CellResult) -> String {
    serde_json::to_value(cell.status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| format!("{:?}", cell.status))
}

/// The checks of a cell, plus a `status_ok` testcase if the scenario evaluation left it out.
fn checks_of(cell: &CellResult) -> Vec<CheckResult> {
    let mut checks = cell.checks.clone();
    if !checks.iter().any(|c| c.metric == STATUS_OK.name) {
        checks.insert(0, CheckResult::status_ok(cell));
    }
    checks
}

/// `report.junit.xml`: one test suite per cell, one test case per check.
pub fn to_junit(report: &Report) -> String {
    let mut suites = String::new();
    let (mut tests, mut failures, mut errors) = (0, 0, 0);
    for cell in &report.results {
        let id = escape_xml(&cell.id());
        let checks = checks_of(cell);
        let outcomes: Vec<Outcome> = checks.iter().map(|c| outcome(cell, c)).collect();
        let f = outcomes
            .iter()
            .filter(|o| matches!(o, Outcome::Failure { .. }))
            .count();
        let e = outcomes
            .iter()
            .filter(|o| matches!(o, Outcome::Error { .. }))
            .count();
        tests += checks.len();
        failures += f;
        errors += e;
        let _ = writeln!(
            suites,
            r#"  <testsuite name="{id}" tests="{}" failures="{f}" errors="{e}" skipped="0">"#,
            checks.len()
        );
        for (check, outcome) in checks.iter().zip(&outcomes) {
            let name = escape_xml(&check.metric);
            let open = format!(r#"    <testcase name="{name}" classname="{id}""#);
            match outcome {
                Outcome::Passed => {
                    let _ = writeln!(suites, "{open}/>");
                }
                Outcome::Failure {
                    kind,
                    message,
                    details,
                } => {
                    let _ = writeln!(
                        suites,
                        "{open}>\n      <failure type=\"{kind}\" message=\"{}\">{}</failure>\n    </testcase>",
                        escape_xml(message),
                        escape_xml_text(&format!("{message}\n{details}")),
                    );
                }
                Outcome::Error { message, details } => {
                    let _ = writeln!(
                        suites,
                        "{open}>\n      <error type=\"infrastructure\" message=\"{}\">{}</error>\n    </testcase>",
                        escape_xml(message),
                        escape_xml_text(&format!("{message}\n{details}")),
                    );
                }
            }
        }
        let _ = writeln!(suites, "  </testsuite>");
    }
    if let Some(ota) = &report.ota {
        let (suite, t, f, e) = super::ota::junit_suite(&report.scenario, ota);
        suites += &suite;
        tests += t;
        failures += f;
        errors += e;
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"harbor {}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"0\">\n{suites}</testsuites>\n",
        escape_xml(&report.scenario)
    )
}
