//! Publish: checking a message as SNS does (target, subject, empty message, message
//! attributes, size, MessageStructure=json, FIFO group and deduplication ids), then one
//! delivery per accepting subscription.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde_json::{Value, json};
use simtime::{SimDuration, SimTime};

use crate::ApiError;

use super::Sns;
use super::deliver::{Content, Outgoing};
use super::envelope::{MessageAttribute, MessageKind};
use super::input::{invalid, required, string, topic_not_found, value_invalid};
use super::topics::{DEFAULT_MAX_MESSAGE_SIZE, Deduplicated};

/// How long a FIFO topic remembers deduplication ids.
const DEDUPLICATION_WINDOW: SimDuration = SimDuration::from_mins(5);

/// The longest `Subject`, exclusive.
const SUBJECT_LIMIT: usize = 100;

/// The longest FIFO group or deduplication id.
const FIFO_ID_MAX: usize = 128;

/// `Subject`: non-empty, under 100 characters, no line breaks or other control
/// characters, starting with a letter, digit or punctuation mark.
fn check_subject(subject: &str) -> Result<(), ApiError> {
    let starts_well = subject.chars().next().is_some_and(|c| !c.is_whitespace());
    if !starts_well
        || subject.chars().count() >= SUBJECT_LIMIT
        || subject.chars().any(char::is_control)
    {
        return Err(invalid("Subject"));
    }
    Ok(())
}

/// Whether `name` is a message attribute name SNS accepts, or its complaint.
fn check_attribute_name(name: &str) -> Result<(), ApiError> {
    if name.len() > 256 {
        return Err(value_invalid(
            "Length of message attribute name must be less than 256 bytes.",
        ));
    }
    if name.starts_with('.') {
        return Err(value_invalid(
            "Invalid message attribute name starting with character '.' was found.",
        ));
    }
    if name.ends_with('.') {
        return Err(value_invalid(
            "Invalid message attribute name ending with character '.' was found.",
        ));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')))
    {
        return Err(value_invalid(format!(
            "Invalid non-alphanumeric character '#x{:X}' was found in the message attribute name. \
             Can only include alphanumeric characters, hyphens, underscores, or dots.",
            u32::from(bad)
        )));
    }
    if name.contains("..") {
        return Err(value_invalid(
            "Message attribute name can not have successive '.' character.",
        ));
    }
    Ok(())
}

/// `MessageAttributes`, checked; with the bytes they count towards the size limit
/// (names, types and values).
fn parse_attributes(
    input: &Value,
) -> Result<(BTreeMap<String, MessageAttribute>, usize), ApiError> {
    let entries = match input.get("MessageAttributes") {
        None | Some(Value::Null) => return Ok((BTreeMap::new(), 0)),
        Some(Value::Object(entries)) => entries,
        Some(_) => return Err(invalid("MessageAttributes")),
    };
    let mut attributes = BTreeMap::new();
    let mut size = 0;
    for (name, attribute) in entries {
        check_attribute_name(name)?;
        let data_type = string(attribute, "DataType")?.ok_or_else(|| {
            ApiError::new(
                "ValidationError",
                format!(
                    "1 validation error detected: Value null at 'messageAttributes.{name}.member.dataType' \
                     failed to satisfy constraint: Member must not be null"
                ),
            )
        })?;
        let (base, suffix) = data_type.split_once('.').unwrap_or((data_type, ""));
        let known = matches!(base, "String" | "Number" | "Binary");
        if !known || (data_type.contains('.') && suffix.is_empty()) {
            return Err(value_invalid(format!(
                "The message attribute '{name}' has an invalid message attribute type, the set of \
                 supported type prefixes is Binary, Number, and String."
            )));
        }
        let empty = || {
            value_invalid(format!(
                "The message attribute '{name}' must contain non-empty message attribute value for \
                 message attribute type '{data_type}'."
            ))
        };
        let string_value = string(attribute, "StringValue")?;
        let binary_value = string(attribute, "BinaryValue")?;
        if string_value.is_none() && binary_value.is_none() {
            return Err(empty());
        }
        let field = if base == "Binary" { "Binary" } else { "String" };
        let wrong_field = || {
            value_invalid(format!(
                "The message attribute '{name}' with type '{data_type}' must use field '{field}'."
            ))
        };
        let (value, value_size) = if base == "Binary" {
            let encoded = binary_value.ok_or_else(wrong_field)?;
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(encoded)
                .map_err(|_| {
                    value_invalid(format!(
                        "The message attribute '{name}' has an invalid binary value."
                    ))
                })?;
            if decoded.is_empty() {
                return Err(empty());
            }
            (encoded.to_owned(), decoded.len())
        } else {
            let text = string_value.ok_or_else(wrong_field)?;
            if text.is_empty() {
                return Err(empty());
            }
            if base == "Number" && text.trim().parse::<f64>().map_or(true, |n| !n.is_finite()) {
                return Err(value_invalid(format!(
                    "Could not cast message attribute '{name}' value to number."
                )));
            }
            if data_type == "String.Array"
                && !matches!(serde_json::from_str::<Value>(text), Ok(Value::Array(_)))
            {
                return Err(value_invalid(format!(
                    "The message attribute '{name}' with type 'String.Array' must be a JSON array."
                )));
            }
            (text.to_owned(), text.len())
        };
        size += name.len() + data_type.len() + value_size;
        attributes.insert(
            name.clone(),
            MessageAttribute {
                data_type: data_type.to_owned(),
                value,
            },
        );
    }
    Ok((attributes, size))
}

/// The message's text(s): MessageStructure=json needs a JSON object of strings with a
/// `default` key (members that are not strings are ignored, as SNS ignores them).
fn parse_content(message: &str, structure: Option<&str>) -> Result<Content, ApiError> {
    match structure {
        None => Ok(Content::Plain(message.to_owned())),
        Some("json") => {
            let Ok(Value::Object(members)) = serde_json::from_str::<Value>(message) else {
                return Err(invalid(
                    "Message Structure - JSON message body failed to parse",
                ));
            };
            let mut by_protocol: BTreeMap<String, String> = members
                .into_iter()
                .filter_map(|(key, value)| match value {
                    Value::String(text) => Some((key, text)),
                    _ => None,
                })
                .collect();
            let default = by_protocol.remove("default").ok_or_else(|| {
                invalid("Message Structure - No default entry in JSON message body")
            })?;
            Ok(Content::PerProtocol {
                default,
                by_protocol,
            })
        }
        Some(_) => Err(invalid("MessageStructure")),
    }
}

/// An E.164 phone number: `+`, then up to 15 digits not starting with 0.
fn is_e164(number: &str) -> bool {
    let Some(digits) = number.strip_prefix('+') else {
        return false;
    };
    (2..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0')
}

impl Sns {
    /// `Publish`: checks the message, then queues one delivery for every confirmed
    /// subscription whose filter policy accepts it. Direct SMS (PhoneNumber) is accepted
    /// and answered but delivers nothing.
    pub(super) fn publish(&mut self, input: &Value, now: SimTime) -> Result<Value, ApiError> {
        let message = required(input, "Message")?;
        let subject = string(input, "Subject")?;
        let topic_arn = string(input, "TopicArn")?;
        let target_arn = string(input, "TargetArn")?;
        let phone = string(input, "PhoneNumber")?;
        let group = string(input, "MessageGroupId")?;
        let deduplication = string(input, "MessageDeduplicationId")?;
        if let Some(subject) = subject {
            check_subject(subject)?;
        }
        if message.is_empty() {
            return Err(invalid("Empty message"));
        }
        let (attributes, attributes_size) = parse_attributes(input)?;
        let size = message.len() + attributes_size;
        let (arn, member) = match (topic_arn, target_arn, phone) {
            (None, None, None) => {
                return Err(invalid(
                    "TopicArn or TargetArn Reason: no value for required parameter",
                ));
            }
            (Some(arn), None, None) => (arn, "TopicArn"),
            (None, Some(arn), None) => (arn, "TargetArn"),
            (None, None, Some(number)) => {
                if !is_e164(number) {
                    return Err(invalid(format_args!(
                        "PhoneNumber Reason: {number} is not valid to publish to"
                    )));
                }
                if size > DEFAULT_MAX_MESSAGE_SIZE {
                    return Err(invalid("Message too long"));
                }
                parse_content(message, string(input, "MessageStructure")?)?;
                return Ok(json!({ "MessageId": self.new_uuid() }));
            }
            _ => {
                return Err(invalid(
                    "TopicArn Reason: Only one of TopicArn, TargetArn or PhoneNumber may be specified",
                ));
            }
        };
        if member == "TargetArn" && arn.contains(":endpoint/") {
            return Err(invalid(
                "TargetArn Reason: No endpoint found for the target arn specified",
            ));
        }
        let topic = self.topic(arn, member)?;
        if size > topic.max_message_size() {
            return Err(invalid("Message too long"));
        }
        let deduplication_key = if topic.fifo {
            let group = group.ok_or_else(|| {
                invalid("The MessageGroupId parameter is required for FIFO topics")
            })?;
            if group.is_empty() || group.chars().count() > FIFO_ID_MAX {
                return Err(invalid("MessageGroupId"));
            }
            match deduplication {
                Some(id) if id.is_empty() || id.chars().count() > FIFO_ID_MAX => {
                    return Err(invalid("MessageDeduplicationId"));
                }
                Some(id) => Some(format!("id:{id}")),
                None if topic.content_based_deduplication() => Some(format!("body:{message}")),
                None => {
                    return Err(invalid(
                        "The topic should either have ContentBasedDeduplication enabled or \
                         MessageDeduplicationId provided explicitly",
                    ));
                }
            }
        } else {
            if deduplication.is_some() {
                return Err(invalid(
                    "MessageDeduplicationId Reason: The request includes MessageDeduplicationId \
                     parameter that is not valid for this topic type",
                ));
            }
            None
        };
        let content = parse_content(message, string(input, "MessageStructure")?)?;
        if let Some(previous) = deduplication_key
            .as_ref()
            .and_then(|key| topic.recent.get(key))
            .filter(|previous| now < previous.at + DEDUPLICATION_WINDOW)
        {
            // A duplicate within the window: accepted, answered as the original, not sent.
            return Ok(json!({
                "MessageId": previous.message_id,
                "SequenceNumber": previous.sequence_number,
            }));
        }
        let topic_arn = topic.arn.clone();
        let message_id = self.new_uuid();
        let topic = self
            .topics
            .get_mut(&topic_arn)
            .ok_or_else(topic_not_found)?;
        topic.published += 1;
        let sequence_number = deduplication_key.map(|key| {
            topic.sequence += 1;
            let sequence_number = (10_000_000_000_000_000_000_u64 + topic.sequence).to_string();
            topic
                .recent
                .retain(|_, recent| now < recent.at + DEDUPLICATION_WINDOW);
            topic.recent.insert(
                key,
                Deduplicated {
                    at: now,
                    message_id: message_id.clone(),
                    sequence_number: sequence_number.clone(),
                },
            );
            sequence_number
        });
        let outgoing = Outgoing {
            kind: MessageKind::Notification,
            message_id: &message_id,
            subject,
            content: &content,
            token: None,
            sequence_number: sequence_number.as_deref(),
            attributes: &attributes,
        };
        self.fan_out(&topic_arn, &outgoing, now);
        let mut output = json!({ "MessageId": message_id });
        if let Some(sequence_number) = sequence_number {
            output["SequenceNumber"] = Value::String(sequence_number);
        }
        Ok(output)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_follow_sns_rules() {
        assert!(check_subject("ALARM: \"errors\" in US East (N. Virginia)").is_ok());
        assert!(check_subject("").is_err());
        assert!(check_subject("two\nlines").is_err());
        assert!(check_subject(&"s".repeat(99)).is_ok());
        assert!(check_subject(&"s".repeat(100)).is_err());
        assert!(check_subject(" leading space").is_err());
    }

    #[test]
    fn attribute_names_follow_sns_rules() {
        assert!(check_attribute_name("store.region_1-a").is_ok());
        for (bad, message) in [
            (
                ".a",
                "Invalid message attribute name starting with character '.' was found.",
            ),
            (
                "a.",
                "Invalid message attribute name ending with character '.' was found.",
            ),
            (
                "a..b",
                "Message attribute name can not have successive '.' character.",
            ),
            (
                "a b",
                "Invalid non-alphanumeric character '#x20' was found in the message attribute name. \
                 Can only include alphanumeric characters, hyphens, underscores, or dots.",
            ),
        ] {
            let error = check_attribute_name(bad).unwrap_err();
            assert_eq!(
                (error.code.as_str(), error.message.as_str()),
                ("ParameterValueInvalid", message)
            );
        }
    }

    #[test]
    fn phone_numbers_are_e164() {
        assert!(is_e164("+14155552671"));
        assert!(!is_e164("+04155552671"));
        assert!(!is_e164("555-2671"));
        assert!(!is_e164("14155552671"));
        assert!(!is_e164("+1234567890123456"));
    }
}
