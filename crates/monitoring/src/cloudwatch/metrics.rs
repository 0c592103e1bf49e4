//! CloudWatch's metric calls over [`watch::metrics::Store`]: PutMetricData,
//! GetMetricStatistics, GetMetricData, ListMetrics, on JSON named by the model's members.
//!
//! Besides the calls, [`Metrics`] offers the control plane two doors that skip JSON:
//!
//! - **ingest**: [`Metrics::record`] / [`Metrics::record_aggregate`] store a sample
//!   (value, values with counts, statistic set, or an HdrHistogram with a scale factor)
//!   for a metric directly, e.g. the agent's native per-second reports. To publish one
//!   histogram under several dimension sets (fleet, instance, type, zone, all), build
//!   the [`Aggregate`] once with [`Aggregate::from_sample`] and record it under each id:
//!   merges are exact, so fleet-wide percentiles come from the merged histograms.
//! - **alarms**: [`Metrics::alarm_series`] returns an alarm's datapoints over
//!   `[start, end)` for a single metric ([`AlarmQuery::Metric`]) or a metric-math alarm
//!   ([`AlarmQuery::Math`], a [`MetricQueries`] checked once with
//!   [`MetricQueries::parse`] at PutMetricAlarm), buckets stepping by the period from
//!   `start` exactly (no rounding: the alarm chooses its window).
//!
//! Validation follows fact sheet 2.1-2.4; every refusal is an [`ApiError`] with the query
//! code (`InvalidParameterValue`, `InvalidParameterCombination`, `MissingParameter`,
//! `InvalidNextToken`) and a message in AWS's style.

mod data;
mod input;
mod list;
mod put;
mod statistics;

use serde_json::{Value, json};
use simtime::SimTime;
use watch::metrics::{
    Aggregate, Detail, MetricId, Query, Resolution, Retention, Sample, SampleError, Store, Unit,
};

pub use data::{MetricDataQuery, MetricQueries, MetricQuery, QueryKind};

use crate::ApiError;

/// What an alarm watches.
#[derive(Clone, Debug, PartialEq)]
pub enum AlarmQuery {
    /// One metric with a statistic (or extended statistic), period and unit.
    Metric(MetricQuery),
    /// A metric-math alarm's `Metrics`: exactly one query has ReturnData and it must
    /// yield a single series.
    Math(MetricQueries),
}

/// One datapoint an alarm evaluates.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AlarmDatapoint {
    /// Start of the period.
    pub timestamp: SimTime,
    /// The statistic's (or expression's) value.
    pub value: f64,
    /// Number of values behind it (single-metric alarms; `None` for math), for
    /// StateReasonData and the low-sample percentile rule.
    pub sample_count: Option<f64>,
}

/// CloudWatch's metric state and calls.
#[derive(Clone, Debug, Default)]
pub struct Metrics {
    /// Every series.
    store: Store,
}

impl Metrics {
    /// Empty metrics keeping data as `retention` says.
    pub fn new(retention: Retention) -> Metrics {
        Metrics {
            store: Store::new(retention),
        }
    }

    /// The store, for reads (Prometheus exposition, diagnostics).
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Stores `sample` for `metric` at `at`, skipping PutMetricData's checks (the
    /// caller's data is trusted; only the sample's own invariants are checked).
    pub fn record(
        &mut self,
        metric: &MetricId,
        unit: Unit,
        resolution: Resolution,
        at: SimTime,
        sample: &Sample<'_>,
    ) -> Result<(), SampleError> {
        self.store.record(metric, unit, resolution, at, sample)
    }

    /// Stores an aggregate built once (e.g. from one histogram) for `metric` at `at`.
    pub fn record_aggregate(
        &mut self,
        metric: &MetricId,
        unit: Unit,
        resolution: Resolution,
        at: SimTime,
        aggregate: &Aggregate,
    ) {
        self.store
            .record_aggregate(metric, unit, resolution, at, aggregate);
    }

    /// Applies retention at `now` (see [`Store::expire`]).
    pub fn expire(&mut self, now: SimTime) {
        self.store.expire(now);
    }

    /// PutMetricData: validates the whole call, then stores every datum (datums without
    /// `Timestamp` at `now`). Returns `{}`.
    pub fn put_metric_data(&mut self, input: &Value, now: SimTime) -> Result<Value, ApiError> {
        let datums = put::validate(input, now)?;
        for datum in &datums {
            self.store
                .record(
                    &datum.metric,
                    datum.unit,
                    datum.resolution,
                    datum.at,
                    &datum.sample(),
                )
                .map_err(|error| ApiError::invalid_value(error.to_string()))?;
        }
        Ok(json!({}))
    }

    /// GetMetricStatistics: `{"Label", "Datapoints": [{"Timestamp", "Unit", stats...,
    /// "ExtendedStatistics": {...}}]}`, oldest first.
    pub fn get_metric_statistics(&self, input: &Value, now: SimTime) -> Result<Value, ApiError> {
        statistics::get_metric_statistics(&self.store, input, now)
    }

    /// GetMetricData: `{"MetricDataResults": [{"Id", "Label", "Timestamps", "Values",
    /// "StatusCode", "Messages"}], "Messages", "NextToken"?}`.
    pub fn get_metric_data(&self, input: &Value, now: SimTime) -> Result<Value, ApiError> {
        data::get_metric_data(&self.store, input, now)
    }

    /// ListMetrics: `{"Metrics": [{"Namespace", "MetricName", "Dimensions"}],
    /// "NextToken"?}`; metrics without data in the last two weeks are not listed.
    pub fn list_metrics(&self, input: &Value, now: SimTime) -> Result<Value, ApiError> {
        list::list_metrics(&self.store, input, now)
    }

    /// An alarm's datapoints over `[start, end)`, oldest first, empty periods absent.
    pub fn alarm_series(
        &self,
        query: &AlarmQuery,
        start: SimTime,
        end: SimTime,
    ) -> Result<Vec<AlarmDatapoint>, ApiError> {
        match query {
            AlarmQuery::Metric(metric) => {
                let detail = if metric.statistic.is_extended() {
                    Detail::Distribution
                } else {
                    Detail::Summary
                };
                let query = Query {
                    metric: &metric.metric,
                    unit: metric.unit,
                    start,
                    end,
                    period: metric.period,
                };
                Ok(self
                    .store
                    .aggregates(&query, detail)
                    .into_iter()
                    .filter_map(|(timestamp, aggregate)| {
                        aggregate
                            .statistic(&metric.statistic)
                            .map(|value| AlarmDatapoint {
                                timestamp,
                                value,
                                sample_count: Some(aggregate.sample_count()),
                            })
                    })
                    .collect())
            }
            AlarmQuery::Math(queries) => {
                let returned = queries.queries().iter().filter(|q| q.return_data).count();
                if returned != 1 {
                    return Err(ApiError::invalid_value(
                        "Exactly one element of the Metrics list must have ReturnData set to true.",
                    ));
                }
                let outputs =
                    data::evaluate(&self.store, queries, start, end, data::Window::Exact)?;
                match outputs.as_slice() {
                    [output] => Ok(output
                        .series
                        .points
                        .iter()
                        .map(|&(timestamp, value)| AlarmDatapoint {
                            timestamp,
                            value,
                            sample_count: None,
                        })
                        .collect()),
                    _ => Err(ApiError::invalid_value(
                        "The expression of a metric math alarm must return a single time series.",
                    )),
                }
            }
        }
    }
}
