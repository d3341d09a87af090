//! Board profiles: the band's hardware as harbor models it, read from `boards/<name>.yaml`.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// A board profile. Unknown keys are errors so a typo never silently falls back to a default.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BoardProfile {
    /// Profile name (the file name in `boards/` without `.yaml`).
    pub name: String,
    /// One line on what the board is.
    #[serde(default)]
    pub description: String,
    /// The IMU: rate, resolution and ranges.
    pub imu: ImuSpec,
    /// The MCU: clock and how emulator instruction counts become time estimates.
    #[serde(default)]
    pub mcu: Option<McuSpec>,
    /// Memory budget the firmware is linked against.
    #[serde(default)]
    pub memory: Option<MemorySpec>,
    /// Currents per mode for the energy proxy, each with its source.
    #[serde(default)]
    pub power: Option<PowerSpec>,
    /// Radio currents (Wi-Fi / BLE), each with its source; absent when not modelled.
    #[serde(default)]
    pub radio: Option<RadioSpec>,
}

/// The MCU: name, ISA, clock and the CPI used for latency estimates.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct McuSpec {
    /// Chip name.
    pub name: String,
    /// Instruction set (e.g. `rv32imc`).
    pub isa: String,
    /// CPU clock in Hz.
    pub clock_hz: u64,
    /// Cycles per retired instruction used to turn instruction counts into an *estimated*
    /// latency. 1.0 until calibrated against a real board.
    pub cycles_per_instruction: f64,
    /// Where the CPI figure comes from.
    #[serde(default)]
    pub cpi_source: String,
}

impl McuSpec {
    /// Estimated milliseconds for `instructions` retired at this clock.
    pub fn estimate_ms(&self, instructions: u64) -> f64 {
        instructions as f64 * self.cycles_per_instruction / self.clock_hz as f64 * 1e3
    }
}

/// Memory budgets footprint checks compare against.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemorySpec {
    /// SRAM available to the application (data, bss, stack, arena).
    pub sram_bytes: u64,
    /// Flash available to firmware and model.
    pub flash_bytes: u64,
    /// Where the figures come from.
    #[serde(default)]
    pub source: String,
}

/// A current draw and where the figure comes from, printed beside every energy number.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Current {
    /// Current in mA.
    pub ma: f64,
    /// Datasheet or measurement the figure comes from.
    pub source: String,
}

/// Supply voltage and the currents of each power state, for energy estimates.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PowerSpec {
    /// Supply voltage in V.
    pub supply_v: f64,
    /// CPU running at `mcu.clock_hz`, radio off.
    pub active: Current,
    /// Between inferences: CPU in light sleep, RAM retained, IMU FIFO filling.
    pub light_sleep: Current,
    /// The IMU sampling accel+gyro at `imu.odr_hz`.
    pub imu: Current,
}

/// Radio currents while transmitting / receiving, for the energy proxy of reporting.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RadioSpec {
    /// What the radio is, e.g. `Wi-Fi 802.11 b/g/n + Bluetooth LE`.
    pub kind: String,
    /// Wi-Fi transmit current.
    #[serde(default)]
    pub wifi_tx: Option<Current>,
    /// Wi-Fi receive current.
    #[serde(default)]
    pub wifi_rx: Option<Current>,
    /// BLE transmit current.
    #[serde(default)]
    pub ble_tx: Option<Current>,
    /// BLE receive current.
    #[serde(default)]
    pub ble_rx: Option<Current>,
}

impl RadioSpec {
    /// The figures present, by field name.
    pub fn currents(&self) -> Vec<(&'static str, &Current)> {
        [
            ("wifi_tx", &self.wifi_tx),
            ("wifi_rx", &self.wifi_rx),
            ("ble_tx", &self.ble_tx),
            ("ble_rx", &self.ble_rx),
        ]
        .into_iter()
        .filter_map(|(name, c)| Some((name, c.as_ref()?)))
        .collect()
    }
}

/// The band's inertial sensor as the firmware sees it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImuSpec {
    /// Output data rate in Hz.
    pub odr_hz: f64,
    /// Bits per reading (signed).
    pub bits: u32,
    /// Accelerometer full scale in ±g.
    pub accel_range_g: f64,
    /// Gyroscope full scale in ±°/s.
    pub gyro_range_dps: f64,
    /// Datasheet sensitivity; when absent it is derived as range / 2^(bits-1).
    #[serde(default)]
    pub accel_sensitivity_mg_per_lsb: Option<f64>,
    /// Datasheet gyroscope sensitivity; when absent it is derived from range and bits.
    #[serde(default)]
    pub gyro_sensitivity_mdps_per_lsb: Option<f64>,
}

impl ImuSpec {
    /// mg per LSB: the datasheet figure, or range / 2^(bits-1).
    pub fn accel_mg_per_lsb(&self) -> f64 {
        self.accel_sensitivity_mg_per_lsb
            .unwrap_or(self.accel_range_g * 1000.0 / f64::from(1u32 << (self.bits - 1)))
    }

    /// mdps per LSB: the datasheet figure, or range / 2^(bits-1).
    pub fn gyro_mdps_per_lsb(&self) -> f64 {
        self.gyro_sensitivity_mdps_per_lsb
            .unwrap_or(self.gyro_range_dps * 1000.0 / f64::from(1u32 << (self.bits - 1)))
    }

    /// m/s² per LSB.
    pub fn accel_scale(&self) -> f64 {
        self.accel_mg_per_lsb() * 1e-3 * crate::datasets::STANDARD_GRAVITY
    }

    /// rad/s per LSB.
    pub fn gyro_scale(&self) -> f64 {
        (self.gyro_mdps_per_lsb() * 1e-3).to_radians()
    }

    /// Largest raw accel reading: the range in LSB, capped by the register width.
    pub fn accel_max_lsb(&self) -> i32 {
        self.max_lsb(self.accel_range_g * 1000.0 / self.accel_mg_per_lsb())
    }

    /// Largest raw gyro reading: the range in LSB, capped by the register width.
    pub fn gyro_max_lsb(&self) -> i32 {
        self.max_lsb(self.gyro_range_dps * 1000.0 / self.gyro_mdps_per_lsb())
    }

    fn max_lsb(&self, range_lsb: f64) -> i32 {
        let register_max = (1i64 << (self.bits - 1)) - 1;
        (range_lsb.round() as i64).min(register_max) as i32
    }
}

/// Why a board profile could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum BoardError {
    /// The profile file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The profile is not valid YAML for a profile.
    #[error("{path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's message.
        message: String,
    },
    /// No profile of that name.
    #[error("no board profile `{name}` (looked for {path}); available: {available}")]
    NotFound {
        /// The name asked for.
        name: String,
        /// The file looked for.
        path: PathBuf,
        /// The profiles there are.
        available: String,
    },
}

impl BoardProfile {
    /// The profile harbor uses when none is named.
    pub const DEFAULT: &'static str = "esp32c3-band";

    /// Reads and checks a profile file.
    pub fn from_file(path: &Path) -> Result<Self, BoardError> {
        let text = std::fs::read_to_string(path).map_err(|source| BoardError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_yaml(&text, path)
    }

    /// Parses and checks a profile's YAML; `path` is for messages.
    pub fn from_yaml(text: &str, path: &Path) -> Result<Self, BoardError> {
        let profile: BoardProfile =
            serde_saphyr::from_str(text).map_err(|e| BoardError::Parse {
                path: path.to_path_buf(),
                message: e.to_string(),
            })?;
        profile.check().map_err(|message| BoardError::Parse {
            path: path.to_path_buf(),
            message,
        })?;
        Ok(profile)
    }

    /// Resolves `name_or_path`: an existing file path, or the name of a profile in `boards/`.
    pub fn load(name_or_path: &str) -> Result<Self, BoardError> {
        let as_path = Path::new(name_or_path);
        if as_path.is_file() {
            return Self::from_file(as_path);
        }
        let path = boards_dir().join(format!("{name_or_path}.yaml"));
        if path.is_file() {
            return Self::from_file(&path);
        }
        Err(BoardError::NotFound {
            name: name_or_path.to_string(),
            path,
            available: available().join(", "),
        })
    }

    fn check(&self) -> Result<(), String> {
        let imu = &self.imu;
        if !(imu.odr_hz.is_finite() && imu.odr_hz > 0.0) {
            return Err(format!(
                "imu.odr_hz must be a positive rate, got {}",
                imu.odr_hz
            ));
        }
        if !(2..=32).contains(&imu.bits) {
            return Err(format!(
                "imu.bits must be between 2 and 32, got {}",
                imu.bits
            ));
        }
        if !(positive(imu.accel_range_g) && positive(imu.gyro_range_dps)) {
            return Err("imu ranges must be positive".into());
        }
        if let Some(mcu) = &self.mcu
            && (mcu.clock_hz == 0 || !positive(mcu.cycles_per_instruction))
        {
            return Err("mcu.clock_hz and mcu.cycles_per_instruction must be positive".into());
        }
        if let Some(power) = &self.power {
            let currents = [
                ("active", &power.active),
                ("light_sleep", &power.light_sleep),
                ("imu", &power.imu),
            ];
            if !positive(power.supply_v) || currents.iter().any(|(_, c)| !non_negative(c.ma)) {
                return Err("power.supply_v must be positive and currents non-negative".into());
            }
            if let Some((name, _)) = currents.iter().find(|(_, c)| c.source.trim().is_empty()) {
                return Err(format!(
                    "power.{name}.source is empty: every current needs its source"
                ));
            }
        }
        if let Some(radio) = &self.radio {
            let currents = radio.currents();
            if currents.is_empty() {
                return Err(
                    "radio has no currents: give at least one of wifi_tx, wifi_rx, ble_tx, ble_rx"
                        .into(),
                );
            }
            if let Some((name, c)) = currents
                .iter()
                .find(|(_, c)| !non_negative(c.ma) || c.source.trim().is_empty())
            {
                return Err(format!(
                    "radio.{name} needs a non-negative ma and a source, got {} mA from {:?}",
                    c.ma, c.source
                ));
            }
        }
        Ok(())
    }
}

/// The folder holding the committed board profiles.
pub fn boards_dir() -> PathBuf {
    crate::datasets::workspace_root().join("boards")
}

/// Names of the committed board profiles, sorted.
pub fn available() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(boards_dir())
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            e.file_name()
                .to_str()?
                .strip_suffix(".yaml")
                .map(str::to_string)
        })
        .collect();
    names.sort();
    names
}

/// `x > 0`, false for NaN (so a NaN figure is refused).
fn positive(x: f64) -> bool {
    x > 0.0
}

/// `x >= 0`, false for NaN (so a NaN figure is refused).
fn non_negative(x: f64) -> bool {
    x >= 0.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_profile_loads_with_datasheet_scales() {
        let b = BoardProfile::load(BoardProfile::DEFAULT).unwrap();
        assert_eq!(b.imu.odr_hz, 25.0);
        // 0.122 mg/LSB → 1.1964e-3 m/s² per LSB; ±4 g fits in 32787 LSB → clipped to the register.
        assert!((b.imu.accel_scale() - 0.122e-3 * 9.80665).abs() < 1e-12);
        assert_eq!(b.imu.accel_max_lsb(), 32767);
        // 17.5 mdps/LSB at ±500 dps → 28571 LSB full scale.
        assert_eq!(b.imu.gyro_max_lsb(), 28571);
    }

    #[test]
    fn unknown_keys_and_bad_rates_are_errors() {
        let text = "name: x\nimu: {odr_hz: 25, bits: 16, accel_range_g: 4, gyro_range_dps: 500, colour: red}\n";
        let err = BoardProfile::from_yaml(text, Path::new("x.yaml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("colour"), "{err}");
        let text = "name: x\nimu: {odr_hz: 0, bits: 16, accel_range_g: 4, gyro_range_dps: 500}\n";
        let err = BoardProfile::from_yaml(text, Path::new("x.yaml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("odr_hz"), "{err}");
    }

    #[test]
    fn default_profile_has_clock_memory_and_sourced_currents() {
        let b = BoardProfile::load(BoardProfile::DEFAULT).unwrap();
        let mcu = b.mcu.expect("mcu section");
        assert_eq!(mcu.clock_hz, 160_000_000);
        // 1.6 M instructions at CPI 1.0 and 160 MHz is 10 ms.
        assert!(
            (McuSpec {
                cycles_per_instruction: 1.0,
                ..mcu
            }
            .estimate_ms(1_600_000)
                - 10.0)
                .abs()
                < 1e-9
        );
        let power = b.power.expect("power section");
        assert!(power.active.ma > power.light_sleep.ma);
        assert!(!power.imu.source.is_empty());
    }

    #[test]
    fn a_current_without_source_is_rejected() {
        let text = "name: x\nimu: {odr_hz: 25, bits: 16, accel_range_g: 4, gyro_range_dps: 500}\npower:\n  supply_v: 3.3\n  active: {ma: 20, source: ds}\n  light_sleep: {ma: 0.3, source: ''}\n  imu: {ma: 0.5, source: ds}\n";
        let err = BoardProfile::from_yaml(text, Path::new("x.yaml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("light_sleep.source"), "{err}");
    }

    #[test]
    fn every_committed_profile_loads_with_sourced_figures() {
        let names = available();
        for expected in ["esp32c3-band", "esp32-band", "nrf52840-band"] {
            assert!(
                names.iter().any(|n| n == expected),
                "{expected} missing from {names:?}"
            );
        }
        for name in &names {
            let b = BoardProfile::load(name).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(&b.name, name, "profile name must match its file name");
            let (mcu, memory, power) = (
                b.mcu.expect("mcu"),
                b.memory.expect("memory"),
                b.power.expect("power"),
            );
            assert!(
                mcu.clock_hz >= 1_000_000 && memory.sram_bytes > 0 && memory.flash_bytes > 0,
                "{name}"
            );
            assert!(!memory.source.trim().is_empty(), "{name}: memory.source");
            assert!(
                power.active.ma > power.light_sleep.ma,
                "{name}: active must draw more than light sleep"
            );
        }
    }

    #[test]
    fn other_boards_have_their_datasheet_clock_memory_and_radio() {
        let esp32 = BoardProfile::load("esp32-band").unwrap();
        let mcu = esp32.mcu.unwrap();
        assert_eq!(mcu.clock_hz, 240_000_000);
        // 2.4 M instructions at CPI 1 and 240 MHz: 10 ms.
        assert!((mcu.estimate_ms(2_400_000) - 10.0).abs() < 1e-9);
        let radio = esp32.radio.unwrap();
        assert!(radio.wifi_tx.unwrap().ma > radio.ble_tx.unwrap().ma);
        let nrf = BoardProfile::load("nrf52840-band").unwrap();
        assert_eq!(nrf.mcu.unwrap().clock_hz, 64_000_000);
        let memory = nrf.memory.unwrap();
        assert_eq!(
            (memory.sram_bytes, memory.flash_bytes),
            (256 * 1024, 1024 * 1024)
        );
        let radio = nrf.radio.unwrap();
        assert!(radio.wifi_tx.is_none() && radio.ble_tx.is_some());
    }

    #[test]
    fn a_radio_current_without_source_or_any_figure_is_rejected() {
        let base = "name: x\nimu: {odr_hz: 25, bits: 16, accel_range_g: 4, gyro_range_dps: 500}\n";
        let text = format!("{base}radio:\n  kind: BLE\n  ble_tx: {{ma: 6.4, source: ' '}}\n");
        let err = BoardProfile::from_yaml(&text, Path::new("x.yaml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("radio.ble_tx"), "{err}");
        let text = format!("{base}radio:\n  kind: BLE\n");
        let err = BoardProfile::from_yaml(&text, Path::new("x.yaml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("radio has no currents"), "{err}");
    }

    #[test]
    fn missing_profile_lists_the_available_ones() {
        let err = BoardProfile::load("no-such-board").unwrap_err().to_string();
        assert!(err.contains("esp32c3-band"), "{err}");
    }
}
