//! GetMetricStatistics (fact sheet 2.3).

use serde_json::{Map, Value, json};
use simtime::SimTime;
use watch::metrics::{
    Detail, ExtendedStatistic, MetricId, Query, Statistic, Store, align_start, period_allowed,
};

use super::input::{
    check_size, dimensions, double_json, invalid, item, list, object, period, required_string,
    required_timestamp, thousands, timestamp_json, unit,
};
use super::put::check_namespace;
use crate::ApiError;

/// Datapoints one call may return.
pub(super) const MAX_DATAPOINTS: u64 = 1_440;

/// `Statistics` xor `ExtendedStatistics`, parsed.
fn statistics(input: &Map<String, Value>) -> Result<Vec<Statistic>, ApiError> {
    let basic = list(input, "Statistics", "")?.filter(|l| !l.is_empty());
    let extended = list(input, "ExtendedStatistics", "")?.filter(|l| !l.is_empty());
    match (basic, extended) {
        (Some(_), Some(_)) | (None, None) => Err(ApiError::invalid_combination(
            "Must specify either Statistics or ExtendedStatistics, but not both.",
        )),
        (Some(names), None) => {
            check_size(names.len(), 5, "Statistics")?;
            names
                .iter()
                .enumerate()
                .map(|(i, name)| {
                    let field = item("Statistics", i);
                    name.as_str()
                        .and_then(Statistic::parse_basic)
                        .ok_or_else(|| invalid(name.as_str().unwrap_or_default(), &field))
                })
                .collect()
        }
        (None, Some(names)) => {
            check_size(names.len(), 10, "ExtendedStatistics")?;
            names
                .iter()
                .enumerate()
                .map(|(i, name)| {
                    let field = item("ExtendedStatistics", i);
                    let text = name.as_str().unwrap_or_default();
                    ExtendedStatistic::parse(text)
                        .map(Statistic::Extended)
                        .map_err(|_| invalid(text, &field))
                })
                .collect()
        }
    }
}

/// Number of buckets from `start` to `end` at `period` seconds, rounded up.
pub(super) fn bucket_count(start: SimTime, end: SimTime, period_seconds: u32) -> u64 {
    let span = end.saturating_since(start).as_millis();
    span.div_ceil(u64::from(period_seconds) * 1_000)
}

pub(super) fn get_metric_statistics(
    store: &Store,
    input: &Value,
    now: SimTime,
) -> Result<Value, ApiError> {
    let input = object(input, "")?;
    let namespace = required_string(input, "Namespace", "")?;
    let name = required_string(input, "MetricName", "")?;
    let start = required_timestamp(input, "StartTime", "")?;
    let end = required_timestamp(input, "EndTime", "")?;
    let period = period(input, "Period", "")?.ok_or_else(|| ApiError::missing("Period"))?;
    check_namespace(namespace, "Namespace")?;
    let statistics = statistics(input)?;
    let metric = MetricId {
        namespace: namespace.to_owned(),
        name: name.to_owned(),
        dimensions: dimensions(input, "Dimensions", "", 30)?,
    };
    let unit = unit(input, "Unit", "")?;
    if start >= end {
        return Err(ApiError::invalid_value(
            "The parameter StartTime must be less than the parameter EndTime.",
        ));
    }
    let start = align_start(start, now, period);
    let requested = bucket_count(start, end, period.seconds());
    if requested > MAX_DATAPOINTS {
        return Err(ApiError::invalid_combination(format!(
            "You have requested up to {} datapoints, which exceeds the limit of {}. You may \
             reduce the datapoints requested by increasing Period, or decreasing the time range.",
            thousands(requested),
            thousands(MAX_DATAPOINTS)
        )));
    }
    let mut datapoints = Vec::new();
    if period_allowed(start, now, period) {
        let detail = if statistics.iter().any(Statistic::is_extended) {
            Detail::Distribution
        } else {
            Detail::Summary
        };
        let query = Query {
            metric: &metric,
            unit,
            start,
            end,
            period,
        };
        for point in store.datapoints(&query, detail) {
            let mut out = Map::new();
            let mut extended = Map::new();
            for statistic in &statistics {
                let Some(value) = point.aggregate.statistic(statistic) else {
                    continue;
                };
                match statistic {
                    Statistic::Extended(e) => {
                        extended.insert(e.as_str().to_owned(), double_json(value));
                    }
                    basic => {
                        out.insert(basic.as_str().to_owned(), double_json(value));
                    }
                }
            }
            if out.is_empty() && extended.is_empty() {
                continue;
            }
            out.insert("Timestamp".into(), timestamp_json(point.timestamp));
            out.insert("Unit".into(), json!(point.unit.as_str()));
            if !extended.is_empty() {
                out.insert("ExtendedStatistics".into(), Value::Object(extended));
            }
            datapoints.push(Value::Object(out));
        }
    }
    Ok(json!({"Label": name, "Datapoints": datapoints}))
}
