//! The query protocol's answers: canonical JSON of an output shape to XML, and the
//! error document.

use std::borrow::Cow;
use std::fmt::Write as _;

use serde_json::{Map, Value};

use super::{CONTENT_TYPE, list_is_flattened, timestamp, wire_name};
use crate::json::is_base64;
use crate::model::{Member, Model, Scalar, Shape, ShapeId, find_member};
use crate::protocol::{EncodedError, OutputError, error_spec};

/// Where in an answer the writer is, built on the stack and rendered only for an error.
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
}

fn wrong(path: &Path<'_>, expected: &str, value: &Value) -> OutputError {
    OutputError {
        path: path.render(),
        reason: format!("expected {expected}, found {value}"),
    }
}

/// Renders an operation's answer: `value` is canonical JSON of its output shape
/// (`null` for an operation without one).
pub fn encode_output(
    model: &Model,
    operation: &str,
    value: &Value,
    request_id: &str,
) -> Result<String, OutputError> {
    let op = model.operation(operation).ok_or_else(|| OutputError {
        path: String::new(),
        reason: format!("the model has no operation {operation}"),
    })?;
    let namespace = model.xml_namespace.as_deref().unwrap_or_default();
    let mut xml = String::with_capacity(512);
    let _ = write!(xml, "<{operation}Response xmlns=\"{}\">", escape(namespace));
    match (op.output, value) {
        (Some(shape), Value::Object(map)) => {
            let Shape::Structure { members, .. } = model.shape(shape) else {
                return Err(wrong(&Path::Root, "a structure shape", value));
            };
            let _ = write!(xml, "<{operation}Result>");
            write_members(model, members, map, &Path::Root, &mut xml)?;
            let _ = write!(xml, "</{operation}Result>");
        }
        // botocore looks for the result element even when it has nothing to say.
        (Some(_), Value::Null) => {
            let _ = write!(xml, "<{operation}Result/>");
        }
        (None, Value::Null) => {}
        (None, Value::Object(map)) if map.is_empty() => {}
        (None, _) => {
            return Err(OutputError {
                path: String::new(),
                reason: format!("{operation} has no output, but the answer is {value}"),
            });
        }
        (Some(_), _) => return Err(wrong(&Path::Root, "an object", value)),
    }
    let _ = write!(
        xml,
        "<ResponseMetadata><RequestId>{}</RequestId></ResponseMetadata></{operation}Response>",
        escape(request_id)
    );
    Ok(xml)
}

fn write_members(
    model: &Model,
    members: &[Member],
    map: &Map<String, Value>,
    path: &Path<'_>,
    xml: &mut String,
) -> Result<(), OutputError> {
    for (key, value) in map {
        if value.is_null() {
            continue;
        }
        let here = Path::Key(path, key);
        let member = find_member(members, key).ok_or_else(|| OutputError {
            path: here.render(),
            reason: "no such member".to_owned(),
        })?;
        let name = wire_name(model, member);
        match model.shape(member.shape) {
            Shape::List {
                member: element, ..
            } => write_list(
                model,
                element,
                list_is_flattened(model, member),
                name,
                value,
                &here,
                xml,
            )?,
            Shape::Map {
                key,
                value: element,
                flattened,
            } => write_map(
                model,
                (key, element),
                *flattened || member.flattened,
                name,
                value,
                &here,
                xml,
            )?,
            _ => write_value(model, member.shape, name, value, &here, xml)?,
        }
    }
    Ok(())
}

/// A list: `<name><member>..</member></name>` (the element's `locationName` for
/// `member`), or `<name>..</name>` repeated when flattened.
fn write_list(
    model: &Model,
    element: &Member,
    flattened: bool,
    name: &str,
    value: &Value,
    path: &Path<'_>,
    xml: &mut String,
) -> Result<(), OutputError> {
    let Value::Array(items) = value else {
        return Err(wrong(path, "a list", value));
    };
    if flattened {
        for (i, item) in items.iter().enumerate() {
            write_value(model, element.shape, name, item, &Path::Index(path, i), xml)?;
        }
        return Ok(());
    }
    if items.is_empty() {
        let _ = write!(xml, "<{name}/>");
        return Ok(());
    }
    let item_name = element.location_name.as_deref().unwrap_or("member");
    let _ = write!(xml, "<{name}>");
    for (i, item) in items.iter().enumerate() {
        write_value(
            model,
            element.shape,
            item_name,
            item,
            &Path::Index(path, i),
            xml,
        )?;
    }
    let _ = write!(xml, "</{name}>");
    Ok(())
}

/// A map: `<name><entry><key>..</key><value>..</value></entry>..</name>` with the key's
/// and value's `locationName`s, or `<name><key/><value/></name>` repeated when flattened.
fn write_map(
    model: &Model,
    (key, element): (&Member, &Member),
    flattened: bool,
    name: &str,
    value: &Value,
    path: &Path<'_>,
    xml: &mut String,
) -> Result<(), OutputError> {
    let Value::Object(entries) = value else {
        return Err(wrong(path, "an object (a map)", value));
    };
    let key_name = key.location_name.as_deref().unwrap_or("key");
    let value_name = element.location_name.as_deref().unwrap_or("value");
    let entry_name = if flattened { name } else { "entry" };
    if !flattened {
        if entries.is_empty() {
            let _ = write!(xml, "<{name}/>");
            return Ok(());
        }
        let _ = write!(xml, "<{name}>");
    }
    for (k, v) in entries {
        let here = Path::Key(path, k);
        let _ = write!(xml, "<{entry_name}>");
        write_value(
            model,
            key.shape,
            key_name,
            &Value::String(k.clone()),
            &here,
            xml,
        )?;
        write_value(model, element.shape, value_name, v, &here, xml)?;
        let _ = write!(xml, "</{entry_name}>");
    }
    if !flattened {
        let _ = write!(xml, "</{name}>");
    }
    Ok(())
}

fn write_value(
    model: &Model,
    shape: ShapeId,
    name: &str,
    value: &Value,
    path: &Path<'_>,
    xml: &mut String,
) -> Result<(), OutputError> {
    match model.shape(shape) {
        Shape::Structure { members, .. } => {
            let Value::Object(map) = value else {
                return Err(wrong(path, "an object", value));
            };
            let _ = write!(xml, "<{name}>");
            write_members(model, members, map, path, xml)?;
            let _ = write!(xml, "</{name}>");
        }
        Shape::List {
            member: element,
            flattened,
        } => write_list(model, element, *flattened, name, value, path, xml)?,
        Shape::Map {
            key,
            value: element,
            flattened,
        } => write_map(model, (key, element), *flattened, name, value, path, xml)?,
        Shape::Scalar(scalar) => {
            let text = scalar_text(*scalar, value)
                .ok_or_else(|| wrong(path, expectation(*scalar), value))?;
            let _ = write!(xml, "<{name}>{}</{name}>", escape(&text));
        }
    }
    Ok(())
}

fn expectation(scalar: Scalar) -> &'static str {
    match scalar {
        Scalar::String => "a string",
        Scalar::Integer | Scalar::Long => "an integer",
        Scalar::Boolean => "a boolean",
        Scalar::Double | Scalar::Float => "a number",
        Scalar::Timestamp => "epoch seconds (years 1 to 9999)",
        Scalar::Blob => "base64 text",
    }
}

/// A scalar's XML text: doubles with a decimal point (`2.0`), timestamps with
/// milliseconds.
fn scalar_text(scalar: Scalar, value: &Value) -> Option<String> {
    match (scalar, value) {
        (Scalar::String, Value::String(s)) => Some(s.clone()),
        (Scalar::Blob, Value::String(s)) => is_base64(s).then(|| s.clone()),
        (Scalar::Boolean, Value::Bool(b)) => Some(b.to_string()),
        (Scalar::Integer | Scalar::Long, Value::Number(n)) => match n.as_i64() {
            Some(i) => Some(i.to_string()),
            None => {
                let f = n.as_f64()?;
                (f.fract() == 0.0 && f.abs() < 9e15).then(|| format!("{f:.0}"))
            }
        },
        (Scalar::Double | Scalar::Float, Value::Number(n)) => {
            let v = n.as_f64()?;
            if v.fract() == 0.0 && v.abs() < 1e15 {
                Some(format!("{v:.1}"))
            } else {
                Some(v.to_string())
            }
        }
        (Scalar::Timestamp, _) => {
            timestamp::epoch_seconds(value).and_then(timestamp::format_iso8601)
        }
        _ => None,
    }
}

/// Renders the query protocol's error document for `code`: a query code (`NotFound`) or
/// an error shape's name (`NotFoundException`), as [`Model::error_by_code`] finds it; the
/// document carries the query code. A code the model does not have is sent as is, with
/// the status of [`crate::protocol::common_error`] (400 for codes it does not know).
///
/// Headers: `Content-Type: text/xml` and `x-amzn-RequestId`.
pub fn encode_error(model: &Model, code: &str, message: &str, request_id: &str) -> EncodedError {
    let spec = error_spec(model, code);
    let namespace = model.xml_namespace.as_deref().unwrap_or_default();
    let side = if spec.sender_fault {
        "Sender"
    } else {
        "Receiver"
    };
    let body = format!(
        "<ErrorResponse xmlns=\"{}\"><Error><Type>{side}</Type><Code>{}</Code><Message>{}</Message></Error><RequestId>{}</RequestId></ErrorResponse>",
        escape(namespace),
        escape(&spec.code),
        escape(message),
        escape(request_id)
    );
    EncodedError {
        status: spec.status,
        headers: vec![
            ("Content-Type", CONTENT_TYPE.to_owned()),
            ("x-amzn-RequestId", request_id.to_owned()),
        ],
        body: body.into_bytes(),
    }
}

/// Escapes text for an XML element or attribute. Characters XML 1.0 cannot carry at all
/// (controls other than tab, newline and carriage return) become U+FFFD, so the document
/// always parses.
fn escape(text: &str) -> Cow<'_, str> {
    let needs = |c: char| matches!(c, '&' | '<' | '>' | '"' | '\'' | '\r') || is_forbidden(c);
    if !text.chars().any(needs) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // A literal CR would be normalised away by the reader.
            '\r' => out.push_str("&#xD;"),
            c if is_forbidden(c) => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

fn is_forbidden(c: char) -> bool {
    (c < ' ' && !matches!(c, '\t' | '\n' | '\r')) || matches!(c, '\u{FFFE}' | '\u{FFFF}')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn escapes_what_xml_cannot_carry() {
        assert_eq!(escape("plain"), "plain");
        assert_eq!(escape("a&b<c>\"'"), "a&amp;b&lt;c&gt;&quot;&apos;");
        assert_eq!(escape("x\u{1}y\rz"), "x\u{FFFD}y&#xD;z");
    }

    #[test]
    fn doubles_carry_a_decimal_point_and_timestamps_milliseconds() {
        assert_eq!(
            scalar_text(Scalar::Double, &json!(3)).as_deref(),
            Some("3.0")
        );
        assert_eq!(
            scalar_text(Scalar::Double, &json!(12.5)).as_deref(),
            Some("12.5")
        );
        assert_eq!(
            scalar_text(Scalar::Integer, &json!(60.0)).as_deref(),
            Some("60")
        );
        assert_eq!(scalar_text(Scalar::Integer, &json!(60.5)), None);
        assert_eq!(
            scalar_text(Scalar::Timestamp, &json!(1_704_164_400)).as_deref(),
            Some("2024-01-02T03:00:00.000Z")
        );
        assert_eq!(scalar_text(Scalar::String, &json!(1)), None);
    }
}
