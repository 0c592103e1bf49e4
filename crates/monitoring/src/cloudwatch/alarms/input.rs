//! Reading a call's JSON input member by member, and the error shapes CloudWatch uses
//! for bad members: `MissingParameter`, `InvalidParameterValue`, and the model-constraint
//! `ValidationError` (`1 validation error detected: Value 'INVALID' at 'stateValue' failed
//! to satisfy constraint: Member must satisfy enum value set: [INSUFFICIENT_DATA, ALARM,
//! OK]`, as captured from AWS).

use serde_json::Value;
use simtime::SimTime;

use crate::ApiError;

/// One structure of a call's input.
#[derive(Clone, Copy, Debug)]
pub(super) struct Input<'a>(pub(super) &'a Value);

impl<'a> Input<'a> {
    /// The member `name`, absent when missing or null.
    pub(super) fn get(self, name: &str) -> Option<&'a Value> {
        self.0.get(name).filter(|value| !value.is_null())
    }

    /// Whether the member is given.
    pub(super) fn has(self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// A string member.
    pub(super) fn string(self, name: &str) -> Result<Option<String>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(text)) => Ok(Some(text.clone())),
            Some(_) => Err(wrong_type(name)),
        }
    }

    /// A required string member.
    pub(super) fn required_string(self, name: &str) -> Result<String, ApiError> {
        self.string(name)?.ok_or_else(|| ApiError::missing(name))
    }

    /// An integer member (a JSON number with no fraction).
    pub(super) fn integer(self, name: &str) -> Result<Option<i64>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Number(number)) => {
                if let Some(whole) = number.as_i64() {
                    return Ok(Some(whole));
                }
                match number.as_f64() {
                    Some(float) if float.fract() == 0.0 && float.abs() < 9.0e15 => {
                        Ok(Some(float as i64))
                    }
                    _ => Err(wrong_type(name)),
                }
            }
            Some(_) => Err(wrong_type(name)),
        }
    }

    /// A double member.
    pub(super) fn number(self, name: &str) -> Result<Option<f64>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Number(number)) => {
                number.as_f64().map(Some).ok_or_else(|| wrong_type(name))
            }
            Some(_) => Err(wrong_type(name)),
        }
    }

    /// A boolean member.
    pub(super) fn boolean(self, name: &str) -> Result<Option<bool>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Bool(flag)) => Ok(Some(*flag)),
            Some(_) => Err(wrong_type(name)),
        }
    }

    /// A list member.
    pub(super) fn list(self, name: &str) -> Result<Option<&'a [Value]>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Array(items)) => Ok(Some(items.as_slice())),
            Some(_) => Err(wrong_type(name)),
        }
    }

    /// A list-of-strings member.
    pub(super) fn strings(self, name: &str) -> Result<Option<Vec<String>>, ApiError> {
        let Some(items) = self.list(name)? else {
            return Ok(None);
        };
        items
            .iter()
            .map(|item| {
                item.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| wrong_type(name))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    /// A timestamp member: seconds since the epoch (fractions allowed), or an ISO-8601
    /// string.
    pub(super) fn time(self, name: &str) -> Result<Option<SimTime>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Number(number)) => match number.as_f64() {
                Some(seconds) if seconds >= 0.0 && seconds.is_finite() => Ok(Some(
                    SimTime::from_millis((seconds * 1000.0).round() as u64),
                )),
                _ => Err(wrong_type(name)),
            },
            Some(Value::String(text)) => {
                SimTime::parse(text).map(Some).map_err(|_| wrong_type(name))
            }
            Some(_) => Err(wrong_type(name)),
        }
    }
}

fn wrong_type(name: &str) -> ApiError {
    ApiError::invalid_value(format!("Invalid type for parameter {name}."))
}

/// A model-constraint violation: `1 validation error detected: Value 'v' at 'member'
/// failed to satisfy constraint: <constraint>`.
pub(super) fn validation(value: &str, member: &str, constraint: &str) -> ApiError {
    ApiError::new(
        "ValidationError",
        format!(
            "1 validation error detected: Value '{value}' at '{member}' failed to satisfy \
             constraint: {constraint}"
        ),
    )
}

/// An enum member with a value outside `allowed`.
pub(super) fn not_in_enum(value: &str, member: &str, allowed: &[&str]) -> ApiError {
    validation(
        value,
        member,
        &format!(
            "Member must satisfy enum value set: [{}]",
            allowed.join(", ")
        ),
    )
}

/// Checks a string's length (in characters) against the model's bounds.
pub(super) fn check_length(
    value: &str,
    member: &str,
    min: usize,
    max: usize,
) -> Result<(), ApiError> {
    let length = value.chars().count();
    if length < min {
        return Err(validation(
            value,
            member,
            &format!("Member must have length greater than or equal to {min}"),
        ));
    }
    if length > max {
        return Err(validation(
            value,
            member,
            &format!("Member must have length less than or equal to {max}"),
        ));
    }
    Ok(())
}

/// Checks a list's length against the model's maximum.
pub(super) fn check_count(items: &[String], member: &str, max: usize) -> Result<(), ApiError> {
    if items.len() > max {
        return Err(validation(
            &format!("[{}]", items.join(", ")),
            member,
            &format!("Member must have length less than or equal to {max}"),
        ));
    }
    Ok(())
}

/// Checks an integer against the model's minimum.
pub(super) fn check_minimum(value: i64, member: &str, min: i64) -> Result<(), ApiError> {
    if value < min {
        return Err(validation(
            &value.to_string(),
            member,
            &format!("Member must have value greater than or equal to {min}"),
        ));
    }
    Ok(())
}

/// A timestamp as a JSON number of seconds since the epoch.
pub(super) fn seconds(time: SimTime) -> Value {
    Value::from(time.as_millis() as f64 / 1000.0)
}
