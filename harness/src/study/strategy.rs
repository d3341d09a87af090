//! Fine-tuning strategies of the cross-dataset studies: Rd (random init, trained on the
//! target only), PF (pre-trained, feature extractor frozen, head trained) and PU
//! (pre-trained, every layer trained).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::model::Arch;
use crate::model::recipe::TrainConfig;
use crate::model::windows::WindowSet;
use crate::train::cnn::Cnn;
use crate::train::fit::{self, Quiet};
use crate::train::personalize::freeze_features;

/// How a model for the target dataset is made.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Strategy {
    /// Random initialization, trained on the target's fine-tuning part only.
    Rd,
    /// Pre-trained on the sources; convolutions frozen, the head fine-tuned.
    Pf,
    /// Pre-trained on the sources; every layer fine-tuned.
    Pu,
}

impl Strategy {
    /// The command-line name.
    pub fn name(self) -> &'static str {
        match self {
            Strategy::Rd => "rd",
            Strategy::Pf => "pf",
            Strategy::Pu => "pu",
        }
    }

    /// Whether it starts from the pre-trained model.
    pub fn pre_trained(self) -> bool {
        self != Strategy::Rd
    }
}

impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An unknown strategy name.
#[derive(Debug, thiserror::Error)]
#[error("unknown strategy `{0}` (rd, pf or pu)")]
pub struct UnknownStrategy(String);

impl FromStr for Strategy {
    type Err = UnknownStrategy;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "rd" => Ok(Strategy::Rd),
            "pf" => Ok(Strategy::Pf),
            "pu" => Ok(Strategy::Pu),
            other => Err(UnknownStrategy(other.into())),
        }
    }
}

/// Makes the target's model: with no fine-tuning windows, Rd is the untrained network and
/// PF/PU the pre-trained one as it is (zero-shot); otherwise it trains on `train`, stopping
/// early on `val` when `val` has windows.
pub fn fine_tune(
    strategy: Strategy,
    pre_trained: Option<&Cnn>,
    arch: &Arch,
    train: &WindowSet,
    val: &WindowSet,
    cfg: &TrainConfig,
) -> Cnn {
    let start = match (strategy, pre_trained) {
        (Strategy::Pf, Some(p)) => freeze_features(p.clone()),
        (Strategy::Pu, Some(p)) => p.clone(),
        _ => Cnn::new(arch, &fit::device(cfg.seed)),
    };
    if train.is_empty() {
        return start;
    }
    let val = (!val.is_empty()).then_some(val);
    fit::fit(start, arch, train, val, cfg, &Quiet).0
}
