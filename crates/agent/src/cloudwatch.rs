//! Reports as CloudWatch `PutMetricData` datums, and those datums cut into calls within
//! CloudWatch's limits. Pure: the SDK call is in `sink/cloudwatch.rs`.
//!
//! A report becomes exactly what the local cloud derives from a native report
//! (`monitoring/src/native.rs`), so dashboards and alarms read the same on AWS:
//! - `Success` and `Error` (unit `Count`): `Values` `[1, 0]` and `[0, 1]`, both with
//!   `Counts` `[successful, failed]` completions, so `Sum` counts requests and `Average(Error)`
//!   is the error rate. A value whose count is zero is left out (same statistics, and
//!   no reliance on how a service treats zero counts);
//! - `Latency` (unit `Milliseconds`): the actual-send histogram's recorded buckets as
//!   `Values`/`Counts`, at most [`MAX_VALUES`] of them (adjacent buckets merged when there
//!   are more, counts kept exact);
//!
//! each once per dimension set: none, `FleetId`, `InstanceId`, `InstanceType`,
//! `AvailabilityZone` (those the report knows), at one-second resolution, stamped with
//! the report's start (virtual time; on AWS the scale is 1, so real time).
//!
//! This module does not know about the SDK, retries or time.

use agent_wire::Report;
use simtime::SimTime;

/// The namespace used when `--report cloudwatch` names none, the same as the local
/// cloud's native reports.
pub const DEFAULT_NAMESPACE: &str = "spotlab";
/// Most datums in one `PutMetricData` call.
pub const MAX_DATUMS: usize = 1_000;
/// Most distinct `Values` in one datum.
pub const MAX_VALUES: usize = 150;
/// Most estimated request bytes in one call: CloudWatch takes 1 MB; the estimate is for
/// the wordiest protocol (query), uncompressed, and the margin covers the envelope.
pub const MAX_PAYLOAD: usize = 900_000;

/// The unit of a datum.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// Requests.
    Count,
    /// Latency.
    Milliseconds,
}

/// One `MetricDatum`, in `Values`/`Counts` form.
#[derive(Clone, Debug, PartialEq)]
pub struct Datum {
    /// `Success`, `Error` or `Latency`.
    pub metric: &'static str,
    /// Its unit.
    pub unit: Unit,
    /// No dimension (the whole run) or one `(name, value)`.
    pub dimension: Option<(&'static str, String)>,
    /// The report's start.
    pub timestamp: SimTime,
    /// Distinct values; never empty, at most [`MAX_VALUES`].
    pub values: Vec<f64>,
    /// How many times each value occurred; same length as `values`, each > 0.
    pub counts: Vec<f64>,
}

/// A (value, count) pair.
type Bucket = (f64, f64);

/// The datums of one report: up to 3 metrics x 5 dimension sets.
pub fn datums(report: &Report) -> Vec<Datum> {
    let counts = &report.counts;
    let completed = counts.completed();
    let errors = counts.errors();
    let mut series: Vec<(&'static str, Unit, Vec<Bucket>)> = Vec::new();
    if completed > 0 {
        // Counts are far below 2^53, so the conversions are exact.
        let ok = (completed - errors) as f64;
        let failed = errors as f64;
        let nonzero = |pairs: [(f64, f64); 2]| -> Vec<(f64, f64)> {
            pairs
                .into_iter()
                .filter(|(_, count)| *count > 0.0)
                .collect()
        };
        series.push(("Success", Unit::Count, nonzero([(1.0, ok), (0.0, failed)])));
        series.push(("Error", Unit::Count, nonzero([(0.0, ok), (1.0, failed)])));
    }
    let buckets = latency_buckets(report);
    if !buckets.is_empty() {
        series.push((
            "Latency",
            Unit::Milliseconds,
            merge_buckets(&buckets, MAX_VALUES),
        ));
    }
    let source = &report.source;
    let mut dimensions: Vec<Option<(&'static str, String)>> = vec![None];
    let known = [
        ("FleetId", &source.fleet_id),
        ("InstanceId", &source.instance_id),
        ("InstanceType", &source.instance_type),
        ("AvailabilityZone", &source.availability_zone),
    ];
    dimensions.extend(
        known
            .into_iter()
            .filter_map(|(name, value)| value.clone().map(|value| Some((name, value)))),
    );
    let mut out = Vec::with_capacity(series.len() * dimensions.len());
    for (metric, unit, pairs) in &series {
        for dimension in &dimensions {
            out.push(Datum {
                metric,
                unit: *unit,
                dimension: dimension.clone(),
                timestamp: report.start,
                values: pairs.iter().map(|(value, _)| *value).collect(),
                counts: pairs.iter().map(|(_, count)| *count).collect(),
            });
        }
    }
    out
}

/// The actual-send latency histogram's recorded buckets as (milliseconds, count),
/// ascending, each valued as HdrHistogram iterates it (the bucket's highest equivalent
/// value), exactly as the local cloud reads a native report.
fn latency_buckets(report: &Report) -> Vec<(f64, f64)> {
    report
        .latency_actual
        .histogram()
        .iter_recorded()
        .map(|step| {
            (
                step.value_iterated_to() as f64 * 0.001,
                step.count_since_last_iteration() as f64,
            )
        })
        .collect()
}

/// At most `max` (value, count) pairs from ascending `buckets`: runs of adjacent buckets
/// of equal length are merged into one, valued at the run's highest value (so a
/// percentile is never understated) and counted exactly. `max` must be positive.
pub fn merge_buckets(buckets: &[(f64, f64)], max: usize) -> Vec<(f64, f64)> {
    if buckets.len() <= max {
        return buckets.to_vec();
    }
    let run = buckets.len().div_ceil(max.max(1));
    buckets
        .chunks(run)
        .map(|chunk| {
            let value = chunk.last().map_or(0.0, |(value, _)| *value);
            (value, chunk.iter().map(|(_, count)| count).sum())
        })
        .collect()
}

/// A generous estimate of a datum's bytes on the wire: the query protocol's
/// `MetricData.member.1000.Values.member.150=123.456&` is the wordiest encoding.
pub fn estimated_size(datum: &Datum) -> usize {
    let dimension = datum
        .dimension
        .as_ref()
        .map_or(0, |(name, value)| 90 + name.len() + 3 * value.len());
    200 + datum.metric.len() + dimension + 2 * 60 * datum.values.len()
}

/// How many of the leading `reports` (each a report's datums, in order) go in the next
/// call: as many as fit in [`MAX_DATUMS`] datums and [`MAX_PAYLOAD`] estimated bytes,
/// and at least one (a report is at most 15 datums, far within both). A report is
/// never split, so a call delivers whole reports.
pub fn next_batch<'a>(reports: impl IntoIterator<Item = &'a [Datum]>) -> usize {
    let mut taken = 0;
    let mut datums = 0;
    let mut bytes = 0;
    for report in reports {
        let size: usize = report.iter().map(estimated_size).sum();
        if taken > 0 && (datums + report.len() > MAX_DATUMS || bytes + size > MAX_PAYLOAD) {
            break;
        }
        taken += 1;
        datums += report.len();
        bytes += size;
    }
    taken
}

#[cfg(test)]
mod tests {
    use agent_wire::{Counts, Latency, Source};

    use super::*;

    fn report(ok: u64, throttled: u64, latencies_micros: &[u64], known: bool) -> Report {
        let mut latency = Latency::new();
        for micros in latencies_micros {
            latency.record_micros(*micros);
        }
        let text = |t: &str| known.then(|| t.to_owned());
        Report {
            source: Source {
                instance_id: text("i-1"),
                fleet_id: text("fleet-1"),
                instance_type: text("c5.large"),
                availability_zone: text("us-east-1a"),
                run_id: "run".into(),
            },
            seq: 0,
            start: SimTime::from_millis(1_700_000_000_000),
            end: SimTime::from_millis(1_700_000_001_000),
            counts: Counts {
                sent: ok + throttled,
                success: ok,
                throttled,
                ..Counts::default()
            },
            latency_scheduled: latency.clone(),
            latency_actual: latency,
            last: false,
        }
    }

    fn sum(datum: &Datum) -> f64 {
        datum
            .values
            .iter()
            .zip(&datum.counts)
            .map(|(v, c)| v * c)
            .sum()
    }

    fn sample_count(datum: &Datum) -> f64 {
        datum.counts.iter().sum()
    }

    #[test]
    fn counts_are_exact_and_error_average_is_the_error_rate() {
        let datums = datums(&report(7, 3, &[1_000; 10], false));
        assert_eq!(datums.len(), 3, "one per metric, no dimensions known");
        let [success, error, latency] = &datums[..] else {
            panic!("{datums:?}")
        };
        assert_eq!((success.metric, success.unit), ("Success", Unit::Count));
        assert_eq!(
            (success.values.clone(), success.counts.clone()),
            (vec![1.0, 0.0], vec![7.0, 3.0])
        );
        assert_eq!(
            (error.values.clone(), error.counts.clone()),
            (vec![0.0, 1.0], vec![7.0, 3.0])
        );
        assert_eq!(sum(success) + sum(error), 10.0);
        assert_eq!(sum(error) / sample_count(error), 0.3);
        assert_eq!(latency.unit, Unit::Milliseconds);
        assert_eq!(sample_count(latency), 10.0);
        assert!(
            datums
                .iter()
                .all(|d| d.timestamp == SimTime::from_millis(1_700_000_000_000))
        );
    }

    #[test]
    fn zero_counts_are_left_out_and_an_idle_second_has_no_datum() {
        let datums = datums(&report(5, 0, &[2_000; 5], false));
        assert_eq!(
            (datums[0].values.clone(), datums[0].counts.clone()),
            (vec![1.0], vec![5.0])
        );
        assert_eq!(
            (datums[1].values.clone(), datums[1].counts.clone()),
            (vec![0.0], vec![5.0])
        );
        assert!(super::datums(&report(0, 0, &[], true)).is_empty());
    }

    #[test]
    fn latency_values_are_the_recorded_buckets_in_milliseconds() {
        let datums = datums(&report(4, 0, &[1_000, 1_000, 2_500, 40_000], false));
        let latency = &datums[2];
        // Each bucket's highest equivalent value at 3 significant digits.
        assert_eq!(latency.values, vec![1.0, 2.501, 40.031]);
        assert_eq!(latency.counts, vec![2.0, 1.0, 1.0]);
    }

    #[test]
    fn each_datum_once_per_known_dimension_set() {
        let datums = datums(&report(1, 1, &[1_000, 2_000], true));
        assert_eq!(datums.len(), 15);
        for metric in ["Success", "Error", "Latency"] {
            let dimensions: Vec<Option<(&str, &str)>> = datums
                .iter()
                .filter(|d| d.metric == metric)
                .map(|d| d.dimension.as_ref().map(|(n, v)| (*n, v.as_str())))
                .collect();
            assert_eq!(
                dimensions,
                vec![
                    None,
                    Some(("FleetId", "fleet-1")),
                    Some(("InstanceId", "i-1")),
                    Some(("InstanceType", "c5.large")),
                    Some(("AvailabilityZone", "us-east-1a")),
                ]
            );
        }
    }

    #[test]
    fn many_buckets_merge_to_at_most_150_with_exact_counts() {
        // 1,000 distinct latencies (1 ms apart: distinct buckets at 3 digits), 1 to 3 each.
        let micros: Vec<u64> = (1..=1_000u64)
            .flat_map(|i| std::iter::repeat_n(i * 1_000, (i % 3 + 1) as usize))
            .collect();
        let report = report(micros.len() as u64, 0, &micros, false);
        let buckets = latency_buckets(&report);
        assert_eq!(buckets.len(), 1_000);
        let datums = datums(&report);
        let latency = &datums[2];
        assert!(
            latency.values.len() <= MAX_VALUES,
            "{}",
            latency.values.len()
        );
        assert_eq!(sample_count(latency), micros.len() as f64);
        assert!(
            latency.values.windows(2).all(|w| w[0] < w[1]),
            "ascending, distinct"
        );
        assert_eq!(
            latency.values.last(),
            buckets.last().map(|(v, _)| v),
            "the maximum is kept"
        );
        assert!(latency.counts.iter().all(|c| *c > 0.0));
    }

    #[test]
    fn merging_takes_each_run_highest_value_and_sums_its_counts() {
        let buckets: Vec<(f64, f64)> = (1..=7).map(|i| (f64::from(i), 1.0)).collect();
        assert_eq!(merge_buckets(&buckets, 7), buckets);
        assert_eq!(
            merge_buckets(&buckets, 3),
            vec![(3.0, 3.0), (6.0, 3.0), (7.0, 1.0)]
        );
        assert_eq!(merge_buckets(&buckets, 1), vec![(7.0, 7.0)]);
    }

    #[test]
    fn batches_hold_at_most_1000_datums_and_whole_reports() {
        let one = datums(&report(1, 1, &[1_000, 2_000], true));
        assert_eq!(one.len(), 15);
        let reports: Vec<&[Datum]> = vec![one.as_slice(); 200];
        // 66 reports are 990 datums; a 67th would make 1,005.
        assert_eq!(next_batch(reports.iter().copied()), 66);
        assert_eq!(next_batch(reports[..10].iter().copied()), 10);
        assert_eq!(next_batch(std::iter::empty()), 0);
    }

    #[test]
    fn batches_stay_under_the_payload_limit() {
        let micros: Vec<u64> = (1..=1_000u64).map(|i| i * 1_000).collect();
        let wide = datums(&report(1_000, 0, &micros, true));
        let per_report: usize = wide.iter().map(estimated_size).sum();
        let reports: Vec<&[Datum]> = vec![wide.as_slice(); 100];
        let taken = next_batch(reports.iter().copied());
        assert!(
            taken >= 1 && taken * per_report <= MAX_PAYLOAD,
            "{taken} x {per_report}"
        );
        assert!((taken + 1) * per_report > MAX_PAYLOAD);
        assert!(
            taken * wide.len() < MAX_DATUMS,
            "the payload binds first here"
        );
    }
}
