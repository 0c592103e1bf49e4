//! Topics: CreateTopic (idempotent by name), DeleteTopic (which takes the topic's tags
//! with it), ListTopics, and topic attributes (the defaults SNS computes, the ones a
//! user sets, their validation). Tagging calls are in `tagging.rs`.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};
use simtime::SimTime;

use crate::ApiError;
use crate::tags::Tags;

use super::Sns;
use super::arn::{check_topic_arn, valid_topic_name};
use super::input::{
    PAGE_SIZE, invalid, next_token, next_token_start, parse_bool, required, string, string_map,
    tags, topic_not_found,
};
use super::policy::TopicPolicy;

/// The default message size limit, in bytes (body and attributes).
pub(super) const DEFAULT_MAX_MESSAGE_SIZE: usize = 262_144;

/// Attributes a user may set whose values SNS does not check further (feedback roles
/// and sample rates, KMS, data protection).
const FREE_ATTRIBUTES: &[&str] = &[
    "ApplicationFailureFeedbackRoleArn",
    "ApplicationSuccessFeedbackRoleArn",
    "ApplicationSuccessFeedbackSampleRate",
    "DataProtectionPolicy",
    "DisplayName",
    "FirehoseFailureFeedbackRoleArn",
    "FirehoseSuccessFeedbackRoleArn",
    "FirehoseSuccessFeedbackSampleRate",
    "HTTPFailureFeedbackRoleArn",
    "HTTPSuccessFeedbackRoleArn",
    "HTTPSuccessFeedbackSampleRate",
    "KmsMasterKeyId",
    "LambdaFailureFeedbackRoleArn",
    "LambdaSuccessFeedbackRoleArn",
    "LambdaSuccessFeedbackSampleRate",
    "SQSFailureFeedbackRoleArn",
    "SQSSuccessFeedbackRoleArn",
    "SQSSuccessFeedbackSampleRate",
];

/// A FIFO topic's record of a recent message, for deduplication.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Deduplicated {
    /// When it was published; duplicates are dropped for 5 minutes after.
    pub at: SimTime,
    pub message_id: String,
    pub sequence_number: String,
}

/// A topic.
#[derive(Clone, Debug)]
pub(super) struct Topic {
    pub name: String,
    pub arn: String,
    /// A FIFO topic (`FifoTopic=true`, name ending `.fifo`).
    pub fifo: bool,
    /// The attributes set by CreateTopic and SetTopicAttributes, as given.
    pub attributes: BTreeMap<String, String>,
    /// `DeliveryPolicy`, parsed (the default when unset).
    pub policy: TopicPolicy,
    /// `Tags` of CreateTopic, then TagResource and UntagResource.
    pub tags: Tags,
    /// Subscriptions by creation number.
    pub subscriptions: BTreeSet<u64>,
    /// Subscriptions deleted so far (`SubscriptionsDeleted`).
    pub subscriptions_deleted: u64,
    /// Messages published (duplicates dropped by FIFO deduplication excluded).
    pub published: u64,
    /// FIFO: the last sequence number handed out.
    pub sequence: u64,
    /// FIFO: recent messages by deduplication id.
    pub recent: BTreeMap<String, Deduplicated>,
}

impl Topic {
    fn new(name: &str, arn: String, fifo: bool) -> Topic {
        Topic {
            name: name.to_owned(),
            arn,
            fifo,
            attributes: BTreeMap::new(),
            policy: TopicPolicy::default(),
            tags: Tags::new(),
            subscriptions: BTreeSet::new(),
            subscriptions_deleted: 0,
            published: 0,
            sequence: 0,
            recent: BTreeMap::new(),
        }
    }

    /// `SignatureVersion`: `1` unless set to `2`.
    pub fn signature_version(&self) -> &str {
        self.attributes
            .get("SignatureVersion")
            .map_or("1", String::as_str)
    }

    /// Whether FIFO messages without a deduplication id are deduplicated by content.
    pub fn content_based_deduplication(&self) -> bool {
        self.attributes
            .get("ContentBasedDeduplication")
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }

    /// The largest message Publish accepts, in bytes.
    pub fn max_message_size(&self) -> usize {
        self.attributes
            .get("MaximumMessageSize")
            .and_then(|v| v.parse().ok())
            .unwrap_or(DEFAULT_MAX_MESSAGE_SIZE)
    }

    /// Checks and sets one attribute; a refused value changes nothing. `reason` wraps a
    /// failure's reason in the calling operation's words. An empty value removes a
    /// settable attribute.
    fn set_attribute(
        &mut self,
        name: &str,
        value: &str,
        reason: &dyn Fn(&str) -> ApiError,
    ) -> Result<(), ApiError> {
        match name {
            "DeliveryPolicy" => {
                self.policy = if value.is_empty() {
                    TopicPolicy::default()
                } else {
                    TopicPolicy::parse(value)
                        .map_err(|why| reason(&format!("DeliveryPolicy: {why}")))?
                };
            }
            "Policy" => {
                if !matches!(serde_json::from_str::<Value>(value), Ok(Value::Object(_))) {
                    return Err(reason("Policy: failed to parse JSON."));
                }
            }
            "SignatureVersion" => {
                if value != "1" && value != "2" {
                    return Err(reason("SignatureVersion"));
                }
            }
            "TracingConfig" => {
                if value != "PassThrough" && value != "Active" {
                    return Err(reason("TracingConfig"));
                }
            }
            "ContentBasedDeduplication" => {
                if !self.fifo {
                    return Err(reason(
                        "ContentBasedDeduplication Reason: Content based deduplication can only \
                         be set for FIFO topics",
                    ));
                }
                if parse_bool(value).is_none() {
                    return Err(reason("ContentBasedDeduplication"));
                }
            }
            "FifoThroughputScope" | "ArchivePolicy" => {
                if !self.fifo {
                    return Err(reason(&format!(
                        "{name} Reason: {name} can only be set for FIFO topics"
                    )));
                }
            }
            "MaximumMessageSize" => {
                let ok = value
                    .parse::<usize>()
                    .is_ok_and(|size| (1024..=1_048_576).contains(&size));
                if !ok {
                    return Err(reason(
                        "MaximumMessageSize Reason: must be between 1024 and 1048576 bytes",
                    ));
                }
            }
            name if FREE_ATTRIBUTES.contains(&name) => {}
            _ => return Err(reason("AttributeName")),
        }
        if value.is_empty() {
            self.attributes.remove(name);
        } else {
            self.attributes.insert(name.to_owned(), value.to_owned());
        }
        Ok(())
    }

    /// The default access policy SNS gives a new topic.
    fn default_policy(&self, account: &str) -> String {
        json!({
            "Version": "2008-10-17",
            "Id": "__default_policy_ID",
            "Statement": [{
                "Sid": "__default_statement_ID",
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": [
                    "SNS:GetTopicAttributes",
                    "SNS:SetTopicAttributes",
                    "SNS:AddPermission",
                    "SNS:RemovePermission",
                    "SNS:DeleteTopic",
                    "SNS:Subscribe",
                    "SNS:ListSubscriptionsByTopic",
                    "SNS:Publish"
                ],
                "Resource": self.arn,
                "Condition": {"StringEquals": {"AWS:SourceOwner": account}}
            }]
        })
        .to_string()
    }
}

impl Sns {
    /// Checks `arn` (given as `member`) and finds its topic.
    pub(super) fn topic(&self, arn: &str, member: &str) -> Result<&Topic, ApiError> {
        let arn = check_topic_arn(arn, member, &self.region)?;
        self.topics.get(arn).ok_or_else(topic_not_found)
    }

    /// `CreateTopic`: idempotent by name; an existing topic asked for with different
    /// attributes or tags is refused.
    pub(super) fn create_topic(&mut self, input: &Value, _now: SimTime) -> Result<Value, ApiError> {
        let name = required(input, "Name")?;
        let mut attributes = string_map(input, "Attributes")?;
        let tags = tags(input, false)?;
        if let Some(policy) = string(input, "DataProtectionPolicy")? {
            attributes.insert("DataProtectionPolicy".to_owned(), policy.to_owned());
        }
        let fifo = match attributes.remove("FifoTopic") {
            None => false,
            Some(value) => parse_bool(&value).ok_or_else(|| {
                invalid("Attributes Reason: FifoTopic: Invalid value. Must be true or false.")
            })?,
        };
        if fifo && !valid_topic_name(name, true) {
            return Err(invalid(
                "Topic Name Reason: Fifo Topic names must end with .fifo and must be made up of \
                 only uppercase and lowercase ASCII letters, numbers, underscores, and hyphens, \
                 and must be between 1 and 256 characters long.",
            ));
        }
        if !fifo && !valid_topic_name(name, false) {
            return Err(invalid("Topic Name"));
        }
        let arn = self.topic_arn(name);
        if let Some(existing) = self.topics.get(&arn) {
            let same_attributes = existing.fifo == fifo
                && attributes
                    .iter()
                    .all(|(key, value)| existing.attributes.get(key) == Some(value));
            if !same_attributes {
                return Err(invalid(
                    "Attributes Reason: Topic already exists with different attributes",
                ));
            }
            // Tags already on the topic may be given again, or left out; a tag it
            // does not carry is refused.
            let same_tags = tags
                .iter()
                .all(|(key, value)| existing.tags.get(key) == Some(value.as_str()));
            if !same_tags {
                return Err(invalid(
                    "Tags Reason: Topic already exists with different tags",
                ));
            }
            return Ok(json!({ "TopicArn": arn }));
        }
        let mut topic = Topic::new(name, arn.clone(), fifo);
        let reason = |why: &str| invalid(format_args!("Attributes Reason: {why}"));
        for (key, value) in &attributes {
            topic.set_attribute(key, value, &reason)?;
        }
        topic.tags = Tags::from_pairs(tags);
        self.topics.insert(arn.clone(), topic);
        Ok(json!({ "TopicArn": arn }))
    }

    /// `DeleteTopic`: deletes the topic and its subscriptions (their pending deliveries
    /// are dropped). Idempotent: deleting a topic that does not exist succeeds.
    pub(super) fn delete_topic(&mut self, input: &Value, _now: SimTime) -> Result<Value, ApiError> {
        let arn = required(input, "TopicArn")?;
        let arn = check_topic_arn(arn, "TopicArn", &self.region)?;
        if let Some(topic) = self.topics.remove(arn) {
            for number in topic.subscriptions {
                self.forget_subscription(number);
            }
        }
        Ok(json!({}))
    }

    /// `ListTopics`, by ARN, 100 to a page.
    pub(super) fn list_topics(&mut self, input: &Value, _now: SimTime) -> Result<Value, ApiError> {
        let start = next_token_start(string(input, "NextToken")?)?;
        let mut arns = self
            .topics
            .range(start.unwrap_or_default()..)
            .map(|(arn, _)| arn.clone());
        let page: Vec<String> = arns.by_ref().take(PAGE_SIZE).collect();
        let mut output = json!({
            "Topics": page.iter().map(|arn| json!({ "TopicArn": arn })).collect::<Vec<_>>()
        });
        if let Some(next) = arns.next() {
            output["NextToken"] = Value::String(next_token(&next));
        }
        Ok(output)
    }

    /// `GetTopicAttributes`: SNS's computed attributes and the ones set.
    pub(super) fn get_topic_attributes(
        &mut self,
        input: &Value,
        _now: SimTime,
    ) -> Result<Value, ApiError> {
        let topic = self.topic(required(input, "TopicArn")?, "TopicArn")?;
        let (confirmed, pending) = topic
            .subscriptions
            .iter()
            .filter_map(|number| self.subscriptions.get(number))
            .fold((0u64, 0u64), |(c, p), s| {
                if s.is_confirmed() {
                    (c + 1, p)
                } else {
                    (c, p + 1)
                }
            });
        let mut attributes: BTreeMap<String, String> = topic.attributes.clone();
        attributes.remove("DataProtectionPolicy");
        attributes.insert("Owner".to_owned(), self.account.clone());
        attributes
            .entry("Policy".to_owned())
            .or_insert_with(|| topic.default_policy(&self.account));
        attributes.entry("DisplayName".to_owned()).or_default();
        attributes.insert("SubscriptionsConfirmed".to_owned(), confirmed.to_string());
        attributes.insert("SubscriptionsPending".to_owned(), pending.to_string());
        attributes.insert(
            "SubscriptionsDeleted".to_owned(),
            topic.subscriptions_deleted.to_string(),
        );
        attributes.insert("TopicArn".to_owned(), topic.arn.clone());
        attributes.insert(
            "EffectiveDeliveryPolicy".to_owned(),
            topic.policy.effective_json(),
        );
        if topic.fifo {
            attributes.insert("FifoTopic".to_owned(), "true".to_owned());
            attributes
                .entry("ContentBasedDeduplication".to_owned())
                .or_insert_with(|| "false".to_owned());
        }
        Ok(json!({ "Attributes": attributes }))
    }

    /// `SetTopicAttributes`: one attribute; `FifoTopic` cannot change.
    pub(super) fn set_topic_attributes(
        &mut self,
        input: &Value,
        _now: SimTime,
    ) -> Result<Value, ApiError> {
        let arn = required(input, "TopicArn")?;
        let name = required(input, "AttributeName")?;
        let value = string(input, "AttributeValue")?.unwrap_or_default();
        let arn = self.topic(arn, "TopicArn")?.arn.clone();
        let topic = self.topics.get_mut(&arn).ok_or_else(topic_not_found)?;
        topic.set_attribute(name, value, &|why: &str| invalid(why))?;
        Ok(json!({}))
    }
}
