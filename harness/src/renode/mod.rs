//! Renode: the band firmware on Renode with the IMU fed from RESD files.
//!
//! [`resd`] is the RESD container (bytes out and back in), [`convert`] turns harbor's IMU
//! stream into RESD blocks, [`script`] renders the `.resc` from `renode/band.resc`, and
//! [`target::RenodeTarget`] runs it. `docs/renode.md` has the format facts and their sources.

pub mod convert;
pub mod resd;
pub mod script;
pub mod target;

pub use convert::{ImuSegment, ResdLayout, ResdScale};
pub use resd::{Block, ResdError, ResdFile, SampleType};
pub use target::{INSTALL_HINT, RenodeConfig, RenodeError, RenodeTarget, find_renode};
