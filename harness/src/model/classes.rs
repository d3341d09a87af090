//! The classes a model predicts and how dataset activities map onto them.

use std::collections::BTreeMap;

use crate::datasets::Activity;

/// Why a `--classes` value is refused.
#[derive(Debug, thiserror::Error)]
pub enum ClassSpecError {
    /// A class or activity name is empty.
    #[error("empty class or activity name in `{0}`")]
    Empty(String),
    /// The same class name twice.
    #[error("class `{0}` is listed twice")]
    DuplicateClass(String),
    /// An activity mapped onto two classes.
    #[error("activity `{0}` is in two classes: `{1}` and `{2}`")]
    TwoClasses(String, String, String),
}

/// Which activities a model predicts and how dataset activities map onto them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClassSet {
    /// Class names, in output order.
    pub classes: Vec<String>,
    /// Canonical activity name → class index. Activities not listed are left out.
    pub members: BTreeMap<String, usize>,
}

impl ClassSet {
    /// The classes of the band model on WISDM 2019 watch (see docs/models.md for why):
    /// locomotion, postures and the daily hand activities a wrist band sees every day.
    /// The four eating activities are one class: on the wrist they are the same hand-to-mouth
    /// motion. Sports drills (kicking, catch, dribbling), writing, clapping, folding and
    /// drinking are left out.
    pub fn wisdm_band() -> Self {
        let groups: [(&str, &[&str]); 8] = [
            ("walking", &["walking"]),
            ("jogging", &["jogging"]),
            ("stairs", &["stairs"]),
            ("sitting", &["sitting"]),
            ("standing", &["standing"]),
            ("typing", &["typing"]),
            ("brushing_teeth", &["brushing_teeth"]),
            (
                "eating",
                &[
                    "eating_soup",
                    "eating_chips",
                    "eating_pasta",
                    "eating_sandwich",
                ],
            ),
        ];
        Self::from_groups(&groups)
    }

    /// A class set from `(class, activities)` groups, classes in the given order.
    pub fn from_groups(groups: &[(&str, &[&str])]) -> Self {
        let mut members = BTreeMap::new();
        for (i, (_, names)) in groups.iter().enumerate() {
            for n in *names {
                members.insert((*n).to_string(), i);
            }
        }
        ClassSet {
            classes: groups.iter().map(|(c, _)| (*c).to_string()).collect(),
            members,
        }
    }

    /// Parses `--classes`: comma-separated classes, each `activity` (a class of that one
    /// canonical activity) or `class=activity+activity` (several activities merged), e.g.
    /// `walking,jogging,eating=eating_soup+eating_chips`. Names are canonicalized like
    /// dataset labels (`Eating Soup` → `eating_soup`).
    pub fn parse(spec: &str) -> Result<Self, ClassSpecError> {
        let canonical = |n: &str| Activity::from_name(n).name().to_string();
        let mut classes = Vec::new();
        let mut members = BTreeMap::new();
        for item in spec.split(',') {
            let item = item.trim();
            let (class, activities): (String, Vec<String>) = match item.split_once('=') {
                Some((c, acts)) => (
                    canonical(c),
                    acts.split('+').map(|a| a.trim().to_string()).collect(),
                ),
                None => (canonical(item), vec![item.to_string()]),
            };
            if class.is_empty() || activities.iter().any(|a| a.is_empty()) {
                return Err(ClassSpecError::Empty(spec.to_string()));
            }
            if classes.contains(&class) {
                return Err(ClassSpecError::DuplicateClass(class));
            }
            for a in activities {
                let a = canonical(&a);
                if let Some(&other) = members.get(&a) {
                    let other: &String = &classes[other];
                    return Err(ClassSpecError::TwoClasses(a, other.clone(), class));
                }
                members.insert(a, classes.len());
            }
            classes.push(class);
        }
        Ok(ClassSet { classes, members })
    }

    /// Activities of the class set that `known` (a dataset's activities) does not have.
    pub fn unknown_activities(&self, known: &[String]) -> Vec<String> {
        self.members
            .keys()
            .filter(|a| !known.contains(a))
            .cloned()
            .collect()
    }

    /// The class set in `--classes` syntax (merged classes as `class=a+b`).
    pub fn to_spec(&self) -> String {
        (0..self.len())
            .map(|c| {
                let members = self.members_of(c);
                if members.len() == 1 && members[0] == self.classes[c] {
                    self.classes[c].clone()
                } else {
                    format!("{}={}", self.classes[c], members.join("+"))
                }
            })
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Number of classes.
    pub fn len(&self) -> usize {
        self.classes.len()
    }

    /// True when there are no classes.
    pub fn is_empty(&self) -> bool {
        self.classes.is_empty()
    }

    /// The class of a canonical activity name, `None` if the model leaves it out.
    pub fn class_of(&self, activity: &str) -> Option<usize> {
        self.members.get(activity).copied()
    }

    /// Activity names that map to class `class`, for the model card.
    pub fn members_of(&self, class: usize) -> Vec<String> {
        self.members
            .iter()
            .filter(|(_, c)| **c == class)
            .map(|(n, _)| n.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn band_class_set_merges_eating_and_drops_sports() {
        let c = ClassSet::wisdm_band();
        assert_eq!(c.len(), 8);
        assert_eq!(c.class_of("eating_pasta"), c.class_of("eating_soup"));
        assert_eq!(c.class_of("kicking"), None);
        assert_eq!(c.members_of(7).len(), 4);
    }

    #[test]
    fn parsed_spec_maps_and_merges_activities() {
        let c = ClassSet::parse("walking, Stairs,eating=eating_soup+eating_chips").unwrap();
        assert_eq!(c.classes, ["walking", "stairs", "eating"]);
        assert_eq!(c.class_of("stairs"), Some(1));
        assert_eq!(c.class_of("eating_chips"), Some(2));
        assert_eq!(c.class_of("jogging"), None);
        assert_eq!(
            c.to_spec(),
            "walking,stairs,eating=eating_chips+eating_soup"
        );
        assert_eq!(ClassSet::parse(&c.to_spec()).unwrap(), c);
        assert_eq!(
            c.unknown_activities(&["walking".into(), "stairs".into(), "eating_soup".into()]),
            ["eating_chips"]
        );
        assert!(ClassSet::parse("walking,walking").is_err());
        assert!(ClassSet::parse("a=walking,b=walking").is_err());
        assert!(ClassSet::parse("walking,,sitting").is_err());
        assert!(ClassSet::parse("eat=").is_err());
    }
}
