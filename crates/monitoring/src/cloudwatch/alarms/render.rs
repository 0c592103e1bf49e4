//! A [`Definition`] written back out: the configuration members of DescribeAlarms'
//! `MetricAlarm`, the `Metrics` list, and the camelCase configuration of
//! `ConfigurationUpdate` history items (keys in AWS's order, `okactions` included).

use serde::Serialize;
use serde_json::{Map, Value};
use watch::alarm::{LowSampleCount, TreatMissingData};

use super::Dimension;
use super::Statistic;
use super::definition::{Definition, Query, Target};

impl Definition {
    /// Writes the configuration members of a `MetricAlarm` into `out`.
    pub(super) fn describe_into(&self, out: &mut Map<String, Value>) {
        let mut put = |key: &str, value: Value| {
            out.insert(key.to_owned(), value);
        };
        put("AlarmName", Value::from(self.name.as_str()));
        if let Some(description) = &self.description {
            put("AlarmDescription", Value::from(description.as_str()));
        }
        put("ActionsEnabled", Value::from(self.actions_enabled));
        put("OKActions", Value::from(self.ok_actions.clone()));
        put("AlarmActions", Value::from(self.alarm_actions.clone()));
        put(
            "InsufficientDataActions",
            Value::from(self.insufficient_data_actions.clone()),
        );
        match &self.target {
            Target::Metric(metric) => {
                put("MetricName", Value::from(metric.metric_name.as_str()));
                put("Namespace", Value::from(metric.namespace.as_str()));
                match &metric.statistic {
                    Statistic::Standard(name) => put("Statistic", Value::from(name.as_str())),
                    Statistic::Extended(name) => {
                        put("ExtendedStatistic", Value::from(name.as_str()))
                    }
                }
                put("Dimensions", dimensions_json(&metric.dimensions));
                put("Period", Value::from(metric.period));
                if let Some(unit) = &metric.unit {
                    put("Unit", Value::from(unit.as_str()));
                }
            }
            Target::Math { queries, .. } => {
                put("Dimensions", Value::Array(Vec::new()));
                put("Metrics", queries_json(queries));
            }
        }
        put("EvaluationPeriods", Value::from(self.evaluation_periods));
        if let Some(m) = self.datapoints_to_alarm {
            put("DatapointsToAlarm", Value::from(m));
        }
        if let Some(threshold) = self.threshold {
            put("Threshold", Value::from(threshold));
        }
        if let Some(id) = &self.threshold_metric_id {
            put("ThresholdMetricId", Value::from(id.as_str()));
        }
        put("ComparisonOperator", Value::from(self.operator.as_str()));
        if let Some(treatment) = self.treat_missing_data {
            put("TreatMissingData", Value::from(treatment.as_str()));
        }
        if let Some(low) = self.low_sample_count {
            put(
                "EvaluateLowSampleCountPercentile",
                Value::from(low.as_str()),
            );
        }
        for (key, value) in &self.extras {
            put(key, value.clone());
        }
    }

    /// The camelCase configuration in history items (`createdAlarm`, ...), as JSON text
    /// with the keys in AWS's order.
    pub(super) fn history_json(&self, state: &HistoryState<'_>) -> String {
        let (namespace, metric_name, statistic, extended_statistic, period, dimensions, unit) =
            match &self.target {
                Target::Metric(metric) => (
                    Some(metric.namespace.as_str()),
                    Some(metric.metric_name.as_str()),
                    match &metric.statistic {
                        Statistic::Standard(name) => Some(name.as_str()),
                        Statistic::Extended(_) => None,
                    },
                    match &metric.statistic {
                        Statistic::Extended(name) => Some(name.as_str()),
                        Statistic::Standard(_) => None,
                    },
                    Some(metric.period),
                    Some(
                        metric
                            .dimensions
                            .iter()
                            .map(|d| LowerDimension {
                                value: &d.value,
                                name: &d.name,
                            })
                            .collect(),
                    ),
                    metric.unit.as_deref(),
                ),
                Target::Math { .. } => (None, None, None, None, None, None, None),
            };
        let metrics = match &self.target {
            Target::Math { queries, .. } => Some(camel_queries(queries)),
            Target::Metric(_) => None,
        };
        let document = HistoryAlarm {
            alarm_name: &self.name,
            alarm_description: self.description.as_deref(),
            alarm_arn: state.arn,
            alarm_configuration_updated_timestamp: state.configuration_updated.clone(),
            namespace,
            metric_name,
            statistic,
            extended_statistic,
            period,
            dimensions,
            unit,
            metrics,
            threshold: self.threshold,
            threshold_metric_id: self.threshold_metric_id.as_deref(),
            comparison_operator: self.operator.as_str(),
            evaluation_periods: self.evaluation_periods,
            datapoints_to_alarm: self.datapoints_to_alarm,
            treat_missing_data: self.treat_missing_data.map(TreatMissingData::as_str),
            evaluate_low_sample_count_percentile: self.low_sample_count.map(LowSampleCount::as_str),
            state_value: state.state_value,
            state_updated_timestamp: state.state_updated.clone(),
            actions_enabled: self.actions_enabled,
            alarm_actions: &self.alarm_actions,
            insufficient_data_actions: &self.insufficient_data_actions,
            okactions: &self.ok_actions,
        };
        // Serialising strings, numbers and JSON values cannot fail.
        serde_json::to_string(&document).unwrap_or_default()
    }
}

/// The alarm's state as history items print it alongside its configuration.
pub(super) struct HistoryState<'a> {
    pub(super) arn: &'a str,
    pub(super) configuration_updated: String,
    pub(super) state_value: &'a str,
    pub(super) state_updated: String,
}

/// `createdAlarm` / `originalAlarm` / `updatedAlarm` / `deletedAlarm` (AWS writes
/// `okactions` in lower case).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct HistoryAlarm<'a> {
    alarm_name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    alarm_description: Option<&'a str>,
    alarm_arn: &'a str,
    alarm_configuration_updated_timestamp: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    namespace: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    metric_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    statistic: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    extended_statistic: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    period: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dimensions: Option<Vec<LowerDimension<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    unit: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    metrics: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    threshold: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    threshold_metric_id: Option<&'a str>,
    comparison_operator: &'a str,
    evaluation_periods: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    datapoints_to_alarm: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    treat_missing_data: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    evaluate_low_sample_count_percentile: Option<&'a str>,
    state_value: &'a str,
    state_updated_timestamp: String,
    actions_enabled: bool,
    alarm_actions: &'a [String],
    insufficient_data_actions: &'a [String],
    okactions: &'a [String],
}

/// `{"value": …, "name": …}`, the order CloudWatch's own documents use.
#[derive(Serialize)]
pub(super) struct LowerDimension<'a> {
    pub(super) value: &'a str,
    pub(super) name: &'a str,
}

/// `[{"Name": …, "Value": …}]` as the API returns dimensions.
pub(super) fn dimensions_json(dimensions: &[Dimension]) -> Value {
    Value::Array(
        dimensions
            .iter()
            .map(|d| {
                let mut object = Map::new();
                object.insert("Name".to_owned(), Value::from(d.name.as_str()));
                object.insert("Value".to_owned(), Value::from(d.value.as_str()));
                Value::Object(object)
            })
            .collect(),
    )
}

/// The `Metrics` list as the API returns it (ReturnData always written).
pub(super) fn queries_json(queries: &[Query]) -> Value {
    Value::Array(
        queries
            .iter()
            .map(|query| {
                let mut object = Map::new();
                object.insert("Id".to_owned(), Value::from(query.id.as_str()));
                if let Some(stat) = &query.metric_stat {
                    let mut metric = Map::new();
                    metric.insert("Namespace".to_owned(), Value::from(stat.namespace.as_str()));
                    metric.insert(
                        "MetricName".to_owned(),
                        Value::from(stat.metric_name.as_str()),
                    );
                    metric.insert("Dimensions".to_owned(), dimensions_json(&stat.dimensions));
                    let mut metric_stat = Map::new();
                    metric_stat.insert("Metric".to_owned(), Value::Object(metric));
                    metric_stat.insert("Period".to_owned(), Value::from(stat.period));
                    metric_stat.insert("Stat".to_owned(), Value::from(stat.statistic.name()));
                    if let Some(unit) = &stat.unit {
                        metric_stat.insert("Unit".to_owned(), Value::from(unit.as_str()));
                    }
                    object.insert("MetricStat".to_owned(), Value::Object(metric_stat));
                }
                if let Some(expression) = &query.expression {
                    object.insert("Expression".to_owned(), Value::from(expression.as_str()));
                }
                if let Some(label) = &query.label {
                    object.insert("Label".to_owned(), Value::from(label.as_str()));
                }
                if let Some(period) = query.period {
                    object.insert("Period".to_owned(), Value::from(period));
                }
                if let Some(account) = &query.account_id {
                    object.insert("AccountId".to_owned(), Value::from(account.as_str()));
                }
                object.insert("ReturnData".to_owned(), Value::from(query.return_data));
                Value::Object(object)
            })
            .collect(),
    )
}

/// The `Metrics` list in camelCase, for history items.
fn camel_queries(queries: &[Query]) -> Value {
    Value::Array(
        queries
            .iter()
            .map(|query| {
                let mut object = Map::new();
                object.insert("id".to_owned(), Value::from(query.id.as_str()));
                if let Some(stat) = &query.metric_stat {
                    let dimensions: Vec<Value> = stat
                        .dimensions
                        .iter()
                        .map(|d| serde_json::json!({"name": d.name, "value": d.value}))
                        .collect();
                    object.insert(
                        "metricStat".to_owned(),
                        serde_json::json!({
                            "metric": {
                                "namespace": stat.namespace,
                                "metricName": stat.metric_name,
                                "dimensions": dimensions,
                            },
                            "period": stat.period,
                            "stat": stat.statistic.name(),
                        }),
                    );
                }
                if let Some(expression) = &query.expression {
                    object.insert("expression".to_owned(), Value::from(expression.as_str()));
                }
                if let Some(label) = &query.label {
                    object.insert("label".to_owned(), Value::from(label.as_str()));
                }
                if let Some(period) = query.period {
                    object.insert("period".to_owned(), Value::from(period));
                }
                object.insert("returnData".to_owned(), Value::from(query.return_data));
                Value::Object(object)
            })
            .collect(),
    )
}
