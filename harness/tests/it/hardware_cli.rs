//! `harbor flash` without a board: what can be checked here is that every missing piece
//! is named with its fix and the right exit code, before and instead of any flashing.

use crate::support::cli::{harbor, stderr};

#[test]
fn a_missing_port_is_an_infrastructure_failure_naming_the_port_and_the_fix() {
    let elf = crate::support::qemu::firmware("band-esp32c3");
    let out = harbor(&[
        "flash",
        "--port",
        "/dev/ttyHARBOR-NONE0",
        elf.to_str().unwrap(),
    ]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains("/dev/ttyHARBOR-NONE0") && err.contains("does not exist"),
        "{err}"
    );
    assert!(
        err.contains("--port") && err.contains("/dev/ttyACM"),
        "{err}"
    );
}

#[test]
fn a_file_that_is_no_serial_port_is_named_as_such() {
    let elf = crate::support::qemu::firmware("band-esp32c3");
    let not_a_tty = tempfile::NamedTempFile::new().unwrap();
    let port = not_a_tty.path().to_str().unwrap();
    let out = harbor(&["flash", "--port", port, elf.to_str().unwrap()]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains(&format!("cannot open serial port {port}")),
        "{err}"
    );
}

#[test]
fn a_bad_elf_is_an_input_error_found_before_the_port_is_touched() {
    // The port does not exist either: the ELF is checked first, so this is exit 2.
    let out = harbor(&[
        "flash",
        "--port",
        "/dev/ttyHARBOR-NONE0",
        "/no/such/band.elf",
    ]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("/no/such/band.elf") && err.contains("scripts/build-firmware"),
        "{err}"
    );
}

#[test]
fn flash_and_image_have_help() {
    for sub in ["flash", "image"] {
        let out = harbor(&[sub, "--help"]);
        assert_eq!(out.status.code(), Some(0));
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("Usage:") && text.contains("--chip"), "{text}");
    }
}

#[test]
fn boards_show_prints_clock_memory_and_every_current_with_its_source() {
    for board in ["esp32c3-band", "esp32-band", "nrf52840-band"] {
        let out = harbor(&["boards", "show", board]);
        assert_eq!(out.status.code(), Some(0), "{board}: {}", stderr(&out));
        let text = String::from_utf8_lossy(&out.stdout);
        for part in [
            "imu ",
            "mcu ",
            " MHz",
            "mem  SRAM",
            "power ",
            "active",
            "light sleep",
            "radio",
        ] {
            assert!(text.contains(part), "{board}: no `{part}` in\n{text}");
        }
        // Every current line: a figure in mA followed by where it comes from.
        let currents: Vec<&str> = text.lines().filter(|l| l.contains(" mA  ")).collect();
        assert!(currents.len() >= 3, "{board}:\n{text}");
        for line in currents {
            let source = line.split(" mA  ").nth(1).unwrap_or("").trim();
            assert!(
                !source.is_empty(),
                "{board}: current without a source: {line}"
            );
        }
    }
}
