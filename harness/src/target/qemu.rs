//! The QEMU backend: the band firmware in a real `qemu-system-riscv32 -M virt` process.
//!
//! harbor listens on a unix socket first and QEMU connects to it as the UART's chardev
//! (`server=off`), so there is no start-up race. `-icount shift=0,align=off,sleep=off`
//! makes `minstret` count retired instructions, deterministically. The process is killed
//! when the target is dropped and whenever an exchange fails.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use harbor_core::protocol::frame::MAX_FRAME;
use tokio::net::{UnixListener, UnixStream};

use super::TargetError;
use super::error::Tool;
use super::process::{EmulatorProcess, target_name};
use super::session::LinkTarget;

/// The emulated CPU: RV32IMC like the ESP32-C3 (`c` is required: the image is compressed).
pub const CPU: &str = "rv32i,m=true,c=true,zicsr=true";

/// How to run the firmware.
#[derive(Clone, Debug)]
pub struct QemuConfig {
    /// The emulator binary (looked up on PATH when bare).
    pub qemu: PathBuf,
    /// The firmware ELF (scripts/build-firmware prints its path).
    pub firmware: PathBuf,
    /// Deadline from connect to the firmware's `m-ready` banner.
    pub boot_timeout: Duration,
    /// Deadline for each request → response exchange.
    pub exchange_timeout: Duration,
    /// Bytes of noise tolerated before an exchange fails as garbage.
    pub garbage_budget: usize,
    /// Persistent OTA flash: a 32 MiB raw file behind `virt`'s second CFI flash bank
    /// (0x2200_0000), kept across QEMU restarts (docs/ota-device.md). `None`: no file, the
    /// bank is volatile.
    pub flash_image: Option<PathBuf>,
    /// Test hook: the band powers off after this many flash operations from reset, so a
    /// cut can hit the boot decision's own writes (passed through QEMU's fw_cfg).
    pub power_cut_at_boot: Option<u32>,
}

impl QemuConfig {
    pub fn new(firmware: impl Into<PathBuf>) -> Self {
        Self {
            qemu: PathBuf::from("qemu-system-riscv32"),
            firmware: firmware.into(),
            boot_timeout: Duration::from_secs(10),
            exchange_timeout: Duration::from_secs(10),
            garbage_budget: 4 * MAX_FRAME,
            flash_image: None,
            power_cut_at_boot: None,
        }
    }

    /// QEMU's arguments with the UART on `socket` (docs/emulation.md explains each).
    pub fn args(&self, socket: &Path) -> Vec<OsString> {
        let mut chardev = OsString::from("socket,id=uart0,server=off,path=");
        chardev.push(socket);
        self.args_with_chardev(chardev)
    }

    /// Starts QEMU in `dir` (its stderr in `qemu.stderr` there) with the UART on `chardev`.
    pub(crate) fn spawn(
        &self,
        name: &str,
        dir: tempfile::TempDir,
        chardev: OsString,
        stdout: Option<Stdio>,
    ) -> Result<EmulatorProcess, TargetError> {
        let args = self.args_with_chardev(chardev);
        EmulatorProcess::spawn(
            name,
            Tool::Qemu,
            &self.qemu,
            args,
            dir,
            "qemu.stderr",
            stdout,
        )
    }

    /// QEMU's arguments with the UART on the `-chardev` described by `chardev` (its id
    /// must be `uart0`), e.g. `pty,id=uart0` for a pseudo-terminal (docs/serial.md).
    pub fn args_with_chardev(&self, chardev: OsString) -> Vec<OsString> {
        let mut args: Vec<OsString> = [
            "-M",
            "virt",
            "-cpu",
            CPU,
            "-smp",
            "1",
            "-m",
            "128M",
            "-bios",
            "none",
            "-display",
            "none",
            "-monitor",
            "none",
            "-nodefaults",
            "-icount",
            "shift=0,align=off,sleep=off",
            "-chardev",
        ]
        .iter()
        .map(OsString::from)
        .collect();
        args.push(chardev);
        args.extend(["-serial", "chardev:uart0", "-kernel"].map(OsString::from));
        args.push(self.firmware.clone().into_os_string());
        if let Some(image) = &self.flash_image {
            // Unit 1: unit 0 would become the boot ROM and move the reset vector.
            // QEMU's option syntax escapes a comma in a value by doubling it.
            let file = image.to_string_lossy().replace(',', ",,");
            let drive = format!("if=pflash,unit=1,format=raw,file={file}");
            args.extend([OsString::from("-drive"), OsString::from(drive)]);
        }
        if let Some(after) = self.power_cut_at_boot {
            let hook = format!("name=opt/harbor/power-cut-at-boot,string={after}");
            args.extend([OsString::from("-fw_cfg"), OsString::from(hook)]);
        }
        args
    }
}

/// A running QEMU with the firmware, connected and past its boot banner. The process is
/// killed when the target is dropped and whenever an exchange fails.
pub type QemuTarget = LinkTarget<UnixStream, EmulatorProcess>;

impl LinkTarget<UnixStream, EmulatorProcess> {
    /// Starts QEMU with the firmware and waits for its `m-ready` banner.
    pub async fn launch(config: QemuConfig) -> Result<Self, TargetError> {
        let name = target_name("qemu", &config.firmware);
        if !config.firmware.is_file() {
            return Err(TargetError::FirmwareMissing {
                path: config.firmware.clone(),
            });
        }
        let dir = EmulatorProcess::folder(&name, "qemu")?;
        let socket = dir.path().join("uart.sock");
        let listener = UnixListener::bind(&socket).map_err(|source| TargetError::Io {
            target: name.clone(),
            context: "listening on the UART socket".into(),
            source,
        })?;
        let mut chardev = OsString::from("socket,id=uart0,server=off,path=");
        chardev.push(&socket);
        let mut qemu = config.spawn(&name, dir, chardev, None)?;
        let accept = async {
            let (stream, _) = listener.accept().await.map_err(|source| TargetError::Io {
                target: name.clone(),
                context: "accepting QEMU's connection".into(),
                source,
            })?;
            Ok(stream)
        };
        let stream = qemu
            .await_ready(accept, config.boot_timeout, "waiting for QEMU to connect")
            .await?;
        let mut target = Self::new(
            name,
            stream,
            qemu,
            config.garbage_budget,
            config.exchange_timeout,
        );
        target.await_ready(config.boot_timeout, "booting").await?;
        Ok(target)
    }
}
