//! Links with esp-hal's linker scripts (memory map, vector table, app descriptor section).
fn main() {
    println!("cargo:rustc-link-arg=-Tlinkall.x");
}
