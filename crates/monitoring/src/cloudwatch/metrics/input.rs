//! Reading CloudWatch inputs from JSON with AWS's error codes and messages, and writing
//! the few output forms the metric calls share.
//!
//! Paths in messages use the query protocol's spelling (`MetricData.member.1.Value`),
//! as CloudWatch's messages do whatever protocol the request came in.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};
use simtime::SimTime;
use watch::metrics::{MetricId, Period, Unit};

use crate::ApiError;

/// `prefix.name`, or `name` at the top level.
pub(super) fn path(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_owned()
    } else {
        format!("{prefix}.{name}")
    }
}

/// `prefix.member.N` (1-based), the query protocol's list item path.
pub(super) fn item(prefix: &str, index: usize) -> String {
    format!("{prefix}.member.{}", index + 1)
}

/// `The value X for parameter P is not a valid value.`
pub(super) fn invalid(shown: impl std::fmt::Display, path: &str) -> ApiError {
    ApiError::invalid_value(format!(
        "The value {shown} for parameter {path} is not a valid value."
    ))
}

/// The JSON text of a value for messages (strings without quotes).
fn shown(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// The input as an object (a missing or null input is an empty object).
pub(super) fn object<'a>(value: &'a Value, path: &str) -> Result<&'a Map<String, Value>, ApiError> {
    static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
    match value {
        Value::Object(map) => Ok(map),
        Value::Null => Ok(EMPTY.get_or_init(Map::new)),
        other => Err(invalid(shown(other), path)),
    }
}

/// A member, with JSON null treated as absent.
pub(super) fn member<'a>(object: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    object.get(name).filter(|v| !v.is_null())
}

pub(super) fn string<'a>(
    object: &'a Map<String, Value>,
    name: &str,
    prefix: &str,
) -> Result<Option<&'a str>, ApiError> {
    match member(object, name) {
        None => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(other) => Err(invalid(shown(other), &path(prefix, name))),
    }
}

pub(super) fn required_string<'a>(
    object: &'a Map<String, Value>,
    name: &str,
    prefix: &str,
) -> Result<&'a str, ApiError> {
    string(object, name, prefix)?.ok_or_else(|| ApiError::missing(&path(prefix, name)))
}

/// A double; non-finite spellings (`NaN`, `Infinity`) are refused with their text.
pub(super) fn number(
    object: &Map<String, Value>,
    name: &str,
    prefix: &str,
) -> Result<Option<f64>, ApiError> {
    member(object, name)
        .map(|value| number_value(value, &path(prefix, name)))
        .transpose()
}

/// A JSON value as a finite double.
pub(super) fn number_value(value: &Value, path: &str) -> Result<f64, ApiError> {
    let parsed = match value {
        Value::Number(n) => n.as_f64(),
        Value::String(text) => text.trim().parse::<f64>().ok(),
        _ => None,
    };
    match parsed {
        Some(x) if x.is_finite() => Ok(x),
        _ => Err(invalid(shown(value), path)),
    }
}

pub(super) fn integer(
    object: &Map<String, Value>,
    name: &str,
    prefix: &str,
) -> Result<Option<i64>, ApiError> {
    let Some(value) = member(object, name) else {
        return Ok(None);
    };
    let parsed = match value {
        Value::Number(n) => n.as_i64(),
        Value::String(text) => text.trim().parse::<i64>().ok(),
        _ => None,
    };
    parsed
        .map(Some)
        .ok_or_else(|| invalid(shown(value), &path(prefix, name)))
}

pub(super) fn boolean(
    object: &Map<String, Value>,
    name: &str,
    prefix: &str,
) -> Result<Option<bool>, ApiError> {
    match member(object, name) {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(Value::String(text)) if text == "true" || text == "false" => Ok(Some(text == "true")),
        Some(other) => Err(invalid(shown(other), &path(prefix, name))),
    }
}

/// Seconds since the epoch (fractions allowed), or an ISO-8601 string.
pub(super) fn timestamp(
    object: &Map<String, Value>,
    name: &str,
    prefix: &str,
) -> Result<Option<SimTime>, ApiError> {
    let Some(value) = member(object, name) else {
        return Ok(None);
    };
    let seconds = match value {
        Value::Number(n) => n.as_f64(),
        Value::String(text) => match SimTime::parse(text) {
            Ok(time) => return Ok(Some(time)),
            Err(_) => text.trim().parse::<f64>().ok(),
        },
        _ => None,
    };
    match seconds {
        Some(s) if (0.0..1e13).contains(&s) => {
            Ok(Some(SimTime::from_millis((s * 1_000.0).round() as u64)))
        }
        _ => Err(invalid(shown(value), &path(prefix, name))),
    }
}

pub(super) fn required_timestamp(
    object: &Map<String, Value>,
    name: &str,
    prefix: &str,
) -> Result<SimTime, ApiError> {
    timestamp(object, name, prefix)?.ok_or_else(|| ApiError::missing(&path(prefix, name)))
}

pub(super) fn list<'a>(
    object: &'a Map<String, Value>,
    name: &str,
    prefix: &str,
) -> Result<Option<&'a [Value]>, ApiError> {
    match member(object, name) {
        None => Ok(None),
        Some(Value::Array(items)) => Ok(Some(items)),
        Some(other) => Err(invalid(shown(other), &path(prefix, name))),
    }
}

/// `The collection P must not have a size greater than N.` when `len > max`.
pub(super) fn check_size(len: usize, max: usize, path: &str) -> Result<(), ApiError> {
    if len > max {
        return Err(ApiError::invalid_value(format!(
            "The collection {path} must not have a size greater than {max}."
        )));
    }
    Ok(())
}

/// A string's length (in characters) within `min..=max`, else InvalidParameterValue.
pub(super) fn check_length(text: &str, min: usize, max: usize, path: &str) -> Result<(), ApiError> {
    let len = text.chars().count();
    if len < min || len > max {
        return Err(invalid(text, path));
    }
    Ok(())
}

pub(super) fn unit(
    object: &Map<String, Value>,
    name: &str,
    prefix: &str,
) -> Result<Option<Unit>, ApiError> {
    string(object, name, prefix)?
        .map(|text| {
            text.parse::<Unit>()
                .map_err(|_| invalid(text, &path(prefix, name)))
        })
        .transpose()
}

/// A period: 1, 5, 10, 20, 30 or a multiple of 60 seconds.
pub(super) fn period(
    object: &Map<String, Value>,
    name: &str,
    prefix: &str,
) -> Result<Option<Period>, ApiError> {
    let Some(seconds) = integer(object, name, prefix)? else {
        return Ok(None);
    };
    let valid = matches!(seconds, 1 | 5 | 10 | 20 | 30) || (seconds > 0 && seconds % 60 == 0);
    u32::try_from(seconds)
        .ok()
        .filter(|_| valid)
        .and_then(Period::from_seconds)
        .map(Some)
        .ok_or_else(|| invalid(seconds, &path(prefix, name)))
}

/// `Dimensions` (Name/Value pairs, at most `max`) as a set; names must be unique.
pub(super) fn dimensions(
    object: &Map<String, Value>,
    name: &str,
    prefix: &str,
    max: usize,
) -> Result<BTreeMap<String, String>, ApiError> {
    let list_path = path(prefix, name);
    let items = list(object, name, prefix)?.unwrap_or_default();
    check_size(items.len(), max, &list_path)?;
    let mut out = BTreeMap::new();
    for (index, entry) in items.iter().enumerate() {
        let entry_path = item(&list_path, index);
        let entry = object_at(entry, &entry_path)?;
        let dimension_name = required_string(entry, "Name", &entry_path)?;
        let value = required_string(entry, "Value", &entry_path)?;
        let name_path = path(&entry_path, "Name");
        check_length(dimension_name, 1, 255, &name_path)?;
        if dimension_name.starts_with(':') || !dimension_name.is_ascii() {
            return Err(invalid(dimension_name, &name_path));
        }
        check_length(value, 1, 1024, &path(&entry_path, "Value"))?;
        if out
            .insert(dimension_name.to_owned(), value.to_owned())
            .is_some()
        {
            return Err(ApiError::invalid_value(format!(
                "The collection {list_path} must not contain duplicate dimension names \
                 ({dimension_name})."
            )));
        }
    }
    Ok(out)
}

/// An object nested in a list.
pub(super) fn object_at<'a>(
    value: &'a Value,
    path: &str,
) -> Result<&'a Map<String, Value>, ApiError> {
    match value {
        Value::Object(map) => Ok(map),
        other => Err(invalid(shown(other), path)),
    }
}

/// A timestamp as JSON seconds: an integer when whole, else a fraction.
pub(super) fn timestamp_json(time: SimTime) -> Value {
    let ms = time.as_millis();
    if ms.is_multiple_of(1_000) {
        json!(ms / 1_000)
    } else {
        json!(ms as f64 / 1_000.0)
    }
}

/// A double as JSON (always a float, so encoders keep it a double).
pub(super) fn double_json(value: f64) -> Value {
    serde_json::Number::from_f64(value).map_or(Value::Null, Value::Number)
}

/// `{"Namespace", "MetricName", "Dimensions": [{"Name", "Value"}]}`.
pub(super) fn metric_json(metric: &MetricId) -> Value {
    let dimensions: Vec<Value> = metric
        .dimensions
        .iter()
        .map(|(name, value)| json!({"Name": name, "Value": value}))
        .collect();
    json!({
        "Namespace": metric.namespace,
        "MetricName": metric.name,
        "Dimensions": dimensions,
    })
}

/// `1440` -> `1,440`, as AWS prints limits.
pub(super) fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
