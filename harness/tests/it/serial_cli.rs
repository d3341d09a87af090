//! `harbor ports` and `harbor run` with a serial target, as a user runs them.

use std::process::Command;

fn harbor() -> Command {
    crate::support::cli::command()
}

#[test]
fn ports_lists_device_paths_as_json() {
    let out = harbor().args(["ports", "--json"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ports: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ports = ports.as_array().expect("a JSON array");
    for p in ports {
        assert!(p["path"].as_str().unwrap().starts_with("/dev/"), "{p}");
        let usb = &p["usb_id"];
        assert!(
            usb.is_null() || usb.as_str().unwrap().len() == 9,
            "VID:PID as 4+4 hex digits: {p}"
        );
    }
}
