//! Alarm tags: TagResource, UntagResource and ListTagsForResource on an alarm's ARN
//! (`ResourceARN`, `arn:aws:cloudwatch:<region>:<account>:alarm:<name>`).
//! PutMetricAlarm sets the first tags, only when it creates the alarm (an update
//! ignores its `Tags`, as AWS documents); DeleteAlarms drops them with the alarm, so
//! an alarm created again under the same name starts untagged.
//!
//! Rules (CloudWatch API reference): a key given again replaces its value; an alarm
//! carries at most 50 tags; keys are 1 to 128 characters and values at most 256;
//! untagging a key the alarm does not carry is not an error; an ARN that names no
//! alarm of this region and account is `ResourceNotFoundException` (404). Only alarms
//! are tagged here: spotlab has no dashboards, metric streams or Contributor Insights
//! rules.

use serde_json::{Value, json};

use super::definition::tags;
use super::input::{Input, check_length};
use super::{Alarm, Alarms};
use crate::ApiError;
use crate::tags::{MAX_TAGS, Tags};

/// `ResourceNotFoundException` for a `ResourceARN` that names no alarm. (The message
/// is the model's description of the error; AWS's own text is unconfirmed.)
fn resource_not_found() -> ApiError {
    ApiError::new(
        "ResourceNotFoundException",
        "The named resource does not exist.",
    )
}

impl Alarms {
    /// The name of the alarm `arn` names, if it is one of this region's alarms.
    fn alarm_name_of<'a>(&self, arn: &'a str) -> Option<&'a str> {
        let prefix = format!("arn:aws:cloudwatch:{}:{}:alarm:", self.region, self.account);
        arn.strip_prefix(&prefix)
    }

    /// The alarm the call's `ResourceARN` names.
    fn tagged_alarm(&mut self, input: &Value) -> Result<&mut Alarm, ApiError> {
        let arn = resource_arn(input)?;
        let name = self
            .alarm_name_of(&arn)
            .ok_or_else(resource_not_found)?
            .to_owned();
        self.alarms.get_mut(&name).ok_or_else(resource_not_found)
    }

    /// TagResource: adds `Tags` to the alarm, replacing the values of keys it already
    /// carries. More than 50 in all is `InvalidParameterValue` (the error the model
    /// gives the operation; AWS's exact answer is unconfirmed), and nothing changes.
    pub fn tag_resource(&mut self, input: &Value) -> Result<Value, ApiError> {
        let new = tags(Input(input))?.ok_or_else(|| ApiError::missing("Tags"))?;
        let alarm = self.tagged_alarm(input)?;
        let tags = &mut alarm.definition.tags;
        if tags.count_after_merge(&new) > MAX_TAGS {
            return Err(ApiError::invalid_value(format!(
                "The resource {} would have more than {MAX_TAGS} tags.",
                alarm.arn
            )));
        }
        tags.merge(new);
        Ok(json!({}))
    }

    /// UntagResource: removes `TagKeys` from the alarm.
    pub fn untag_resource(&mut self, input: &Value) -> Result<Value, ApiError> {
        let keys = Input(input)
            .strings("TagKeys")?
            .ok_or_else(|| ApiError::missing("TagKeys"))?;
        for key in &keys {
            check_length(key, "tagKeys.member", 1, 128)?;
        }
        self.tagged_alarm(input)?.definition.tags.remove(&keys);
        Ok(json!({}))
    }

    /// ListTagsForResource: the alarm's tags, in the order their keys were added.
    pub fn list_tags_for_resource(&self, input: &Value) -> Result<Value, ApiError> {
        let arn = resource_arn(input)?;
        let tags: &Tags = self
            .alarm_name_of(&arn)
            .and_then(|name| self.alarms.get(name))
            .map(|alarm| &alarm.definition.tags)
            .ok_or_else(resource_not_found)?;
        Ok(json!({ "Tags": tags.to_json() }))
    }
}

/// `ResourceARN`: required, 1 to 1024 characters.
fn resource_arn(input: &Value) -> Result<String, ApiError> {
    let arn = Input(input).required_string("ResourceARN")?;
    check_length(&arn, "resourceARN", 1, 1024)?;
    Ok(arn)
}
