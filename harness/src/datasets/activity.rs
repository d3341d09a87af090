//! The canonical activity vocabulary every dataset's labels are mapped onto.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One activity label in harbor's canonical vocabulary.
///
/// Activities that several datasets share get a canonical variant; an activity only one
/// dataset has keeps its own name under [`Activity::Other`] (e.g. WISDM's `typing`), so no
/// label is ever forced into a wrong class. Postural transitions and unlabelled spans are
/// explicit so windowing can exclude them deliberately instead of by accident.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Activity {
    /// Walking on level ground.
    Walking,
    /// Jogging.
    Jogging,
    /// Running.
    Running,
    /// Stairs without a direction (WISDM 2019's single "stairs" activity).
    Stairs,
    /// Walking upstairs.
    Upstairs,
    /// Walking downstairs.
    Downstairs,
    /// Sitting.
    Sitting,
    /// Standing.
    Standing,
    /// Lying down.
    Lying,
    /// Cycling.
    Cycling,
    /// A postural transition, named `from_to_to` (e.g. `sit_to_stand`).
    Transition(String),
    /// A dataset-specific activity, kept under its own snake_case name.
    Other(String),
    /// No label was recorded for this span.
    Unlabelled,
}

impl Activity {
    /// The canonical snake_case name used in files, reports and on the command line.
    pub fn name(&self) -> &str {
        match self {
            Activity::Walking => "walking",
            Activity::Jogging => "jogging",
            Activity::Running => "running",
            Activity::Stairs => "stairs",
            Activity::Upstairs => "upstairs",
            Activity::Downstairs => "downstairs",
            Activity::Sitting => "sitting",
            Activity::Standing => "standing",
            Activity::Lying => "lying",
            Activity::Cycling => "cycling",
            Activity::Transition(name) | Activity::Other(name) => name,
            Activity::Unlabelled => "unlabelled",
        }
    }

    /// True for spans a classifier should be trained and scored on.
    pub fn is_activity(&self) -> bool {
        !matches!(self, Activity::Transition(_) | Activity::Unlabelled)
    }

    /// Parses a canonical name; unknown names become [`Activity::Other`], names containing
    /// `_to_` become [`Activity::Transition`].
    pub fn from_name(name: &str) -> Activity {
        let name = name.trim().to_ascii_lowercase().replace([' ', '-'], "_");
        match name.as_str() {
            "walking" => Activity::Walking,
            "jogging" => Activity::Jogging,
            "running" => Activity::Running,
            "stairs" => Activity::Stairs,
            "upstairs" => Activity::Upstairs,
            "downstairs" => Activity::Downstairs,
            "sitting" => Activity::Sitting,
            "standing" => Activity::Standing,
            "lying" => Activity::Lying,
            "cycling" => Activity::Cycling,
            "unlabelled" => Activity::Unlabelled,
            _ if name.contains("_to_") => Activity::Transition(name),
            _ => Activity::Other(name),
        }
    }
}

impl fmt::Display for Activity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Activity {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Activity::from_name(s))
    }
}

impl Serialize for Activity {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for Activity {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        Ok(Activity::from_name(&name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for a in [
            Activity::Walking,
            Activity::Upstairs,
            Activity::Lying,
            Activity::Transition("sit_to_stand".into()),
            Activity::Other("typing".into()),
            Activity::Unlabelled,
        ] {
            assert_eq!(Activity::from_name(a.name()), a);
        }
    }

    #[test]
    fn transitions_and_unlabelled_are_not_activities() {
        assert!(!Activity::from_name("Stand to Sit").is_activity());
        assert_eq!(
            Activity::from_name("Stand to Sit"),
            Activity::Transition("stand_to_sit".into())
        );
        assert!(!Activity::Unlabelled.is_activity());
        assert!(Activity::Other("badminton".into()).is_activity());
    }
}
