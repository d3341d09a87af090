//! The symbol that marks an ELF as a harbor band image.
//!
//! `harbor validate` and `harbor run` look for [`HARBOR_BAND_IMAGE`] in a target's firmware
//! before starting an emulator, so an image that is not harbor's band firmware (another
//! program, another board's build) is rejected up front instead of timing out at boot.
//! Every image built on this crate carries it: [`keep`] runs at boot, so neither the
//! optimizer nor the linker's section GC can drop it.

/// The marker: a fixed text the host compares byte for byte (docs/firmware.md).
#[unsafe(no_mangle)]
pub static HARBOR_BAND_IMAGE: [u8; 20] = *b"harbor-band-image-v1";

/// Takes the marker's address where the optimizer cannot see through it, keeping it linked.
pub(crate) fn keep() {
    core::hint::black_box(&HARBOR_BAND_IMAGE);
}
