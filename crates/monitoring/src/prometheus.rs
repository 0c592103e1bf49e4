//! The current CloudWatch series in Prometheus's text exposition format.
//!
//! Every series with data in the last minute before `now` is one sample of each of the
//! gauges `cloudwatch_sample_count`, `cloudwatch_sum`, `cloudwatch_minimum`,
//! `cloudwatch_maximum` and `cloudwatch_average`, over that minute, labelled with
//! `namespace`, `metric_name`, `unit` and one `dim_<Name>` label per dimension (names
//! made safe for Prometheus: anything outside `[A-Za-z0-9_]` becomes `_`).

use std::fmt::Write as _;

use simtime::SimTime;
use watch::metrics::{Detail, ListFilter, MetricId, Period, Query, Store};

/// The window each sample summarises.
const WINDOW_SECONDS: u64 = 60;

const GAUGES: [(&str, &str); 5] = [
    (
        "cloudwatch_sample_count",
        "Values received in the last minute, per CloudWatch series.",
    ),
    (
        "cloudwatch_sum",
        "Sum of the values received in the last minute, per CloudWatch series.",
    ),
    (
        "cloudwatch_minimum",
        "Smallest value received in the last minute, per CloudWatch series.",
    ),
    (
        "cloudwatch_maximum",
        "Largest value received in the last minute, per CloudWatch series.",
    ),
    (
        "cloudwatch_average",
        "Average of the values received in the last minute, per CloudWatch series.",
    ),
];

/// The exposition of `store` at `now`.
pub fn exposition(store: &Store, now: SimTime) -> String {
    let end_seconds = now.as_millis() / 1_000 + 1;
    let start_seconds = end_seconds.saturating_sub(WINDOW_SECONDS);
    let start = SimTime::from_millis(start_seconds * 1_000);
    let end = SimTime::from_millis(end_seconds * 1_000);
    let filter = ListFilter {
        active_since: Some(start),
        ..ListFilter::default()
    };
    let mut rows: [Vec<String>; 5] = Default::default();
    let Some(period) = u32::try_from(WINDOW_SECONDS)
        .ok()
        .and_then(Period::from_seconds)
    else {
        return String::new();
    };
    for metric in store.list(&filter, None) {
        let Some(info) = store.info(metric) else {
            continue;
        };
        for unit in info.units {
            let query = Query {
                metric,
                unit: Some(unit),
                start,
                end,
                period,
            };
            let Some(point) = store.datapoints(&query, Detail::Summary).into_iter().last() else {
                continue;
            };
            let aggregate = &point.aggregate;
            let labels = labels(metric, unit.as_str());
            let values = [
                Some(aggregate.sample_count()),
                Some(aggregate.sum()),
                aggregate.minimum(),
                aggregate.maximum(),
                aggregate.average(),
            ];
            for (row, value) in rows.iter_mut().zip(values) {
                if let Some(value) = value {
                    row.push(format!("{{{labels}}} {}", number(value)));
                }
            }
        }
    }
    let mut out = String::new();
    for ((name, help), samples) in GAUGES.iter().zip(rows) {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} gauge");
        for sample in samples {
            let _ = writeln!(out, "{name}{sample}");
        }
    }
    out
}

fn labels(metric: &MetricId, unit: &str) -> String {
    let mut labels = format!(
        "namespace=\"{}\",metric_name=\"{}\",unit=\"{}\"",
        escape(&metric.namespace),
        escape(&metric.name),
        escape(unit)
    );
    for (name, value) in &metric.dimensions {
        let name: String = name
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        let _ = write!(labels, ",dim_{name}=\"{}\"", escape(value));
    }
    labels
}

/// A label value escaped as the format requires.
fn escape(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn number(value: f64) -> String {
    if value.is_finite() {
        format!("{value}")
    } else if value.is_nan() {
        "NaN".to_owned()
    } else if value > 0.0 {
        "+Inf".to_owned()
    } else {
        "-Inf".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use watch::metrics::{Resolution, Retention, Sample, Unit};

    #[test]
    fn the_last_minute_of_each_series_with_its_dimensions() {
        let mut store = Store::new(Retention::default());
        let now = SimTime::from_millis(1_800_000_000_000);
        let metric = MetricId::new("spotlab", "Error").with_dimension("Fleet-Id", "fleet-1\"x");
        for (seconds_ago, value) in [(5u64, 1.0), (10, 0.0), (120, 1.0)] {
            store
                .record(
                    &metric,
                    Unit::Count,
                    Resolution::High,
                    SimTime::from_millis(now.as_millis() - seconds_ago * 1_000),
                    &Sample::Value(value),
                )
                .expect("record");
        }
        let text = exposition(&store, now);
        let labels =
            r#"{namespace="spotlab",metric_name="Error",unit="Count",dim_Fleet_Id="fleet-1\"x"}"#;
        assert!(
            text.contains(&format!("cloudwatch_sample_count{labels} 2\n")),
            "{text}"
        );
        assert!(
            text.contains(&format!("cloudwatch_sum{labels} 1\n")),
            "{text}"
        );
        assert!(
            text.contains(&format!("cloudwatch_average{labels} 0.5\n")),
            "{text}"
        );
        assert!(text.contains("# TYPE cloudwatch_maximum gauge\n"));
    }
}
