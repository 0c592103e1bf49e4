//! `spotlab alarms`, `spotlab topics` and `spotlab events` as a user runs them, against a
//! `spotlab up` started by the test on loopback, with what they show made through the
//! official SDKs:
//!
//! - `alarms` shows an alarm put with PutMetricAlarm (metric, condition), then its state
//!   and reason after SetAlarmState, as a table and as JSON;
//! - `topics` shows a topic with a confirmed and a pending subscription;
//! - `events --follow --pattern P` prints, while following, the events PutEvents puts and
//!   an alarm's state change, and not the events P does not match.
//!
//! Virtual time runs at the wall clock's pace and the alarm ignores missing data, so no
//! evaluation changes its state under the test.

mod support;

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use aws_sdk_cloudwatch::types::{ComparisonOperator, StateValue, Statistic};
use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use serde_json::Value;
use support::{Sdk, Up, json, sdk, stdout};

fn up(state: &Path) -> Up {
    Up::start(
        state,
        &[
            "--listen",
            "127.0.0.1:0",
            "--time-scale",
            "1",
            "--seed",
            "11",
            "--interruption-scale",
            "0",
        ],
    )
}

/// `spotlab ARGS`, with no AWS settings from the test's environment.
fn spotlab(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_spotlab"));
    command
        .args(args)
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("SPOTLAB_ENDPOINT")
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_PROFILE");
    command
}

/// The line of `text` that starts with `first`.
fn line<'a>(text: &'a str, first: &str) -> &'a str {
    text.lines()
        .find(|l| l.trim_start().starts_with(first))
        .unwrap_or_else(|| panic!("no line starts with {first:?} in:\n{text}"))
}

async fn put_alarm(sdk: &Sdk, name: &str) {
    sdk.cloudwatch
        .put_metric_alarm()
        .alarm_name(name)
        .namespace("spotlab")
        .metric_name("Error")
        .statistic(Statistic::Average)
        .period(60)
        .evaluation_periods(3)
        .datapoints_to_alarm(2)
        .threshold(0.1)
        .comparison_operator(ComparisonOperator::GreaterThanOrEqualToThreshold)
        .treat_missing_data("ignore")
        .send()
        .await
        .expect("PutMetricAlarm");
}

async fn set_state(sdk: &Sdk, name: &str, state: StateValue, reason: &str) {
    sdk.cloudwatch
        .set_alarm_state()
        .alarm_name(name)
        .state_value(state)
        .state_reason(reason)
        .send()
        .await
        .expect("SetAlarmState");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alarms_show_an_alarm_and_its_state() {
    let state = tempfile::tempdir().expect("temp dir");
    let cloud = up(state.path());
    let sdk = sdk(&cloud.url);
    let empty = spotlab(&["alarms", "--endpoint", &cloud.url])
        .output()
        .expect("runs");
    assert_eq!(stdout("alarms (none)", &empty), "no alarms\n");

    put_alarm(&sdk, "errors").await;
    let table = spotlab(&["alarms", "--endpoint", &cloud.url])
        .output()
        .expect("runs");
    let table = stdout("alarms", &table);
    assert!(table.starts_with("NAME "), "{table}");
    let row = line(&table, "errors ");
    for want in [
        "INSUFFICIENT_DATA",
        "spotlab Error Average/60s",
        ">= 0.1 for 2 of 3",
    ] {
        assert!(row.contains(want), "{want:?} not in {row:?}");
    }

    set_state(&sdk, "errors", StateValue::Alarm, "set by the test").await;
    let table = spotlab(&["alarms", "--endpoint", &cloud.url])
        .output()
        .expect("runs");
    let table = stdout("alarms", &table);
    let row = line(&table, "errors ");
    assert!(row.contains(" ALARM "), "{row}");
    assert!(row.ends_with("set by the test"), "{row}");

    let described = json(
        "alarms --output json",
        &spotlab(&["alarms", "--endpoint", &cloud.url, "--output", "json"])
            .output()
            .expect("runs"),
    );
    let alarm = &described[0];
    assert_eq!(alarm["AlarmName"], "errors");
    assert_eq!(alarm["AlarmType"], "MetricAlarm");
    assert_eq!(alarm["StateValue"], "ALARM");
    assert_eq!(alarm["StateReason"], "set by the test");
    assert!(
        alarm["AlarmArn"]
            .as_str()
            .is_some_and(|arn| arn.ends_with(":alarm:errors")),
        "{alarm}"
    );
    assert!(alarm["StateUpdatedTimestamp"].is_string(), "{alarm}");

    // --watch refreshes: two refreshes 0.2 s apart, one JSON line each.
    let mut watching = Following::spawn(spotlab(&[
        "alarms",
        "--endpoint",
        &cloud.url,
        "--watch",
        "0.2",
        "--output",
        "json",
    ]));
    for _ in 0..2 {
        let refresh: Value = serde_json::from_str(&watching.next_line()).expect("a JSON line");
        assert_eq!(refresh[0]["StateValue"], "ALARM");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn topics_show_their_subscriptions() {
    let state = tempfile::tempdir().expect("temp dir");
    let cloud = up(state.path());
    let sdk = sdk(&cloud.url);
    let topic = sdk
        .sns
        .create_topic()
        .name("alerts")
        .send()
        .await
        .expect("CreateTopic")
        .topic_arn()
        .expect("an ARN")
        .to_owned();
    let queue = "arn:aws:sqs:us-east-1:000000000000:alerts-queue";
    for (protocol, endpoint) in [("sqs", queue), ("email", "ops@example.com")] {
        sdk.sns
            .subscribe()
            .topic_arn(&topic)
            .protocol(protocol)
            .endpoint(endpoint)
            .send()
            .await
            .expect("Subscribe");
    }

    let text = spotlab(&["topics", "--endpoint", &cloud.url])
        .output()
        .expect("runs");
    let text = stdout("topics", &text);
    let heading = line(&text, "alerts ");
    assert!(heading.contains(&topic), "{heading}");
    assert!(
        heading.ends_with("confirmed 1, pending 1, deleted 0"),
        "{heading}"
    );
    assert!(line(&text, "sqs ").contains(" confirmed "), "{text}");
    assert!(line(&text, "email ").contains(" pending "), "{text}");

    let listed = json(
        "topics --output json",
        &spotlab(&["topics", "--endpoint", &cloud.url, "--output", "json"])
            .output()
            .expect("runs"),
    );
    assert_eq!(listed[0]["TopicArn"], topic.as_str());
    assert_eq!(listed[0]["Name"], "alerts");
    let mut subscriptions: Vec<(String, String, String)> = listed[0]["Subscriptions"]
        .as_array()
        .expect("subscriptions")
        .iter()
        .map(|s| {
            let text = |key: &str| s[key].as_str().unwrap_or_default().to_owned();
            (text("Protocol"), text("Endpoint"), text("Status"))
        })
        .collect();
    subscriptions.sort();
    assert_eq!(
        subscriptions,
        [
            (
                "email".to_owned(),
                "ops@example.com".to_owned(),
                "pending".to_owned()
            ),
            ("sqs".to_owned(), queue.to_owned(), "confirmed".to_owned()),
        ]
    );
}

/// A command whose stdout lines are read as they come; killed when dropped.
struct Following {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Following {
    fn spawn(mut command: Command) -> Following {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawns");
        let stdout = child.stdout.take().expect("stdout");
        let (send, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if send.send(line).is_err() {
                    return;
                }
            }
        });
        Following { child, lines }
    }

    /// The next line, within 20 s.
    fn next_line(&mut self) -> String {
        self.lines
            .recv_timeout(Duration::from_secs(20))
            .expect("a line within 20 s")
    }
}

impl Drop for Following {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_follow_the_bus_through_a_pattern() {
    let state = tempfile::tempdir().expect("temp dir");
    let cloud = up(state.path());
    let sdk = sdk(&cloud.url);
    let pattern = r#"{"source":["com.example.orders","aws.cloudwatch"]}"#;
    let mut following = Following::spawn(spotlab(&[
        "events",
        "--follow",
        "--endpoint",
        &cloud.url,
        "--pattern",
        pattern,
        "--output",
        "json",
    ]));

    let entry = |source: &str, detail_type: &str| {
        PutEventsRequestEntry::builder()
            .source(source)
            .detail_type(detail_type)
            .detail(r#"{"order":7}"#)
            .build()
    };
    let put = sdk
        .events
        .put_events()
        .entries(entry("com.example.noise", "Noise"))
        .entries(entry("com.example.orders", "Order Placed"))
        .send()
        .await
        .expect("PutEvents");
    assert_eq!(put.failed_entry_count(), 0);
    let order: Value = serde_json::from_str(&following.next_line()).expect("a JSON line");
    assert_eq!(order["event"]["detail-type"], "Order Placed");
    assert_eq!(order["event"]["detail"]["order"], 7);
    assert_eq!(order["event"]["id"].as_str(), put.entries()[1].event_id());

    put_alarm(&sdk, "errors").await;
    set_state(&sdk, "errors", StateValue::Alarm, "set by the test").await;
    let change: Value = serde_json::from_str(&following.next_line()).expect("a JSON line");
    assert_eq!(
        change["event"]["detail-type"],
        "CloudWatch Alarm State Change"
    );
    assert_eq!(change["event"]["detail"]["alarmName"], "errors");
    assert_eq!(change["event"]["detail"]["state"]["value"], "ALARM");
    assert!(
        change["seq"].as_u64() > order["seq"].as_u64(),
        "{order}\n{change}"
    );
    drop(following);

    // The same bus once, as text: one line per event, the noise included.
    let text = spotlab(&["events", "--endpoint", &cloud.url])
        .output()
        .expect("runs");
    let text = stdout("events", &text);
    let noise = text
        .lines()
        .find(|l| l.contains(" Noise "))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(noise.contains("com.example.noise"), "{noise}");
    let alarm = text
        .lines()
        .find(|l| l.contains("CloudWatch Alarm State Change"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        alarm.contains("errors  INSUFFICIENT_DATA -> ALARM: set by the test"),
        "{alarm}"
    );
}
