//! Section sizes read with the `object` crate agree with binutils' `size -A` on the real
//! band firmware image.

use std::path::Path;
use std::process::Command;

use harbor::metrics::ElfSizes;

/// `size -A` lines: `name size addr`.
fn size_a(elf: &Path) -> Vec<(String, u64)> {
    let output = Command::new("size")
        .arg("-A")
        .arg(elf)
        .output()
        .expect("binutils `size` is installed (Debian package binutils)");
    assert!(output.status.success());
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let (name, size) = (f.next()?, f.next()?.parse().ok()?);
            name.starts_with('.').then(|| (name.to_string(), size))
        })
        .collect()
}

#[test]
fn footprint_sections_agree_with_binutils_size() {
    let elf = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/firmware/elf/band-qemu.elf");
    assert!(
        elf.is_file(),
        "{} is missing: run scripts/build-firmware",
        elf.display()
    );
    let sections = size_a(&elf);
    let get = |name: &str| {
        sections
            .iter()
            .find(|(n, _)| n == name)
            .map_or(0, |(_, s)| *s)
    };
    let ours = ElfSizes::read(&elf).unwrap();
    assert_eq!(ours.code_and_rodata, get(".text") + get(".rodata"));
    assert_eq!(ours.data, get(".data"));
    assert_eq!(ours.bss, get(".bss"));
    assert_eq!(ours.stack_reserved, get(".stack"));
    assert_eq!(ours.other_reserved, get(".model_slot"));
    // The linker script's 96 KB stack reservation (firmware/band-qemu/link.x).
    assert_eq!(ours.stack_reserved, 96 * 1024);
    assert_eq!(
        ours.flash_image(),
        get(".text") + get(".rodata") + get(".data")
    );
}
