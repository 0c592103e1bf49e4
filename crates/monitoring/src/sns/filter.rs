//! Subscription filter policies (`FilterPolicy`, `FilterPolicyScope`): which published
//! messages a subscription receives.
//!
//! Supported: exact strings, numbers, booleans and `null`; `prefix`, `suffix`,
//! `equals-ignore-case`, `anything-but` (values, `prefix`, `suffix`), `numeric` ranges,
//! `exists`, IPv4 `cidr`, `$or`, nested keys (MessageBody scope). Arrays in the message
//! (`String.Array` attributes, JSON arrays in a body) match when any element matches.
//! An absent attribute or key only matches `{"exists": false}`.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::envelope::MessageAttribute;

/// The most top-level keys a filter policy may have.
const MAX_KEYS: usize = 5;

/// What a filter policy is matched against.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(super) enum Scope {
    /// The message attributes (the default).
    #[default]
    MessageAttributes,
    /// The message body, parsed as JSON.
    MessageBody,
}

impl Scope {
    pub fn parse(text: &str) -> Option<Scope> {
        match text {
            "MessageAttributes" => Some(Scope::MessageAttributes),
            "MessageBody" => Some(Scope::MessageBody),
            _ => None,
        }
    }
}

/// A parsed filter policy.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct FilterPolicy {
    root: Object,
}

#[derive(Clone, Debug, PartialEq)]
struct Object {
    entries: Vec<Entry>,
}

#[derive(Clone, Debug, PartialEq)]
enum Entry {
    Leaf {
        key: String,
        conditions: Vec<Condition>,
    },
    Nested {
        key: String,
        object: Object,
    },
    Or(Vec<Object>),
}

#[derive(Clone, Debug, PartialEq)]
enum Scalar {
    Str(String),
    Num(f64),
    Bool(bool),
    Null,
}

#[derive(Clone, Debug, PartialEq)]
enum Condition {
    Exact(Scalar),
    Prefix(String),
    Suffix(String),
    EqualsIgnoreCase(String),
    AnythingBut(Vec<Scalar>),
    AnythingButPrefix(String),
    AnythingButSuffix(String),
    Numeric(Vec<(Comparison, f64)>),
    Exists(bool),
    Cidr { network: u32, mask: u32 },
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Comparison {
    Equal,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
}

impl FilterPolicy {
    /// Parses a policy for `scope`; the error is the reason, for the caller to prefix.
    pub fn parse(text: &str, scope: Scope) -> Result<FilterPolicy, String> {
        let value: Value = serde_json::from_str(text)
            .map_err(|_| "FilterPolicy: failed to parse JSON.".to_owned())?;
        let Value::Object(map) = value else {
            return Err("FilterPolicy: Filter policy must be a JSON object".to_owned());
        };
        let root = parse_object(&map, scope).map_err(|reason| format!("FilterPolicy: {reason}"))?;
        if root.entries.len() > MAX_KEYS {
            return Err(format!(
                "FilterPolicy: Filter policy can not have more than {MAX_KEYS} keys"
            ));
        }
        Ok(FilterPolicy { root })
    }

    /// Whether a message with `attributes` and `body` (the subscriber's content) passes.
    pub fn matches(
        &self,
        scope: Scope,
        attributes: &BTreeMap<String, MessageAttribute>,
        body: &str,
    ) -> bool {
        match scope {
            Scope::MessageAttributes => self.root.matches(&|path: &[&str]| {
                let [key] = path else { return None };
                attributes.get(*key).map(attribute_values)
            }),
            Scope::MessageBody => {
                let Ok(parsed) = serde_json::from_str::<Value>(body) else {
                    return false;
                };
                self.root.matches(&|path: &[&str]| {
                    let mut at = &parsed;
                    for key in path {
                        at = at.as_object()?.get(*key)?;
                    }
                    Some(json_values(at))
                })
            }
        }
    }
}

/// The values a message attribute offers to conditions.
fn attribute_values(attribute: &MessageAttribute) -> Vec<Scalar> {
    let base = attribute.data_type.split('.').next().unwrap_or_default();
    if attribute.data_type == "String.Array" {
        return match serde_json::from_str::<Value>(&attribute.value) {
            Ok(value) => json_values(&value),
            Err(_) => Vec::new(),
        };
    }
    match base {
        "Number" => attribute
            .value
            .trim()
            .parse::<f64>()
            .map(|n| vec![Scalar::Num(n)])
            .unwrap_or_default(),
        "String" => vec![Scalar::Str(attribute.value.clone())],
        _ => Vec::new(),
    }
}

/// The scalars a JSON value offers: itself, or an array's scalar elements.
fn json_values(value: &Value) -> Vec<Scalar> {
    match value {
        Value::Array(items) => items.iter().filter_map(scalar).collect(),
        other => scalar(other).into_iter().collect(),
    }
}

fn scalar(value: &Value) -> Option<Scalar> {
    match value {
        Value::String(text) => Some(Scalar::Str(text.clone())),
        Value::Number(n) => n.as_f64().map(Scalar::Num),
        Value::Bool(b) => Some(Scalar::Bool(*b)),
        Value::Null => Some(Scalar::Null),
        Value::Array(_) | Value::Object(_) => None,
    }
}

impl Object {
    /// `lookup(path)` gives the values at a key path, `None` if absent.
    fn matches(&self, lookup: &dyn Fn(&[&str]) -> Option<Vec<Scalar>>) -> bool {
        self.matches_under(&[], lookup)
    }

    fn matches_under(
        &self,
        prefix: &[&str],
        lookup: &dyn Fn(&[&str]) -> Option<Vec<Scalar>>,
    ) -> bool {
        self.entries.iter().all(|entry| match entry {
            Entry::Leaf { key, conditions } => {
                let mut path = prefix.to_vec();
                path.push(key);
                let values = lookup(&path);
                conditions.iter().any(|c| c.matches(values.as_deref()))
            }
            Entry::Nested { key, object } => {
                let mut path = prefix.to_vec();
                path.push(key);
                object.matches_under(&path, lookup)
            }
            Entry::Or(alternatives) => alternatives
                .iter()
                .any(|alternative| alternative.matches_under(prefix, lookup)),
        })
    }
}

impl Condition {
    fn matches(&self, values: Option<&[Scalar]>) -> bool {
        match (self, values) {
            (Condition::Exists(wanted), values) => *wanted == values.is_some(),
            (_, None) => false,
            (condition, Some(values)) => values.iter().any(|v| condition.matches_one(v)),
        }
    }

    fn matches_one(&self, value: &Scalar) -> bool {
        match (self, value) {
            (Condition::Exact(wanted), value) => wanted == value,
            (Condition::Prefix(p), Scalar::Str(s)) => s.starts_with(p.as_str()),
            (Condition::Suffix(p), Scalar::Str(s)) => s.ends_with(p.as_str()),
            (Condition::EqualsIgnoreCase(p), Scalar::Str(s)) => {
                s.to_lowercase() == p.to_lowercase()
            }
            (Condition::AnythingBut(excluded), value) => !excluded.contains(value),
            (Condition::AnythingButPrefix(p), Scalar::Str(s)) => !s.starts_with(p.as_str()),
            (Condition::AnythingButSuffix(p), Scalar::Str(s)) => !s.ends_with(p.as_str()),
            (Condition::Numeric(bounds), Scalar::Num(n)) => {
                bounds.iter().all(|(op, bound)| match op {
                    Comparison::Equal => n == bound,
                    Comparison::Less => n < bound,
                    Comparison::LessOrEqual => n <= bound,
                    Comparison::Greater => n > bound,
                    Comparison::GreaterOrEqual => n >= bound,
                })
            }
            (Condition::Cidr { network, mask }, Scalar::Str(s)) => {
                parse_ipv4(s).is_some_and(|ip| ip & mask == *network)
            }
            _ => false,
        }
    }
}

fn parse_object(map: &Map<String, Value>, scope: Scope) -> Result<Object, String> {
    if map.is_empty() {
        return Err("Filter policy can not be empty".to_owned());
    }
    let mut entries = Vec::with_capacity(map.len());
    for (key, value) in map {
        if key == "$or" {
            let Value::Array(alternatives) = value else {
                return Err("$or must be an array of filter policies".to_owned());
            };
            if alternatives.len() < 2 {
                return Err("$or must have at least 2 alternatives".to_owned());
            }
            let objects = alternatives
                .iter()
                .map(|alternative| match alternative {
                    Value::Object(inner) => parse_object(inner, scope),
                    _ => Err("$or must be an array of filter policies".to_owned()),
                })
                .collect::<Result<Vec<_>, _>>()?;
            entries.push(Entry::Or(objects));
            continue;
        }
        match value {
            Value::Array(items) => {
                if items.is_empty() {
                    return Err(format!("Empty arrays are not allowed at {key}"));
                }
                let conditions = items
                    .iter()
                    .map(parse_condition)
                    .collect::<Result<Vec<_>, _>>()?;
                entries.push(Entry::Leaf {
                    key: key.clone(),
                    conditions,
                });
            }
            Value::Object(inner) => {
                if scope == Scope::MessageAttributes {
                    return Err(
                        "Filter policy scope MessageAttributes does not support nested filter policy"
                            .to_owned(),
                    );
                }
                entries.push(Entry::Nested {
                    key: key.clone(),
                    object: parse_object(inner, scope)?,
                });
            }
            _ => return Err(format!("Match value must be an array at {key}")),
        }
    }
    Ok(Object { entries })
}

fn parse_condition(value: &Value) -> Result<Condition, String> {
    if let Some(s) = scalar(value) {
        return Ok(Condition::Exact(s));
    }
    let Value::Object(map) = value else {
        return Err("Match value must be String, number, true, false, or null".to_owned());
    };
    let mut items = map.iter();
    let (Some((operator, operand)), None) = (items.next(), items.next()) else {
        return Err("Only one key allowed in match expression".to_owned());
    };
    let text = |what: &str| -> Result<String, String> {
        operand
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("{what} match pattern must be a string"))
    };
    match operator.as_str() {
        "prefix" => Ok(Condition::Prefix(text("prefix")?)),
        "suffix" => Ok(Condition::Suffix(text("suffix")?)),
        "equals-ignore-case" => Ok(Condition::EqualsIgnoreCase(text("equals-ignore-case")?)),
        "exists" => operand
            .as_bool()
            .map(Condition::Exists)
            .ok_or_else(|| "exists match pattern must be either true or false.".to_owned()),
        "anything-but" => match operand {
            Value::Array(items) => items
                .iter()
                .map(|item| {
                    scalar(item).ok_or_else(|| "Invalid member in anything-but list".to_owned())
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Condition::AnythingBut),
            Value::Object(inner) => match inner.iter().next() {
                Some((op, Value::String(p))) if inner.len() == 1 && op == "prefix" => {
                    Ok(Condition::AnythingButPrefix(p.clone()))
                }
                Some((op, Value::String(p))) if inner.len() == 1 && op == "suffix" => {
                    Ok(Condition::AnythingButSuffix(p.clone()))
                }
                _ => Err("Unsupported anything-but pattern".to_owned()),
            },
            other => scalar(other)
                .map(|s| Condition::AnythingBut(vec![s]))
                .ok_or_else(|| "Invalid anything-but pattern".to_owned()),
        },
        "numeric" => parse_numeric(operand),
        "cidr" => {
            let cidr = text("cidr")?;
            parse_cidr(&cidr).ok_or_else(|| "Malformed CIDR, one '/' required".to_owned())
        }
        other => Err(format!("Unrecognized match type {other}")),
    }
}

fn parse_numeric(operand: &Value) -> Result<Condition, String> {
    let Value::Array(items) = operand else {
        return Err("Value of numeric must be an array.".to_owned());
    };
    let mut bounds = Vec::new();
    let mut rest = items.iter();
    while let Some(op) = rest.next() {
        let op = match op.as_str() {
            Some("=") => Comparison::Equal,
            Some("<") => Comparison::Less,
            Some("<=") => Comparison::LessOrEqual,
            Some(">") => Comparison::Greater,
            Some(">=") => Comparison::GreaterOrEqual,
            _ => return Err("Unrecognized numeric range operator".to_owned()),
        };
        let bound = rest
            .next()
            .and_then(Value::as_f64)
            .ok_or_else(|| "Value of numeric operator must be numeric".to_owned())?;
        bounds.push((op, bound));
    }
    if bounds.is_empty() || bounds.len() > 2 {
        return Err("Value of numeric must be an array of one or two comparisons".to_owned());
    }
    Ok(Condition::Numeric(bounds))
}

fn parse_ipv4(text: &str) -> Option<u32> {
    let mut ip = 0u32;
    let mut parts = 0;
    for part in text.split('.') {
        ip = (ip << 8) | u32::from(part.parse::<u8>().ok()?);
        parts += 1;
    }
    (parts == 4).then_some(ip)
}

fn parse_cidr(text: &str) -> Option<Condition> {
    let (address, bits) = text.split_once('/')?;
    let bits: u32 = bits.parse().ok()?;
    if bits > 32 {
        return None;
    }
    let mask = if bits == 0 {
        0
    } else {
        u32::MAX << (32 - bits)
    };
    Some(Condition::Cidr {
        network: parse_ipv4(address)? & mask,
        mask,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(pairs: &[(&str, &str, &str)]) -> BTreeMap<String, MessageAttribute> {
        pairs
            .iter()
            .map(|(name, data_type, value)| {
                (
                    (*name).to_owned(),
                    MessageAttribute {
                        data_type: (*data_type).to_owned(),
                        value: (*value).to_owned(),
                    },
                )
            })
            .collect()
    }

    fn passes(policy: &str, attributes: &[(&str, &str, &str)]) -> bool {
        FilterPolicy::parse(policy, Scope::MessageAttributes)
            .expect("a valid test input")
            .matches(Scope::MessageAttributes, &attrs(attributes), "")
    }

    #[test]
    fn attribute_policies_from_the_sns_guide() {
        // The SNS developer guide's examples (filter policy examples, insurance quotes).
        let policy = r#"{"store":["example_corp"],"event":[{"anything-but":"order_cancelled"}],
            "customer_interests":["rugby","football","baseball"],"price_usd":[{"numeric":[">=",100]}]}"#;
        let message = [
            ("store", "String", "example_corp"),
            ("event", "String", "order_placed"),
            (
                "customer_interests",
                "String.Array",
                "[\"soccer\",\"rugby\",\"hockey\"]",
            ),
            ("price_usd", "Number", "210.75"),
        ];
        assert!(passes(policy, &message));
        let mut cheap = message;
        cheap[3] = ("price_usd", "Number", "99.5");
        assert!(!passes(policy, &cheap));
        let mut cancelled = message;
        cancelled[1] = ("event", "String", "order_cancelled");
        assert!(!passes(policy, &cancelled));
        assert!(!passes(policy, &message[..3]));
        assert!(passes(r#"{"store":[{"exists":false}]}"#, &[]));
        assert!(!passes(r#"{"store":[{"exists":true}]}"#, &[]));
        assert!(passes(
            r#"{"ip":[{"cidr":"10.0.0.0/24"}]}"#,
            &[("ip", "String", "10.0.0.7")]
        ));
        assert!(!passes(
            r#"{"ip":[{"cidr":"10.0.0.0/24"}]}"#,
            &[("ip", "String", "10.0.1.7")]
        ));
        assert!(passes(
            r#"{"$or":[{"a":["x"]},{"b":[{"prefix":"y"}]}]}"#,
            &[("b", "String", "yes")]
        ));
    }

    #[test]
    fn body_policies_walk_nested_keys() {
        let policy = FilterPolicy::parse(
            r#"{"detail":{"state":["ALARM"],"value":[{"numeric":[">",0.1,"<=",1]}]}}"#,
            Scope::MessageBody,
        )
        .expect("a valid test input");
        let none = BTreeMap::new();
        assert!(policy.matches(
            Scope::MessageBody,
            &none,
            r#"{"detail":{"state":"ALARM","value":0.5}}"#
        ));
        assert!(!policy.matches(
            Scope::MessageBody,
            &none,
            r#"{"detail":{"state":"OK","value":0.5}}"#
        ));
        assert!(!policy.matches(Scope::MessageBody, &none, "not json"));
        assert!(
            FilterPolicy::parse(
                r#"{"detail":{"state":["ALARM"]}}"#,
                Scope::MessageAttributes
            )
            .is_err()
        );
    }

    #[test]
    fn malformed_policies_are_refused() {
        for bad in [
            "[]",
            "{}",
            r#"{"a":"x"}"#,
            r#"{"a":[]}"#,
            r#"{"a":[{"wildcard":"x*"}]}"#,
            r#"{"a":[{"numeric":["~",1]}]}"#,
            r#"{"a":["1"],"b":["1"],"c":["1"],"d":["1"],"e":["1"],"f":["1"]}"#,
        ] {
            assert!(
                FilterPolicy::parse(bad, Scope::MessageAttributes).is_err(),
                "{bad}"
            );
        }
    }
}
