//! An event as event-ruler sees it: its scalar leaves, each with a dotted path and the
//! element it is of every array it sits in (for array consistency).

use std::collections::BTreeMap;

use serde_json::Value;

/// The leaves of one event, indexed by path.
pub(super) struct Leaves<'a> {
    /// Every scalar value (`null` included) of the event, in document order.
    leaves: Vec<Leaf<'a>>,
    /// Leaf indexes by dotted path.
    by_path: BTreeMap<String, Vec<usize>>,
}

struct Leaf<'a> {
    value: &'a Value,
    /// `(array, element)` for each enclosing array, outermost first; arrays are numbered
    /// in document order, so two leaves share an array exactly when they share a number.
    arrays: Vec<(u32, u32)>,
}

impl<'a> Leaves<'a> {
    /// The leaves of `event`, or `None` when it is not a JSON object.
    pub(super) fn of(event: &'a Value) -> Option<Leaves<'a>> {
        if !event.is_object() {
            return None;
        }
        let mut walk = Walk {
            leaves: Leaves {
                leaves: Vec::new(),
                by_path: BTreeMap::new(),
            },
            path: String::new(),
            arrays: Vec::new(),
            next_array: 0,
        };
        walk.visit(event);
        Some(walk.leaves)
    }

    /// The leaves at `path` (empty when the event has no leaf there).
    pub(super) fn at(&self, path: &str) -> &[usize] {
        self.by_path.get(path).map_or(&[], Vec::as_slice)
    }

    /// The value of leaf `leaf`.
    pub(super) fn value(&self, leaf: usize) -> &'a Value {
        self.leaves[leaf].value
    }

    /// The arrays leaf `leaf` sits in.
    pub(super) fn arrays(&self, leaf: usize) -> &[(u32, u32)] {
        &self.leaves[leaf].arrays
    }
}

struct Walk<'a> {
    leaves: Leaves<'a>,
    path: String,
    arrays: Vec<(u32, u32)>,
    next_array: u32,
}

impl<'a> Walk<'a> {
    fn visit(&mut self, value: &'a Value) {
        match value {
            Value::Object(map) => {
                for (key, child) in map {
                    let depth = self.path.len();
                    if depth > 0 {
                        self.path.push('.');
                    }
                    self.path.push_str(key);
                    self.visit(child);
                    self.path.truncate(depth);
                }
            }
            Value::Array(items) => {
                let array = self.next_array;
                self.next_array = self.next_array.saturating_add(1);
                for (element, item) in items.iter().enumerate() {
                    let element = u32::try_from(element).unwrap_or(u32::MAX);
                    self.arrays.push((array, element));
                    self.visit(item);
                    self.arrays.pop();
                }
            }
            scalar => {
                let index = self.leaves.leaves.len();
                self.leaves.leaves.push(Leaf {
                    value: scalar,
                    arrays: self.arrays.clone(),
                });
                self.leaves
                    .by_path
                    .entry(self.path.clone())
                    .or_default()
                    .push(index);
            }
        }
    }
}
