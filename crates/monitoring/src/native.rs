//! Agents' native reports as CloudWatch metrics.
//!
//! A report carries a second's exact counts by outcome and its latency histograms; it
//! becomes, in the namespace [`NAMESPACE`], at the report's start:
//! - `Success` and `Error`: one value per completed request, 1 for its own outcome and
//!   0 for the other (so, as with the walkthrough's test script, `Sum` counts requests
//!   and `Average(Error)` is the error rate), unit `Count`;
//! - `Latency`: the actual-send latency histogram in milliseconds, merged exactly, so
//!   percentiles over any set of instances come from merged histograms.
//!
//! Each is recorded once per dimension set: none (the whole run), `FleetId`,
//! `InstanceId`, `InstanceType` and `AvailabilityZone` (those the report knows), at
//! one-second resolution.

use agent_wire::Report;
use watch::metrics::{Aggregate, MetricId, Resolution, Sample, Unit};

use crate::cloudwatch::metrics::Metrics;

/// The namespace of the agents' metrics.
pub const NAMESPACE: &str = "spotlab";

/// Records one report (already known to be new).
pub fn record(metrics: &mut Metrics, report: &Report) {
    let counts = &report.counts;
    let completed = counts.completed();
    let errors = counts.errors();
    let at = report.start;
    let source = &report.source;
    let mut dimension_sets: Vec<Option<(&str, &str)>> = vec![None];
    let known = [
        ("FleetId", source.fleet_id.as_deref()),
        ("InstanceId", source.instance_id.as_deref()),
        ("InstanceType", source.instance_type.as_deref()),
        ("AvailabilityZone", source.availability_zone.as_deref()),
    ];
    dimension_sets.extend(
        known
            .iter()
            .filter_map(|(name, value)| value.map(|value| Some((*name, value)))),
    );
    let mut aggregates: Vec<(&str, Unit, Aggregate)> = Vec::new();
    if completed > 0 {
        // Counts are far below 2^53, so the conversions are exact.
        let counts_of = |ok: f64, failed: f64| [ok, failed];
        let values_success = [1.0, 0.0];
        let values_error = [0.0, 1.0];
        let weights = counts_of((completed - errors) as f64, errors as f64);
        for (name, values) in [("Success", &values_success), ("Error", &values_error)] {
            if let Ok(aggregate) = Aggregate::from_sample(&Sample::Values {
                values,
                counts: Some(&weights),
            }) {
                aggregates.push((name, Unit::Count, aggregate));
            }
        }
    }
    let histogram = report.latency_actual.histogram();
    if !histogram.is_empty()
        && let Ok(aggregate) = Aggregate::from_sample(&Sample::Histogram {
            histogram,
            scale: 0.001,
        })
    {
        aggregates.push(("Latency", Unit::Milliseconds, aggregate));
    }
    for (name, unit, aggregate) in &aggregates {
        for dimensions in &dimension_sets {
            let mut metric = MetricId::new(NAMESPACE, *name);
            if let Some((key, value)) = dimensions {
                metric = metric.with_dimension(*key, *value);
            }
            metrics.record_aggregate(&metric, *unit, Resolution::High, at, aggregate);
        }
    }
}
