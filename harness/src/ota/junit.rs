//! `ota-report.junit.xml`: one testsuite per OTA scenario, one testcase per case; a case
//! that did not end as expected is a `<failure>` naming expected and got per device. The
//! XML escaping is the run report's (`report::escape_xml`).

use std::fmt::Write;

use crate::ota::scenario::{CaseResult, OtaReport};
use crate::report::escape_xml;

fn failure(c: &CaseResult) -> String {
    let got: Vec<String> = c
        .devices
        .iter()
        .filter(|d| d.outcome != c.expected)
        .map(|d| format!("{}: {}", d.device, d.outcome))
        .collect();
    let mut message = format!("expected {}, got {}", c.expected, got.join("; "));
    if !c.unbootable_after.is_empty() {
        let _ = write!(
            message,
            " (unbootable after {})",
            c.unbootable_after.join("; ")
        );
    }
    message
}

pub fn to_junit(r: &OtaReport) -> String {
    let suite = escape_xml(&r.scenario);
    let failures = r.cases.iter().filter(|c| !c.passed).count();
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        xml,
        r#"<testsuites tests="{n}" failures="{failures}" errors="0" skipped="0">
  <testsuite name="ota: {suite}" tests="{n}" failures="{failures}" errors="0" skipped="0">"#,
        n = r.cases.len()
    );
    for c in &r.cases {
        let open = format!(
            r#"    <testcase name="{}" classname="ota.{suite}""#,
            escape_xml(&c.name)
        );
        if c.passed {
            let _ = writeln!(xml, "{open}/>");
        } else {
            let message = escape_xml(&failure(c));
            let _ = writeln!(
                xml,
                "{open}>\n      <failure type=\"unexpected-outcome\" message=\"{message}\"/>\n    </testcase>"
            );
        }
    }
    xml.push_str("  </testsuite>\n</testsuites>\n");
    xml
}
