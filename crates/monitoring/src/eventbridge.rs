//! EventBridge: rules on event buses, their targets, events in EventBridge's envelope,
//! and routing — which enabled rules an event matches, and what each of their targets
//! receives.
//!
//! The calls take and give JSON named by the service model's members: `PutRule`,
//! `DescribeRule`, `ListRules`, `DeleteRule`, `EnableRule`, `DisableRule`, `PutTargets`,
//! `ListTargetsByRule`, `RemoveTargets`, `PutEvents`, `TestEventPattern`, and a rule's
//! tags: `TagResource`, `UntagResource`, `ListTagsForResource`. Errors carry
//! EventBridge's shape names (`ResourceNotFoundException`,
//! `InvalidEventPatternException`, `ValidationException`, `LimitExceededException`).
//!
//! Deliveries: [`EventBridge::route`] returns what an event from elsewhere in the
//! region (EC2's bus, alarm state changes) sends to each matching target; the events of
//! `PutEvents` are routed as they are put and their deliveries wait in an outbox that
//! [`EventBridge::take_deliveries`] empties. Every target gets a delivery whatever its
//! service; the caller delivers the ones it serves (SNS topics). The events put on the
//! `default` bus wait too, for the region's bus ([`EventBridge::take_put_events`]).
//!
//! Deliberately absent: event buses as resources (any bus name is accepted and exists
//! as soon as a rule or event names it; `default` always does), scheduled rules firing
//! (`ScheduleExpression` is checked and stored, never run), managed rules, archives and
//! replays, retries and dead-letter queues of targets, tags on event buses (only rules
//! are tagged).

mod events;
mod input;
mod tagging;
mod targets;
mod transform;

use std::collections::BTreeMap;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use simtime::SimTime;
use watch::pattern::Pattern;

use self::input::{
    DEFAULT_BUS, bus_name, check_length, check_name, constraint, optional_str, required_str,
    validation,
};
use self::targets::Target;
use crate::ApiError;
use crate::tags::{MAX_TAGS, Tags};

pub use self::events::event_text;

/// What one target of a matching rule receives for one event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    /// The rule that matched.
    pub rule_arn: String,
    /// The target's id within the rule.
    pub target_id: String,
    /// The target's ARN (an SNS topic for the targets spotlab delivers).
    pub target_arn: String,
    /// What the target receives (fact sheet 5.4): the whole event as JSON, the
    /// target's constant `Input`, the JSON its `InputPath` selects, or its
    /// `InputTransformer`'s rendered template.
    pub payload: String,
}

/// The EventBridge service of one region and account.
#[derive(Clone, Debug)]
pub struct EventBridge {
    /// The region ARNs and envelopes name.
    region: String,
    /// The account ARNs and envelopes name.
    account: String,
    /// Where event ids come from.
    rng: ChaCha8Rng,
    /// Rules by bus name, then rule name.
    buses: BTreeMap<String, BTreeMap<String, Rule>>,
    /// Deliveries of `PutEvents` not yet taken.
    outbox: Vec<Delivery>,
    /// Events `PutEvents` put on the `default` bus, not yet taken: the region shows
    /// them on its bus beside EC2's and the alarms' own.
    put: Vec<Value>,
}

/// A rule as stored.
#[derive(Clone, Debug)]
struct Rule {
    name: String,
    bus: String,
    arn: String,
    /// The pattern's text as given (DescribeRule returns it) and its compiled form.
    event_pattern: Option<(String, Pattern)>,
    schedule_expression: Option<String>,
    state: RuleState,
    description: Option<String>,
    role_arn: Option<String>,
    /// The tags the rule was created with (`Tags` on an update are ignored), then
    /// TagResource and UntagResource.
    tags: Tags,
    /// Targets by id.
    targets: BTreeMap<String, Target>,
}

/// A rule's `State`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RuleState {
    Enabled,
    Disabled,
    EnabledWithAllCloudTrailManagementEvents,
}

impl RuleState {
    fn parse(text: &str) -> Option<RuleState> {
        match text {
            "ENABLED" => Some(RuleState::Enabled),
            "DISABLED" => Some(RuleState::Disabled),
            "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS" => {
                Some(RuleState::EnabledWithAllCloudTrailManagementEvents)
            }
            _ => None,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            RuleState::Enabled => "ENABLED",
            RuleState::Disabled => "DISABLED",
            RuleState::EnabledWithAllCloudTrailManagementEvents => {
                "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS"
            }
        }
    }

    fn enabled(self) -> bool {
        self != RuleState::Disabled
    }
}

impl EventBridge {
    /// An EventBridge with no rules; event ids come from a stream seeded by `seed`.
    pub fn new(region: &str, account: &str, seed: u64) -> EventBridge {
        EventBridge {
            region: region.to_owned(),
            account: account.to_owned(),
            rng: ChaCha8Rng::seed_from_u64(seed ^ 0x0e7e_17b2_1d6e_0000),
            buses: BTreeMap::new(),
            outbox: Vec::new(),
            put: Vec::new(),
        }
    }

    /// The region.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The account.
    pub fn account(&self) -> &str {
        &self.account
    }

    /// Performs the call `action` (an operation name such as `PutRule`) at `now`.
    pub fn call(&mut self, action: &str, input: &Value, now: SimTime) -> Result<Value, ApiError> {
        match action {
            "PutRule" => self.put_rule(input),
            "DescribeRule" => self.describe_rule(input),
            "ListRules" => self.list_rules(input),
            "DeleteRule" => self.delete_rule(input),
            "EnableRule" => self.set_rule_state(input, RuleState::Enabled),
            "DisableRule" => self.set_rule_state(input, RuleState::Disabled),
            "PutTargets" => self.put_targets(input),
            "ListTargetsByRule" => self.list_targets_by_rule(input),
            "RemoveTargets" => self.remove_targets(input),
            "PutEvents" => self.put_events(input, now),
            "TestEventPattern" => self.test_event_pattern(input),
            "TagResource" => self.tag_resource(input),
            "UntagResource" => self.untag_resource(input),
            "ListTagsForResource" => self.list_tags_for_resource(input),
            other => Err(ApiError::new(
                "UnknownOperationException",
                format!("EventBridge does not serve {other}."),
            )),
        }
    }

    /// `PutRule`: creates the rule or replaces it whole (fields left out become unset;
    /// `State` defaults to `ENABLED`; targets and creation tags stay).
    pub fn put_rule(&mut self, input: &Value) -> Result<Value, ApiError> {
        let name = required_str(input, "Name", "name")?;
        check_name(name, "name")?;
        let bus = bus_name(input)?;
        let pattern_text = optional_str(input, "EventPattern", "eventPattern")?;
        let schedule = optional_str(input, "ScheduleExpression", "scheduleExpression")?;
        let description = optional_str(input, "Description", "description")?;
        let role_arn = optional_str(input, "RoleArn", "roleArn")?;
        if let Some(text) = pattern_text {
            check_length(text, "eventPattern", 0, 4096)?;
        }
        if let Some(text) = schedule {
            check_length(text, "scheduleExpression", 0, 256)?;
        }
        if let Some(text) = description {
            check_length(text, "description", 0, 512)?;
        }
        if let Some(text) = role_arn {
            check_length(text, "roleArn", 1, 1600)?;
        }
        let state = match optional_str(input, "State", "state")? {
            None => RuleState::Enabled,
            Some(text) => RuleState::parse(text).ok_or_else(|| {
                constraint(
                    Some(text),
                    "state",
                    "Member must satisfy enum value set: [ENABLED, DISABLED, ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS]",
                )
            })?,
        };
        let tags = tags(input)?.unwrap_or_default();
        let (pattern_text, schedule) = match (pattern_text, schedule) {
            (None | Some(""), None | Some("")) => {
                return Err(validation(
                    "Parameter(s) EventPattern or ScheduleExpression must be specified.",
                ));
            }
            (pattern_text, schedule) => (
                pattern_text.filter(|t| !t.is_empty()),
                schedule.filter(|t| !t.is_empty()),
            ),
        };
        if let Some(schedule) = schedule {
            if bus != DEFAULT_BUS {
                return Err(validation(
                    "ScheduleExpression is supported only on the default event bus.",
                ));
            }
            if !schedule_is_valid(schedule) {
                return Err(validation("Parameter ScheduleExpression is not valid."));
            }
        }
        let event_pattern = match pattern_text {
            None => None,
            Some(text) => Some((
                text.to_owned(),
                Pattern::parse(text)
                    .map_err(|e| ApiError::new("InvalidEventPatternException", e.to_string()))?,
            )),
        };
        let arn = self.rule_arn(&bus, name);
        let rules = self.buses.entry(bus.clone()).or_default();
        let (targets, tags) = match rules.remove(name) {
            Some(old) => (old.targets, old.tags),
            None => (BTreeMap::new(), Tags::from_pairs(tags)),
        };
        rules.insert(
            name.to_owned(),
            Rule {
                name: name.to_owned(),
                bus,
                arn: arn.clone(),
                event_pattern,
                schedule_expression: schedule.map(str::to_owned),
                state,
                description: description.map(str::to_owned),
                role_arn: role_arn.map(str::to_owned),
                tags,
                targets,
            },
        );
        Ok(json!({ "RuleArn": arn }))
    }

    /// `DescribeRule`.
    pub fn describe_rule(&self, input: &Value) -> Result<Value, ApiError> {
        let name = required_str(input, "Name", "name")?;
        let bus = bus_name(input)?;
        let rule = self.rule(&bus, name)?;
        let mut out = rule.describe();
        out.insert("CreatedBy".to_owned(), Value::String(self.account.clone()));
        Ok(Value::Object(out))
    }

    /// `ListRules`: by name, with `NamePrefix`, `Limit` and `NextToken`.
    pub fn list_rules(&self, input: &Value) -> Result<Value, ApiError> {
        let bus = bus_name(input)?;
        let prefix = optional_str(input, "NamePrefix", "namePrefix")?.unwrap_or("");
        let empty = BTreeMap::new();
        let rules = self.buses.get(&bus).unwrap_or(&empty);
        let names: Vec<&str> = rules
            .keys()
            .map(String::as_str)
            .filter(|name| name.starts_with(prefix))
            .collect();
        let (page, next) = input::page(&names, input)?;
        let listed: Vec<Value> = page
            .iter()
            .filter_map(|name| rules.get(*name))
            .map(|rule| Value::Object(rule.describe()))
            .collect();
        let mut out = Map::new();
        out.insert("Rules".to_owned(), Value::Array(listed));
        if let Some(next) = next {
            out.insert("NextToken".to_owned(), Value::String(next));
        }
        Ok(Value::Object(out))
    }

    /// `DeleteRule`: a rule with targets cannot go; deleting a rule that does not
    /// exist succeeds, as on AWS. The rule's tags go with it.
    pub fn delete_rule(&mut self, input: &Value) -> Result<Value, ApiError> {
        let name = required_str(input, "Name", "name")?;
        let bus = bus_name(input)?;
        let Some(rules) = self.buses.get_mut(&bus) else {
            return Ok(json!({}));
        };
        let force = input.get("Force").and_then(Value::as_bool).unwrap_or(false);
        if let Some(rule) = rules.get(name) {
            if !rule.targets.is_empty() && !force {
                return Err(validation("Rule can't be deleted since it has targets."));
            }
            rules.remove(name);
        }
        Ok(json!({}))
    }

    /// `EnableRule` / `DisableRule`.
    fn set_rule_state(&mut self, input: &Value, state: RuleState) -> Result<Value, ApiError> {
        let name = required_str(input, "Name", "name")?;
        let bus = bus_name(input)?;
        self.rule_mut(&bus, name)?.state = state;
        Ok(json!({}))
    }

    /// `EnableRule`.
    pub fn enable_rule(&mut self, input: &Value) -> Result<Value, ApiError> {
        self.set_rule_state(input, RuleState::Enabled)
    }

    /// `DisableRule`.
    pub fn disable_rule(&mut self, input: &Value) -> Result<Value, ApiError> {
        self.set_rule_state(input, RuleState::Disabled)
    }

    /// The tags rule `rule_arn` carries, as `(key, value)` pairs in the order their keys
    /// were added.
    pub fn rule_tags(&self, rule_arn: &str) -> Option<&[(String, String)]> {
        self.buses
            .values()
            .flat_map(BTreeMap::values)
            .find(|rule| rule.arn == rule_arn)
            .map(|rule| rule.tags.pairs())
    }

    /// The deliveries of `PutEvents` since the last call, in the order they were made.
    pub fn take_deliveries(&mut self) -> Vec<Delivery> {
        std::mem::take(&mut self.outbox)
    }

    /// The events `PutEvents` put on the `default` bus since the last call, in order
    /// (already routed).
    pub fn take_put_events(&mut self) -> Vec<Value> {
        std::mem::take(&mut self.put)
    }

    fn rule_arn(&self, bus: &str, name: &str) -> String {
        let (region, account) = (&self.region, &self.account);
        if bus == DEFAULT_BUS {
            format!("arn:aws:events:{region}:{account}:rule/{name}")
        } else {
            format!("arn:aws:events:{region}:{account}:rule/{bus}/{name}")
        }
    }

    fn rule(&self, bus: &str, name: &str) -> Result<&Rule, ApiError> {
        self.buses
            .get(bus)
            .and_then(|rules| rules.get(name))
            .ok_or_else(|| no_such_rule(bus, name))
    }

    fn rule_mut(&mut self, bus: &str, name: &str) -> Result<&mut Rule, ApiError> {
        self.buses
            .get_mut(bus)
            .and_then(|rules| rules.get_mut(name))
            .ok_or_else(|| no_such_rule(bus, name))
    }
}

impl Rule {
    /// The rule as `DescribeRule` and `ListRules` show it (unset fields left out).
    fn describe(&self) -> Map<String, Value> {
        let mut out = Map::new();
        let mut put = |key: &str, value: Option<&str>| {
            if let Some(value) = value {
                out.insert(key.to_owned(), Value::String(value.to_owned()));
            }
        };
        put("Name", Some(&self.name));
        put("Arn", Some(&self.arn));
        put(
            "EventPattern",
            self.event_pattern.as_ref().map(|(text, _)| text.as_str()),
        );
        put("ScheduleExpression", self.schedule_expression.as_deref());
        put("State", Some(self.state.as_str()));
        put("Description", self.description.as_deref());
        put("RoleArn", self.role_arn.as_deref());
        put("EventBusName", Some(&self.bus));
        out
    }
}

/// `ResourceNotFoundException` for a rule.
fn no_such_rule(bus: &str, name: &str) -> ApiError {
    ApiError::new(
        "ResourceNotFoundException",
        format!("Rule {name} does not exist on EventBus {bus}."),
    )
}

/// `Tags` (of PutRule or TagResource), if given: `[{"Key": k, "Value": v}]`, keys 1 to
/// 128 characters, values at most 256, each key once, at most 50.
fn tags(input: &Value) -> Result<Option<Vec<(String, String)>>, ApiError> {
    let Some(list) = input.get("Tags").filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    let Value::Array(items) = list else {
        return Err(validation(
            "1 validation error detected: Value at 'tags' failed to satisfy constraint: Member must be a list",
        ));
    };
    let mut tags: Vec<(String, String)> = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let at = |field: &str| format!("tags.{}.member.{field}", index + 1);
        let key = required_str(item, "Key", &at("key"))?;
        let value = required_str(item, "Value", &at("value"))?;
        check_length(key, &at("key"), 1, 128)?;
        check_length(value, &at("value"), 0, 256)?;
        if tags.iter().any(|(k, _)| k == key) {
            return Err(validation(
                "Invalid parameter: Duplicated keys are not allowed.",
            ));
        }
        tags.push((key.to_owned(), value.to_owned()));
    }
    if tags.len() > MAX_TAGS {
        return Err(tagging::too_many_tags());
    }
    Ok(Some(tags))
}

/// `rate(1 minute)`, `rate(5 minutes)` (singular exactly for 1) or `cron(...)` with six
/// fields, one of day-of-month and day-of-week being `?`.
fn schedule_is_valid(expression: &str) -> bool {
    if let Some(body) = expression
        .strip_prefix("rate(")
        .and_then(|r| r.strip_suffix(')'))
    {
        let mut parts = body.split(' ');
        let (Some(value), Some(unit), None) = (parts.next(), parts.next(), parts.next()) else {
            return false;
        };
        let Ok(value) = value.parse::<u64>() else {
            return false;
        };
        let singular = matches!(unit, "minute" | "hour" | "day");
        let plural = matches!(unit, "minutes" | "hours" | "days");
        return value > 0 && ((value == 1 && singular) || (value > 1 && plural));
    }
    if let Some(body) = expression
        .strip_prefix("cron(")
        .and_then(|r| r.strip_suffix(')'))
    {
        let fields: Vec<&str> = body.split_whitespace().collect();
        return fields.len() == 6 && ((fields[2] == "?") != (fields[4] == "?"));
    }
    false
}
