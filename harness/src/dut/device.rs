//! One configuration type for every backend and the one function that opens a device from
//! it. Adding a backend is its own file plus an arm in [`DeviceKind`], [`DeviceConfig`] and
//! the matches below.

use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncWrite};

use super::mlperf::{MlperfConfig, MlperfLink};
use super::probe::ProbeConfig;
use super::{
    Backing, LinkTarget, QemuConfig, QemuTarget, RenodeConfig, RenodeTarget, SerialConfig,
    SerialTarget, TargetError,
};

/// Which backend runs a device; the `kind` of a scenario's target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceKind {
    /// `qemu-system-riscv32 -M virt` with the band firmware (docs/emulation.md).
    Qemu,
    /// A board on a serial port (docs/serial.md).
    Serial,
    /// The band firmware on Renode (docs/renode.md).
    Renode,
    /// A board behind a debug probe, over RTT (feature `probe`, docs/hardware.md).
    Probe,
    /// Firmware that speaks only the MLPerf Tiny text protocol, in QEMU or on a serial port
    /// (docs/mlperf.md).
    Mlperf,
}

impl DeviceKind {
    /// The kind as scenarios spell it.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Qemu => "qemu",
            Self::Serial => "serial",
            Self::Renode => "renode",
            Self::Probe => "probe",
            Self::Mlperf => "mlperf",
        }
    }

    /// Why this build of harbor cannot drive the kind at all, if it cannot. (A missing
    /// emulator binary is found when the device is opened, not here.)
    pub fn unavailable(self) -> Option<&'static str> {
        match self {
            Self::Probe if !cfg!(feature = "probe") => Some(
                "this harbor was built without the `probe` feature: build it with `cargo build -p harbor --features probe` (docs/hardware.md)",
            ),
            _ => None,
        }
    }
}

/// A device to open: the backend and its settings.
#[derive(Clone, Debug)]
pub enum DeviceConfig {
    /// The firmware in QEMU.
    Qemu(QemuConfig),
    /// A board on a serial port.
    Serial(SerialConfig),
    /// The firmware on Renode.
    Renode(RenodeConfig),
    /// A board behind a debug probe.
    Probe(ProbeConfig),
    /// An MLPerf Tiny device.
    Mlperf(MlperfConfig),
}

impl DeviceConfig {
    /// The backend this configuration is for.
    pub fn kind(&self) -> DeviceKind {
        match self {
            Self::Qemu(_) => DeviceKind::Qemu,
            Self::Serial(_) => DeviceKind::Serial,
            Self::Renode(_) => DeviceKind::Renode,
            Self::Probe(_) => DeviceKind::Probe,
            Self::Mlperf(_) => DeviceKind::Mlperf,
        }
    }

    /// The boot deadline (to the firmware's `m-ready`) and the per-exchange deadline.
    pub fn set_timeouts(&mut self, boot: Duration, exchange: Duration) {
        let (b, e) = match self {
            Self::Qemu(c) => (&mut c.boot_timeout, &mut c.exchange_timeout),
            Self::Serial(c) => (&mut c.boot_timeout, &mut c.exchange_timeout),
            Self::Renode(c) => (&mut c.boot_timeout, &mut c.exchange_timeout),
            Self::Probe(c) => (&mut c.boot_timeout, &mut c.exchange_timeout),
            Self::Mlperf(c) => c.timeouts_mut(),
        };
        (*b, *e) = (boot, exchange);
    }

    /// Whether only one run may use the device at a time (a port or a probe has one opener;
    /// each emulator run is its own device).
    pub fn exclusive(&self) -> bool {
        self.opens_a_port() || self.kind() == DeviceKind::Probe
    }

    /// Whether opening the device means opening a serial port (rather than launching).
    pub fn opens_a_port(&self) -> bool {
        matches!(
            self,
            Self::Serial(_)
                | Self::Mlperf(MlperfConfig {
                    link: MlperfLink::Serial(_),
                    ..
                })
        )
    }

    /// The firmware image the device runs, when harbor starts or flashes it.
    pub fn firmware(&self) -> Option<&Path> {
        match self {
            Self::Qemu(c) => Some(&c.firmware),
            Self::Serial(_) => None,
            Self::Renode(c) => Some(&c.firmware),
            Self::Probe(c) => Some(&c.firmware),
            Self::Mlperf(c) => match &c.link {
                MlperfLink::Qemu(q) => Some(&q.firmware),
                MlperfLink::Serial(_) => None,
            },
        }
    }
}

/// An open device of any backend, ready for requests. Dropping it stops an emulator.
pub type Dut = LinkTarget<Box<dyn ByteStream>, Box<dyn AnyBacking>>;

/// Starts (emulators) or attaches to (boards) the device `config` describes, past its boot
/// banner. A backend this build cannot drive is [`TargetError::Unavailable`].
pub async fn open(config: &DeviceConfig) -> Result<Dut, TargetError> {
    if let Some(reason) = config.kind().unavailable() {
        return Err(TargetError::Unavailable {
            kind: config.kind().name(),
            reason,
        });
    }
    Ok(match config {
        DeviceConfig::Qemu(c) => QemuTarget::launch(c.clone()).await?.into_dut(),
        DeviceConfig::Serial(c) => SerialTarget::open(c).await?.into_dut(),
        DeviceConfig::Renode(c) => RenodeTarget::launch(c.clone()).await?.into_dut(),
        DeviceConfig::Probe(c) => open_probe(c).await?,
        DeviceConfig::Mlperf(c) => super::mlperf::open(c).await?,
    })
}

#[cfg(feature = "probe")]
async fn open_probe(config: &ProbeConfig) -> Result<Dut, TargetError> {
    Ok(super::probe::ProbeTarget::attach(config).await?.into_dut())
}

#[cfg(not(feature = "probe"))]
async fn open_probe(_: &ProbeConfig) -> Result<Dut, TargetError> {
    unreachable!("open() refuses kinds this build cannot drive")
}

/// A device's byte stream, whatever carries it (socket, tty, RTT pipe).
pub trait ByteStream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> ByteStream for T {}

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// [`Backing`] in a form one [`Dut`] type can hold for every backend.
pub trait AnyBacking: Send {
    /// [`Backing::stop`].
    fn stop_any(&mut self);
    /// [`Backing::settle`].
    fn settle_any(&mut self) -> BoxFuture<'_, ()>;
    /// [`Backing::closed`].
    fn closed_any(&mut self, target: String, during: String) -> BoxFuture<'_, TargetError>;
    /// [`Backing::hung`].
    fn hung_any(&mut self, target: String, during: String, waited: Duration) -> TargetError;
    /// [`Backing::pid`].
    fn pid_any(&self) -> Option<u32>;
    /// [`Backing::log`].
    fn log_any(&self) -> String;
    /// [`Backing::shared_ram`].
    fn shared_ram_any(&self) -> Option<std::path::PathBuf>;
}

impl<B: Backing> AnyBacking for B {
    fn stop_any(&mut self) {
        self.stop();
    }
    fn settle_any(&mut self) -> BoxFuture<'_, ()> {
        Box::pin(self.settle())
    }
    fn closed_any(&mut self, target: String, during: String) -> BoxFuture<'_, TargetError> {
        Box::pin(self.closed(target, during))
    }
    fn hung_any(&mut self, target: String, during: String, waited: Duration) -> TargetError {
        self.hung(target, during, waited)
    }
    fn pid_any(&self) -> Option<u32> {
        self.pid()
    }
    fn log_any(&self) -> String {
        self.log()
    }
    fn shared_ram_any(&self) -> Option<std::path::PathBuf> {
        self.shared_ram()
    }
}

impl<'a> Backing for Box<dyn AnyBacking + 'a> {
    fn stop(&mut self) {
        (**self).stop_any();
    }
    fn settle(&mut self) -> impl Future<Output = ()> + Send {
        (**self).settle_any()
    }
    fn closed(
        &mut self,
        target: String,
        during: String,
    ) -> impl Future<Output = TargetError> + Send {
        (**self).closed_any(target, during)
    }
    fn hung(&mut self, target: String, during: String, waited: Duration) -> TargetError {
        (**self).hung_any(target, during, waited)
    }
    fn pid(&self) -> Option<u32> {
        (**self).pid_any()
    }
    fn log(&self) -> String {
        (**self).log_any()
    }
    fn shared_ram(&self) -> Option<std::path::PathBuf> {
        (**self).shared_ram_any()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_reach_every_backend() {
        let boot = Duration::from_secs(7);
        let exchange = Duration::from_secs(3);
        for mut config in [
            DeviceConfig::Qemu(QemuConfig::new("a.elf")),
            DeviceConfig::Serial(SerialConfig::new("/dev/ttyUSB0")),
            DeviceConfig::Renode(RenodeConfig::new("a.elf")),
            DeviceConfig::Probe(ProbeConfig::new("esp32c3", "a.elf")),
            DeviceConfig::Mlperf(MlperfConfig {
                link: MlperfLink::Qemu(QemuConfig::new("a.elf")),
                format: super::super::MlperfFormat::new(super::super::mlperf::OutputFormat::Int8),
            }),
            DeviceConfig::Mlperf(MlperfConfig {
                link: MlperfLink::Serial(SerialConfig::new("/dev/ttyUSB0")),
                format: super::super::MlperfFormat::new(super::super::mlperf::OutputFormat::Float),
            }),
        ] {
            config.set_timeouts(boot, exchange);
            let got = match &mut config {
                DeviceConfig::Qemu(c) => (c.boot_timeout, c.exchange_timeout),
                DeviceConfig::Serial(c) => (c.boot_timeout, c.exchange_timeout),
                DeviceConfig::Renode(c) => (c.boot_timeout, c.exchange_timeout),
                DeviceConfig::Probe(c) => (c.boot_timeout, c.exchange_timeout),
                DeviceConfig::Mlperf(c) => {
                    let (b, e) = c.timeouts_mut();
                    (*b, *e)
                }
            };
            assert_eq!(got, (boot, exchange), "{:?}", config.kind());
        }
    }

    #[cfg(not(feature = "probe"))]
    #[tokio::test]
    async fn a_probe_without_the_feature_is_a_named_error() {
        let config = DeviceConfig::Probe(ProbeConfig::new("esp32c3", "a.elf"));
        let err = match open(&config).await {
            Ok(_) => panic!("opened a probe without the feature"),
            Err(e) => e,
        };
        assert_eq!(err.kind(), "backend-unavailable");
        assert!(err.to_string().contains("--features probe"), "{err}");
    }
}
