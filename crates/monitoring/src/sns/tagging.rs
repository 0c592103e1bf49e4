//! Topic tags: TagResource, UntagResource and ListTagsForResource on a topic's ARN
//! (`ResourceArn`). CreateTopic sets the first tags (`topics.rs`); DeleteTopic drops
//! them with the topic, so a topic created again under the same name starts untagged.
//!
//! Rules (SNS API reference): a key given again replaces its value; a topic carries at
//! most 50 tags (`TagLimitExceeded`, and nothing changes); keys are 1 to 128 characters
//! and values at most 256; untagging a key the topic does not carry is not an error;
//! an ARN that names no topic is `ResourceNotFound` (404).

use serde_json::{Value, json};
use simtime::SimTime;

use crate::ApiError;
use crate::tags::MAX_TAGS;

use super::Sns;
use super::input::{required, tag_keys, tag_limit_exceeded, tags};
use super::topics::Topic;

/// `ResourceNotFound` for a `ResourceArn` that names no topic.
fn resource_not_found() -> ApiError {
    ApiError::new("ResourceNotFound", "Resource does not exist")
}

impl Sns {
    /// The topic `ResourceArn` names, for changing.
    fn tagged_topic(&mut self, input: &Value) -> Result<&mut Topic, ApiError> {
        let arn = required(input, "ResourceArn")?;
        self.topics.get_mut(arn).ok_or_else(resource_not_found)
    }

    /// `TagResource`: adds `Tags` to the topic, replacing the values of keys it
    /// already carries.
    pub(super) fn tag_resource(&mut self, input: &Value, _now: SimTime) -> Result<Value, ApiError> {
        let new = tags(input, true)?;
        let topic = self.tagged_topic(input)?;
        if topic.tags.count_after_merge(&new) > MAX_TAGS {
            return Err(tag_limit_exceeded());
        }
        topic.tags.merge(new);
        Ok(json!({}))
    }

    /// `UntagResource`: removes `TagKeys` from the topic.
    pub(super) fn untag_resource(
        &mut self,
        input: &Value,
        _now: SimTime,
    ) -> Result<Value, ApiError> {
        let keys = tag_keys(input)?;
        self.tagged_topic(input)?.tags.remove(&keys);
        Ok(json!({}))
    }

    /// `ListTagsForResource`: the topic's tags, in the order their keys were added.
    pub(super) fn list_tags_for_resource(
        &mut self,
        input: &Value,
        _now: SimTime,
    ) -> Result<Value, ApiError> {
        let arn = required(input, "ResourceArn")?;
        let topic = self.topics.get(arn).ok_or_else(resource_not_found)?;
        Ok(json!({ "Tags": topic.tags.to_json() }))
    }
}
