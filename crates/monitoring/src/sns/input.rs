//! Reading a call's JSON input (members named as botocore names them) and building
//! SNS's errors in AWS's words. Nothing here knows what a topic is.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::ApiError;

/// `InvalidParameter` (400) with AWS's `Invalid parameter: ` prefix.
pub(super) fn invalid(detail: impl std::fmt::Display) -> ApiError {
    ApiError::new("InvalidParameter", format!("Invalid parameter: {detail}"))
}

/// `ParameterValueInvalid` (400), the query code of `InvalidParameterValueException`,
/// which SNS uses for message attribute errors.
pub(super) fn value_invalid(message: impl Into<String>) -> ApiError {
    ApiError::new("ParameterValueInvalid", message)
}

/// `NotFound` (404).
pub(super) fn not_found(message: &str) -> ApiError {
    ApiError::new("NotFound", message)
}

/// `NotFound: Topic does not exist`.
pub(super) fn topic_not_found() -> ApiError {
    not_found("Topic does not exist")
}

/// `NotFound: Subscription does not exist`.
pub(super) fn subscription_not_found() -> ApiError {
    not_found("Subscription does not exist")
}

/// The error AWS's request validation gives for a missing required member: `Value null at
/// 'topicArn'` (the member's name with a lower-case first letter).
fn missing(member: &str) -> ApiError {
    let mut chars = member.chars();
    let wire = match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect::<String>(),
        None => String::new(),
    };
    ApiError::new(
        "ValidationError",
        format!(
            "1 validation error detected: Value null at '{wire}' failed to satisfy constraint: \
             Member must not be null"
        ),
    )
}

/// The same error for a member deeper in the input, at the wire path `at`
/// (`tags.1.member.key`).
fn missing_at(at: &str) -> ApiError {
    ApiError::new(
        "ValidationError",
        format!(
            "1 validation error detected: Value null at '{at}' failed to satisfy constraint: \
             Member must not be null"
        ),
    )
}

/// An optional string member; any other JSON type is the client's error.
pub(super) fn string<'a>(input: &'a Value, member: &str) -> Result<Option<&'a str>, ApiError> {
    match input.get(member) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(_) => Err(invalid(member)),
    }
}

/// A required string member.
pub(super) fn required<'a>(input: &'a Value, member: &str) -> Result<&'a str, ApiError> {
    string(input, member)?.ok_or_else(|| missing(member))
}

/// An optional boolean member; the strings `true`/`false` are accepted too, since the
/// query protocol carries booleans as text.
pub(super) fn boolean(input: &Value, member: &str) -> Result<Option<bool>, ApiError> {
    match input.get(member) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(value)) => Ok(Some(*value)),
        Some(Value::String(text)) if text.eq_ignore_ascii_case("true") => Ok(Some(true)),
        Some(Value::String(text)) if text.eq_ignore_ascii_case("false") => Ok(Some(false)),
        Some(_) => Err(invalid(member)),
    }
}

/// A map of strings to strings (`Attributes`), empty when absent.
pub(super) fn string_map(
    input: &Value,
    member: &str,
) -> Result<BTreeMap<String, String>, ApiError> {
    match input.get(member) {
        None | Some(Value::Null) => Ok(BTreeMap::new()),
        Some(Value::Object(entries)) => entries
            .iter()
            .map(|(key, value)| match value {
                Value::String(text) => Ok((key.clone(), text.clone())),
                _ => Err(invalid(format_args!(
                    "{member} Reason: {key} must be a string"
                ))),
            })
            .collect(),
        Some(_) => Err(invalid(member)),
    }
}

/// AWS's request validation error for `value` breaking `constraint` at the wire path
/// `member` (`tags.1.member.key`).
fn constraint(value: &str, member: &str, constraint: &str) -> ApiError {
    ApiError::new(
        "ValidationError",
        format!(
            "1 validation error detected: Value '{value}' at '{member}' failed to satisfy \
             constraint: {constraint}"
        ),
    )
}

/// Checks a tag key or value's length against the model (`TagKey` 1 to 128, `TagValue`
/// 0 to 256 characters).
fn check_tag_length(text: &str, member: &str, min: usize, max: usize) -> Result<(), ApiError> {
    let length = text.chars().count();
    if length < min {
        return Err(constraint(
            text,
            member,
            &format!("Member must have length greater than or equal to {min}"),
        ));
    }
    if length > max {
        return Err(constraint(
            text,
            member,
            &format!("Member must have length less than or equal to {max}"),
        ));
    }
    Ok(())
}

/// `TagLimitExceeded`: more than 50 tags on one topic, in AWS's words.
pub(super) fn tag_limit_exceeded() -> ApiError {
    ApiError::new(
        "TagLimitExceeded",
        "Could not complete request: tag quota of per resource exceeded",
    )
}

/// `Tags`: a list of `{Key, Value}`, in the order given; `required` for TagResource.
/// Keys are 1 to 128 characters and values at most 256 (AWS's request validation, as
/// `ValidationError`), a key may appear once, and a list of more than 50 is
/// `TagLimitExceeded`.
pub(super) fn tags(input: &Value, required: bool) -> Result<Vec<(String, String)>, ApiError> {
    let list = match input.get("Tags") {
        None | Some(Value::Null) if required => return Err(missing("Tags")),
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(list)) => list,
        Some(_) => return Err(invalid("Tags")),
    };
    let mut tags = Vec::with_capacity(list.len());
    for (index, tag) in list.iter().enumerate() {
        let at = |field: &str| format!("tags.{}.member.{field}", index + 1);
        let key = string(tag, "Key")?.ok_or_else(|| missing_at(&at("key")))?;
        let value = string(tag, "Value")?.ok_or_else(|| missing_at(&at("value")))?;
        check_tag_length(key, &at("key"), 1, 128)?;
        check_tag_length(value, &at("value"), 0, 256)?;
        if tags.iter().any(|(existing, _)| existing == key) {
            return Err(invalid("Duplicated keys are not allowed."));
        }
        tags.push((key.to_owned(), value.to_owned()));
    }
    if tags.len() > crate::tags::MAX_TAGS {
        return Err(tag_limit_exceeded());
    }
    Ok(tags)
}

/// `TagKeys` of UntagResource: required, each 1 to 128 characters.
pub(super) fn tag_keys(input: &Value) -> Result<Vec<String>, ApiError> {
    let list = match input.get("TagKeys") {
        None | Some(Value::Null) => return Err(missing("TagKeys")),
        Some(Value::Array(list)) => list,
        Some(_) => return Err(invalid("TagKeys")),
    };
    let mut keys = Vec::with_capacity(list.len());
    for (index, key) in list.iter().enumerate() {
        let Value::String(key) = key else {
            return Err(invalid("TagKeys"));
        };
        check_tag_length(key, &format!("tagKeys.{}.member", index + 1), 1, 128)?;
        keys.push(key.clone());
    }
    Ok(keys)
}

/// Parses a `true`/`false` attribute value the way SNS does (case-insensitively).
pub(super) fn parse_bool(text: &str) -> Option<bool> {
    if text.eq_ignore_ascii_case("true") {
        Some(true)
    } else if text.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// The key a page starts at, from its `NextToken`: the base64 of that key, so a page
/// stays right even when items before it are deleted between calls.
pub(super) fn next_token_start(token: Option<&str>) -> Result<Option<String>, ApiError> {
    use base64::Engine as _;
    let Some(token) = token else {
        return Ok(None);
    };
    base64::engine::general_purpose::STANDARD
        .decode(token)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .map(Some)
        .ok_or_else(|| invalid("NextToken"))
}

/// The `NextToken` for a page that should resume at `key`.
pub(super) fn next_token(key: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(key)
}

/// How many items a list call returns at most.
pub(super) const PAGE_SIZE: usize = 100;
