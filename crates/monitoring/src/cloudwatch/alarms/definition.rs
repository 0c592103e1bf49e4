//! PutMetricAlarm's input checked into a [`Definition`] (fact sheet 3.1): names and
//! lengths, the actions, `Statistic` xor `ExtendedStatistic`, a math alarm's `Metrics`,
//! `Period` and the Period × N limits, M ≤ N, thresholds and anomaly bands. Nothing
//! downstream re-checks a definition; `render` writes one back out.

use std::collections::BTreeSet;

use serde_json::{Map, Value};
use watch::alarm::{ComparisonOperator, LowSampleCount, TreatMissingData};

use super::input::{Input, check_count, check_length, check_minimum, not_in_enum, validation};
use super::render::queries_json;
use super::{AlarmQuery, Dimension, MetricQuery, Statistic};
use crate::ApiError;
use crate::tags::Tags;

/// The standard statistics.
pub(super) const STATISTICS: [&str; 5] = ["SampleCount", "Average", "Sum", "Minimum", "Maximum"];

/// `StandardUnit`.
const UNITS: [&str; 27] = [
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Gigabytes",
    "Terabytes",
    "Bits",
    "Kilobits",
    "Megabits",
    "Gigabits",
    "Terabits",
    "Percent",
    "Count",
    "Bytes/Second",
    "Kilobytes/Second",
    "Megabytes/Second",
    "Gigabytes/Second",
    "Terabytes/Second",
    "Bits/Second",
    "Kilobits/Second",
    "Megabits/Second",
    "Gigabits/Second",
    "Terabits/Second",
    "Count/Second",
    "None",
];

/// Members stored as given and echoed by DescribeAlarms, but not acted on here.
const PASSTHROUGH: [&str; 5] = [
    "EvaluationWindow",
    "WarmUpConfiguration",
    "EvaluationCriteria",
    "ActionConfiguration",
    "EvaluationInterval",
];

/// A checked alarm configuration: everything PutMetricAlarm sets.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Definition {
    pub(super) name: String,
    pub(super) description: Option<String>,
    pub(super) actions_enabled: bool,
    pub(super) ok_actions: Vec<String>,
    pub(super) alarm_actions: Vec<String>,
    pub(super) insufficient_data_actions: Vec<String>,
    pub(super) target: Target,
    pub(super) evaluation_periods: u32,
    pub(super) datapoints_to_alarm: Option<u32>,
    /// `None` only for anomaly-band alarms.
    pub(super) threshold: Option<f64>,
    pub(super) threshold_metric_id: Option<String>,
    pub(super) operator: ComparisonOperator,
    /// As given (DescribeAlarms echoes only what was given).
    pub(super) treat_missing_data: Option<TreatMissingData>,
    pub(super) low_sample_count: Option<LowSampleCount>,
    /// `Tags` of the PutMetricAlarm that created the alarm, then TagResource and
    /// UntagResource (an update keeps them).
    pub(super) tags: Tags,
    /// [`PASSTHROUGH`] members as given.
    pub(super) extras: Map<String, Value>,
}

/// What an alarm watches.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Target {
    /// One metric's statistic.
    Metric(MetricQuery),
    /// A metric math expression (the query with `ReturnData` true).
    Math {
        /// The `Metrics` list.
        queries: Vec<Query>,
        /// The period all its metrics share.
        period: u32,
    },
}

/// One `MetricDataQuery` of a math alarm.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Query {
    pub(super) id: String,
    pub(super) expression: Option<String>,
    pub(super) label: Option<String>,
    pub(super) metric_stat: Option<MetricQuery>,
    pub(super) period: Option<u32>,
    pub(super) return_data: bool,
    pub(super) account_id: Option<String>,
}

impl Target {
    /// The alarm's period in seconds.
    pub(super) fn period(&self) -> u32 {
        match self {
            Target::Metric(metric) => metric.period,
            Target::Math { period, .. } => *period,
        }
    }

    /// What to ask the metric store for.
    pub(super) fn query(&self) -> AlarmQuery {
        match self {
            Target::Metric(metric) => AlarmQuery::Metric(metric.clone()),
            Target::Math { queries, period } => AlarmQuery::Math {
                metrics: queries_json(queries),
                period: *period,
            },
        }
    }
}

impl Definition {
    /// Checks PutMetricAlarm's input.
    pub(super) fn parse(input: &Value) -> Result<Definition, ApiError> {
        let input = Input(input);
        let name = input.required_string("AlarmName")?;
        check_length(&name, "alarmName", 1, 255)?;
        let description = input.string("AlarmDescription")?;
        if let Some(text) = &description {
            check_length(text, "alarmDescription", 0, 1024)?;
        }
        let ok_actions = actions(input, "OKActions", "oKActions")?;
        let alarm_actions = actions(input, "AlarmActions", "alarmActions")?;
        let insufficient_data_actions =
            actions(input, "InsufficientDataActions", "insufficientDataActions")?;

        let operator_name = input.required_string("ComparisonOperator")?;
        let operator = ComparisonOperator::parse(&operator_name).ok_or_else(|| {
            let names: Vec<&str> = ComparisonOperator::ALL.iter().map(|o| o.as_str()).collect();
            not_in_enum(&operator_name, "comparisonOperator", &names)
        })?;
        let evaluation_periods = input
            .integer("EvaluationPeriods")?
            .ok_or_else(|| ApiError::missing("EvaluationPeriods"))?;
        check_minimum(evaluation_periods, "evaluationPeriods", 1)?;
        let evaluation_periods = u32::try_from(evaluation_periods)
            .map_err(|_| ApiError::invalid_value("EvaluationPeriods is too large."))?;
        let datapoints_to_alarm = match input.integer("DatapointsToAlarm")? {
            None => None,
            Some(m) => {
                check_minimum(m, "datapointsToAlarm", 1)?;
                if m > i64::from(evaluation_periods) {
                    return Err(ApiError::invalid_combination(
                        "DatapointsToAlarm must be less than or equal to EvaluationPeriods.",
                    ));
                }
                Some(m as u32)
            }
        };
        let treat_missing_data = match input.string("TreatMissingData")? {
            None => None,
            Some(text) => {
                check_length(&text, "treatMissingData", 1, 255)?;
                Some(TreatMissingData::parse(&text).ok_or_else(|| {
                    ApiError::invalid_value(format!(
                        "Invalid value for TreatMissingData: {text}. Valid values are: \
                         breaching, notBreaching, ignore, missing."
                    ))
                })?)
            }
        };
        let low_sample_count = match input.string("EvaluateLowSampleCountPercentile")? {
            None => None,
            Some(text) => {
                check_length(&text, "evaluateLowSampleCountPercentile", 1, 255)?;
                Some(LowSampleCount::parse(&text).ok_or_else(|| {
                    ApiError::invalid_value(format!(
                        "Invalid value for EvaluateLowSampleCountPercentile: {text}. Valid \
                         values are: evaluate, ignore."
                    ))
                })?)
            }
        };

        let target = target(input)?;
        let period = i64::from(target.period());
        let span = period * i64::from(evaluation_periods);
        if span > 604_800 {
            return Err(ApiError::invalid_combination(
                "The evaluation period (Period x EvaluationPeriods) must not exceed one week \
                 (604800 seconds).",
            ));
        }
        if period < 3600 && span > 86_400 {
            return Err(ApiError::invalid_combination(
                "The evaluation period (Period x EvaluationPeriods) must not exceed one day \
                 (86400 seconds) for periods shorter than one hour.",
            ));
        }

        let threshold = input.number("Threshold")?;
        let threshold_metric_id = input.string("ThresholdMetricId")?;
        if operator.is_anomaly_band() {
            let Some(id) = &threshold_metric_id else {
                return Err(ApiError::missing("ThresholdMetricId"));
            };
            let Target::Math { queries, .. } = &target else {
                return Err(ApiError::invalid_combination(
                    "ThresholdMetricId requires the Metrics parameter.",
                ));
            };
            if !queries.iter().any(|query| &query.id == id) {
                return Err(ApiError::invalid_value(format!(
                    "ThresholdMetricId {id} does not match any Id in Metrics."
                )));
            }
        } else {
            if threshold_metric_id.is_some() {
                return Err(ApiError::invalid_combination(
                    "ThresholdMetricId can only be used with the anomaly detection comparison \
                     operators.",
                ));
            }
            if threshold.is_none() {
                return Err(ApiError::missing("Threshold"));
            }
        }

        let tags = Tags::from_pairs(tags(input)?.unwrap_or_default());
        let mut extras = Map::new();
        for member in PASSTHROUGH {
            if let Some(value) = input.get(member) {
                extras.insert(member.to_owned(), value.clone());
            }
        }
        Ok(Definition {
            name,
            description,
            actions_enabled: input.boolean("ActionsEnabled")?.unwrap_or(true),
            ok_actions,
            alarm_actions,
            insufficient_data_actions,
            target,
            evaluation_periods,
            datapoints_to_alarm,
            threshold,
            threshold_metric_id,
            operator,
            treat_missing_data,
            low_sample_count,
            tags,
            extras,
        })
    }

    /// The actions run on entering `state`'s list: OKActions, AlarmActions or
    /// InsufficientDataActions.
    pub(super) fn actions_for(&self, state: watch::alarm::AlarmState) -> &[String] {
        match state {
            watch::alarm::AlarmState::Ok => &self.ok_actions,
            watch::alarm::AlarmState::Alarm => &self.alarm_actions,
            watch::alarm::AlarmState::InsufficientData => &self.insufficient_data_actions,
        }
    }

    /// Every action of every state.
    pub(super) fn all_actions(&self) -> impl Iterator<Item = &String> {
        self.ok_actions
            .iter()
            .chain(&self.alarm_actions)
            .chain(&self.insufficient_data_actions)
    }
}

/// One of the three action lists: ≤ 5 ARNs.
fn actions(input: Input<'_>, name: &str, member: &str) -> Result<Vec<String>, ApiError> {
    let list = input.strings(name)?.unwrap_or_default();
    check_count(&list, member, 5)?;
    for arn in &list {
        check_length(arn, member, 1, 1024)?;
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        if parts.len() < 6 || parts[0] != "arn" || parts[2].is_empty() {
            return Err(ApiError::invalid_value(format!(
                "Invalid alarm action: {arn}"
            )));
        }
    }
    Ok(list)
}

/// The metric or the math expression the alarm watches.
fn target(input: Input<'_>) -> Result<Target, ApiError> {
    const SINGLE: [&str; 7] = [
        "MetricName",
        "Namespace",
        "Statistic",
        "ExtendedStatistic",
        "Dimensions",
        "Period",
        "Unit",
    ];
    if let Some(list) = input.list("Metrics")? {
        if let Some(member) = SINGLE.iter().find(|member| input.has(member)) {
            return Err(ApiError::invalid_combination(format!(
                "The parameter {member} must not be used with Metrics."
            )));
        }
        return math(list);
    }
    let namespace = input.required_string("Namespace")?;
    let metric_name = input.required_string("MetricName")?;
    let statistic = statistic(
        input.string("Statistic")?,
        input.string("ExtendedStatistic")?,
    )?;
    let period = input
        .integer("Period")?
        .ok_or_else(|| ApiError::missing("Period"))?;
    let period = check_period(period)?;
    let unit = unit(input.string("Unit")?)?;
    let dimensions = dimensions(input)?;
    metric_names(&namespace, &metric_name)?;
    Ok(Target::Metric(MetricQuery {
        namespace,
        metric_name,
        dimensions,
        statistic,
        period,
        unit,
    }))
}

fn metric_names(namespace: &str, metric_name: &str) -> Result<(), ApiError> {
    check_length(namespace, "namespace", 1, 255)?;
    if namespace.starts_with(':') {
        return Err(validation(
            namespace,
            "namespace",
            "Member must satisfy regular expression pattern: [^:].*",
        ));
    }
    check_length(metric_name, "metricName", 1, 255)
}

/// `Statistic` xor `ExtendedStatistic`.
fn statistic(standard: Option<String>, extended: Option<String>) -> Result<Statistic, ApiError> {
    match (standard, extended) {
        (Some(_), Some(_)) => Err(ApiError::invalid_combination(
            "Exactly one of the parameters Statistic and ExtendedStatistic must be specified, \
             not both.",
        )),
        (None, None) => Err(ApiError::missing("Statistic")),
        (Some(name), None) => {
            if STATISTICS.contains(&name.as_str()) {
                Ok(Statistic::Standard(name))
            } else {
                Err(not_in_enum(&name, "statistic", &STATISTICS))
            }
        }
        (None, Some(name)) => {
            if extended_statistic_ok(&name) {
                Ok(Statistic::Extended(name))
            } else {
                Err(ApiError::invalid_value(format!(
                    "The value {name} for parameter ExtendedStatistic is not supported."
                )))
            }
        }
    }
}

/// `Stat` of a math alarm's MetricStat: a standard or an extended statistic.
fn stat(name: String) -> Result<Statistic, ApiError> {
    if STATISTICS.contains(&name.as_str()) {
        Ok(Statistic::Standard(name))
    } else if extended_statistic_ok(&name) {
        Ok(Statistic::Extended(name))
    } else {
        Err(ApiError::invalid_value(format!(
            "The value {name} for parameter Stat is not supported."
        )))
    }
}

/// Whether `name` is an extended statistic alarms accept: `p90`, `p99.9`, `tm90`, `tc90`,
/// `ts90`, `wm90`, `IQM`, `PR(n:m)`, and `TM`/`TC`/`TS`/`WM(X%:X%)` with 10 ≤ X ≤ 90.
pub(super) fn extended_statistic_ok(name: &str) -> bool {
    if name == "IQM" {
        return true;
    }
    for prefix in ["p", "tm", "tc", "ts", "wm"] {
        if let Some(rest) = name.strip_prefix(prefix)
            && let Some(value) = plain_number(rest)
        {
            return (0.0..=100.0).contains(&value);
        }
    }
    for prefix in ["TM", "TC", "TS", "WM", "PR"] {
        let Some(inner) = name
            .strip_prefix(prefix)
            .and_then(|rest| rest.strip_prefix('('))
            .and_then(|rest| rest.strip_suffix(')'))
        else {
            continue;
        };
        let Some((low, high)) = inner.split_once(':') else {
            return false;
        };
        if low.is_empty() && high.is_empty() {
            return false;
        }
        let bound_ok = |bound: &str| {
            if bound.is_empty() {
                return true;
            }
            if prefix == "PR" {
                plain_number(bound).is_some()
            } else {
                bound
                    .strip_suffix('%')
                    .and_then(plain_number)
                    .is_some_and(|x| (10.0..=90.0).contains(&x))
            }
        };
        return bound_ok(low) && bound_ok(high);
    }
    false
}

/// The percentile of a `pNN` statistic.
pub(super) fn percentile(name: &str) -> Option<f64> {
    name.strip_prefix('p').and_then(plain_number)
}

/// Digits with at most one decimal point, nothing else.
fn plain_number(text: &str) -> Option<f64> {
    let valid = !text.is_empty()
        && text.chars().all(|c| c.is_ascii_digit() || c == '.')
        && text.chars().filter(|&c| c == '.').count() <= 1
        && !text.starts_with('.')
        && !text.ends_with('.');
    if valid { text.parse().ok() } else { None }
}

/// `Period`: 10, 20, 30 or a multiple of 60.
fn check_period(period: i64) -> Result<u32, ApiError> {
    check_minimum(period, "period", 1)?;
    if matches!(period, 10 | 20 | 30) || (period % 60 == 0 && period <= 604_800) {
        return Ok(period as u32);
    }
    Err(ApiError::invalid_value(
        "The parameter Period must be 10, 20, 30 or a multiple of 60.",
    ))
}

fn unit(unit: Option<String>) -> Result<Option<String>, ApiError> {
    match unit {
        Some(name) if !UNITS.contains(&name.as_str()) => Err(not_in_enum(&name, "unit", &UNITS)),
        other => Ok(other),
    }
}

/// `Dimensions`: ≤ 30 `{Name, Value}` pairs with distinct names.
fn dimensions(input: Input<'_>) -> Result<Vec<Dimension>, ApiError> {
    let Some(list) = input.list("Dimensions")? else {
        return Ok(Vec::new());
    };
    if list.len() > 30 {
        return Err(validation(
            "Dimensions",
            "dimensions",
            "Member must have length less than or equal to 30",
        ));
    }
    let mut seen = BTreeSet::new();
    let mut dimensions = Vec::with_capacity(list.len());
    for item in list {
        let item = Input(item);
        let name = item.required_string("Name")?;
        let value = item.required_string("Value")?;
        check_length(&name, "dimensions.member.name", 1, 255)?;
        check_length(&value, "dimensions.member.value", 1, 1024)?;
        if !seen.insert(name.clone()) {
            return Err(ApiError::invalid_value(format!(
                "No two dimensions may have the same name: {name}."
            )));
        }
        dimensions.push(Dimension { name, value });
    }
    Ok(dimensions)
}

/// A math alarm's `Metrics`: ≤ 10 queries with unique ids, each exactly one of
/// `MetricStat` or `Expression`, exactly one returning data, one period for all.
fn math(list: &[Value]) -> Result<Target, ApiError> {
    if list.is_empty() {
        return Err(ApiError::invalid_value(
            "The Metrics list must not be empty.",
        ));
    }
    if list.len() > 10 {
        return Err(ApiError::invalid_value(
            "The Metrics list must not contain more than 10 metrics.",
        ));
    }
    let mut queries: Vec<Query> = Vec::with_capacity(list.len());
    for (index, item) in list.iter().enumerate() {
        let item = Input(item);
        let member = |name: &str| format!("Metrics.member.{}.{name}", index + 1);
        let id = item
            .string("Id")?
            .ok_or_else(|| ApiError::missing(&member("Id")))?;
        let id_ok = id.chars().next().is_some_and(|c| c.is_ascii_lowercase())
            && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && id.len() <= 255;
        if !id_ok {
            return Err(ApiError::invalid_value(format!(
                "Invalid metric Id {id}: an Id must start with a lowercase letter and contain \
                 only letters, numbers and underscores."
            )));
        }
        if queries.iter().any(|query| query.id == id) {
            return Err(ApiError::invalid_value(format!(
                "The Id {id} is used more than once in Metrics."
            )));
        }
        let expression = item.string("Expression")?;
        let metric_stat = match item.get("MetricStat") {
            None => None,
            Some(value) => Some(metric_stat(Input(value), &member("MetricStat"))?),
        };
        if expression.is_some() == metric_stat.is_some() {
            return Err(ApiError::invalid_combination(format!(
                "Exactly one of {} and {} must be specified.",
                member("MetricStat"),
                member("Expression")
            )));
        }
        if let Some(text) = &expression {
            check_length(text, "expression", 1, 2048)?;
        }
        let period = item.integer("Period")?.map(check_period).transpose()?;
        queries.push(Query {
            id,
            expression,
            label: item.string("Label")?,
            metric_stat,
            period,
            return_data: item.boolean("ReturnData")?.unwrap_or(true),
            account_id: item.string("AccountId")?,
        });
    }
    if queries.iter().filter(|query| query.return_data).count() != 1 {
        return Err(ApiError::invalid_value(
            "Exactly one element of the Metrics list must have ReturnData set to true.",
        ));
    }
    let periods: BTreeSet<u32> = queries
        .iter()
        .filter_map(|query| query.metric_stat.as_ref().map(|stat| stat.period))
        .chain(queries.iter().filter_map(|query| query.period))
        .collect();
    let period = match periods.len() {
        0 => return Err(ApiError::missing("Period")),
        1 => periods.into_iter().next().unwrap_or(60),
        _ => {
            return Err(ApiError::invalid_value(
                "All metrics in the Metrics list must have the same period.",
            ));
        }
    };
    Ok(Target::Math { queries, period })
}

fn metric_stat(input: Input<'_>, member: &str) -> Result<MetricQuery, ApiError> {
    let metric = input
        .get("Metric")
        .map(Input)
        .ok_or_else(|| ApiError::missing(&format!("{member}.Metric")))?;
    let namespace = metric
        .string("Namespace")?
        .ok_or_else(|| ApiError::missing(&format!("{member}.Metric.Namespace")))?;
    let metric_name = metric
        .string("MetricName")?
        .ok_or_else(|| ApiError::missing(&format!("{member}.Metric.MetricName")))?;
    metric_names(&namespace, &metric_name)?;
    let period = input
        .integer("Period")?
        .ok_or_else(|| ApiError::missing(&format!("{member}.Period")))?;
    let statistic = stat(
        input
            .string("Stat")?
            .ok_or_else(|| ApiError::missing(&format!("{member}.Stat")))?,
    )?;
    Ok(MetricQuery {
        namespace,
        metric_name,
        dimensions: dimensions(metric)?,
        statistic,
        period: check_period(period)?,
        unit: unit(input.string("Unit")?)?,
    })
}

/// `Tags` (of PutMetricAlarm or TagResource), if given: ≤ 50 `{Key, Value}` pairs, keys
/// 1 to 128 characters, values at most 256.
pub(super) fn tags(input: Input<'_>) -> Result<Option<Vec<(String, String)>>, ApiError> {
    let Some(list) = input.list("Tags")? else {
        return Ok(None);
    };
    if list.len() > crate::tags::MAX_TAGS {
        return Err(validation(
            "Tags",
            "tags",
            "Member must have length less than or equal to 50",
        ));
    }
    list.iter()
        .map(|item| {
            let item = Input(item);
            let key = item.required_string("Key")?;
            let value = item.required_string("Value")?;
            check_length(&key, "tags.member.key", 1, 128)?;
            check_length(&value, "tags.member.value", 0, 256)?;
            Ok((key, value))
        })
        .collect::<Result<Vec<_>, ApiError>>()
        .map(Some)
}
