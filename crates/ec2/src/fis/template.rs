//! Experiment templates: CreateExperimentTemplate's input checked once into a
//! [`Template`] (the one served action, its duration, targets of
//! `aws:ec2:spot-instance` by ARN or tag with filters and a selection mode, stop
//! conditions), and the template as FIS shows it. Anything the local cloud cannot run
//! is refused here with FIS's `ValidationException`, never discovered mid-experiment.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Value, json};
use simtime::{SimDuration, SimTime};

use super::{epoch_seconds, validation};
use crate::cloud::{ACCOUNT_ID, REGION};
use crate::error::ApiError;

/// The one action served: Spot interruptions with a notice.
pub(crate) const SPOT_INTERRUPTIONS: &str = "aws:ec2:send-spot-instance-interruptions";
/// The one resource type served.
pub(crate) const SPOT_INSTANCE: &str = "aws:ec2:spot-instance";
/// The action's target key.
const TARGET_KEY: &str = "SpotInstances";
/// The action's only parameter.
const DURATION: &str = "durationBeforeInterruption";
/// The shortest and longest `durationBeforeInterruption`.
const MIN_DURATION: SimDuration = SimDuration::from_mins(2);
const MAX_DURATION: SimDuration = SimDuration::from_mins(15);
/// Filter paths a Spot instance target may use, and the attribute each reads.
pub(crate) const FILTER_PATHS: &[&str] =
    &["State.Name", "Placement.AvailabilityZone", "InstanceType"];

/// How many of the resolved resources a target keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Selection {
    /// All of them.
    All,
    /// This many, chosen from the cloud's seeded stream (all if fewer).
    Count(u32),
    /// This percentage, 1-100, rounded up to whole resources.
    Percent(u32),
}

impl Selection {
    fn parse(text: &str) -> Option<Selection> {
        if text == "ALL" {
            return Some(Selection::All);
        }
        let number = |prefix: &str| {
            text.strip_prefix(prefix)?
                .strip_suffix(')')?
                .parse::<u32>()
                .ok()
        };
        if let Some(n) = number("COUNT(") {
            return (n >= 1).then_some(Selection::Count(n));
        }
        number("PERCENT(")
            .filter(|p| (1..=100).contains(p))
            .map(Selection::Percent)
    }

    fn text(self) -> String {
        match self {
            Selection::All => "ALL".to_owned(),
            Selection::Count(n) => format!("COUNT({n})"),
            Selection::Percent(p) => format!("PERCENT({p})"),
        }
    }
}

/// A filter on a target's resources: the attribute at `path` is one of `values`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Filter {
    /// One of [`FILTER_PATHS`].
    pub path: String,
    /// Accepted values.
    pub values: Vec<String>,
}

/// A checked target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Target {
    /// Instance ARNs (empty when chosen by tags).
    pub resource_arns: Vec<String>,
    /// Tags every chosen instance carries (empty when chosen by ARN).
    pub resource_tags: BTreeMap<String, String>,
    /// Attribute filters.
    pub filters: Vec<Filter>,
    /// How many to keep.
    pub selection: Selection,
}

impl Target {
    /// The target as FIS shows it.
    pub fn to_json(&self) -> Value {
        let mut out = json!({
            "resourceType": SPOT_INSTANCE,
            "selectionMode": self.selection.text(),
        });
        if !self.resource_arns.is_empty() {
            out["resourceArns"] = json!(self.resource_arns);
        }
        if !self.resource_tags.is_empty() {
            out["resourceTags"] = json!(self.resource_tags);
        }
        if !self.filters.is_empty() {
            out["filters"] = self
                .filters
                .iter()
                .map(|f| json!({"path": f.path, "values": f.values}))
                .collect();
        }
        out
    }
}

/// A checked action: Spot interruptions of one target's instances.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Action {
    /// As given.
    pub description: Option<String>,
    /// From the notice (or the rebalance recommendation) to the interruption.
    pub duration: SimDuration,
    /// `durationBeforeInterruption` as given (`PT2M`).
    pub duration_text: String,
    /// The target's name.
    pub target: String,
}

impl Action {
    /// The action as FIS shows it.
    pub fn to_json(&self) -> Value {
        let mut out = json!({
            "actionId": SPOT_INTERRUPTIONS,
            "parameters": {DURATION: self.duration_text},
            "targets": {TARGET_KEY: self.target},
        });
        if let Some(description) = &self.description {
            out["description"] = json!(description);
        }
        out
    }
}

/// What a target resolving to nothing does to the experiment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EmptyTargets {
    /// The experiment fails (FIS's default).
    Fail,
    /// The actions on it are skipped.
    Skip,
}

/// A checked experiment template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Template {
    /// `EXT...`.
    pub id: String,
    /// As given.
    pub description: String,
    /// The role FIS would act as (recorded).
    pub role_arn: String,
    /// Targets by name.
    pub targets: BTreeMap<String, Target>,
    /// Actions by name.
    pub actions: BTreeMap<String, Action>,
    /// `{source, value}` as given (`none` only).
    pub stop_conditions: Vec<Value>,
    /// Tags.
    pub tags: BTreeMap<String, String>,
    /// What an empty target does.
    pub empty_targets: EmptyTargets,
    /// When it was created.
    pub created: SimTime,
}

/// A template's ARN.
pub(crate) fn template_arn(id: &str) -> String {
    format!("arn:aws:fis:{REGION}:{ACCOUNT_ID}:experiment-template/{id}")
}

impl Template {
    /// The template as FIS shows it (`ExperimentTemplate`).
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "arn": template_arn(&self.id),
            "description": self.description,
            "roleArn": self.role_arn,
            "targets": self.targets.iter().map(|(k, t)| (k.clone(), t.to_json())).collect::<serde_json::Map<_, _>>(),
            "actions": self.actions.iter().map(|(k, a)| (k.clone(), a.to_json())).collect::<serde_json::Map<_, _>>(),
            "stopConditions": self.stop_conditions,
            "creationTime": epoch_seconds(self.created),
            "lastUpdateTime": epoch_seconds(self.created),
            "tags": self.tags,
            "experimentOptions": self.options_json(),
        })
    }

    /// `experimentOptions` as FIS shows them.
    pub fn options_json(&self) -> Value {
        json!({
            "accountTargeting": "single-account",
            "emptyTargetResolutionMode": match self.empty_targets {
                EmptyTargets::Fail => "fail",
                EmptyTargets::Skip => "skip",
            },
        })
    }

    /// The template as ListExperimentTemplates shows it.
    pub fn summary_json(&self) -> Value {
        json!({
            "id": self.id,
            "arn": template_arn(&self.id),
            "description": self.description,
            "creationTime": epoch_seconds(self.created),
            "lastUpdateTime": epoch_seconds(self.created),
            "tags": self.tags,
        })
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateInput {
    description: Option<String>,
    role_arn: Option<String>,
    #[serde(default)]
    targets: BTreeMap<String, TargetInput>,
    #[serde(default)]
    actions: BTreeMap<String, ActionInput>,
    stop_conditions: Option<Vec<StopConditionInput>>,
    #[serde(default)]
    tags: BTreeMap<String, String>,
    experiment_options: Option<OptionsInput>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TargetInput {
    resource_type: Option<String>,
    #[serde(default)]
    resource_arns: Vec<String>,
    #[serde(default)]
    resource_tags: BTreeMap<String, String>,
    #[serde(default)]
    filters: Vec<FilterInput>,
    selection_mode: Option<String>,
    #[serde(default)]
    parameters: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct FilterInput {
    path: Option<String>,
    #[serde(default)]
    values: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ActionInput {
    action_id: Option<String>,
    description: Option<String>,
    #[serde(default)]
    parameters: BTreeMap<String, String>,
    #[serde(default)]
    targets: BTreeMap<String, String>,
    #[serde(default)]
    start_after: Vec<String>,
}

#[derive(Deserialize)]
struct StopConditionInput {
    source: Option<String>,
    value: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OptionsInput {
    account_targeting: Option<String>,
    empty_target_resolution_mode: Option<String>,
}

/// Parses an ISO 8601 duration of hours, minutes and seconds (`PT2M`, `PT90S`,
/// `PT1M30S`), each unit at most once and in that order.
pub(crate) fn parse_duration(text: &str) -> Option<SimDuration> {
    let mut rest = text.strip_prefix("PT")?;
    if rest.is_empty() {
        return None;
    }
    let mut seconds: u64 = 0;
    let mut units = [('H', 3600), ('M', 60), ('S', 1)].into_iter();
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit())?;
        if digits == 0 {
            return None;
        }
        let number: u64 = rest[..digits].parse().ok()?;
        let unit = rest[digits..].chars().next()?;
        // Units come in order, each at most once: skip to this one.
        let scale = loop {
            let (name, scale) = units.next()?;
            if name == unit {
                break scale;
            }
        };
        seconds = seconds.checked_add(number.checked_mul(scale)?)?;
        rest = &rest[digits + 1..];
    }
    Some(SimDuration::from_secs(seconds))
}

/// Checks CreateExperimentTemplate's input into a template with id `id`, created at
/// `now`.
pub(crate) fn check(input: Value, id: String, now: SimTime) -> Result<Template, ApiError> {
    let input: CreateInput =
        serde_json::from_value(input).map_err(|e| validation(format!("Invalid request: {e}")))?;
    let description = input
        .description
        .ok_or_else(|| validation("The description is required."))?;
    let role_arn = input
        .role_arn
        .ok_or_else(|| validation("The roleArn is required."))?;
    if !role_arn.starts_with("arn:aws:iam::") || !role_arn.contains(":role/") {
        return Err(validation(format!(
            "The roleArn '{role_arn}' is not the ARN of an IAM role."
        )));
    }
    let stop_conditions = check_stop_conditions(input.stop_conditions)?;
    let mut targets = BTreeMap::new();
    for (name, target) in input.targets {
        let checked = check_target(&name, target)?;
        targets.insert(name, checked);
    }
    if input.actions.is_empty() {
        return Err(validation(
            "An experiment template needs at least one action.",
        ));
    }
    let mut actions = BTreeMap::new();
    for (name, action) in input.actions {
        let checked = check_action(&name, action, &targets)?;
        actions.insert(name, checked);
    }
    if let Some(unused) = targets
        .keys()
        .find(|t| !actions.values().any(|a| &&a.target == t))
    {
        return Err(validation(format!(
            "Target '{unused}' is not referenced by any action."
        )));
    }
    let empty_targets = match input.experiment_options {
        None => EmptyTargets::Fail,
        Some(options) => {
            if options
                .account_targeting
                .as_deref()
                .is_some_and(|a| a != "single-account")
            {
                return Err(validation(
                    "Only single-account experiments are served by the local cloud.",
                ));
            }
            match options.empty_target_resolution_mode.as_deref() {
                None | Some("fail") => EmptyTargets::Fail,
                Some("skip") => EmptyTargets::Skip,
                Some(other) => {
                    return Err(validation(format!(
                        "Invalid emptyTargetResolutionMode '{other}': expected fail or skip."
                    )));
                }
            }
        }
    };
    Ok(Template {
        id,
        description,
        role_arn,
        targets,
        actions,
        stop_conditions,
        tags: input.tags,
        empty_targets,
        created: now,
    })
}

fn check_stop_conditions(given: Option<Vec<StopConditionInput>>) -> Result<Vec<Value>, ApiError> {
    let given = given.ok_or_else(|| validation("The stopConditions are required."))?;
    if given.is_empty() {
        return Err(validation("At least one stop condition is required."));
    }
    given
        .into_iter()
        .map(|condition| match condition.source.as_deref() {
            Some("none") if condition.value.is_none() => Ok(json!({"source": "none"})),
            Some("none") => Err(validation("A stop condition of source none takes no value.")),
            Some("aws:cloudwatch:alarm") => Err(validation(
                "Stop conditions on CloudWatch alarms are not served by the local cloud; use source none.",
            )),
            Some(other) => Err(validation(format!(
                "Invalid stop condition source '{other}'."
            ))),
            None => Err(validation("A stop condition needs a source.")),
        })
        .collect()
}

fn check_target(name: &str, target: TargetInput) -> Result<Target, ApiError> {
    match target.resource_type.as_deref() {
        Some(SPOT_INSTANCE) => {}
        Some(other) => {
            return Err(validation(format!(
                "Target '{name}': resource type '{other}' is not served; only {SPOT_INSTANCE} is."
            )));
        }
        None => {
            return Err(validation(format!(
                "Target '{name}': resourceType is required."
            )));
        }
    }
    if !target.parameters.is_empty() {
        return Err(validation(format!(
            "Target '{name}': {SPOT_INSTANCE} takes no parameters."
        )));
    }
    match (
        target.resource_arns.is_empty(),
        target.resource_tags.is_empty(),
    ) {
        (true, true) => {
            return Err(validation(format!(
                "Target '{name}': either resourceArns or resourceTags is required."
            )));
        }
        (false, false) => {
            return Err(validation(format!(
                "Target '{name}': resourceArns and resourceTags cannot be combined."
            )));
        }
        _ => {}
    }
    let prefix = format!("arn:aws:ec2:{REGION}:{ACCOUNT_ID}:instance/i-");
    if let Some(bad) = target
        .resource_arns
        .iter()
        .find(|arn| !arn.starts_with(&prefix))
    {
        return Err(validation(format!(
            "Target '{name}': '{bad}' is not the ARN of an instance in {REGION}."
        )));
    }
    let mut filters = Vec::new();
    for filter in target.filters {
        let path = filter
            .path
            .ok_or_else(|| validation(format!("Target '{name}': a filter needs a path.")))?;
        if !FILTER_PATHS.contains(&path.as_str()) {
            return Err(validation(format!(
                "Target '{name}': filter path '{path}' is not served (served: {}).",
                FILTER_PATHS.join(", ")
            )));
        }
        if filter.values.is_empty() {
            return Err(validation(format!(
                "Target '{name}': the filter on '{path}' needs values."
            )));
        }
        filters.push(Filter {
            path,
            values: filter.values,
        });
    }
    let mode = target
        .selection_mode
        .ok_or_else(|| validation(format!("Target '{name}': selectionMode is required.")))?;
    let selection = Selection::parse(&mode).ok_or_else(|| {
        validation(format!(
            "Target '{name}': invalid selectionMode '{mode}': expected ALL, COUNT(n) or PERCENT(n)."
        ))
    })?;
    Ok(Target {
        resource_arns: target.resource_arns,
        resource_tags: target.resource_tags,
        filters,
        selection,
    })
}

fn check_action(
    name: &str,
    action: ActionInput,
    targets: &BTreeMap<String, Target>,
) -> Result<Action, ApiError> {
    let id = action
        .action_id
        .ok_or_else(|| validation(format!("Action '{name}': actionId is required.")))?;
    if id != SPOT_INTERRUPTIONS {
        return Err(validation(format!(
            "Action '{name}': action type '{id}' is not served by the local cloud; only {SPOT_INTERRUPTIONS} is."
        )));
    }
    if !action.start_after.is_empty() {
        return Err(validation(format!(
            "Action '{name}': startAfter is not served by the local cloud; every action starts with the experiment."
        )));
    }
    if let Some(other) = action.parameters.keys().find(|k| *k != DURATION) {
        return Err(validation(format!(
            "Action '{name}': unknown parameter '{other}' for {SPOT_INTERRUPTIONS}."
        )));
    }
    let duration_text = action.parameters.get(DURATION).cloned().ok_or_else(|| {
        validation(format!(
            "Action '{name}': parameter {DURATION} is required."
        ))
    })?;
    let duration = parse_duration(&duration_text)
        .filter(|d| (MIN_DURATION..=MAX_DURATION).contains(d))
        .ok_or_else(|| {
            validation(format!(
                "Action '{name}': invalid {DURATION} '{duration_text}': an ISO 8601 duration from PT2M to PT15M is required."
            ))
        })?;
    if let Some(other) = action.targets.keys().find(|k| *k != TARGET_KEY) {
        return Err(validation(format!(
            "Action '{name}': unknown target key '{other}'; {SPOT_INTERRUPTIONS} takes {TARGET_KEY}."
        )));
    }
    let target = action.targets.get(TARGET_KEY).cloned().ok_or_else(|| {
        validation(format!(
            "Action '{name}': the target {TARGET_KEY} is required."
        ))
    })?;
    if !targets.contains_key(&target) {
        return Err(validation(format!(
            "Action '{name}': target '{target}' is not defined in the template."
        )));
    }
    Ok(Action {
        description: action.description,
        duration,
        duration_text,
        target,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_iso_8601_hours_minutes_and_seconds() {
        let secs = |s| Some(SimDuration::from_secs(s));
        assert_eq!(parse_duration("PT2M"), secs(120));
        assert_eq!(parse_duration("PT90S"), secs(90));
        assert_eq!(parse_duration("PT1M30S"), secs(90));
        assert_eq!(parse_duration("PT1H"), secs(3600));
        for bad in [
            "", "PT", "P2M", "PT2", "PTM", "PT2S1M", "PT2M2M", "2M", "PT-2M",
        ] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }

    #[test]
    fn selection_modes_parse_and_print_back() {
        for text in ["ALL", "COUNT(3)", "PERCENT(50)"] {
            assert_eq!(
                Selection::parse(text).map(Selection::text).as_deref(),
                Some(text)
            );
        }
        for bad in [
            "all",
            "COUNT(0)",
            "PERCENT(0)",
            "PERCENT(101)",
            "COUNT(x)",
            "COUNT(2",
        ] {
            assert_eq!(Selection::parse(bad), None, "{bad}");
        }
    }
}
