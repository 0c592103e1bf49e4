//! Rule tags: `TagResource`, `UntagResource` and `ListTagsForResource` on a rule's ARN
//! (`ResourceARN`: `arn:aws:events:<region>:<account>:rule/<name>`, or
//! `rule/<bus>/<name>` on a custom bus). PutRule sets the first tags, only when it
//! creates the rule (an update ignores its `Tags`, as AWS documents); DeleteRule drops
//! them with the rule, so a rule created again under the same name starts untagged.
//!
//! Rules (EventBridge API reference): a key given again replaces its value; a rule
//! carries at most 50 tags; keys are 1 to 128 characters and values at most 256;
//! untagging a key the rule does not carry is not an error; an ARN that names no rule
//! is `ResourceNotFoundException`. Event buses are not resources here, so their ARNs
//! name nothing that can be tagged.

use serde_json::{Value, json};

use super::input::{DEFAULT_BUS, check_length, constraint, required_str, validation};
use super::{EventBridge, Rule, tags};
use crate::ApiError;
use crate::tags::MAX_TAGS;

/// `LimitExceededException` for a rule that would carry more than 50 tags. (The
/// code is the one EventBridge uses for its quotas; AWS's exact answer here is
/// unconfirmed.)
pub(super) fn too_many_tags() -> ApiError {
    ApiError::new(
        "LimitExceededException",
        format!("A resource can have at most {MAX_TAGS} tags."),
    )
}

/// Where a rule ARN points: `(bus, name)`, if `arn` is a rule ARN of this region and
/// account.
fn rule_of<'a>(arn: &'a str, region: &str, account: &str) -> Option<(&'a str, &'a str)> {
    let path = arn.strip_prefix(&format!("arn:aws:events:{region}:{account}:rule/"))?;
    match path.split_once('/') {
        Some((bus, name)) => Some((bus, name)),
        None => Some((DEFAULT_BUS, path)),
    }
}

impl EventBridge {
    /// The rule `ResourceARN` names: an unknown rule is the same
    /// `ResourceNotFoundException` DescribeRule gives.
    fn tagged_rule(&self, input: &Value) -> Result<&Rule, ApiError> {
        let arn = resource_arn(input)?;
        let (bus, name) = rule_of(arn, &self.region, &self.account).ok_or_else(|| {
            ApiError::new(
                "ResourceNotFoundException",
                format!("Resource {arn} does not exist."),
            )
        })?;
        self.rule(bus, name)
    }

    /// The same, for changing.
    fn tagged_rule_mut(&mut self, input: &Value) -> Result<&mut Rule, ApiError> {
        let (bus, name) = {
            let rule = self.tagged_rule(input)?;
            (rule.bus.clone(), rule.name.clone())
        };
        self.rule_mut(&bus, &name)
    }

    /// `TagResource`: adds `Tags` to the rule, replacing the values of keys it already
    /// carries; more than 50 in all changes nothing.
    pub fn tag_resource(&mut self, input: &Value) -> Result<Value, ApiError> {
        let new =
            tags(input)?.ok_or_else(|| constraint(None, "tags", "Member must not be null"))?;
        let rule = self.tagged_rule_mut(input)?;
        if rule.tags.count_after_merge(&new) > MAX_TAGS {
            return Err(too_many_tags());
        }
        rule.tags.merge(new);
        Ok(json!({}))
    }

    /// `UntagResource`: removes `TagKeys` from the rule.
    pub fn untag_resource(&mut self, input: &Value) -> Result<Value, ApiError> {
        let keys = tag_keys(input)?;
        self.tagged_rule_mut(input)?.tags.remove(&keys);
        Ok(json!({}))
    }

    /// `ListTagsForResource`: the rule's tags, in the order their keys were added.
    pub fn list_tags_for_resource(&self, input: &Value) -> Result<Value, ApiError> {
        let rule = self.tagged_rule(input)?;
        Ok(json!({ "Tags": rule.tags.to_json() }))
    }
}

/// `ResourceARN`: required, 1 to 1600 characters.
fn resource_arn(input: &Value) -> Result<&str, ApiError> {
    let arn = required_str(input, "ResourceARN", "resourceARN")?;
    check_length(arn, "resourceARN", 1, 1600)?;
    Ok(arn)
}

/// `TagKeys`: required, each 1 to 128 characters.
fn tag_keys(input: &Value) -> Result<Vec<String>, ApiError> {
    let Some(list) = input.get("TagKeys").filter(|v| !v.is_null()) else {
        return Err(constraint(None, "tagKeys", "Member must not be null"));
    };
    let Value::Array(items) = list else {
        return Err(validation(
            "1 validation error detected: Value at 'tagKeys' failed to satisfy constraint: Member must be a list",
        ));
    };
    items
        .iter()
        .enumerate()
        .map(|(index, key)| {
            let at = format!("tagKeys.{}.member", index + 1);
            let key = key.as_str().ok_or_else(|| {
                validation(format!(
                    "1 validation error detected: Value at '{at}' failed to satisfy constraint: Member must be a string"
                ))
            })?;
            check_length(key, &at, 1, 128)?;
            Ok(key.to_owned())
        })
        .collect()
}
