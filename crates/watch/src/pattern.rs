//! EventBridge's event pattern language: [`Pattern::parse`] checks a pattern the way
//! EventBridge does (AWS's `InvalidEventPatternException` reasons, from event-ruler,
//! the engine EventBridge runs) and compiles it; [`Pattern::matches`] tests an event.
//!
//! Semantics (fact sheet 5.3): every leaf of a pattern is an array of alternatives (OR),
//! every field must match (AND), nested objects descend into the event, `$or` forks the
//! pattern into branches. An event is seen as its leaves: each scalar value with its
//! dotted path (`detail.state`) and, for every array it sits in, which element it is.
//! A pattern field matches when some leaf at its path matches one of its alternatives;
//! the leaves chosen for one branch must agree on the element of every array they share
//! (array consistency), so fields of different elements of an array of objects never
//! combine. A missing field (or an object where a leaf is named) has no leaf: only
//! `{"exists": false}` matches it, which is why `anything-but` matches an explicit
//! `null` but not a missing field.
//!
//! What this module deliberately leaves out: event-ruler's wildcard complexity
//! estimate (patterns with many wildcards are accepted), and the Unicode case folding
//! details of `equals-ignore-case` beyond Rust's `to_lowercase`.

mod compile;
mod event;
mod value;

use std::collections::{BTreeSet, HashSet};

use serde_json::Value;

use self::event::Leaves;
use self::value::Matcher;

/// A checked EventBridge event pattern, ready to test events against.
#[derive(Clone, Debug, PartialEq)]
pub struct Pattern {
    /// The pattern with every `$or` expanded: the event matches if any branch does.
    branches: Vec<Branch>,
}

/// One conjunction of fields (a pattern without `$or`).
#[derive(Clone, Debug, PartialEq)]
struct Branch {
    /// The fields, sorted by path; each must match.
    fields: Vec<Field>,
}

/// A dotted path and its alternatives, one of which must match.
#[derive(Clone, Debug, PartialEq)]
struct Field {
    /// `detail.state`: object keys joined by dots, as event-ruler names fields.
    path: String,
    /// The alternatives (the pattern's array); never empty.
    alternatives: Vec<Matcher>,
}

/// Why a pattern is not valid, with the reason AWS gives.
///
/// Displays as `InvalidEventPatternException`'s message:
/// `Event pattern is not valid. Reason: <reason>`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("Event pattern is not valid. Reason: {reason}")]
pub struct PatternError {
    /// The reason, e.g. `Empty arrays are not allowed`.
    pub reason: String,
}

impl PatternError {
    fn new(reason: impl Into<String>) -> PatternError {
        PatternError {
            reason: reason.into(),
        }
    }
}

impl Pattern {
    /// Parses and checks a pattern's JSON text.
    pub fn parse(text: &str) -> Result<Pattern, PatternError> {
        let value: Value = serde_json::from_str(text)
            .map_err(|error| PatternError::new(format!("Filter is not valid JSON: {error}")))?;
        Pattern::from_value(&value)
    }

    /// Checks and compiles a pattern already parsed as JSON.
    pub fn from_value(value: &Value) -> Result<Pattern, PatternError> {
        compile::compile(value)
    }

    /// Whether `event` matches the pattern. Anything but a JSON object matches nothing.
    pub fn matches(&self, event: &Value) -> bool {
        let Some(leaves) = Leaves::of(event) else {
            return false;
        };
        self.branches.iter().any(|branch| branch.matches(&leaves))
    }
}

impl Branch {
    fn matches(&self, leaves: &Leaves<'_>) -> bool {
        // For each field, the leaves that satisfy one of its alternatives; a field whose
        // path has no leaf at all is satisfied by `{"exists": false}` and binds nothing.
        let mut candidates: Vec<Vec<usize>> = Vec::with_capacity(self.fields.len());
        for field in &self.fields {
            let at_path = leaves.at(&field.path);
            if at_path.is_empty() {
                if field.alternatives.iter().any(Matcher::matches_absence) {
                    continue;
                }
                return false;
            }
            let matching: Vec<usize> = at_path
                .iter()
                .copied()
                .filter(|&leaf| {
                    field
                        .alternatives
                        .iter()
                        .any(|alternative| alternative.matches(leaves.value(leaf)))
                })
                .collect();
            if matching.is_empty() {
                return false;
            }
            candidates.push(matching);
        }
        // Fewest choices first keeps the consistency search small.
        candidates.sort_by_key(Vec::len);
        let mut search = Search {
            leaves,
            // The arrays the fields from `i` on can touch: only bindings of those arrays
            // matter to the rest of the search, which makes failures memoizable.
            arrays_from: suffix_arrays(&candidates, leaves),
            candidates,
            failed: HashSet::new(),
        };
        let mut bound = Vec::new();
        search.choose(0, &mut bound)
    }
}

/// The search for one leaf per field such that every pair of chosen leaves agrees on the
/// element of each array both sit in (array consistency).
struct Search<'l, 'a> {
    leaves: &'l Leaves<'a>,
    /// Per field, the leaves that satisfy it.
    candidates: Vec<Vec<usize>>,
    /// Per field index `i`, the arrays the candidates of fields `i..` sit in.
    arrays_from: Vec<BTreeSet<u32>>,
    /// `(field, relevant bindings)` states already known to fail.
    failed: HashSet<(usize, Vec<(u32, u32)>)>,
}

impl Search<'_, '_> {
    /// Whether fields `field..` can be chosen given `bound`, the `(array, element)`
    /// pairs of the leaves chosen so far.
    fn choose(&mut self, field: usize, bound: &mut Vec<(u32, u32)>) -> bool {
        let Some(first) = self.candidates.get(field) else {
            return true;
        };
        let key = self.state(field, bound);
        if self.failed.contains(&key) {
            return false;
        }
        for leaf in first.clone() {
            let arrays = self.leaves.arrays(leaf);
            let agrees = arrays.iter().all(|&(array, element)| {
                bound
                    .iter()
                    .all(|&(other, other_element)| other != array || other_element == element)
            });
            if !agrees {
                continue;
            }
            let depth = bound.len();
            bound.extend_from_slice(arrays);
            if self.choose(field + 1, bound) {
                return true;
            }
            bound.truncate(depth);
        }
        self.failed.insert(key);
        false
    }

    /// The bindings that can still matter from `field` on, sorted.
    fn state(&self, field: usize, bound: &[(u32, u32)]) -> (usize, Vec<(u32, u32)>) {
        let relevant = self.arrays_from.get(field);
        let mut key: Vec<(u32, u32)> = bound
            .iter()
            .copied()
            .filter(|(array, _)| relevant.is_some_and(|r| r.contains(array)))
            .collect();
        key.sort_unstable();
        key.dedup();
        (field, key)
    }
}

/// For each field index, the arrays that the candidates of that field and the later
/// ones sit in.
fn suffix_arrays(candidates: &[Vec<usize>], leaves: &Leaves<'_>) -> Vec<BTreeSet<u32>> {
    let mut from = vec![BTreeSet::new(); candidates.len() + 1];
    for (field, leaves_of_field) in candidates.iter().enumerate().rev() {
        let mut arrays = from[field + 1].clone();
        for &leaf in leaves_of_field {
            arrays.extend(leaves.arrays(leaf).iter().map(|&(array, _)| array));
        }
        from[field] = arrays;
    }
    from
}
