//! The read calls: DescribeAlarms (filters, `AlarmTypes`, `MaxRecords`/`NextToken`),
//! DescribeAlarmsForMetric, DescribeAlarmHistory (filters, `ScanBy`, pagination), and a
//! stored alarm written as the `MetricAlarm` shape.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::ops::Bound;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};

use super::definition::{STATISTICS, Target, extended_statistic_ok};
use super::input::{Input, check_count, check_length, not_in_enum, seconds, validation};
use super::{Alarm, Dimension, HistoryItem, Statistic};
use crate::ApiError;

const ALARM_TYPES: [&str; 3] = ["CompositeAlarm", "MetricAlarm", "LogAlarm"];
const HISTORY_ITEM_TYPES: [&str; 5] = [
    "ConfigurationUpdate",
    "StateUpdate",
    "Action",
    "AlarmContributorStateUpdate",
    "AlarmContributorAction",
];

/// DescribeAlarms over `alarms` (by name). Named alarms are looked up, and a prefix or
/// a page's first name is where the walk in name order starts, so a call costs what it
/// answers, not the number of alarms.
pub(super) fn alarms(alarms: &BTreeMap<String, Alarm>, input: &Value) -> Result<Value, ApiError> {
    let input = Input(input);
    let names = input.strings("AlarmNames")?;
    let prefix = input.string("AlarmNamePrefix")?;
    if let Some(names) = &names {
        check_count(names, "alarmNames", 100)?;
    }
    if let Some(prefix) = &prefix {
        check_length(prefix, "alarmNamePrefix", 1, 255)?;
    }
    if names.is_some() && prefix.is_some() {
        return Err(ApiError::invalid_combination(
            "AlarmNames and AlarmNamePrefix cannot be specified together.",
        ));
    }
    let state = input.string("StateValue")?;
    if let Some(state) = &state
        && watch::alarm::AlarmState::parse(state).is_none()
    {
        return Err(not_in_enum(
            state,
            "stateValue",
            &["OK", "ALARM", "INSUFFICIENT_DATA"],
        ));
    }
    let action_prefix = input.string("ActionPrefix")?;
    if let Some(action) = &action_prefix {
        check_length(action, "actionPrefix", 1, 1024)?;
    }
    let metric_alarms_wanted = alarm_types_include_metric(input)?;
    let max_records = max_records(input, 50)?;
    let start_after = match input.string("NextToken")? {
        None => None,
        Some(token) => Some(decode_token(&token)?),
    };
    // Composite alarms' relatives: there are no composite alarms here.
    let relatives = input.has("ChildrenOfAlarmName") || input.has("ParentsOfAlarmName");

    let mut selected: Vec<&Alarm> = Vec::new();
    let mut next_token = None;
    if metric_alarms_wanted && !relatives {
        let candidates: Box<dyn Iterator<Item = &Alarm>> = match (&names, &prefix) {
            (Some(names), _) => {
                let wanted: BTreeSet<&str> = names.iter().map(String::as_str).collect();
                Box::new(wanted.into_iter().filter_map(|name| alarms.get(name)))
            }
            (None, prefix) => {
                let prefix = prefix.as_deref().unwrap_or_default();
                let from = start_after
                    .as_deref()
                    .map_or(prefix, |first| prefix.max(first));
                Box::new(
                    alarms
                        .range::<str, _>((Bound::Included(from), Bound::Unbounded))
                        .take_while(move |(name, _)| name.starts_with(prefix))
                        .map(|(_, alarm)| alarm),
                )
            }
        };
        // The candidates have the names or the prefix asked for.
        let matching = candidates.filter(|alarm| {
            let name = &alarm.definition.name;
            state
                .as_ref()
                .is_none_or(|state| alarm.state.as_str() == state)
                && action_prefix.as_ref().is_none_or(|action| {
                    alarm
                        .definition
                        .all_actions()
                        .any(|arn| arn.starts_with(action.as_str()))
                })
                && start_after
                    .as_ref()
                    .is_none_or(|first| name.as_str() >= first.as_str())
        });
        for alarm in matching {
            if selected.len() == max_records {
                next_token = Some(encode_token(&alarm.definition.name));
                break;
            }
            selected.push(alarm);
        }
    }
    let mut output = Map::new();
    output.insert(
        "MetricAlarms".to_owned(),
        Value::Array(selected.into_iter().map(metric_alarm).collect()),
    );
    output.insert("CompositeAlarms".to_owned(), Value::Array(Vec::new()));
    if let Some(token) = next_token {
        output.insert("NextToken".to_owned(), Value::from(token));
    }
    Ok(Value::Object(output))
}

/// DescribeAlarmsForMetric: the single-metric alarms on exactly this metric (and this
/// statistic, period and unit when given).
pub(super) fn alarms_for_metric<'a>(
    alarms: impl Iterator<Item = &'a Alarm>,
    input: &Value,
) -> Result<Value, ApiError> {
    let input = Input(input);
    let namespace = input.required_string("Namespace")?;
    let metric_name = input.required_string("MetricName")?;
    let statistic = input.string("Statistic")?;
    if let Some(name) = &statistic
        && !STATISTICS.contains(&name.as_str())
    {
        return Err(not_in_enum(name, "statistic", &STATISTICS));
    }
    let extended = input.string("ExtendedStatistic")?;
    if let Some(name) = &extended
        && !extended_statistic_ok(name)
    {
        return Err(ApiError::invalid_value(format!(
            "The value {name} for parameter ExtendedStatistic is not supported."
        )));
    }
    let period = input.integer("Period")?;
    let unit = input.string("Unit")?;
    let mut dimensions = Vec::new();
    for item in input.list("Dimensions")?.unwrap_or_default() {
        let item = Input(item);
        dimensions.push(Dimension {
            name: item.required_string("Name")?,
            value: item.required_string("Value")?,
        });
    }
    dimensions.sort();
    let matching: Vec<Value> = alarms
        .filter(|alarm| {
            let Target::Metric(metric) = &alarm.definition.target else {
                return false;
            };
            let mut own = metric.dimensions.clone();
            own.sort();
            metric.namespace == namespace
                && metric.metric_name == metric_name
                && own == dimensions
                && statistic
                    .as_ref()
                    .is_none_or(|wanted| metric.statistic == Statistic::Standard(wanted.clone()))
                && extended
                    .as_ref()
                    .is_none_or(|wanted| metric.statistic == Statistic::Extended(wanted.clone()))
                && period.is_none_or(|wanted| i64::from(metric.period) == wanted)
                && unit
                    .as_ref()
                    .is_none_or(|wanted| metric.unit.as_ref() == Some(wanted))
        })
        .map(metric_alarm)
        .collect();
    Ok(json!({ "MetricAlarms": matching }))
}

/// DescribeAlarmHistory over `history` (in order of recording).
pub(super) fn history(history: &VecDeque<HistoryItem>, input: &Value) -> Result<Value, ApiError> {
    let input = Input(input);
    let alarm_name = input.string("AlarmName")?;
    if let Some(name) = &alarm_name {
        check_length(name, "alarmName", 1, 255)?;
    }
    let metric_alarms_wanted = alarm_types_include_metric(input)?;
    let kind = input.string("HistoryItemType")?;
    if let Some(kind) = &kind
        && !HISTORY_ITEM_TYPES.contains(&kind.as_str())
    {
        return Err(not_in_enum(kind, "historyItemType", &HISTORY_ITEM_TYPES));
    }
    let start = input.time("StartDate")?;
    let end = input.time("EndDate")?;
    let ascending = match input.string("ScanBy")?.as_deref() {
        None | Some("TimestampDescending") => false,
        Some("TimestampAscending") => true,
        Some(other) => {
            return Err(not_in_enum(
                other,
                "scanBy",
                &["TimestampDescending", "TimestampAscending"],
            ));
        }
    };
    let max_records = max_records(input, 100)?;
    let resume = match input.string("NextToken")? {
        None => None,
        Some(token) => Some(
            decode_token(&token)?
                .parse::<u64>()
                .map_err(|_| invalid_token())?,
        ),
    };

    let mut items: Vec<&HistoryItem> = if metric_alarms_wanted {
        history
            .iter()
            .filter(|item| {
                alarm_name
                    .as_ref()
                    .is_none_or(|name| &item.alarm_name == name)
                    && kind.as_ref().is_none_or(|kind| item.kind.as_str() == kind)
                    && start.is_none_or(|start| item.timestamp >= start)
                    && end.is_none_or(|end| item.timestamp <= end)
            })
            .collect()
    } else {
        Vec::new()
    };
    items.sort_by_key(|item| (item.timestamp, item.sequence));
    if !ascending {
        items.reverse();
    }
    let skip = match resume {
        None => 0,
        Some(sequence) => items
            .iter()
            .position(|item| item.sequence == sequence)
            .ok_or_else(invalid_token)?,
    };
    let page: Vec<Value> = items
        .iter()
        .skip(skip)
        .take(max_records)
        .map(|item| {
            json!({
                "AlarmName": item.alarm_name,
                "AlarmType": "MetricAlarm",
                "Timestamp": seconds(item.timestamp),
                "HistoryItemType": item.kind.as_str(),
                "HistorySummary": item.summary,
                "HistoryData": item.data,
            })
        })
        .collect();
    let mut output = Map::new();
    output.insert("AlarmHistoryItems".to_owned(), Value::Array(page));
    if let Some(next) = items.get(skip + max_records) {
        output.insert(
            "NextToken".to_owned(),
            Value::from(encode_token(&next.sequence.to_string())),
        );
    }
    Ok(Value::Object(output))
}

/// A stored alarm as the `MetricAlarm` shape.
pub(super) fn metric_alarm(alarm: &Alarm) -> Value {
    let mut out = Map::new();
    alarm.definition.describe_into(&mut out);
    out.insert("AlarmArn".to_owned(), Value::from(alarm.arn.as_str()));
    out.insert(
        "AlarmConfigurationUpdatedTimestamp".to_owned(),
        seconds(alarm.configuration_updated),
    );
    out.insert("StateValue".to_owned(), Value::from(alarm.state.as_str()));
    out.insert("StateReason".to_owned(), Value::from(alarm.reason.as_str()));
    if let Some(data) = &alarm.reason_data {
        out.insert("StateReasonData".to_owned(), Value::from(data.as_str()));
    }
    out.insert(
        "StateUpdatedTimestamp".to_owned(),
        seconds(alarm.state_updated),
    );
    out.insert(
        "StateTransitionedTimestamp".to_owned(),
        seconds(alarm.state_transitioned),
    );
    Value::Object(out)
}

/// Whether `AlarmTypes` asks for metric alarms (omitted: metric alarms only).
fn alarm_types_include_metric(input: Input<'_>) -> Result<bool, ApiError> {
    let Some(types) = input.strings("AlarmTypes")? else {
        return Ok(true);
    };
    for kind in &types {
        if !ALARM_TYPES.contains(&kind.as_str()) {
            return Err(not_in_enum(kind, "alarmTypes.member", &ALARM_TYPES));
        }
    }
    Ok(types.iter().any(|kind| kind == "MetricAlarm"))
}

/// `MaxRecords`: 1 to 100, `default` when omitted.
fn max_records(input: Input<'_>, default: usize) -> Result<usize, ApiError> {
    match input.integer("MaxRecords")? {
        None => Ok(default),
        Some(n) if (1..=100).contains(&n) => Ok(n as usize),
        Some(n) => Err(validation(
            &n.to_string(),
            "maxRecords",
            if n < 1 {
                "Member must have value greater than or equal to 1"
            } else {
                "Member must have value less than or equal to 100"
            },
        )),
    }
}

fn encode_token(position: &str) -> String {
    STANDARD.encode(position)
}

fn decode_token(token: &str) -> Result<String, ApiError> {
    STANDARD
        .decode(token)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(invalid_token)
}

fn invalid_token() -> ApiError {
    ApiError::new("InvalidNextToken", "The NextToken is invalid.")
}
