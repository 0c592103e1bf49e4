//! Targets of rules: `PutTargets` (checked into [`Target`]), `ListTargetsByRule`,
//! `RemoveTargets`, and what a target makes of an event ([`Target::payload`]).

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use super::input::{
    bus_name, check_length, check_name, constraint, optional_str, required_str, validation,
};
use super::transform::{JsonPath, Transformer};
use super::{EventBridge, Rule, events::event_text};
use crate::ApiError;

/// Targets one rule may have (AWS's quota).
const TARGETS_PER_RULE: usize = 5;
/// Targets one `PutTargets` may carry.
const TARGETS_PER_REQUEST: usize = 10;

/// A target as stored.
#[derive(Clone, Debug)]
pub(super) struct Target {
    pub(super) id: String,
    pub(super) arn: String,
    /// What the target receives.
    input: TargetInput,
    /// The target as the caller gave it; `ListTargetsByRule` returns it.
    wire: Value,
}

/// What a target makes of an event.
#[derive(Clone, Debug)]
enum TargetInput {
    /// The whole event.
    Event,
    /// `Input`: this constant JSON text.
    Constant(String),
    /// `InputPath`: the part of the event at this path.
    Path(JsonPath),
    /// `InputTransformer`.
    Transformer(Transformer),
}

/// A target that failed on its own (the call goes on with the others).
struct Failure {
    target_id: String,
    code: &'static str,
    message: String,
}

impl Target {
    /// What this target of `rule` receives for `event`.
    pub(super) fn payload(&self, rule: &Rule, event: &Value) -> String {
        match &self.input {
            TargetInput::Event => event_text(event),
            TargetInput::Constant(text) => text.clone(),
            TargetInput::Path(path) => path
                .select(event)
                .map_or_else(|| "null".to_owned(), path_text),
            TargetInput::Transformer(transformer) => {
                transformer.render(event, &rule.name, &rule.arn)
            }
        }
    }
}

/// The JSON an `InputPath` selects; the whole event keeps the envelope's key order.
fn path_text(value: &Value) -> String {
    if value.get("detail-type").is_some() {
        event_text(value)
    } else {
        value.to_string()
    }
}

impl EventBridge {
    /// `PutTargets`: adds or replaces targets by id. A target whose ARN is malformed
    /// fails on its own (`FailedEntries`); a malformed request, more than 10 targets, or
    /// a rule ending up with more than 5 fails the whole call and changes nothing.
    pub fn put_targets(&mut self, input: &Value) -> Result<Value, ApiError> {
        let rule_name = required_str(input, "Rule", "rule")?;
        check_name(rule_name, "rule")?;
        let bus = bus_name(input)?;
        let items = match input.get("Targets") {
            None | Some(Value::Null) => {
                return Err(constraint(None, "targets", "Member must not be null"));
            }
            Some(Value::Array(items)) => items,
            Some(_) => {
                return Err(validation(
                    "1 validation error detected: Value at 'targets' failed to satisfy constraint: Member must be a list",
                ));
            }
        };
        if items.is_empty() {
            return Err(constraint(
                Some("[]"),
                "targets",
                "Member must have length greater than or equal to 1",
            ));
        }
        let mut accepted = Vec::new();
        let mut failures = Vec::new();
        for (index, item) in items.iter().enumerate() {
            match parse_target(item, index + 1)? {
                Ok(target) => accepted.push(target),
                Err(failure) => failures.push(failure),
            }
        }
        let rule = self.rule_mut(&bus, rule_name)?;
        let new_ids = accepted
            .iter()
            .filter(|t| !rule.targets.contains_key(&t.id))
            .map(|t| t.id.as_str())
            .collect::<BTreeSet<_>>()
            .len();
        if items.len() > TARGETS_PER_REQUEST || rule.targets.len() + new_ids > TARGETS_PER_RULE {
            return Err(ApiError::new(
                "LimitExceededException",
                "The requested resource exceeds the maximum number allowed.",
            ));
        }
        for target in accepted {
            rule.targets.insert(target.id.clone(), target);
        }
        Ok(failed_entries(&failures))
    }

    /// `ListTargetsByRule`: by id, with `Limit` and `NextToken`.
    pub fn list_targets_by_rule(&self, input: &Value) -> Result<Value, ApiError> {
        let rule_name = required_str(input, "Rule", "rule")?;
        let bus = bus_name(input)?;
        let rule = self.rule(&bus, rule_name)?;
        let ids: Vec<&str> = rule.targets.keys().map(String::as_str).collect();
        let (page, next) = super::input::page(&ids, input)?;
        let listed: Vec<Value> = page
            .iter()
            .filter_map(|id| rule.targets.get(*id))
            .map(|target| target.wire.clone())
            .collect();
        let mut out = Map::new();
        out.insert("Targets".to_owned(), Value::Array(listed));
        if let Some(next) = next {
            out.insert("NextToken".to_owned(), Value::String(next));
        }
        Ok(Value::Object(out))
    }

    /// `RemoveTargets`: an id the rule does not have fails on its own.
    pub fn remove_targets(&mut self, input: &Value) -> Result<Value, ApiError> {
        let rule_name = required_str(input, "Rule", "rule")?;
        let bus = bus_name(input)?;
        let ids = match input.get("Ids") {
            None | Some(Value::Null) => {
                return Err(constraint(None, "ids", "Member must not be null"));
            }
            Some(Value::Array(ids)) => ids,
            Some(_) => {
                return Err(validation(
                    "1 validation error detected: Value at 'ids' failed to satisfy constraint: Member must be a list",
                ));
            }
        };
        if ids.is_empty() || ids.len() > 100 {
            let rule = if ids.is_empty() {
                "Member must have length greater than or equal to 1"
            } else {
                "Member must have length less than or equal to 100"
            };
            return Err(constraint(
                Some(&Value::Array(ids.clone()).to_string()),
                "ids",
                rule,
            ));
        }
        let mut names = Vec::with_capacity(ids.len());
        for (index, id) in ids.iter().enumerate() {
            let member = format!("ids.{}.member", index + 1);
            let id = id
                .as_str()
                .ok_or_else(|| constraint(None, &member, "Member must not be null"))?;
            check_name(id, &member)?;
            names.push(id);
        }
        let rule = self.rule_mut(&bus, rule_name)?;
        let mut failures = Vec::new();
        for id in names {
            if rule.targets.remove(id).is_none() {
                failures.push(Failure {
                    target_id: id.to_owned(),
                    code: "ResourceNotFoundException",
                    message: format!(
                        "Rule '{}' does not have a target with the Id '{id}'.",
                        rule.name
                    ),
                });
            }
        }
        Ok(failed_entries(&failures))
    }
}

/// `{"FailedEntryCount": n, "FailedEntries": [...]}`.
fn failed_entries(failures: &[Failure]) -> Value {
    let entries: Vec<Value> = failures
        .iter()
        .map(|f| json!({"TargetId": f.target_id, "ErrorCode": f.code, "ErrorMessage": f.message}))
        .collect();
    json!({"FailedEntryCount": entries.len(), "FailedEntries": entries})
}

/// Checks target `number` (1-based) of a `PutTargets`. The outer error fails the call;
/// the inner one fails this target only.
fn parse_target(item: &Value, number: usize) -> Result<Result<Target, Failure>, ApiError> {
    let at = |field: &str| format!("targets.{number}.member.{field}");
    if !item.is_object() {
        return Err(constraint(
            None,
            &format!("targets.{number}.member"),
            "Member must not be null",
        ));
    }
    let id = required_str(item, "Id", &at("id"))?;
    check_name(id, &at("id"))?;
    let arn = required_str(item, "Arn", &at("arn"))?;
    check_length(arn, &at("arn"), 1, 1600)?;
    let constant = optional_str(item, "Input", &at("input"))?;
    let path = optional_str(item, "InputPath", &at("inputPath"))?;
    let transformer = item.get("InputTransformer").filter(|v| !v.is_null());
    let given = [constant.is_some(), path.is_some(), transformer.is_some()];
    if given.iter().filter(|&&g| g).count() > 1 {
        return Err(validation(format!(
            "Only one of Input, InputPath, or InputTransformer must be provided for target {id}."
        )));
    }
    let input = if let Some(text) = constant {
        check_length(text, &at("input"), 0, 8192)?;
        if serde_json::from_str::<Value>(text).is_err() {
            return Err(validation(format!(
                "Parameter Input is not valid JSON text for target {id}."
            )));
        }
        TargetInput::Constant(text.to_owned())
    } else if let Some(text) = path {
        check_length(text, &at("inputPath"), 0, 256)?;
        let path = JsonPath::parse(text).ok_or_else(|| {
            validation(format!(
                "Parameter InputPath is not valid for target {id}: {text}."
            ))
        })?;
        TargetInput::Path(path)
    } else if let Some(transformer) = transformer {
        TargetInput::Transformer(Transformer::parse(
            transformer,
            id,
            &at("inputTransformer"),
        )?)
    } else {
        TargetInput::Event
    };
    if !arn.starts_with("arn:") || arn.split(':').count() < 6 {
        return Ok(Err(Failure {
            target_id: id.to_owned(),
            code: "ValidationException",
            message: format!(
                "Parameter {arn} is not valid. Reason: Provided Arn is not in correct format."
            ),
        }));
    }
    Ok(Ok(Target {
        id: id.to_owned(),
        arn: arn.to_owned(),
        input,
        wire: item.clone(),
    }))
}
