//! The live dashboard, seen from outside: a cloud with a maintain fleet of 4, an alarm
//! put into ALARM and one second of agents' reports, then
//! - its JSON snapshot (`/spotlab/v1/dashboard`) and one frame of its event stream
//!   (`/spotlab/v1/live`) over plain HTTP, and `GET /?Action=...` still answered as EC2;
//! - the page at `/` rendered by headless Chromium (`--dump-dom`), showing the fleet,
//!   its fulfilled capacity and the alarm's name and state.
//!
//! Chromium is found through `SPOTLAB_CHROMIUM`, else `chromium` on `PATH`
//! (`scripts/browser-env.sh` installs Debian's); without one the browser test is
//! skipped, unless `SPOTLAB_REQUIRE_CHROMIUM` is set (as CI does), which fails it.
//! Chromium only ever loads the cloud's loopback address, and resolves no other host.

mod support;

use std::path::PathBuf;
use std::time::Duration;

use agent_wire::{Counts, Latency, Report, Source};
use aws_sdk_cloudwatch::types::{ComparisonOperator, StateValue, Statistic};
use aws_sdk_ec2::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_ec2::types::RequestLaunchTemplateData;
use serde_json::Value;
use simtime::{SimDuration, SimTime};
use support::Cloud;

const ALARM: &str = "DashboardTestAlarm";
const CAPACITY: i32 = 4;

/// A cloud with a maintain fleet of [`CAPACITY`] (running, fully fulfilled), the alarm
/// [`ALARM`] in ALARM, and one second of reports (30 successes, 10 errors); returns the
/// cloud and the fleet's id.
async fn seeded_cloud() -> (Cloud, String) {
    let cloud = Cloud::start(1, 3, |config| config.interruption_scale = 0.0).await;
    let ec2 = cloud.client("k", "s");
    let template = support::template(
        &ec2,
        "dashboard",
        RequestLaunchTemplateData::builder()
            .image_id("ami-1")
            .build(),
    )
    .await;
    let fleet_id = support::t2_small_fleet(&ec2, &template, CAPACITY, None).await;

    let cloudwatch = aws_sdk_cloudwatch::Client::from_conf(
        aws_sdk_cloudwatch::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url(format!("http://{}", cloud.running.addr))
            .credentials_provider(Credentials::new("k", "s", None, None, "test"))
            .build(),
    );
    cloudwatch
        .put_metric_alarm()
        .alarm_name(ALARM)
        .namespace("spotlab")
        .metric_name("Error")
        .statistic(Statistic::Average)
        .period(60)
        .evaluation_periods(1)
        .threshold(0.05)
        .comparison_operator(ComparisonOperator::GreaterThanThreshold)
        .treat_missing_data("ignore")
        .send()
        .await
        .expect("alarm");
    cloudwatch
        .set_alarm_state()
        .alarm_name(ALARM)
        .state_value(StateValue::Alarm)
        .state_reason("set by the dashboard test")
        .send()
        .await
        .expect("alarm state");

    let now = virtual_now(&cloud).await;
    let report = report(now - SimDuration::from_secs(2), 30, 10);
    let response = reqwest::Client::new()
        .post(format!(
            "http://{}{}",
            cloud.running.addr,
            agent_wire::REPORTS_PATH
        ))
        .json(&[report])
        .send()
        .await
        .expect("reports");
    assert!(
        response.status().is_success(),
        "{:?}",
        response.text().await
    );
    // The fleet launches as time moves on.
    for _ in 0..500 {
        let snapshot: Value = get(&cloud, "/spotlab/v1/dashboard")
            .await
            .json()
            .await
            .expect("snapshot");
        if snapshot["fleets"][0]["fulfilled"] == f64::from(CAPACITY) {
            return (cloud, fleet_id);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the fleet never reached its capacity");
}

async fn virtual_now(cloud: &Cloud) -> SimTime {
    let health: Value = get(cloud, "/spotlab/v1/health")
        .await
        .json()
        .await
        .expect("health");
    SimTime::parse(health["virtual_time"].as_str().expect("virtual time")).expect("a time")
}

fn report(start: SimTime, success: u64, errors: u64) -> Report {
    let mut latency = Latency::new();
    latency.record_micros(2_000);
    Report {
        source: Source {
            instance_id: None,
            fleet_id: None,
            instance_type: None,
            availability_zone: None,
            run_id: "dashboard-test".to_owned(),
        },
        seq: 1,
        start,
        end: start + SimDuration::from_secs(1),
        counts: Counts {
            sent: success + errors,
            success,
            server_error: errors,
            ..Counts::default()
        },
        latency_scheduled: latency.clone(),
        latency_actual: latency,
        last: false,
    }
}

async fn get(cloud: &Cloud, path: &str) -> reqwest::Response {
    reqwest::get(format!("http://{}{path}", cloud.running.addr))
        .await
        .expect("GET")
}

fn check_snapshot(snapshot: &Value, fleet_id: &str) {
    let fleets = snapshot["fleets"].as_array().expect("fleets");
    assert_eq!(fleets.len(), 1, "{snapshot:#}");
    let fleet = &fleets[0];
    assert_eq!(fleet["id"], fleet_id);
    assert_eq!(fleet["target"], CAPACITY);
    assert_eq!(fleet["fulfilled"], f64::from(CAPACITY));
    assert_eq!(fleet["pools"][0]["pool"], "t2.small/us-east-1a");
    assert_eq!(
        fleet["pools"][0]["instances"].as_array().map(Vec::len),
        Some(4)
    );
    let alarm = &snapshot["alarms"]["listed"][0];
    assert_eq!(alarm["name"], ALARM);
    assert_eq!(alarm["state"], "ALARM");
    assert_eq!(alarm["threshold"], 0.05);
    assert_eq!(snapshot["alarms"]["counts"]["ALARM"], 1);
    let requests = &snapshot["requests"];
    assert_eq!(requests["success_per_second"], 3.0, "{requests}");
    assert_eq!(requests["error_per_second"], 1.0, "{requests}");
    assert_eq!(requests["error_rate"], 0.25, "{requests}");
    let prices = snapshot["prices"].as_array().expect("prices");
    assert_eq!(prices.len(), 1);
    assert!(prices[0]["spot"].as_f64().is_some_and(|p| p > 0.0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_snapshot_and_the_stream_show_fleets_alarms_and_rates() {
    let (cloud, fleet_id) = seeded_cloud().await;

    let response = get(&cloud, "/spotlab/v1/dashboard").await;
    assert_eq!(response.status(), 200);
    let snapshot: Value = response.json().await.expect("JSON snapshot");
    check_snapshot(&snapshot, &fleet_id);

    // The stream's first frame comes at once and carries the same snapshot.
    let mut live = get(&cloud, "/spotlab/v1/live").await;
    assert_eq!(
        live.headers()[reqwest::header::CONTENT_TYPE],
        "text/event-stream"
    );
    let mut text = String::new();
    while !text.contains("\n\n") {
        let chunk = tokio::time::timeout(Duration::from_secs(10), live.chunk())
            .await
            .expect("a frame within 10 s")
            .expect("stream")
            .expect("not ended");
        text.push_str(std::str::from_utf8(&chunk).expect("UTF-8"));
    }
    let frame = text
        .split("\n\n")
        .next()
        .and_then(|f| f.strip_prefix("data: "))
        .expect("a data frame");
    let streamed: Value = serde_json::from_str(frame).expect("JSON frame");
    check_snapshot(&streamed, &fleet_id);
    drop(live);

    // The page, and EC2's query protocol on the same path.
    let page = get(&cloud, "/").await;
    assert!(
        page.headers()[reqwest::header::CONTENT_TYPE]
            .to_str()
            .is_ok_and(|t| t.starts_with("text/html"))
    );
    let page = page.text().await.expect("page");
    assert!(page.contains("/spotlab/v1/live") && !page.contains("://"));
    let regions = get(&cloud, "/?Action=DescribeRegions&Version=2016-11-15").await;
    assert_eq!(regions.status(), 200);
    let xml = regions.text().await.expect("XML");
    assert!(
        xml.contains("<DescribeRegionsResponse") && xml.contains("us-east-1"),
        "{xml}"
    );

    cloud.stop().await;
}

/// Chromium to drive, or `None` (with the reason) when there is none to find.
fn chromium() -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os("SPOTLAB_CHROMIUM") {
        return Ok(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join("chromium"))
        .find(|candidate| candidate.is_file())
        .ok_or_else(|| {
            "chromium is not on PATH (run scripts/browser-env.sh, or set SPOTLAB_CHROMIUM)"
                .to_owned()
        })
}

/// The DOM of `url` (a loopback address) after Chromium ran its scripts.
async fn dump_dom(chromium: &PathBuf, url: &str) -> String {
    assert!(url.starts_with("http://127.0.0.1:"), "loopback only: {url}");
    let profile = tempfile::tempdir().expect("profile dir");
    let mut command = tokio::process::Command::new(chromium);
    command
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-extensions",
            "--disable-sync",
            "--disable-background-networking",
            "--disable-component-update",
            "--metrics-recording-only",
            // Nothing but the loopback address resolves.
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            "--virtual-time-budget=10000",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("--dump-dom")
        .arg(url)
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    let output = tokio::time::timeout(Duration::from_secs(90), command.output())
        .await
        .expect("chromium finishes within 90 s")
        .expect("chromium runs");
    assert!(
        output.status.success(),
        "chromium failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headless_chromium_renders_the_dashboard() {
    let chromium = match chromium() {
        Ok(path) => path,
        Err(reason) if std::env::var_os("SPOTLAB_REQUIRE_CHROMIUM").is_some() => {
            panic!("SPOTLAB_REQUIRE_CHROMIUM is set, but {reason}")
        }
        Err(reason) => {
            eprintln!("skipping the browser test: {reason}");
            return;
        }
    };
    let (cloud, fleet_id) = seeded_cloud().await;
    let url = format!("http://{}/?once", cloud.running.addr);
    let dom = dump_dom(&chromium, &url).await;
    assert!(
        dom.contains("data-rendered=\"yes\""),
        "not rendered:\n{dom}"
    );
    assert!(
        dom.contains(&format!("<span class=\"fleet-id\">{fleet_id}</span>")),
        "no fleet {fleet_id}:\n{dom}"
    );
    assert!(
        dom.contains(&format!(
            "<span class=\"fulfilled\" data-fulfilled=\"{CAPACITY}\">{CAPACITY}</span>"
        )),
        "no fulfilled capacity of {CAPACITY}:\n{dom}"
    );
    assert!(
        dom.contains(&format!("<td class=\"alarm-name\">{ALARM}</td>")),
        "no alarm {ALARM}:\n{dom}"
    );
    assert!(
        dom.contains("<td class=\"alarm-state state-ALARM\">ALARM</td>"),
        "the alarm's state is not shown:\n{dom}"
    );
    cloud.stop().await;
}
