//! CloudWatch's metric calls on JSON (fact sheet 2.1-2.4): the walkthrough's workload,
//! PutMetricData validation, GetMetricStatistics, GetMetricData with metric math and
//! pagination, ListMetrics, and the doors for the agent's reports and for alarms.

#![allow(clippy::unwrap_used)] // A failed unwrap in a test helper is a failed test.

use monitoring::cloudwatch::metrics::{AlarmQuery, MetricQueries, MetricQuery, Metrics};
use serde_json::{Value, json};
use simtime::{SimDuration, SimTime};
use watch::metrics::{
    Aggregate, Histogram, MetricId, Period, Resolution, Retention, Sample, Statistic, Unit,
};

/// 2024-01-02T03:00:00Z.
const T0: u64 = 1_704_164_400;

fn at(seconds: u64) -> SimTime {
    SimTime::from_millis((T0 + seconds) * 1_000)
}

fn put(metrics: &mut Metrics, input: Value, now: SimTime) {
    metrics
        .put_metric_data(&input, now)
        .unwrap_or_else(|e| panic!("{input}: {e}"));
}

/// The walkthrough's test script: each call reports `requests` outcomes as alternating
/// `Success`/`Error` datums with values 0/1, no timestamp, no dimensions.
fn walkthrough_call(errors: &[bool]) -> Value {
    let data: Vec<Value> = errors
        .iter()
        .flat_map(|&failed| {
            let (ok, bad) = if failed { (0.0, 1.0) } else { (1.0, 0.0) };
            [
                json!({"MetricName": "Success", "Value": ok, "Unit": "Count"}),
                json!({"MetricName": "Error", "Value": bad, "Unit": "Count"}),
            ]
        })
        .collect();
    json!({"Namespace": "ReInvent-EC2SpotTestDev-Metrics", "MetricData": data})
}

// 2.1 seed workload: Average(Error) over a minute is the error ratio, and
// Sum(Success) + Sum(Error) is the number of requests.
#[test]
fn walkthrough_error_ratio_is_the_average_of_error() {
    let mut metrics = Metrics::default();
    let mut requests = 0;
    for call in 0..30u64 {
        // 10 requests per call; every fifth request fails: 20 % errors.
        let errors: Vec<bool> = (0..10).map(|i| (call * 10 + i) % 5 == 0).collect();
        requests += errors.len();
        put(&mut metrics, walkthrough_call(&errors), at(call * 2));
    }
    let query = |name: &str, statistics: Value| {
        json!({
            "Namespace": "ReInvent-EC2SpotTestDev-Metrics", "MetricName": name,
            "StartTime": T0, "EndTime": T0 + 60, "Period": 60, "Statistics": statistics,
        })
    };
    let now = at(120);
    let error = metrics
        .get_metric_statistics(
            &query("Error", json!(["Average", "Sum", "SampleCount"])),
            now,
        )
        .unwrap();
    assert_eq!(error["Label"], "Error");
    let points = error["Datapoints"].as_array().unwrap();
    assert_eq!(points.len(), 1);
    assert_eq!(points[0]["Timestamp"], json!(T0));
    assert_eq!(points[0]["Unit"], "Count");
    assert_eq!(points[0]["Average"], json!(0.2));
    assert_eq!(points[0]["SampleCount"], json!(300.0));
    // Over the whole run: exact totals.
    let total = |name: &str| {
        let input = json!({
            "Namespace": "ReInvent-EC2SpotTestDev-Metrics", "MetricName": name,
            "StartTime": T0, "EndTime": T0 + 3600, "Period": 3600, "Statistics": ["Sum"],
        });
        metrics.get_metric_statistics(&input, now).unwrap()["Datapoints"][0]["Sum"]
            .as_f64()
            .unwrap()
    };
    assert_eq!(total("Success") + total("Error"), requests as f64);
    assert_eq!(total("Error"), 60.0);
}

// 2.1 validation: (input, code, message fragment). Every refused call stores nothing.
#[test]
fn put_metric_data_validation() {
    let now = at(0);
    let datum = |extra: Value| {
        let mut d = json!({"MetricName": "M"});
        for (k, v) in extra.as_object().unwrap() {
            d[k] = v.clone();
        }
        json!({"Namespace": "App", "MetricData": [d]})
    };
    let many = |n: usize| {
        let data: Vec<Value> = (0..n)
            .map(|_| json!({"MetricName": "M", "Value": 1}))
            .collect();
        json!({"Namespace": "App", "MetricData": data})
    };
    let dims = |n: usize| {
        let list: Vec<Value> = (0..n)
            .map(|i| json!({"Name": format!("d{i}"), "Value": "v"}))
            .collect();
        datum(json!({"Value": 1, "Dimensions": list}))
    };
    let values = |n: usize| datum(json!({"Values": (0..n).map(|i| i as f64).collect::<Vec<_>>()}));
    let table: Vec<(Value, &str, &str)> = vec![
        (
            json!({}),
            "MissingParameter",
            "The parameter Namespace is required.",
        ),
        (
            json!({"Namespace": "", "MetricData": [{"MetricName": "M", "Value": 1}]}),
            "InvalidParameterValue",
            "parameter Namespace",
        ),
        (
            json!({"Namespace": ":x", "MetricData": [{"MetricName": "M", "Value": 1}]}),
            "InvalidParameterValue",
            "The value :x for parameter Namespace is not a valid value.",
        ),
        (
            json!({"Namespace": "x".repeat(256), "MetricData": [{"MetricName": "M", "Value": 1}]}),
            "InvalidParameterValue",
            "parameter Namespace",
        ),
        (
            json!({"Namespace": "AWS/EC2", "MetricData": [{"MetricName": "M", "Value": 1}]}),
            "InvalidParameterValue",
            "reserved",
        ),
        (
            json!({"Namespace": "App"}),
            "MissingParameter",
            "The parameter MetricData is required.",
        ),
        (
            json!({"Namespace": "App", "MetricData": []}),
            "MissingParameter",
            "MetricData",
        ),
        (
            many(1_001),
            "InvalidParameterValue",
            "The collection MetricData must not have a size greater than 1000.",
        ),
        (
            json!({"Namespace": "App", "MetricData": [{"Value": 1}]}),
            "MissingParameter",
            "The parameter MetricData.member.1.MetricName is required.",
        ),
        (
            datum(json!({})),
            "MissingParameter",
            "MetricData.member.1.Value",
        ),
        (
            datum(
                json!({"Value": 1, "StatisticValues": {"SampleCount": 1, "Sum": 1, "Minimum": 1, "Maximum": 1}}),
            ),
            "InvalidParameterCombination",
            "The parameters MetricData.member.1.Value and MetricData.member.1.StatisticValues are mutually exclusive and you have specified both.",
        ),
        (
            datum(json!({"Value": 1, "Values": [1]})),
            "InvalidParameterCombination",
            "mutually exclusive",
        ),
        (
            datum(json!({"Values": [1, 2], "Counts": [1]})),
            "InvalidParameterValue",
            "The parameters MetricData.member.1.Values and MetricData.member.1.Counts must be of the same size.",
        ),
        (
            datum(json!({"Value": 1, "Counts": [1]})),
            "InvalidParameterCombination",
            "MetricData.member.1.Counts",
        ),
        (
            values(151),
            "InvalidParameterValue",
            "The collection MetricData.member.1.Values must not have a size greater than 150.",
        ),
        (
            datum(json!({"Value": "NaN"})),
            "InvalidParameterValue",
            "The value NaN for parameter MetricData.member.1.Value is not a valid value.",
        ),
        (
            datum(json!({"Value": "Infinity"})),
            "InvalidParameterValue",
            "The value Infinity for parameter MetricData.member.1.Value",
        ),
        (
            datum(json!({"Values": [1, "-Infinity"]})),
            "InvalidParameterValue",
            "MetricData.member.1.Values.member.2",
        ),
        (
            datum(json!({"Value": 1e300})),
            "InvalidParameterValue",
            "MetricData.member.1.Value",
        ),
        (
            datum(json!({"Values": [1], "Counts": [-1]})),
            "InvalidParameterValue",
            "MetricData.member.1.Counts.member.1",
        ),
        (
            dims(31),
            "InvalidParameterValue",
            "The collection MetricData.member.1.Dimensions must not have a size greater than 30.",
        ),
        (
            datum(json!({"Value": 1, "Dimensions": [{"Name": "a"}]})),
            "MissingParameter",
            "The parameter MetricData.member.1.Dimensions.member.1.Value is required.",
        ),
        (
            datum(json!({"Value": 1, "Dimensions": [{"Name": "a", "Value": ""}]})),
            "InvalidParameterValue",
            "Dimensions.member.1.Value",
        ),
        (
            datum(json!({"Value": 1, "Dimensions": [{"Name": ":a", "Value": "v"}]})),
            "InvalidParameterValue",
            "Dimensions.member.1.Name",
        ),
        (
            datum(
                json!({"Value": 1, "Dimensions": [{"Name": "a", "Value": "v"}, {"Name": "a", "Value": "w"}]}),
            ),
            "InvalidParameterValue",
            "duplicate",
        ),
        (
            datum(json!({"Value": 1, "Timestamp": T0 - 15 * 86_400})),
            "InvalidParameterValue",
            "The parameter MetricData.member.1.Timestamp must specify a time no more than two weeks in the past.",
        ),
        (
            datum(json!({"Value": 1, "Timestamp": T0 + 3 * 3_600})),
            "InvalidParameterValue",
            "The parameter MetricData.member.1.Timestamp must specify a time no more than two hours in the future.",
        ),
        (
            datum(json!({"Value": 1, "StorageResolution": 30})),
            "InvalidParameterValue",
            "The value 30 for parameter MetricData.member.1.StorageResolution is not a valid value.",
        ),
        (
            datum(json!({"Value": 1, "Unit": "Furlongs"})),
            "InvalidParameterValue",
            "The value Furlongs for parameter MetricData.member.1.Unit is not a valid value.",
        ),
        (
            datum(json!({"StatisticValues": {"SampleCount": 1, "Minimum": 1, "Maximum": 1}})),
            "MissingParameter",
            "The parameter MetricData.member.1.StatisticValues.Sum is required.",
        ),
        (
            datum(
                json!({"StatisticValues": {"SampleCount": 2, "Sum": 3, "Minimum": 2, "Maximum": 1}}),
            ),
            "InvalidParameterValue",
            "MetricData.member.1.StatisticValues.Minimum",
        ),
        (
            datum(
                json!({"StatisticValues": {"SampleCount": 0, "Sum": 0, "Minimum": 0, "Maximum": 0}}),
            ),
            "InvalidParameterValue",
            "MetricData.member.1.StatisticValues.SampleCount",
        ),
        (
            json!({"Namespace": "App", "MetricData": [{"MetricName": "M", "Value": 1}, {"MetricName": "", "Value": 1}]}),
            "InvalidParameterValue",
            "MetricData.member.2.MetricName",
        ),
        (
            json!({"Namespace": "App", "EntityMetricData": [{"MetricData": [{"MetricName": "M"}]}]}),
            "MissingParameter",
            "EntityMetricData.member.1.MetricData.member.1.Value",
        ),
    ];
    for (input, code, message) in table {
        let mut metrics = Metrics::default();
        let error = metrics
            .put_metric_data(&input, now)
            .expect_err(&input.to_string());
        assert_eq!(error.code, code, "{input}: {error}");
        assert!(
            error.message.contains(message),
            "{input}: {}",
            error.message
        );
        assert!(metrics.store().is_empty(), "{input} stored something");
    }
    // The same shapes, valid, are accepted.
    let mut metrics = Metrics::default();
    for input in [
        values(150),
        dims(30),
        datum(json!({"Value": 1, "Timestamp": T0 - 13 * 86_400, "StorageResolution": 60})),
        datum(
            json!({"Value": 1, "Timestamp": T0 + 3_600, "StorageResolution": 1, "Unit": "Count/Second"}),
        ),
        datum(json!({"Values": [1.0, 2.0, 3.5], "Counts": [3.0, 1.0, 2.0]})),
        datum(
            json!({"StatisticValues": {"SampleCount": 4, "Sum": 10, "Minimum": 1, "Maximum": 4}}),
        ),
        json!({"Namespace": "App", "EntityMetricData": [{"Entity": {}, "MetricData": [{"MetricName": "E", "Value": 1}]}]}),
    ] {
        assert_eq!(
            metrics.put_metric_data(&input, now),
            Ok(json!({})),
            "{input}"
        );
    }
}

fn statistics_input(extra: Value) -> Value {
    let mut input = json!({
        "Namespace": "App", "MetricName": "Latency",
        "StartTime": T0, "EndTime": T0 + 180, "Period": 60,
    });
    for (k, v) in extra.as_object().unwrap() {
        input[k] = v.clone();
    }
    input
}

// 2.3: datapoints per bucket with their unit; ExtendedStatistics as a map; exact
// dimensions; unit filter; empty buckets omitted; errors.
#[test]
fn get_metric_statistics_answers_and_refuses() {
    let mut metrics = Metrics::default();
    let now = at(600);
    put(
        &mut metrics,
        json!({"Namespace": "App", "MetricData": [
            {"MetricName": "Latency", "Values": [1.0, 2.0, 3.5], "Counts": [3.0, 1.0, 2.0], "Unit": "Milliseconds", "Timestamp": T0 + 5},
            {"MetricName": "Latency", "Value": 12.5, "Unit": "Milliseconds", "Timestamp": T0 + 130},
            {"MetricName": "Latency", "Value": 99, "Unit": "Milliseconds", "Timestamp": T0 + 10,
             "Dimensions": [{"Name": "Svc", "Value": "api"}]},
        ]}),
        now,
    );
    let answer = metrics
        .get_metric_statistics(
            &statistics_input(json!({"Statistics": ["Average", "Maximum", "SampleCount"]})),
            now,
        )
        .unwrap();
    assert_eq!(
        answer,
        json!({"Label": "Latency", "Datapoints": [
            {"Timestamp": T0, "Unit": "Milliseconds", "Average": 2.0, "Maximum": 3.5, "SampleCount": 6.0},
            {"Timestamp": T0 + 120, "Unit": "Milliseconds", "Average": 12.5, "Maximum": 12.5, "SampleCount": 1.0},
        ]})
    );
    let extended = metrics
        .get_metric_statistics(
            &statistics_input(json!({"ExtendedStatistics": ["p50", "p99.9", "IQM"]})),
            now,
        )
        .unwrap();
    assert_eq!(
        extended["Datapoints"][0]["ExtendedStatistics"],
        json!({"p50": 1.0, "p99.9": 3.5, "IQM": 4.0 / 3.0})
    );
    assert!(extended["Datapoints"][0].get("Average").is_none());
    // Exact dimension set.
    let svc = metrics
        .get_metric_statistics(
            &statistics_input(
                json!({"Statistics": ["Sum"], "Dimensions": [{"Name": "Svc", "Value": "api"}]}),
            ),
            now,
        )
        .unwrap();
    assert_eq!(
        svc["Datapoints"],
        json!([{"Timestamp": T0, "Unit": "Milliseconds", "Sum": 99.0}])
    );
    // Unit filter: a different unit sees nothing.
    let seconds = metrics
        .get_metric_statistics(
            &statistics_input(json!({"Statistics": ["Sum"], "Unit": "Seconds"})),
            now,
        )
        .unwrap();
    assert_eq!(seconds["Datapoints"], json!([]));
    // StartTime rounds down to the minute: 03:00:30 -> 03:00:00.
    let rounded = metrics
        .get_metric_statistics(
            &statistics_input(json!({"Statistics": ["Sum"], "StartTime": T0 + 30})),
            now,
        )
        .unwrap();
    assert_eq!(rounded["Datapoints"][0]["Timestamp"], json!(T0));

    let refused: Vec<(Value, &str, &str)> = vec![
        (
            statistics_input(json!({})),
            "InvalidParameterCombination",
            "Statistics or ExtendedStatistics",
        ),
        (
            statistics_input(json!({"Statistics": ["Sum"], "ExtendedStatistics": ["p99"]})),
            "InvalidParameterCombination",
            "but not both",
        ),
        (
            statistics_input(json!({"Statistics": ["p99"]})),
            "InvalidParameterValue",
            "The value p99 for parameter Statistics.member.1 is not a valid value.",
        ),
        (
            statistics_input(json!({"ExtendedStatistics": ["p101"]})),
            "InvalidParameterValue",
            "ExtendedStatistics.member.1",
        ),
        (
            statistics_input(json!({"Statistics": ["Sum", "Sum", "Sum", "Sum", "Sum", "Sum"]})),
            "InvalidParameterValue",
            "The collection Statistics must not have a size greater than 5.",
        ),
        (
            statistics_input(json!({"Statistics": ["Sum"], "Period": -1})),
            "InvalidParameterValue",
            "The value -1 for parameter Period is not a valid value.",
        ),
        (
            statistics_input(json!({"Statistics": ["Sum"], "Period": 7})),
            "InvalidParameterValue",
            "The value 7 for parameter Period is not a valid value.",
        ),
        (
            statistics_input(json!({"Statistics": ["Sum"], "EndTime": T0})),
            "InvalidParameterValue",
            "StartTime must be less than",
        ),
        (
            statistics_input(json!({"Statistics": ["Sum"], "Period": 1, "EndTime": T0 + 1441})),
            "InvalidParameterCombination",
            "You have requested up to 1,441 datapoints, which exceeds the limit of 1,440.",
        ),
        (
            json!({"Namespace": "App", "StartTime": T0, "EndTime": T0 + 60, "Period": 60, "Statistics": ["Sum"]}),
            "MissingParameter",
            "The parameter MetricName is required.",
        ),
        (
            json!({"Namespace": "App", "MetricName": "M", "EndTime": T0 + 60, "Period": 60, "Statistics": ["Sum"]}),
            "MissingParameter",
            "The parameter StartTime is required.",
        ),
        (
            json!({"Namespace": "App", "MetricName": "M", "StartTime": T0, "EndTime": T0 + 60, "Statistics": ["Sum"]}),
            "MissingParameter",
            "The parameter Period is required.",
        ),
    ];
    for (input, code, message) in refused {
        let error = metrics
            .get_metric_statistics(&input, now)
            .expect_err(&input.to_string());
        assert_eq!(error.code, code, "{input}: {error}");
        assert!(
            error.message.contains(message),
            "{input}: {}",
            error.message
        );
    }
    // Exactly 1,440 is fine.
    let limit = statistics_input(json!({"Statistics": ["Sum"], "Period": 1, "EndTime": T0 + 1440}));
    assert!(metrics.get_metric_statistics(&limit, now).is_ok());
}

fn error_rate_queries() -> Value {
    let stat = |id: &str, name: &str| {
        json!({
            "Id": id, "ReturnData": false,
            "MetricStat": {"Metric": {"Namespace": "ReInvent-EC2SpotTestDev-Metrics", "MetricName": name},
                           "Period": 60, "Stat": "Sum"},
        })
    };
    json!([
        stat("errors", "Error"),
        stat("successes", "Success"),
        {"Id": "rate", "Expression": "errors / (errors + successes)", "Label": "Error rate"},
    ])
}

/// Three minutes of walkthrough traffic: error ratios 0.1, 0.3, 0.0.
fn three_minutes() -> Metrics {
    let mut metrics = Metrics::default();
    for (minute, failures) in [(0u64, 1usize), (1, 3), (2, 0)] {
        let errors: Vec<bool> = (0..10).map(|i| i < failures).collect();
        put(&mut metrics, walkthrough_call(&errors), at(minute * 60 + 5));
    }
    metrics
}

// 2.4: MetricStat and Expression queries; ReturnData false hides inputs; newest first by
// default; labels.
#[test]
fn get_metric_data_with_an_error_rate_expression() {
    let metrics = three_minutes();
    let input =
        json!({"MetricDataQueries": error_rate_queries(), "StartTime": T0, "EndTime": T0 + 180});
    let answer = metrics.get_metric_data(&input, at(300)).unwrap();
    assert_eq!(
        answer,
        json!({
            "MetricDataResults": [{
                "Id": "rate", "Label": "Error rate",
                "Timestamps": [T0 + 120, T0 + 60, T0], "Values": [0.0, 0.3, 0.1],
                "StatusCode": "Complete", "Messages": [],
            }],
            "Messages": [],
        })
    );
    // Ascending, with the inputs returned too and default labels.
    let mut queries = error_rate_queries();
    queries[0]["ReturnData"] = json!(true);
    queries[2].as_object_mut().unwrap().remove("Label");
    let input = json!({"MetricDataQueries": queries, "StartTime": T0, "EndTime": T0 + 180, "ScanBy": "TimestampAscending"});
    let answer = metrics.get_metric_data(&input, at(300)).unwrap();
    let results = answer["MetricDataResults"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    assert_eq!(results[0]["Id"], "errors");
    assert_eq!(results[0]["Label"], "Error");
    assert_eq!(results[0]["Values"], json!([1.0, 3.0, 0.0]));
    assert_eq!(results[1]["Label"], "rate");
    assert_eq!(results[1]["Timestamps"], json!([T0, T0 + 60, T0 + 120]));
}

// 2.4: MaxDatapoints pages through every result's points with NextToken.
#[test]
fn get_metric_data_paginates() {
    let mut metrics = Metrics::default();
    for minute in 0..10u64 {
        put(
            &mut metrics,
            json!({"Namespace": "App", "MetricData": [
                {"MetricName": "A", "Value": minute as f64},
                {"MetricName": "B", "Value": 100.0 + minute as f64},
            ]}),
            at(minute * 60),
        );
    }
    let stat = |id: &str, name: &str| {
        json!({"Id": id, "MetricStat": {
        "Metric": {"Namespace": "App", "MetricName": name}, "Period": 60, "Stat": "Average"}})
    };
    let mut token: Option<Value> = None;
    let mut seen: Vec<(String, f64)> = Vec::new();
    let mut pages = 0;
    loop {
        let mut input = json!({
            "MetricDataQueries": [stat("a", "A"), stat("b", "B")],
            "StartTime": T0, "EndTime": T0 + 600, "MaxDatapoints": 7,
        });
        if let Some(token) = &token {
            input["NextToken"] = token.clone();
        }
        let answer = metrics.get_metric_data(&input, at(700)).unwrap();
        pages += 1;
        for result in answer["MetricDataResults"].as_array().unwrap() {
            let id = result["Id"].as_str().unwrap().to_owned();
            let status = result["StatusCode"].as_str().unwrap();
            assert!(status == "Complete" || status == "PartialData");
            for value in result["Values"].as_array().unwrap() {
                seen.push((id.clone(), value.as_f64().unwrap()));
            }
        }
        match answer.get("NextToken") {
            Some(next) => token = Some(next.clone()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    let expected: Vec<(String, f64)> = (0..10)
        .rev()
        .map(|m| ("a".to_owned(), f64::from(m)))
        .chain(
            (0..10)
                .rev()
                .map(|m| ("b".to_owned(), 100.0 + f64::from(m))),
        )
        .collect();
    assert_eq!(seen, expected);
    let bad = json!({"MetricDataQueries": [stat("a", "A")], "StartTime": T0, "EndTime": T0 + 60, "NextToken": "nope"});
    assert_eq!(
        metrics.get_metric_data(&bad, at(700)).unwrap_err().code,
        "InvalidNextToken"
    );
}

#[test]
fn get_metric_data_refuses_bad_queries() {
    let metrics = three_minutes();
    let with = |queries: Value| json!({"MetricDataQueries": queries, "StartTime": T0, "EndTime": T0 + 180});
    let stat =
        json!({"Metric": {"Namespace": "N", "MetricName": "M"}, "Period": 60, "Stat": "Sum"});
    let table: Vec<(Value, &str, &str)> = vec![
        (with(json!([])), "MissingParameter", "MetricDataQueries"),
        (
            json!({"StartTime": T0, "EndTime": T0 + 60}),
            "MissingParameter",
            "MetricDataQueries",
        ),
        (
            with(json!([{"Id": "M1", "MetricStat": stat}])),
            "InvalidParameterValue",
            "The value M1 for parameter MetricDataQueries.member.1.Id is not a valid value.",
        ),
        (
            with(json!([{"Id": "m-1", "MetricStat": stat}])),
            "InvalidParameterValue",
            "MetricDataQueries.member.1.Id",
        ),
        (
            with(json!([{"Id": "m1", "MetricStat": stat}, {"Id": "m1", "MetricStat": stat}])),
            "InvalidParameterValue",
            "not unique",
        ),
        (
            with(json!([{"Id": "m1"}])),
            "InvalidParameterValue",
            "Exactly one element of the MetricStat or the Expression",
        ),
        (
            with(json!([{"Id": "m1", "MetricStat": stat, "Expression": "1"}])),
            "InvalidParameterValue",
            "Exactly one element",
        ),
        (
            with(json!([{"Id": "e1", "Expression": "m9 * 2"}])),
            "InvalidParameterValue",
            "Unrecognized metric identifier m9",
        ),
        (
            with(json!([{"Id": "e1", "Expression": "(1 + "}])),
            "InvalidParameterValue",
            "Error in expression e1",
        ),
        (
            with(json!([{"Id": "e1", "Expression": "e2"}, {"Id": "e2", "Expression": "e1"}])),
            "InvalidParameterValue",
            "circular",
        ),
        (
            with(
                json!([{"Id": "m1", "MetricStat": {"Metric": {"Namespace": "N", "MetricName": "M"}, "Period": 60, "Stat": "Mean"}}]),
            ),
            "InvalidParameterValue",
            "MetricDataQueries.member.1.MetricStat.Stat",
        ),
        (
            with(
                json!([{"Id": "m1", "MetricStat": {"Metric": {"Namespace": "N", "MetricName": "M"}, "Stat": "Sum"}}]),
            ),
            "MissingParameter",
            "MetricDataQueries.member.1.MetricStat.Period",
        ),
        (
            with(
                json!([{"Id": "m1", "MetricStat": {"Metric": {"Namespace": "N"}, "Period": 60, "Stat": "Sum"}}]),
            ),
            "MissingParameter",
            "MetricDataQueries.member.1.MetricStat.Metric.MetricName",
        ),
        (
            json!({"MetricDataQueries": [{"Id": "m1", "MetricStat": stat}], "StartTime": T0, "EndTime": T0, }),
            "InvalidParameterValue",
            "StartTime",
        ),
        (
            json!({"MetricDataQueries": [{"Id": "m1", "MetricStat": stat}], "StartTime": T0, "EndTime": T0 + 60, "ScanBy": "Sideways"}),
            "InvalidParameterValue",
            "ScanBy",
        ),
    ];
    for (input, code, message) in table {
        let error = metrics
            .get_metric_data(&input, at(300))
            .expect_err(&input.to_string());
        assert_eq!(error.code, code, "{input}: {error}");
        assert!(
            error.message.contains(message),
            "{input}: {}",
            error.message
        );
    }
}

// ListMetrics: each metric once (however many units and datums), name-only dimension
// filters, 500 per page with NextToken.
#[test]
fn list_metrics_filters_deduplicates_and_pages() {
    let mut metrics = Metrics::default();
    let now = at(0);
    for unit in ["Count", "None", "Count"] {
        put(
            &mut metrics,
            json!({"Namespace": "App", "MetricData": [
                {"MetricName": "Latency", "Value": 1, "Unit": unit, "Dimensions": [{"Name": "Svc", "Value": "api"}, {"Name": "Zone", "Value": "a"}]},
                {"MetricName": "Latency", "Value": 1, "Unit": unit, "Dimensions": [{"Name": "Zone", "Value": "a"}, {"Name": "Svc", "Value": "api"}]},
                {"MetricName": "Latency", "Value": 1, "Unit": unit, "Dimensions": [{"Name": "Svc", "Value": "web"}]},
                {"MetricName": "Errors", "Value": 1, "Unit": unit},
            ]}),
            now,
        );
    }
    let list = |input: Value| metrics.list_metrics(&input, now).unwrap();
    assert_eq!(list(json!({}))["Metrics"].as_array().unwrap().len(), 3);
    assert_eq!(
        list(json!({"MetricName": "Latency"}))["Metrics"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        list(json!({"Dimensions": [{"Name": "Zone"}]})),
        json!({"Metrics": [{"Namespace": "App", "MetricName": "Latency",
            "Dimensions": [{"Name": "Svc", "Value": "api"}, {"Name": "Zone", "Value": "a"}]}]})
    );
    assert_eq!(
        list(json!({"Dimensions": [{"Name": "Svc", "Value": "web"}]}))["Metrics"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(list(json!({"Namespace": "Nope"}))["Metrics"], json!([]));
    // Older than two weeks: not listed; RecentlyActive: only the last three hours.
    let later = |input: Value, hours: u64| {
        metrics
            .list_metrics(&input, now + SimDuration::from_hours(hours))
            .unwrap()["Metrics"]
            .as_array()
            .unwrap()
            .len()
    };
    assert_eq!(later(json!({"RecentlyActive": "PT3H"}), 2), 3);
    assert_eq!(later(json!({"RecentlyActive": "PT3H"}), 4), 0);
    assert_eq!(later(json!({}), 14 * 24 - 1), 3);
    assert_eq!(later(json!({}), 14 * 24 + 1), 0);
    let refused = [
        json!({"RecentlyActive": "PT1H"}),
        json!({"NextToken": "garbage!"}),
        json!({"Dimensions": [{"Value": "x"}]}),
    ];
    for input in refused {
        assert!(metrics.list_metrics(&input, now).is_err(), "{input}");
    }

    let mut many = Metrics::default();
    let data: Vec<Value> = (0..1_000)
        .map(|i| json!({"MetricName": format!("M{i:04}"), "Value": 1}))
        .collect();
    put(
        &mut many,
        json!({"Namespace": "Bulk", "MetricData": data}),
        now,
    );
    let data: Vec<Value> = (1_000..1_203)
        .map(|i| json!({"MetricName": format!("M{i:04}"), "Value": 1}))
        .collect();
    put(
        &mut many,
        json!({"Namespace": "Bulk", "MetricData": data}),
        now,
    );
    let mut names = Vec::new();
    let mut token: Option<Value> = None;
    let mut pages = Vec::new();
    loop {
        let mut input = json!({"Namespace": "Bulk"});
        if let Some(token) = &token {
            input["NextToken"] = token.clone();
        }
        let answer = many.list_metrics(&input, now).unwrap();
        let page = answer["Metrics"].as_array().unwrap();
        pages.push(page.len());
        names.extend(
            page.iter()
                .map(|m| m["MetricName"].as_str().unwrap().to_owned()),
        );
        match answer.get("NextToken") {
            Some(next) => token = Some(next.clone()),
            None => break,
        }
    }
    assert_eq!(pages, vec![500, 500, 203]);
    let expected: Vec<String> = (0..1_203).map(|i| format!("M{i:04}")).collect();
    assert_eq!(names, expected);
}

// The agent's native reports: histograms with a scale, recorded without JSON, merged
// exactly into fleet-wide series; GetMetricStatistics reads them like any data.
#[test]
fn native_histograms_ingest_and_merge() {
    let mut metrics = Metrics::default();
    let fleet = MetricId::new("spotlab", "Latency").with_dimension("FleetId", "fleet-1");
    let mut merged = Histogram::<u64>::new_with_bounds(1, 3_600_000_000, 3).unwrap();
    for (instance, base) in [("i-1", 1_000u64), ("i-2", 40_000)] {
        let mut histogram = Histogram::<u64>::new_with_bounds(1, 3_600_000_000, 3).unwrap();
        for i in 0..500 {
            histogram.record(base + i * 7).unwrap();
        }
        merged.add(&histogram).unwrap();
        let aggregate = Aggregate::from_sample(&Sample::Histogram {
            histogram: &histogram,
            scale: 0.001,
        })
        .unwrap();
        let per_instance = fleet.clone().with_dimension("InstanceId", instance);
        for metric in [&fleet, &per_instance] {
            metrics.record_aggregate(
                metric,
                Unit::Milliseconds,
                Resolution::High,
                at(1),
                &aggregate,
            );
        }
    }
    metrics
        .record(
            &fleet,
            Unit::Milliseconds,
            Resolution::High,
            at(2),
            &Sample::Histogram {
                histogram: &merged,
                scale: 0.001,
            },
        )
        .unwrap();
    let input = json!({
        "Namespace": "spotlab", "MetricName": "Latency", "Dimensions": [{"Name": "FleetId", "Value": "fleet-1"}],
        "StartTime": T0, "EndTime": T0 + 60, "Period": 60, "ExtendedStatistics": ["p50", "p99"],
    });
    let answer = metrics.get_metric_statistics(&input, at(60)).unwrap();
    let point = &answer["Datapoints"][0];
    // The fleet saw `merged` twice (two instances at second 1, the whole at second 2):
    // same quantiles as `merged`.
    for (name, quantile) in [("p50", 0.5), ("p99", 0.99)] {
        let expected = merged.value_at_quantile(quantile) as f64 * 0.001;
        let got = point["ExtendedStatistics"][name].as_f64().unwrap();
        assert!((got - expected).abs() < 1e-9, "{name}: {got} vs {expected}");
    }
    assert_eq!(point["Unit"], "Milliseconds");
    let listed = metrics
        .list_metrics(&json!({"Namespace": "spotlab"}), at(60))
        .unwrap();
    assert_eq!(listed["Metrics"].as_array().unwrap().len(), 3);
}

// Alarms read datapoints without JSON: single metric (with sample counts) and math.
#[test]
fn alarm_series_for_metric_and_math_alarms() {
    let metrics = three_minutes();
    let single = AlarmQuery::Metric(MetricQuery {
        metric: MetricId::new("ReInvent-EC2SpotTestDev-Metrics", "Error"),
        statistic: Statistic::Average,
        period: Period::MINUTE,
        unit: None,
    });
    let points = metrics.alarm_series(&single, at(0), at(180)).unwrap();
    let values: Vec<(SimTime, f64, Option<f64>)> = points
        .iter()
        .map(|p| (p.timestamp, p.value, p.sample_count))
        .collect();
    assert_eq!(
        values,
        vec![
            (at(0), 0.1, Some(10.0)),
            (at(60), 0.3, Some(10.0)),
            (at(120), 0.0, Some(10.0)),
        ]
    );
    // Windows are taken as given (no rounding): a window from second 30 straddles minutes.
    let shifted = metrics.alarm_series(&single, at(30), at(90)).unwrap();
    assert_eq!(shifted.len(), 1);
    assert_eq!(shifted[0].timestamp, at(30));
    // A unit that was never published: nothing.
    let wrong_unit = AlarmQuery::Metric(MetricQuery {
        metric: MetricId::new("ReInvent-EC2SpotTestDev-Metrics", "Error"),
        statistic: Statistic::Average,
        period: Period::MINUTE,
        unit: Some(Unit::Seconds),
    });
    assert!(
        metrics
            .alarm_series(&wrong_unit, at(0), at(180))
            .unwrap()
            .is_empty()
    );

    let queries = MetricQueries::parse(&error_rate_queries(), "Metrics").unwrap();
    assert_eq!(queries.queries().len(), 3);
    let math = AlarmQuery::Math(queries);
    let points = metrics.alarm_series(&math, at(60), at(180)).unwrap();
    let values: Vec<(SimTime, f64)> = points.iter().map(|p| (p.timestamp, p.value)).collect();
    assert_eq!(values, vec![(at(60), 0.3), (at(120), 0.0)]);
    assert!(points.iter().all(|p| p.sample_count.is_none()));

    let mut two_returned = error_rate_queries();
    two_returned[0]["ReturnData"] = json!(true);
    let two = AlarmQuery::Math(MetricQueries::parse(&two_returned, "Metrics").unwrap());
    assert!(metrics.alarm_series(&two, at(0), at(180)).is_err());
}

#[test]
fn retention_expires_old_data() {
    let mut metrics = Metrics::new(Retention::default());
    put(
        &mut metrics,
        json!({"Namespace": "App", "MetricData": [{"MetricName": "M", "Value": 1, "StorageResolution": 1}]}),
        at(0),
    );
    assert_eq!(metrics.store().bucket_count(), 1);
    metrics.expire(at(0) + SimDuration::from_days(456));
    assert!(metrics.store().is_empty());
}

/// The services as the region drives them: calls at the current time, and time moved
/// forward by `advance_to` in between.
fn service() -> monitoring::Monitoring {
    monitoring::Monitoring::new(monitoring::MonitoringConfig {
        region: "us-east-1".into(),
        account: "123456789012".into(),
        seed: 1,
        endpoint_url: "http://127.0.0.1:4747".into(),
    })
}

// Retention applies to what the calls see, however time moves: data rolled up into
// coarser tiers still counts once, and data older than the last tier (455 days) is
// gone from GetMetricStatistics and GetMetricData, whether time moved in many steps
// with reads in between or in one.
#[test]
fn data_older_than_retention_is_invisible_to_reads() {
    use monitoring::Service::CloudWatch;
    for steps in [1u64, 7, 91] {
        let mut cloud = service();
        cloud.advance_to(at(0));
        let put = json!({"Namespace": "App", "MetricData": [
            {"MetricName": "M", "Value": 2, "StorageResolution": 1},
            {"MetricName": "M", "Value": 3},
        ]});
        cloud
            .call(CloudWatch, "PutMetricData", &put, at(0))
            .expect("PutMetricData accepts the datum");
        let statistics = json!({
            "Namespace": "App", "MetricName": "M", "StartTime": T0, "EndTime": T0 + 3600,
            "Period": 3600, "Statistics": ["Sum", "SampleCount"],
        });
        let data = json!({
            "StartTime": T0, "EndTime": T0 + 3600,
            "MetricDataQueries": [{"Id": "m", "MetricStat": {
                "Metric": {"Namespace": "App", "MetricName": "M"}, "Period": 3600, "Stat": "Sum",
            }}],
        });
        let sums = |cloud: &mut monitoring::Monitoring, now: SimTime| {
            let answer = cloud
                .call(CloudWatch, "GetMetricStatistics", &statistics, now)
                .expect("GetMetricStatistics answers");
            let from_statistics: Vec<f64> = answer["Datapoints"]
                .as_array()
                .expect("datapoints are a list")
                .iter()
                .map(|point| point["Sum"].as_f64().expect("a JSON number"))
                .collect();
            let answer = cloud
                .call(CloudWatch, "GetMetricData", &data, now)
                .expect("GetMetricData answers");
            let from_data: Vec<f64> = answer["MetricDataResults"][0]["Values"]
                .as_array()
                .expect("values are a list")
                .iter()
                .map(|value| value.as_f64().expect("a JSON number"))
                .collect();
            assert_eq!(from_statistics, from_data, "at {now:?}");
            from_statistics
        };
        let days = 455 + 2;
        for step in 1..=steps {
            let now = at(0) + SimDuration::from_days(days * step / steps);
            cloud.advance_to(now);
            let expected: Vec<f64> =
                if now < at(0) + SimDuration::from_days(455) + SimDuration::from_hours(1) {
                    vec![5.0]
                } else {
                    Vec::new()
                };
            assert_eq!(
                sums(&mut cloud, now),
                expected,
                "{steps} steps, step {step}"
            );
        }
        assert!(cloud.metrics().store().is_empty(), "{steps} steps");
    }
}
