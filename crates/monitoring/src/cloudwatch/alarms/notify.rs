//! What a state change sends out: the SNS message and subject CloudWatch publishes to an
//! alarm's topics (fact sheet 3.4) and the `CloudWatch Alarm State Change` event on the
//! default bus (3.5). Pure formatting: which actions run is decided by the caller.

use serde::Serialize;
use serde_json::{Map, Value, json};
use simtime::SimTime;
use watch::alarm::AlarmState;
use watch::alarm::format::cloudwatch_time;

use super::definition::{Query, Target};
use super::render::LowerDimension;
use super::{Alarm, MetricQuery, Statistic, Transition};

/// The state an alarm left.
pub(super) struct Previous {
    pub(super) state: AlarmState,
    pub(super) reason: String,
    pub(super) reason_data: Option<String>,
    /// When the alarm entered that state.
    pub(super) since: SimTime,
}

/// Where the alarms live.
pub(super) struct Place<'a> {
    pub(super) region: &'a str,
    pub(super) account: &'a str,
}

/// The long name CloudWatch writes for `region` (`US East (N. Virginia)`); the code
/// itself for regions not listed.
pub fn region_long_name(region: &str) -> &str {
    match region {
        "us-east-1" => "US East (N. Virginia)",
        "us-east-2" => "US East (Ohio)",
        "us-west-1" => "US West (N. California)",
        "us-west-2" => "US West (Oregon)",
        "ca-central-1" => "Canada (Central)",
        "eu-west-1" => "EU (Ireland)",
        "eu-west-2" => "EU (London)",
        "eu-west-3" => "EU (Paris)",
        "eu-central-1" => "EU (Frankfurt)",
        "eu-north-1" => "EU (Stockholm)",
        "eu-south-1" => "EU (Milan)",
        "ap-northeast-1" => "Asia Pacific (Tokyo)",
        "ap-northeast-2" => "Asia Pacific (Seoul)",
        "ap-northeast-3" => "Asia Pacific (Osaka)",
        "ap-southeast-1" => "Asia Pacific (Singapore)",
        "ap-southeast-2" => "Asia Pacific (Sydney)",
        "ap-south-1" => "Asia Pacific (Mumbai)",
        "sa-east-1" => "South America (Sao Paulo)",
        other => other,
    }
}

/// The transition of `alarm` (already in its new state) out of `previous`.
pub(super) fn transition(
    place: &Place<'_>,
    alarm: &Alarm,
    previous: &Previous,
    event_id: String,
) -> Transition {
    let definition = &alarm.definition;
    let actions = if definition.actions_enabled {
        definition
            .actions_for(alarm.state)
            .iter()
            .filter(|arn| arn.split(':').nth(2) == Some("sns"))
            .cloned()
            .collect()
    } else {
        Vec::new()
    };
    Transition {
        alarm_name: definition.name.clone(),
        alarm_arn: alarm.arn.clone(),
        old_state: previous.state,
        new_state: alarm.state,
        reason: alarm.reason.clone(),
        reason_data: alarm.reason_data.clone(),
        timestamp: alarm.state_updated,
        actions,
        subject: subject(alarm.state, &definition.name, place.region),
        message: message(place, alarm, previous),
        event: event(place, alarm, previous, event_id),
    }
}

/// `ALARM: "cpu-high" in US East (N. Virginia)`, cut to SNS's limit of 99 characters.
fn subject(state: AlarmState, name: &str, region: &str) -> String {
    let full = format!(
        "{}: \"{name}\" in {}",
        state.as_str(),
        region_long_name(region)
    );
    full.chars().take(99).collect()
}

/// The JSON message body of 3.4, keys in AWS's order.
fn message(place: &Place<'_>, alarm: &Alarm, previous: &Previous) -> String {
    let definition = &alarm.definition;
    let treat = definition
        .treat_missing_data
        .map(|t| t.as_str())
        .unwrap_or_default();
    let low = definition
        .low_sample_count
        .map(|l| l.as_str())
        .unwrap_or_default();
    let trigger = match &definition.target {
        Target::Metric(metric) => Trigger::Metric(MetricTrigger {
            metric_name: &metric.metric_name,
            namespace: &metric.namespace,
            statistic_type: match metric.statistic {
                Statistic::Standard(_) => "Statistic",
                Statistic::Extended(_) => "ExtendedStatistic",
            },
            statistic: match &metric.statistic {
                Statistic::Standard(name) => Some(upper_statistic(name)),
                Statistic::Extended(_) => None,
            },
            extended_statistic: match &metric.statistic {
                Statistic::Extended(name) => Some(name.as_str()),
                Statistic::Standard(_) => None,
            },
            unit: metric.unit.as_deref(),
            dimensions: lower_dimensions(metric),
            period: metric.period,
            evaluation_periods: definition.evaluation_periods,
            datapoints_to_alarm: definition.datapoints_to_alarm,
            comparison_operator: definition.operator.as_str(),
            threshold: definition.threshold,
            threshold_metric_id: definition.threshold_metric_id.as_deref(),
            treat_missing_data: treat,
            evaluate_low_sample_count_percentile: low,
        }),
        Target::Math { queries, period } => Trigger::Math(MathTrigger {
            period: *period,
            evaluation_periods: definition.evaluation_periods,
            datapoints_to_alarm: definition.datapoints_to_alarm,
            comparison_operator: definition.operator.as_str(),
            threshold: definition.threshold,
            threshold_metric_id: definition.threshold_metric_id.as_deref(),
            treat_missing_data: treat,
            evaluate_low_sample_count_percentile: low,
            metrics: queries.iter().map(trigger_query).collect(),
        }),
    };
    let document = Message {
        alarm_name: &definition.name,
        alarm_description: definition.description.as_deref(),
        aws_account_id: place.account,
        alarm_configuration_updated_timestamp: cloudwatch_time(alarm.configuration_updated),
        new_state_value: alarm.state.as_str(),
        new_state_reason: &alarm.reason,
        state_change_time: cloudwatch_time(alarm.state_updated),
        region: region_long_name(place.region),
        alarm_arn: &alarm.arn,
        old_state_value: previous.state.as_str(),
        ok_actions: &definition.ok_actions,
        alarm_actions: &definition.alarm_actions,
        insufficient_data_actions: &definition.insufficient_data_actions,
        trigger,
    };
    // Serialising strings and numbers cannot fail.
    serde_json::to_string(&document).unwrap_or_default()
}

/// `AVERAGE`, `SAMPLE_COUNT`: the Java enum names CloudWatch prints in triggers.
fn upper_statistic(name: &str) -> String {
    match name {
        "SampleCount" => "SAMPLE_COUNT".to_owned(),
        other => other.to_ascii_uppercase(),
    }
}

fn lower_dimensions(metric: &MetricQuery) -> Vec<LowerDimension<'_>> {
    metric
        .dimensions
        .iter()
        .map(|d| LowerDimension {
            value: &d.value,
            name: &d.name,
        })
        .collect()
}

fn trigger_query(query: &Query) -> TriggerQuery<'_> {
    TriggerQuery {
        expression: query.expression.as_deref(),
        id: &query.id,
        label: query.label.as_deref(),
        metric_stat: query.metric_stat.as_ref().map(|stat| TriggerMetricStat {
            metric: TriggerMetric {
                dimensions: lower_dimensions(stat),
                metric_name: &stat.metric_name,
                namespace: &stat.namespace,
            },
            period: stat.period,
            stat: stat.statistic.name(),
            unit: stat.unit.as_deref(),
        }),
        period: query.period,
        return_data: query.return_data,
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Message<'a> {
    alarm_name: &'a str,
    alarm_description: Option<&'a str>,
    #[serde(rename = "AWSAccountId")]
    aws_account_id: &'a str,
    alarm_configuration_updated_timestamp: String,
    new_state_value: &'a str,
    new_state_reason: &'a str,
    state_change_time: String,
    region: &'a str,
    alarm_arn: &'a str,
    old_state_value: &'a str,
    #[serde(rename = "OKActions")]
    ok_actions: &'a [String],
    alarm_actions: &'a [String],
    insufficient_data_actions: &'a [String],
    trigger: Trigger<'a>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum Trigger<'a> {
    Metric(MetricTrigger<'a>),
    Math(MathTrigger<'a>),
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct MetricTrigger<'a> {
    metric_name: &'a str,
    namespace: &'a str,
    statistic_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    statistic: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    extended_statistic: Option<&'a str>,
    unit: Option<&'a str>,
    dimensions: Vec<LowerDimension<'a>>,
    period: u32,
    evaluation_periods: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    datapoints_to_alarm: Option<u32>,
    comparison_operator: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    threshold: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    threshold_metric_id: Option<&'a str>,
    treat_missing_data: &'a str,
    evaluate_low_sample_count_percentile: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct MathTrigger<'a> {
    period: u32,
    evaluation_periods: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    datapoints_to_alarm: Option<u32>,
    comparison_operator: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    threshold: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    threshold_metric_id: Option<&'a str>,
    treat_missing_data: &'a str,
    evaluate_low_sample_count_percentile: &'a str,
    metrics: Vec<TriggerQuery<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct TriggerQuery<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    expression: Option<&'a str>,
    id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    label: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    metric_stat: Option<TriggerMetricStat<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    period: Option<u32>,
    return_data: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct TriggerMetricStat<'a> {
    metric: TriggerMetric<'a>,
    period: u32,
    stat: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    unit: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct TriggerMetric<'a> {
    dimensions: Vec<LowerDimension<'a>>,
    metric_name: &'a str,
    namespace: &'a str,
}

/// The EventBridge event of 3.5.
fn event(place: &Place<'_>, alarm: &Alarm, previous: &Previous, id: String) -> Value {
    let definition = &alarm.definition;
    let metrics: Vec<Value> = match &definition.target {
        Target::Metric(metric) => vec![json!({
            "id": alarm.metric_id,
            "metricStat": event_metric_stat(metric),
            "returnData": true,
        })],
        Target::Math { queries, .. } => queries
            .iter()
            .map(|query| {
                let mut object = Map::new();
                object.insert("id".to_owned(), Value::from(query.id.as_str()));
                if let Some(expression) = &query.expression {
                    object.insert("expression".to_owned(), Value::from(expression.as_str()));
                }
                if let Some(label) = &query.label {
                    object.insert("label".to_owned(), Value::from(label.as_str()));
                }
                if let Some(stat) = &query.metric_stat {
                    object.insert("metricStat".to_owned(), event_metric_stat(stat));
                }
                if let Some(period) = query.period {
                    object.insert("period".to_owned(), Value::from(period));
                }
                object.insert("returnData".to_owned(), Value::from(query.return_data));
                Value::Object(object)
            })
            .collect(),
    };
    let mut configuration = Map::new();
    if let Some(description) = &definition.description {
        configuration.insert("description".to_owned(), Value::from(description.as_str()));
    }
    configuration.insert("metrics".to_owned(), Value::Array(metrics));
    json!({
        "version": "0",
        "id": id,
        "detail-type": "CloudWatch Alarm State Change",
        "source": "aws.cloudwatch",
        "account": place.account,
        "time": alarm.state_updated.to_iso_seconds(),
        "region": place.region,
        "resources": [alarm.arn],
        "detail": {
            "alarmName": definition.name,
            "state": state_json(
                alarm.state,
                &alarm.reason,
                alarm.reason_data.as_deref(),
                alarm.state_updated,
            ),
            "previousState": state_json(
                previous.state,
                &previous.reason,
                previous.reason_data.as_deref(),
                previous.since,
            ),
            "configuration": Value::Object(configuration),
        },
    })
}

fn event_metric_stat(metric: &MetricQuery) -> Value {
    let dimensions: Map<String, Value> = metric
        .dimensions
        .iter()
        .map(|d| (d.name.clone(), Value::from(d.value.as_str())))
        .collect();
    let mut stat = json!({
        "metric": {
            "dimensions": dimensions,
            "name": metric.metric_name,
            "namespace": metric.namespace,
        },
        "period": metric.period,
        "stat": metric.statistic.name(),
    });
    if let (Some(unit), Some(object)) = (&metric.unit, stat.as_object_mut()) {
        object.insert("unit".to_owned(), Value::from(unit.as_str()));
    }
    stat
}

/// `{"value", "reason", "reasonData" (a JSON string, when there is one), "timestamp"}`.
fn state_json(state: AlarmState, reason: &str, reason_data: Option<&str>, at: SimTime) -> Value {
    let mut object = Map::new();
    object.insert("value".to_owned(), Value::from(state.as_str()));
    object.insert("reason".to_owned(), Value::from(reason));
    if let Some(data) = reason_data {
        object.insert("reasonData".to_owned(), Value::from(data));
    }
    object.insert("timestamp".to_owned(), Value::from(cloudwatch_time(at)));
    Value::Object(object)
}
