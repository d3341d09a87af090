//! Explicit subject lists (`1600-1640,1642`) and the split they define.
//!
//! A listed id must exist in the dataset; a range is a span of ids and only has to match at
//! least one (public datasets skip ids, e.g. WISDM 2019 watch has no 1629).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use super::SignalError;
use super::split::{Part, Split, SubjectId};
use super::window::Windows;
use crate::rng::chacha_shuffle;

/// One item of a subject list: an id, or an inclusive range of numeric ids.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SubjectItem {
    /// One subject id, as the dataset spells it.
    One(String),
    /// Numeric ids `from..=to`.
    Range {
        /// First id.
        from: u64,
        /// Last id.
        to: u64,
    },
}

/// A comma-separated list of subject ids and ranges, as given on the command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubjectList {
    /// The items in the order given.
    pub items: Vec<SubjectItem>,
}

/// Why a subject list does not parse.
#[derive(Debug, thiserror::Error)]
pub enum SubjectListError {
    /// The list has no items.
    #[error("empty subject list")]
    Empty,
    /// An item is empty (`1600,,1601`).
    #[error("empty item in subject list `{0}`")]
    EmptyItem(String),
    /// A range's ends are not numbers, or the range runs backwards.
    #[error("bad subject range `{0}`: expected FIRST-LAST with numeric ids, FIRST ≤ LAST")]
    BadRange(String),
}

impl FromStr for SubjectList {
    type Err = SubjectListError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.trim().is_empty() {
            return Err(SubjectListError::Empty);
        }
        let items = s
            .split(',')
            .map(|item| {
                let item = item.trim();
                if item.is_empty() {
                    return Err(SubjectListError::EmptyItem(s.to_string()));
                }
                let Some((a, b)) = item.split_once('-') else {
                    return Ok(SubjectItem::One(item.to_string()));
                };
                match (a.trim().parse::<u64>(), b.trim().parse::<u64>()) {
                    (Ok(from), Ok(to)) if from <= to => Ok(SubjectItem::Range { from, to }),
                    _ => Err(SubjectListError::BadRange(item.to_string())),
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(SubjectList { items })
    }
}

impl fmt::Display for SubjectList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, item) in self.items.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            match item {
                SubjectItem::One(id) => f.write_str(id)?,
                SubjectItem::Range { from, to } => write!(f, "{from}-{to}")?,
            }
        }
        Ok(())
    }
}

impl SubjectList {
    /// The subjects of `present` this list names, sorted. `what` names the list in errors.
    pub fn resolve(
        &self,
        present: &BTreeSet<String>,
        what: &str,
    ) -> Result<BTreeSet<String>, SignalError> {
        let mut out = BTreeSet::new();
        for item in &self.items {
            match item {
                SubjectItem::One(id) => {
                    if !present.contains(id) {
                        return Err(SignalError::Split(format!(
                            "{what} subjects: unknown subject `{id}` (the dataset has {})",
                            summary(present)
                        )));
                    }
                    out.insert(id.clone());
                }
                SubjectItem::Range { from, to } => {
                    let hits: Vec<&String> = present
                        .iter()
                        .filter(|s| s.parse::<u64>().is_ok_and(|n| (*from..=*to).contains(&n)))
                        .collect();
                    if hits.is_empty() {
                        return Err(SignalError::Split(format!(
                            "{what} subjects: no subject in range `{from}-{to}` (the dataset has {})",
                            summary(present)
                        )));
                    }
                    out.extend(hits.into_iter().cloned());
                }
            }
        }
        Ok(out)
    }
}

fn summary(present: &BTreeSet<String>) -> String {
    match (present.first(), present.last()) {
        (Some(a), Some(b)) => format!("{} subjects, {a} … {b}", present.len()),
        _ => "no subjects".into(),
    }
}

/// Which subjects go where. Test is required; train defaults to every subject not in test
/// or val; val defaults to a seeded `val_fraction` of the train subjects (at least one).
#[derive(Clone, Debug, PartialEq)]
pub struct SubjectSelection {
    /// Training subjects (default: all others).
    pub train: Option<SubjectList>,
    /// Validation subjects (default: drawn from train).
    pub val: Option<SubjectList>,
    /// Test subjects.
    pub test: SubjectList,
    /// Share of the train subjects moved to validation when `val` is not given.
    pub val_fraction: f64,
}

/// Splits `windows` by the explicit subject lists; windows of unlisted subjects are
/// [`Part::Excluded`]. A subject in two lists, or an unknown one, is an error naming it.
pub fn explicit_split(
    windows: &Windows,
    sel: &SubjectSelection,
    seed: u64,
) -> Result<Split, SignalError> {
    let present: BTreeSet<String> = windows.sources.iter().map(|s| s.subject.clone()).collect();
    let test = sel.test.resolve(&present, "test")?;
    let val_given = match &sel.val {
        Some(list) => Some(list.resolve(&present, "val")?),
        None => None,
    };
    let train_given = match &sel.train {
        Some(list) => Some(list.resolve(&present, "train")?),
        None => None,
    };
    let overlap =
        |a: &BTreeSet<String>, b: &BTreeSet<String>, what: &str| match a.intersection(b).next() {
            Some(s) => Err(SignalError::Split(format!(
                "subject `{s}` is in both {what}"
            ))),
            None => Ok(()),
        };
    if let Some(v) = &val_given {
        overlap(&test, v, "test and val")?;
    }
    if let Some(t) = &train_given {
        overlap(&test, t, "test and train")?;
        if let Some(v) = &val_given {
            overlap(t, v, "train and val")?;
        }
    }
    let mut train: BTreeSet<String> = train_given.unwrap_or_else(|| {
        present
            .iter()
            .filter(|s| !test.contains(*s) && !val_given.as_ref().is_some_and(|v| v.contains(*s)))
            .cloned()
            .collect()
    });
    let val = match val_given {
        Some(v) => v,
        None => {
            let mut pool: Vec<String> = train.iter().cloned().collect();
            chacha_shuffle(&mut pool, seed);
            let n = ((pool.len() as f64 * sel.val_fraction).round() as usize).max(1);
            if n >= pool.len() {
                return Err(SignalError::Split(format!(
                    "{} train subjects cannot give {n} val subjects and keep one for training",
                    pool.len()
                )));
            }
            let val: BTreeSet<String> = pool[..n].iter().cloned().collect();
            train.retain(|s| !val.contains(s));
            val
        }
    };
    if train.is_empty() {
        return Err(SignalError::Split("no train subjects left".into()));
    }
    let part_of = |subject: &str| {
        if test.contains(subject) {
            Part::Test
        } else if val.contains(subject) {
            Part::Val
        } else if train.contains(subject) {
            Part::Train
        } else {
            Part::Excluded
        }
    };
    let mut subjects: BTreeMap<Part, Vec<SubjectId>> = BTreeMap::new();
    let datasets: BTreeSet<(String, String)> = windows
        .sources
        .iter()
        .map(|s| (s.dataset.clone(), s.subject.clone()))
        .collect();
    for (dataset, subject) in datasets {
        subjects
            .entry(part_of(&subject))
            .or_default()
            .push(SubjectId { dataset, subject });
    }
    Ok(Split {
        seed,
        parts: (0..windows.len())
            .map(|i| part_of(&windows.source(i).subject))
            .collect(),
        subjects,
        fine_tune_shortfalls: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(ids: &[&str]) -> BTreeSet<String> {
        ids.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn lists_and_ranges_parse_and_print_back() {
        let l: SubjectList = "1600-1640, 1642,a7".parse().unwrap();
        assert_eq!(
            l.items,
            vec![
                SubjectItem::Range {
                    from: 1600,
                    to: 1640
                },
                SubjectItem::One("1642".into()),
                SubjectItem::One("a7".into()),
            ]
        );
        assert_eq!(l.to_string(), "1600-1640,1642,a7");
        assert!("1640-1600".parse::<SubjectList>().is_err());
        assert!("1600,,1601".parse::<SubjectList>().is_err());
        assert!("".parse::<SubjectList>().is_err());
    }

    #[test]
    fn ranges_skip_missing_ids_but_listed_ids_must_exist() {
        let present = set(&["1600", "1601", "1603", "1650"]);
        let l: SubjectList = "1600-1603".parse().unwrap();
        assert_eq!(
            l.resolve(&present, "train").unwrap(),
            set(&["1600", "1601", "1603"])
        );
        let err = "1602"
            .parse::<SubjectList>()
            .unwrap()
            .resolve(&present, "test");
        assert!(err.unwrap_err().to_string().contains("`1602`"));
        let err = "1700-1710"
            .parse::<SubjectList>()
            .unwrap()
            .resolve(&present, "test");
        assert!(err.unwrap_err().to_string().contains("1700-1710"));
    }
}
