//! report.junit.xml: a testsuite per cell, a testcase per check, failures that say measured vs
//! expected, escaping that survives hostile text; checked by an independent XML parser.

use std::process::Command;

use harbor::report::{escape_xml, to_junit};

/// Parses `xml` with Python's ElementTree and returns one line per suite/case/failure/error.
fn parse_with_python(xml: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.junit.xml");
    std::fs::write(&path, xml).unwrap();
    let script = r#"
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
print(root.tag, root.get("tests"), root.get("failures"), root.get("errors"), root.get("skipped"))
for s in root:
    print("suite", s.get("name"), s.get("tests"), s.get("failures"), s.get("errors"), s.get("skipped"), s.get("time"))
    for c in s:
        print(" case", c.get("classname"), c.get("name"))
        for f in c:
            print("  ", f.tag, f.get("type"), f.get("message"))
"#;
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(&path)
        .output()
        .expect("python3 runs (scripts/setup)");
    assert!(
        out.status.success(),
        "not well-formed XML: {}\n{xml}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn one_suite_per_cell_one_case_per_check_with_counts() {
    let xml = to_junit(&crate::support::report::report());
    let parsed = parse_with_python(&xml);
    let lines: Vec<&str> = parsed.lines().collect();
    // 4 + 2 checks; failures: accuracy (tensor), status and accuracy (stream).
    assert_eq!(lines[0], "testsuites 6 3 0 0", "{parsed}");
    assert_eq!(
        lines[1],
        "suite small-int8-generalized/wisdm2019-watch-held-out/qemu-band/tensor 4 1 0 0 None",
        "{parsed}"
    );
    assert!(parsed.contains(
        " case small-int8-generalized/wisdm2019-watch-held-out/qemu-band/tensor flash_bytes"
    ));
    // No wall times anywhere: the file is deterministic.
    assert!(!xml.contains("time="), "{xml}");
}

#[test]
fn a_failed_threshold_names_metric_measured_expected_and_origin() {
    let report = crate::support::report::report();
    let tensor_accuracy = report.results[0].accuracy.unwrap();
    let parsed = parse_with_python(&to_junit(&report));
    let expected = format!(
        "   failure threshold accuracy: measured {tensor_accuracy}, expected >= 0.9 (scenarios/ci.yaml:14:15 <\"strict\" & 'high'>)"
    );
    assert!(
        parsed.lines().any(|l| l == expected),
        "{expected}\nnot in\n{parsed}"
    );
    assert!(
        parsed.contains(
            "   failure threshold accuracy: not measured, expected >= 0.7 (scenarios/ci.yaml:14:15)"
        ),
        "{parsed}"
    );
}

#[test]
fn a_failed_cell_is_a_failure_naming_the_device_failure() {
    let parsed = parse_with_python(&to_junit(&crate::support::report::report()));
    assert!(
        parsed.contains("   failure device status failed: hang while inferring"),
        "{parsed}"
    );
}

#[test]
fn a_missing_emulator_is_an_error_not_a_failure() {
    let mut report = crate::support::report::report();
    let cell = &mut report.results[1];
    cell.failures[0].kind = "emulator-missing".into();
    cell.failures[0].during = "launching".into();
    let parsed = parse_with_python(&to_junit(&report));
    assert!(parsed.starts_with("testsuites 6 2 1 0"), "{parsed}");
    assert!(
        parsed.contains("   error infrastructure status failed: emulator-missing while launching"),
        "{parsed}"
    );
}

#[test]
fn escaping_covers_markup_quotes_and_control_characters() {
    assert_eq!(
        escape_xml("a<b>&\"c\"'d'"),
        "a&lt;b&gt;&amp;&quot;c&quot;&apos;d&apos;"
    );
    assert_eq!(escape_xml("line\nnext\ttab"), "line&#10;next&#9;tab");
    // XML 1.0 cannot carry NUL or ESC even escaped: they become visible escapes.
    assert_eq!(escape_xml("\u{0}\u{1b}[0m"), "\\u{0}\\u{1b}[0m");
    // Hostile device text in a message still yields a well-formed file.
    let mut report = crate::support::report::report();
    report.results[1].failures[0].message =
        "garbage \u{0}\u{7}<![CDATA[ ]]> </failure>&amp;".into();
    report.results[1].model = "m<&>\"'".into();
    let parsed = parse_with_python(&to_junit(&report));
    assert!(
        parsed.contains("suite m<&>\"'/wisdm2019-watch-held-out/qemu-band/stream"),
        "{parsed}"
    );
}

/// End to end: the quickstart with an impossible flash threshold added (a copy in a tempdir,
/// paths made absolute), 8 windows in QEMU: exit 1, and the JUnit failure names the metric.
#[test]
fn a_deliberately_failing_threshold_exits_1_with_a_junit_failure_naming_the_metric() {
    let workspace = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let text = std::fs::read_to_string(workspace.join("scenarios/quickstart.yaml")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("failing.yaml");
    let absolute = format!("{}/", workspace.display());
    std::fs::write(
        &scenario,
        text.replace("../", &absolute) + "thresholds:\n  flash_bytes: \"<= 1KiB\"\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    let run = crate::support::cli::command()
        .arg("run")
        .arg(&scenario)
        .args(["--max-windows", "8", "--jobs", "2", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    let log =
        String::from_utf8_lossy(&run.stdout).into_owned() + &String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{log}");
    let parsed = parse_with_python(&std::fs::read_to_string(out.join("report.junit.xml")).unwrap());
    let failures: Vec<&str> = parsed
        .lines()
        .filter(|l| l.starts_with("   failure"))
        .collect();
    assert_eq!(failures.len(), 2, "one per mode:\n{parsed}");
    for line in failures {
        assert!(
            line.starts_with("   failure threshold flash_bytes: measured ")
                && line.contains(", expected <= 1024 (")
                && line.contains("failing.yaml:"),
            "{line}"
        );
    }
}
