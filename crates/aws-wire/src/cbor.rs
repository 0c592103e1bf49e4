//! The Smithy RPC v2 CBOR protocol (CloudWatch), driven by the model.
//!
//! aws-sdk-rust speaks only this protocol to CloudWatch (`POST
//! /service/GraniteServiceVersion20100801/operation/<Op>`, `smithy-protocol:
//! rpc-v2-cbor`); routing the request to an operation is [`crate::protocol`]'s business.
//! This module turns bodies into the canonical JSON every protocol shares and back:
//!
//! - Requests ([`decode_input`]): a CBOR map of the input structure, keyed by member
//!   names, becomes JSON named by the same members. Timestamps (tag 1 with an integer or
//!   a float, as botocore and aws-sdk-rust send them) become epoch-second numbers, whole
//!   ones as JSON integers; blobs become base64 strings; doubles may arrive as any float
//!   width or an integer. Every encoding RFC 8949 allows is accepted (indefinite maps,
//!   arrays and strings included); an empty body, `a0` and `bf ff` all mean `{}`.
//!   Unknown members are ignored (the protocol lets clients be newer than servers); a
//!   value of the wrong type is an error naming its path (`MetricData[0].Value`).
//! - Responses ([`encode_output`]): JSON of the output shape becomes definite-length
//!   CBOR. Timestamps are tag 1 + float64; every `double`/`float` is float64 (`fb`) even
//!   when integral, because aws-sdk-rust rejects an integer where a double is modeled;
//!   integers stay CBOR integers; nulls are omitted. An operation without an output
//!   answers an empty body.
//! - Errors ([`encode_error`]): `{"__type": "com.amazonaws.cloudwatch#<Shape>",
//!   "message": ...}` with the shape's status and, for query-compatible services, the
//!   `x-amzn-query-error: <QueryCode>;Sender|Receiver` header both SDKs need to raise a
//!   typed exception (fact sheet 1.5).
//!
//! Headers of a successful answer: [`response_headers`]. Whether a request is allowed,
//! required members included, is the services' business, not this module's.

mod item;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Map, Number, Value};

use crate::model::{Model, Scalar, Shape, ShapeId, find_member};
use item::{Item, Writer};

/// The `smithy-protocol` header's value, sent on every response.
pub const PROTOCOL: &str = "rpc-v2-cbor";

/// The `Content-Type` of a response that has a body.
pub const CONTENT_TYPE: &str = "application/cbor";

/// Self-described CBOR (RFC 8949 3.4.6): a tag that only announces CBOR, ignored wherever
/// it appears.
const SELF_DESCRIBED: u64 = 55_799;

/// Tag 1: epoch-based date/time.
const EPOCH_TIME: u64 = 1;

/// The headers of a successful answer whose body is `body`: `smithy-protocol` always,
/// `Content-Type: application/cbor` only when there is a body (an output-less operation
/// answers an empty body and no `Content-Type`). The caller adds `x-amzn-RequestId`.
pub fn response_headers(body: &[u8]) -> Vec<(&'static str, &'static str)> {
    let mut headers = vec![("smithy-protocol", PROTOCOL)];
    if !body.is_empty() {
        headers.push(("Content-Type", CONTENT_TYPE));
    }
    headers
}

/// Why a request body does not fit its operation's input shape. Each is a client error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    /// The model has no such operation.
    #[error("The operation {0} is not known")]
    UnknownOperation(String),
    /// The body is not exactly one well-formed CBOR data item.
    #[error("The request body is not well-formed CBOR (at byte {offset}): {reason}")]
    Malformed {
        /// Offset of the offending byte.
        offset: usize,
        /// What was wrong.
        reason: String,
    },
    /// A value of the wrong type for its member.
    #[error("Invalid value for {path}: {reason}")]
    InvalidValue {
        /// Where in the input, e.g. `MetricData[0].Timestamp`; `the request` for the
        /// body itself.
        path: String,
        /// What was expected and what was found.
        reason: String,
    },
}

impl InputError {
    /// The error code to answer with (see [`encode_error`]): Smithy's
    /// `UnknownOperationException` and `SerializationException`, and the query code
    /// `InvalidParameterValue` for a wrongly typed value (CloudWatch's typed
    /// `InvalidParameterValueException`).
    pub fn code(&self) -> &'static str {
        match self {
            InputError::UnknownOperation(_) => "UnknownOperationException",
            InputError::Malformed { .. } => "SerializationException",
            InputError::InvalidValue { .. } => "InvalidParameterValue",
        }
    }
}

pub use crate::protocol::{EncodedError, OutputError};

/// Decodes an operation's request body into JSON of its input shape.
pub fn decode_input(model: &Model, operation: &str, body: &[u8]) -> Result<Value, InputError> {
    let op = model
        .operation(operation)
        .ok_or_else(|| InputError::UnknownOperation(operation.to_owned()))?;
    match op.input {
        Some(shape) => decode_value(model, shape, body),
        // Nothing to read; clients still send an empty map.
        None => decode_value_unchecked(body).map(|_| Value::Object(Map::new())),
    }
}

/// Decodes a body holding one value of `shape` into canonical JSON. An empty body is an
/// empty structure.
pub fn decode_value(model: &Model, shape: ShapeId, body: &[u8]) -> Result<Value, InputError> {
    if body.is_empty() && matches!(model.shape(shape), Shape::Structure { .. }) {
        return Ok(Value::Object(Map::new()));
    }
    let item = decode_value_unchecked(body)?;
    convert(model, shape, &item, &Path::Root)
}

/// Checks that a body is empty or one well-formed data item.
fn decode_value_unchecked(body: &[u8]) -> Result<Item, InputError> {
    if body.is_empty() {
        return Ok(Item::Map(Vec::new()));
    }
    item::decode(body).map_err(|e| InputError::Malformed {
        offset: e.offset,
        reason: e.reason.to_owned(),
    })
}

/// Where in a value the codec is, built on the stack and rendered only for an error.
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

    fn invalid(&self, reason: String) -> InputError {
        let path = self.render();
        InputError::InvalidValue {
            path: if path.is_empty() {
                "the request".to_owned()
            } else {
                path
            },
            reason,
        }
    }

    fn output_error(&self, reason: String) -> OutputError {
        OutputError {
            path: self.render(),
            reason,
        }
    }
}

/// Strips self-described-CBOR tags, which carry no meaning.
fn untag(mut item: &Item) -> &Item {
    while let Item::Tag(SELF_DESCRIBED, inner) = item {
        item = inner;
    }
    item
}

/// A short name of an item's type for messages.
fn kind(item: &Item) -> String {
    match item {
        Item::Integer(_) => "an integer".to_owned(),
        Item::Bytes(_) => "a byte string".to_owned(),
        Item::Text(_) => "a text string".to_owned(),
        Item::Array(_) => "an array".to_owned(),
        Item::Map(_) => "a map".to_owned(),
        Item::Tag(tag, _) => format!("tag {tag}"),
        Item::Bool(_) => "a boolean".to_owned(),
        Item::Null => "null".to_owned(),
        Item::Undefined => "undefined".to_owned(),
        Item::Simple(n) => format!("simple value {n}"),
        Item::Float(_) => "a float".to_owned(),
    }
}

/// Null and undefined: an absent value.
fn is_absent(item: &Item) -> bool {
    matches!(item, Item::Null | Item::Undefined)
}

fn convert(
    model: &Model,
    shape: ShapeId,
    item: &Item,
    path: &Path<'_>,
) -> Result<Value, InputError> {
    let item = untag(item);
    let expected = |what: &str| path.invalid(format!("expected {what}, found {}", kind(item)));
    match model.shape(shape) {
        Shape::Structure { members, .. } => {
            let Item::Map(pairs) = item else {
                return Err(expected("a structure (a map)"));
            };
            let mut out = Map::new();
            for (key, value) in pairs {
                let Item::Text(name) = untag(key) else {
                    return Err(path.invalid(format!(
                        "member names must be text strings, found {}",
                        kind(key)
                    )));
                };
                let here = Path::Key(path, name);
                if is_absent(untag(value)) {
                    continue;
                }
                // Unknown members are skipped: clients may be newer than the model.
                let Some(member) = find_member(members, name) else {
                    continue;
                };
                if out.contains_key(name) {
                    return Err(here.invalid("the member appears twice".to_owned()));
                }
                out.insert(name.clone(), convert(model, member.shape, value, &here)?);
            }
            Ok(Value::Object(out))
        }
        Shape::List { member, .. } => {
            let Item::Array(items) = item else {
                return Err(expected("a list (an array)"));
            };
            items
                .iter()
                .enumerate()
                .map(|(i, element)| {
                    let here = Path::Index(path, i);
                    if is_absent(untag(element)) {
                        return Err(here.invalid("lists may not hold null".to_owned()));
                    }
                    convert(model, member.shape, element, &here)
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array)
        }
        Shape::Map { value: element, .. } => {
            let Item::Map(pairs) = item else {
                return Err(expected("a map"));
            };
            let mut out = Map::new();
            for (key, value) in pairs {
                let Item::Text(name) = untag(key) else {
                    return Err(path.invalid(format!(
                        "map keys must be text strings, found {}",
                        kind(key)
                    )));
                };
                let here = Path::Key(path, name);
                if out.contains_key(name) {
                    return Err(here.invalid("the key appears twice".to_owned()));
                }
                if is_absent(untag(value)) {
                    continue;
                }
                out.insert(name.clone(), convert(model, element.shape, value, &here)?);
            }
            Ok(Value::Object(out))
        }
        Shape::Scalar(scalar) => scalar_value(*scalar, item, path),
    }
}

fn scalar_value(scalar: Scalar, item: &Item, path: &Path<'_>) -> Result<Value, InputError> {
    let expected = |what: &str| path.invalid(format!("expected {what}, found {}", kind(item)));
    match (scalar, item) {
        (Scalar::String, Item::Text(text)) => Ok(Value::String(text.clone())),
        (Scalar::Boolean, Item::Bool(b)) => Ok(Value::Bool(*b)),
        (Scalar::Integer, Item::Integer(n)) => i32::try_from(*n)
            .map(|n| Value::Number(n.into()))
            .map_err(|_| path.invalid(format!("{n} is out of range for an integer (32 bits)"))),
        (Scalar::Long, Item::Integer(n)) => i64::try_from(*n)
            .map(|n| Value::Number(n.into()))
            .map_err(|_| path.invalid(format!("{n} is out of range for a long (64 bits)"))),
        (Scalar::Double | Scalar::Float, Item::Float(f)) => finite(*f, path),
        // Lossless integer encodings of doubles are allowed by the spec.
        (Scalar::Double | Scalar::Float, Item::Integer(n)) => finite(*n as f64, path),
        (Scalar::Timestamp, Item::Tag(EPOCH_TIME, inner)) => epoch_seconds(untag(inner), path),
        // Lenient: an untagged number of epoch seconds.
        (Scalar::Timestamp, Item::Integer(_) | Item::Float(_)) => epoch_seconds(item, path),
        (Scalar::Blob, Item::Bytes(bytes)) => Ok(Value::String(BASE64.encode(bytes))),
        (Scalar::String, _) => Err(expected("a text string")),
        (Scalar::Boolean, _) => Err(expected("a boolean")),
        (Scalar::Integer | Scalar::Long, _) => Err(expected("an integer")),
        (Scalar::Double | Scalar::Float, _) => Err(expected("a number")),
        (Scalar::Timestamp, _) => Err(expected("a timestamp (tag 1 and epoch seconds)")),
        (Scalar::Blob, _) => Err(expected("a byte string")),
    }
}

/// A finite double as a JSON number; NaN and infinities have no JSON form (and
/// CloudWatch refuses them as metric values).
fn finite(value: f64, path: &Path<'_>) -> Result<Value, InputError> {
    Number::from_f64(value)
        .map(Value::Number)
        .ok_or_else(|| path.invalid(format!("{value} is not a finite number")))
}

/// Epoch seconds in canonical form: whole seconds as a JSON integer, whichever way they
/// were encoded (botocore sends an integer, aws-sdk-rust a float64).
fn epoch_seconds(item: &Item, path: &Path<'_>) -> Result<Value, InputError> {
    /// Beyond 2^53 seconds a double no longer holds every whole second.
    const EXACT: f64 = 9_007_199_254_740_992.0;
    match item {
        // One canonical form per instant whichever way it was sent: whole seconds below
        // 2^53 as integers (as a float64 of them decodes too), beyond as doubles.
        Item::Integer(n) => match i64::try_from(*n) {
            Ok(n) if (n.unsigned_abs() as f64) < EXACT => Ok(Value::Number(n.into())),
            Ok(n) => finite(n as f64, path),
            Err(_) => Err(path.invalid(format!("{n} is out of range for a timestamp"))),
        },
        Item::Float(f) if f.fract() == 0.0 && f.abs() < EXACT => {
            Ok(Value::Number((*f as i64).into()))
        }
        Item::Float(f) => finite(*f, path),
        other => Err(path.invalid(format!(
            "expected epoch seconds in tag 1, found {}",
            kind(other)
        ))),
    }
}

/// Renders a successful answer: `value` is JSON of the operation's output shape. An
/// operation without an output answers an empty body (`value` must then be null or
/// `{}`), which the caller sends without a `Content-Type` (see [`response_headers`]).
pub fn encode_output(
    model: &Model,
    operation: &str,
    value: &Value,
) -> Result<Vec<u8>, OutputError> {
    let op = model.operation(operation).ok_or_else(|| OutputError {
        path: String::new(),
        reason: format!("unknown operation {operation}"),
    })?;
    match (op.output, value) {
        (Some(shape), Value::Null) => encode_value(model, shape, &Value::Object(Map::new())),
        (Some(shape), value) => encode_value(model, shape, value),
        (None, Value::Null) => Ok(Vec::new()),
        (None, Value::Object(map)) if map.is_empty() => Ok(Vec::new()),
        (None, _) => Err(OutputError {
            path: String::new(),
            reason: format!("{operation} has no output, but the answer has members"),
        }),
    }
}

/// Renders one value of `shape` (canonical JSON) as CBOR.
pub fn encode_value(model: &Model, shape: ShapeId, value: &Value) -> Result<Vec<u8>, OutputError> {
    let mut writer = Writer::default();
    write(model, shape, value, &Path::Root, &mut writer)?;
    Ok(writer.bytes)
}

fn write(
    model: &Model,
    shape: ShapeId,
    value: &Value,
    path: &Path<'_>,
    w: &mut Writer,
) -> Result<(), OutputError> {
    let wrong = |expected: &str| path.output_error(format!("expected {expected}, found {value}"));
    match model.shape(shape) {
        Shape::Structure { members, .. } => {
            let Value::Object(map) = value else {
                return Err(wrong("a structure"));
            };
            w.map(map.values().filter(|v| !v.is_null()).count());
            for (key, member_value) in map {
                if member_value.is_null() {
                    continue;
                }
                let here = Path::Key(path, key);
                let member = find_member(members, key)
                    .ok_or_else(|| here.output_error("no such member".to_owned()))?;
                w.text(key);
                write(model, member.shape, member_value, &here, w)?;
            }
        }
        Shape::List { member, .. } => {
            let Value::Array(items) = value else {
                return Err(wrong("a list"));
            };
            w.array(items.len());
            for (i, element) in items.iter().enumerate() {
                write(model, member.shape, element, &Path::Index(path, i), w)?;
            }
        }
        Shape::Map { value: element, .. } => {
            let Value::Object(map) = value else {
                return Err(wrong("a map"));
            };
            w.map(map.values().filter(|v| !v.is_null()).count());
            for (key, entry) in map {
                if entry.is_null() {
                    continue;
                }
                w.text(key);
                write(model, element.shape, entry, &Path::Key(path, key), w)?;
            }
        }
        Shape::Scalar(scalar) => match (scalar, value) {
            (Scalar::String, Value::String(text)) => w.text(text),
            (Scalar::Boolean, Value::Bool(b)) => w.boolean(*b),
            (Scalar::Integer, Value::Number(n)) => {
                let n = n
                    .as_i64()
                    .filter(|n| i32::try_from(*n).is_ok())
                    .ok_or_else(|| wrong("an integer (32 bits)"))?;
                w.integer(n);
            }
            (Scalar::Long, Value::Number(n)) => {
                w.integer(n.as_i64().ok_or_else(|| wrong("a long (64 bits)"))?);
            }
            (Scalar::Double | Scalar::Float, Value::Number(n)) => {
                w.double(n.as_f64().ok_or_else(|| wrong("a number"))?);
            }
            (Scalar::Timestamp, Value::Number(n)) => {
                let seconds = n.as_f64().ok_or_else(|| wrong("epoch seconds"))?;
                w.tag(EPOCH_TIME);
                w.double(seconds);
            }
            (Scalar::Blob, Value::String(text)) => {
                let bytes = BASE64
                    .decode(text)
                    .map_err(|e| path.output_error(format!("blob is not base64: {e}")))?;
                w.bytes(&bytes);
            }
            (Scalar::String, _) => return Err(wrong("a string")),
            (Scalar::Boolean, _) => return Err(wrong("a boolean")),
            (Scalar::Integer | Scalar::Long, _) => return Err(wrong("an integer")),
            (Scalar::Double | Scalar::Float, _) => return Err(wrong("a number")),
            (Scalar::Timestamp, _) => return Err(wrong("epoch seconds")),
            (Scalar::Blob, _) => return Err(wrong("a base64 string")),
        },
    }
    Ok(())
}

/// Renders an error answer for `code`, a query code (`InvalidParameterValue`) or an
/// error shape's name (`InvalidParameterValueException`), as
/// [`Model::error_by_code`] finds it.
///
/// `__type` is the shape's absolute id, `com.amazonaws.<service>#<Shape>`; the status and
/// the fault side (`Sender`, `Receiver`) come from the shape. A code the model does not
/// know is sent as is with status 400 and `Sender`, except Smithy's
/// `UnknownOperationException` (404) and `InternalFailure` (500, `Receiver`).
pub fn encode_error(model: &Model, code: &str, message: &str) -> EncodedError {
    let (shape_name, query_code, status, sender, message_key) = match model.error_by_code(code) {
        Some((id, info)) => (
            model.shape_name(id).to_owned(),
            info.code.clone(),
            info.status,
            info.sender_fault,
            message_member(model, id),
        ),
        None => {
            let (status, sender) = match code {
                "UnknownOperationException" => (404, true),
                _ => crate::protocol::common_error(code).unwrap_or((400, true)),
            };
            (code.to_owned(), code.to_owned(), status, sender, "message")
        }
    };
    let namespace = model
        .service_id
        .as_deref()
        .map(|id| id.to_ascii_lowercase().replace(' ', ""))
        .unwrap_or_default();
    let mut w = Writer::default();
    w.map(2);
    w.text("__type");
    w.text(&format!("com.amazonaws.{namespace}#{shape_name}"));
    w.text(message_key);
    w.text(message);
    let mut headers = vec![
        ("smithy-protocol", PROTOCOL.to_owned()),
        ("Content-Type", CONTENT_TYPE.to_owned()),
    ];
    if model.aws_query_compatible {
        let side = if sender { "Sender" } else { "Receiver" };
        headers.push(("x-amzn-query-error", format!("{query_code};{side}")));
    }
    EncodedError {
        status,
        headers,
        body: w.bytes,
    }
}

/// The error shape's own name for its message member: `message` for most, `Message` for
/// some (CloudWatch's `InternalServiceFault`); aws-sdk-rust fills the exception's message
/// from that member, botocore reads either.
fn message_member(model: &Model, shape: ShapeId) -> &str {
    match model.shape(shape) {
        Shape::Structure { members, .. } => members
            .iter()
            .find(|m| m.name.eq_ignore_ascii_case("message"))
            .map_or("message", |m| m.name.as_str()),
        _ => "message",
    }
}
