//! Over-the-air updates from the harness's side: the band's radio link to the mock cloud.

pub mod device;
pub mod junit;
pub mod link_model;
pub mod personalized;
pub mod radio;
pub mod scenario;
pub mod sweep;
