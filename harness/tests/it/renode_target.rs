//! The Renode target: finding Renode (and the exact message when it is absent), the `.resc`
//! rendered from `renode/band.resc`, and the tests that need a Renode install. Those are
//! `#[ignore]`d with the install hint so nextest reports them as skipped, never as passed;
//! run them with `--run-ignored all` where Renode is installed (docs/renode.md).

use std::path::{Path, PathBuf};
use std::time::Duration;

use harbor::board::BoardProfile;
use harbor::dut::renode::convert::{ImuSegment, ResdLayout, ResdScale, build};
use harbor::dut::renode::script::{ScriptParams, platform_path, render};
use harbor::dut::renode::{INSTALL_HINT, ResdFile};
use harbor::dut::renode::{RenodeConfig, RenodeTarget, ScriptError, find_renode, find_renode_in};
use harbor::dut::{DeviceConfig, Target, TargetError, Tool};
use harbor::signal::Rate;

fn firmware(variant: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../target/firmware/elf")
        .join(format!("{variant}.elf"))
}

fn assert_missing(err: &TargetError, binary: &str) {
    assert!(
        matches!(
            err,
            TargetError::EmulatorMissing {
                tool: Tool::Renode,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(err.kind(), "emulator-missing");
    let text = err.to_string();
    for needle in [
        "Renode",
        binary,
        "not found",
        "release packages",
        "put `renode` on PATH",
        "HARBOR_RENODE",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in: {text}");
    }
    assert!(text.contains(INSTALL_HINT), "{text}");
}

#[test]
fn missing_renode_says_how_to_install_it() {
    let empty_path = tempfile::tempdir().unwrap();
    let err = find_renode_in(None, Some(empty_path.path().as_os_str().to_owned())).unwrap_err();
    assert_missing(&err, "`renode`");
    // The hint says what to install, never anything about the machine it runs on.
    assert!(!INSTALL_HINT.contains("this machine"), "{INSTALL_HINT}");
    // A named binary that does not exist is the same error, naming the variable's value.
    let err = find_renode_in(Some(PathBuf::from("/nonexistent/renode")), None).unwrap_err();
    assert_missing(&err, "/nonexistent/renode");
    // A binary that exists is found, from the variable or from PATH.
    let fake = empty_path.path().join("renode");
    std::fs::write(&fake, "").unwrap();
    assert_eq!(
        find_renode_in(None, Some(empty_path.path().as_os_str().to_owned())).unwrap(),
        fake
    );
    assert_eq!(find_renode_in(Some(fake.clone()), None).unwrap(), fake);
}

#[tokio::test]
async fn launching_without_renode_is_the_missing_error_here() {
    // On machines with Renode this test has nothing to check; the ignored tests run instead.
    if find_renode().is_ok() {
        eprintln!(
            "renode is installed: the missing-Renode path is covered by missing_renode_says_how_to_install_it"
        );
        return;
    }
    let err = match RenodeTarget::launch(RenodeConfig::new(firmware("band-qemu"))).await {
        Ok(_) => panic!("launch succeeded without Renode"),
        Err(e) => e,
    };
    assert_missing(&err, "renode");
    // dut::open reaches the same backend and says the same.
    let config = DeviceConfig::Renode(RenodeConfig::new(firmware("band-qemu")));
    let err = match harbor::dut::open(&config).await {
        Ok(_) => panic!("open succeeded without Renode"),
        Err(e) => e,
    };
    assert_missing(&err, "renode");
}

#[test]
fn script_is_the_template_with_paths_and_port_filled_in() {
    let text = render(&ScriptParams {
        platform: Path::new("/w/renode/band-rv32.repl"),
        firmware: Path::new("/w/fw/band-qemu.elf"),
        uart_port: 40123,
        resd: Some(Path::new("/tmp/run/imu.resd")),
    })
    .unwrap();
    let expected = r#"# harbor band on Renode. Template: harbor (harness/src/dut/renode/script.rs) fills the double-brace
# fields and runs `renode --disable-xwt --plain <generated script>`.
using sysbus
mach create "band"
machine LoadPlatformDescription @/w/renode/band-rv32.repl
sysbus LoadELF @/w/fw/band-qemu.elf
# `false`: a raw socket. The default (true) sends telnet negotiation bytes and escapes
# 0xFF, which corrupts harbor's binary frames.
emulation CreateServerSocketTerminal 40123 "uart" false
connector Connect sysbus.uart0 uart
sysbus.i2c0.lsm6dso FeedAccelerationSamplesFromRESD @/tmp/run/imu.resd
sysbus.i2c0.lsm6dso FeedAngularRateSamplesFromRESD @/tmp/run/imu.resd
start
"#;
    assert_eq!(text, expected);
    // The platform the script loads exists and declares the peripherals the script names.
    let platform = std::fs::read_to_string(platform_path()).unwrap();
    for name in [
        "uart0: UART.NS16550 @ sysbus 0x10000000",
        "i2c0:",
        "lsm6dso: Sensors.LSM6DSO_IMU @ i2c0 0x6A",
        "ram: Memory.MappedMemory @ sysbus 0x80000000",
    ] {
        assert!(
            platform.contains(name),
            "renode/band-rv32.repl lacks {name:?}"
        );
    }
}

#[test]
fn script_without_resd_and_bad_paths() {
    let params = ScriptParams {
        platform: Path::new("/p.repl"),
        firmware: Path::new("/f.elf"),
        uart_port: 1,
        resd: None,
    };
    let text = render(&params).unwrap();
    assert!(
        !text.contains("FromRESD") && text.contains("# no RESD stream"),
        "{text}"
    );
    let relative = render(&ScriptParams {
        firmware: Path::new("fw.elf"),
        ..params.clone()
    })
    .unwrap_err();
    assert!(
        matches!(relative, ScriptError::Relative { .. }),
        "{relative}"
    );
    assert!(
        relative.to_string().contains("must be absolute"),
        "{relative}"
    );
    let spaced = render(&ScriptParams {
        resd: Some(Path::new("/tmp/my data/x.resd")),
        ..params
    })
    .unwrap_err();
    assert!(matches!(spaced, ScriptError::Unquotable { .. }), "{spaced}");
    assert!(spaced.to_string().contains("whitespace"), "{spaced}");
}

/// Writes a short RESD stream for the default band (1 g on z, slow rotation about x).
fn write_resd(dir: &Path) -> PathBuf {
    let board = BoardProfile::load(BoardProfile::DEFAULT).unwrap();
    let raw: Vec<[i16; 6]> = (0..250)
        .map(|k| [0, 0, 8197, (k % 100) as i16, 0, 0])
        .collect();
    let rate = Rate::from_hz(board.imu.odr_hz, "imu.odr_hz").unwrap();
    let scale = ResdScale::renode_lsm6dso(&board.imu).unwrap();
    let file = build(
        &[ImuSegment {
            t0_ns: 0,
            raw: &raw,
        }],
        rate,
        &scale,
        &ResdLayout::default(),
    )
    .unwrap();
    let path = dir.join("imu.resd");
    file.write(&path).unwrap();
    assert_eq!(ResdFile::read(&path).unwrap(), file);
    path
}

#[tokio::test]
#[ignore = "needs Renode: install the portable package or .deb from github.com/renode/renode/releases and put `renode` on PATH or set HARBOR_RENODE (not installable on the harbor dev machines)"]
async fn band_firmware_boots_on_renode_and_answers_hello() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = RenodeConfig::new(firmware("band-qemu"));
    config.resd = Some(write_resd(dir.path()));
    config.boot_timeout = Duration::from_secs(120);
    let mut target = match RenodeTarget::launch(config).await {
        Ok(t) => t,
        Err(e) => panic!("launching on Renode: {e}"),
    };
    let info = target
        .info()
        .await
        .unwrap_or_else(|e| panic!("Hello: {e}\n{}", target.log()));
    assert!(!info.name.is_empty());
    let lines = target.command("name").await.unwrap();
    assert!(lines.iter().any(|l| l.starts_with("m-name-")), "{lines:?}");
}
