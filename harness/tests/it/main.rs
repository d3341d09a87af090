//! harbor's integration tests: one binary, so the workspace links once instead of once per
//! file. Each module is one area (`qemu_*` boot the band firmware, `serial_*` run it on a pty,
//! `report_*` check report formats, ...); `support` holds what several of them share.

mod support;

mod cli;
mod cli_no_panic;
mod cloud_api;
mod cloud_band_qemu;
mod cloud_ota_scenario;
mod cloud_personalize;
mod cloud_radio;
mod datasets_custom_files;
mod datasets_fixtures;
mod datasets_real;
mod esp32c3_elf;
mod esp_image;
mod hardware_board;
mod hardware_cli;
mod hardware_target_kinds;
mod ota_device_qemu;
mod qemu_binary;
mod qemu_boot;
mod qemu_failures;
mod qemu_stream;
mod qemu_stream_input_conversion;
mod renode_recording;
mod renode_resd;
mod renode_target;
mod replay_faults;
mod replay_footprint;
mod replay_quickstart;
mod replay_shutdown;
mod report_baseline;
mod report_diff;
mod report_html;
mod report_junit;
mod report_merge;
mod report_snapshots;
mod scenario_cli;
mod serial_cli;
mod serial_faults;
mod serial_pty;
mod serial_scenario;
mod signal_chain;
mod signal_npz;
mod signal_resample;
mod signal_split;
mod signal_wisdm;
mod tflm_differential;
mod tflm_keras_fixture;
mod train_arch;
mod train_cli;
mod train_export;
mod train_fit;
mod train_models;
mod train_selection;
