//! AWS Fault Injection Service in the local cloud, pure: experiment templates and
//! experiments for the one action spotlab needs, `aws:ec2:send-spot-instance-interruptions`,
//! on JSON named by FIS's model (the REST-JSON codec is `aws_wire::restjson`).
//!
//! An experiment lives in the cloud's virtual time: StartExperiment leaves it
//! `initiating`; [`INITIATING`] later its targets are resolved (live Spot instances by
//! ARN or tag, filtered, then ALL, COUNT(n) or PERCENT(n) of them, chosen from the
//! cloud's seeded stream) and each action injects its interruptions through
//! [`Cloud::inject`], the same path as `spotlab fault interrupt`, so notices, IMDS,
//! EventBridge's warnings and the fleets' replacements behave exactly as for any
//! injected interruption. An action completes at its interruption time, the experiment
//! when every action has. A target that resolves to nothing fails the experiment
//! (`InvalidTarget`), unless the template says `emptyTargetResolutionMode: skip`.
//! StopExperiment cannot take back notices already sent.
//!
//! Not served: other actions and resource types, `startAfter`, stop conditions on
//! alarms, logging, reports, multi-account experiments; each is refused when the
//! template is created.

mod experiment;
mod template;

use std::collections::BTreeMap;

use fleet::ids::IdGen;
use fleet::{InstanceId, spec::Lifecycle};
use rand::seq::SliceRandom;
use serde::Deserialize;
use serde_json::{Value, json};
use simtime::{SimDuration, SimTime};

use self::experiment::{ActionRun, ActionStatus, Experiment, Phase, experiment_arn};
use self::template::{EmptyTargets, Selection, Target, Template, template_arn};
use crate::cloud::{ACCOUNT_ID, Cloud, REGION};
use crate::error::ApiError;
use crate::faults::{FaultRequest, Targets};

/// How long an experiment stays `initiating` before its targets are resolved.
pub const INITIATING: SimDuration = SimDuration::from_secs(5);
/// Most items a List call returns at once.
const MAX_RESULTS: usize = 100;

/// The FIS operations served, sorted, and whether each changes state.
pub const FIS_OPERATIONS: &[(&str, bool)] = &[
    ("CreateExperimentTemplate", true),
    ("DeleteExperimentTemplate", true),
    ("GetExperiment", false),
    ("GetExperimentTemplate", false),
    ("ListExperimentTemplates", false),
    ("ListExperiments", false),
    ("ListTagsForResource", false),
    ("StartExperiment", true),
    ("StopExperiment", true),
    ("TagResource", true),
    ("UntagResource", true),
];

/// Whether a FIS operation changes state (only those need recording).
pub fn fis_changes_state(operation: &str) -> bool {
    FIS_OPERATIONS
        .iter()
        .any(|(name, changes)| *name == operation && *changes)
}

/// FIS's state in the cloud.
#[derive(Debug)]
pub(crate) struct Fis {
    /// Template and experiment ids, from their own stream so EC2's ids do not depend
    /// on FIS calls.
    ids: IdGen,
    templates: BTreeMap<String, Template>,
    experiments: BTreeMap<String, Experiment>,
    /// CreateExperimentTemplate's client tokens, to the template each created.
    template_tokens: BTreeMap<String, String>,
    /// StartExperiment's client tokens, to the experiment each started.
    experiment_tokens: BTreeMap<String, String>,
}

impl Fis {
    /// No templates, no experiments.
    pub(crate) fn new(seed: u64) -> Fis {
        Fis {
            ids: IdGen::new(seed ^ 0x0f15_0f15),
            templates: BTreeMap::new(),
            experiments: BTreeMap::new(),
            template_tokens: BTreeMap::new(),
            experiment_tokens: BTreeMap::new(),
        }
    }

    /// When an experiment next moves by itself.
    pub(crate) fn next_due(&self) -> Option<SimTime> {
        self.experiments
            .values()
            .filter_map(Experiment::next_due)
            .min()
    }
}

/// FIS's `ValidationException` (HTTP 400).
pub(crate) fn validation(message: impl Into<String>) -> ApiError {
    ApiError::new("ValidationException", message)
}

/// FIS's `ResourceNotFoundException` (HTTP 404).
fn not_found(message: impl Into<String>) -> ApiError {
    ApiError {
        code: "ResourceNotFoundException".to_owned(),
        message: message.into(),
        status: 404,
    }
}

/// A timestamp as canonical JSON: epoch seconds, with milliseconds when there are any.
pub(crate) fn epoch_seconds(at: SimTime) -> Value {
    let ms = at.as_millis();
    if ms.is_multiple_of(1000) {
        json!(ms / 1000)
    } else {
        #[allow(clippy::cast_precision_loss)] // virtual times are far below 2^53 ms
        let seconds = ms as f64 / 1000.0;
        json!(seconds)
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct IdInput {
    id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListInput {
    max_results: Option<i64>,
    next_token: Option<String>,
    experiment_template_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StartInput {
    client_token: Option<String>,
    experiment_template_id: Option<String>,
    #[serde(default)]
    tags: BTreeMap<String, String>,
    experiment_options: Option<StartOptions>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StartOptions {
    actions_mode: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TagInput {
    resource_arn: Option<String>,
    #[serde(default)]
    tags: BTreeMap<String, String>,
    #[serde(default)]
    tag_keys: Vec<String>,
}

fn parse<T: serde::de::DeserializeOwned>(input: Value) -> Result<T, ApiError> {
    serde_json::from_value(input).map_err(|e| validation(format!("Invalid request: {e}")))
}

fn required(value: Option<String>, name: &str) -> Result<String, ApiError> {
    value.ok_or_else(|| validation(format!("The {name} is required.")))
}

/// One page of `items` (sorted by id) after the `token` id, at most `max` long.
fn page(
    items: Vec<(String, Value)>,
    max: Option<i64>,
    token: Option<String>,
) -> Result<(Vec<Value>, Option<String>), ApiError> {
    let max = match max {
        None => MAX_RESULTS,
        Some(n) => usize::try_from(n)
            .ok()
            .filter(|n| (1..=MAX_RESULTS).contains(n))
            .ok_or_else(|| validation(format!("maxResults must be from 1 to {MAX_RESULTS}.")))?,
    };
    let rest: Vec<(String, Value)> = items
        .into_iter()
        .filter(|(id, _)| token.as_ref().is_none_or(|t| id > t))
        .collect();
    let next = (rest.len() > max).then(|| rest[max - 1].0.clone());
    Ok((rest.into_iter().take(max).map(|(_, v)| v).collect(), next))
}

impl Cloud {
    /// Performs a FIS operation on JSON named by FIS's model, at the current time.
    pub fn fis_call(&mut self, operation: &str, input: Value) -> Result<Value, ApiError> {
        match operation {
            "CreateExperimentTemplate" => self.create_experiment_template(input),
            "GetExperimentTemplate" => {
                let id = required(parse::<IdInput>(input)?.id, "id")?;
                let template = self.fis_template(&id)?;
                Ok(json!({"experimentTemplate": template.to_json()}))
            }
            "DeleteExperimentTemplate" => {
                let id = required(parse::<IdInput>(input)?.id, "id")?;
                self.fis_template(&id)?;
                let template = self
                    .fis
                    .templates
                    .remove(&id)
                    .ok_or_else(|| ApiError::internal("a template vanished"))?;
                self.fis.template_tokens.retain(|_, t| *t != id);
                Ok(json!({"experimentTemplate": template.to_json()}))
            }
            "ListExperimentTemplates" => {
                let input: ListInput = parse(input)?;
                let items = self
                    .fis
                    .templates
                    .iter()
                    .map(|(id, t)| (id.clone(), t.summary_json()))
                    .collect();
                let (templates, next) = page(items, input.max_results, input.next_token)?;
                Ok(json!({"experimentTemplates": templates, "nextToken": next}))
            }
            "StartExperiment" => self.start_experiment(input),
            "GetExperiment" => {
                let id = required(parse::<IdInput>(input)?.id, "id")?;
                Ok(json!({"experiment": self.fis_experiment(&id)?.to_json()}))
            }
            "ListExperiments" => {
                let input: ListInput = parse(input)?;
                let items = self
                    .fis
                    .experiments
                    .iter()
                    .filter(|(_, e)| {
                        input
                            .experiment_template_id
                            .as_ref()
                            .is_none_or(|t| *t == e.template.id)
                    })
                    .map(|(id, e)| (id.clone(), e.summary_json()))
                    .collect();
                let (experiments, next) = page(items, input.max_results, input.next_token)?;
                Ok(json!({"experiments": experiments, "nextToken": next}))
            }
            "StopExperiment" => {
                let id = required(parse::<IdInput>(input)?.id, "id")?;
                self.stop_experiment(&id)
            }
            "TagResource" | "UntagResource" | "ListTagsForResource" => {
                self.fis_tags(operation, parse(input)?)
            }
            other => Err(ApiError::new(
                "UnknownOperationException",
                format!("The operation {other} is not served."),
            )),
        }
    }

    fn fis_template(&self, id: &str) -> Result<&Template, ApiError> {
        self.fis
            .templates
            .get(id)
            .ok_or_else(|| not_found(format!("Experiment template {id} not found.")))
    }

    fn fis_experiment(&self, id: &str) -> Result<&Experiment, ApiError> {
        self.fis
            .experiments
            .get(id)
            .ok_or_else(|| not_found(format!("Experiment {id} not found.")))
    }

    fn create_experiment_template(&mut self, input: Value) -> Result<Value, ApiError> {
        let token = input
            .get("clientToken")
            .and_then(Value::as_str)
            .map(str::to_owned);
        if let Some(existing) = token
            .as_ref()
            .and_then(|t| self.fis.template_tokens.get(t))
            .and_then(|id| self.fis.templates.get(id))
        {
            self.repeat = true;
            return Ok(json!({"experimentTemplate": existing.to_json()}));
        }
        let id = format!("EXT{}", self.fis.ids.hex(14));
        let template = template::check(input, id.clone(), self.now())?;
        let answer = json!({"experimentTemplate": template.to_json()});
        self.fis.templates.insert(id.clone(), template);
        if let Some(token) = token {
            self.fis.template_tokens.insert(token, id);
        }
        Ok(answer)
    }

    fn start_experiment(&mut self, input: Value) -> Result<Value, ApiError> {
        let input: StartInput = parse(input)?;
        if let Some(existing) = input
            .client_token
            .as_ref()
            .and_then(|t| self.fis.experiment_tokens.get(t))
            .and_then(|id| self.fis.experiments.get(id))
        {
            self.repeat = true;
            return Ok(json!({"experiment": existing.to_json()}));
        }
        let template_id = required(input.experiment_template_id, "experimentTemplateId")?;
        let template = self.fis_template(&template_id)?.clone();
        if let Some(mode) = input.experiment_options.and_then(|o| o.actions_mode)
            && mode != "run-all"
        {
            return Err(validation(format!(
                "actionsMode '{mode}' is not served by the local cloud; use run-all."
            )));
        }
        let now = self.now();
        let id = format!("EXP{}", self.fis.ids.hex(14));
        let actions = template
            .actions
            .keys()
            .map(|name| {
                (
                    name.clone(),
                    ActionRun {
                        status: ActionStatus::Pending,
                        start: None,
                        end: None,
                    },
                )
            })
            .collect();
        let experiment = Experiment {
            id: id.clone(),
            template,
            tags: input.tags,
            created: now,
            phase: Phase::Initiating {
                until: now + INITIATING,
            },
            actions,
            end: None,
        };
        let answer = json!({"experiment": experiment.to_json()});
        self.fis.experiments.insert(id.clone(), experiment);
        if let Some(token) = input.client_token {
            self.fis.experiment_tokens.insert(token, id);
        }
        Ok(answer)
    }

    fn stop_experiment(&mut self, id: &str) -> Result<Value, ApiError> {
        let now = self.now();
        self.fis_experiment(id)?;
        let Some(experiment) = self.fis.experiments.get_mut(id) else {
            return Err(ApiError::internal("an experiment vanished"));
        };
        if experiment.is_over() {
            // Nothing to stop: the answer shows how it ended, and nothing changed.
            self.repeat = true;
            return Ok(json!({"experiment": experiment.to_json()}));
        }
        experiment.phase = Phase::Stopped;
        experiment.end = Some(now);
        for run in experiment.actions.values_mut() {
            match run.status {
                ActionStatus::Pending => {
                    run.status = ActionStatus::Cancelled;
                }
                ActionStatus::Running { .. } => {
                    run.status = ActionStatus::Stopped;
                    run.end = Some(now);
                }
                _ => {}
            }
        }
        Ok(json!({"experiment": experiment.to_json()}))
    }

    fn fis_tags(&mut self, operation: &str, input: TagInput) -> Result<Value, ApiError> {
        let arn = required(input.resource_arn, "resourceArn")?;
        let template_prefix = template_arn("");
        let experiment_prefix = experiment_arn("");
        let tags = if let Some(id) = arn.strip_prefix(&template_prefix) {
            self.fis.templates.get_mut(id).map(|t| &mut t.tags)
        } else if let Some(id) = arn.strip_prefix(&experiment_prefix) {
            self.fis.experiments.get_mut(id).map(|e| &mut e.tags)
        } else {
            None
        }
        .ok_or_else(|| not_found(format!("Resource {arn} not found.")))?;
        match operation {
            "TagResource" => tags.extend(input.tags),
            "UntagResource" => {
                for key in &input.tag_keys {
                    tags.remove(key);
                }
            }
            _ => return Ok(json!({"tags": tags})),
        }
        Ok(json!({}))
    }

    /// Moves every experiment whose next step is due by the current time.
    pub(crate) fn fis_step(&mut self) {
        let now = self.now();
        let due: Vec<String> = self
            .fis
            .experiments
            .iter()
            .filter(|(_, e)| e.next_due().is_some_and(|at| at <= now))
            .map(|(id, _)| id.clone())
            .collect();
        for id in due {
            let initiating = self
                .fis
                .experiments
                .get(&id)
                .is_some_and(|e| matches!(e.phase, Phase::Initiating { .. }));
            if initiating {
                self.run_experiment(&id);
            }
            self.complete_actions(&id);
        }
    }

    /// Resolves an initiating experiment's targets and starts its actions.
    fn run_experiment(&mut self, id: &str) {
        let now = self.now();
        let Some(template) = self.fis.experiments.get(id).map(|e| e.template.clone()) else {
            return;
        };
        let resolved: BTreeMap<String, Vec<InstanceId>> = template
            .targets
            .iter()
            .map(|(name, target)| (name.clone(), self.resolve_spot_target(target)))
            .collect();
        let empty = resolved.iter().find(|(_, ids)| ids.is_empty());
        if let (Some((name, _)), EmptyTargets::Fail) = (empty, template.empty_targets) {
            let location = format!("targets.{name}");
            self.fail_experiment(
                id,
                "Target resolution returned empty set.",
                "InvalidTarget",
                &location,
            );
            return;
        }
        let mut runs = BTreeMap::new();
        let mut failure = None;
        for (name, action) in &template.actions {
            let ids = resolved.get(&action.target).cloned().unwrap_or_default();
            let run = if ids.is_empty() {
                ActionRun {
                    status: ActionStatus::Skipped,
                    start: Some(now),
                    end: Some(now),
                }
            } else {
                let fault = FaultRequest::Interrupt {
                    targets: Targets::Instances(ids.iter().map(ToString::to_string).collect()),
                    before_ms: Some(action.duration.as_millis()),
                };
                match self.inject(&fault) {
                    Ok(_) => ActionRun {
                        status: ActionStatus::Running {
                            until: now + action.duration,
                        },
                        start: Some(now),
                        end: None,
                    },
                    Err(error) => {
                        failure.get_or_insert((name.clone(), error.message.clone()));
                        ActionRun {
                            status: ActionStatus::Failed(error.message),
                            start: Some(now),
                            end: Some(now),
                        }
                    }
                }
            };
            runs.insert(name.clone(), run);
        }
        let Some(experiment) = self.fis.experiments.get_mut(id) else {
            return;
        };
        experiment.actions = runs;
        experiment.phase = Phase::Running;
        if let Some((action, reason)) = failure {
            experiment.phase = Phase::Failed {
                reason,
                code: "InternalFailure".to_owned(),
                location: format!("actions.{action}"),
            };
            experiment.end = Some(now);
        }
    }

    /// Completes the running actions whose interruption time has come, and the
    /// experiment once none is left running.
    fn complete_actions(&mut self, id: &str) {
        let now = self.now();
        let Some(experiment) = self.fis.experiments.get_mut(id) else {
            return;
        };
        if experiment.phase != Phase::Running {
            return;
        }
        for run in experiment.actions.values_mut() {
            if let ActionStatus::Running { until } = run.status
                && until <= now
            {
                run.status = ActionStatus::Completed;
                run.end = Some(until);
            }
        }
        let running = experiment
            .actions
            .values()
            .any(|run| matches!(run.status, ActionStatus::Running { .. }));
        if !running {
            experiment.phase = Phase::Completed;
            experiment.end = Some(now);
        }
    }

    fn fail_experiment(&mut self, id: &str, reason: &str, code: &str, location: &str) {
        let now = self.now();
        let Some(experiment) = self.fis.experiments.get_mut(id) else {
            return;
        };
        experiment.phase = Phase::Failed {
            reason: reason.to_owned(),
            code: code.to_owned(),
            location: location.to_owned(),
        };
        experiment.end = Some(now);
        for run in experiment.actions.values_mut() {
            run.status = ActionStatus::Cancelled;
        }
    }

    /// The live Spot instances a target names, narrowed by its selection mode.
    fn resolve_spot_target(&mut self, target: &Target) -> Vec<InstanceId> {
        let arn_prefix = format!("arn:aws:ec2:{REGION}:{ACCOUNT_ID}:instance/");
        let mut ids: Vec<InstanceId> = self
            .world
            .engine()
            .instances()
            .filter(|i| i.lifecycle == Lifecycle::Spot && i.state.is_live() && i.notice.is_none())
            .filter(|i| {
                target.resource_arns.is_empty()
                    || target
                        .resource_arns
                        .iter()
                        .any(|arn| arn.strip_prefix(&arn_prefix) == Some(i.id.as_str()))
            })
            .filter(|i| {
                let tags = self.tags.get(i.id.as_str());
                target
                    .resource_tags
                    .iter()
                    .all(|(k, v)| tags.and_then(|t| t.get(k)) == Some(v.as_str()))
            })
            .filter(|i| {
                target.filters.iter().all(|filter| {
                    let value = match filter.path.as_str() {
                        "State.Name" => i.state.name(),
                        "Placement.AvailabilityZone" => i.pool.zone_name(),
                        _ => i.pool.type_name(),
                    };
                    filter.values.iter().any(|v| v == value)
                })
            })
            .map(|i| i.id.clone())
            .collect();
        ids.sort();
        let keep = match target.selection {
            Selection::All => return ids,
            Selection::Count(n) => usize::try_from(n).unwrap_or(usize::MAX),
            Selection::Percent(p) => (ids.len() * p as usize).div_ceil(100),
        };
        ids.shuffle(&mut self.rng);
        ids.truncate(keep);
        ids.sort();
        ids
    }
}
