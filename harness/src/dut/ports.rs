//! The serial ports on this machine, for `harbor ports`: device path and, for USB adapters
//! and boards with built-in USB, the VID:PID and strings that say which board it is.
//!
//! serialport built without libudev reads `/sys/class/tty/*/device` on Linux: USB ports come
//! with their IDs, pseudo-terminals (no `device` entry) are not listed.

use serialport::SerialPortType;

/// One serial port.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct PortInfo {
    /// The device path (e.g. `/dev/ttyUSB0`).
    pub path: String,
    /// `usb`, `pci`, `bluetooth` or `other`.
    pub kind: &'static str,
    /// USB vendor and product id, e.g. `303a:1001` (Espressif's built-in USB-Serial/JTAG).
    pub usb_id: Option<String>,
    /// USB manufacturer string.
    pub manufacturer: Option<String>,
    /// USB product string.
    pub product: Option<String>,
    /// USB serial number.
    pub serial_number: Option<String>,
}

/// The ports serialport finds, sorted by path.
pub fn list_ports() -> Result<Vec<PortInfo>, String> {
    // serialport panics when the folder it scans is missing (some containers).
    #[cfg(target_os = "linux")]
    if !std::path::Path::new("/sys/class/tty").is_dir() {
        return Err("/sys/class/tty is missing: serial ports cannot be listed here".into());
    }
    let mut ports: Vec<PortInfo> = serialport::available_ports()
        .map_err(|e| format!("listing serial ports: {e}"))?
        .into_iter()
        .map(|p| port_info(p.port_name, p.port_type))
        .collect();
    ports.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(ports)
}

fn port_info(path: String, kind: SerialPortType) -> PortInfo {
    let mut info = PortInfo {
        path,
        kind: "other",
        usb_id: None,
        manufacturer: None,
        product: None,
        serial_number: None,
    };
    match kind {
        SerialPortType::UsbPort(usb) => {
            info.kind = "usb";
            info.usb_id = Some(format!("{:04x}:{:04x}", usb.vid, usb.pid));
            info.manufacturer = usb.manufacturer;
            info.product = usb.product;
            info.serial_number = usb.serial_number;
        }
        SerialPortType::PciPort => info.kind = "pci",
        SerialPortType::BluetoothPort => info.kind = "bluetooth",
        SerialPortType::Unknown => {}
    }
    info
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usb_ports_carry_their_ids_as_hex() {
        let usb = serialport::UsbPortInfo {
            vid: 0x303a,
            pid: 0x1001,
            serial_number: Some("F4:12:FA".into()),
            manufacturer: Some("Espressif".into()),
            product: Some("USB JTAG/serial debug unit".into()),
            interface: Some(0),
        };
        let info = port_info("/dev/ttyACM0".into(), SerialPortType::UsbPort(usb));
        assert_eq!(info.kind, "usb");
        assert_eq!(info.usb_id.as_deref(), Some("303a:1001"));
        assert_eq!(info.manufacturer.as_deref(), Some("Espressif"));
        let pci = port_info("/dev/ttyS0".into(), SerialPortType::PciPort);
        assert_eq!((pci.kind, pci.usb_id), ("pci", None));
    }

    #[test]
    fn listing_this_machine_works_and_is_sorted() {
        let ports = list_ports().unwrap();
        assert!(
            ports.windows(2).all(|w| w[0].path <= w[1].path),
            "{ports:?}"
        );
        assert!(
            ports.iter().all(|p| p.path.starts_with("/dev/")),
            "{ports:?}"
        );
    }
}
