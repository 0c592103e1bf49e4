//! `watch::metrics` against the fact sheet (monitoring-semantics.md, sections 2.1-2.3):
//! statistics per bucket, Values/Counts weighting, statistic sets, extended statistics
//! and their availability, exact dimension sets, units, bucket alignment, listing,
//! retention; proptests for merging.

#![allow(clippy::unwrap_used)] // A failed unwrap in a test helper is a failed test.

use hdrhistogram::Histogram;
use proptest::prelude::*;
use simtime::{SimDuration, SimTime};
use watch::metrics::{
    Aggregate, Detail, ListFilter, MetricId, Period, Query, RELATIVE_ACCURACY, Resolution,
    Retention, Sample, Statistic, StatisticSet, Store, Tier, Unit, align_start, period_allowed,
};

const T0: u64 = 1_704_164_400_000; // 2024-01-02T03:00:00Z, on the hour

fn at(seconds: u64) -> SimTime {
    SimTime::from_millis(T0 + seconds * 1_000)
}

fn stat(text: &str) -> Statistic {
    Statistic::parse(text).expect(text)
}

fn aggregate_of(samples: &[Sample<'_>]) -> Aggregate {
    let mut aggregate = Aggregate::new();
    for sample in samples {
        aggregate.add(sample).expect("valid sample");
    }
    aggregate
}

fn values(values: &[f64]) -> Aggregate {
    aggregate_of(&[Sample::Values {
        values,
        counts: None,
    }])
}

fn one_to(n: u32) -> Vec<f64> {
    (1..=n).map(f64::from).collect()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

// 2.2: SampleCount = sum of counts, Sum = sum of value x count, Average, Minimum, Maximum;
// `Values[i]` counts `Counts[i]` times (the captured example: 1.0 x3, 2.0 x1, 3.5 x2).
#[test]
fn values_and_counts_weight_every_statistic() {
    let aggregate = aggregate_of(&[Sample::Values {
        values: &[1.0, 2.0, 3.5],
        counts: Some(&[3.0, 1.0, 2.0]),
    }]);
    let table = [
        ("SampleCount", 6.0),
        ("Sum", 12.0),
        ("Average", 2.0),
        ("Minimum", 1.0),
        ("Maximum", 3.5),
        ("p50", 1.0),  // rank ceil(0.5 x 6) = 3 -> the third 1.0
        ("p51", 2.0),  // rank 4
        ("p90", 3.5),  // rank 6
        ("p0", 1.0),   // rank 1
        ("p100", 3.5), // rank 6
    ];
    for (name, expected) in table {
        assert_eq!(aggregate.statistic(&stat(name)), Some(expected), "{name}");
    }
}

// 2.2 extended statistics on 1..=100 (nearest rank on the expanded values).
#[test]
fn extended_statistics_on_one_to_a_hundred() {
    let aggregate = values(&one_to(100));
    let sum = |from: u32, to: u32| f64::from((from..=to).sum::<u32>());
    let table: Vec<(&str, f64)> = vec![
        ("p90", 90.0),
        ("p99.5", 100.0),
        ("p0.5", 1.0),
        ("p12.34", 13.0),
        ("tm90", sum(1, 90) / 90.0),
        ("TM(:90%)", sum(1, 90) / 90.0),
        ("TM(10%:90%)", sum(11, 90) / 80.0),
        ("TM(10%:)", sum(11, 100) / 90.0),
        ("IQM", sum(26, 75) / 50.0),
        ("TM(25%:75%)", sum(26, 75) / 50.0),
        // Absolute bounds: lower exclusive, upper inclusive.
        ("TM(10:20)", sum(11, 20) / 10.0),
        ("TM(:5)", 3.0),
        ("tc90", 90.0),
        ("TC(10%:90%)", 80.0),
        ("TC(10:20)", 10.0),
        ("ts90", sum(1, 90)),
        ("TS(10%:90%)", sum(11, 90)),
        ("TS(90:)", sum(91, 100)),
        // Winsorized: the top 10 % count as the highest kept value (90).
        ("wm90", (sum(1, 90) + 10.0 * 90.0) / 100.0),
        (
            "WM(10%:90%)",
            (10.0 * 11.0 + sum(11, 90) + 10.0 * 90.0) / 100.0,
        ),
        // Absolute: values <= 10 count as 10, values > 20 as 20.
        (
            "WM(10:20)",
            (10.0 * 10.0 + sum(11, 20) + 80.0 * 20.0) / 100.0,
        ),
        ("PR(:50)", 50.0),
        ("PR(10:20)", 10.0),
        ("PR(100:)", 0.0),
    ];
    for (name, expected) in table {
        let got = aggregate.statistic(&stat(name));
        assert!(
            got.is_some_and(|v| close(v, expected)),
            "{name}: got {got:?}, want {expected}"
        );
    }
    // Nothing inside the bounds: no trimmed mean, but a zero count and sum.
    assert_eq!(aggregate.statistic(&stat("TM(200:300)")), None);
    assert_eq!(aggregate.statistic(&stat("TC(200:300)")), Some(0.0));
    assert_eq!(aggregate.statistic(&stat("TS(200:300)")), Some(0.0));
}

// 2.2: percentiles are unavailable when any value is negative.
#[test]
fn negative_values_make_extended_statistics_unavailable() {
    let aggregate = values(&[3.0, -1.0, 5.0]);
    assert_eq!(aggregate.statistic(&stat("Minimum")), Some(-1.0));
    assert_eq!(aggregate.statistic(&stat("Sum")), Some(7.0));
    for name in ["p50", "tm90", "IQM", "wm90", "TC(:1)", "TS(:1)", "PR(:1)"] {
        assert_eq!(aggregate.statistic(&stat(name)), None, "{name}");
    }
    // Merging a negative bucket into a clean one poisons the merged period too.
    let mut clean = values(&[1.0, 2.0]);
    assert_eq!(clean.statistic(&stat("p50")), Some(1.0));
    clean.merge(&aggregate);
    assert_eq!(clean.statistic(&stat("p50")), None);
    assert_eq!(clean.statistic(&stat("SampleCount")), Some(5.0));
}

// 2.2: statistic sets contribute their four numbers; percentiles only when
// SampleCount = 1 with Min = Max = Sum, or Min = Max and Sum = Min x SampleCount.
#[test]
fn statistic_sets_and_percentile_availability() {
    let set = |sample_count, sum, minimum, maximum| {
        Sample::StatisticSet(StatisticSet {
            sample_count,
            sum,
            minimum,
            maximum,
        })
    };
    let table = [
        // (set, Average, p50 available?)
        (set(4.0, 10.0, 1.0, 4.0), 2.5, None),
        (set(1.0, 7.0, 7.0, 7.0), 7.0, Some(7.0)),
        (set(3.0, 6.0, 2.0, 2.0), 2.0, Some(2.0)),
        (set(3.0, 7.0, 2.0, 2.0), 7.0 / 3.0, None),
        (set(2.0, -4.0, -2.0, -2.0), -2.0, None),
    ];
    for (sample, average, p50) in table {
        let aggregate = aggregate_of(&[sample]);
        assert_eq!(aggregate.statistic(&Statistic::Average), Some(average));
        assert_eq!(aggregate.statistic(&stat("p50")), p50, "{sample:?}");
    }
    // A set and raw values together: basic statistics add up, percentiles are gone.
    let mixed = aggregate_of(&[set(4.0, 10.0, 1.0, 4.0), Sample::Value(100.0)]);
    assert_eq!(mixed.statistic(&Statistic::SampleCount), Some(5.0));
    assert_eq!(mixed.statistic(&Statistic::Maximum), Some(100.0));
    assert_eq!(mixed.statistic(&stat("p99")), None);
}

#[test]
fn statistic_names_parse_and_print_as_cloudwatch_spells_them() {
    let valid = [
        "SampleCount",
        "Sum",
        "Average",
        "Minimum",
        "Maximum",
        "p0",
        "p0.0",
        "p50",
        "p99",
        "p99.9",
        "p99.99",
        "p100",
        "tm99",
        "tm99.5",
        "wm90",
        "tc90",
        "ts90",
        "IQM",
        "TM(10%:90%)",
        "TM(:95%)",
        "TM(5%:)",
        "TM(150:1000)",
        "TM(:300)",
        "TM(0.5:)",
        "WM(1%:99%)",
        "WM(150:1000)",
        "TC(10%:90%)",
        "TC(:0.5)",
        "TS(10%:90%)",
        "PR(:300)",
        "PR(100:2000)",
        "PR(0.5:1.5)",
    ];
    for text in valid {
        let parsed = Statistic::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(parsed.to_string(), text);
    }
    let invalid = [
        "",
        "average",
        "AVERAGE",
        "p",
        "p101",
        "p-1",
        "P99",
        "p99.",
        "p.5",
        "p9x",
        "TM99",
        "tm0",
        "tm",
        "TM()",
        "TM(:)",
        "TM(90%:10%)",
        "TM(10%:90)",
        "TM(10%:90%",
        "tm(10%:90%)",
        "PR(10%:20%)",
        "PR(20:10)",
        "XX(1:2)",
        "TM(a:b)",
        "iqm",
        "TM(10%:101%)",
        "p1e2",
    ];
    for text in invalid {
        assert!(
            Statistic::parse(text).is_err(),
            "{text:?} should be refused"
        );
    }
    assert!(Statistic::parse_basic("p99").is_none());
    assert!(stat("p99").is_extended());
    assert!(!Statistic::Average.is_extended());
}

fn minute_query(metric: &MetricId, unit: Option<Unit>, start: u64, end: u64) -> Query<'_> {
    Query {
        metric,
        unit,
        start: at(start),
        end: at(end),
        period: Period::MINUTE,
    }
}

// 2.1/2.3: identity is the full dimension set; a query matches exactly, no partial
// matches (moto matches any superset), and no dimensions means "the metric without
// dimensions", not "every series of that name".
#[test]
fn dimensions_match_as_an_exact_set() {
    let mut store = Store::default();
    let bare = MetricId::new("App", "Latency");
    let one = bare.clone().with_dimension("Svc", "api");
    let two = one.clone().with_dimension("Zone", "a");
    let two_reordered = MetricId::new("App", "Latency")
        .with_dimension("Zone", "a")
        .with_dimension("Svc", "api");
    for (metric, value) in [(&bare, 1.0), (&one, 10.0), (&two, 100.0)] {
        store
            .record(
                metric,
                Unit::None,
                Resolution::Standard,
                at(5),
                &Sample::Value(value),
            )
            .unwrap();
    }
    let sum = |metric: &MetricId| {
        store
            .series(&minute_query(metric, None, 0, 60), &Statistic::Sum)
            .points
    };
    assert_eq!(sum(&bare), vec![(at(0), 1.0)]);
    assert_eq!(sum(&one), vec![(at(0), 10.0)]);
    assert_eq!(sum(&two_reordered), vec![(at(0), 100.0)]);
    assert_eq!(sum(&one.clone().with_dimension("Svc", "web")), vec![]);
    assert_eq!(store.len(), 3);
}

// 2.3: Unit given -> only data stored with that unit; omitted -> all units, each
// datapoint carrying its unit; no conversion.
#[test]
fn unit_filter_selects_data_stored_with_that_unit() {
    let mut store = Store::default();
    let metric = MetricId::new("App", "Latency");
    let record = |store: &mut Store, unit, value| {
        store
            .record(
                &metric,
                unit,
                Resolution::Standard,
                at(1),
                &Sample::Value(value),
            )
            .unwrap();
    };
    record(&mut store, Unit::Milliseconds, 12.5);
    record(&mut store, Unit::Milliseconds, 7.5);
    record(&mut store, Unit::Seconds, 2.0);
    let points = |unit| store.datapoints(&minute_query(&metric, unit, 0, 60), Detail::Summary);
    let ms = points(Some(Unit::Milliseconds));
    assert_eq!(ms.len(), 1);
    assert_eq!(ms[0].unit, Unit::Milliseconds);
    assert_eq!(ms[0].aggregate.statistic(&Statistic::Sum), Some(20.0));
    assert!(points(Some(Unit::Microseconds)).is_empty());
    let all = points(None);
    let units: Vec<Unit> = all.iter().map(|p| p.unit).collect();
    assert_eq!(units, vec![Unit::Seconds, Unit::Milliseconds]);
    // A series over all units merges them.
    let merged = store.series(&minute_query(&metric, None, 0, 60), &Statistic::SampleCount);
    assert_eq!(merged.points, vec![(at(0), 3.0)]);
}

// 2.3: buckets step by Period from the (rounded) start; empty buckets are omitted;
// start inclusive, end exclusive; high-resolution data at any whole-second period.
#[test]
fn buckets_are_aligned_to_the_start_and_empty_ones_omitted() {
    let mut store = Store::default();
    let metric = MetricId::new("App", "Requests");
    for (second, value) in [
        (0, 1.0),
        (9, 2.0),
        (10, 4.0),
        (35, 8.0),
        (59, 16.0),
        (60, 32.0),
    ] {
        store
            .record(
                &metric,
                Unit::Count,
                Resolution::High,
                at(second),
                &Sample::Value(value),
            )
            .unwrap();
    }
    let series = |period: u32, start: u64, end: u64| {
        let query = Query {
            metric: &metric,
            unit: None,
            start: at(start),
            end: at(end),
            period: Period::from_seconds(period).unwrap(),
        };
        store.series(&query, &Statistic::Sum).points
    };
    assert_eq!(
        series(10, 0, 60),
        vec![(at(0), 3.0), (at(10), 4.0), (at(30), 8.0), (at(50), 16.0)]
    );
    assert_eq!(series(60, 0, 60), vec![(at(0), 31.0)]);
    assert_eq!(series(60, 0, 61), vec![(at(0), 31.0), (at(60), 32.0)]);
    // A start that is not a multiple of the period shifts every bucket.
    assert_eq!(series(30, 5, 65), vec![(at(5), 6.0), (at(35), 56.0)]);
    assert_eq!(series(1, 9, 11), vec![(at(9), 2.0), (at(10), 4.0)]);
    assert_eq!(series(7, 60, 60), vec![]);
}

// 2.3: standard-resolution data (StorageResolution 60) is stored per minute.
#[test]
fn standard_resolution_data_is_bucketed_per_minute() {
    let mut store = Store::default();
    let metric = MetricId::new("App", "Requests");
    for second in [1, 20, 59] {
        store
            .record(
                &metric,
                Unit::Count,
                Resolution::Standard,
                at(second),
                &Sample::Value(1.0),
            )
            .unwrap();
    }
    let query = Query {
        metric: &metric,
        unit: None,
        start: at(0),
        end: at(60),
        period: Period::from_seconds(10).unwrap(),
    };
    assert_eq!(
        store.series(&query, &Statistic::Sum).points,
        vec![(at(0), 3.0)]
    );
}

// 2.3: StartTime rounding by age and period.
#[test]
fn start_time_is_rounded_by_age_and_period() {
    let now = SimTime::parse("2024-06-01T12:00:00Z").unwrap();
    let period = |s| Period::from_seconds(s).unwrap();
    let table = [
        ("2024-06-01T11:32:34Z", 60, "2024-06-01T11:32:00Z"),
        ("2024-06-01T11:32:34Z", 300, "2024-06-01T11:32:00Z"),
        ("2024-06-01T11:32:34Z", 1, "2024-06-01T11:32:34Z"),
        ("2024-06-01T11:32:34Z", 5, "2024-06-01T11:32:30Z"),
        ("2024-06-01T11:32:34Z", 10, "2024-06-01T11:32:30Z"),
        ("2024-06-01T11:32:34Z", 20, "2024-06-01T11:32:20Z"),
        ("2024-06-01T11:32:34Z", 30, "2024-06-01T11:32:30Z"),
        ("2024-05-10T12:32:34Z", 60, "2024-05-10T12:30:00Z"), // 22 days: 5 minutes
        ("2024-03-01T12:32:34Z", 3600, "2024-03-01T12:00:00Z"), // 92 days: hour
    ];
    for (start, seconds, expected) in table {
        let got = align_start(SimTime::parse(start).unwrap(), now, period(seconds));
        assert_eq!(
            got,
            SimTime::parse(expected).unwrap(),
            "{start} / {seconds}"
        );
    }
    let allowed =
        |start: &str, seconds| period_allowed(SimTime::parse(start).unwrap(), now, period(seconds));
    assert!(allowed("2024-06-01T11:00:00Z", 1));
    assert!(!allowed("2024-06-01T08:00:00Z", 10));
    assert!(allowed("2024-06-01T08:00:00Z", 60));
    assert!(!allowed("2024-05-10T12:00:00Z", 60));
    assert!(allowed("2024-05-10T12:00:00Z", 300));
    assert!(!allowed("2024-03-01T12:00:00Z", 300));
    assert!(allowed("2024-03-01T12:00:00Z", 3600));
}

// ListMetrics: filters by namespace, name and dimension name (value optional, partial
// match allowed here, unlike statistics); each metric once whatever its units (moto
// repeats multi-dimension metrics).
#[test]
fn listing_filters_and_deduplicates() {
    let mut store = Store::default();
    let metrics = [
        MetricId::new("App", "Latency")
            .with_dimension("Svc", "api")
            .with_dimension("Zone", "a"),
        MetricId::new("App", "Latency")
            .with_dimension("Svc", "api")
            .with_dimension("Zone", "b"),
        MetricId::new("App", "Errors").with_dimension("Svc", "api"),
        MetricId::new("Other", "Latency"),
    ];
    for metric in &metrics {
        for unit in [Unit::Milliseconds, Unit::None, Unit::Milliseconds] {
            store
                .record(
                    metric,
                    unit,
                    Resolution::Standard,
                    at(0),
                    &Sample::Value(1.0),
                )
                .unwrap();
        }
    }
    let list =
        |filter: ListFilter| -> Vec<MetricId> { store.list(&filter, None).cloned().collect() };
    assert_eq!(list(ListFilter::default()).len(), 4);
    let app = ListFilter {
        namespace: Some("App".into()),
        ..ListFilter::default()
    };
    assert_eq!(list(app.clone()).len(), 3);
    let zone = ListFilter {
        dimensions: vec![("Zone".into(), None)],
        ..app.clone()
    };
    assert_eq!(list(zone).len(), 2);
    let zone_b = ListFilter {
        dimensions: vec![("Zone".into(), Some("b".into())), ("Svc".into(), None)],
        ..app.clone()
    };
    assert_eq!(list(zone_b), vec![metrics[1].clone()]);
    let name = ListFilter {
        name: Some("Latency".into()),
        ..ListFilter::default()
    };
    assert_eq!(list(name).len(), 3);
    let recent = ListFilter {
        active_since: Some(at(1)),
        ..ListFilter::default()
    };
    assert!(list(recent).is_empty());
    // Pagination: resuming after each item visits every metric once, in order.
    let all = list(ListFilter::default());
    let filter = ListFilter::default();
    let mut resumed = Vec::new();
    let mut after: Option<MetricId> = None;
    while let Some(next) = store.list(&filter, after.as_ref()).next().cloned() {
        resumed.push(next.clone());
        after = Some(next);
    }
    assert_eq!(resumed, all);
    // Resuming a namespace-filtered listing after a metric of an earlier namespace.
    let other = ListFilter {
        namespace: Some("Other".into()),
        ..ListFilter::default()
    };
    assert_eq!(store.list(&other, Some(&metrics[0])).count(), 1);
}

// 2.3 retention: sub-minute data for 3 h, then minutes for 15 d, ... then gone.
#[test]
fn expiry_rolls_data_into_coarser_tiers_then_drops_it() {
    let mut store = Store::default();
    let metric = MetricId::new("App", "Requests");
    for second in 0..120 {
        store
            .record(
                &metric,
                Unit::Count,
                Resolution::High,
                at(second),
                &Sample::Value(1.0),
            )
            .unwrap();
    }
    assert_eq!(store.bucket_count(), 120);
    let sum = |store: &Store, period: u32| {
        let query = Query {
            metric: &metric,
            unit: None,
            start: at(0),
            end: at(3600),
            period: Period::from_seconds(period).unwrap(),
        };
        store.series(&query, &Statistic::Sum).points
    };
    store.expire(at(60) + SimDuration::from_hours(3));
    // The first minute rolled up; the second is still per second.
    assert_eq!(store.bucket_count(), 61);
    assert_eq!(sum(&store, 60), vec![(at(0), 60.0), (at(60), 60.0)]);
    store.expire(at(0) + SimDuration::from_days(16));
    assert_eq!(store.bucket_count(), 1);
    assert_eq!(sum(&store, 3600), vec![(at(0), 120.0)]);
    store.expire(at(0) + SimDuration::from_days(456));
    assert!(store.is_empty());
    assert_eq!(sum(&store, 3600), vec![]);
}

#[test]
fn retention_tiers_are_checked() {
    let tier = |granularity, hours| Tier {
        granularity,
        keep: SimDuration::from_hours(hours),
    };
    assert!(Retention::new(vec![tier(1, 1), tier(60, 24)]).is_ok());
    assert!(Retention::new(vec![]).is_err());
    assert!(Retention::new(vec![tier(0, 1)]).is_err());
    assert!(Retention::new(vec![tier(60, 1), tier(90, 2)]).is_err());
    assert!(Retention::new(vec![tier(60, 1), tier(60, 2)]).is_err());
    // A minute-only retention stores high-resolution data per minute.
    let mut store = Store::new(Retention::new(vec![tier(60, 24)]).unwrap());
    let metric = MetricId::new("App", "X");
    for second in [1, 2, 3] {
        store
            .record(
                &metric,
                Unit::None,
                Resolution::High,
                at(second),
                &Sample::Value(1.0),
            )
            .unwrap();
    }
    assert_eq!(store.bucket_count(), 1);
}

fn latency(micros: &[u64]) -> Histogram<u64> {
    let mut histogram = Histogram::new_with_bounds(1, 3_600_000_000, 3).unwrap();
    for &us in micros {
        histogram.record(us).unwrap();
    }
    histogram
}

// Histograms with a scale: recorded in microseconds, published in milliseconds; merged
// exactly, so the fleet's percentile is the merged histogram's, not an average.
#[test]
fn histograms_merge_exactly_and_scale() {
    let fast: Vec<u64> = (1..=900).map(|i| 1_000 + i).collect();
    let slow: Vec<u64> = (1..=100).map(|i| 250_000 + 1_000 * i).collect();
    let (a, b) = (latency(&fast), latency(&slow));
    let mut merged = a.clone();
    merged.add(&b).unwrap();

    let mut store = Store::default();
    let fleet = MetricId::new("spotlab", "Latency").with_dimension("Fleet", "f-1");
    let instance_a = fleet.clone().with_dimension("InstanceId", "i-a");
    for (instance, histogram) in [("i-a", &a), ("i-b", &b)] {
        let sample = Sample::Histogram {
            histogram,
            scale: 0.001,
        };
        let aggregate = Aggregate::from_sample(&sample).unwrap();
        let per_instance = fleet.clone().with_dimension("InstanceId", instance);
        for metric in [&fleet, &per_instance] {
            store.record_aggregate(
                metric,
                Unit::Milliseconds,
                Resolution::High,
                at(3),
                &aggregate,
            );
        }
    }
    let value = |metric: &MetricId, name: &str| {
        let query = minute_query(metric, Some(Unit::Milliseconds), 0, 60);
        store.series(&query, &stat(name)).points[0].1
    };
    for (name, quantile) in [
        ("p50", 0.5),
        ("p90", 0.9),
        ("p95", 0.95),
        ("p99", 0.99),
        ("p100", 1.0),
    ] {
        let expected = merged.value_at_quantile(quantile) as f64 * 0.001;
        assert!(
            close(value(&fleet, name), expected),
            "{name}: {} vs {expected}",
            value(&fleet, name)
        );
    }
    assert_eq!(value(&fleet, "SampleCount"), 1_000.0);
    let p99_a = a.value_at_quantile(0.99) as f64 * 0.001;
    assert!(close(value(&instance_a, "p99"), p99_a));
    // The fleet's p99 sits among the slow requests; averaging per-instance p99s would not.
    assert!(value(&fleet, "p99") > 250.0);
}

#[test]
fn invalid_samples_are_refused_and_change_nothing() {
    let mut store = Store::default();
    let metric = MetricId::new("App", "X");
    let refused = [
        Sample::Value(f64::NAN),
        Sample::Value(f64::INFINITY),
        Sample::Values {
            values: &[1.0, 2.0],
            counts: Some(&[1.0]),
        },
        Sample::Values {
            values: &[1.0],
            counts: Some(&[-1.0]),
        },
        Sample::StatisticSet(StatisticSet {
            sample_count: 0.0,
            sum: 0.0,
            minimum: 0.0,
            maximum: 0.0,
        }),
        Sample::StatisticSet(StatisticSet {
            sample_count: 2.0,
            sum: 3.0,
            minimum: 2.0,
            maximum: 1.0,
        }),
    ];
    for sample in refused {
        assert!(
            store
                .record(&metric, Unit::None, Resolution::High, at(0), &sample)
                .is_err(),
            "{sample:?}"
        );
    }
    assert!(store.is_empty());
}

// Past EXACT_VALUES distinct values a bucket switches to the grid; percentiles stay
// within RELATIVE_ACCURACY of the exact nearest-rank answer.
#[test]
fn many_distinct_values_stay_within_the_documented_precision() {
    let raw: Vec<f64> = (0..20_000).map(|i| 0.5 + f64::from(i) * 0.731).collect();
    let aggregate = values(&raw);
    assert!(aggregate.distribution().unwrap().is_quantized());
    assert!(aggregate.distribution().unwrap().entries().len() < raw.len());
    let mut sorted = raw.clone();
    sorted.sort_by(f64::total_cmp);
    for p in [1.0, 25.0, 50.0, 90.0, 99.0, 99.9] {
        let rank = ((p * sorted.len() as f64 / 100.0).ceil() as usize).max(1);
        let exact = sorted[rank - 1];
        let got = aggregate
            .statistic(&Statistic::parse(&format!("p{p}")).unwrap())
            .unwrap();
        assert!(
            (got - exact).abs() <= exact * RELATIVE_ACCURACY * 1.0001,
            "p{p}: {got} vs {exact}"
        );
    }
    assert_eq!(aggregate.statistic(&Statistic::SampleCount), Some(20_000.0));
}

fn sample_values() -> impl Strategy<Value = Vec<(u16, u8)>> {
    prop::collection::vec((0u16..400, 1u8..5), 1..60)
}

fn aggregate_pairs(pairs: &[(u16, u8)]) -> Aggregate {
    let values: Vec<f64> = pairs.iter().map(|p| f64::from(p.0)).collect();
    let counts: Vec<f64> = pairs.iter().map(|p| f64::from(p.1)).collect();
    aggregate_of(&[Sample::Values {
        values: &values,
        counts: Some(&counts),
    }])
}

const CHECKED: [&str; 14] = [
    "SampleCount",
    "Sum",
    "Average",
    "Minimum",
    "Maximum",
    "p0",
    "p50",
    "p90",
    "p99.9",
    "tm90",
    "IQM",
    "wm90",
    "TC(10:100)",
    "PR(:200)",
];

proptest! {
    // Statistics of merged buckets equal statistics of the union of the samples.
    #[test]
    fn merging_equals_aggregating_the_union(a in sample_values(), b in sample_values()) {
        let mut merged = aggregate_pairs(&a);
        merged.merge(&aggregate_pairs(&b));
        let union: Vec<(u16, u8)> = a.iter().chain(&b).copied().collect();
        let direct = aggregate_pairs(&union);
        for name in CHECKED {
            let (m, d) = (merged.statistic(&stat(name)), direct.statistic(&stat(name)));
            prop_assert!(match (m, d) {
                (Some(m), Some(d)) => close(m, d),
                (None, None) => true,
                _ => false,
            }, "{}: {:?} vs {:?}", name, m, d);
        }
    }

    // However samples are spread over seconds, a period's statistics are those of all
    // its samples; Sum = Average x SampleCount.
    #[test]
    fn periods_aggregate_every_second_of_their_range(
        samples in prop::collection::vec((0u64..120, 0u16..1000, 1u8..4), 1..200),
        period in prop::sample::select(vec![1u32, 5, 10, 30, 60, 120]),
    ) {
        let mut store = Store::default();
        let metric = MetricId::new("P", "M");
        for &(second, value, count) in &samples {
            let sample = Sample::Values { values: &[f64::from(value)], counts: Some(&[f64::from(count)]) };
            store.record(&metric, Unit::None, Resolution::High, at(second), &sample).unwrap();
        }
        let query = Query {
            metric: &metric, unit: None, start: at(0), end: at(120),
            period: Period::from_seconds(period).unwrap(),
        };
        let points = store.aggregates(&query, Detail::Distribution);
        let total: f64 = points.iter().map(|p| p.1.sample_count()).sum();
        let expected: f64 = samples.iter().map(|s| f64::from(s.2)).sum();
        prop_assert_eq!(total, expected);
        for (timestamp, aggregate) in &points {
            let from = (timestamp.as_millis() - T0) / 1_000;
            let inside: Vec<(u16, u8)> = samples.iter()
                .filter(|s| s.0 >= from && s.0 < from + u64::from(period))
                .map(|s| (s.1, s.2)).collect();
            let direct = aggregate_pairs(&inside);
            for name in CHECKED {
                prop_assert_eq!(aggregate.statistic(&stat(name)), direct.statistic(&stat(name)), "{}", name);
            }
            let average = aggregate.statistic(&Statistic::Average).unwrap();
            prop_assert!(close(average * aggregate.sample_count(), aggregate.sum()));
        }
    }

    // Expiry moves data between tiers but never loses or duplicates it (until the
    // last tier's age).
    #[test]
    fn expiry_keeps_totals(
        seconds in prop::collection::vec(0u64..20_000, 1..100),
        hours in 3u64..100,
    ) {
        let mut store = Store::default();
        let metric = MetricId::new("P", "M");
        for &second in &seconds {
            store.record(&metric, Unit::None, Resolution::High, at(second), &Sample::Value(2.0)).unwrap();
        }
        store.expire(at(0) + SimDuration::from_hours(hours));
        let query = Query {
            metric: &metric, unit: None, start: at(0), end: at(86_400),
            period: Period::from_seconds(86_400).unwrap(),
        };
        let sum: f64 = store.series(&query, &Statistic::Sum).points.iter().map(|p| p.1).sum();
        prop_assert_eq!(sum, 2.0 * seconds.len() as f64);
    }
}

/// Where a datum's value is after retention: its bucket's tier and start second.
#[derive(Clone, Copy, Debug)]
struct Placed {
    metric: usize,
    tier: usize,
    key: u64,
    value: f64,
}

/// A model of retention over a retention of `tiers` (granularity, keep in seconds): each
/// datum moves on to the next tier's bucket as soon as an expiry sees it outlive its
/// own, however many expiries came and went in between.
fn model_expire(placed: &mut Vec<Placed>, tiers: &[(u64, u64)], now_seconds: u64) {
    placed.retain_mut(|datum| {
        loop {
            let (_, keep) = tiers[datum.tier];
            if datum.key >= now_seconds.saturating_sub(keep) {
                return true;
            }
            let Some(&(granularity, _)) = tiers.get(datum.tier + 1) else {
                return false;
            };
            datum.tier += 1;
            datum.key -= datum.key % granularity;
        }
    });
}

proptest! {
    // However records and expiries interleave, every datum is where a sweep of every
    // series at every expiry would have put it: per second, the store's SampleCount and
    // Sum equal the model's, as do its bucket and metric counts. An expiry skipped, or a
    // metric not visited when one of its buckets outlived its tier, shows as a datum in
    // the wrong bucket or one that should be gone.
    #[test]
    fn expiry_visits_every_metric_with_something_to_expire(
        ops in prop::collection::vec(
            (any::<bool>(), 0usize..3, 0u64..400, any::<bool>(), 1u8..5),
            1..120,
        ),
    ) {
        let tiers = [(1u64, 10u64), (5, 60), (30, 300)];
        let retention = Retention::new(
            tiers
                .iter()
                .map(|&(granularity, keep)| Tier {
                    granularity,
                    keep: SimDuration::from_millis(keep * 1_000),
                })
                .collect(),
        )
        .expect("the metrics are valid");
        let metrics: Vec<MetricId> = (0..3).map(|i| MetricId::new("P", format!("M{i}"))).collect();
        let mut store = Store::new(retention);
        let mut placed: Vec<Placed> = Vec::new();
        let mut now = 500u64;
        for (record, metric, amount, high, value) in ops {
            if record {
                let second = now - amount;
                let (resolution, tier) = if high { (Resolution::High, 0) } else { (Resolution::Standard, 2) };
                let sample = Sample::Value(f64::from(value));
                store.record(&metrics[metric], Unit::Count, resolution, at(second), &sample).expect("the sample is recorded");
                let absolute = T0 / 1_000 + second;
                let key = absolute - absolute % tiers[tier].0;
                placed.push(Placed { metric, tier, key, value: f64::from(value) });
            } else {
                now += amount % 60;
                store.expire(at(now));
                model_expire(&mut placed, &tiers, T0 / 1_000 + now);
            }
            for (index, metric) in metrics.iter().enumerate() {
                let query = Query {
                    metric, unit: None, start: at(0), end: at(now + 1),
                    period: Period::from_seconds(1).expect("1 s is a period"),
                };
                let stored: Vec<(u64, f64, f64)> = store
                    .aggregates(&query, Detail::Summary)
                    .into_iter()
                    .map(|(timestamp, a)| (timestamp.as_millis() / 1_000, a.sample_count(), a.sum()))
                    .collect();
                let mut expected: std::collections::BTreeMap<u64, (f64, f64)> = Default::default();
                for datum in placed.iter().filter(|d| d.metric == index) {
                    let slot = expected.entry(datum.key).or_default();
                    slot.0 += 1.0;
                    slot.1 += datum.value;
                }
                let expected: Vec<(u64, f64, f64)> =
                    expected.into_iter().map(|(key, (count, sum))| (key, count, sum)).collect();
                prop_assert_eq!(stored, expected, "metric {} at {}", index, now);
            }
            let buckets: std::collections::BTreeSet<(usize, usize, u64)> =
                placed.iter().map(|d| (d.metric, d.tier, d.key)).collect();
            prop_assert_eq!(store.bucket_count(), buckets.len());
            let live: std::collections::BTreeSet<usize> = placed.iter().map(|d| d.metric).collect();
            prop_assert_eq!(store.len(), live.len());
        }
    }
}
