//! `spotlab agent --report cloudwatch` end to end, one test body against two
//! CloudWatches: the local cloud (`spotlab up`) and moto's, both on loopback.
//!
//! Each run: the walkthrough's alarm (from `examples/walkthrough-stack.toml`) is created
//! through aws-sdk-cloudwatch, the real `spotlab agent` runs against `spotlab target`
//! at time scale 20 and finds the CloudWatch through the standard SDK variables
//! (`AWS_ENDPOINT_URL`, `AWS_REGION`, credentials) as it would find AWS's, and then,
//! through the SDK again: `Sum(Success) + Sum(Error)` equals the agent's checkpoint per
//! dimension set; the alarm exists as defined and its own metric query (namespace,
//! metric, dimensions, statistic, period, through GetMetricData) sees the agent's data:
//! as many samples as the agent completed requests and their error rate as the average;
//! DeleteAlarms removes it.
//!
//! On the local cloud the agent's clock is aligned with the cloud's virtual clock, and
//! additionally a Latency p99 exists and the alarm leaves INSUFFICIENT_DATA. moto
//! evaluates no alarms and has no percentiles, and it matches a query's dimensions by
//! containment, so a query without dimensions adds up every dimension set the agent
//! sent. moto's CloudWatch does not speak aws-sdk-cloudwatch's Smithy RPC v2 CBOR, so
//! its calls (the agent's and the test's) go through `support/cbor_bridge.rs`, which
//! forwards them to moto as AWS JSON 1.0. The moto run skips when the Python virtual
//! environment is missing, unless `SPOTLAB_REQUIRE_MOTO` or `SPOTLAB_REQUIRE_AWS_CLI`
//! is set (see `support/moto.rs`).

#![allow(clippy::unwrap_used)] // A panic in a test helper is a failed test with a message.

mod support;

#[path = "support/cbor_bridge.rs"]
mod cbor_bridge;

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use agent_wire::Checkpoint;
use aws_sdk_cloudwatch::Client;
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{
    ComparisonOperator, Dimension, Metric, MetricAlarm, MetricDataQuery, MetricStat, StateValue,
    Statistic,
};
use serde_json::Value;
use simtime::{SimDuration, SimTime};
use support::Up;
use support::moto::Moto;

/// The dimension sets the agent reports with `--fleet-id fleet-cw --instance-id i-cw`
/// and no metadata service (no instance type, no zone).
const DIMENSION_SETS: [Option<(&str, &str)>; 3] = [
    None,
    Some(("FleetId", "fleet-cw")),
    Some(("InstanceId", "i-cw")),
];

/// Which CloudWatch a run reports to, and what it does beyond storing metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// The local cloud: evaluates alarms, serves percentiles, matches dimension sets
    /// exactly, runs on a virtual clock.
    LocalCloud,
    /// moto (through the bridge): stores alarms without evaluating them, has no
    /// percentiles, matches dimensions by containment, runs on real time.
    Moto,
}

impl Kind {
    /// How many copies of the agent's data a query with `dimension` sees: one, except
    /// on moto without dimensions, where every dimension set the agent sent matches.
    fn copies(self, dimension: Option<(&str, &str)>) -> f64 {
        match (self, dimension) {
            (Kind::Moto, None) => DIMENSION_SETS.len() as f64,
            _ => 1.0,
        }
    }
}

/// A child process killed on drop, so a failed assertion leaves nothing running.
struct Process {
    child: Child,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `spotlab target` admitting 5 requests per virtual second; returns it and its URL.
fn start_target() -> (Process, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_spotlab"))
        .args(["target", "--listen", "127.0.0.1:0", "--threads", "1"])
        .args(["--rate", "5", "--burst", "5", "--time-scale", "20"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting spotlab target");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("a piped stream"))
        .read_line(&mut line)
        .expect("spotlab target prints its address");
    let url = line
        .trim()
        .strip_prefix("spotlab target listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    (Process { child }, url)
}

/// What one agent run left: its checkpoint and its summary's per-sink delivery.
struct Run {
    checkpoint: Checkpoint,
    /// (sink, delivered, undelivered).
    sinks: Vec<(String, u64, u64)>,
}

/// 8 callers at 1/s for 30 virtual seconds against a target that admits 5/s (3 in 8
/// throttled), reporting to CloudWatch at `endpoint`; `origin` aligns the agent's clock
/// with the endpoint's (the local cloud's virtual clock).
fn run_agent(target: &str, endpoint: &str, origin: Option<String>, dir: &Path) -> Run {
    let checkpoints = dir.join("checkpoints");
    let mut command = Command::new(env!("CARGO_BIN_EXE_spotlab"));
    command
        .arg("agent")
        .args(["--url", target, "--callers", "8", "--rate", "1"])
        .args(["--imds", "off", "--duration", "30s", "--time-scale", "20"])
        .args(["--report", "cloudwatch", "--summary-json"])
        .args(["--fleet-id", "fleet-cw", "--instance-id", "i-cw"])
        .arg("--checkpoint")
        .arg(format!("file://{}/", checkpoints.display()))
        .current_dir(dir)
        .env_remove("SPOTLAB_TIME_ORIGIN")
        .env_remove("SPOTLAB_REPORT_TO")
        .env_remove("AWS_EC2_METADATA_SERVICE_ENDPOINT")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_ENDPOINT_URL_CLOUDWATCH")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        // Gzip every PutMetricData, as the SDK does with calls over 10 KB: the
        // compressed path is then exercised whatever the size of the reports.
        .env("AWS_REQUEST_MIN_COMPRESSION_SIZE_BYTES", "0")
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "spotlab")
        .env("AWS_SECRET_ACCESS_KEY", "spotlab");
    if let Some(origin) = origin {
        command.env("SPOTLAB_TIME_ORIGIN", origin);
    }
    let output: Output = command.output().expect("running spotlab agent");
    assert!(
        output.status.success(),
        "agent failed: {}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let summary: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "summary is not JSON ({error}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    });
    let sinks = serde_json::from_value(summary["sinks"].clone()).expect("valid JSON");
    let location = summary["checkpoint_location"]["Ok"]
        .as_str()
        .unwrap_or_else(|| panic!("no checkpoint: {summary}"));
    let path = url_path(location);
    let checkpoint = serde_json::from_slice(&std::fs::read(&path).expect("the file is there"))
        .expect("valid JSON");
    Run { checkpoint, sinks }
}

fn url_path(location: &str) -> PathBuf {
    PathBuf::from(
        location
            .strip_prefix("file://")
            .unwrap_or_else(|| panic!("checkpoint not in a file: {location}")),
    )
}

fn at(time: SimTime) -> DateTime {
    DateTime::from_millis(time.as_millis() as i64)
}

/// The run's span, give or take two minutes: every query's window.
fn window(run: &Checkpoint) -> (DateTime, DateTime) {
    let margin = SimDuration::from_mins(2);
    (at(run.started - margin), at(run.written + margin))
}

/// Sum of `metric` (with one dimension or none) over the run, by minute.
async fn total(
    cloudwatch: &Client,
    run: &Checkpoint,
    metric: &str,
    dimension: Option<(&str, &str)>,
) -> f64 {
    let (start, end) = window(run);
    let answer = cloudwatch
        .get_metric_statistics()
        .namespace("spotlab")
        .metric_name(metric)
        .set_dimensions(
            dimension
                .map(|(name, value)| vec![Dimension::builder().name(name).value(value).build()]),
        )
        .start_time(start)
        .end_time(end)
        .period(60)
        .statistics(Statistic::Sum)
        .send()
        .await
        .unwrap_or_else(|error| panic!("GetMetricStatistics {metric}: {error:?}"));
    answer.datapoints().iter().filter_map(|d| d.sum()).sum()
}

/// The cloud's virtual time now, as the origin `REAL_UNIX_MS:VIRTUAL_UNIX_MS`.
async fn cloud_origin(endpoint: &str) -> String {
    let real_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_millis();
    let health: Value = reqwest::get(format!("{endpoint}/spotlab/v1/health"))
        .await
        .expect("the cloud answers /health")
        .json()
        .await
        .expect("/health is JSON");
    let now: SimTime = serde_json::from_value(health["virtual_time"].clone()).expect("valid JSON");
    format!("{real_ms}:{}", now.as_millis())
}

/// The walkthrough's alarm as the stack file defines it (its first `[[alarms]]`), less
/// its actions: this test has no topics.
async fn put_walkthrough_alarm(cloudwatch: &Client) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/walkthrough-stack.toml");
    let file = std::fs::read_to_string(&path).expect("the walkthrough's stack file");
    let stack: toml::Value = toml::from_str(&file).expect("the stack file is TOML");
    let alarm = stack
        .get("alarms")
        .and_then(|alarms| alarms.get(0))
        .expect("the stack file has an alarm");
    let text = |key: &str| {
        alarm
            .get(key)
            .and_then(toml::Value::as_str)
            .unwrap_or_else(|| panic!("the alarm has no text {key}"))
    };
    let number = |key: &str| {
        alarm
            .get(key)
            .and_then(toml::Value::as_integer)
            .and_then(|n| i32::try_from(n).ok())
            .unwrap_or_else(|| panic!("the alarm has no integer {key}"))
    };
    let name = text("AlarmName").to_owned();
    cloudwatch
        .put_metric_alarm()
        .alarm_name(&name)
        .namespace(text("Namespace"))
        .metric_name(text("MetricName"))
        .statistic(Statistic::from(text("Statistic")))
        .period(number("Period"))
        .evaluation_periods(number("EvaluationPeriods"))
        .threshold(
            alarm
                .get("Threshold")
                .and_then(toml::Value::as_float)
                .expect("the alarm has a threshold"),
        )
        .comparison_operator(ComparisonOperator::from(text("ComparisonOperator")))
        .treat_missing_data(text("TreatMissingData"))
        .send()
        .await
        .expect("PutMetricAlarm");
    name
}

/// The metric alarm named `name`, if there is one.
async fn describe(cloudwatch: &Client, name: &str) -> Option<MetricAlarm> {
    let answer = cloudwatch
        .describe_alarms()
        .alarm_names(name)
        .send()
        .await
        .expect("DescribeAlarms");
    answer.metric_alarms().first().cloned()
}

/// What the alarm's own metric query returns over the run: (its statistic's values,
/// total sample count, total sum), through GetMetricData with the alarm's namespace,
/// metric, dimensions, statistic and period.
async fn alarm_query(
    cloudwatch: &Client,
    alarm: &MetricAlarm,
    run: &Checkpoint,
) -> (Vec<f64>, f64, f64) {
    let metric = Metric::builder()
        .namespace(alarm.namespace().expect("a metric alarm has a namespace"))
        .metric_name(alarm.metric_name().expect("a metric alarm has a metric"))
        .set_dimensions(Some(alarm.dimensions().to_vec()))
        .build();
    let statistic = alarm
        .statistic()
        .expect("the walkthrough's alarm has a statistic")
        .as_str();
    let query = |id: &str, stat: &str| {
        MetricDataQuery::builder()
            .id(id)
            .metric_stat(
                MetricStat::builder()
                    .metric(metric.clone())
                    .period(alarm.period().expect("a metric alarm has a period"))
                    .stat(stat)
                    .build(),
            )
            .build()
    };
    let (start, end) = window(run);
    let answer = cloudwatch
        .get_metric_data()
        .metric_data_queries(query("alarm", statistic))
        .metric_data_queries(query("samples", "SampleCount"))
        .metric_data_queries(query("sum", "Sum"))
        .start_time(start)
        .end_time(end)
        .send()
        .await
        .expect("GetMetricData");
    let values = |id: &str| -> Vec<f64> {
        answer
            .metric_data_results()
            .iter()
            .find(|result| result.id() == Some(id))
            .unwrap_or_else(|| panic!("no result {id}: {answer:?}"))
            .values()
            .to_vec()
    };
    (
        values("alarm"),
        values("samples").iter().sum(),
        values("sum").iter().sum(),
    )
}

/// The test body: the alarm, the agent's run, and every check, against `endpoint`.
async fn agent_data_reaches_the_alarm(kind: Kind, endpoint: &str, dir: &Path) {
    let started = Instant::now();
    let cloudwatch = support::sdk(endpoint).cloudwatch;
    let name = put_walkthrough_alarm(&cloudwatch).await;
    let (_target, target_url) = start_target();
    let origin = match kind {
        Kind::LocalCloud => Some(cloud_origin(endpoint).await),
        Kind::Moto => None,
    };
    let run = run_agent(&target_url, endpoint, origin, dir);
    let agent_done = started.elapsed();

    let totals = &run.checkpoint.totals;
    assert!(totals.completed() > 100, "{kind:?}: {totals:?}");
    assert!(
        totals.errors() > 0,
        "{kind:?}: the target throttles: {totals:?}"
    );
    assert_eq!(
        run.sinks
            .iter()
            .map(|(_, _, undelivered)| undelivered)
            .sum::<u64>(),
        0,
        "{kind:?}: {:?}",
        run.sinks
    );
    for dimension in DIMENSION_SETS {
        let copies = kind.copies(dimension);
        let success = total(&cloudwatch, &run.checkpoint, "Success", dimension).await;
        let error = total(&cloudwatch, &run.checkpoint, "Error", dimension).await;
        assert_eq!(
            success + error,
            totals.completed() as f64 * copies,
            "{kind:?}: Sum(Success) + Sum(Error) by {dimension:?} against {totals:?}"
        );
        assert_eq!(
            error,
            totals.errors() as f64 * copies,
            "{kind:?}: {dimension:?}"
        );
    }

    // The alarm as defined (watching what the agent sends: its default namespace), and
    // its own query over the agent's data.
    let alarm = describe(&cloudwatch, &name)
        .await
        .unwrap_or_else(|| panic!("{kind:?}: DescribeAlarms does not find {name}"));
    assert_eq!(alarm.namespace(), Some("spotlab"), "{kind:?}: {alarm:?}");
    assert_eq!(alarm.metric_name(), Some("Error"), "{kind:?}: {alarm:?}");
    assert_eq!(
        alarm.statistic(),
        Some(&Statistic::Average),
        "{kind:?}: {alarm:?}"
    );
    let copies = kind.copies(None);
    let (averages, samples, errors) = alarm_query(&cloudwatch, &alarm, &run.checkpoint).await;
    assert!(
        !averages.is_empty() && averages.iter().all(|a| (0.0..=1.0).contains(a)),
        "{kind:?}: Average(Error) by period {averages:?}"
    );
    assert_eq!(samples, totals.completed() as f64 * copies, "{kind:?}");
    assert_eq!(errors, totals.errors() as f64 * copies, "{kind:?}");
    let rate = totals.errors() as f64 / totals.completed() as f64;
    assert!(
        (errors / samples - rate).abs() < 1e-9,
        "{kind:?}: error rate {} against the agent's {rate}",
        errors / samples
    );

    let state = match kind {
        Kind::LocalCloud => {
            local_cloud_latency(&cloudwatch, &run.checkpoint).await;
            format!("{:?}", leaves_insufficient_data(&cloudwatch, &name).await)
        }
        Kind::Moto => format!("{:?} (not evaluated)", alarm.state_value()),
    };
    refused_call_is_typed(kind, &cloudwatch).await;

    cloudwatch
        .delete_alarms()
        .alarm_names(&name)
        .send()
        .await
        .expect("DeleteAlarms");
    assert!(
        describe(&cloudwatch, &name).await.is_none(),
        "{kind:?}: the alarm is still there"
    );
    eprintln!(
        "{kind:?}: {} requests, {} errors, alarm {state}; agent done after {agent_done:?}, \
         checks after {:?}",
        totals.completed(),
        totals.errors(),
        started.elapsed()
    );
}

/// A refused call comes back as the SDK's typed error: the service's code survives
/// the protocols in between (on moto, JSON 1.0's error document and then the bridge's
/// CBOR one).
async fn refused_call_is_typed(kind: Kind, cloudwatch: &Client) {
    let error = cloudwatch
        .get_metric_statistics()
        .namespace("spotlab")
        .metric_name("Error")
        .start_time(DateTime::from_secs(1_700_000_600))
        .end_time(DateTime::from_secs(1_700_000_000))
        .period(60)
        .statistics(Statistic::Sum)
        .send()
        .await
        .expect_err("StartTime after EndTime is refused");
    assert!(
        error
            .as_service_error()
            .is_some_and(|e| e.is_invalid_parameter_value_exception()),
        "{kind:?}: {error:?}"
    );
}

/// A Latency p99 over the run (the local cloud serves extended statistics).
async fn local_cloud_latency(cloudwatch: &Client, run: &Checkpoint) {
    let (start, end) = window(run);
    let latency = cloudwatch
        .get_metric_statistics()
        .namespace("spotlab")
        .metric_name("Latency")
        .start_time(start)
        .end_time(end)
        .period(60)
        .extended_statistics("p99")
        .send()
        .await
        .expect("GetMetricStatistics p99");
    let p99: Vec<f64> = latency
        .datapoints()
        .iter()
        .filter_map(|d| d.extended_statistics()?.get("p99").copied())
        .collect();
    assert!(
        !p99.is_empty() && p99.iter().all(|v| *v > 0.0),
        "{latency:?}"
    );
}

/// Waits for the local cloud to evaluate the alarm out of INSUFFICIENT_DATA, on its
/// clock (a minute is three real seconds at time scale 20); returns the state.
async fn leaves_insufficient_data(cloudwatch: &Client, name: &str) -> StateValue {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let state = describe(cloudwatch, name)
            .await
            .and_then(|alarm| alarm.state_value().cloned());
        match state {
            Some(state) if state != StateValue::InsufficientData => return state,
            _ => {}
        }
        assert!(Instant::now() < deadline, "alarm still {state:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_local_clouds_alarm_sees_the_agents_data() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let cloud = Up::start(
        &dir.path().join("state"),
        &[
            "--listen",
            "127.0.0.1:0",
            "--time-scale",
            "20",
            "--seed",
            "3",
        ],
    );
    agent_data_reaches_the_alarm(Kind::LocalCloud, &cloud.url, dir.path()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn motos_alarm_sees_the_agents_data_through_the_cbor_bridge() {
    let Some(moto) = Moto::start() else {
        return;
    };
    let bridge = cbor_bridge::Bridge::start(&moto.url);
    let dir = tempfile::tempdir().expect("a temporary directory");
    agent_data_reaches_the_alarm(Kind::Moto, &bridge.url, dir.path()).await;
}
