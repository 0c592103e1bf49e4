//! CloudWatch's metric alarms as a state machine: the API calls (PutMetricAlarm,
//! DescribeAlarms, DescribeAlarmsForMetric, DescribeAlarmHistory, DeleteAlarms,
//! SetAlarmState, Enable/DisableAlarmActions, and the alarms' tags: TagResource,
//! UntagResource, ListTagsForResource) on JSON named by the model's members, the
//! evaluation schedule, and what each state change sends out ([`Transition`]).
//!
//! What it does not own: metric data (the caller answers [`AlarmData`] from its metric
//! store and metric math), the decision itself (`watch::alarm`), and performing actions
//! (the caller publishes each [`Transition`]'s SNS message and puts its event on the bus,
//! then reports the publish with [`Alarms::record_action`]).
//!
//! # When alarms are evaluated, and over which periods
//!
//! - Cadence: an alarm whose period is 60 s or more is evaluated at every whole minute
//!   (virtual time divisible by 60 s); one with a 10, 20 or 30 s period every 10 s. A new
//!   or updated alarm is first evaluated at the first such tick strictly after the call.
//! - [`Alarms::evaluate_due`]`(now)` evaluates each alarm that is due once, as of its
//!   latest tick at or before `now` (ticks missed by calling late are not replayed), and
//!   stamps its changes with that tick.
//! - Window: at tick `t` the evaluation range ends at `end` = `t` rounded down to a whole
//!   minute (periods ≥ 60 s) or to a whole period (10/20/30 s), less that unit (a minute,
//!   or the period), so data has that long to arrive before its period is judged (AWS's
//!   reason data shows the same lag: a query at 15:31:44 judging the period that began
//!   at 15:29:00); it spans `N + 2` periods back from `end`
//!   ([`watch::alarm::evaluation_range`]): `start = end − (N + 2) × Period`. The periods
//!   are `[start + i × Period, start + (i + 1) × Period)`, so for a 300 s period they are
//!   minute-aligned, not aligned on multiples of 300 s, as on AWS.
//!
//! # Actions and transitions
//!
//! A [`Transition`] is produced only when the state really changes, by an evaluation
//! (returned by [`Alarms::evaluate_due`]) or by SetAlarmState (kept in an outbox drained
//! by [`Alarms::take_transitions`], so every call has the same signature). It carries the
//! EventBridge event (always) and the SNS topics to notify: the new state's list, only if
//! `ActionsEnabled`, and only `arn:…:sns:…` actions (other action kinds are stored and
//! described but not performed).
//!
//! History (DescribeAlarmHistory) is kept for 14 days after each item and survives
//! DeleteAlarms.

mod definition;
mod describe;
mod evaluation;
mod input;
mod notify;
mod render;
mod tagging;

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};
use simtime::{SimDuration, SimTime};
use watch::alarm::format::cloudwatch_time;
use watch::alarm::{AlarmState, ComparisonOperator};

use crate::ApiError;
use crate::cloudwatch::metrics;
use definition::Definition;
pub use evaluation::store_query;
use evaluation::{Prepared, next_tick};
use input::{Input, check_count, check_length, not_in_enum};
pub use notify::region_long_name;
use render::HistoryState;

/// The reason of a new alarm.
const INITIAL_REASON: &str = "Unchecked: Initial alarm creation";

/// How long history items are kept.
const HISTORY_RETENTION: SimDuration = SimDuration::from_days(14);

/// One dimension of a metric.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Dimension {
    /// `Name`.
    pub name: String,
    /// `Value`.
    pub value: String,
}

/// The statistic an alarm watches.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Statistic {
    /// `SampleCount`, `Average`, `Sum`, `Minimum` or `Maximum`.
    Standard(String),
    /// An extended statistic: `p99`, `tm90`, `IQM`, `PR(0:300)`, ...
    Extended(String),
}

impl Statistic {
    /// The statistic's name as the API writes it.
    pub fn name(&self) -> &str {
        match self {
            Statistic::Standard(name) | Statistic::Extended(name) => name,
        }
    }
}

/// One metric's statistic over a period: a single-metric alarm, or a `MetricStat` of a
/// math alarm.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricQuery {
    /// `Namespace`.
    pub namespace: String,
    /// `MetricName`.
    pub metric_name: String,
    /// `Dimensions`, in the order given; the metric is the one with exactly this set.
    pub dimensions: Vec<Dimension>,
    /// `Statistic` or `ExtendedStatistic`.
    pub statistic: Statistic,
    /// `Period` in seconds.
    pub period: u32,
    /// `Unit`: only data stored with this unit counts; `None` for any unit.
    pub unit: Option<String>,
}

/// What an alarm asks the metric store for.
#[derive(Clone, Debug, PartialEq)]
pub enum AlarmQuery {
    /// A single metric's statistic.
    Metric(MetricQuery),
    /// A metric math alarm: the `Metrics` list (MetricDataQuery JSON as GetMetricData
    /// takes it, `ReturnData` written on every entry); the series wanted is the one of
    /// the entry with `ReturnData` true.
    Math {
        /// The `Metrics` list.
        metrics: Value,
        /// The period shared by every metric of the list, in seconds.
        period: u32,
    },
}

impl AlarmQuery {
    /// The period in seconds.
    pub fn period(&self) -> u32 {
        match self {
            AlarmQuery::Metric(metric) => metric.period,
            AlarmQuery::Math { period, .. } => *period,
        }
    }
}

/// One period's value of an alarm's series.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Datapoint {
    /// The start of the period.
    pub timestamp: SimTime,
    /// The statistic (or the expression's value).
    pub value: f64,
    /// Samples behind the value, when known (the low-sample percentile rule and the
    /// reason data use it).
    pub sample_count: Option<f64>,
}

/// Where alarms get their data: implemented over the metric store.
pub trait AlarmData {
    /// The series `query` asks for in `[start, end)`, one datapoint per period that has
    /// data, periods stepping by `query.period()` from `start` (periods without data are
    /// simply absent). Datapoints outside the range or two in one period: the first one
    /// of a period counts.
    fn datapoints(&self, query: &AlarmQuery, start: SimTime, end: SimTime) -> Vec<Datapoint>;

    /// The same, for an alarm whose query PutMetricAlarm also put in the metric store's
    /// terms ([`store_query`]; `None` for a query the store cannot serve, which has no
    /// data): a store over [`crate::cloudwatch::metrics::Metrics`] answers from it
    /// without checking the query again at every evaluation. By default,
    /// [`AlarmData::datapoints`].
    fn prepared_datapoints(
        &self,
        query: &AlarmQuery,
        store_query: Option<&metrics::AlarmQuery>,
        start: SimTime,
        end: SimTime,
    ) -> Vec<Datapoint> {
        let _ = store_query;
        self.datapoints(query, start, end)
    }
}

/// An alarm's change of state, with everything the change sends out.
#[derive(Clone, Debug, PartialEq)]
pub struct Transition {
    /// `AlarmName`.
    pub alarm_name: String,
    /// `AlarmArn`.
    pub alarm_arn: String,
    /// The state left.
    pub old_state: AlarmState,
    /// The state entered.
    pub new_state: AlarmState,
    /// The new `StateReason`.
    pub reason: String,
    /// The new `StateReasonData` (absent after a SetAlarmState without one).
    pub reason_data: Option<String>,
    /// When the state changed.
    pub timestamp: SimTime,
    /// The SNS topics to publish to: the new state's actions, if actions are enabled.
    pub actions: Vec<String>,
    /// The SNS `Subject`: `ALARM: "name" in US East (N. Virginia)`.
    pub subject: String,
    /// The SNS `Message`: CloudWatch's JSON document (fact sheet 3.4).
    pub message: String,
    /// The `CloudWatch Alarm State Change` event for the default bus (fact sheet 3.5).
    pub event: Value,
}

/// How performing one action went, as the caller reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ActionResult {
    /// The publish was accepted.
    Succeeded,
    /// It failed, for `reason` (e.g. the topic does not exist).
    Failed {
        /// What went wrong.
        reason: String,
    },
}

/// The operations served, and whether each changes state.
pub const OPERATIONS: [(&str, bool); 11] = [
    ("DeleteAlarms", true),
    ("DescribeAlarmHistory", false),
    ("DescribeAlarms", false),
    ("DescribeAlarmsForMetric", false),
    ("DisableAlarmActions", true),
    ("EnableAlarmActions", true),
    ("ListTagsForResource", false),
    ("PutMetricAlarm", true),
    ("SetAlarmState", true),
    ("TagResource", true),
    ("UntagResource", true),
];

/// What an alarm is and where it stands, for overviews (DescribeAlarms has it all).
#[derive(Clone, Debug, PartialEq)]
pub struct AlarmSummary<'a> {
    /// `AlarmName`.
    pub name: &'a str,
    /// `StateValue`.
    pub state: AlarmState,
    /// `StateReason`.
    pub reason: &'a str,
    /// When the state value last changed.
    pub state_transitioned: SimTime,
    /// `Threshold`; `None` for anomaly-band alarms.
    pub threshold: Option<f64>,
    /// `ComparisonOperator`.
    pub operator: ComparisonOperator,
    /// `Namespace`, `MetricName` and statistic of a single-metric alarm; `None` for a
    /// metric math alarm.
    pub metric: Option<&'a MetricQuery>,
}

/// One stored alarm.
#[derive(Clone, Debug)]
struct Alarm {
    definition: Definition,
    /// The definition in the terms evaluations use, worked out when it is put.
    prepared: Prepared,
    arn: String,
    /// The `id` of a single-metric alarm's metric in EventBridge events (a UUID, fixed
    /// at creation).
    metric_id: String,
    configuration_updated: SimTime,
    state: AlarmState,
    reason: String,
    reason_data: Option<String>,
    /// When the state (or its reason, by SetAlarmState) last changed.
    state_updated: SimTime,
    /// When the state value last changed.
    state_transitioned: SimTime,
    /// The next evaluation tick; `None` for alarms that are not evaluated (anomaly bands).
    next_evaluation: Option<SimTime>,
}

/// A `HistoryItemType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum HistoryKind {
    ConfigurationUpdate,
    StateUpdate,
    Action,
}

impl HistoryKind {
    fn as_str(self) -> &'static str {
        match self {
            HistoryKind::ConfigurationUpdate => "ConfigurationUpdate",
            HistoryKind::StateUpdate => "StateUpdate",
            HistoryKind::Action => "Action",
        }
    }
}

/// One DescribeAlarmHistory item.
#[derive(Clone, Debug)]
struct HistoryItem {
    /// Order of recording; the pagination token.
    sequence: u64,
    alarm_name: String,
    timestamp: SimTime,
    kind: HistoryKind,
    summary: String,
    data: String,
}

/// The metric alarms of one region and account.
#[derive(Clone, Debug)]
pub struct Alarms {
    region: String,
    account: String,
    /// Ids of events and of metrics in events.
    rng: ChaCha8Rng,
    alarms: BTreeMap<String, Alarm>,
    /// `(next evaluation, alarm name)` for every evaluated alarm.
    schedule: BTreeSet<(SimTime, String)>,
    /// In order of recording.
    history: VecDeque<HistoryItem>,
    next_sequence: u64,
    /// Transitions made by calls (SetAlarmState), until taken.
    outbox: Vec<Transition>,
}

impl Alarms {
    /// No alarms, in `region` (`us-east-1`) of `account`, with ids drawn from `seed`.
    pub fn new(region: &str, account: &str, seed: u64) -> Alarms {
        Alarms {
            region: region.to_owned(),
            account: account.to_owned(),
            rng: ChaCha8Rng::seed_from_u64(seed ^ 0xa1a2_3a1a),
            alarms: BTreeMap::new(),
            schedule: BTreeSet::new(),
            history: VecDeque::new(),
            next_sequence: 0,
            outbox: Vec::new(),
        }
    }

    /// Whether `operation` is one of [`OPERATIONS`].
    pub fn serves(operation: &str) -> bool {
        OPERATIONS.iter().any(|(name, _)| *name == operation)
    }

    /// Performs `operation` (one of [`OPERATIONS`]) at `now`; any other is
    /// `InvalidAction`.
    pub fn call(
        &mut self,
        operation: &str,
        input: &Value,
        now: SimTime,
    ) -> Result<Value, ApiError> {
        match operation {
            "PutMetricAlarm" => self.put_metric_alarm(input, now),
            "DescribeAlarms" => self.describe_alarms(input),
            "DescribeAlarmsForMetric" => self.describe_alarms_for_metric(input),
            "DescribeAlarmHistory" => self.describe_alarm_history(input),
            "DeleteAlarms" => self.delete_alarms(input, now),
            "SetAlarmState" => self.set_alarm_state(input, now),
            "EnableAlarmActions" => self.set_actions_enabled(input, true),
            "DisableAlarmActions" => self.set_actions_enabled(input, false),
            "TagResource" => self.tag_resource(input),
            "UntagResource" => self.untag_resource(input),
            "ListTagsForResource" => self.list_tags_for_resource(input),
            other => Err(ApiError::new(
                "InvalidAction",
                format!("The action {other} is not valid for this web service."),
            )),
        }
    }

    /// PutMetricAlarm: creates the alarm in `INSUFFICIENT_DATA` (`Unchecked: Initial alarm
    /// creation`), or replaces an existing alarm's whole configuration (omitted members
    /// reset; tags are only set on creation) and keeps its state.
    pub fn put_metric_alarm(&mut self, input: &Value, now: SimTime) -> Result<Value, ApiError> {
        let mut definition = Definition::parse(input)?;
        let name = definition.name.clone();
        let next = next_tick(now, definition.target.period());
        let evaluated = !definition.operator.is_anomaly_band();
        if let Some(alarm) = self.alarms.get_mut(&name) {
            let original = history_config(alarm);
            definition.tags = std::mem::take(&mut alarm.definition.tags);
            alarm.prepared = Prepared::new(&definition);
            alarm.definition = definition;
            alarm.configuration_updated = now;
            if let Some(due) = alarm.next_evaluation.take() {
                self.schedule.remove(&(due, name.clone()));
            }
            if evaluated {
                alarm.next_evaluation = Some(next);
                self.schedule.insert((next, name.clone()));
            }
            let updated = history_config(alarm);
            let data = format!(
                r#"{{"version":"1.0","type":"Update","originalAlarm":{original},"updatedAlarm":{updated}}}"#
            );
            self.record(
                &name,
                now,
                HistoryKind::ConfigurationUpdate,
                format!("Alarm \"{name}\" updated"),
                data,
            );
        } else {
            let arn = format!(
                "arn:aws:cloudwatch:{}:{}:alarm:{name}",
                self.region, self.account
            );
            let alarm = Alarm {
                prepared: Prepared::new(&definition),
                definition,
                arn,
                metric_id: self.new_uuid(),
                configuration_updated: now,
                state: AlarmState::InsufficientData,
                reason: INITIAL_REASON.to_owned(),
                reason_data: None,
                state_updated: now,
                state_transitioned: now,
                next_evaluation: evaluated.then_some(next),
            };
            let created = history_config(&alarm);
            if evaluated {
                self.schedule.insert((next, name.clone()));
            }
            self.alarms.insert(name.clone(), alarm);
            let data = format!(r#"{{"version":"1.0","type":"Create","createdAlarm":{created}}}"#);
            self.record(
                &name,
                now,
                HistoryKind::ConfigurationUpdate,
                format!("Alarm \"{name}\" created"),
                data,
            );
        }
        Ok(json!({}))
    }

    /// DescribeAlarms.
    pub fn describe_alarms(&self, input: &Value) -> Result<Value, ApiError> {
        describe::alarms(&self.alarms, input)
    }

    /// DescribeAlarmsForMetric.
    pub fn describe_alarms_for_metric(&self, input: &Value) -> Result<Value, ApiError> {
        describe::alarms_for_metric(self.alarms.values(), input)
    }

    /// DescribeAlarmHistory (newest first unless `ScanBy` says otherwise).
    pub fn describe_alarm_history(&self, input: &Value) -> Result<Value, ApiError> {
        describe::history(&self.history, input)
    }

    /// DeleteAlarms: all of them, or none when one does not exist (`ResourceNotFound`).
    /// Their history stays; their tags go with them.
    pub fn delete_alarms(&mut self, input: &Value, now: SimTime) -> Result<Value, ApiError> {
        let names = alarm_names(input)?;
        if names.iter().any(|name| !self.alarms.contains_key(name)) {
            return Err(ApiError::new("ResourceNotFound", ""));
        }
        for name in names {
            let Some(alarm) = self.alarms.remove(&name) else {
                continue;
            };
            if let Some(due) = alarm.next_evaluation {
                self.schedule.remove(&(due, name.clone()));
            }
            let deleted = history_config(&alarm);
            let data = format!(r#"{{"version":"1.0","type":"Delete","deletedAlarm":{deleted}}}"#);
            self.record(
                &name,
                now,
                HistoryKind::ConfigurationUpdate,
                format!("Alarm \"{name}\" deleted"),
                data,
            );
        }
        Ok(json!({}))
    }

    /// SetAlarmState: sets the state and reason now (the next evaluation may change it
    /// again). A change of state records history and leaves a [`Transition`] in the
    /// outbox ([`Alarms::take_transitions`]); setting the current state again only
    /// replaces the reason.
    pub fn set_alarm_state(&mut self, input: &Value, now: SimTime) -> Result<Value, ApiError> {
        let fields = Input(input);
        let name = fields.required_string("AlarmName")?;
        check_length(&name, "alarmName", 1, 255)?;
        let value = fields.required_string("StateValue")?;
        let state = AlarmState::parse(&value).ok_or_else(|| {
            let names: Vec<&str> = AlarmState::ALL.iter().map(|s| s.as_str()).collect();
            not_in_enum(&value, "stateValue", &names)
        })?;
        let reason = fields.required_string("StateReason")?;
        check_length(&reason, "stateReason", 0, 1023)?;
        let reason_data = fields.string("StateReasonData")?;
        if let Some(data) = &reason_data {
            check_length(data, "stateReasonData", 0, 4000)?;
            if serde_json::from_str::<Value>(data).is_err() {
                return Err(ApiError::new(
                    "InvalidFormat",
                    "StateReasonData is not valid JSON.",
                ));
            }
        }
        let Some(alarm) = self.alarms.get_mut(&name) else {
            return Err(ApiError::new("ResourceNotFound", ""));
        };
        if alarm.state == state {
            alarm.reason = reason;
            alarm.reason_data = reason_data;
            alarm.state_updated = now;
        } else {
            let transition = self.change_state(&name, state, reason, reason_data, now);
            self.outbox.extend(transition);
        }
        Ok(json!({}))
    }

    /// EnableAlarmActions / DisableAlarmActions: sets `ActionsEnabled` on the alarms that
    /// exist (names that do not are ignored).
    fn set_actions_enabled(&mut self, input: &Value, enabled: bool) -> Result<Value, ApiError> {
        for name in alarm_names(input)? {
            if let Some(alarm) = self.alarms.get_mut(&name) {
                alarm.definition.actions_enabled = enabled;
            }
        }
        Ok(json!({}))
    }

    /// EnableAlarmActions.
    pub fn enable_alarm_actions(&mut self, input: &Value) -> Result<Value, ApiError> {
        self.set_actions_enabled(input, true)
    }

    /// DisableAlarmActions.
    pub fn disable_alarm_actions(&mut self, input: &Value) -> Result<Value, ApiError> {
        self.set_actions_enabled(input, false)
    }

    /// The transitions SetAlarmState made since the last call, oldest first.
    pub fn take_transitions(&mut self) -> Vec<Transition> {
        std::mem::take(&mut self.outbox)
    }

    /// The state of alarm `name`, if it exists.
    pub fn state(&self, name: &str) -> Option<AlarmState> {
        self.alarms.get(name).map(|alarm| alarm.state)
    }

    /// Every alarm in brief, by name.
    pub fn summaries(&self) -> impl Iterator<Item = AlarmSummary<'_>> {
        self.alarms.values().map(|alarm| AlarmSummary {
            name: &alarm.definition.name,
            state: alarm.state,
            reason: &alarm.reason,
            state_transitioned: alarm.state_transitioned,
            threshold: alarm.definition.threshold,
            operator: alarm.definition.operator,
            metric: match &alarm.definition.target {
                definition::Target::Metric(query) => Some(query),
                definition::Target::Math { .. } => None,
            },
        })
    }

    /// Records how performing one of `transition`'s actions went (an `Action` history
    /// item: `Successfully executed action <arn>`).
    pub fn record_action(
        &mut self,
        transition: &Transition,
        action: &str,
        result: &ActionResult,
        now: SimTime,
    ) {
        let published =
            serde_json::to_string(&json!({ "default": transition.message })).unwrap_or_default();
        let (state, summary, error) = match result {
            ActionResult::Succeeded => (
                "Succeeded",
                format!("Successfully executed action {action}"),
                Value::Null,
            ),
            ActionResult::Failed { reason } => (
                "Failed",
                format!("Failed to execute action {action}. Reason: {reason}"),
                Value::from(reason.as_str()),
            ),
        };
        let data = format!(
            r#"{{"actionState":{},"stateUpdateTimestamp":{},"notificationResource":{},"publishedMessage":{},"error":{}}}"#,
            json_text(state),
            transition.timestamp.as_millis(),
            json_text(action),
            json_text(&published),
            error
        );
        self.record(
            &transition.alarm_name,
            now,
            HistoryKind::Action,
            summary,
            data,
        );
    }

    /// Moves alarm `name` to `state`: history and the transition.
    fn change_state(
        &mut self,
        name: &str,
        state: AlarmState,
        reason: String,
        reason_data: Option<String>,
        at: SimTime,
    ) -> Option<Transition> {
        let event_id = self.new_uuid();
        let alarm = self.alarms.get_mut(name)?;
        let previous = notify::Previous {
            state: alarm.state,
            reason: std::mem::replace(&mut alarm.reason, reason),
            reason_data: std::mem::replace(&mut alarm.reason_data, reason_data),
            since: alarm.state_updated,
        };
        alarm.state = state;
        alarm.state_updated = at;
        alarm.state_transitioned = at;
        let data = format!(
            r#"{{"version":"1.0","oldState":{},"newState":{}}}"#,
            history_state(
                previous.state,
                &previous.reason,
                previous.reason_data.as_deref()
            ),
            history_state(alarm.state, &alarm.reason, alarm.reason_data.as_deref()),
        );
        let summary = format!(
            "Alarm updated from {} to {}",
            previous.state.as_str(),
            state.as_str()
        );
        let place = notify::Place {
            region: &self.region,
            account: &self.account,
        };
        let transition = notify::transition(&place, alarm, &previous, event_id);
        self.record(name, at, HistoryKind::StateUpdate, summary, data);
        Some(transition)
    }

    fn record(
        &mut self,
        alarm_name: &str,
        at: SimTime,
        kind: HistoryKind,
        summary: String,
        data: String,
    ) {
        self.history.push_back(HistoryItem {
            sequence: self.next_sequence,
            alarm_name: alarm_name.to_owned(),
            timestamp: at,
            kind,
            summary,
            data,
        });
        self.next_sequence += 1;
    }

    /// Drops history items older than the retention.
    fn forget_old_history(&mut self, now: SimTime) {
        let Some(cutoff) = now.as_millis().checked_sub(HISTORY_RETENTION.as_millis()) else {
            return;
        };
        let cutoff = SimTime::from_millis(cutoff);
        if self
            .history
            .front()
            .is_some_and(|item| item.timestamp < cutoff)
        {
            self.history.retain(|item| item.timestamp >= cutoff);
        }
    }

    /// A fresh version-4 UUID from the alarms' own stream.
    fn new_uuid(&mut self) -> String {
        use rand::Rng;
        let mut bytes = [0u8; 16];
        self.rng.fill_bytes(&mut bytes);
        uuid::Builder::from_random_bytes(bytes)
            .into_uuid()
            .hyphenated()
            .to_string()
    }
}

/// `AlarmNames` of DeleteAlarms and Enable/DisableAlarmActions: required, ≤ 100.
fn alarm_names(input: &Value) -> Result<Vec<String>, ApiError> {
    let names = Input(input)
        .strings("AlarmNames")?
        .ok_or_else(|| ApiError::missing("AlarmNames"))?;
    check_count(&names, "alarmNames", 100)?;
    for name in &names {
        check_length(name, "alarmNames.member", 1, 255)?;
    }
    Ok(names)
}

/// The alarm's configuration as history items carry it.
fn history_config(alarm: &Alarm) -> String {
    alarm.definition.history_json(&HistoryState {
        arn: &alarm.arn,
        configuration_updated: cloudwatch_time(alarm.configuration_updated),
        state_value: alarm.state.as_str(),
        state_updated: cloudwatch_time(alarm.state_updated),
    })
}

/// `{"stateValue":…,"stateReason":…,"stateReasonData":{…}}` of a StateUpdate item (the
/// reason data embedded as the JSON it is, keys in their order).
fn history_state(state: AlarmState, reason: &str, reason_data: Option<&str>) -> String {
    let data = reason_data
        .map(|data| format!(r#","stateReasonData":{}"#, data.trim()))
        .unwrap_or_default();
    format!(
        r#"{{"stateValue":{},"stateReason":{}{data}}}"#,
        json_text(state.as_str()),
        json_text(reason)
    )
}

/// `text` as a JSON string literal.
fn json_text(text: &str) -> String {
    Value::from(text).to_string()
}
