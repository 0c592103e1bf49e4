//! Checking a pattern into [`Pattern`]: the structure rules and each operator's syntax,
//! with event-ruler's reasons (the ones EventBridge returns), and `$or` expanded into
//! branches.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde_json::{Map, Value};

use super::value::{
    Exclusion, IpRange, Literal, Matcher, NUMERIC_LIMIT, Range, Wildcard, comparable, ip_bytes,
};
use super::{Branch, Field, Pattern, PatternError};

/// More `$or` combinations than this are refused, so a 4 KB pattern cannot expand into
/// millions of branches.
const MAX_BRANCHES: usize = 1000;

type Fields = BTreeMap<String, Vec<Matcher>>;

/// Compiles a parsed pattern.
pub(super) fn compile(value: &Value) -> Result<Pattern, PatternError> {
    let Value::Object(object) = value else {
        return Err(PatternError::new("Filter is not an object"));
    };
    let branches = object_fields(object, "", vec![Fields::new()])?;
    Ok(Pattern {
        branches: branches
            .into_iter()
            .map(|fields| Branch {
                fields: fields
                    .into_iter()
                    .map(|(path, alternatives)| Field { path, alternatives })
                    .collect(),
            })
            .collect(),
    })
}

/// Adds the fields of `object` (under `prefix`) to every branch; `$or` multiplies them.
fn object_fields(
    object: &Map<String, Value>,
    prefix: &str,
    mut branches: Vec<Fields>,
) -> Result<Vec<Fields>, PatternError> {
    if object.is_empty() {
        return Err(PatternError::new("Empty objects are not allowed"));
    }
    for (key, value) in object {
        if key == "$or" {
            branches = or_fields(value, prefix, branches)?;
            continue;
        }
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match value {
            Value::Object(child) => branches = object_fields(child, &path, branches)?,
            Value::Array(items) => {
                let alternatives = alternatives(items)?;
                // A field named twice (inside and outside `$or`): the last one wins, as
                // in event-ruler.
                for fields in &mut branches {
                    fields.insert(path.clone(), alternatives.clone());
                }
            }
            _ => {
                return Err(PatternError::new(format!(
                    "\"{key}\" must be an object or an array"
                )));
            }
        }
    }
    Ok(branches)
}

fn or_fields(
    value: &Value,
    prefix: &str,
    branches: Vec<Fields>,
) -> Result<Vec<Fields>, PatternError> {
    let Value::Array(items) = value else {
        return Err(PatternError::new("It must be an Array followed with $or."));
    };
    let mut expanded = Vec::new();
    for item in items {
        let Value::Object(object) = item else {
            return Err(PatternError::new(
                "Only JSON object is allowed in array of $or relationship.",
            ));
        };
        expanded.extend(object_fields(object, prefix, branches.clone())?);
        if expanded.len() > MAX_BRANCHES {
            return Err(PatternError::new(format!(
                "The $or relationships expand into more than {MAX_BRANCHES} combinations."
            )));
        }
    }
    if items.len() < 2 {
        return Err(PatternError::new(
            "There must have at least 2 Objects in $or relationship.",
        ));
    }
    Ok(expanded)
}

/// A pattern array: its alternatives.
fn alternatives(items: &[Value]) -> Result<Vec<Matcher>, PatternError> {
    if items.is_empty() {
        return Err(PatternError::new("Empty arrays are not allowed"));
    }
    items
        .iter()
        .map(|item| match item {
            Value::String(text) => Ok(Matcher::Exact(Literal::String {
                text: text.clone(),
                ip: text.parse::<IpAddr>().ok(),
            })),
            Value::Number(number) => Ok(Matcher::Exact(Literal::Number(number.clone()))),
            Value::Bool(b) => Ok(Matcher::Exact(Literal::Bool(*b))),
            Value::Null => Ok(Matcher::Exact(Literal::Null)),
            Value::Object(object) => operator(object),
            Value::Array(_) => Err(PatternError::new(
                "Match value must be String, number, true, false, or null",
            )),
        })
        .collect()
}

/// An operator object such as `{"prefix": "x"}`.
fn operator(object: &Map<String, Value>) -> Result<Matcher, PatternError> {
    let (name, value) = single_key(object, "Match expression name not found")?;
    match name {
        "prefix" => match value {
            Value::String(prefix) => Ok(Matcher::Prefix(prefix.clone())),
            Value::Object(inner) => Ok(Matcher::PrefixIgnoreCase(ignore_case(inner, "prefix")?)),
            _ => Err(PatternError::new("prefix match pattern must be a string")),
        },
        "suffix" => match value {
            Value::String(suffix) => Ok(Matcher::Suffix(suffix.clone())),
            Value::Object(inner) => Ok(Matcher::SuffixIgnoreCase(ignore_case(inner, "suffix")?)),
            _ => Err(PatternError::new("suffix match pattern must be a string")),
        },
        "equals-ignore-case" => match value {
            Value::String(text) => Ok(Matcher::EqualsIgnoreCase(text.to_lowercase())),
            _ => Err(PatternError::new(
                "equals-ignore-case match pattern must be a string",
            )),
        },
        "wildcard" => match value {
            Value::String(text) => Wildcard::parse(text)
                .map(Matcher::Wildcard)
                .map_err(PatternError::new),
            _ => Err(PatternError::new("wildcard match pattern must be a string")),
        },
        "anything-but" => anything_but(value).map(Matcher::AnythingBut),
        "numeric" => numeric(value).map(Matcher::Numeric),
        // event-ruler reuses the prefix reason for a non-string CIDR.
        "cidr" => match value {
            Value::String(text) => cidr(text).map(Matcher::Cidr),
            _ => Err(PatternError::new("prefix match pattern must be a string")),
        },
        "exists" => match value {
            Value::Bool(exists) => Ok(Matcher::Exists(*exists)),
            _ => Err(PatternError::new(
                "exists match pattern must be either true or false.",
            )),
        },
        other => Err(PatternError::new(format!(
            "Unrecognized match type {other}"
        ))),
    }
}

/// The one key of an operator object.
fn single_key<'a>(
    object: &'a Map<String, Value>,
    missing: &str,
) -> Result<(&'a str, &'a Value), PatternError> {
    let mut entries = object.iter();
    let Some((name, value)) = entries.next() else {
        return Err(PatternError::new(missing));
    };
    if entries.next().is_some() {
        return Err(PatternError::new(
            "Only one key allowed in match expression",
        ));
    }
    Ok((name.as_str(), value))
}

/// `{"equals-ignore-case": "x"}` inside `prefix` or `suffix`, lower-cased.
fn ignore_case(inner: &Map<String, Value>, outer: &str) -> Result<String, PatternError> {
    let (name, value) = single_key(inner, "Match expression name not found")?;
    match (name, value) {
        ("equals-ignore-case", Value::String(text)) => Ok(text.to_lowercase()),
        ("equals-ignore-case", _) => Err(PatternError::new(
            "equals-ignore-case match pattern must be a string",
        )),
        (other, _) => Err(PatternError::new(format!(
            "Unsupported {outer} pattern: {other}"
        ))),
    }
}

fn anything_but(value: &Value) -> Result<Exclusion, PatternError> {
    match value {
        Value::String(text) => Ok(Exclusion::Strings(vec![text.clone()])),
        Value::Number(number) => Ok(Exclusion::Numbers(vec![numeric_key(number.as_f64())?])),
        Value::Array(items) => anything_but_list(items),
        Value::Object(object) => {
            let (name, inner) = single_key(object, "Anything-But expression name not found")?;
            match name {
                "prefix" | "suffix" => {
                    let texts = strings(inner)
                        .ok_or_else(|| PatternError::new("prefix/suffix match pattern must be a string"))?;
                    if texts.iter().any(String::is_empty) {
                        return Err(PatternError::new("Null prefix/suffix not allowed"));
                    }
                    Ok(if name == "prefix" {
                        Exclusion::Prefixes(texts)
                    } else {
                        Exclusion::Suffixes(texts)
                    })
                }
                "equals-ignore-case" => strings(inner)
                    .map(|texts| {
                        Exclusion::StringsIgnoreCase(texts.iter().map(|t| t.to_lowercase()).collect())
                    })
                    .ok_or_else(|| {
                        PatternError::new(
                            "Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported.",
                        )
                    }),
                "wildcard" => {
                    let texts = strings(inner)
                        .ok_or_else(|| PatternError::new("wildcard match pattern must be a string"))?;
                    texts
                        .iter()
                        .map(|text| Wildcard::parse(text).map_err(PatternError::new))
                        .collect::<Result<Vec<_>, _>>()
                        .map(Exclusion::Wildcards)
                }
                other => Err(PatternError::new(format!(
                    "Unsupported anything-but pattern: {other}"
                ))),
            }
        }
        Value::Bool(_) | Value::Null => Err(PatternError::new(
            "Value of anything-but must be an array or single string/number value.",
        )),
    }
}

fn anything_but_list(items: &[Value]) -> Result<Exclusion, PatternError> {
    let mut texts = Vec::new();
    let mut numbers = Vec::new();
    for item in items {
        match item {
            Value::String(text) => texts.push(text.clone()),
            Value::Number(number) => numbers.push(numeric_key(number.as_f64())?),
            _ => {
                return Err(PatternError::new(
                    "Inside anything but list, start|null|boolean is not supported.",
                ));
            }
        }
    }
    match (texts.is_empty(), numbers.is_empty()) {
        (false, true) => Ok(Exclusion::Strings(texts)),
        (true, false) => Ok(Exclusion::Numbers(numbers)),
        _ => Err(PatternError::new(
            "Inside anything but list, either all values are number or string, mixed type is not supported",
        )),
    }
}

/// A string or a non-empty list of strings.
fn strings(value: &Value) -> Option<Vec<String>> {
    match value {
        Value::String(text) => Some(vec![text.clone()]),
        Value::Array(items) if !items.is_empty() => items
            .iter()
            .map(|item| item.as_str().map(str::to_owned))
            .collect(),
        _ => None,
    }
}

/// `{"numeric": [op, n]}` or `[">"|">=", a, "<"|"<=", b]`, checked in event-ruler's order.
fn numeric(value: &Value) -> Result<Range, PatternError> {
    let Value::Array(terms) = value else {
        return Err(PatternError::new("Value of numeric must be an array."));
    };
    let mut terms = terms.iter();
    let operator = match terms.next() {
        Some(Value::String(operator)) => operator.as_str(),
        Some(other) => {
            return Err(PatternError::new(format!(
                "Invalid member in numeric match: {}",
                token(other)
            )));
        }
        None => return Err(PatternError::new("Invalid member in numeric match: ]")),
    };
    if !matches!(operator, "=" | "<" | "<=" | ">" | ">=") {
        return Err(PatternError::new(format!(
            "Unrecognized numeric range operator: {operator}"
        )));
    }
    let bound = operand(terms.next(), operator)?;
    let lowest = numeric_key(Some(-NUMERIC_LIMIT))?;
    let highest = numeric_key(Some(NUMERIC_LIMIT))?;
    let one_sided = match operator {
        "=" => Some(Range {
            bottom: bound,
            open_bottom: false,
            top: bound,
            open_top: false,
        }),
        "<" | "<=" => Some(Range {
            bottom: lowest,
            open_bottom: false,
            top: bound,
            open_top: operator == "<",
        }),
        _ => None,
    };
    if let Some(range) = one_sided {
        if terms.next().is_some() {
            return Err(PatternError::new("Too many elements in numeric expression"));
        }
        return Ok(range);
    }
    let open_bottom = operator == ">";
    let Some(second) = terms.next() else {
        return Ok(Range {
            bottom: bound,
            open_bottom,
            top: highest,
            open_top: false,
        });
    };
    let second = match second {
        Value::String(second) => second.as_str(),
        other => {
            return Err(PatternError::new(format!(
                "Bad value in numeric range: {}",
                token(other)
            )));
        }
    };
    if !matches!(second, "<" | "<=") {
        return Err(PatternError::new(format!(
            "Bad numeric range operator: {second}"
        )));
    }
    let top = operand(terms.next(), second)?;
    if terms.next().is_some() {
        return Err(PatternError::new(
            "Too many terms in numeric range expression",
        ));
    }
    if bound >= top {
        return Err(PatternError::new("Bottom must be less than top"));
    }
    Ok(Range {
        bottom: bound,
        open_bottom,
        top,
        open_top: second == "<",
    })
}

/// The number after `operator`, as a comparable key.
fn operand(term: Option<&Value>, operator: &str) -> Result<i64, PatternError> {
    match term {
        Some(Value::Number(number)) => numeric_key(number.as_f64()),
        _ => {
            let name = if operator == "=" { "equals" } else { operator };
            Err(PatternError::new(format!(
                "Value of {name} must be numeric"
            )))
        }
    }
}

fn numeric_key(number: Option<f64>) -> Result<i64, PatternError> {
    number
        .and_then(comparable)
        .ok_or_else(|| PatternError::new("Value must be between -5.0E9 and 5.0E9, inclusive"))
}

/// A JSON value as Jackson's `getText` would show it in a reason.
fn token(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Array(_) => "[".to_owned(),
        Value::Object(_) => "{".to_owned(),
        other => other.to_string(),
    }
}

/// `a.b.c.d/n` or an IPv6 block, with event-ruler's reasons.
fn cidr(text: &str) -> Result<IpRange, PatternError> {
    let parts: Vec<&str> = text.split('/').collect();
    let [address, bits] = parts.as_slice() else {
        return Err(PatternError::new("Malformed CIDR, one '/' required"));
    };
    let bits: i32 = bits
        .parse()
        .map_err(|_| PatternError::new("Malformed CIDR, mask bits must be an integer"))?;
    if bits < 0 {
        return Err(PatternError::new(
            "Malformed CIDR, mask bits must not be negative",
        ));
    }
    let ip: IpAddr = address
        .parse()
        .map_err(|_| PatternError::new(format!("Nonstandard IP address: {address}")))?;
    let width = match ip {
        IpAddr::V4(_) if bits > 31 => return Err(PatternError::new("IPv4 mask bits must be < 32")),
        IpAddr::V6(_) if bits > 127 => {
            return Err(PatternError::new("IPv6 mask bits must be < 128"));
        }
        IpAddr::V4(_) => 32,
        IpAddr::V6(_) => 128,
    };
    let low = ip_bytes(ip);
    let mut high = low.clone();
    // Set the host bits (the low `width - bits` bits) of the base address.
    let mut host_bits = width - bits;
    for byte in high.iter_mut().rev() {
        if host_bits <= 0 {
            break;
        }
        let take = host_bits.min(8);
        *byte |= u8::try_from((1u16 << take) - 1).unwrap_or(u8::MAX);
        host_bits -= take;
    }
    Ok(IpRange { low, high })
}
