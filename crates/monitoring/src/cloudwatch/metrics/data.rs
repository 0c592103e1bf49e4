//! GetMetricData (fact sheet 2.4) and the query sets alarms share with it:
//! [`MetricQueries`] (a checked `MetricDataQuery` list), their evaluation over the store,
//! and pagination.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};
use simtime::SimTime;
use watch::math::{self, Expr, Grid};
use watch::metrics::{
    MetricId, Period, Query, Series, Statistic, Store, Unit, align_start, period_allowed,
};

use super::input::{
    boolean, check_length, check_size, dimensions, double_json, integer, invalid, item, member,
    object, object_at, path, period, required_string, required_timestamp, string, timestamp_json,
    unit,
};
use super::put::check_namespace;
use crate::ApiError;

/// Queries per GetMetricData call.
const MAX_QUERIES: usize = 500;
/// Default `MaxDatapoints`.
const DEFAULT_MAX_DATAPOINTS: u64 = 100_800;
/// Longest expression.
const MAX_EXPRESSION: usize = 2_048;

/// A single-metric query: `MetricStat`, or an alarm's Namespace/MetricName/Dimensions/
/// Statistic/Period/Unit.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricQuery {
    /// The metric (dimension set matched exactly).
    pub metric: MetricId,
    /// Basic or extended statistic.
    pub statistic: Statistic,
    /// Bucket width.
    pub period: Period,
    /// Only data stored with this unit, if given.
    pub unit: Option<Unit>,
}

/// What a `MetricDataQuery` computes.
#[derive(Clone, Debug, PartialEq)]
pub enum QueryKind {
    /// `MetricStat`.
    Metric(MetricQuery),
    /// `Expression`, with its text and parse.
    Expression {
        /// As given.
        text: String,
        /// Parsed.
        expr: Expr,
    },
}

/// One checked `MetricDataQuery`.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricDataQuery {
    /// `Id`: unique, letters, digits and `_`, first a lower-case letter.
    pub id: String,
    /// What it computes.
    pub kind: QueryKind,
    /// `Label`, if given.
    pub label: Option<String>,
    /// `ReturnData` (default true).
    pub return_data: bool,
    /// `Period` (used by expressions; MetricStat carries its own).
    pub period: Option<Period>,
}

impl MetricDataQuery {
    /// The label results carry: the given one, else the metric name (MetricStat) or the
    /// id (expressions).
    pub fn label(&self) -> &str {
        match (&self.label, &self.kind) {
            (Some(label), _) => label,
            (None, QueryKind::Metric(query)) => &query.metric.name,
            (None, QueryKind::Expression { .. }) => &self.id,
        }
    }
}

/// A checked `MetricDataQueries` list (GetMetricData) or `Metrics` list (PutMetricAlarm).
///
/// Parse it once ([`MetricQueries::parse`]), then evaluate it as often as needed with
/// [`super::Metrics::alarm_series`].
#[derive(Clone, Debug, PartialEq)]
pub struct MetricQueries {
    queries: Vec<MetricDataQuery>,
}

fn valid_id(id: &str) -> bool {
    id.starts_with(|c: char| c.is_ascii_lowercase())
        && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl MetricQueries {
    /// Checks a JSON list of `MetricDataQuery` named `name` in messages (e.g.
    /// `MetricDataQueries` or `Metrics`): ids, exactly one of MetricStat and Expression,
    /// statistics, periods, units, expressions that parse and refer to known ids.
    pub fn parse(list_value: &Value, name: &str) -> Result<MetricQueries, ApiError> {
        let Value::Array(items) = list_value else {
            return Err(ApiError::missing(name));
        };
        if items.is_empty() {
            return Err(ApiError::missing(name));
        }
        check_size(items.len(), MAX_QUERIES, name)?;
        let mut queries = Vec::with_capacity(items.len());
        for (index, query) in items.iter().enumerate() {
            let query_path = item(name, index);
            let query = parse_query(object_at(query, &query_path)?, &query_path)?;
            if queries.iter().any(|q: &MetricDataQuery| q.id == query.id) {
                return Err(ApiError::invalid_value(format!(
                    "The values for parameter id in {name} are not unique."
                )));
            }
            queries.push(query);
        }
        for query in &queries {
            if let QueryKind::Expression { expr, .. } = &query.kind {
                for reference in expr.references() {
                    if !queries.iter().any(|q| q.id == reference) {
                        return Err(ApiError::invalid_value(format!(
                            "Error in expression {}: Unrecognized metric identifier {reference}.",
                            query.id
                        )));
                    }
                }
            }
        }
        Ok(MetricQueries { queries })
    }

    /// The queries in request order.
    pub fn queries(&self) -> &[MetricDataQuery] {
        &self.queries
    }
}

fn parse_query(query: &Map<String, Value>, prefix: &str) -> Result<MetricDataQuery, ApiError> {
    let id = required_string(query, "Id", prefix)?;
    check_length(id, 1, 255, &path(prefix, "Id"))?;
    if !valid_id(id) {
        return Err(invalid(id, &path(prefix, "Id")));
    }
    let stat = member(query, "MetricStat");
    let expression = string(query, "Expression", prefix)?;
    let kind = match (stat, expression) {
        (Some(_), Some(_)) | (None, None) => {
            return Err(ApiError::invalid_value(format!(
                "Exactly one element of the MetricStat or the Expression parameter must be \
                 specified in {prefix}."
            )));
        }
        (Some(stat), None) => {
            let stat_path = path(prefix, "MetricStat");
            QueryKind::Metric(metric_stat(object_at(stat, &stat_path)?, &stat_path)?)
        }
        (None, Some(text)) => {
            let field = path(prefix, "Expression");
            check_length(text, 1, MAX_EXPRESSION, &field)?;
            let expr = math::parse(text).map_err(|error| {
                ApiError::invalid_value(format!("Error in expression {id}: {error}."))
            })?;
            QueryKind::Expression {
                text: text.to_owned(),
                expr,
            }
        }
    };
    Ok(MetricDataQuery {
        id: id.to_owned(),
        kind,
        label: string(query, "Label", prefix)?.map(str::to_owned),
        return_data: boolean(query, "ReturnData", prefix)?.unwrap_or(true),
        period: period(query, "Period", prefix)?,
    })
}

fn metric_stat(stat: &Map<String, Value>, prefix: &str) -> Result<MetricQuery, ApiError> {
    let metric_path = path(prefix, "Metric");
    let metric = object_at(
        member(stat, "Metric").ok_or_else(|| ApiError::missing(&metric_path))?,
        &metric_path,
    )?;
    let namespace = required_string(metric, "Namespace", &metric_path)?;
    check_namespace(namespace, &path(&metric_path, "Namespace"))?;
    let name = required_string(metric, "MetricName", &metric_path)?;
    let period = period(stat, "Period", prefix)?
        .ok_or_else(|| ApiError::missing(&path(prefix, "Period")))?;
    let stat_name = required_string(stat, "Stat", prefix)?;
    let statistic =
        Statistic::parse(stat_name).map_err(|_| invalid(stat_name, &path(prefix, "Stat")))?;
    Ok(MetricQuery {
        metric: MetricId {
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            dimensions: dimensions(metric, "Dimensions", &metric_path, 30)?,
        },
        statistic,
        period,
        unit: unit(stat, "Unit", prefix)?,
    })
}

/// How query start times are chosen.
#[derive(Clone, Copy, Debug)]
pub(super) enum Window {
    /// GetMetricData: each metric's start rounded as CloudWatch does at `now`, and no data
    /// for periods its age does not allow.
    Request { now: SimTime },
    /// Alarms: the start as given.
    Exact,
}

/// One result series of a query with ReturnData.
pub(super) struct Output<'q> {
    pub(super) query: &'q MetricDataQuery,
    /// The member id when an expression returned an array.
    pub(super) member: Option<String>,
    pub(super) series: Series,
}

/// Evaluates every query; returns the series of those with ReturnData, in order.
pub(super) fn evaluate<'q>(
    store: &Store,
    queries: &'q MetricQueries,
    start: SimTime,
    end: SimTime,
    window: Window,
) -> Result<Vec<Output<'q>>, ApiError> {
    let mut metrics: Vec<(String, Series)> = Vec::new();
    let mut expressions: Vec<(String, Expr)> = Vec::new();
    let mut grid_period: Option<Period> = None;
    for query in &queries.queries {
        match &query.kind {
            QueryKind::Metric(metric) => {
                grid_period = Some(grid_period.map_or(metric.period, |p| p.min(metric.period)));
                metrics.push((
                    query.id.clone(),
                    metric_series(store, metric, start, end, window),
                ));
            }
            QueryKind::Expression { expr, .. } => {
                expressions.push((query.id.clone(), expr.clone()));
            }
        }
    }
    let period = grid_period
        .or_else(|| queries.queries.iter().find_map(|q| q.period))
        .unwrap_or(Period::MINUTE);
    let grid = Grid {
        start: aligned(start, period, window),
        end,
        period,
    };
    let mut values = math::evaluate_all(&metrics, &expressions, &grid).map_err(|error| {
        ApiError::invalid_value(format!("Error in expression evaluation: {error}."))
    })?;
    let mut out = Vec::new();
    for query in &queries.queries {
        if !query.return_data {
            continue;
        }
        match &query.kind {
            QueryKind::Metric(_) => {
                let series = metrics
                    .iter()
                    .find(|(id, _)| *id == query.id)
                    .map(|(_, s)| s.clone())
                    .unwrap_or_default();
                out.push(Output {
                    query,
                    member: None,
                    series,
                });
            }
            QueryKind::Expression { .. } => {
                let value = values
                    .remove(&query.id)
                    .unwrap_or(math::Value::Series(Series::default()));
                for (member, series) in value.into_series(&grid) {
                    out.push(Output {
                        query,
                        member,
                        series,
                    });
                }
            }
        }
    }
    Ok(out)
}

fn aligned(start: SimTime, period: Period, window: Window) -> SimTime {
    match window {
        Window::Request { now } => align_start(start, now, period),
        Window::Exact => start,
    }
}

/// One metric query's series over [start, end).
pub(super) fn metric_series(
    store: &Store,
    metric: &MetricQuery,
    start: SimTime,
    end: SimTime,
    window: Window,
) -> Series {
    let start = aligned(start, metric.period, window);
    if let Window::Request { now } = window
        && !period_allowed(start, now, metric.period)
    {
        return Series::new(metric.period, Vec::new());
    }
    let query = Query {
        metric: &metric.metric,
        unit: metric.unit,
        start,
        end,
        period: metric.period,
    };
    store.series(&query, &metric.statistic)
}

fn encode_token(offset: u64) -> String {
    STANDARD.encode(format!("gmd:{offset}"))
}

fn decode_token(token: &str) -> Option<u64> {
    let bytes = STANDARD.decode(token).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    text.strip_prefix("gmd:")?.parse().ok()
}

pub(super) fn get_metric_data(
    store: &Store,
    input: &Value,
    now: SimTime,
) -> Result<Value, ApiError> {
    let input = object(input, "")?;
    let queries = MetricQueries::parse(
        member(input, "MetricDataQueries").unwrap_or(&Value::Null),
        "MetricDataQueries",
    )?;
    let start = required_timestamp(input, "StartTime", "")?;
    let end = required_timestamp(input, "EndTime", "")?;
    if start >= end {
        return Err(ApiError::invalid_value(
            "The parameter StartTime must be less than the parameter EndTime.",
        ));
    }
    let ascending = match string(input, "ScanBy", "")? {
        None | Some("TimestampDescending") => false,
        Some("TimestampAscending") => true,
        Some(other) => return Err(invalid(other, "ScanBy")),
    };
    let max = match integer(input, "MaxDatapoints", "")? {
        None => DEFAULT_MAX_DATAPOINTS,
        Some(n) => u64::try_from(n)
            .ok()
            .filter(|&n| n > 0)
            .ok_or_else(|| invalid(n, "MaxDatapoints"))?,
    };
    let offset = match string(input, "NextToken", "")? {
        None => 0,
        Some(token) => decode_token(token)
            .ok_or_else(|| ApiError::new("InvalidNextToken", "The NextToken is not valid."))?,
    };
    let outputs = evaluate(store, &queries, start, end, Window::Request { now })?;
    let total: u64 = outputs.iter().map(|o| o.series.points.len() as u64).sum();
    let page_end = offset.saturating_add(max).min(total);
    let mut seen = 0u64;
    let mut results = Vec::with_capacity(outputs.len());
    for output in outputs {
        let mut points = output.series.points;
        if !ascending {
            points.reverse();
        }
        let len = points.len() as u64;
        let from = offset.clamp(seen, seen + len) - seen;
        let to = page_end.clamp(seen, seen + len) - seen;
        seen += len;
        let page = &points[from as usize..to as usize];
        let label = match &output.member {
            Some(member) => format!("{} {member}", output.query.label()),
            None => output.query.label().to_owned(),
        };
        let status = if to < len { "PartialData" } else { "Complete" };
        results.push(json!({
            "Id": output.query.id,
            "Label": label,
            "Timestamps": page.iter().map(|p| timestamp_json(p.0)).collect::<Vec<_>>(),
            "Values": page.iter().map(|p| double_json(p.1)).collect::<Vec<_>>(),
            "StatusCode": status,
            "Messages": [],
        }));
    }
    let mut out = json!({"MetricDataResults": results, "Messages": []});
    if page_end < total {
        out["NextToken"] = json!(encode_token(page_end));
    }
    Ok(out)
}
