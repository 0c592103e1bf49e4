//! The query protocol (CloudWatch's fallback, SNS), both directions, driven by the model.
//!
//! - Requests ([`decode_input`]): the tree [`crate::query::decode`] builds from the form
//!   becomes canonical JSON named by the model's members, with the wire names botocore's
//!   query serializer writes: lists `Name.member.N` (1-based; the element's
//!   `locationName` instead of `member`; a flattened list repeats `Name.N`, renamed to
//!   the element's `locationName` when it has one), maps `Name.entry.N.key` /
//!   `.value` (the key's and value's `locationName`s, e.g. SNS's
//!   `MessageAttributes.entry.1.Name` / `.Value.DataType`), an empty list `Name=`.
//!   Booleans are `true`/`false`, timestamps ISO 8601 (with or without fractions) and
//!   become epoch-second numbers, blobs stay base64 (checked), numbers are parsed.
//!   Unknown parameters are ignored, as for the JSON protocols; a known parameter of
//!   the wrong form or type is an error naming its wire path
//!   (`MetricData.member.1.Value`). Required members and value ranges are the services'
//!   business, the same for every protocol.
//! - Responses ([`encode_output`]): `<OpResponse xmlns="NS"><OpResult>...</OpResult>
//!   <ResponseMetadata><RequestId>..</RequestId></ResponseMetadata></OpResponse>`
//!   (no `OpResult` for an operation without output); lists as `<member>` elements
//!   (or the element's `locationName`; repeated elements when flattened), maps as
//!   `<entry><key/><value/></entry>` with the model's names, timestamps
//!   `2024-01-02T03:04:05.000Z`, doubles as decimal numbers, text escaped.
//! - Errors ([`encode_error`]): `<ErrorResponse xmlns="NS"><Error><Type>Sender</Type>
//!   <Code>..</Code><Message>..</Message></Error><RequestId>..</RequestId></ErrorResponse>`
//!   with the shape's status and the `x-amzn-RequestId` header, which aws-sdk-rust
//!   reads the request id from (fact sheet 1.4).

pub mod timestamp;
mod xml;

use serde_json::{Map, Number, Value};

use crate::json::is_base64;
use crate::model::{Member, Model, Scalar, Shape, ShapeId};
pub use crate::protocol::{EncodedError, OutputError};
pub use xml::{encode_error, encode_output};

/// The `Content-Type` of the protocol's answers.
pub const CONTENT_TYPE: &str = "text/xml";

/// Why a request's parameters do not fit its operation's input shape. Each is a client
/// error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    /// The model has no such operation.
    #[error("The action {0} is not valid for this web service.")]
    UnknownOperation(String),
    /// A value that does not parse as its member's type, or a parameter of the wrong
    /// form (`AlarmActions.1` where `AlarmActions.member.1` is expected, a hole in a
    /// list, a map entry without its key).
    #[error("Invalid value {value:?} for parameter {parameter}: {reason}")]
    InvalidValue {
        /// The parameter's wire path, e.g. `MetricData.member.1.Value`.
        parameter: String,
        /// What was sent (`a structure`, `a list` for what is not text).
        value: String,
        /// What was expected.
        reason: String,
    },
}

impl InputError {
    /// The error code to answer with through [`encode_error`]: `InvalidAction` for an
    /// unknown operation; for a bad value the model's own code, `InvalidParameterValue`
    /// (CloudWatch) or `InvalidParameter` (SNS).
    pub fn code(&self, model: &Model) -> &'static str {
        match self {
            InputError::UnknownOperation(_) => "InvalidAction",
            InputError::InvalidValue { .. } => {
                if model.error_by_code("InvalidParameterValue").is_some() {
                    "InvalidParameterValue"
                } else if model.error_by_code("InvalidParameter").is_some() {
                    "InvalidParameter"
                } else {
                    "InvalidParameterValue"
                }
            }
        }
    }
}

/// Decodes an operation's parameters (the `params` tree of [`crate::query::decode`])
/// into canonical JSON of its input shape.
pub fn decode_input(model: &Model, operation: &str, tree: &Value) -> Result<Value, InputError> {
    let op = model
        .operation(operation)
        .ok_or_else(|| InputError::UnknownOperation(operation.to_owned()))?;
    match op.input {
        Some(shape) => decode(model, shape, tree, ""),
        None => Ok(Value::Object(Map::new())),
    }
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_owned()
    } else {
        format!("{prefix}.{name}")
    }
}

/// A short rendering of a sent value for messages.
fn describe(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Array(_) => "a list".to_owned(),
        Value::Object(_) => "a structure".to_owned(),
        other => other.to_string(),
    }
}

fn invalid(path: &str, value: &Value, reason: &str) -> InputError {
    InputError::InvalidValue {
        parameter: path.to_owned(),
        value: describe(value),
        reason: reason.to_owned(),
    }
}

/// Whether a list travels without its wrapper (`Name.N` rather than `Name.member.N`):
/// the list shape's trait or the member reference's.
fn list_is_flattened(model: &Model, member: &Member) -> bool {
    member.flattened
        || matches!(
            model.shape(member.shape),
            Shape::List {
                flattened: true,
                ..
            }
        )
}

/// The name a structure member travels under: its `locationName`, or, for a flattened
/// list whose element has one, the element's (botocore's query serializer and parser
/// both do this).
pub(crate) fn wire_name<'a>(model: &'a Model, member: &'a Member) -> &'a str {
    if list_is_flattened(model, member)
        && let Shape::List {
            member: element, ..
        } = model.shape(member.shape)
        && let Some(name) = &element.location_name
    {
        return name;
    }
    member.xml_name()
}

fn decode(model: &Model, shape: ShapeId, value: &Value, path: &str) -> Result<Value, InputError> {
    match model.shape(shape) {
        Shape::Structure { members, .. } => {
            let Value::Object(given) = value else {
                return Err(invalid(
                    path,
                    value,
                    "Expecting a structure (Name.Member=...).",
                ));
            };
            let mut out = Map::new();
            for member in members {
                let wire = wire_name(model, member);
                let Some(sent) = given.get(wire) else {
                    continue;
                };
                let here = join(path, wire);
                let decoded = match model.shape(member.shape) {
                    Shape::List {
                        member: element, ..
                    } => decode_list(
                        model,
                        element,
                        list_is_flattened(model, member),
                        sent,
                        &here,
                    )?,
                    _ => decode(model, member.shape, sent, &here)?,
                };
                out.insert(member.name.clone(), decoded);
            }
            Ok(Value::Object(out))
        }
        // A list directly inside a list or a map: only its own trait counts.
        Shape::List {
            member: element,
            flattened,
        } => decode_list(model, element, *flattened, value, path),
        Shape::Map {
            key,
            value: element,
            flattened,
        } => decode_map(model, key, element, *flattened, value, path),
        Shape::Scalar(scalar) => {
            let Value::String(text) = value else {
                return Err(invalid(path, value, "Expecting a single value."));
            };
            scalar_from_text(*scalar, text)
                .ok_or_else(|| invalid(path, value, expectation(*scalar)))
        }
    }
}

/// The elements of a list: `""` (the empty list), or `{"member": [...]}` (`[...]` when
/// flattened). A hole (`Name.member.2` without `.1`) is an error.
fn decode_list(
    model: &Model,
    element: &Member,
    flattened: bool,
    value: &Value,
    path: &str,
) -> Result<Value, InputError> {
    if value.as_str() == Some("") {
        return Ok(Value::Array(Vec::new()));
    }
    let item_name = element.location_name.as_deref().unwrap_or("member");
    let (items, items_path) = if flattened {
        let Value::Array(items) = value else {
            return Err(invalid(
                path,
                value,
                "Expecting a list (Name.1, Name.2, ...).",
            ));
        };
        (items, path.to_owned())
    } else {
        let items = value
            .as_object()
            .filter(|wrapper| wrapper.len() == 1)
            .and_then(|wrapper| wrapper.get(item_name))
            .and_then(Value::as_array)
            .ok_or_else(|| {
                invalid(
                    path,
                    value,
                    &format!("Expecting a list ({path}.{item_name}.1, {path}.{item_name}.2, ...)."),
                )
            })?;
        (items, join(path, item_name))
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let here = join(&items_path, &(i + 1).to_string());
            if is_hole(item) {
                return Err(invalid(
                    &here,
                    item,
                    "Missing list element: indices must run from 1 without gaps.",
                ));
            }
            decode(model, element.shape, item, &here)
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Value::Array)
}

/// A list position [`crate::query::tree`] filled because a later index was sent: the
/// query protocol cannot express an empty structure, so an empty object is always one.
fn is_hole(value: &Value) -> bool {
    value.as_object().is_some_and(Map::is_empty)
}

/// The entries of a map: `{"entry": [{"key": .., "value": ..}, ...]}` (the entries
/// directly when flattened), with the model's names for key and value; `""` is empty.
fn decode_map(
    model: &Model,
    key: &Member,
    element: &Member,
    flattened: bool,
    value: &Value,
    path: &str,
) -> Result<Value, InputError> {
    if value.as_str() == Some("") {
        return Ok(Value::Object(Map::new()));
    }
    let key_name = key.location_name.as_deref().unwrap_or("key");
    let value_name = element.location_name.as_deref().unwrap_or("value");
    let (entries, entries_path) = if flattened {
        let Value::Array(entries) = value else {
            return Err(invalid(
                path,
                value,
                "Expecting a map (Name.N.key, Name.N.value).",
            ));
        };
        (entries, path.to_owned())
    } else {
        let entries = value
            .as_object()
            .filter(|wrapper| wrapper.len() == 1)
            .and_then(|wrapper| wrapper.get("entry"))
            .and_then(Value::as_array)
            .ok_or_else(|| {
                invalid(
                    path,
                    value,
                    &format!(
                        "Expecting a map ({path}.entry.N.{key_name}, {path}.entry.N.{value_name})."
                    ),
                )
            })?;
        (entries, join(path, "entry"))
    };
    let mut out = Map::new();
    for (i, entry) in entries.iter().enumerate() {
        let here = join(&entries_path, &(i + 1).to_string());
        let Some(fields) = entry.as_object().filter(|f| !f.is_empty()) else {
            return Err(invalid(
                &here,
                entry,
                "Missing map entry: indices must run from 1 without gaps.",
            ));
        };
        let (Some(sent_key), Some(sent_value)) = (fields.get(key_name), fields.get(value_name))
        else {
            return Err(invalid(
                &here,
                entry,
                &format!("Expecting {here}.{key_name} and {here}.{value_name}."),
            ));
        };
        let key_path = join(&here, key_name);
        let decoded_key = match decode(model, key.shape, sent_key, &key_path)? {
            Value::String(text) => text,
            other => other.to_string(),
        };
        let decoded = decode(model, element.shape, sent_value, &join(&here, value_name))?;
        if out.insert(decoded_key, decoded).is_some() {
            return Err(invalid(&key_path, sent_key, "Duplicate map key."));
        }
    }
    Ok(Value::Object(out))
}

fn expectation(scalar: Scalar) -> &'static str {
    match scalar {
        Scalar::Integer | Scalar::Long => "Expecting an integer.",
        Scalar::Boolean => "Expecting true or false.",
        Scalar::Double | Scalar::Float => "Expecting a finite number.",
        Scalar::Timestamp => "Expecting an ISO 8601 date-time (2024-01-02T03:04:05Z).",
        Scalar::Blob => "Expecting base64 text.",
        Scalar::String => "Expecting text.",
    }
}

fn scalar_from_text(scalar: Scalar, text: &str) -> Option<Value> {
    match scalar {
        Scalar::String => Some(Value::String(text.to_owned())),
        Scalar::Blob => is_base64(text).then(|| Value::String(text.to_owned())),
        Scalar::Integer => text
            .trim()
            .parse::<i32>()
            .ok()
            .map(|n| Value::Number(n.into())),
        Scalar::Long => text
            .trim()
            .parse::<i64>()
            .ok()
            .map(|n| Value::Number(n.into())),
        // botocore writes `true`/`false`; other cases are accepted, as EC2's codec does.
        Scalar::Boolean => match text.trim().to_ascii_lowercase().as_str() {
            "true" => Some(Value::Bool(true)),
            "false" => Some(Value::Bool(false)),
            _ => None,
        },
        Scalar::Double | Scalar::Float => text
            .trim()
            .parse::<f64>()
            .ok()
            .and_then(Number::from_f64)
            .map(Value::Number),
        // ISO 8601 is what clients send; epoch seconds are accepted too.
        Scalar::Timestamp => timestamp::parse_iso8601(text)
            .or_else(|| {
                let seconds = text.trim().parse::<f64>().ok()?;
                if seconds.fract() == 0.0 && seconds.abs() < 1e15 {
                    #[allow(clippy::cast_possible_truncation)]
                    let whole = seconds as i64;
                    Some(Number::from(whole))
                } else {
                    Number::from_f64(seconds)
                }
            })
            .map(Value::Number),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query;
    use serde_json::json;

    fn input(model: &Model, body: &str) -> Result<Value, InputError> {
        let request = query::decode("", body.as_bytes()).expect("query decodes");
        decode_input(model, &request.action, &request.params)
    }

    #[test]
    fn holes_and_wrapper_mistakes_name_the_parameter() {
        let model = Model::cloudwatch();
        let err = input(model, "Action=DeleteAlarms&AlarmNames.member.2=b").unwrap_err();
        assert_eq!(
            err,
            InputError::InvalidValue {
                parameter: "AlarmNames.member.1".to_owned(),
                value: "a structure".to_owned(),
                reason: "Missing list element: indices must run from 1 without gaps.".to_owned(),
            }
        );
        let err = input(model, "Action=DeleteAlarms&AlarmNames.1=a").unwrap_err();
        assert!(
            matches!(&err, InputError::InvalidValue { parameter, .. } if parameter == "AlarmNames"),
            "{err}"
        );
        assert_eq!(err.code(model), "InvalidParameterValue");
        let sns = Model::sns();
        let err = input(
            sns,
            "Action=Publish&Message=m&MessageAttributes.entry.1.Name=k",
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("MessageAttributes.entry.1.Value"),
            "{err}"
        );
        assert_eq!(err.code(sns), "InvalidParameter");
    }

    /// The wire-name traits no served model uses yet, as botocore's query serializer and
    /// parser read them: a flattened list named by its element's `locationName`, an
    /// element `locationName` instead of `member`, a flattened map with named key and
    /// value, a member's own `locationName`.
    #[test]
    fn flattened_and_renamed_members_use_botocores_names() {
        let shapes = r#"{"type": "structure", "members": {
            "Flat": {"shape": "FlatList"}, "Named": {"shape": "NamedList"},
            "Pairs": {"shape": "FlatMap"}, "Renamed": {"shape": "String", "locationName": "Other"}}}"#;
        let text = format!(
            r#"{{"metadata": {{"apiVersion": "2020-01-01", "botocoreVersion": "test", "protocol": "query",
                "xmlNamespace": "urn:test/"}},
              "operations": {{"Op": {{"input": "OpInput", "output": "OpOutput"}}}},
              "shapes": {{"OpInput": {shapes}, "OpOutput": {shapes},
                "FlatList": {{"type": "list", "flattened": true, "member": {{"shape": "String", "locationName": "Item"}}}},
                "NamedList": {{"type": "list", "member": {{"shape": "String", "locationName": "Thing"}}}},
                "FlatMap": {{"type": "map", "flattened": true, "key": {{"shape": "String", "locationName": "K"}},
                             "value": {{"shape": "String", "locationName": "V"}}}},
                "String": {{"type": "string"}}}}}}"#
        );
        let model = Model::parse(&text).expect("model");
        let value =
            json!({"Flat": ["a", "b"], "Named": ["x"], "Pairs": {"k": "v"}, "Renamed": "r"});
        let decoded = input(
            &model,
            "Action=Op&Item.1=a&Item.2=b&Named.Thing.1=x&Pairs.1.K=k&Pairs.1.V=v&Other=r&Renamed=ignored",
        )
        .expect("decodes");
        assert_eq!(decoded, value);
        let xml = encode_output(&model, "Op", &value, "r").expect("renders");
        assert_eq!(
            xml,
            "<OpResponse xmlns=\"urn:test/\"><OpResult><Item>a</Item><Item>b</Item><Named><Thing>x</Thing></Named>\
             <Pairs><K>k</K><V>v</V></Pairs><Other>r</Other></OpResult><ResponseMetadata><RequestId>r</RequestId>\
             </ResponseMetadata></OpResponse>"
        );
    }

    #[test]
    fn scalars_parse_strictly() {
        assert_eq!(scalar_from_text(Scalar::Boolean, "true"), Some(json!(true)));
        assert_eq!(scalar_from_text(Scalar::Boolean, "yes"), None);
        assert_eq!(
            scalar_from_text(Scalar::Boolean, "False"),
            Some(json!(false))
        );
        assert_eq!(scalar_from_text(Scalar::Integer, "3000000000"), None);
        assert_eq!(
            scalar_from_text(Scalar::Long, "3000000000"),
            Some(json!(3_000_000_000_i64))
        );
        assert_eq!(scalar_from_text(Scalar::Double, "1e+20"), Some(json!(1e20)));
        assert_eq!(scalar_from_text(Scalar::Double, "NaN"), None);
        assert_eq!(
            scalar_from_text(Scalar::Timestamp, "1704164645"),
            Some(json!(1_704_164_645))
        );
        assert_eq!(scalar_from_text(Scalar::Blob, "aGk="), Some(json!("aGk=")));
        assert_eq!(scalar_from_text(Scalar::Blob, "not base64"), None);
    }
}
