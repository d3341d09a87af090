//! The classes a model predicts and how dataset activities map onto them.

use std::collections::BTreeMap;

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
}
