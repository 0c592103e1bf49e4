//! What a target receives when it reshapes the event: `InputPath` ([`JsonPath`], the
//! subset EventBridge documents: `$`, `$.a.b`, `$.resources[0]`) and `InputTransformer`
//! ([`Transformer`]: variables from paths, then `<name>` placeholders in a template).
//!
//! Placeholders are filled as EventBridge does, so that a JSON template stays JSON:
//! inside a JSON string literal a string variable goes in as its (escaped) characters,
//! outside one every variable goes in as JSON (a string with its quotes). A template
//! without quotes is therefore treated as JSON too: `state <state>` becomes
//! `state "running"`, and `"state <state>"` becomes `"state running"` (fact sheet 5.4,
//! AWS's input transformation examples). A path the event lacks yields nothing inside a
//! string and `null` outside one [U]. `<aws.events.event>` (the event without `detail`)
//! and `<aws.events.event.json>` (the whole event) go in unescaped, as AWS documents;
//! `<aws.events.rule-name>`, `<aws.events.rule-arn>` and
//! `<aws.events.event.ingestion-time>` (here the event's `time`) are strings.

use std::collections::BTreeMap;

use serde_json::Value;

use super::events::event_text;
use super::input::{check_length, constraint, validation};
use crate::ApiError;

/// A JSON path of the subset EventBridge supports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct JsonPath {
    steps: Vec<Step>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Step {
    Key(String),
    Index(usize),
}

impl JsonPath {
    /// Parses `$`, `$.a.b-c`, `$.a[0].b`; anything else is `None`.
    pub(super) fn parse(text: &str) -> Option<JsonPath> {
        let mut rest = text.strip_prefix('$')?;
        let mut steps = Vec::new();
        while !rest.is_empty() {
            if let Some(after) = rest.strip_prefix('.') {
                let end = after.find(['.', '[']).unwrap_or(after.len());
                let key = &after[..end];
                let valid = !key.is_empty()
                    && key
                        .chars()
                        .all(|c| !c.is_whitespace() && !matches!(c, ']' | '*' | '\'' | '"'));
                if !valid {
                    return None;
                }
                steps.push(Step::Key(key.to_owned()));
                rest = &after[end..];
            } else if let Some(after) = rest.strip_prefix('[') {
                let (digits, tail) = after.split_once(']')?;
                if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
                    return None;
                }
                steps.push(Step::Index(digits.parse().ok()?));
                rest = tail;
            } else {
                return None;
            }
        }
        Some(JsonPath { steps })
    }

    /// The value at this path in `value`, if there is one.
    pub(super) fn select<'a>(&self, value: &'a Value) -> Option<&'a Value> {
        self.steps.iter().try_fold(value, |at, step| match step {
            Step::Key(key) => at.get(key.as_str()),
            Step::Index(index) => at.get(*index),
        })
    }
}

/// A checked `InputTransformer`.
#[derive(Clone, Debug)]
pub(super) struct Transformer {
    /// `InputPathsMap`: variable name to path.
    paths: BTreeMap<String, JsonPath>,
    /// `InputTemplate`.
    template: String,
}

/// What one placeholder stands for.
enum Variable<'a> {
    /// A value of the event; `None` when its path is not in the event.
    Value(Option<&'a Value>),
    /// A string (rule name, ARN, ingestion time).
    Text(String),
    /// JSON text inserted as it is.
    Raw(String),
}

impl Transformer {
    /// Checks target `target_id`'s `InputTransformer` (`member` is its wire path).
    pub(super) fn parse(
        value: &Value,
        target_id: &str,
        member: &str,
    ) -> Result<Transformer, ApiError> {
        let template_member = format!("{member}.inputTemplate");
        let template = match value.get("InputTemplate") {
            Some(Value::String(text)) => text,
            _ => {
                return Err(constraint(
                    None,
                    &template_member,
                    "Member must not be null",
                ));
            }
        };
        check_length(template, &template_member, 1, 8192)?;
        let mut paths = BTreeMap::new();
        match value.get("InputPathsMap") {
            None | Some(Value::Null) => {}
            Some(Value::Object(map)) => {
                if map.len() > 100 {
                    return Err(validation(format!(
                        "InputPathsMap for target {target_id} has more than 100 entries."
                    )));
                }
                for (name, path) in map {
                    let valid_name = !name.is_empty()
                        && name.len() <= 256
                        && name
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'));
                    if !valid_name {
                        return Err(validation(format!(
                            "InputPathsMap for target {target_id} has an invalid key: {name}."
                        )));
                    }
                    let parsed = path
                        .as_str()
                        .filter(|p| p.len() <= 256)
                        .and_then(JsonPath::parse)
                        .ok_or_else(|| {
                            validation(format!(
                                "InputPathsMap for target {target_id} has an invalid path for {name}: {path}."
                            ))
                        })?;
                    paths.insert(name.clone(), parsed);
                }
            }
            Some(_) => {
                return Err(validation(format!(
                    "InputPathsMap for target {target_id} must be a map of names to paths."
                )));
            }
        }
        Ok(Transformer {
            paths,
            template: template.clone(),
        })
    }

    /// The template filled from `event`, for rule `rule_name` (`rule_arn`).
    pub(super) fn render(&self, event: &Value, rule_name: &str, rule_arn: &str) -> String {
        let mut out = String::with_capacity(self.template.len());
        let mut in_string = false;
        let mut rest = self.template.as_str();
        while let Some(c) = rest.chars().next() {
            rest = &rest[c.len_utf8()..];
            match c {
                '\\' if in_string => {
                    out.push(c);
                    if let Some(next) = rest.chars().next() {
                        out.push(next);
                        rest = &rest[next.len_utf8()..];
                    }
                }
                '"' => {
                    in_string = !in_string;
                    out.push(c);
                }
                '<' => {
                    let placeholder = rest
                        .split_once('>')
                        .filter(|(name, _)| is_variable_name(name))
                        .and_then(|(name, after)| {
                            self.variable(name, event, rule_name, rule_arn)
                                .map(|v| (v, after))
                        });
                    match placeholder {
                        Some((value, after)) => {
                            insert(&mut out, &value, in_string);
                            rest = after;
                        }
                        None => out.push(c),
                    }
                }
                other => out.push(other),
            }
        }
        out
    }

    /// What placeholder `name` stands for, if it names a variable.
    fn variable<'a>(
        &self,
        name: &str,
        event: &'a Value,
        rule_name: &str,
        rule_arn: &str,
    ) -> Option<Variable<'a>> {
        match name {
            "aws.events.rule-name" => Some(Variable::Text(rule_name.to_owned())),
            "aws.events.rule-arn" => Some(Variable::Text(rule_arn.to_owned())),
            "aws.events.event.ingestion-time" => Some(Variable::Text(
                event
                    .get("time")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
            )),
            "aws.events.event" => {
                let mut without_detail = event.clone();
                if let Some(object) = without_detail.as_object_mut() {
                    object.remove("detail");
                }
                Some(Variable::Raw(event_text(&without_detail)))
            }
            "aws.events.event.json" => Some(Variable::Raw(event_text(event))),
            other => self
                .paths
                .get(other)
                .map(|path| Variable::Value(path.select(event))),
        }
    }
}

fn is_variable_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

fn insert(out: &mut String, variable: &Variable<'_>, in_string: bool) {
    match variable {
        Variable::Raw(text) => out.push_str(text),
        Variable::Text(text) => push_string(out, text, in_string),
        Variable::Value(None) => {
            if !in_string {
                out.push_str("null");
            }
        }
        Variable::Value(Some(Value::String(text))) => push_string(out, text, in_string),
        Variable::Value(Some(value)) => {
            let json = value.to_string();
            if in_string {
                out.push_str(escaped(&json).as_str());
            } else {
                out.push_str(&json);
            }
        }
    }
}

/// A string value: its escaped characters inside a string literal, quoted outside one.
fn push_string(out: &mut String, text: &str, in_string: bool) {
    if in_string {
        out.push_str(&escaped(text));
    } else {
        out.push_str(&Value::String(text.to_owned()).to_string());
    }
}

/// `text` escaped for the inside of a JSON string literal.
fn escaped(text: &str) -> String {
    let quoted = Value::String(text.to_owned()).to_string();
    quoted
        .strip_prefix('"')
        .and_then(|q| q.strip_suffix('"'))
        .unwrap_or_default()
        .to_owned()
}
