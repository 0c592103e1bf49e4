//! CloudWatch alarms through their API calls and evaluation, over a fake metric store:
//! the walkthrough's seed alarm, actions on transitions only, SetAlarmState, updates,
//! DescribeAlarms / DescribeAlarmsForMetric / DescribeAlarmHistory, validation, and the
//! SNS message and EventBridge event of a transition (fact sheet 3).

#![allow(clippy::unwrap_used)] // A panic in a test helper is a failed test with a message.

use std::cell::RefCell;
use std::collections::BTreeMap;

use monitoring::ApiError;
use monitoring::cloudwatch::alarms::{
    ActionResult, AlarmData, AlarmQuery, Alarms, Datapoint, Transition,
};
use serde_json::{Value, json};
use simtime::{SimDuration, SimTime};
use watch::alarm::AlarmState;

const TOPIC: &str = "arn:aws:sns:us-east-1:123456789012:TestFailureAlarmTopic";
const SEED_ALARM: &str = "ReInvent-EC2SpotTestDev-Alarm";

fn at(text: &str) -> SimTime {
    SimTime::parse(text).unwrap()
}

/// A metric store: per metric name (or `math` for math alarms), a value per period
/// start. It records what it was asked.
#[derive(Default)]
struct Fake {
    series: BTreeMap<String, BTreeMap<SimTime, f64>>,
    asked: RefCell<Vec<(AlarmQuery, SimTime, SimTime)>>,
}

impl Fake {
    fn set(&mut self, metric: &str, period_start: &str, value: f64) {
        self.series
            .entry(metric.to_owned())
            .or_default()
            .insert(at(period_start), value);
    }
}

impl AlarmData for Fake {
    fn datapoints(&self, query: &AlarmQuery, start: SimTime, end: SimTime) -> Vec<Datapoint> {
        self.asked.borrow_mut().push((query.clone(), start, end));
        let key = match query {
            AlarmQuery::Metric(metric) => metric.metric_name.clone(),
            AlarmQuery::Math { .. } => "math".to_owned(),
        };
        self.series
            .get(&key)
            .map(|series| {
                series
                    .range(start..end)
                    .map(|(timestamp, value)| Datapoint {
                        timestamp: *timestamp,
                        value: *value,
                        sample_count: Some(20.0),
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

fn alarms() -> Alarms {
    Alarms::new("us-east-1", "123456789012", 7)
}

/// The walkthrough's alarm (fact sheet 3.2).
fn seed_alarm() -> Value {
    json!({
        "AlarmName": SEED_ALARM,
        "AlarmDescription": "Error rate above 10%",
        "Namespace": "ReInvent-EC2SpotTestDev-Metrics",
        "MetricName": "Error",
        "Statistic": "Average",
        "Period": 60,
        "EvaluationPeriods": 1,
        "DatapointsToAlarm": 1,
        "Threshold": 0.1,
        "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        "TreatMissingData": "ignore",
        "AlarmActions": [TOPIC],
    })
}

fn describe_one(alarms: &Alarms, name: &str) -> Value {
    let output = alarms
        .describe_alarms(&json!({ "AlarmNames": [name] }))
        .unwrap();
    output["MetricAlarms"][0].clone()
}

fn code(result: Result<Value, ApiError>) -> String {
    result.expect_err("expected an error").code
}

fn step(alarms: &mut Alarms, now: &str, data: &Fake) -> Vec<Transition> {
    alarms.evaluate_due(at(now), data)
}

// An evaluation that leaves the state as it is writes nothing: StateReason,
// StateReasonData (its queryDate included) and StateUpdatedTimestamp stay those of the
// change, as on AWS, and no history item is recorded.
#[test]
fn an_evaluation_keeping_the_state_keeps_its_reason() {
    let mut alarms = alarms();
    let mut data = Fake::default();
    alarms
        .put_metric_alarm(&seed_alarm(), at("2024-05-01T10:00:30Z"))
        .expect("the seed alarm is valid");
    data.set("Error", "2024-05-01T10:00:00Z", 0.35);
    assert_eq!(step(&mut alarms, "2024-05-01T10:02:00Z", &data).len(), 1);
    let changed = describe_one(&alarms, SEED_ALARM);
    assert_eq!(changed["StateValue"], "ALARM");
    let history = |alarms: &Alarms| {
        alarms
            .describe_alarm_history(&json!({}))
            .expect("DescribeAlarmHistory answers")["AlarmHistoryItems"]
            .as_array()
            .expect("history items are a list")
            .len()
    };
    let items = history(&alarms);
    for (minute, value) in [("10:01", 0.5), ("10:02", 0.9), ("10:03", 0.2)] {
        data.set("Error", &format!("2024-05-01T{minute}:00Z"), value);
    }
    for tick in ["10:03", "10:04", "10:05"] {
        let now = format!("2024-05-01T{tick}:00Z");
        assert!(step(&mut alarms, &now, &data).is_empty(), "{tick}");
    }
    assert_eq!(describe_one(&alarms, SEED_ALARM), changed);
    assert_eq!(history(&alarms), items);
    let reason_data: Value =
        serde_json::from_str(changed["StateReasonData"].as_str().expect("valid JSON"))
            .expect("valid JSON");
    assert_eq!(reason_data["queryDate"], "2024-05-01T10:02:00.000+0000");
    assert_eq!(reason_data["recentDatapoints"], json!([0.35]));
}

// An update's new query and settings are what the next evaluation uses.
#[test]
fn evaluation_after_an_update_uses_the_new_definition() {
    let mut alarms = alarms();
    let mut data = Fake::default();
    alarms
        .put_metric_alarm(&seed_alarm(), at("2024-05-01T10:00:30Z"))
        .expect("the seed alarm is valid");
    data.set("Error", "2024-05-01T10:00:00Z", 0.05);
    data.set("Latency", "2024-05-01T10:00:00Z", 0.05);
    data.set("Latency", "2024-05-01T10:01:00Z", 0.05);
    let transitions = step(&mut alarms, "2024-05-01T10:02:00Z", &data);
    assert_eq!(transitions[0].new_state, AlarmState::Ok);
    let mut updated = seed_alarm();
    updated["MetricName"] = json!("Latency");
    updated["Threshold"] = json!(0.01);
    alarms
        .put_metric_alarm(&updated, at("2024-05-01T10:02:30Z"))
        .expect("the updated alarm is valid");
    let transitions = step(&mut alarms, "2024-05-01T10:03:00Z", &data);
    assert_eq!(transitions.len(), 1);
    assert_eq!(transitions[0].new_state, AlarmState::Alarm);
    assert!(
        transitions[0].reason.contains("threshold (0.01)"),
        "{}",
        transitions[0].reason
    );
    let asked = data.asked.borrow();
    let Some((AlarmQuery::Metric(metric), _, _)) = asked.last() else {
        panic!("{asked:?}");
    };
    assert_eq!(metric.metric_name, "Latency");
}

#[test]
fn seed_alarm_follows_the_error_rate() {
    let mut alarms = alarms();
    let mut data = Fake::default();
    alarms
        .put_metric_alarm(&seed_alarm(), at("2024-05-01T10:00:30Z"))
        .unwrap();
    let described = describe_one(&alarms, SEED_ALARM);
    assert_eq!(described["StateValue"], "INSUFFICIENT_DATA");
    assert_eq!(
        described["StateReason"],
        "Unchecked: Initial alarm creation"
    );
    assert_eq!(alarms.next_evaluation(), Some(at("2024-05-01T10:01:00Z")));

    // Nothing is due before the first tick.
    assert!(step(&mut alarms, "2024-05-01T10:00:59Z", &data).is_empty());

    // A good minute: INSUFFICIENT_DATA -> OK, no OK actions to run. A minute is judged
    // one minute after it ends (data has that long to arrive), as on AWS.
    data.set("Error", "2024-05-01T10:00:00Z", 0.05);
    assert!(step(&mut alarms, "2024-05-01T10:01:00Z", &data).is_empty());
    let transitions = step(&mut alarms, "2024-05-01T10:02:00Z", &data);
    assert_eq!(transitions.len(), 1);
    let ok = &transitions[0];
    assert_eq!(
        (ok.old_state, ok.new_state),
        (AlarmState::InsufficientData, AlarmState::Ok)
    );
    assert_eq!(
        ok.reason,
        "Threshold Crossed: 1 out of the last 1 datapoints [0.05 (01/05/24 10:00:00)] was not \
         greater than or equal to the threshold (0.1) (minimum 1 datapoint for ALARM -> OK \
         transition)."
    );
    assert!(ok.actions.is_empty());
    assert_eq!(ok.timestamp, at("2024-05-01T10:02:00Z"));

    // A bad minute: OK -> ALARM, the topic is notified.
    data.set("Error", "2024-05-01T10:01:00Z", 0.35);
    let transitions = step(&mut alarms, "2024-05-01T10:03:00Z", &data);
    assert_eq!(transitions.len(), 1);
    let alarm = &transitions[0];
    assert_eq!(
        (alarm.old_state, alarm.new_state),
        (AlarmState::Ok, AlarmState::Alarm)
    );
    assert_eq!(alarm.actions, vec![TOPIC.to_owned()]);
    assert_eq!(
        alarm.subject,
        "ALARM: \"ReInvent-EC2SpotTestDev-Alarm\" in US East (N. Virginia)"
    );
    let message: Value = serde_json::from_str(&alarm.message).unwrap();
    assert_eq!(message["NewStateValue"], "ALARM");
    assert_eq!(message["OldStateValue"], "OK");
    assert_eq!(message["Trigger"]["Statistic"], "AVERAGE");
    assert_eq!(message["Trigger"]["TreatMissingData"], "ignore");

    // The data stops: the state is kept (ignore), nothing is sent.
    for minute in ["10:04", "10:05", "10:06", "10:07"] {
        let now = format!("2024-05-01T{minute}:00Z");
        assert!(step(&mut alarms, &now, &data).is_empty(), "{minute}");
    }
    assert_eq!(alarms.state(SEED_ALARM), Some(AlarmState::Alarm));

    // It recovers.
    data.set("Error", "2024-05-01T10:06:00Z", 0.0);
    let transitions = step(&mut alarms, "2024-05-01T10:08:00Z", &data);
    assert_eq!(transitions.len(), 1);
    assert_eq!(transitions[0].new_state, AlarmState::Ok);
    assert!(transitions[0].actions.is_empty());

    let described = describe_one(&alarms, SEED_ALARM);
    assert_eq!(described["StateValue"], "OK");
    assert_eq!(described["StateTransitionedTimestamp"], json!(1714558080.0));
    let reason_data: Value =
        serde_json::from_str(described["StateReasonData"].as_str().unwrap()).unwrap();
    assert_eq!(reason_data["recentDatapoints"], json!([0.0]));
    assert_eq!(reason_data["statistic"], "Average");

    let history = alarms
        .describe_alarm_history(&json!({ "HistoryItemType": "StateUpdate" }))
        .unwrap();
    let summaries: Vec<&str> = history["AlarmHistoryItems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["HistorySummary"].as_str().unwrap())
        .collect();
    assert_eq!(
        summaries,
        [
            "Alarm updated from ALARM to OK",
            "Alarm updated from OK to ALARM",
            "Alarm updated from INSUFFICIENT_DATA to OK",
        ]
    );
}

#[test]
fn actions_fire_only_on_transitions() {
    let mut alarms = alarms();
    let mut data = Fake::default();
    let mut input = seed_alarm();
    input["OKActions"] = json!([TOPIC]);
    input["TreatMissingData"] = json!("missing");
    alarms
        .put_metric_alarm(&input, at("2024-05-01T10:00:00Z"))
        .unwrap();
    let mut sent = Vec::new();
    for minute in 0..10u64 {
        let start = at("2024-05-01T10:00:00Z") + SimDuration::from_mins(minute);
        // Bad for minutes 2 to 5, good otherwise.
        let value = if (2..=5).contains(&minute) { 0.5 } else { 0.0 };
        data.series
            .entry("Error".to_owned())
            .or_default()
            .insert(start, value);
        // Each minute is judged a minute after it ends.
        let now = start + SimDuration::from_mins(2);
        for transition in alarms.evaluate_due(now, &data) {
            sent.push((
                transition.new_state,
                transition.actions.clone(),
                transition.timestamp,
            ));
        }
    }
    assert_eq!(
        sent,
        vec![
            (
                AlarmState::Ok,
                vec![TOPIC.to_owned()],
                at("2024-05-01T10:02:00Z")
            ),
            (
                AlarmState::Alarm,
                vec![TOPIC.to_owned()],
                at("2024-05-01T10:04:00Z")
            ),
            (
                AlarmState::Ok,
                vec![TOPIC.to_owned()],
                at("2024-05-01T10:08:00Z")
            ),
        ]
    );
}

#[test]
fn disabled_actions_mute_notifications_not_events() {
    let mut alarms = alarms();
    let mut data = Fake::default();
    alarms
        .put_metric_alarm(&seed_alarm(), at("2024-05-01T10:00:00Z"))
        .unwrap();
    alarms
        .disable_alarm_actions(&json!({ "AlarmNames": [SEED_ALARM, "no-such-alarm"] }))
        .unwrap();
    assert_eq!(describe_one(&alarms, SEED_ALARM)["ActionsEnabled"], false);
    data.set("Error", "2024-05-01T10:00:00Z", 0.9);
    let transitions = step(&mut alarms, "2024-05-01T10:02:00Z", &data);
    assert_eq!(transitions.len(), 1);
    assert!(transitions[0].actions.is_empty());
    assert_eq!(transitions[0].event["detail"]["state"]["value"], "ALARM");

    alarms
        .enable_alarm_actions(&json!({ "AlarmNames": [SEED_ALARM] }))
        .unwrap();
    alarms
        .set_alarm_state(
            &json!({"AlarmName": SEED_ALARM, "StateValue": "OK", "StateReason": "reset"}),
            at("2024-05-01T10:02:30Z"),
        )
        .unwrap();
    data.set("Error", "2024-05-01T10:01:00Z", 0.9);
    let transitions = step(&mut alarms, "2024-05-01T10:03:00Z", &data);
    assert_eq!(transitions[0].actions, vec![TOPIC.to_owned()]);
}

#[test]
fn set_alarm_state() {
    let mut alarms = alarms();
    let mut data = Fake::default();
    alarms
        .put_metric_alarm(&seed_alarm(), at("2024-05-01T10:00:00Z"))
        .unwrap();
    let now = at("2024-05-01T10:00:10Z");
    let set = |state: &str| {
        json!({
            "AlarmName": SEED_ALARM,
            "StateValue": state,
            "StateReason": "testing alarm",
            "StateReasonData": "{\"origin\":\"test\"}",
        })
    };
    alarms.set_alarm_state(&set("ALARM"), now).unwrap();
    let transitions = alarms.take_transitions();
    assert_eq!(transitions.len(), 1);
    let transition = &transitions[0];
    assert_eq!(transition.old_state, AlarmState::InsufficientData);
    assert_eq!(transition.new_state, AlarmState::Alarm);
    assert_eq!(transition.reason, "testing alarm");
    assert_eq!(transition.actions, vec![TOPIC.to_owned()]);
    assert_eq!(transition.timestamp, now);
    let detail = &transition.event["detail"];
    assert_eq!(
        detail["previousState"],
        json!({
            "value": "INSUFFICIENT_DATA",
            "reason": "Unchecked: Initial alarm creation",
            "timestamp": "2024-05-01T10:00:00.000+0000",
        })
    );
    assert_eq!(detail["state"]["reasonData"], "{\"origin\":\"test\"}");
    assert!(alarms.take_transitions().is_empty());

    // The same state again: no transition, no notification, the reason replaced.
    alarms.set_alarm_state(&set("ALARM"), now).unwrap();
    assert!(alarms.take_transitions().is_empty());

    // Errors.
    let mut bad_json = set("OK");
    bad_json["StateReasonData"] = json!("{not json");
    assert_eq!(
        code(alarms.set_alarm_state(&bad_json, now)),
        "InvalidFormat"
    );
    let mut unknown = set("OK");
    unknown["AlarmName"] = json!("no-such-alarm");
    assert_eq!(
        code(alarms.set_alarm_state(&unknown, now)),
        "ResourceNotFound"
    );
    let error = alarms.set_alarm_state(&set("INVALID"), now).unwrap_err();
    assert_eq!(error.code, "ValidationError");
    assert_eq!(
        error.message,
        "1 validation error detected: Value 'INVALID' at 'stateValue' failed to satisfy \
         constraint: Member must satisfy enum value set: [INSUFFICIENT_DATA, ALARM, OK]"
    );
    assert_eq!(alarms.state(SEED_ALARM), Some(AlarmState::Alarm));

    // The next evaluation overwrites it.
    data.set("Error", "2024-05-01T10:00:00Z", 0.0);
    let transitions = step(&mut alarms, "2024-05-01T10:02:00Z", &data);
    assert_eq!(transitions[0].new_state, AlarmState::Ok);
}

#[test]
fn put_metric_alarm_update_replaces_configuration_and_keeps_state() {
    let mut alarms = alarms();
    alarms
        .put_metric_alarm(&seed_alarm(), at("2024-05-01T10:00:00Z"))
        .unwrap();
    alarms
        .set_alarm_state(
            &json!({"AlarmName": SEED_ALARM, "StateValue": "ALARM", "StateReason": "forced"}),
            at("2024-05-01T10:00:05Z"),
        )
        .unwrap();
    let mut update = seed_alarm();
    update["Threshold"] = json!(0.2);
    update.as_object_mut().unwrap().remove("AlarmDescription");
    update.as_object_mut().unwrap().remove("TreatMissingData");
    alarms
        .put_metric_alarm(&update, at("2024-05-01T10:00:20Z"))
        .unwrap();
    let described = describe_one(&alarms, SEED_ALARM);
    assert_eq!(described["StateValue"], "ALARM");
    assert_eq!(described["StateReason"], "forced");
    assert_eq!(described["Threshold"], 0.2);
    assert!(described.get("AlarmDescription").is_none());
    assert!(described.get("TreatMissingData").is_none());
    assert_eq!(
        described["AlarmConfigurationUpdatedTimestamp"],
        json!(1714557620.0)
    );
    assert_eq!(described["StateUpdatedTimestamp"], json!(1714557605.0));

    let history = alarms
        .describe_alarm_history(&json!({
            "AlarmName": SEED_ALARM,
            "HistoryItemType": "ConfigurationUpdate",
        }))
        .unwrap();
    let items = history["AlarmHistoryItems"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(
        items[0]["HistorySummary"],
        format!("Alarm \"{SEED_ALARM}\" updated")
    );
    assert_eq!(
        items[1]["HistorySummary"],
        format!("Alarm \"{SEED_ALARM}\" created")
    );
    let updated: Value = serde_json::from_str(items[0]["HistoryData"].as_str().unwrap()).unwrap();
    assert_eq!(updated["type"], "Update");
    assert_eq!(updated["originalAlarm"]["threshold"], 0.1);
    assert_eq!(updated["updatedAlarm"]["threshold"], 0.2);
    let created = items[1]["HistoryData"].as_str().unwrap();
    assert!(
        created.starts_with(&format!(
            r#"{{"version":"1.0","type":"Create","createdAlarm":{{"alarmName":"{SEED_ALARM}","alarmDescription":"Error rate above 10%","alarmArn":"arn:aws:cloudwatch:us-east-1:123456789012:alarm:{SEED_ALARM}","alarmConfigurationUpdatedTimestamp":"2024-05-01T10:00:00.000+0000","namespace":"ReInvent-EC2SpotTestDev-Metrics","metricName":"Error","statistic":"Average","period":60,"dimensions":[],"threshold":0.1,"comparisonOperator":"GreaterThanOrEqualToThreshold","evaluationPeriods":1,"datapointsToAlarm":1,"treatMissingData":"ignore","stateValue":"INSUFFICIENT_DATA""#
        )),
        "{created}"
    );
    assert!(created.ends_with(&format!(
        r#""actionsEnabled":true,"alarmActions":["{TOPIC}"],"insufficientDataActions":[],"okactions":[]}}}}"#
    )));
}

/// The minimal alarm of AWS's captured DescribeAlarms: exactly these members.
#[test]
fn describe_alarms_members_match_aws() {
    let mut alarms = alarms();
    alarms
        .put_metric_alarm(
            &json!({
                "AlarmName": "minimal",
                "MetricName": "m",
                "Namespace": "ns",
                "Statistic": "Sum",
                "Period": 10,
                "EvaluationPeriods": 1,
                "Threshold": 30,
                "ComparisonOperator": "GreaterThanThreshold",
            }),
            at("2024-05-01T10:00:00.250Z"),
        )
        .unwrap();
    let output = alarms.describe_alarms(&json!({})).unwrap();
    assert_eq!(output["CompositeAlarms"], json!([]));
    let alarm = &output["MetricAlarms"][0];
    let keys: Vec<&str> = alarm
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "ActionsEnabled",
            "AlarmActions",
            "AlarmArn",
            "AlarmConfigurationUpdatedTimestamp",
            "AlarmName",
            "ComparisonOperator",
            "Dimensions",
            "EvaluationPeriods",
            "InsufficientDataActions",
            "MetricName",
            "Namespace",
            "OKActions",
            "Period",
            "StateReason",
            "StateTransitionedTimestamp",
            "StateUpdatedTimestamp",
            "StateValue",
            "Statistic",
            "Threshold",
        ]
    );
    assert_eq!(
        alarm["AlarmArn"],
        "arn:aws:cloudwatch:us-east-1:123456789012:alarm:minimal"
    );
    assert_eq!(alarm["Threshold"], json!(30.0));
    assert_eq!(
        alarm["AlarmConfigurationUpdatedTimestamp"],
        json!(1714557600.25)
    );
    // A 10-second alarm is evaluated every 10 seconds.
    assert_eq!(alarms.next_evaluation(), Some(at("2024-05-01T10:00:10Z")));
}

fn simple(name: &str, actions: &[&str]) -> Value {
    json!({
        "AlarmName": name,
        "MetricName": "Error",
        "Namespace": "app",
        "Dimensions": [{"Name": "Fleet", "Value": "f1"}, {"Name": "Zone", "Value": "a"}],
        "Statistic": "Average",
        "Period": 60,
        "EvaluationPeriods": 1,
        "Threshold": 1.0,
        "ComparisonOperator": "GreaterThanThreshold",
        "AlarmActions": actions,
    })
}

fn names(output: &Value) -> Vec<String> {
    output["MetricAlarms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|alarm| alarm["AlarmName"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn describe_alarms_filters_and_pages() {
    let mut alarms = alarms();
    let now = at("2024-05-01T10:00:00Z");
    for (name, actions) in [
        ("web-errors", vec![TOPIC]),
        ("web-latency", vec![]),
        ("db-errors", vec!["arn:aws:sns:us-east-1:123456789012:db"]),
        ("db-latency", vec![]),
        ("queue-depth", vec![TOPIC]),
    ] {
        alarms
            .put_metric_alarm(&simple(name, &actions), now)
            .unwrap();
    }
    alarms
        .set_alarm_state(
            &json!({"AlarmName": "db-latency", "StateValue": "ALARM", "StateReason": "x"}),
            now,
        )
        .unwrap();

    let all = alarms.describe_alarms(&json!({})).unwrap();
    assert_eq!(
        names(&all),
        [
            "db-errors",
            "db-latency",
            "queue-depth",
            "web-errors",
            "web-latency"
        ]
    );
    let prefix = alarms
        .describe_alarms(&json!({"AlarmNamePrefix": "web-"}))
        .unwrap();
    assert_eq!(names(&prefix), ["web-errors", "web-latency"]);
    let listed = alarms
        .describe_alarms(&json!({"AlarmNames": ["queue-depth", "db-errors", "missing"]}))
        .unwrap();
    assert_eq!(names(&listed), ["db-errors", "queue-depth"]);
    let alarming = alarms
        .describe_alarms(&json!({"StateValue": "ALARM"}))
        .unwrap();
    assert_eq!(names(&alarming), ["db-latency"]);
    let by_action = alarms
        .describe_alarms(&json!({"ActionPrefix": "arn:aws:sns:us-east-1:123456789012:Test"}))
        .unwrap();
    assert_eq!(names(&by_action), ["queue-depth", "web-errors"]);
    let composite = alarms
        .describe_alarms(&json!({"AlarmTypes": ["CompositeAlarm"]}))
        .unwrap();
    assert_eq!(
        composite,
        json!({"MetricAlarms": [], "CompositeAlarms": []})
    );
    let both = alarms
        .describe_alarms(&json!({"AlarmTypes": ["CompositeAlarm", "MetricAlarm"]}))
        .unwrap();
    assert_eq!(names(&both).len(), 5);

    // Pages of two.
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut request = json!({"MaxRecords": 2});
        if let Some(token) = &token {
            request["NextToken"] = json!(token);
        }
        let page = alarms.describe_alarms(&request).unwrap();
        pages += 1;
        seen.extend(names(&page));
        match page.get("NextToken") {
            Some(next) => token = Some(next.as_str().unwrap().to_owned()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, names(&all));

    assert_eq!(
        code(alarms.describe_alarms(&json!({"AlarmNames": ["a"], "AlarmNamePrefix": "a"}))),
        "InvalidParameterCombination"
    );
    assert_eq!(
        code(alarms.describe_alarms(&json!({"NextToken": "!!!"}))),
        "InvalidNextToken"
    );
    assert_eq!(
        code(alarms.describe_alarms(&json!({"MaxRecords": 101}))),
        "ValidationError"
    );
    assert_eq!(
        code(alarms.describe_alarms(&json!({"StateValue": "BAD"}))),
        "ValidationError"
    );
}

// Named alarms and a prefix page like every alarm: in name order, each once, the token
// naming the next one; a name asked twice is described once.
#[test]
fn describe_alarms_pages_named_and_prefixed_alarms() {
    let mut alarms = alarms();
    let now = at("2024-05-01T10:00:00Z");
    for name in ["a-1", "a-2", "a-3", "b-1", "b-2", "c-1"] {
        alarms
            .put_metric_alarm(&simple(name, &[]), now)
            .expect("a simple alarm is valid");
    }
    let pages = |alarms: &Alarms, request: Value| {
        let mut pages = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut request = request.clone();
            request["MaxRecords"] = json!(2);
            if let Some(token) = &token {
                request["NextToken"] = json!(token);
            }
            let page = alarms
                .describe_alarms(&request)
                .expect("DescribeAlarms answers");
            pages.push(names(&page));
            match page.get("NextToken") {
                Some(next) => token = Some(next.as_str().expect("a JSON string").to_owned()),
                None => break,
            }
        }
        pages
    };
    assert_eq!(
        pages(
            &alarms,
            json!({"AlarmNames": ["c-1", "a-2", "missing", "b-1", "a-2", "a-1"]})
        ),
        [vec!["a-1", "a-2"], vec!["b-1", "c-1"]]
    );
    assert_eq!(
        pages(&alarms, json!({"AlarmNamePrefix": "a-"})),
        [vec!["a-1", "a-2"], vec!["a-3"]]
    );
    assert_eq!(
        pages(&alarms, json!({"AlarmNamePrefix": "b"})),
        [vec!["b-1", "b-2"]]
    );
    assert_eq!(
        pages(&alarms, json!({"AlarmNamePrefix": "z"})),
        [Vec::<String>::new()]
    );
}

#[test]
fn describe_alarms_for_metric_matches_the_exact_metric() {
    let mut alarms = alarms();
    let now = at("2024-05-01T10:00:00Z");
    alarms
        .put_metric_alarm(&simple("two-dims", &[]), now)
        .unwrap();
    let mut one_dim = simple("one-dim", &[]);
    one_dim["Dimensions"] = json!([{"Name": "Fleet", "Value": "f1"}]);
    alarms.put_metric_alarm(&one_dim, now).unwrap();
    let mut p99 = simple("p99", &[]);
    p99.as_object_mut().unwrap().remove("Statistic");
    p99["ExtendedStatistic"] = json!("p99");
    alarms.put_metric_alarm(&p99, now).unwrap();

    let query = json!({
        "Namespace": "app",
        "MetricName": "Error",
        "Dimensions": [{"Name": "Zone", "Value": "a"}, {"Name": "Fleet", "Value": "f1"}],
    });
    let found = alarms.describe_alarms_for_metric(&query).unwrap();
    assert_eq!(names(&found), ["p99", "two-dims"]);
    let mut average = query.clone();
    average["Statistic"] = json!("Average");
    assert_eq!(
        names(&alarms.describe_alarms_for_metric(&average).unwrap()),
        ["two-dims"]
    );
    let mut extended = query.clone();
    extended["ExtendedStatistic"] = json!("p99");
    assert_eq!(
        names(&alarms.describe_alarms_for_metric(&extended).unwrap()),
        ["p99"]
    );
    let mut other_period = query.clone();
    other_period["Period"] = json!(300);
    assert!(names(&alarms.describe_alarms_for_metric(&other_period).unwrap()).is_empty());
    let one = json!({
        "Namespace": "app",
        "MetricName": "Error",
        "Dimensions": [{"Name": "Fleet", "Value": "f1"}],
    });
    assert_eq!(
        names(&alarms.describe_alarms_for_metric(&one).unwrap()),
        ["one-dim"]
    );
    assert_eq!(
        code(alarms.describe_alarms_for_metric(&json!({"Namespace": "app"}))),
        "MissingParameter"
    );
}

#[test]
fn history_filters_pages_and_survives_deletion() {
    let mut alarms = alarms();
    let mut data = Fake::default();
    alarms
        .put_metric_alarm(&seed_alarm(), at("2024-05-01T10:00:00Z"))
        .unwrap();
    alarms
        .put_metric_alarm(&simple("other", &[]), at("2024-05-01T10:00:01Z"))
        .unwrap();
    data.set("Error", "2024-05-01T10:00:00Z", 0.5);
    let transitions = step(&mut alarms, "2024-05-01T10:02:00Z", &data);
    let to_alarm = transitions
        .iter()
        .find(|t| t.alarm_name == SEED_ALARM)
        .unwrap();
    alarms.record_action(
        to_alarm,
        TOPIC,
        &ActionResult::Succeeded,
        at("2024-05-01T10:02:00.100Z"),
    );
    alarms.record_action(
        to_alarm,
        TOPIC,
        &ActionResult::Failed {
            reason: "NotFound".to_owned(),
        },
        at("2024-05-01T10:02:00.200Z"),
    );
    alarms
        .delete_alarms(
            &json!({"AlarmNames": [SEED_ALARM]}),
            at("2024-05-01T10:03:00Z"),
        )
        .unwrap();
    assert!(
        alarms
            .describe_alarms(&json!({"AlarmNames": [SEED_ALARM]}))
            .unwrap()["MetricAlarms"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    let history = alarms
        .describe_alarm_history(&json!({"AlarmName": SEED_ALARM}))
        .unwrap();
    let items = history["AlarmHistoryItems"].as_array().unwrap();
    let kinds: Vec<(&str, &str)> = items
        .iter()
        .map(|item| {
            (
                item["HistoryItemType"].as_str().unwrap(),
                item["HistorySummary"].as_str().unwrap(),
            )
        })
        .collect();
    let failed = format!("Failed to execute action {TOPIC}. Reason: NotFound");
    let executed = format!("Successfully executed action {TOPIC}");
    let deleted = format!("Alarm \"{SEED_ALARM}\" deleted");
    let created = format!("Alarm \"{SEED_ALARM}\" created");
    assert_eq!(
        kinds,
        [
            ("ConfigurationUpdate", deleted.as_str()),
            ("Action", failed.as_str()),
            ("Action", executed.as_str()),
            (
                "StateUpdate",
                "Alarm updated from INSUFFICIENT_DATA to ALARM"
            ),
            ("ConfigurationUpdate", created.as_str()),
        ]
    );
    assert_eq!(items[0]["AlarmType"], "MetricAlarm");
    let action: Value = serde_json::from_str(items[2]["HistoryData"].as_str().unwrap()).unwrap();
    assert_eq!(action["actionState"], "Succeeded");
    assert_eq!(action["notificationResource"], TOPIC);
    assert_eq!(action["stateUpdateTimestamp"], 1714557720000u64);
    let published: Value =
        serde_json::from_str(action["publishedMessage"].as_str().unwrap()).unwrap();
    assert_eq!(published["default"], to_alarm.message.as_str());
    let state_update = items[3]["HistoryData"].as_str().unwrap();
    assert!(state_update.starts_with(
        r#"{"version":"1.0","oldState":{"stateValue":"INSUFFICIENT_DATA","stateReason":"Unchecked: Initial alarm creation"},"newState":{"stateValue":"ALARM","stateReason":"Threshold Crossed: 1 out of the last 1 datapoints [0.5 (01/05/24 10:00:00)] was greater than or equal to the threshold (0.1) (minimum 1 datapoint for OK -> ALARM transition).","stateReasonData":{"version":"1.0","queryDate":"2024-05-01T10:02:00.000+0000","startDate":"2024-05-01T10:00:00.000+0000","statistic":"Average","period":60,"#
    ));

    // Oldest first, by type, by date, in pages.
    let ascending = alarms
        .describe_alarm_history(&json!({"ScanBy": "TimestampAscending", "MaxRecords": 2}))
        .unwrap();
    let first: Vec<&str> = ascending["AlarmHistoryItems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["AlarmName"].as_str().unwrap())
        .collect();
    assert_eq!(first, [SEED_ALARM, "other"]);
    let token = ascending["NextToken"].as_str().unwrap();
    let second = alarms
        .describe_alarm_history(&json!({
            "ScanBy": "TimestampAscending",
            "MaxRecords": 2,
            "NextToken": token,
        }))
        .unwrap();
    assert_eq!(
        second["AlarmHistoryItems"][0]["HistoryItemType"],
        "StateUpdate"
    );
    let actions = alarms
        .describe_alarm_history(&json!({"HistoryItemType": "Action"}))
        .unwrap();
    assert_eq!(actions["AlarmHistoryItems"].as_array().unwrap().len(), 2);
    let window = alarms
        .describe_alarm_history(&json!({
            "StartDate": 1714557720.05,
            "EndDate": 1714557720.15,
        }))
        .unwrap();
    assert_eq!(window["AlarmHistoryItems"].as_array().unwrap().len(), 1);
    let composite_only = alarms
        .describe_alarm_history(&json!({"AlarmTypes": ["CompositeAlarm"]}))
        .unwrap();
    assert_eq!(composite_only["AlarmHistoryItems"], json!([]));
    assert_eq!(
        code(alarms.describe_alarm_history(&json!({"HistoryItemType": "Bogus"}))),
        "ValidationError"
    );

    // Unknown names: nothing is deleted.
    assert_eq!(
        code(alarms.delete_alarms(
            &json!({"AlarmNames": ["other", "ghost"]}),
            at("2024-05-01T10:03:00Z")
        )),
        "ResourceNotFound"
    );
    assert_eq!(alarms.state("other"), Some(AlarmState::Ok));
}

#[test]
fn validation_errors() {
    let base = seed_alarm();
    let with = |changes: Value| {
        let mut input = base.clone();
        for (key, value) in changes.as_object().unwrap() {
            if value.is_null() {
                input.as_object_mut().unwrap().remove(key);
            } else {
                input[key] = value.clone();
            }
        }
        input
    };
    let single_math = json!([
        {"Id": "e", "MetricStat": {"Metric": {"Namespace": "n", "MetricName": "Error"}, "Period": 60, "Stat": "Sum"}, "ReturnData": false},
        {"Id": "s", "MetricStat": {"Metric": {"Namespace": "n", "MetricName": "Success"}, "Period": 60, "Stat": "Sum"}, "ReturnData": false},
        {"Id": "rate", "Expression": "e / (e + s)"},
    ]);
    let no_metric = json!({
        "MetricName": null, "Namespace": null, "Statistic": null, "Period": null,
    });
    let math = |metrics: Value| {
        let mut input = with(no_metric.clone());
        input["Metrics"] = metrics;
        input
    };
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "no name",
            with(json!({"AlarmName": null})),
            "MissingParameter",
        ),
        (
            "long name",
            with(json!({"AlarmName": "x".repeat(256)})),
            "ValidationError",
        ),
        (
            "long description",
            with(json!({"AlarmDescription": "d".repeat(1025)})),
            "ValidationError",
        ),
        (
            "both statistics",
            with(json!({"ExtendedStatistic": "p99"})),
            "InvalidParameterCombination",
        ),
        (
            "no statistic",
            with(json!({"Statistic": null})),
            "MissingParameter",
        ),
        (
            "unknown statistic",
            with(json!({"Statistic": "Median"})),
            "ValidationError",
        ),
        (
            "p101",
            with(json!({"Statistic": null, "ExtendedStatistic": "p101"})),
            "InvalidParameterValue",
        ),
        (
            "TM(5%:95%)",
            with(json!({"Statistic": null, "ExtendedStatistic": "TM(5%:95%)"})),
            "InvalidParameterValue",
        ),
        (
            "period 45",
            with(json!({"Period": 45})),
            "InvalidParameterValue",
        ),
        ("period 0", with(json!({"Period": 0})), "ValidationError"),
        (
            "no period",
            with(json!({"Period": null})),
            "MissingParameter",
        ),
        (
            "one day",
            with(json!({"EvaluationPeriods": 1441})),
            "InvalidParameterCombination",
        ),
        (
            "one week",
            with(json!({"Period": 3600, "EvaluationPeriods": 169})),
            "InvalidParameterCombination",
        ),
        (
            "no N",
            with(json!({"EvaluationPeriods": null})),
            "MissingParameter",
        ),
        (
            "N 0",
            with(json!({"EvaluationPeriods": 0})),
            "ValidationError",
        ),
        (
            "M > N",
            with(json!({"DatapointsToAlarm": 2})),
            "InvalidParameterCombination",
        ),
        (
            "M 0",
            with(json!({"DatapointsToAlarm": 0})),
            "ValidationError",
        ),
        (
            "no threshold",
            with(json!({"Threshold": null})),
            "MissingParameter",
        ),
        (
            "no operator",
            with(json!({"ComparisonOperator": null})),
            "MissingParameter",
        ),
        (
            "bad operator",
            with(json!({"ComparisonOperator": "Bigger"})),
            "ValidationError",
        ),
        (
            "bad treatment",
            with(json!({"TreatMissingData": "sometimes"})),
            "InvalidParameterValue",
        ),
        (
            "bad low sample",
            with(json!({"EvaluateLowSampleCountPercentile": "maybe"})),
            "InvalidParameterValue",
        ),
        (
            "bad unit",
            with(json!({"Unit": "Furlongs"})),
            "ValidationError",
        ),
        (
            "six actions",
            with(json!({"AlarmActions": [TOPIC, TOPIC, TOPIC, TOPIC, TOPIC, TOPIC]})),
            "ValidationError",
        ),
        (
            "not an arn",
            with(json!({"OKActions": ["not-an-arn"]})),
            "InvalidParameterValue",
        ),
        (
            "anomaly without id",
            with(json!({"ComparisonOperator": "LessThanLowerOrGreaterThanUpperThreshold"})),
            "MissingParameter",
        ),
        (
            "threshold metric id",
            with(json!({"ThresholdMetricId": "ad1"})),
            "InvalidParameterCombination",
        ),
        (
            "metrics and metric",
            with(json!({"Metrics": single_math.clone()})),
            "InvalidParameterCombination",
        ),
        (
            "two return data",
            math(json!([
                {"Id": "a", "Expression": "1"},
                {"Id": "b", "Expression": "2"},
            ])),
            "InvalidParameterValue",
        ),
        (
            "stat and expression",
            math(json!([
                {"Id": "a", "Expression": "1", "MetricStat": {"Metric": {"Namespace": "n", "MetricName": "m"}, "Period": 60, "Stat": "Sum"}},
            ])),
            "InvalidParameterCombination",
        ),
        (
            "mixed periods",
            math(json!([
                {"Id": "a", "MetricStat": {"Metric": {"Namespace": "n", "MetricName": "m"}, "Period": 60, "Stat": "Sum"}, "ReturnData": false},
                {"Id": "b", "MetricStat": {"Metric": {"Namespace": "n", "MetricName": "m"}, "Period": 300, "Stat": "Sum"}, "ReturnData": false},
                {"Id": "c", "Expression": "a + b"},
            ])),
            "InvalidParameterValue",
        ),
        (
            "bad id",
            math(json!([{"Id": "Rate", "Expression": "1"}])),
            "InvalidParameterValue",
        ),
        (
            "duplicate id",
            math(json!([
                {"Id": "a", "Expression": "1", "ReturnData": false},
                {"Id": "a", "Expression": "2"},
            ])),
            "InvalidParameterValue",
        ),
        (
            "no id",
            math(json!([{"Expression": "1"}])),
            "MissingParameter",
        ),
    ];
    let mut alarms = alarms();
    for (what, input, expected) in cases {
        assert_eq!(
            code(alarms.put_metric_alarm(&input, at("2024-05-01T10:00:00Z"))),
            expected,
            "{what}"
        );
    }
    assert_eq!(
        alarms.describe_alarms(&json!({})).unwrap()["MetricAlarms"],
        json!([])
    );

    // Accepted variants.
    for (what, input) in [
        (
            "p99.9",
            with(json!({"Statistic": null, "ExtendedStatistic": "p99.9"})),
        ),
        (
            "TM(10%:90%)",
            with(json!({"Statistic": null, "ExtendedStatistic": "TM(10%:90%)"})),
        ),
        (
            "IQM",
            with(json!({"Statistic": null, "ExtendedStatistic": "IQM"})),
        ),
        (
            "PR(:300)",
            with(json!({"Statistic": null, "ExtendedStatistic": "PR(:300)"})),
        ),
        (
            "period 10",
            with(json!({"Period": 10, "EvaluationPeriods": 8640})),
        ),
        (
            "period 3600",
            with(json!({"Period": 3600, "EvaluationPeriods": 168})),
        ),
        ("math", math(single_math.clone())),
    ] {
        let mut input = input;
        input["AlarmName"] = json!(what);
        alarms
            .put_metric_alarm(&input, at("2024-05-01T10:00:00Z"))
            .unwrap_or_else(|e| panic!("{what}: {e}"));
    }
}

#[test]
fn math_alarm_evaluates_the_expression() {
    let mut alarms = alarms();
    let mut data = Fake::default();
    let input = json!({
        "AlarmName": "error-rate",
        "EvaluationPeriods": 2,
        "DatapointsToAlarm": 2,
        "Threshold": 0.1,
        "ComparisonOperator": "GreaterThanThreshold",
        "AlarmActions": [TOPIC],
        "Metrics": [
            {"Id": "e", "MetricStat": {"Metric": {"Namespace": "app", "MetricName": "Error", "Dimensions": [{"Name": "Fleet", "Value": "f1"}]}, "Period": 60, "Stat": "Sum"}, "ReturnData": false},
            {"Id": "s", "MetricStat": {"Metric": {"Namespace": "app", "MetricName": "Success"}, "Period": 60, "Stat": "Sum"}, "ReturnData": false},
            {"Id": "rate", "Expression": "e / (e + s)", "Label": "Error rate"},
        ],
    });
    alarms
        .put_metric_alarm(&input, at("2024-05-01T10:00:00Z"))
        .unwrap();
    let described = describe_one(&alarms, "error-rate");
    assert_eq!(described["Metrics"][2]["ReturnData"], true);
    assert_eq!(described["Metrics"][0]["ReturnData"], false);
    assert!(described.get("Period").is_none());

    data.set("math", "2024-05-01T10:00:00Z", 0.3);
    data.set("math", "2024-05-01T10:01:00Z", 0.4);
    let transitions = step(&mut alarms, "2024-05-01T10:03:00Z", &data);
    assert_eq!(transitions.len(), 1);
    let (query, start, end) = data.asked.borrow().last().cloned().unwrap();
    let AlarmQuery::Math { metrics, period } = query else {
        panic!("expected a math query");
    };
    assert_eq!(period, 60);
    assert_eq!(metrics[2]["Expression"], "e / (e + s)");
    assert_eq!(
        (start, end),
        (at("2024-05-01T09:58:00Z"), at("2024-05-01T10:02:00Z")),
        "the minute that ended at 10:02 is judged at 10:03"
    );

    let transition = &transitions[0];
    assert_eq!(
        transition.reason,
        "Threshold Crossed: 2 out of the last 2 datapoints [0.4 (01/05/24 10:01:00), 0.3 \
         (01/05/24 10:00:00)] were greater than the threshold (0.1) (minimum 2 datapoints for \
         OK -> ALARM transition)."
    );
    let reason_data: Value =
        serde_json::from_str(transition.reason_data.as_deref().unwrap()).unwrap();
    assert!(reason_data.get("statistic").is_none());
    let message: Value = serde_json::from_str(&transition.message).unwrap();
    assert!(message["Trigger"].get("MetricName").is_none());
    assert_eq!(
        message["Trigger"]["Metrics"][2]["Expression"],
        "e / (e + s)"
    );
    assert_eq!(
        message["Trigger"]["Metrics"][0]["MetricStat"]["Metric"]["Dimensions"],
        json!([{"value": "f1", "name": "Fleet"}])
    );
    let metrics = &transition.event["detail"]["configuration"]["metrics"];
    assert_eq!(
        metrics[2],
        json!({"id": "rate", "expression": "e / (e + s)", "label": "Error rate", "returnData": true})
    );
    assert_eq!(
        metrics[0]["metricStat"],
        json!({"metric": {"dimensions": {"Fleet": "f1"}, "name": "Error", "namespace": "app"}, "period": 60, "stat": "Sum"})
    );
}

/// The evaluation windows of the module docs: minute ticks and minute-aligned ranges of
/// N + 2 periods for periods of a minute or more, 10-second ticks and period-aligned
/// ranges for high-resolution alarms.
#[test]
fn evaluation_windows() {
    let mut alarms = alarms();
    let data = Fake::default();
    let mut five_minutes = simple("five-minutes", &[]);
    five_minutes["Period"] = json!(300);
    five_minutes["EvaluationPeriods"] = json!(2);
    alarms
        .put_metric_alarm(&five_minutes, at("2024-05-01T10:06:20Z"))
        .unwrap();
    let mut fast = simple("thirty-seconds", &[]);
    fast["Period"] = json!(30);
    alarms
        .put_metric_alarm(&fast, at("2024-05-01T10:06:20Z"))
        .unwrap();
    assert_eq!(alarms.next_evaluation(), Some(at("2024-05-01T10:06:30Z")));

    step(&mut alarms, "2024-05-01T10:06:30Z", &data);
    step(&mut alarms, "2024-05-01T10:06:40Z", &data);
    // Called late: one evaluation as of the latest tick.
    step(&mut alarms, "2024-05-01T10:07:25Z", &data);
    let asked: Vec<(String, SimTime, SimTime)> = data
        .asked
        .borrow()
        .iter()
        .map(|(query, start, end)| {
            let AlarmQuery::Metric(metric) = query else {
                panic!("expected a metric query");
            };
            (metric.period.to_string(), *start, *end)
        })
        .collect();
    assert_eq!(
        asked,
        vec![
            (
                "30".to_owned(),
                at("2024-05-01T10:04:30Z"),
                at("2024-05-01T10:06:00Z")
            ),
            (
                "30".to_owned(),
                at("2024-05-01T10:04:30Z"),
                at("2024-05-01T10:06:00Z")
            ),
            (
                "30".to_owned(),
                at("2024-05-01T10:05:00Z"),
                at("2024-05-01T10:06:30Z")
            ),
            (
                "300".to_owned(),
                at("2024-05-01T09:46:00Z"),
                at("2024-05-01T10:06:00Z")
            ),
        ]
    );
    assert_eq!(alarms.next_evaluation(), Some(at("2024-05-01T10:07:30Z")));
}

/// The SNS message of fact sheet 3.4, byte for byte (with our own change time).
#[test]
fn sns_message_matches_aws() {
    let mut alarms = Alarms::new("us-east-2", "123456789012", 1);
    let mut data = Fake::default();
    let topic = "arn:aws:sns:us-east-2:123456789012:ops";
    alarms
        .put_metric_alarm(
            &json!({
                "AlarmName": "cpu-high",
                "MetricName": "CPUUtilization",
                "Namespace": "AWS/EC2",
                "Statistic": "Maximum",
                "Dimensions": [{"Name": "InstanceId", "Value": "i-0123456789abcdef0"}],
                "Period": 60,
                "EvaluationPeriods": 1,
                "DatapointsToAlarm": 1,
                "Threshold": 90,
                "ComparisonOperator": "GreaterThanOrEqualToThreshold",
                "TreatMissingData": "missing",
                "AlarmActions": [topic],
            }),
            at("2025-05-13T09:50:08.366Z"),
        )
        .unwrap();
    alarms
        .set_alarm_state(
            &json!({"AlarmName": "cpu-high", "StateValue": "OK", "StateReason": "calm"}),
            at("2025-05-14T01:50:00Z"),
        )
        .unwrap();
    alarms.take_transitions();
    data.set("CPUUtilization", "2025-05-14T01:55:00Z", 94.10166666666666);
    let transitions = step(&mut alarms, "2025-05-14T01:58:00Z", &data);
    assert_eq!(transitions.len(), 1);
    let transition = &transitions[0];
    assert_eq!(transition.subject, "ALARM: \"cpu-high\" in US East (Ohio)");
    assert_eq!(
        transition.message,
        r#"{"AlarmName":"cpu-high","AlarmDescription":null,"AWSAccountId":"123456789012","AlarmConfigurationUpdatedTimestamp":"2025-05-13T09:50:08.366+0000","NewStateValue":"ALARM","NewStateReason":"Threshold Crossed: 1 out of the last 1 datapoints [94.10166666666666 (14/05/25 01:55:00)] was greater than or equal to the threshold (90.0) (minimum 1 datapoint for OK -> ALARM transition).","StateChangeTime":"2025-05-14T01:58:00.000+0000","Region":"US East (Ohio)","AlarmArn":"arn:aws:cloudwatch:us-east-2:123456789012:alarm:cpu-high","OldStateValue":"OK","OKActions":[],"AlarmActions":["arn:aws:sns:us-east-2:123456789012:ops"],"InsufficientDataActions":[],"Trigger":{"MetricName":"CPUUtilization","Namespace":"AWS/EC2","StatisticType":"Statistic","Statistic":"MAXIMUM","Unit":null,"Dimensions":[{"value":"i-0123456789abcdef0","name":"InstanceId"}],"Period":60,"EvaluationPeriods":1,"DatapointsToAlarm":1,"ComparisonOperator":"GreaterThanOrEqualToThreshold","Threshold":90.0,"TreatMissingData":"missing","EvaluateLowSampleCountPercentile":""}}"#
    );

    // The EventBridge event of 3.5.
    let event = &transition.event;
    assert_eq!(event["version"], "0");
    assert_eq!(event["detail-type"], "CloudWatch Alarm State Change");
    assert_eq!(event["source"], "aws.cloudwatch");
    assert_eq!(event["account"], "123456789012");
    assert_eq!(event["time"], "2025-05-14T01:58:00Z");
    assert_eq!(event["region"], "us-east-2");
    assert_eq!(
        event["resources"],
        json!(["arn:aws:cloudwatch:us-east-2:123456789012:alarm:cpu-high"])
    );
    let id = event["id"].as_str().unwrap();
    assert_eq!(id.len(), 36);
    let detail = &event["detail"];
    assert_eq!(detail["alarmName"], "cpu-high");
    assert_eq!(
        detail["previousState"],
        json!({"value": "OK", "reason": "calm", "timestamp": "2025-05-14T01:50:00.000+0000"})
    );
    assert_eq!(detail["state"]["value"], "ALARM");
    assert_eq!(detail["state"]["timestamp"], "2025-05-14T01:58:00.000+0000");
    assert_eq!(detail["state"]["reason"], transition.reason.as_str());
    assert_eq!(
        detail["state"]["reasonData"].as_str(),
        transition.reason_data.as_deref()
    );
    let metric = &detail["configuration"]["metrics"][0];
    assert_eq!(metric["returnData"], true);
    assert_eq!(
        metric["metricStat"],
        json!({
            "metric": {"dimensions": {"InstanceId": "i-0123456789abcdef0"}, "name": "CPUUtilization", "namespace": "AWS/EC2"},
            "period": 60,
            "stat": "Maximum",
        })
    );
    assert!(detail["configuration"].get("description").is_none());
}

#[test]
fn region_names() {
    for (code, name) in [
        ("us-east-1", "US East (N. Virginia)"),
        ("us-east-2", "US East (Ohio)"),
        ("us-west-2", "US West (Oregon)"),
        ("eu-west-1", "EU (Ireland)"),
    ] {
        assert_eq!(monitoring::cloudwatch::alarms::region_long_name(code), name);
    }
}

#[test]
fn ids_are_deterministic() {
    let run = || {
        let mut alarms = alarms();
        alarms
            .put_metric_alarm(&seed_alarm(), at("2024-05-01T10:00:00Z"))
            .unwrap();
        alarms
            .set_alarm_state(
                &json!({"AlarmName": SEED_ALARM, "StateValue": "ALARM", "StateReason": "x"}),
                at("2024-05-01T10:00:01Z"),
            )
            .unwrap();
        alarms.take_transitions()
    };
    let (first, second) = (run(), run());
    assert_eq!(first, second);
    assert_eq!(first[0].event["id"], second[0].event["id"]);
}
