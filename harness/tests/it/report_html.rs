//! report.html as a browser sees it: headless Chromium loads the written file and dumps its
//! DOM; the plots must be there as SVG with their ids, one rect per confusion cell.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const CHROMIUM: &str = "/usr/bin/chromium";

/// Chromium's serialized DOM after loading `page` (flags needed on a closed network).
fn dump_dom(page: &Path) -> String {
    assert!(
        Path::new(CHROMIUM).is_file(),
        "{CHROMIUM} is missing: run scripts/setup (it installs Debian's chromium)"
    );
    let profile = tempfile::tempdir().unwrap();
    let mut child = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromium starts");
    let deadline = Instant::now() + Duration::from_secs(120);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!(
                "chromium did not finish loading {} within 120 s",
                page.display()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "chromium failed: {:?}", out.status);
    String::from_utf8(out.stdout).unwrap()
}

/// The serialized `<svg id="…">…</svg>` element with that id.
fn svg_element<'a>(dom: &'a str, id: &str) -> &'a str {
    let start = dom
        .find(&format!("<svg id=\"{id}\""))
        .unwrap_or_else(|| panic!("no <svg id=\"{id}\"> in the DOM"));
    let end = start + dom[start..].find("</svg>").expect("closed svg") + "</svg>".len();
    &dom[start..end]
}

#[test]
fn chromium_finds_every_plot_and_one_rect_per_confusion_cell() {
    let report = crate::support::report::report();
    let dir = tempfile::tempdir().unwrap();
    report.write(dir.path()).unwrap();
    let page = dir.path().join("report.html");
    let html = std::fs::read_to_string(&page).unwrap();
    // Self-contained: nothing to fetch, nothing to run.
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "the page names a URL"
    );
    assert!(!html.contains("<script"), "the page has a script");

    let dom = dump_dom(&page);
    for id in [
        "plot-accuracy",
        "plot-instructions",
        "plot-footprint",
        "plot-energy",
    ] {
        let svg = svg_element(&dom, id);
        assert!(svg.contains("<rect"), "{id} draws no bars: {svg}");
    }
    // The ok cell has an 8×8 matrix: the background plus 64 cells; the failed one none.
    let confusion = svg_element(&dom, "plot-confusion-0");
    assert!(confusion.contains("class=\"plot confusion\""));
    assert_eq!(confusion.matches("<rect").count(), 1 + 64, "{confusion}");
    assert!(!dom.contains("id=\"plot-confusion-1\""));
    // The diagonal count of the last class, as text inside the matrix.
    let texts: Vec<&str> = confusion
        .split("</text>")
        .filter_map(|t| t.rsplit_once('>').map(|(_, text)| text.trim()))
        .collect();
    assert!(texts.contains(&"17"), "{confusion}");

    // The thresholds table: the failed accuracy check is marked, its origin escaped intact.
    let thresholds = &dom[dom
        .find("<table id=\"thresholds\"")
        .expect("thresholds table")..];
    let thresholds = &thresholds[..thresholds.find("</table>").unwrap()];
    assert_eq!(
        thresholds.matches("<td class=\"fail\">FAIL</td>").count(),
        3,
        "{thresholds}"
    );
    assert_eq!(
        thresholds.matches("<td class=\"pass\">pass</td>").count(),
        3,
        "{thresholds}"
    );
    assert!(
        thresholds.contains("scenarios/ci.yaml:14:15 &lt;\"strict\" &amp; 'high'&gt;"),
        "{thresholds}"
    );
    assert!(dom.contains("<span id=\"verdict\" class=\"fail\">3 of 6 checks passed</span>"));
}

/// Nothing measured anywhere (every cell failed, no classes): the page still renders, with
/// every summary plot present and no confusion matrix.
#[test]
fn a_report_with_nothing_measured_still_renders() {
    let mut report = crate::support::report::report();
    let mut empty = crate::support::report::failed_cell();
    empty.classes.clear();
    report.results = vec![crate::support::report::failed_cell(), empty];
    let html = harbor::report::to_html(&report, None).unwrap();
    for id in [
        "plot-accuracy",
        "plot-instructions",
        "plot-footprint",
        "plot-energy",
    ] {
        assert!(html.contains(&format!("<svg id=\"{id}\"")), "{id} missing");
    }
    assert!(!html.contains("plot-confusion-"));
    assert!(html.contains("no completed windows, no confusion matrix"));
    // An empty report too.
    report.results.clear();
    assert!(
        harbor::report::to_html(&report, None)
            .unwrap()
            .contains("0 of 0 checks passed")
    );
}
