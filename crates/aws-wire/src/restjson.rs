//! The REST-JSON protocol (AWS FIS), both directions, driven by the model: the route
//! table comes from each operation's `http` (method and request URI template), and
//! each input member's `location` says where its value travels.
//!
//! - Routing ([`route`]): a method and a path to the operation whose template matches,
//!   with its labels percent-decoded (`/experiments/{id}`, `/tags/{resourceArn}` with
//!   the ARN's `:` and `/` escaped as clients send them).
//! - Requests ([`decode_input`]): the body is JSON of the members without a location,
//!   checked and made canonical as the JSON protocols' bodies are
//!   ([`crate::json::decode_input`]); URI labels and query-string members are added by
//!   their member names (a list member from a repeated key, numbers and booleans
//!   parsed). The result is one JSON object of the input shape, whatever travelled
//!   where.
//! - Responses ([`encode_output`]): every served output travels in the body, so an
//!   answer is the JSON protocols' body of the output shape.
//! - Errors ([`encode_error`]): `{"message": ...}` with `x-amzn-ErrorType` naming the
//!   error shape (also as `__type` in the body, which clients read when the header is
//!   missing) and the shape's status (`ResourceNotFoundException` 404).
//!
//! Headers as input locations are not served (no served operation has one).

use serde_json::{Map, Value};

use crate::json::{self, InputError};
use crate::model::{Model, Scalar, Shape, ShapeId};
use crate::protocol::{EncodedError, OutputError, error_spec};

/// The `Content-Type` of REST-JSON bodies.
pub const CONTENT_TYPE: &str = "application/json";

/// A request routed to its operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Routed {
    /// e.g. `GetExperiment`.
    pub operation: String,
    /// The URI's labels, by name, percent-decoded (`id` → `EXP...`).
    pub labels: Vec<(String, String)>,
}

/// Why a request has no operation.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    /// No operation is served at this path.
    #[error("No operation is served at {0}")]
    UnknownPath(String),
    /// Operations are served at this path, but not for this method.
    #[error("The method {method} is not allowed at {path}")]
    MethodNotAllowed {
        /// The request's method.
        method: String,
        /// The request's path.
        path: String,
    },
}

impl RouteError {
    /// The code to answer with through [`encode_error`].
    pub fn code(&self) -> &'static str {
        "UnknownOperationException"
    }

    /// The HTTP status: 404 for an unknown path, 405 for a wrong method.
    pub fn status(&self) -> u16 {
        match self {
            RouteError::UnknownPath(_) => 404,
            RouteError::MethodNotAllowed { .. } => 405,
        }
    }
}

/// Finds the operation a request is for: the one whose method is `method` and whose
/// URI template matches `path` segment by segment (a `{label}` matches one non-empty
/// segment). Templates without labels win over templates with them.
pub fn route(model: &Model, method: &str, path: &str) -> Result<Routed, RouteError> {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let mut path_matched = false;
    let mut best: Option<(usize, Routed)> = None;
    for name in model.operation_names() {
        let Some(http) = model.operation(name).and_then(|op| op.http.as_ref()) else {
            continue;
        };
        let Some(labels) = match_template(&http.request_uri, &segments) else {
            continue;
        };
        path_matched = true;
        if !http.method.eq_ignore_ascii_case(method) {
            continue;
        }
        let rank = labels.len();
        if best.as_ref().is_none_or(|(r, _)| rank < *r) {
            best = Some((
                rank,
                Routed {
                    operation: name.to_owned(),
                    labels,
                },
            ));
        }
    }
    match best {
        Some((_, routed)) => Ok(routed),
        None if path_matched => Err(RouteError::MethodNotAllowed {
            method: method.to_owned(),
            path: path.to_owned(),
        }),
        None => Err(RouteError::UnknownPath(path.to_owned())),
    }
}

/// The labels of `template` if `segments` match it.
fn match_template(template: &str, segments: &[&str]) -> Option<Vec<(String, String)>> {
    // The template's own query part (`?tagKeys`, none served) is not part of the path.
    let template = template.split('?').next().unwrap_or_default();
    let parts: Vec<&str> = template.trim_start_matches('/').split('/').collect();
    if parts.len() != segments.len() {
        return None;
    }
    let mut labels = Vec::new();
    for (part, segment) in parts.iter().zip(segments) {
        match part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
            Some(label) => {
                if segment.is_empty() {
                    return None;
                }
                labels.push((label.to_owned(), percent_decode(segment)?));
            }
            None if part == segment => {}
            None => return None,
        }
    }
    Some(labels)
}

/// `%XX` escapes decoded (a `+` stays a `+` in a path); `None` for bad escapes or
/// bytes that are not UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Decodes a routed request into canonical JSON of its operation's input shape: the
/// body's members, then the URI's labels and the query string's members.
pub fn decode_input(
    model: &Model,
    routed: &Routed,
    url_query: &str,
    body: &[u8],
) -> Result<Value, InputError> {
    let op = model
        .operation(&routed.operation)
        .ok_or_else(|| InputError::UnknownOperation(routed.operation.clone()))?;
    let Some(input) = op.input else {
        return Ok(Value::Object(Map::new()));
    };
    let mut value = json::decode_input(model, &routed.operation, body)?;
    let Shape::Structure { members, .. } = model.shape(input) else {
        return Ok(value);
    };
    let Value::Object(out) = &mut value else {
        return Ok(value);
    };
    let pairs: Vec<(String, String)> = form_urlencoded::parse(url_query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    for member in members {
        let wire_name = member.location_name.as_deref().unwrap_or(&member.name);
        match member.location.as_deref() {
            Some("uri") => {
                if let Some((_, text)) = routed.labels.iter().find(|(name, _)| name == wire_name) {
                    out.insert(member.name.clone(), Value::String(text.clone()));
                }
            }
            Some("querystring") => {
                let sent: Vec<&str> = pairs
                    .iter()
                    .filter(|(key, _)| key == wire_name)
                    .map(|(_, v)| v.as_str())
                    .collect();
                if sent.is_empty() {
                    continue;
                }
                let decoded = query_value(model, member.shape, &sent, &member.name)?;
                out.insert(member.name.clone(), decoded);
            }
            _ => {}
        }
    }
    Ok(value)
}

/// A query-string member's value: a list from every occurrence, a scalar from the
/// first.
fn query_value(
    model: &Model,
    shape: ShapeId,
    sent: &[&str],
    name: &str,
) -> Result<Value, InputError> {
    match model.shape(shape) {
        Shape::List { member, .. } => sent
            .iter()
            .map(|text| query_value(model, member.shape, &[text], name))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        Shape::Scalar(scalar) => {
            let text = sent.first().copied().unwrap_or_default();
            let wrong = |expected: &str| InputError::InvalidValue {
                path: name.to_owned(),
                reason: format!("expected {expected}, found {text:?}"),
            };
            match scalar {
                Scalar::String => Ok(Value::String(text.to_owned())),
                Scalar::Integer => text
                    .parse::<i32>()
                    .map(Value::from)
                    .map_err(|_| wrong("a 32-bit integer")),
                Scalar::Long => text
                    .parse::<i64>()
                    .map(Value::from)
                    .map_err(|_| wrong("a 64-bit integer")),
                Scalar::Boolean => match text {
                    "true" => Ok(Value::Bool(true)),
                    "false" => Ok(Value::Bool(false)),
                    _ => Err(wrong("true or false")),
                },
                _ => Err(wrong("a string, number or boolean")),
            }
        }
        _ => Err(InputError::InvalidValue {
            path: name.to_owned(),
            reason: "structures and maps do not travel in the query string".to_owned(),
        }),
    }
}

/// Renders an operation's answer: the output shape as the JSON body.
pub fn encode_output(
    model: &Model,
    operation: &str,
    value: &Value,
) -> Result<Vec<u8>, OutputError> {
    json::encode_output(model, operation, value)
}

/// Renders an error answer for `code` (an error shape's name, or a common code such
/// as `UnknownOperationException`) with the shape's status.
pub fn encode_error(model: &Model, code: &str, message: &str) -> EncodedError {
    let spec = error_spec(model, code);
    let mut body = Map::new();
    body.insert("__type".to_owned(), Value::String(spec.shape.clone()));
    body.insert("message".to_owned(), Value::String(message.to_owned()));
    EncodedError {
        status: spec.status,
        headers: vec![
            ("Content-Type", CONTENT_TYPE.to_owned()),
            ("x-amzn-ErrorType", spec.shape),
        ],
        body: Value::Object(body).to_string().into_bytes(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn routed(method: &str, path: &str) -> Routed {
        route(Model::fis(), method, path).expect("routed")
    }

    #[test]
    fn routes_come_from_the_model() {
        assert_eq!(
            routed("POST", "/experimentTemplates").operation,
            "CreateExperimentTemplate"
        );
        assert_eq!(
            routed("GET", "/experimentTemplates").operation,
            "ListExperimentTemplates"
        );
        let get = routed("GET", "/experiments/EXP123");
        assert_eq!(get.operation, "GetExperiment");
        assert_eq!(get.labels, vec![("id".to_owned(), "EXP123".to_owned())]);
        assert_eq!(
            routed("DELETE", "/experiments/EXP1").operation,
            "StopExperiment"
        );
        let tags = routed(
            "GET",
            "/tags/arn%3Aaws%3Afis%3Aus-east-1%3A000000000000%3Aexperiment%2FEXP1",
        );
        assert_eq!(tags.operation, "ListTagsForResource");
        assert_eq!(
            tags.labels[0].1,
            "arn:aws:fis:us-east-1:000000000000:experiment/EXP1"
        );
    }

    #[test]
    fn unknown_paths_and_methods_are_told_apart() {
        let model = Model::fis();
        assert_eq!(
            route(model, "GET", "/nothing").map_err(|e| e.status()),
            Err(404)
        );
        assert_eq!(
            route(model, "PUT", "/experiments/EXP1").map_err(|e| e.status()),
            Err(405)
        );
        assert!(route(model, "GET", "/experiments/").is_err());
    }

    #[test]
    fn labels_and_query_members_join_the_body() {
        let model = Model::fis();
        let get = routed("GET", "/experiments/EXP1");
        assert_eq!(
            decode_input(model, &get, "", b"").expect("decodes"),
            json!({"id": "EXP1"})
        );
        let list = routed("GET", "/experiments");
        assert_eq!(
            decode_input(model, &list, "maxResults=5&experimentTemplateId=EXT1", b"")
                .expect("decodes"),
            json!({"maxResults": 5, "experimentTemplateId": "EXT1"})
        );
        let untag = routed("DELETE", "/tags/arn%3Ax");
        assert_eq!(
            decode_input(model, &untag, "tagKeys=a&tagKeys=b%20c", b"").expect("decodes"),
            json!({"resourceArn": "arn:x", "tagKeys": ["a", "b c"]})
        );
        let error = decode_input(model, &list, "maxResults=many", b"").expect_err("not a number");
        assert!(matches!(error, InputError::InvalidValue { ref path, .. } if path == "maxResults"));
        let create = routed("POST", "/experimentTemplates");
        let body = br#"{"roleArn": "arn:aws:iam::000000000000:role/fis", "tags": {"a": "b"}}"#;
        assert_eq!(
            decode_input(model, &create, "", body).expect("decodes"),
            json!({"roleArn": "arn:aws:iam::000000000000:role/fis", "tags": {"a": "b"}})
        );
        assert!(decode_input(model, &create, "", br#"{"tags": [1]}"#).is_err());
    }

    #[test]
    fn errors_name_their_shape_and_status() {
        let model = Model::fis();
        let error = encode_error(model, "ResourceNotFoundException", "gone");
        assert_eq!(error.status, 404);
        assert!(
            error
                .headers
                .contains(&("x-amzn-ErrorType", "ResourceNotFoundException".to_owned()))
        );
        let body: Value = serde_json::from_slice(&error.body).expect("JSON");
        assert_eq!(body["message"], "gone");
        assert_eq!(encode_error(model, "ValidationException", "no").status, 400);
        assert_eq!(encode_error(model, "ConflictException", "no").status, 409);
    }
}
