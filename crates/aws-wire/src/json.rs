//! AWS JSON 1.0 (CloudWatch) and 1.1 (EventBridge), both directions, driven by the
//! model.
//!
//! - Requests ([`decode_input`]): the body is JSON keyed by member names already; this
//!   module checks every value against its shape and makes it canonical: timestamps
//!   become epoch-second numbers (numbers and ISO 8601 text accepted, as botocore also
//!   accepts on parse), doubles become floats, blobs stay base64 (checked). Unknown
//!   members are ignored, as Smithy servers do (clients may be newer than the server);
//!   `null` means absent; an empty body is `{}`. A value of the wrong type is an error
//!   naming its path (`MetricData[0].Value`). Required members and value ranges are the
//!   services' business, the same for every protocol.
//! - Responses ([`encode_output`]): canonical JSON of the output shape back to the wire:
//!   timestamps as epoch-second numbers, doubles as JSON numbers, nulls dropped. An
//!   operation without an output answers `{}`.
//! - Errors ([`encode_error`]): `{"__type": ..., "message": ...}` with the error shape's
//!   status; `__type` is the shape's absolute id (`com.amazonaws.cloudwatch#<Shape>`)
//!   for query-compatible services and the bare shape name otherwise (EventBridge), and
//!   query-compatible services add `x-amzn-query-error: <QueryCode>;Sender|Receiver`,
//!   which botocore and aws-sdk-rust need to raise typed exceptions (fact sheet 1.5).
//!
//! - The client's side ([`encode_input`], [`decode_output`]): the same two conversions
//!   the other way round, for a shell that forwards a request decoded from another
//!   protocol to a JSON service (the tests' CBOR-to-JSON bridge to moto) and reads its
//!   answer back into canonical JSON.
//!
//! The `Content-Type` of both directions is [`content_type`]; the caller adds
//! `x-amzn-RequestId`.

use serde_json::{Map, Number, Value};

use crate::awsquery::timestamp;
use crate::model::{Model, Scalar, Shape, ShapeId, find_member};
use crate::protocol::error_spec;
pub use crate::protocol::{EncodedError, OutputError};

/// Why a request body does not fit its operation's input shape. Each is a client error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    /// The model has no such operation.
    #[error("The operation {0} is not known")]
    UnknownOperation(String),
    /// The body is not one JSON object.
    #[error("The request body is not a JSON object: {0}")]
    Malformed(String),
    /// A value of the wrong type for its member.
    #[error("Invalid value for {path}: {reason}")]
    InvalidValue {
        /// Where in the input, e.g. `MetricData[0].Timestamp`.
        path: String,
        /// What was expected and what was found.
        reason: String,
    },
}

impl InputError {
    /// The error code to answer with through [`encode_error`]: Smithy's
    /// `UnknownOperationException` and `SerializationException`; a wrongly typed value is
    /// `InvalidParameterValue` where the model has that code (CloudWatch, as its CBOR
    /// codec answers), `SerializationException` elsewhere.
    pub fn code(&self, model: &Model) -> &'static str {
        match self {
            InputError::UnknownOperation(_) => "UnknownOperationException",
            InputError::Malformed(_) => "SerializationException",
            InputError::InvalidValue { .. } => {
                if model.error_by_code("InvalidParameterValue").is_some() {
                    "InvalidParameterValue"
                } else {
                    "SerializationException"
                }
            }
        }
    }
}

/// The `Content-Type` of the model's JSON protocol: `application/x-amz-json-1.0` or
/// `application/x-amz-json-1.1`.
pub fn content_type(model: &Model) -> &'static str {
    match model.json_version.as_deref() {
        Some("1.0") => "application/x-amz-json-1.0",
        _ => "application/x-amz-json-1.1",
    }
}

/// Where in a document the codec is, built on the stack and rendered only for an error.
#[derive(Clone, Copy)]
enum Path<'a> {
    Root,
    Key(&'a Path<'a>, &'a str),
    Index(&'a Path<'a>, usize),
}

impl Path<'_> {
    fn render(&self) -> String {
        match self {
            Path::Root => String::new(),
            Path::Key(Path::Root, key) => (*key).to_owned(),
            Path::Key(parent, key) => format!("{}.{key}", parent.render()),
            Path::Index(parent, i) => format!("{}[{i}]", parent.render()),
        }
    }

    fn or_request(&self) -> String {
        match self {
            Path::Root => "the request".to_owned(),
            other => other.render(),
        }
    }
}

/// Decodes an operation's request body into canonical JSON of its input shape.
pub fn decode_input(model: &Model, operation: &str, body: &[u8]) -> Result<Value, InputError> {
    let op = model
        .operation(operation)
        .ok_or_else(|| InputError::UnknownOperation(operation.to_owned()))?;
    let value: Value = if body.iter().all(u8::is_ascii_whitespace) {
        Value::Object(Map::new())
    } else {
        serde_json::from_slice(body).map_err(|e| InputError::Malformed(e.to_string()))?
    };
    if !value.is_object() {
        return Err(InputError::Malformed(format!(
            "expected an object, found {}",
            kind(&value)
        )));
    }
    match op.input {
        Some(shape) => decode_value(model, shape, &value, &Path::Root),
        None => Ok(Value::Object(Map::new())),
    }
}

/// What a JSON value is, for messages.
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

fn decode_value(
    model: &Model,
    shape: ShapeId,
    value: &Value,
    path: &Path<'_>,
) -> Result<Value, InputError> {
    let wrong = |expected: &str| InputError::InvalidValue {
        path: path.or_request(),
        reason: format!("expected {expected}, found {}", kind(value)),
    };
    match model.shape(shape) {
        Shape::Structure { members, .. } => {
            let Value::Object(given) = value else {
                return Err(wrong("an object"));
            };
            let mut out = Map::new();
            for (key, sent) in given {
                // Unknown members are ignored; null means absent.
                let Some(member) = find_member(members, key) else {
                    continue;
                };
                if sent.is_null() {
                    continue;
                }
                let here = Path::Key(path, key);
                out.insert(key.clone(), decode_value(model, member.shape, sent, &here)?);
            }
            Ok(Value::Object(out))
        }
        Shape::List { member, .. } => {
            let Value::Array(items) = value else {
                return Err(wrong("a list"));
            };
            items
                .iter()
                .enumerate()
                .map(|(i, item)| decode_value(model, member.shape, item, &Path::Index(path, i)))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array)
        }
        Shape::Map { value: element, .. } => {
            let Value::Object(entries) = value else {
                return Err(wrong("an object (a map)"));
            };
            let mut out = Map::new();
            for (key, sent) in entries {
                let here = Path::Key(path, key);
                out.insert(
                    key.clone(),
                    decode_value(model, element.shape, sent, &here)?,
                );
            }
            Ok(Value::Object(out))
        }
        Shape::Scalar(scalar) => {
            decode_scalar(*scalar, value).ok_or_else(|| wrong(expectation(*scalar)))
        }
    }
}

/// What a scalar must be, for messages.
fn expectation(scalar: Scalar) -> &'static str {
    match scalar {
        Scalar::String => "a string",
        Scalar::Integer => "a 32-bit integer",
        Scalar::Long => "a 64-bit integer",
        Scalar::Boolean => "a boolean",
        Scalar::Double | Scalar::Float => "a finite number",
        Scalar::Timestamp => "epoch seconds or an ISO 8601 date-time",
        Scalar::Blob => "base64 text",
    }
}

/// An integral JSON number in `range`, as a JSON integer (integral floats such as `60.0`
/// are accepted).
fn integer(value: &Value, range: std::ops::RangeInclusive<i64>) -> Option<Value> {
    let Value::Number(n) = value else {
        return None;
    };
    let whole = match n.as_i64() {
        Some(i) => i,
        None => {
            let f = n.as_f64()?;
            if f.fract() != 0.0 || !(-9.2e18..9.2e18).contains(&f) {
                return None;
            }
            #[allow(clippy::cast_possible_truncation)]
            let i = f as i64;
            i
        }
    };
    range.contains(&whole).then(|| Value::Number(whole.into()))
}

fn decode_scalar(scalar: Scalar, value: &Value) -> Option<Value> {
    match (scalar, value) {
        (Scalar::String, Value::String(_)) | (Scalar::Boolean, Value::Bool(_)) => {
            Some(value.clone())
        }
        (Scalar::Integer, _) => integer(value, i64::from(i32::MIN)..=i64::from(i32::MAX)),
        (Scalar::Long, _) => integer(value, i64::MIN..=i64::MAX),
        (Scalar::Double | Scalar::Float, Value::Number(n)) => {
            n.as_f64().and_then(Number::from_f64).map(Value::Number)
        }
        (Scalar::Timestamp, Value::Number(n)) => {
            n.as_f64().filter(|f| f.is_finite()).map(|_| value.clone())
        }
        (Scalar::Timestamp, Value::String(text)) => {
            timestamp::parse_iso8601(text).map(Value::Number)
        }
        (Scalar::Blob, Value::String(text)) => is_base64(text).then(|| value.clone()),
        _ => None,
    }
}

/// Whether `text` is standard base64 with padding (what every AWS client writes).
pub(crate) fn is_base64(text: &str) -> bool {
    let bytes = text.as_bytes();
    if !bytes.len().is_multiple_of(4) {
        return false;
    }
    let padding = bytes.iter().rev().take_while(|&&b| b == b'=').count();
    padding <= 2
        && bytes[..bytes.len() - padding]
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
}

/// Renders an operation's answer: canonical JSON of its output shape to the wire.
pub fn encode_output(
    model: &Model,
    operation: &str,
    value: &Value,
) -> Result<Vec<u8>, OutputError> {
    let op = model.operation(operation).ok_or_else(|| OutputError {
        path: String::new(),
        reason: format!("the model has no operation {operation}"),
    })?;
    let wire = match op.output {
        Some(shape) if !value.is_null() => encode_value(model, shape, value, &Path::Root)?,
        _ => {
            if !matches!(value, Value::Null) && value.as_object().is_none_or(|m| !m.is_empty()) {
                return Err(OutputError {
                    path: String::new(),
                    reason: format!("{operation} has no output, but the answer is {value}"),
                });
            }
            Value::Object(Map::new())
        }
    };
    serde_json::to_vec(&wire).map_err(|e| OutputError {
        path: String::new(),
        reason: e.to_string(),
    })
}

/// Renders a request body: canonical JSON of `operation`'s input shape (as any
/// protocol's decoder produces it) as the JSON a client sends, timestamps as epoch
/// seconds and blobs as base64. An operation without an input sends `{}`. The inverse
/// of [`decode_input`].
pub fn encode_input(model: &Model, operation: &str, value: &Value) -> Result<Vec<u8>, OutputError> {
    let op = model.operation(operation).ok_or_else(|| OutputError {
        path: String::new(),
        reason: format!("the model has no operation {operation}"),
    })?;
    let wire = match op.input {
        Some(shape) if !value.is_null() => encode_value(model, shape, value, &Path::Root)?,
        _ => {
            if !value.is_null() && value.as_object().is_none_or(|m| !m.is_empty()) {
                return Err(OutputError {
                    path: String::new(),
                    reason: format!("{operation} has no input, but the request is {value}"),
                });
            }
            Value::Object(Map::new())
        }
    };
    serde_json::to_vec(&wire).map_err(|e| OutputError {
        path: String::new(),
        reason: e.to_string(),
    })
}

/// Reads a successful answer's body into canonical JSON of `operation`'s output shape,
/// checked as [`decode_input`] checks a request: timestamps (epoch seconds or ISO 8601
/// text) become epoch-second numbers, unknown members and nulls are dropped, a value of
/// the wrong type is an error naming its path. An empty body, or any body of an
/// operation without an output, is `{}`. The inverse of [`encode_output`].
pub fn decode_output(model: &Model, operation: &str, body: &[u8]) -> Result<Value, InputError> {
    let op = model
        .operation(operation)
        .ok_or_else(|| InputError::UnknownOperation(operation.to_owned()))?;
    let Some(shape) = op.output else {
        return Ok(Value::Object(Map::new()));
    };
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Object(Map::new()));
    }
    let value: Value =
        serde_json::from_slice(body).map_err(|e| InputError::Malformed(e.to_string()))?;
    decode_value(model, shape, &value, &Path::Root)
}

fn encode_value(
    model: &Model,
    shape: ShapeId,
    value: &Value,
    path: &Path<'_>,
) -> Result<Value, OutputError> {
    let wrong = |expected: &str| OutputError {
        path: path.render(),
        reason: format!("expected {expected}, found {value}"),
    };
    match model.shape(shape) {
        Shape::Structure { members, .. } => {
            let Value::Object(map) = value else {
                return Err(wrong("an object"));
            };
            let mut out = Map::new();
            for (key, v) in map {
                if v.is_null() {
                    continue;
                }
                let here = Path::Key(path, key);
                let member = find_member(members, key).ok_or_else(|| OutputError {
                    path: here.render(),
                    reason: "no such member".to_owned(),
                })?;
                out.insert(key.clone(), encode_value(model, member.shape, v, &here)?);
            }
            Ok(Value::Object(out))
        }
        Shape::List { member, .. } => {
            let Value::Array(items) = value else {
                return Err(wrong("a list"));
            };
            items
                .iter()
                .enumerate()
                .map(|(i, item)| encode_value(model, member.shape, item, &Path::Index(path, i)))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array)
        }
        Shape::Map { value: element, .. } => {
            let Value::Object(entries) = value else {
                return Err(wrong("an object (a map)"));
            };
            let mut out = Map::new();
            for (key, v) in entries {
                let here = Path::Key(path, key);
                out.insert(key.clone(), encode_value(model, element.shape, v, &here)?);
            }
            Ok(Value::Object(out))
        }
        Shape::Scalar(Scalar::Timestamp) => match value {
            Value::Number(_) => Ok(value.clone()),
            Value::String(text) => timestamp::parse_iso8601(text)
                .map(Value::Number)
                .ok_or_else(|| wrong("epoch seconds")),
            _ => Err(wrong("epoch seconds")),
        },
        Shape::Scalar(scalar) => {
            decode_scalar(*scalar, value).ok_or_else(|| wrong(expectation(*scalar)))
        }
    }
}

/// Renders an error answer for `code`: a query code (`InvalidParameterValue`) or an
/// error shape's name (`InvalidParameterValueException`), as [`Model::error_by_code`]
/// finds it. A code the model does not have (`UnknownOperationException`,
/// `SerializationException`, `ValidationException`, ...) is sent as is as `__type`, with
/// the status of [`crate::protocol::common_error`] (400 for codes it does not know).
///
/// Headers: `Content-Type` and, for query-compatible services, `x-amzn-query-error`.
/// The caller adds `x-amzn-RequestId`.
pub fn encode_error(model: &Model, code: &str, message: &str) -> EncodedError {
    let spec = error_spec(model, code);
    let type_name = if spec.modeled && model.aws_query_compatible {
        format!("{}#{}", namespace(model), spec.shape)
    } else {
        spec.shape.clone()
    };
    let mut body = Map::new();
    body.insert("__type".to_owned(), Value::String(type_name));
    body.insert("message".to_owned(), Value::String(message.to_owned()));
    let mut headers = vec![("Content-Type", content_type(model).to_owned())];
    if model.aws_query_compatible {
        let side = if spec.sender_fault {
            "Sender"
        } else {
            "Receiver"
        };
        headers.push(("x-amzn-query-error", format!("{};{side}", spec.code)));
    }
    EncodedError {
        status: spec.status,
        headers,
        body: Value::Object(body).to_string().into_bytes(),
    }
}

/// The Smithy namespace of the model's shapes: `com.amazonaws.cloudwatch` for the
/// service id `CloudWatch`.
fn namespace(model: &Model) -> String {
    let id = model
        .service_id
        .as_deref()
        .unwrap_or_default()
        .to_ascii_lowercase()
        .replace(' ', "");
    format!("com.amazonaws.{id}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn base64_is_checked_strictly() {
        assert!(is_base64(""));
        assert!(is_base64("aGVsbG8="));
        assert!(is_base64("aGk+/w=="));
        assert!(!is_base64("aGVsbG8"));
        assert!(!is_base64("aGV=bG8="));
        assert!(!is_base64("a==="));
    }

    #[test]
    fn paths_name_members_and_indices() {
        let root = Path::Root;
        let data = Path::Key(&root, "MetricData");
        let first = Path::Index(&data, 0);
        let value = Path::Key(&first, "Value");
        assert_eq!(value.render(), "MetricData[0].Value");
        assert_eq!(root.or_request(), "the request");
    }

    #[test]
    fn output_less_operations_answer_an_empty_object() {
        let model = Model::cloudwatch();
        assert_eq!(
            encode_output(model, "PutMetricData", &Value::Null).expect("encodes"),
            b"{}"
        );
        assert_eq!(
            encode_output(model, "PutMetricData", &json!({})).expect("encodes"),
            b"{}"
        );
        assert!(encode_output(model, "PutMetricData", &json!({"A": 1})).is_err());
    }

    #[test]
    fn an_input_encodes_to_what_decode_input_reads_back() {
        let model = Model::cloudwatch();
        let request = json!({
            "Namespace": "spotlab",
            "MetricData": [{
                "MetricName": "Error",
                "Timestamp": 1_700_000_000.5,
                "Values": [0.0, 1.0],
                "Counts": [5.0, 3.0],
                "Unit": "Count",
                "Dimensions": [{"Name": "InstanceId", "Value": "i-1"}],
            }],
        });
        let body = encode_input(model, "PutMetricData", &request).expect("a valid input");
        let wire: Value = serde_json::from_slice(&body).expect("JSON");
        assert_eq!(wire["MetricData"][0]["Timestamp"], json!(1_700_000_000.5));
        assert_eq!(
            decode_input(model, "PutMetricData", &body).expect("decodes"),
            request
        );
    }

    #[test]
    fn an_input_of_the_wrong_shape_is_refused_with_its_path() {
        let model = Model::cloudwatch();
        let error = encode_input(
            model,
            "PutMetricData",
            &json!({"MetricData": [{"Values": ["one"]}]}),
        )
        .expect_err("a string is not a double");
        assert_eq!(error.path, "MetricData[0].Values[0]");
        assert!(encode_input(model, "NoSuchOperation", &json!({})).is_err());
    }

    #[test]
    fn an_answer_decodes_into_canonical_json() {
        let model = Model::cloudwatch();
        let body = br#"{"Label": "Error", "Datapoints": [
            {"Timestamp": "2023-11-14T22:13:20Z", "SampleCount": 8.0, "Average": 0.375,
             "Sum": 3, "Unit": "Count", "Extra": true}], "Unmodeled": null}"#;
        let answer = decode_output(model, "GetMetricStatistics", body).expect("decodes");
        assert_eq!(
            answer,
            json!({"Label": "Error", "Datapoints": [{
                "Timestamp": 1_700_000_000, "SampleCount": 8.0, "Average": 0.375,
                "Sum": 3.0, "Unit": "Count"}]})
        );
        let wire = encode_output(model, "GetMetricStatistics", &answer).expect("encodes");
        assert_eq!(
            decode_output(model, "GetMetricStatistics", &wire).expect("decodes"),
            answer
        );
    }

    #[test]
    fn an_answer_without_output_or_body_is_empty_and_a_bad_one_names_its_path() {
        let model = Model::cloudwatch();
        for (operation, body) in [("PutMetricData", &b"{}"[..]), ("DescribeAlarms", b"")] {
            assert_eq!(
                decode_output(model, operation, body).expect("decodes"),
                json!({})
            );
        }
        let error = decode_output(
            model,
            "DescribeAlarms",
            br#"{"MetricAlarms": [{"Threshold": "high"}]}"#,
        )
        .expect_err("a string is not a double");
        assert!(
            matches!(&error, InputError::InvalidValue { path, .. } if path == "MetricAlarms[0].Threshold"),
            "{error:?}"
        );
        assert!(matches!(
            decode_output(model, "DescribeAlarms", b"<xml/>"),
            Err(InputError::Malformed(_))
        ));
    }
}
