//! The `harbor` binary: help on every subcommand, exit codes, and error messages.

use std::process::{Command, Output};

fn harbor(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_harbor")).args(args).output().expect("harbor binary runs")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn every_subcommand_has_help() {
    for args in [
        &["--help"][..],
        &["datasets", "--help"],
        &["datasets", "list", "--help"],
        &["datasets", "inspect", "--help"],
        &["boards", "--help"],
        &["boards", "show", "--help"],
    ] {
        let out = harbor(args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        assert!(stdout(&out).contains("Usage:"), "{args:?}");
    }
}

#[test]
fn datasets_list_names_every_format() {
    let out = harbor(&["datasets", "list"]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    for kind in ["wisdm2019-watch", "hapt", "motionsense", "basicmotions", "uci-har", "wisdm-v1.1", "pamap2", "custom"] {
        assert!(text.contains(kind), "missing {kind} in:\n{text}");
    }
}

#[test]
fn unknown_kind_is_a_usage_error() {
    let out = harbor(&["datasets", "inspect", "no-such-format", "."]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("unknown dataset kind `no-such-format`"), "{}", stderr(&out));
}

#[test]
fn missing_dataset_folder_is_an_input_error_naming_the_path() {
    let out = harbor(&["datasets", "inspect", "hapt", "/no/such/dir"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("/no/such/dir"), "{}", stderr(&out));
}

#[test]
fn boards_show_prints_derived_imu_figures() {
    let out = harbor(&["boards", "show", "esp32c3-band"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("25 Hz"), "{}", stdout(&out));
    let out = harbor(&["boards", "show", "no-such-board"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("available: esp32c3-band"), "{}", stderr(&out));
}
