//! Reading EventBridge call inputs: members by their model names, with AWS's
//! `ValidationException` messages for what the service model constrains
//! (`1 validation error detected: Value 'x' at 'name' failed to satisfy constraint: ...`).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

use crate::ApiError;

/// The bus a call names when it names none.
pub(super) const DEFAULT_BUS: &str = "default";

/// The pattern names and target ids must match (`[\.\-_A-Za-z0-9]+`).
const NAME_PATTERN: &str = r"[\.\-_A-Za-z0-9]+";

/// `ValidationException` with `message`.
pub(super) fn validation(message: impl Into<String>) -> ApiError {
    ApiError::new("ValidationException", message)
}

/// A model constraint `rule` broken by `value` (`None`: the member is missing) at
/// `member` (the wire's camel-case path, e.g. `targets.1.member.id`).
pub(super) fn constraint(value: Option<&str>, member: &str, rule: &str) -> ApiError {
    let shown = value.map_or_else(|| "null".to_owned(), |v| format!("'{v}'"));
    validation(format!(
        "1 validation error detected: Value {shown} at '{member}' failed to satisfy constraint: {rule}"
    ))
}

/// The string member `name` of `input`, if present (`null` counts as absent).
pub(super) fn optional_str<'a>(
    input: &'a Value,
    name: &str,
    member: &str,
) -> Result<Option<&'a str>, ApiError> {
    match input.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(_) => Err(validation(format!(
            "1 validation error detected: Value at '{member}' failed to satisfy constraint: Member must be a string"
        ))),
    }
}

/// The required string member `name` of `input`.
pub(super) fn required_str<'a>(
    input: &'a Value,
    name: &str,
    member: &str,
) -> Result<&'a str, ApiError> {
    optional_str(input, name, member)?
        .ok_or_else(|| constraint(None, member, "Member must not be null"))
}

/// Checks a rule name or target id: 1 to 64 of `[.\-_A-Za-z0-9]`.
pub(super) fn check_name(value: &str, member: &str) -> Result<(), ApiError> {
    check_length(value, member, 1, 64)?;
    let valid = value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
    if valid {
        Ok(())
    } else {
        Err(constraint(
            Some(value),
            member,
            &format!("Member must satisfy regular expression pattern: {NAME_PATTERN}"),
        ))
    }
}

/// Checks a string's length in characters against the model's bounds.
pub(super) fn check_length(
    value: &str,
    member: &str,
    min: usize,
    max: usize,
) -> Result<(), ApiError> {
    let length = value.chars().count();
    if length < min {
        return Err(constraint(
            Some(value),
            member,
            &format!("Member must have length greater than or equal to {min}"),
        ));
    }
    if length > max {
        return Err(constraint(
            Some(value),
            member,
            &format!("Member must have length less than or equal to {max}"),
        ));
    }
    Ok(())
}

/// The bus a call names (`EventBusName`, a name or an event bus ARN), or `default`.
pub(super) fn bus_name(input: &Value) -> Result<String, ApiError> {
    let Some(name) = optional_str(input, "EventBusName", "eventBusName")? else {
        return Ok(DEFAULT_BUS.to_owned());
    };
    let name = match name.split_once(":event-bus/") {
        Some((prefix, bus)) if prefix.starts_with("arn:") => bus,
        _ => name,
    };
    check_length(name, "eventBusName", 1, 1600)?;
    Ok(name.to_owned())
}

/// `Limit` (1 to 100), if given.
pub(super) fn limit(input: &Value) -> Result<Option<usize>, ApiError> {
    match input.get("Limit") {
        None | Some(Value::Null) => Ok(None),
        Some(value) => match value.as_i64() {
            Some(n @ 1..=100) => Ok(usize::try_from(n).ok()),
            Some(n) if n < 1 => Err(constraint(
                Some(&n.to_string()),
                "limit",
                "Member must have value greater than or equal to 1",
            )),
            Some(n) => Err(constraint(
                Some(&n.to_string()),
                "limit",
                "Member must have value less than or equal to 100",
            )),
            None => Err(validation(
                "1 validation error detected: Value at 'limit' failed to satisfy constraint: Member must be an integer",
            )),
        },
    }
}

/// One page of `names` (sorted) from `NextToken` on: the names and the next token.
///
/// A token is the base64 of the first name of the next page, so pages stay right when
/// names are added or removed between calls.
pub(super) fn page<'a>(
    names: &[&'a str],
    input: &Value,
) -> Result<(Vec<&'a str>, Option<String>), ApiError> {
    let limit = limit(input)?;
    let start = match optional_str(input, "NextToken", "nextToken")? {
        None => 0,
        Some(token) => {
            let from = STANDARD
                .decode(token)
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .ok_or_else(|| validation("The NextToken is not valid."))?;
            names.partition_point(|name| *name < from.as_str())
        }
    };
    let rest = names.get(start..).unwrap_or_default();
    let take = limit.unwrap_or(rest.len()).min(rest.len());
    let next = rest.get(take).map(|name| STANDARD.encode(name));
    Ok((rest.get(..take).unwrap_or_default().to_vec(), next))
}
