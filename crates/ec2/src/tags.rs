//! Tags: the [`Tags`] of one resource, the store of every resource's tags
//! ([`TagStore`]), and the checks AWS applies to `TagSpecifications`, CreateTags and
//! DeleteTags (reserved `aws:` keys, 50 tags per resource, resource types).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::ApiError;

/// A `{Key, Value}` pair as the wire carries it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    /// The key.
    pub key: String,
    /// The value (empty when not given).
    #[serde(default)]
    pub value: String,
}

/// One resource's tags, by key.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tags(BTreeMap<String, String>);

/// Most tags one resource may carry.
pub const MAX_TAGS: usize = 50;

impl Tags {
    /// No tags.
    pub fn new() -> Tags {
        Tags::default()
    }
    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }
    /// Every key.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }
    /// Every value.
    pub fn values(&self) -> impl Iterator<Item = &str> {
        self.0.values().map(String::as_str)
    }
    /// Sets a tag (system tags such as `aws:ec2:fleet-id` included).
    pub fn set(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.0.insert(key.into(), value.into());
    }
    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// As the wire lists them, sorted by key.
    pub fn to_list(&self) -> Vec<Tag> {
        self.0
            .iter()
            .map(|(k, v)| Tag {
                key: k.clone(),
                value: v.clone(),
            })
            .collect()
    }
    /// From a wire list (later duplicates win).
    pub fn from_list(list: &[Tag]) -> Tags {
        Tags(
            list.iter()
                .map(|t| (t.key.clone(), t.value.clone()))
                .collect(),
        )
    }
}

/// A `TagSpecification` of a Create call.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TagSpecification {
    /// e.g. `vpc`, `instance`.
    #[serde(default)]
    pub resource_type: Option<String>,
    /// The tags.
    #[serde(default)]
    pub tags: Option<Vec<Tag>>,
}

/// The tags a Create call's `TagSpecifications` give a resource of `resource_type`.
/// A specification for another type is refused, as EC2 refuses it.
pub fn from_specifications(
    specs: Option<&[TagSpecification]>,
    resource_type: &str,
) -> Result<Tags, ApiError> {
    let mut tags = Tags::new();
    for spec in specs.unwrap_or_default() {
        let kind = spec.resource_type.as_deref().unwrap_or_default();
        if kind != resource_type {
            return Err(ApiError::invalid_value(format!(
                "'{kind}' is not a valid taggable resource type for this operation."
            )));
        }
        for tag in spec.tags.as_deref().unwrap_or_default() {
            check_user_key(&tag.key)?;
            tags.set(tag.key.clone(), tag.value.clone());
        }
    }
    if tags.0.len() > MAX_TAGS {
        return Err(ApiError::new(
            "TagLimitExceeded",
            format!("The maximum number of tags per resource is {MAX_TAGS}."),
        ));
    }
    Ok(tags)
}

/// Refuses keys users may not set: empty, too long, or reserved for AWS.
pub fn check_user_key(key: &str) -> Result<(), ApiError> {
    if key.is_empty() || key.chars().count() > 128 {
        return Err(ApiError::invalid_value(
            "Tag keys must be between 1 and 128 characters long.",
        ));
    }
    if key.to_ascii_lowercase().starts_with("aws:") {
        return Err(ApiError::invalid_value(format!(
            "Tag keys starting with 'aws:' are reserved for internal use: {key}"
        )));
    }
    Ok(())
}

/// Every resource's tags, by resource id.
#[derive(Clone, Debug, Default)]
pub struct TagStore {
    by_resource: BTreeMap<String, Tags>,
}

impl TagStore {
    /// A resource's tags (empty if it has none).
    pub fn of(&self, resource: &str) -> Tags {
        self.by_resource.get(resource).cloned().unwrap_or_default()
    }
    /// A resource's tags, borrowed.
    pub fn get(&self, resource: &str) -> Option<&Tags> {
        self.by_resource.get(resource)
    }
    /// Replaces a resource's tags.
    pub fn put(&mut self, resource: &str, tags: Tags) {
        if tags.is_empty() {
            self.by_resource.remove(resource);
        } else {
            self.by_resource.insert(resource.to_owned(), tags);
        }
    }
    /// Adds or overwrites tags; refuses to exceed [`MAX_TAGS`].
    pub fn add(&mut self, resource: &str, tags: &[Tag]) -> Result<(), ApiError> {
        let mut merged = self.of(resource);
        for tag in tags {
            merged.set(tag.key.clone(), tag.value.clone());
        }
        if merged.0.len() > MAX_TAGS {
            return Err(ApiError::new(
                "TagLimitExceeded",
                format!("The maximum number of tags per resource is {MAX_TAGS}."),
            ));
        }
        self.put(resource, merged);
        Ok(())
    }
    /// Removes tags by key, or by key and value when a value is given.
    pub fn remove(&mut self, resource: &str, tags: &[(String, Option<String>)]) {
        let mut current = self.of(resource);
        for (key, value) in tags {
            if value.as_deref().is_none_or(|v| current.get(key) == Some(v)) {
                current.0.remove(key);
            }
        }
        self.put(resource, current);
    }
    /// Forgets a deleted resource.
    pub fn forget(&mut self, resource: &str) {
        self.by_resource.remove(resource);
    }
    /// Every (resource, tags) pair.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Tags)> {
        self.by_resource.iter().map(|(r, t)| (r.as_str(), t))
    }
}
