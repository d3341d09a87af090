//! `harbor validate` rejects whatever `harbor run` would reject before its first window, with
//! the same message and exit code, and `run` rejects it before starting any emulator. One case
//! per class of input; QEMU is reached through a launch recorder on PATH (a script that logs
//! its arguments and runs the real `qemu-system-riscv32`), so a launch leaves a trace.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::support::cli::{code, command, stderr, text};
use crate::support::qemu::firmware;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `scenarios/<name>` with its relative paths made absolute, edited, written into `dir`.
fn scenario(dir: &Path, name: &str, edit: impl Fn(String) -> String) -> PathBuf {
    let scenarios = workspace().join("scenarios");
    let text = std::fs::read_to_string(scenarios.join(name))
        .unwrap()
        .replace("../", &format!("{}/../", scenarios.display()));
    let path = dir.join(format!(
        "case-{}.yaml",
        std::fs::read_dir(dir).unwrap().count()
    ));
    std::fs::write(&path, edit(text)).unwrap();
    path
}

/// A folder holding `qemu-system-riscv32`, which appends a line to `log` and runs the real one.
fn launch_recorder(dir: &Path, log: &Path) -> PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let real = which("qemu-system-riscv32");
    let script = bin.join("qemu-system-riscv32");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho \"$@\" >> '{}'\nexec '{}' \"$@\"\n",
            log.display(),
            real.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    bin
}

fn which(program: &str) -> PathBuf {
    std::env::split_paths(&std::env::var_os("PATH").unwrap())
        .map(|d| d.join(program))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("{program} is not on PATH: run scripts/setup"))
}

/// Runs harbor with the launch recorder first on PATH.
fn harbor(bin: &Path, args: &[&std::ffi::OsStr]) -> Output {
    let path = std::env::join_paths(
        std::iter::once(bin.to_path_buf())
            .chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())),
    )
    .unwrap();
    command().args(args).env("PATH", path).output().unwrap()
}

/// A copy of band-qemu.elf whose marker symbol is renamed: a RISC-V program for the right
/// machine that is not a harbor band image.
fn unmarked_elf(dir: &Path) -> PathBuf {
    let mut bytes = std::fs::read(firmware("band-qemu")).unwrap();
    let needle = b"HARBOR_BAND_IMAGE";
    let mut renamed = 0;
    for i in 0..bytes.len() - needle.len() {
        if &bytes[i..i + needle.len()] == needle {
            bytes[i + needle.len() - 1] = b'X';
            renamed += 1;
        }
    }
    assert!(renamed > 0, "band-qemu.elf has no marker symbol to rename");
    let path = dir.join("unmarked.elf");
    std::fs::write(&path, bytes).unwrap();
    path
}

/// A copy of a model directory with one weight byte flipped.
fn tampered_model(dir: &Path) -> PathBuf {
    let model = dir.join("tampered-model");
    std::fs::create_dir_all(&model).unwrap();
    for entry in std::fs::read_dir(workspace().join("models/tiny-int8-generalized")).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            std::fs::copy(entry.path(), model.join(entry.file_name())).unwrap();
        }
    }
    let tflite = model.join("model.tflite");
    let mut bytes = std::fs::read(&tflite).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x40;
    std::fs::write(&tflite, bytes).unwrap();
    model
}

/// The same model without its float weights.
fn model_without_float(dir: &Path) -> PathBuf {
    let model = dir.join("no-float-model");
    std::fs::create_dir_all(&model).unwrap();
    for entry in std::fs::read_dir(workspace().join("models/tiny-int8-generalized")).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() && entry.file_name() != "float.json" {
            std::fs::copy(entry.path(), model.join(entry.file_name())).unwrap();
        }
    }
    model
}

struct Case {
    class: &'static str,
    scenario: PathBuf,
    /// Extra arguments for both commands.
    args: Vec<String>,
    exit: i32,
    /// Text the message must contain.
    says: &'static str,
}

#[test]
fn validate_and_run_reject_the_same_inputs_with_the_same_message_before_any_emulator() {
    let dir = tempfile::tempdir().unwrap();
    let tmp = dir.path();
    let log = tmp.join("qemu-launches.log");
    let bin = launch_recorder(tmp, &log);
    let ci = |edit: &dyn Fn(String) -> String| scenario(tmp, "ci.yaml", edit);
    let firmware_line = "../target/firmware/elf/band-qemu.elf";
    let with_firmware = |path: &Path| {
        let path = path.display().to_string();
        ci(&move |t: String| t.replace(&format!("{}/{firmware_line}", scenarios_dir()), &path))
    };
    let noise = tmp.join("noise.elf");
    std::fs::write(
        &noise,
        (0..8192u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8)
            .collect::<Vec<_>>(),
    )
    .unwrap();
    let a_file = tmp.join("a-file");
    std::fs::write(&a_file, "not a folder").unwrap();
    let tampered = tampered_model(tmp);
    let no_float = model_without_float(tmp);
    let model_line = "../models/small-int8-generalized";
    let with_model = |model: &Path| {
        let model = model.display().to_string();
        ci(&move |t: String| t.replace(&format!("{}/{model_line}", scenarios_dir()), &model))
    };
    let broken_tree = recordings_with_a_malformed_line(tmp);
    let cases = vec![
        Case {
            class: "malformed recording line with every subject selected",
            scenario: ci(&move |t: String| {
                t.replace(
                    "root: wisdm2019",
                    &format!("root: {}", broken_tree.display()),
                )
                .replace("subjects: model_test", "subjects: all #")
            }),
            args: vec![],
            exit: 2,
            says: "data_1601_accel_watch.txt:500",
        },
        Case {
            class: "firmware that is not an ELF",
            scenario: with_firmware(&noise),
            args: vec![],
            exit: 2,
            says: "is not an ELF file",
        },
        Case {
            class: "firmware for another machine",
            scenario: with_firmware(&which("ls")),
            args: vec![],
            exit: 2,
            says: "the band runs 32-bit RISC-V (RV32) images",
        },
        Case {
            class: "firmware for another board (entry point)",
            scenario: with_firmware(&firmware("band-esp32c3")),
            args: vec![],
            exit: 2,
            says: "is outside the emulated RAM",
        },
        Case {
            class: "RISC-V firmware that is not a harbor band image",
            scenario: with_firmware(&unmarked_elf(tmp)),
            args: vec![],
            exit: 2,
            says: "is not a harbor band image",
        },
        Case {
            class: "model whose weights differ from its card",
            scenario: with_model(&tampered),
            args: vec![],
            exit: 2,
            says: "sha256",
        },
        Case {
            class: "float threshold on a model without float weights",
            scenario: with_model(&no_float),
            args: vec![],
            exit: 2,
            says: "has no float reference (float.json",
        },
        Case {
            class: "subject not in the dataset",
            scenario: ci(&|t: String| {
                t.replace(
                    "subjects: model_test",
                    "subjects: {list: [\"1617\", \"9999\"]} #",
                )
            }),
            args: vec![],
            exit: 2,
            says: "no recordings of subject 9999",
        },
        Case {
            class: "--max-windows 0",
            scenario: ci(&|t| t),
            args: vec!["--max-windows".into(), "0".into()],
            exit: 2,
            says: "invalid value '0' for '--max-windows",
        },
        Case {
            class: "OTA field out of range",
            scenario: scenario(tmp, "ota.yaml", |t| t.replace("loss: 0.0", "loss: 1.5")),
            args: vec![],
            exit: 2,
            says: "loss",
        },
        Case {
            class: "output folder that cannot be written",
            scenario: ci(&|t| t),
            args: vec!["--out".into(), a_file.join("reports").display().to_string()],
            exit: 3,
            says: "output folder not writable",
        },
    ];
    let mut disagreements = Vec::new();
    for case in &cases {
        let extra: Vec<&std::ffi::OsStr> = case.args.iter().map(|a| a.as_ref()).collect();
        let mut validate = vec!["validate".as_ref(), case.scenario.as_os_str()];
        validate.extend(&extra);
        let validated = harbor(&bin, &validate);
        let out = tmp.join("out");
        let mut run = vec!["run".as_ref(), case.scenario.as_os_str()];
        if !case.args.iter().any(|a| a == "--out") {
            run.extend(["--out".as_ref(), out.as_os_str()]);
        }
        run.extend(&extra);
        let ran = harbor(&bin, &run);
        let (v, r) = (stderr(&validated), stderr(&ran));
        if code(&validated) != case.exit
            || code(&ran) != case.exit
            || v != r
            || !v.contains(case.says)
        {
            disagreements.push(format!(
                "{}: expected exit {} saying {:?}\n  validate {}: {}\n  run {}: {}",
                case.class,
                case.exit,
                case.says,
                code(&validated),
                text(&validated),
                code(&ran),
                text(&ran)
            ));
        }
        assert!(
            !log.exists(),
            "{}: run started an emulator before rejecting its input:\n{}",
            case.class,
            std::fs::read_to_string(&log).unwrap_or_default()
        );
    }
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));

    // The control: a good scenario passes validate, and run reaches the recorder.
    let good = ci(&|t| t);
    let validated = harbor(&bin, &["validate".as_ref(), good.as_os_str()]);
    assert_eq!(code(&validated), 0, "{}", text(&validated));
    let out = tmp.join("good-out");
    let ran = harbor(
        &bin,
        &[
            "run".as_ref(),
            good.as_os_str(),
            "--out".as_ref(),
            out.as_os_str(),
            "--max-windows".as_ref(),
            "1".as_ref(),
        ],
    );
    assert_eq!(code(&ran), 0, "{}", text(&ran));
    assert!(
        log.exists(),
        "the launch recorder saw no emulator: the no-emulator checks above prove nothing"
    );
}

/// A two-subject WISDM 2019 watch tree whose subject 1601 has an unreadable timestamp on
/// line 500 of its accelerometer file.
fn recordings_with_a_malformed_line(dir: &Path) -> PathBuf {
    let root = dir.join("wisdm-broken");
    crate::support::wisdm_tree::write_watch_tree(&root, 2);
    let file = root.join("wisdm-dataset/raw/watch/accel/data_1601_accel_watch.txt");
    let text = std::fs::read_to_string(&file).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines[499] = "1601,A,90000000x00000,0.1,9.8,0.2;";
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    root
}

fn scenarios_dir() -> String {
    workspace().join("scenarios").display().to_string()
}
