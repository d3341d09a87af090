//! The QEMU backend: the band firmware in a real `qemu-system-riscv32 -M virt` process.
//!
//! harbor listens on a unix socket first and QEMU connects to it as the UART's chardev
//! (`server=off`), so there is no start-up race. `-icount shift=0,align=off,sleep=off`
//! makes `minstret` count retired instructions, deterministically. The process is killed
//! when the target is dropped and whenever an exchange fails.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use harbor_core::protocol::frame::MAX_FRAME;
use tokio::net::{UnixListener, UnixStream};

use super::TargetError;
use super::error::Tool;
use super::launch::{EmulatorProcess, Launch};
use super::session::LinkTarget;

/// The emulated CPU: RV32IMC like the ESP32-C3 (`c` is required: the image is compressed).
pub const CPU: &str = "rv32i,m=true,c=true,zicsr=true";
/// Guest RAM of `virt`, as `-m` gives it.
pub const RAM_BYTES: u64 = 128 << 20;
/// Where `virt`'s RAM starts in the guest's address space (offset 0 of the RAM file).
pub const RAM_BASE: u32 = 0x8000_0000;
/// The file in the run folder that backs the guest's RAM when it is shared with harbor.
pub const SHARED_RAM_FILE: &str = "ram.bin";

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
    /// Back the guest's RAM with a file in the run folder that harbor also opens, so
    /// batches of windows go through the band's shared-RAM mailbox instead of the UART
    /// (docs/performance.md). Off: every window crosses the UART, as on a real board.
    pub shared_ram: bool,
}

impl QemuConfig {
    /// `qemu-system-riscv32` from PATH on `firmware`, with harbor's default deadlines.
    pub fn new(firmware: impl Into<PathBuf>) -> Self {
        Self {
            qemu: PathBuf::from("qemu-system-riscv32"),
            firmware: firmware.into(),
            boot_timeout: Duration::from_secs(10),
            exchange_timeout: Duration::from_secs(10),
            garbage_budget: 4 * MAX_FRAME,
            flash_image: None,
            power_cut_at_boot: None,
            shared_ram: true,
        }
    }

    /// How [`Launch`] starts QEMU for this configuration (`prefix` names the run).
    pub(crate) fn launcher(&self, prefix: &'static str, pipe_stdout: bool) -> Launch<'_> {
        Launch {
            prefix,
            tool: Tool::Qemu,
            binary: &self.qemu,
            firmware: &self.firmware,
            log_name: "qemu.stderr",
            pipe_stdout,
            boot_timeout: self.boot_timeout,
        }
    }

    /// QEMU's arguments with the UART on `socket` (docs/emulation.md explains each).
    pub fn args(&self, socket: &Path) -> Vec<OsString> {
        let mut chardev = OsString::from("socket,id=uart0,server=off,path=");
        chardev.push(socket);
        let mut args = self.args_with_chardev(chardev);
        if self.shared_ram {
            let file = socket.with_file_name(SHARED_RAM_FILE);
            let file = file.to_string_lossy().replace(',', ",,");
            let backend = format!(
                "memory-backend-file,id=band-ram,size={RAM_BYTES},mem-path={file},share=on"
            );
            args.extend(
                ["-object", &backend, "-machine", "memory-backend=band-ram"].map(OsString::from),
            );
        }
        args
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
        let prepare = |name: &str, dir: &Path| {
            let socket = dir.join("uart.sock");
            let listener = UnixListener::bind(&socket).map_err(|source| TargetError::Io {
                target: name.to_string(),
                context: "listening on the UART socket".into(),
                source,
            })?;
            Ok((config.args(&socket), listener))
        };
        let accept = |name, listener: UnixListener, _| async move {
            let (stream, _) = listener.accept().await.map_err(|source| TargetError::Io {
                target: name,
                context: "accepting QEMU's connection".into(),
                source,
            })?;
            Ok(stream)
        };
        config
            .launcher("qemu", false)
            .link(
                prepare,
                accept,
                "waiting for QEMU to connect",
                config.garbage_budget,
                config.exchange_timeout,
            )
            .await
    }
}
