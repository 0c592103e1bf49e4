//! [`Tags`]: a resource's tags as CloudWatch alarms, SNS topics and EventBridge rules
//! keep them, with the arithmetic their TagResource and UntagResource share (a key
//! given again replaces its value; keys removed that are not there are ignored) and
//! their JSON form (`[{"Key": k, "Value": v}]`).
//!
//! Each service checks its own inputs (lengths, counts, duplicates) with its own error
//! codes and messages; nothing here refuses anything.

use serde_json::{Value, json};

/// How many tags a resource may carry, in all three services.
pub const MAX_TAGS: usize = 50;

/// A resource's tags, keys unique, in the order their keys were first added.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tags(Vec<(String, String)>);

impl Tags {
    /// No tags.
    pub fn new() -> Tags {
        Tags(Vec::new())
    }

    /// Tags from `(key, value)` pairs; a key given twice keeps its last value.
    pub fn from_pairs(pairs: Vec<(String, String)>) -> Tags {
        let mut tags = Tags::new();
        tags.merge(pairs);
        tags
    }

    /// How many tags there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The value of `key`, if tagged.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, value)| value.as_str())
    }

    /// The `(key, value)` pairs, in order.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.0
    }

    /// How many tags there would be after merging `pairs` (new keys added to the
    /// current count), for checking a limit before changing anything.
    pub fn count_after_merge(&self, pairs: &[(String, String)]) -> usize {
        let mut added: Vec<&str> = Vec::new();
        for (key, _) in pairs {
            if self.get(key).is_none() && !added.contains(&key.as_str()) {
                added.push(key);
            }
        }
        self.0.len() + added.len()
    }

    /// Adds `pairs`: a new key is appended, a key already tagged gets the new value
    /// in place.
    pub fn merge(&mut self, pairs: Vec<(String, String)>) {
        for (key, value) in pairs {
            match self.0.iter_mut().find(|(k, _)| *k == key) {
                Some((_, existing)) => *existing = value,
                None => self.0.push((key, value)),
            }
        }
    }

    /// Removes `keys`; keys not tagged are ignored.
    pub fn remove<S: AsRef<str>>(&mut self, keys: &[S]) {
        self.0
            .retain(|(key, _)| !keys.iter().any(|k| k.as_ref() == key));
    }

    /// The tags as a `TagList`: `[{"Key": k, "Value": v}]`.
    pub fn to_json(&self) -> Value {
        Value::Array(
            self.0
                .iter()
                .map(|(key, value)| json!({ "Key": key, "Value": value }))
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(key: &str, value: &str) -> (String, String) {
        (key.to_owned(), value.to_owned())
    }

    #[test]
    fn merging_replaces_values_in_place_and_appends_new_keys() {
        let mut tags = Tags::from_pairs(vec![pair("a", "1"), pair("b", "2"), pair("a", "3")]);
        assert_eq!(tags.pairs(), [pair("a", "3"), pair("b", "2")]);
        assert_eq!(
            tags.count_after_merge(&[pair("b", "x"), pair("c", "y"), pair("c", "z")]),
            3
        );
        tags.merge(vec![pair("b", "x"), pair("c", "y")]);
        assert_eq!(
            tags.pairs(),
            [pair("a", "3"), pair("b", "x"), pair("c", "y")]
        );
        tags.remove(&["a", "missing"]);
        assert_eq!(tags.pairs(), [pair("b", "x"), pair("c", "y")]);
        assert_eq!(
            tags.to_json(),
            json!([{"Key": "b", "Value": "x"}, {"Key": "c", "Value": "y"}])
        );
        assert_eq!(tags.get("c"), Some("y"));
        assert_eq!(tags.len(), 2);
        assert!(!tags.is_empty());
    }
}
