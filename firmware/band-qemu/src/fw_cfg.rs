//! QEMU's fw_cfg device on `virt` (MMIO at 0x1010_0000): how the harness hands the band a
//! test setting at boot, before any byte crosses the UART. Used for the power-cut hook at
//! boot (`-fw_cfg name=opt/harbor/power-cut-at-boot,string=<n>`), so a cut can land in the
//! boot decision's own flash writes.

const BASE: usize = 0x1010_0000;
const DATA: usize = BASE;
/// 16-bit selector, big-endian.
const SELECTOR: usize = BASE + 8;
const FILE_DIR: u16 = 0x0019;
const NAME_LEN: usize = 56;

fn select(key: u16) {
    // SAFETY: fw_cfg's selector register on `virt`.
    unsafe { core::ptr::write_volatile(SELECTOR as *mut u16, key.to_be()) }
}

fn read_byte() -> u8 {
    // SAFETY: fw_cfg's data register; each read returns the next byte of the selected item.
    unsafe { core::ptr::read_volatile(DATA as *const u8) }
}

fn read_be32() -> u32 {
    u32::from_be_bytes([read_byte(), read_byte(), read_byte(), read_byte()])
}

/// The decimal number in fw_cfg file `name`, if QEMU was given one.
pub fn number(name: &str) -> Option<u32> {
    select(FILE_DIR);
    let count = read_be32();
    // A missing device reads as all ones or zeros; bound the walk either way.
    if count == 0 || count > 256 {
        return None;
    }
    for _ in 0..count {
        let size = read_be32();
        let key = u16::from_be_bytes([read_byte(), read_byte()]);
        let _reserved = [read_byte(), read_byte()];
        let mut entry = [0u8; NAME_LEN];
        for b in entry.iter_mut() {
            *b = read_byte();
        }
        let len = entry.iter().position(|&b| b == 0).unwrap_or(NAME_LEN);
        if &entry[..len] == name.as_bytes() {
            select(key);
            let mut value: u32 = 0;
            for _ in 0..size.min(10) {
                let b = read_byte();
                if !b.is_ascii_digit() {
                    break;
                }
                value = value.checked_mul(10)?.checked_add(u32::from(b - b'0'))?;
            }
            return Some(value);
        }
    }
    None
}
