//! `spotlab agent --report cloudwatch` end to end: the real `up`, `target` and `agent`
//! binaries on loopback at time scale 20, the agent finding the local cloud through the
//! standard SDK variables (`AWS_ENDPOINT_URL`, `AWS_REGION`, credentials) as it would
//! find AWS, and everything checked back through aws-sdk-cloudwatch: the request counts
//! equal the agent's checkpoint exactly, per dimension set; a Latency p99 exists; the
//! walkthrough's error-rate alarm leaves INSUFFICIENT_DATA.
//!
//! The same run against moto's CloudWatch is attempted when `spotlab-venv/bin/moto_server`
//! exists (under the main checkout's or this build's target directory), and skipped
//! with a message otherwise, or when moto does not answer aws-sdk-cloudwatch's protocol
//! (Smithy RPC v2 CBOR, which moto 5.2.5 does not serve).

#![allow(clippy::unwrap_used)] // A panic in a test helper is a failed test with a message.

mod support;

use std::io::{BufRead as _, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use agent_wire::Checkpoint;
use aws_sdk_cloudwatch::Client;
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{ComparisonOperator, Dimension, StateValue, Statistic};
use serde_json::Value;
use simtime::SimTime;
use support::Up;

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
        .env("AWS_EC2_METADATA_DISABLED", "true")
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

fn client(endpoint: &str) -> Client {
    support::sdk(endpoint).cloudwatch
}

fn at(time: SimTime) -> DateTime {
    DateTime::from_millis(time.as_millis() as i64)
}

/// Sum of a statistic of `metric` (with one dimension or none) over the run, give or
/// take two minutes, by minute.
async fn total(
    cloudwatch: &Client,
    run: &Checkpoint,
    metric: &str,
    dimension: Option<(&str, &str)>,
) -> f64 {
    let minutes = simtime::SimDuration::from_mins(2);
    let answer = cloudwatch
        .get_metric_statistics()
        .namespace("spotlab")
        .metric_name(metric)
        .set_dimensions(
            dimension
                .map(|(name, value)| vec![Dimension::builder().name(name).value(value).build()]),
        )
        .start_time(at(run.started - minutes))
        .end_time(at(run.written + minutes))
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_reports_through_put_metric_data_match_its_checkpoint() {
    let started = Instant::now();
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
    let cloudwatch = client(&cloud.url);
    // The walkthrough's alarm, with a 10-second period; `ignore` keeps the state the
    // data gave it once the run is over.
    cloudwatch
        .put_metric_alarm()
        .alarm_name("errors")
        .namespace("spotlab")
        .metric_name("Error")
        .statistic(Statistic::Average)
        .period(10)
        .evaluation_periods(1)
        .threshold(0.1)
        .comparison_operator(ComparisonOperator::GreaterThanOrEqualToThreshold)
        .treat_missing_data("ignore")
        .send()
        .await
        .expect("PutMetricAlarm");
    let (_target, target_url) = start_target();
    let origin = cloud_origin(&cloud.url).await;
    let run = run_agent(&target_url, &cloud.url, Some(origin), dir.path());
    let agent_done = started.elapsed();

    let totals = &run.checkpoint.totals;
    assert!(totals.completed() > 100, "{totals:?}");
    assert!(totals.errors() > 0, "the target throttles: {totals:?}");
    assert_eq!(
        run.sinks
            .iter()
            .map(|(_, _, undelivered)| undelivered)
            .sum::<u64>(),
        0,
        "{:?}",
        run.sinks
    );
    for dimension in [
        None,
        Some(("FleetId", "fleet-cw")),
        Some(("InstanceId", "i-cw")),
    ] {
        let success = total(&cloudwatch, &run.checkpoint, "Success", dimension).await;
        let error = total(&cloudwatch, &run.checkpoint, "Error", dimension).await;
        assert_eq!(
            success + error,
            totals.completed() as f64,
            "Sum(Success) + Sum(Error) by {dimension:?} against {totals:?}"
        );
        assert_eq!(error, totals.errors() as f64, "{dimension:?}");
    }

    let latency = cloudwatch
        .get_metric_statistics()
        .namespace("spotlab")
        .metric_name("Latency")
        .start_time(at(
            run.checkpoint.started - simtime::SimDuration::from_mins(2)
        ))
        .end_time(at(
            run.checkpoint.written + simtime::SimDuration::from_mins(2)
        ))
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

    // Evaluated on the cloud's clock: a 10-second period is half a real second.
    let deadline = Instant::now() + Duration::from_secs(30);
    let state = loop {
        let alarms = cloudwatch
            .describe_alarms()
            .alarm_names("errors")
            .send()
            .await
            .expect("DescribeAlarms");
        let state = alarms.metric_alarms()[0].state_value().cloned();
        if state
            .as_ref()
            .is_some_and(|s| *s != StateValue::InsufficientData)
        {
            break state;
        }
        assert!(Instant::now() < deadline, "alarm still {state:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    eprintln!(
        "local cloud: {} requests, {} errors, alarm {state:?}; agent done after {agent_done:?}, checks after {:?}",
        totals.completed(),
        totals.errors(),
        started.elapsed()
    );

    moto(&target_url, dir.path()).await;
}

/// `moto_server` from the AWS CLI's virtual environment, when someone has added moto.
fn moto_server() -> Option<PathBuf> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut candidates = vec![manifest.join("../../target/spotlab-venv/bin/moto_server")];
    if let Some(target) = std::env::var_os("CARGO_TARGET_DIR") {
        candidates.push(PathBuf::from(target).join("spotlab-venv/bin/moto_server"));
    }
    candidates.push(PathBuf::from(
        "/work/main/target/spotlab-venv/bin/moto_server",
    ));
    candidates.into_iter().find(|path| path.is_file())
}

/// The same run against moto's CloudWatch (real time: no origin; moto has no alarm
/// evaluation or percentiles, so only the counts are checked, by `InstanceId`, since
/// moto matches dimensions by containment and would add the other sets in).
async fn moto(target: &str, dir: &Path) {
    let Some(server) = moto_server() else {
        eprintln!("moto_server not found under target/spotlab-venv: skipping the moto part");
        return;
    };
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free loopback port")
        .port();
    let _moto = Process {
        child: Command::new(&server)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting moto_server"),
    };
    let endpoint = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "moto_server did not listen");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // aws-sdk-cloudwatch speaks only Smithy RPC v2 CBOR; moto 5.2 serves JSON and query
    // only, and answers a CBOR call with 404.
    let cloudwatch = client(&endpoint);
    if let Err(error) = cloudwatch.list_metrics().send().await {
        let status = error.raw_response().map(|raw| raw.status().as_u16());
        eprintln!(
            "moto's CloudWatch does not answer aws-sdk-cloudwatch (Smithy RPC v2 CBOR; HTTP \
             {status:?}): skipping the moto part"
        );
        return;
    }
    let moto_dir = dir.join("moto");
    std::fs::create_dir_all(&moto_dir).expect("a directory for moto");
    let run = run_agent(target, &endpoint, None, &moto_dir);
    assert_eq!(
        run.sinks
            .iter()
            .map(|(_, _, undelivered)| undelivered)
            .sum::<u64>(),
        0,
        "moto: {:?}",
        run.sinks
    );
    let dimension = Some(("InstanceId", "i-cw"));
    let success = total(&cloudwatch, &run.checkpoint, "Success", dimension).await;
    let error = total(&cloudwatch, &run.checkpoint, "Error", dimension).await;
    assert_eq!(
        success + error,
        run.checkpoint.totals.completed() as f64,
        "moto: {:?}",
        run.checkpoint.totals
    );
}
