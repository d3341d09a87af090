//! The YAML shape of an OTA scenario (`kind: ota`), as written by users (docs/cloud.md).

use serde::Deserialize;
use serde_saphyr::Spanned;

use super::ota::{FaultSpec, PersonalizeSpec};
use super::schema::unplaced;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawOta {
    pub kind: Spanned<String>,
    pub name: String,
    /// Base model directory, relative to the scenario file.
    pub model: Spanned<String>,
    #[serde(default = "default_board")]
    pub board: Spanned<String>,
    #[serde(default)]
    pub link: RawLink,
    /// Band firmware ELF, relative to the scenario file.
    #[serde(default)]
    pub firmware: Option<Spanned<String>>,
    pub cases: Spanned<Vec<RawCase>>,
}

fn default_board() -> Spanned<String> {
    unplaced(crate::board::BoardProfile::DEFAULT.to_string())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLink {
    #[serde(default = "default_radio")]
    pub radio: Spanned<String>,
    #[serde(default)]
    pub throughput_bps: Option<Spanned<f64>>,
    #[serde(default)]
    pub latency_ms: Option<u64>,
    #[serde(default)]
    pub loss: Option<Spanned<f64>>,
    #[serde(default = "default_seed")]
    pub seed: u64,
}

fn default_radio() -> Spanned<String> {
    unplaced("wifi".into())
}

fn default_seed() -> u64 {
    1
}

impl Default for RawLink {
    fn default() -> Self {
        RawLink {
            radio: default_radio(),
            throughput_bps: None,
            latency_ms: None,
            loss: None,
            seed: default_seed(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCase {
    pub name: Spanned<String>,
    #[serde(default)]
    pub fault: Option<Spanned<FaultSpec>>,
    pub expect: Spanned<String>,
    #[serde(default = "one")]
    pub current_version: u32,
    #[serde(default = "two")]
    pub release_version: u32,
    #[serde(default)]
    pub devices: Option<Spanned<usize>>,
    #[serde(default)]
    pub loss: Option<Spanned<f64>>,
    #[serde(default)]
    pub sweep: Option<Spanned<String>>,
    #[serde(default)]
    pub self_test_fails: Option<Spanned<bool>>,
    #[serde(default)]
    pub personalize: Option<Spanned<PersonalizeSpec>>,
}

fn one() -> u32 {
    1
}

fn two() -> u32 {
    2
}
