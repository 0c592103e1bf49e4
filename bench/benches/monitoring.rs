//! Criterion benchmarks of the local cloud's CloudWatch core (`monitoring::Monitoring`),
//! no network and no journal: one virtual minute of evaluation of 10,000 alarms, and the
//! ingest calls the HTTP benchmark (`bench/monitoring/run.sh`) replays, so its figures can
//! be split into the core's share and the endpoint's. See `bench/MONITORING.md`.
//!
//! - `monitoring/evaluate/10000_alarms_1000_metrics`: 1,000 metrics (`Bench/Monitoring`
//!   `Latency`, dimension `Host`), each getting one datum per virtual minute, and 10,000
//!   alarms on them (ten kinds per metric: the walkthrough's `Average` ≥ threshold over one
//!   minute, M of N, `Sum`, `Maximum`, `Minimum`, `SampleCount`, `p99`, `p50`, a 300 s
//!   period, every `TreatMissingData`). One iteration puts the minute's 1,000 datums
//!   (untimed) and then times `Monitoring::advance_to` the next whole minute: 10,000
//!   evaluations plus retention. After a warm-up every alarm is OK or ALARM and stays
//!   there, so the figure is steady-state evaluation without state changes.
//! - `monitoring/ingest/*`: `Monitoring::call(CloudWatch, "PutMetricData", …)` with the
//!   walkthrough's 20 datums and with 1,000 datums of `Values`/`Counts` arrays (the JSON
//!   already parsed: the wire codec is not included), and `Monitoring::ingest_reports`
//!   with one agent report (a new run id and sequence number every time).
//!
//! The fixtures are the same as `bench/monitoring/common.py`'s (`alarm_input`,
//! `feed_input`, `walkthrough_put_input`, `big_put_input` there), so the two measure the
//! same work (the HTTP benchmark feeds its metrics twice a virtual minute, this one once).

use std::hint::black_box;
use std::time::{Duration, Instant};

use agent_wire::{Counts, Latency, Report, Source};
use criterion::{BatchSize, Criterion, SamplingMode, criterion_group, criterion_main};
use monitoring::{Monitoring, MonitoringConfig, Service};
use serde_json::{Value, json};
use simtime::{SimDuration, SimTime};
use watch::alarm::AlarmState;

/// Metrics the alarms watch.
const METRICS: usize = 1_000;
/// Alarms: ten per metric.
const ALARMS: usize = 10_000;
/// Where virtual time starts: a whole minute (2026-12-01T00:00:00Z).
const START_MS: u64 = 1_796_083_200_000;
/// The first instance id's number (ids are `i-` and 17 hex digits).
const INSTANCE_BASE: u64 = 0x0be_0000_0000;
/// Warm-up minutes before timing: enough for every alarm's whole range (the 300 s
/// alarm's spans 3 × 300 s) to hold data.
const WARM_UP_MINUTES: u64 = 20;

fn minute(n: u64) -> SimTime {
    SimTime::from_millis(START_MS) + SimDuration::from_millis(n * 60_000)
}

fn monitoring() -> Monitoring {
    Monitoring::new(MonitoringConfig {
        region: "us-east-1".into(),
        account: "123456789012".into(),
        seed: 1,
        endpoint_url: "http://127.0.0.1:4747".into(),
    })
}

/// Alarm `i` of the 10,000 (common.py's `alarm_input`): metric `i % 1000`, kind `i / 1000`.
fn alarm_input(i: usize) -> Value {
    let metric = i % METRICS;
    let kind = i / METRICS;
    let mut alarm = json!({
        "AlarmName": format!("bench-{kind}-host-{metric:04}"),
        "Namespace": "Bench/Monitoring",
        "MetricName": "Latency",
        "Dimensions": [{"Name": "Host", "Value": format!("host-{metric:04}")}],
        "Period": 60,
        "EvaluationPeriods": 1,
        "Threshold": 50.0,
        "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        "TreatMissingData": "ignore",
        "Statistic": "Average",
    });
    let set = |alarm: &mut Value, key: &str, value: Value| {
        if let Some(map) = alarm.as_object_mut() {
            map.insert(key.to_owned(), value);
        }
    };
    let extended = |alarm: &mut Value, name: &str| {
        if let Some(map) = alarm.as_object_mut() {
            map.remove("Statistic");
            map.insert("ExtendedStatistic".into(), json!(name));
        }
    };
    match kind {
        1 => {
            set(&mut alarm, "Statistic", json!("Sum"));
            set(&mut alarm, "EvaluationPeriods", json!(3));
            set(&mut alarm, "DatapointsToAlarm", json!(2));
            set(
                &mut alarm,
                "ComparisonOperator",
                json!("GreaterThanThreshold"),
            );
            set(&mut alarm, "TreatMissingData", json!("missing"));
        }
        2 => {
            set(&mut alarm, "Statistic", json!("Maximum"));
            set(&mut alarm, "EvaluationPeriods", json!(5));
            set(&mut alarm, "DatapointsToAlarm", json!(3));
            set(&mut alarm, "ComparisonOperator", json!("LessThanThreshold"));
            set(&mut alarm, "TreatMissingData", json!("breaching"));
        }
        3 => {
            set(&mut alarm, "Statistic", json!("Minimum"));
            set(&mut alarm, "EvaluationPeriods", json!(2));
            set(
                &mut alarm,
                "ComparisonOperator",
                json!("LessThanOrEqualToThreshold"),
            );
            set(&mut alarm, "TreatMissingData", json!("notBreaching"));
        }
        4 => {
            set(&mut alarm, "Statistic", json!("SampleCount"));
            set(&mut alarm, "Threshold", json!(0.5));
            set(
                &mut alarm,
                "ComparisonOperator",
                json!("GreaterThanThreshold"),
            );
            set(&mut alarm, "TreatMissingData", json!("breaching"));
        }
        5 => {
            extended(&mut alarm, "p99");
            set(&mut alarm, "EvaluationPeriods", json!(3));
            set(
                &mut alarm,
                "ComparisonOperator",
                json!("GreaterThanThreshold"),
            );
        }
        6 => extended(&mut alarm, "p50"),
        7 => set(&mut alarm, "Period", json!(300)),
        8 => {
            set(&mut alarm, "EvaluationPeriods", json!(10));
            set(&mut alarm, "DatapointsToAlarm", json!(5));
            set(&mut alarm, "TreatMissingData", json!("missing"));
        }
        9 => {
            set(&mut alarm, "Statistic", json!("Sum"));
            set(&mut alarm, "Period", json!(120));
            set(&mut alarm, "EvaluationPeriods", json!(2));
        }
        _ => {}
    }
    alarm
}

/// One minute of the feed (common.py's `feed_input`): metric `m` gets the value `m % 100`,
/// so half of each kind of alarm is in ALARM and every state is stable.
fn feed_input() -> Value {
    let data: Vec<Value> = (0..METRICS)
        .map(|m| {
            json!({
                "MetricName": "Latency",
                "Dimensions": [{"Name": "Host", "Value": format!("host-{m:04}")}],
                "Value": (m % 100) as f64,
                "Unit": "Milliseconds",
            })
        })
        .collect();
    json!({"Namespace": "Bench/Monitoring", "MetricData": data})
}

/// The walkthrough's call: 20 datums alternating Success 1 / Error 0, no timestamp, no
/// dimensions.
fn walkthrough_put_input() -> Value {
    let data: Vec<Value> = (0..20)
        .map(|i| {
            if i % 2 == 0 {
                json!({"MetricName": "Success", "Value": 1.0})
            } else {
                json!({"MetricName": "Error", "Value": 0.0})
            }
        })
        .collect();
    json!({"Namespace": "ReInvent-EC2SpotTestDev-Metrics", "MetricData": data})
}

/// The large call (common.py's `big_put_input`): 1,000 datums over 10 metric names and
/// 100 instances, each with 10 values and their counts, unit milliseconds.
fn big_put_input() -> Value {
    let names = [
        "Latency",
        "TimeToFirstByte",
        "ConnectTime",
        "DnsTime",
        "TlsTime",
        "QueueTime",
        "ServiceTime",
        "RetryDelay",
        "BodyTime",
        "TotalTime",
    ];
    let data: Vec<Value> = (0..1_000usize)
        .map(|i| {
            let values: Vec<f64> = (0..10).map(|j| ((i * 7 + j * 13) % 500) as f64 + 0.5).collect();
            let counts: Vec<f64> = (0..10).map(|j| ((i + j) % 5 + 1) as f64).collect();
            json!({
                "MetricName": names[i % names.len()],
                "Dimensions": [
                    {"Name": "InstanceId", "Value": format!("i-{:017x}", INSTANCE_BASE + (i / 10) as u64)},
                    {"Name": "AvailabilityZone", "Value": if i % 2 == 0 { "us-east-1a" } else { "us-east-1b" }},
                ],
                "Values": values,
                "Counts": counts,
                "Unit": "Milliseconds",
            })
        })
        .collect();
    json!({"Namespace": "Bench/Ingest", "MetricData": data})
}

fn put(monitoring: &mut Monitoring, input: &Value, now: SimTime) {
    if let Err(error) = monitoring.call(Service::CloudWatch, "PutMetricData", input, now) {
        panic!("PutMetricData refused: {error:?}");
    }
}

/// Counts of alarms by state.
fn states(monitoring: &Monitoring) -> (usize, usize, usize) {
    let (mut ok, mut alarm, mut insufficient) = (0, 0, 0);
    for i in 0..ALARMS {
        let name = alarm_input(i)["AlarmName"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        match monitoring.alarms().state(&name) {
            Some(AlarmState::Ok) => ok += 1,
            Some(AlarmState::Alarm) => alarm += 1,
            _ => insufficient += 1,
        }
    }
    (ok, alarm, insufficient)
}

fn evaluation(c: &mut Criterion) {
    let mut m = monitoring();
    let feed = feed_input();
    // Data first, then the alarms, then warm-up minutes (their first evaluations change
    // every state once).
    put(&mut m, &feed, minute(0) + SimDuration::from_millis(1_000));
    for i in 0..ALARMS {
        let now = minute(0) + SimDuration::from_millis(2_000);
        if let Err(error) = m.call(Service::CloudWatch, "PutMetricAlarm", &alarm_input(i), now) {
            panic!("PutMetricAlarm {i} refused: {error:?}");
        }
    }
    let mut next = 1;
    for _ in 0..WARM_UP_MINUTES {
        m.advance_to(minute(next));
        put(
            &mut m,
            &feed,
            minute(next) + SimDuration::from_millis(1_000),
        );
        next += 1;
    }
    m.advance_to(minute(next));
    let (ok, alarm, insufficient) = states(&m);
    eprintln!(
        "evaluate: after {WARM_UP_MINUTES} warm-up minutes: {ok} OK, {alarm} ALARM, {insufficient} INSUFFICIENT_DATA"
    );
    assert_eq!(ok + alarm, ALARMS, "every alarm has data after the warm-up");
    let due = m
        .next_due()
        .unwrap_or_else(|| panic!("no evaluation scheduled"));
    assert_eq!(
        due,
        minute(next + 1),
        "every alarm is evaluated each minute"
    );

    let mut group = c.benchmark_group("monitoring/evaluate");
    // About 0.1-0.2 s an iteration: flat sampling with 10 samples keeps the run to the
    // measurement time instead of criterion's linear ramp of iterations.
    group.sampling_mode(SamplingMode::Flat).sample_size(10);
    group.bench_function("10000_alarms_1000_metrics", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                put(
                    &mut m,
                    &feed,
                    minute(next) + SimDuration::from_millis(1_000),
                );
                next += 1;
                let started = Instant::now();
                m.advance_to(black_box(minute(next)));
                total += started.elapsed();
            }
            total
        });
    });
    group.finish();
    let (ok_after, alarm_after, _) = states(&m);
    eprintln!(
        "evaluate: after {} timed minutes: {ok_after} OK, {alarm_after} ALARM",
        next - WARM_UP_MINUTES - 1
    );
    assert_eq!(
        (ok_after, alarm_after),
        (ok, alarm),
        "no alarm changes state while timed (the figure is steady-state evaluation)"
    );
}

/// Agent `agent`'s report `seq` (bench.py's `report_worker`: the same source fields), with
/// `latency` as both histograms.
fn report(agent: u64, seq: u64, latency: &Latency) -> Report {
    const TYPES: [&str; 4] = ["t2.small", "c5.large", "m5.large", "t3.medium"];
    const ZONES: [&str; 2] = ["us-east-1a", "us-east-1b"];
    // Both below their array's length: the index casts cannot truncate.
    let (kind, zone) = ((agent % 4) as usize, (agent % 2) as usize);
    Report {
        source: Source {
            instance_id: Some(format!("i-{:017x}", INSTANCE_BASE + agent)),
            fleet_id: Some(format!("fleet-bench-{kind}")),
            instance_type: Some(TYPES[kind].into()),
            availability_zone: Some(ZONES[zone].into()),
            run_id: format!("bench-run-{agent}"),
        },
        seq,
        start: minute(0) + SimDuration::from_millis(seq * 1_000),
        end: minute(0) + SimDuration::from_millis((seq + 1) * 1_000),
        counts: Counts {
            sent: 100,
            success: 97,
            server_error: 3,
            ..Counts::default()
        },
        latency_scheduled: latency.clone(),
        latency_actual: latency.clone(),
        last: false,
    }
}

fn ingest(c: &mut Criterion) {
    let mut group = c.benchmark_group("monitoring/ingest");

    let walkthrough = walkthrough_put_input();
    let mut m = monitoring();
    let mut ms = 0u64;
    group.bench_function("put_metric_data_20", |b| {
        b.iter(|| {
            ms += 1;
            put(
                &mut m,
                black_box(&walkthrough),
                minute(0) + SimDuration::from_millis(ms),
            );
        });
    });

    let big = big_put_input();
    let mut m = monitoring();
    let mut ms = 0u64;
    group.bench_function("put_metric_data_1000_values_counts", |b| {
        b.iter(|| {
            ms += 1;
            put(
                &mut m,
                black_box(&big),
                minute(0) + SimDuration::from_millis(ms),
            );
        });
    });

    // 100 requests in the second, latencies spread over 0.2-15 ms like a loopback run.
    let mut latency = Latency::new();
    for i in 0..100u64 {
        latency.record_micros(200 + (i * i * 37) % 15_000);
    }
    let mut m = monitoring();
    let mut n = 0u64;
    group.bench_function("native_report_1", |b| {
        b.iter_batched(
            || {
                // 2,000 agents taking turns, each with a gap-free sequence.
                let run = n % 2_000;
                let seq = n / 2_000;
                n += 1;
                [report(run, seq, &latency)]
            },
            |reports| {
                let answer = m.ingest_reports(black_box(&reports), minute(0));
                assert_eq!(answer.accepted, 1);
            },
            BatchSize::SmallInput,
        );
    });
    group.finish();
}

criterion_group! {
    name = benches;
    // Defaults that the command line can override (bench.py's quick mode shortens them).
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    targets = evaluation, ingest
}
criterion_main!(benches);
