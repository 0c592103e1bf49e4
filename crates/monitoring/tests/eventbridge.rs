//! EventBridge's calls and routing on the pure service (fact sheet
//! monitoring-semantics.md sections 5.1, 5.2, 5.4 and 5.5).

use monitoring::ApiError;
use monitoring::eventbridge::{Delivery, EventBridge, event_text};
use serde_json::{Value, json};
use simtime::SimTime;

const REGION: &str = "us-east-1";
const ACCOUNT: &str = "123456789012";
const TOPIC: &str = "ReInvent-EC2SpotTestDev-SpotInterruptionTopic";
const SEED_PATTERN: &str =
    r#"{"detail-type":["EC2 Spot Instance Interruption Warning"],"source":["aws.ec2"]}"#;

fn now() -> SimTime {
    SimTime::parse("2024-01-02T03:04:05.678Z").expect("timestamp")
}

fn events() -> EventBridge {
    EventBridge::new(REGION, ACCOUNT, 7)
}

fn call(bridge: &mut EventBridge, action: &str, input: Value) -> Value {
    bridge
        .call(action, &input, now())
        .unwrap_or_else(|e| panic!("{action} {input} failed: {e}"))
}

fn fails(bridge: &mut EventBridge, action: &str, input: Value) -> ApiError {
    match bridge.call(action, &input, now()) {
        Ok(out) => panic!("{action} {input} should fail, gave {out}"),
        Err(error) => error,
    }
}

fn topic_arn() -> String {
    format!("arn:aws:sns:{REGION}:{ACCOUNT}:{TOPIC}")
}

/// The walkthrough's rule and target (fact sheet 5.5).
fn seed_rule(bridge: &mut EventBridge) {
    call(
        bridge,
        "PutRule",
        json!({"Name": "SpotInterruptions", "EventPattern": SEED_PATTERN}),
    );
    let out = call(
        bridge,
        "PutTargets",
        json!({"Rule": "SpotInterruptions", "Targets": [{"Id": TOPIC, "Arn": topic_arn()}]}),
    );
    assert_eq!(out, json!({"FailedEntryCount": 0, "FailedEntries": []}));
}

fn interruption_warning() -> Value {
    json!({
        "version": "0",
        "id": "1e5527d7-bb36-4607-3370-4164db56a40e",
        "detail-type": "EC2 Spot Instance Interruption Warning",
        "source": "aws.ec2",
        "account": ACCOUNT,
        "time": "2024-01-02T03:04:05Z",
        "region": REGION,
        "resources": ["arn:aws:ec2:us-east-1a:instance/i-0b662ef9931388ba0"],
        "detail": {"instance-id": "i-0b662ef9931388ba0", "instance-action": "terminate"}
    })
}

fn state_change() -> Value {
    json!({
        "version": "0",
        "id": "7bf73129-1428-4cd3-a780-95db273d1602",
        "detail-type": "EC2 Instance State-change Notification",
        "source": "aws.ec2",
        "account": ACCOUNT,
        "time": "2024-01-02T03:04:05Z",
        "region": REGION,
        "resources": [format!("arn:aws:ec2:{REGION}:{ACCOUNT}:instance/i-0b662ef9931388ba0")],
        "detail": {"instance-id": "i-0b662ef9931388ba0", "state": "running"}
    })
}

// ---- rules ----

#[test]
fn put_rule_returns_the_rule_arn_and_describe_shows_it() {
    let mut bridge = events();
    let out = call(
        &mut bridge,
        "PutRule",
        json!({"Name": "r1", "EventPattern": SEED_PATTERN, "Description": "spot", "RoleArn": "arn:aws:iam::123456789012:role/x"}),
    );
    assert_eq!(
        out,
        json!({"RuleArn": "arn:aws:events:us-east-1:123456789012:rule/r1"})
    );
    let described = call(&mut bridge, "DescribeRule", json!({"Name": "r1"}));
    assert_eq!(
        described,
        json!({
            "Name": "r1",
            "Arn": "arn:aws:events:us-east-1:123456789012:rule/r1",
            "EventPattern": SEED_PATTERN,
            "State": "ENABLED",
            "Description": "spot",
            "RoleArn": "arn:aws:iam::123456789012:role/x",
            "EventBusName": "default",
            "CreatedBy": ACCOUNT
        })
    );
}

#[test]
fn rules_on_a_custom_bus_have_the_bus_in_their_arn() {
    let mut bridge = events();
    let out = call(
        &mut bridge,
        "PutRule",
        json!({"Name": "r1", "EventPattern": SEED_PATTERN, "EventBusName": "apps"}),
    );
    assert_eq!(
        out["RuleArn"],
        "arn:aws:events:us-east-1:123456789012:rule/apps/r1"
    );
    // The bus may be named by its ARN.
    let by_arn = json!({"Name": "r1", "EventBusName": "arn:aws:events:us-east-1:123456789012:event-bus/apps"});
    assert_eq!(
        call(&mut bridge, "DescribeRule", by_arn)["EventBusName"],
        "apps"
    );
    let error = fails(&mut bridge, "DescribeRule", json!({"Name": "r1"}));
    assert_eq!(error.code, "ResourceNotFoundException");
    assert_eq!(error.message, "Rule r1 does not exist on EventBus default.");
}

#[test]
fn put_rule_on_an_existing_rule_replaces_it_and_keeps_its_targets() {
    let mut bridge = events();
    seed_rule(&mut bridge);
    call(
        &mut bridge,
        "PutRule",
        json!({"Name": "SpotInterruptions", "EventPattern": SEED_PATTERN, "State": "DISABLED", "Description": "old"}),
    );
    call(
        &mut bridge,
        "PutRule",
        json!({"Name": "SpotInterruptions", "ScheduleExpression": "rate(5 minutes)"}),
    );
    let described = call(
        &mut bridge,
        "DescribeRule",
        json!({"Name": "SpotInterruptions"}),
    );
    assert_eq!(described["State"], "ENABLED");
    assert_eq!(described["ScheduleExpression"], "rate(5 minutes)");
    assert!(described.get("EventPattern").is_none());
    assert!(described.get("Description").is_none());
    let targets = call(
        &mut bridge,
        "ListTargetsByRule",
        json!({"Rule": "SpotInterruptions"}),
    );
    assert_eq!(targets["Targets"].as_array().map(Vec::len), Some(1));
}

#[test]
fn put_rule_rejects_what_aws_rejects() {
    let mut bridge = events();
    let cases = [
        (
            json!({"Name": "bad name", "EventPattern": SEED_PATTERN}),
            "ValidationException",
            "1 validation error detected: Value 'bad name' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+",
        ),
        (
            json!({"Name": "x".repeat(65), "EventPattern": SEED_PATTERN}),
            "ValidationException",
            &format!(
                "1 validation error detected: Value '{}' at 'name' failed to satisfy constraint: Member must have length less than or equal to 64",
                "x".repeat(65)
            ),
        ),
        (
            json!({"EventPattern": SEED_PATTERN}),
            "ValidationException",
            "1 validation error detected: Value null at 'name' failed to satisfy constraint: Member must not be null",
        ),
        (
            json!({"Name": "r"}),
            "ValidationException",
            "Parameter(s) EventPattern or ScheduleExpression must be specified.",
        ),
        (
            json!({"Name": "r", "EventPattern": r#"{"source": []}"#}),
            "InvalidEventPatternException",
            "Event pattern is not valid. Reason: Empty arrays are not allowed",
        ),
        (
            json!({"Name": "r", "EventPattern": r#"{"source": "aws.ec2"}"#}),
            "InvalidEventPatternException",
            "Event pattern is not valid. Reason: \"source\" must be an object or an array",
        ),
        (
            json!({"Name": "r", "ScheduleExpression": "rate(5 minutes)", "EventBusName": "apps"}),
            "ValidationException",
            "ScheduleExpression is supported only on the default event bus.",
        ),
        (
            json!({"Name": "r", "ScheduleExpression": "rate(1 minutes)"}),
            "ValidationException",
            "Parameter ScheduleExpression is not valid.",
        ),
        (
            json!({"Name": "r", "ScheduleExpression": "cron(0 12 * * * *)"}),
            "ValidationException",
            "Parameter ScheduleExpression is not valid.",
        ),
        (
            json!({"Name": "r", "EventPattern": SEED_PATTERN, "State": "ON"}),
            "ValidationException",
            "1 validation error detected: Value 'ON' at 'state' failed to satisfy constraint: Member must satisfy enum value set: [ENABLED, DISABLED, ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS]",
        ),
    ];
    for (input, code, message) in cases {
        let error = fails(&mut bridge, "PutRule", input.clone());
        assert_eq!(
            (error.code.as_str(), error.message.as_str()),
            (code, message),
            "{input}"
        );
    }
    let long = format!(r#"{{"source": ["{}"]}}"#, "a".repeat(4100));
    let error = fails(
        &mut bridge,
        "PutRule",
        json!({"Name": "r", "EventPattern": long}),
    );
    assert_eq!(error.code, "ValidationException");
    assert!(
        error.message.contains("at 'eventPattern'"),
        "{}",
        error.message
    );
    // Nothing was created by the failures.
    assert_eq!(
        call(&mut bridge, "ListRules", json!({})),
        json!({"Rules": []})
    );
}

#[test]
fn schedules_are_stored() {
    let mut bridge = events();
    for expression in [
        "rate(1 minute)",
        "rate(2 hours)",
        "cron(0 12 * * ? *)",
        "cron(0/5 8-17 ? * MON-FRI *)",
    ] {
        call(
            &mut bridge,
            "PutRule",
            json!({"Name": "tick", "ScheduleExpression": expression}),
        );
        let described = call(&mut bridge, "DescribeRule", json!({"Name": "tick"}));
        assert_eq!(described["ScheduleExpression"], expression);
    }
}

#[test]
fn list_rules_filters_by_prefix_and_pages() {
    let mut bridge = events();
    for name in ["b", "a2", "a1", "a3", "c"] {
        call(
            &mut bridge,
            "PutRule",
            json!({"Name": name, "EventPattern": SEED_PATTERN}),
        );
    }
    let names = |out: &Value| -> Vec<String> {
        out["Rules"]
            .as_array()
            .map(|rules| {
                rules
                    .iter()
                    .filter_map(|r| r["Name"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let all = call(&mut bridge, "ListRules", json!({}));
    assert_eq!(names(&all), ["a1", "a2", "a3", "b", "c"]);
    assert!(all.get("NextToken").is_none());
    assert_eq!(all["Rules"][0]["State"], "ENABLED");
    assert_eq!(
        all["Rules"][0]["Arn"],
        "arn:aws:events:us-east-1:123456789012:rule/a1"
    );
    assert!(all["Rules"][0].get("CreatedBy").is_none());
    let prefixed = call(&mut bridge, "ListRules", json!({"NamePrefix": "a"}));
    assert_eq!(names(&prefixed), ["a1", "a2", "a3"]);

    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut input = json!({"Limit": 2});
        if let Some(token) = &token {
            input["NextToken"] = json!(token);
        }
        let page = call(&mut bridge, "ListRules", input);
        pages += 1;
        seen.extend(names(&page));
        match page.get("NextToken").and_then(Value::as_str) {
            Some(next) => token = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, ["a1", "a2", "a3", "b", "c"]);

    let error = fails(&mut bridge, "ListRules", json!({"Limit": 0}));
    assert_eq!(error.code, "ValidationException");
    let other_bus = call(&mut bridge, "ListRules", json!({"EventBusName": "apps"}));
    assert_eq!(other_bus, json!({"Rules": []}));
}

#[test]
fn delete_rule_needs_its_targets_removed_first() {
    let mut bridge = events();
    seed_rule(&mut bridge);
    let error = fails(
        &mut bridge,
        "DeleteRule",
        json!({"Name": "SpotInterruptions"}),
    );
    assert_eq!(error.code, "ValidationException");
    assert_eq!(error.message, "Rule can't be deleted since it has targets.");
    let out = call(
        &mut bridge,
        "RemoveTargets",
        json!({"Rule": "SpotInterruptions", "Ids": [TOPIC]}),
    );
    assert_eq!(out, json!({"FailedEntryCount": 0, "FailedEntries": []}));
    call(
        &mut bridge,
        "DeleteRule",
        json!({"Name": "SpotInterruptions"}),
    );
    let error = fails(
        &mut bridge,
        "DescribeRule",
        json!({"Name": "SpotInterruptions"}),
    );
    assert_eq!(error.code, "ResourceNotFoundException");
    assert_eq!(
        error.message,
        "Rule SpotInterruptions does not exist on EventBus default."
    );
    // Deleting a rule that does not exist succeeds.
    assert_eq!(
        call(
            &mut bridge,
            "DeleteRule",
            json!({"Name": "SpotInterruptions"})
        ),
        json!({})
    );
}

#[test]
fn enable_and_disable_rule() {
    let mut bridge = events();
    seed_rule(&mut bridge);
    call(
        &mut bridge,
        "DisableRule",
        json!({"Name": "SpotInterruptions"}),
    );
    assert_eq!(
        call(
            &mut bridge,
            "DescribeRule",
            json!({"Name": "SpotInterruptions"})
        )["State"],
        "DISABLED"
    );
    call(
        &mut bridge,
        "EnableRule",
        json!({"Name": "SpotInterruptions"}),
    );
    assert_eq!(
        call(
            &mut bridge,
            "DescribeRule",
            json!({"Name": "SpotInterruptions"})
        )["State"],
        "ENABLED"
    );
    for action in ["EnableRule", "DisableRule"] {
        let error = fails(&mut bridge, action, json!({"Name": "nope"}));
        assert_eq!(error.code, "ResourceNotFoundException");
        assert_eq!(
            error.message,
            "Rule nope does not exist on EventBus default."
        );
    }
}

// ---- targets ----

#[test]
fn put_targets_and_list_them_as_given() {
    let mut bridge = events();
    seed_rule(&mut bridge);
    let second = json!({"Id": "b", "Arn": "arn:aws:sqs:us-east-1:123456789012:q", "Input": "{\"x\":1}", "RetryPolicy": {"MaximumRetryAttempts": 3}});
    call(
        &mut bridge,
        "PutTargets",
        json!({"Rule": "SpotInterruptions", "Targets": [second.clone()]}),
    );
    let listed = call(
        &mut bridge,
        "ListTargetsByRule",
        json!({"Rule": "SpotInterruptions"}),
    );
    assert_eq!(
        listed,
        json!({"Targets": [
            {"Id": TOPIC, "Arn": topic_arn()},
            second
        ]})
    );
    let page = call(
        &mut bridge,
        "ListTargetsByRule",
        json!({"Rule": "SpotInterruptions", "Limit": 1}),
    );
    assert_eq!(page["Targets"].as_array().map(Vec::len), Some(1));
    let token = page["NextToken"].as_str().expect("a next page").to_owned();
    let rest = call(
        &mut bridge,
        "ListTargetsByRule",
        json!({"Rule": "SpotInterruptions", "Limit": 1, "NextToken": token}),
    );
    assert_eq!(rest["Targets"][0]["Id"], "b");
    assert!(rest.get("NextToken").is_none());
}

#[test]
fn a_rule_holds_at_most_five_targets() {
    let mut bridge = events();
    call(
        &mut bridge,
        "PutRule",
        json!({"Name": "r", "EventPattern": SEED_PATTERN}),
    );
    let target = |i: usize| json!({"Id": format!("t{i}"), "Arn": topic_arn()});
    let five: Vec<Value> = (0..5).map(target).collect();
    call(
        &mut bridge,
        "PutTargets",
        json!({"Rule": "r", "Targets": five}),
    );
    // Replacing an existing target does not count against the quota.
    call(
        &mut bridge,
        "PutTargets",
        json!({"Rule": "r", "Targets": [target(0)]}),
    );
    let error = fails(
        &mut bridge,
        "PutTargets",
        json!({"Rule": "r", "Targets": [target(5)]}),
    );
    assert_eq!(error.code, "LimitExceededException");
    assert_eq!(
        error.message,
        "The requested resource exceeds the maximum number allowed."
    );
    let eleven: Vec<Value> = (0..11).map(|_| target(0)).collect();
    let error = fails(
        &mut bridge,
        "PutTargets",
        json!({"Rule": "r", "Targets": eleven}),
    );
    assert_eq!(error.code, "LimitExceededException");
    let listed = call(&mut bridge, "ListTargetsByRule", json!({"Rule": "r"}));
    assert_eq!(listed["Targets"].as_array().map(Vec::len), Some(5));
}

#[test]
fn put_targets_failures() {
    let mut bridge = events();
    call(
        &mut bridge,
        "PutRule",
        json!({"Name": "r", "EventPattern": SEED_PATTERN}),
    );
    // A malformed ARN fails that target only.
    let out = call(
        &mut bridge,
        "PutTargets",
        json!({"Rule": "r", "Targets": [{"Id": "ok", "Arn": topic_arn()}, {"Id": "bad", "Arn": "topic"}]}),
    );
    assert_eq!(
        out,
        json!({"FailedEntryCount": 1, "FailedEntries": [{
            "TargetId": "bad",
            "ErrorCode": "ValidationException",
            "ErrorMessage": "Parameter topic is not valid. Reason: Provided Arn is not in correct format."
        }]})
    );
    let listed = call(&mut bridge, "ListTargetsByRule", json!({"Rule": "r"}));
    assert_eq!(listed["Targets"].as_array().map(Vec::len), Some(1));

    let cases = [
        (
            json!({"Rule": "nope", "Targets": [{"Id": "t", "Arn": topic_arn()}]}),
            "ResourceNotFoundException",
            "Rule nope does not exist on EventBus default.".to_owned(),
        ),
        (
            json!({"Rule": "r", "Targets": [{"Id": "t t", "Arn": topic_arn()}]}),
            "ValidationException",
            "1 validation error detected: Value 't t' at 'targets.1.member.id' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+".to_owned(),
        ),
        (
            json!({"Rule": "r", "Targets": [{"Id": "t", "Arn": topic_arn()}, {"Id": "u"}]}),
            "ValidationException",
            "1 validation error detected: Value null at 'targets.2.member.arn' failed to satisfy constraint: Member must not be null".to_owned(),
        ),
        (
            json!({"Rule": "r", "Targets": [{"Id": "t", "Arn": topic_arn(), "Input": "{}", "InputPath": "$.detail"}]}),
            "ValidationException",
            "Only one of Input, InputPath, or InputTransformer must be provided for target t.".to_owned(),
        ),
        (
            json!({"Rule": "r", "Targets": [{"Id": "t", "Arn": topic_arn(), "Input": "not json"}]}),
            "ValidationException",
            "Parameter Input is not valid JSON text for target t.".to_owned(),
        ),
        (
            json!({"Rule": "r", "Targets": [{"Id": "t", "Arn": topic_arn(), "InputPath": "detail"}]}),
            "ValidationException",
            "Parameter InputPath is not valid for target t: detail.".to_owned(),
        ),
        (
            json!({"Rule": "r", "Targets": [{"Id": "t", "Arn": topic_arn(), "InputTransformer": {"InputPathsMap": {"a": "$.x"}}}]}),
            "ValidationException",
            "1 validation error detected: Value null at 'targets.1.member.inputTransformer.inputTemplate' failed to satisfy constraint: Member must not be null".to_owned(),
        ),
        (
            json!({"Rule": "r", "Targets": []}),
            "ValidationException",
            "1 validation error detected: Value '[]' at 'targets' failed to satisfy constraint: Member must have length greater than or equal to 1".to_owned(),
        ),
    ];
    for (input, code, message) in cases {
        let error = fails(&mut bridge, "PutTargets", input.clone());
        assert_eq!(
            (error.code.as_str(), error.message.as_str()),
            (code, message.as_str()),
            "{input}"
        );
    }
}

#[test]
fn remove_targets_reports_unknown_ids() {
    let mut bridge = events();
    seed_rule(&mut bridge);
    let out = call(
        &mut bridge,
        "RemoveTargets",
        json!({"Rule": "SpotInterruptions", "Ids": ["nope", TOPIC]}),
    );
    assert_eq!(
        out,
        json!({"FailedEntryCount": 1, "FailedEntries": [{
            "TargetId": "nope",
            "ErrorCode": "ResourceNotFoundException",
            "ErrorMessage": "Rule 'SpotInterruptions' does not have a target with the Id 'nope'."
        }]})
    );
    assert_eq!(
        call(
            &mut bridge,
            "ListTargetsByRule",
            json!({"Rule": "SpotInterruptions"})
        ),
        json!({"Targets": []})
    );
    let error = fails(
        &mut bridge,
        "RemoveTargets",
        json!({"Rule": "nope", "Ids": ["a"]}),
    );
    assert_eq!(error.code, "ResourceNotFoundException");
}

// ---- routing (5.4, 5.5) ----

#[test]
fn the_seed_rule_sends_interruption_warnings_to_the_topic() {
    let mut bridge = events();
    seed_rule(&mut bridge);
    let warning = interruption_warning();
    let deliveries = bridge.route(&warning);
    assert_eq!(
        deliveries,
        [Delivery {
            rule_arn: "arn:aws:events:us-east-1:123456789012:rule/SpotInterruptions".to_owned(),
            target_id: TOPIC.to_owned(),
            target_arn: topic_arn(),
            payload: event_text(&warning),
        }]
    );
    // The message is the whole event as JSON, in the envelope's order.
    assert!(deliveries[0].payload.starts_with(
        r#"{"version":"0","id":"1e5527d7-bb36-4607-3370-4164db56a40e","detail-type":"EC2 Spot Instance Interruption Warning","source":"aws.ec2","account":"123456789012","time":"2024-01-02T03:04:05Z","region":"us-east-1","resources":["#
    ));
    let parsed: Value = serde_json::from_str(&deliveries[0].payload).expect("JSON");
    assert_eq!(parsed, warning);
    // A state change does not match.
    assert_eq!(bridge.route(&state_change()), []);
}

#[test]
fn disabled_rules_do_not_route() {
    let mut bridge = events();
    seed_rule(&mut bridge);
    call(
        &mut bridge,
        "DisableRule",
        json!({"Name": "SpotInterruptions"}),
    );
    assert_eq!(bridge.route(&interruption_warning()), []);
    call(
        &mut bridge,
        "EnableRule",
        json!({"Name": "SpotInterruptions"}),
    );
    assert_eq!(bridge.route(&interruption_warning()).len(), 1);
    // A rule created disabled does not route either.
    call(
        &mut bridge,
        "PutRule",
        json!({"Name": "SpotInterruptions", "EventPattern": SEED_PATTERN, "State": "DISABLED"}),
    );
    assert_eq!(bridge.route(&interruption_warning()), []);
}

#[test]
fn every_target_of_every_matching_rule_gets_a_delivery() {
    let mut bridge = events();
    seed_rule(&mut bridge);
    call(
        &mut bridge,
        "PutRule",
        json!({"Name": "all-ec2", "EventPattern": r#"{"source":["aws.ec2"]}"#}),
    );
    call(
        &mut bridge,
        "PutTargets",
        json!({"Rule": "all-ec2", "Targets": [
            {"Id": "q", "Arn": "arn:aws:sqs:us-east-1:123456789012:q"},
            {"Id": "fn", "Arn": "arn:aws:lambda:us-east-1:123456789012:function:f"}
        ]}),
    );
    let routed: Vec<(String, String)> = bridge
        .route(&interruption_warning())
        .into_iter()
        .map(|d| {
            (
                d.rule_arn.rsplit('/').next().unwrap_or_default().to_owned(),
                d.target_id,
            )
        })
        .collect();
    assert_eq!(
        routed,
        [
            ("SpotInterruptions".to_owned(), TOPIC.to_owned()),
            ("all-ec2".to_owned(), "fn".to_owned()),
            ("all-ec2".to_owned(), "q".to_owned()),
        ]
    );
    // Scheduled rules have no pattern and match nothing.
    call(
        &mut bridge,
        "PutRule",
        json!({"Name": "tick", "ScheduleExpression": "rate(1 minute)"}),
    );
    call(
        &mut bridge,
        "PutTargets",
        json!({"Rule": "tick", "Targets": [{"Id": "t", "Arn": topic_arn()}]}),
    );
    assert_eq!(bridge.route(&state_change()).len(), 2);
}

#[test]
fn targets_reshape_the_event() {
    let mut bridge = events();
    // Seven targets: two rules, as a rule holds at most five.
    for name in ["r", "r2"] {
        call(
            &mut bridge,
            "PutRule",
            json!({"Name": name, "EventPattern": SEED_PATTERN}),
        );
    }
    let transformer = |template: &str| {
        json!({"InputPathsMap": {"instance": "$.detail.instance-id", "action": "$.detail.instance-action", "where": "$.resources[0]", "missing": "$.detail.nope", "detail": "$.detail"},
               "InputTemplate": template})
    };
    call(
        &mut bridge,
        "PutTargets",
        json!({"Rule": "r", "Targets": [
            {"Id": "1-constant", "Arn": topic_arn(), "Input": "{\"fixed\": true}"},
            {"Id": "2-path", "Arn": topic_arn(), "InputPath": "$.detail"},
            {"Id": "3-path-leaf", "Arn": topic_arn(), "InputPath": "$.detail.instance-id"},
            {"Id": "4-json", "Arn": topic_arn(), "InputTransformer": transformer(
                r#"{"instance": <instance>, "state": [9, <action>, true], "text": "<instance> will <action>", "where": "<where>", "detail": <detail>, "gone": <missing>, "also": "<missing>"}"#)}
        ]}),
    );
    call(
        &mut bridge,
        "PutTargets",
        json!({"Rule": "r2", "Targets": [
            {"Id": "5-string", "Arn": topic_arn(), "InputTransformer": transformer(
                r#""The EC2 instance <instance> will \"<action>\".""#)},
            {"Id": "6-text", "Arn": topic_arn(), "InputTransformer": transformer(
                "Instance <instance> will <action> <not-a-variable> a<b")},
            {"Id": "7-reserved", "Arn": topic_arn(), "InputTransformer": transformer(
                r#"{"rule": <aws.events.rule-name>, "arn": "<aws.events.rule-arn>", "at": <aws.events.event.ingestion-time>, "event": <aws.events.event>}"#)}
        ]}),
    );
    let warning = interruption_warning();
    let payloads: Vec<(String, String)> = bridge
        .route(&warning)
        .into_iter()
        .map(|d| (d.target_id, d.payload))
        .collect();
    let expected = [
        ("1-constant", r#"{"fixed": true}"#.to_owned()),
        ("2-path", r#"{"instance-action":"terminate","instance-id":"i-0b662ef9931388ba0"}"#.to_owned()),
        ("3-path-leaf", r#""i-0b662ef9931388ba0""#.to_owned()),
        (
            "4-json",
            r#"{"instance": "i-0b662ef9931388ba0", "state": [9, "terminate", true], "text": "i-0b662ef9931388ba0 will terminate", "where": "arn:aws:ec2:us-east-1a:instance/i-0b662ef9931388ba0", "detail": {"instance-action":"terminate","instance-id":"i-0b662ef9931388ba0"}, "gone": null, "also": ""}"#.to_owned(),
        ),
        ("5-string", r#""The EC2 instance i-0b662ef9931388ba0 will \"terminate\".""#.to_owned()),
        (
            "6-text",
            r#"Instance "i-0b662ef9931388ba0" will "terminate" <not-a-variable> a<b"#.to_owned(),
        ),
        (
            "7-reserved",
            format!(
                r#"{{"rule": "r2", "arn": "arn:aws:events:us-east-1:123456789012:rule/r2", "at": "2024-01-02T03:04:05Z", "event": {}}}"#,
                event_text(&{
                    let mut without = warning.clone();
                    if let Some(fields) = without.as_object_mut() {
                        fields.remove("detail");
                    }
                    without
                })
            ),
        ),
    ];
    assert_eq!(payloads.len(), expected.len());
    for ((id, payload), (expected_id, expected_payload)) in payloads.iter().zip(expected.iter()) {
        assert_eq!(id, expected_id);
        assert_eq!(payload, expected_payload, "target {id}");
    }
    // The JSON templates stay JSON.
    for (id, payload) in &payloads {
        if id != "6-text" {
            serde_json::from_str::<Value>(payload)
                .unwrap_or_else(|e| panic!("{id}: {e}: {payload}"));
        }
    }
}

// ---- PutEvents (5.1, 5.2) ----

#[test]
fn put_events_builds_envelopes_and_routes_them() {
    let mut bridge = events();
    seed_rule(&mut bridge);
    let out = call(
        &mut bridge,
        "PutEvents",
        json!({"Entries": [
            {"Source": "aws.ec2", "DetailType": "EC2 Spot Instance Interruption Warning",
             "Detail": "{\"instance-id\": \"i-1\", \"instance-action\": \"terminate\"}",
             "Resources": ["arn:aws:ec2:us-east-1a:instance/i-1"]},
            {"Source": "my.app", "DetailType": "Other", "Detail": "{}", "Time": 1_700_000_000.5}
        ]}),
    );
    assert_eq!(out["FailedEntryCount"], 0);
    let ids: Vec<&str> = out["Entries"]
        .as_array()
        .map(|entries| {
            entries
                .iter()
                .filter_map(|e| e["EventId"].as_str())
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(ids.len(), 2);
    for id in &ids {
        assert_eq!(id.len(), 36);
        assert_eq!(id.chars().filter(|c| *c == '-').count(), 4);
        assert_eq!(id.chars().nth(14), Some('4'), "a version-4 UUID: {id}");
    }
    assert_ne!(ids[0], ids[1]);

    let deliveries = bridge.take_deliveries();
    assert_eq!(deliveries.len(), 1);
    assert!(bridge.take_deliveries().is_empty());
    let event: Value = serde_json::from_str(&deliveries[0].payload).expect("JSON");
    assert_eq!(
        event,
        json!({
            "version": "0",
            "id": ids[0],
            "detail-type": "EC2 Spot Instance Interruption Warning",
            "source": "aws.ec2",
            "account": ACCOUNT,
            "time": "2024-01-02T03:04:05Z",
            "region": REGION,
            "resources": ["arn:aws:ec2:us-east-1a:instance/i-1"],
            "detail": {"instance-id": "i-1", "instance-action": "terminate"}
        })
    );
    assert_eq!(deliveries[0].target_id, TOPIC);
}

#[test]
fn put_events_ids_come_from_the_seed() {
    let put = |seed: u64| {
        let mut bridge = EventBridge::new(REGION, ACCOUNT, seed);
        let input = json!({"Entries": [{"Source": "s", "DetailType": "d", "Detail": "{}"}]});
        bridge.call("PutEvents", &input, now()).expect("put")
    };
    assert_eq!(put(1), put(1));
    assert_ne!(put(1), put(2));
}

#[test]
fn put_events_time_and_defaults() {
    let mut bridge = events();
    call(
        &mut bridge,
        "PutRule",
        json!({"Name": "all", "EventPattern": r#"{"source":["s"]}"#}),
    );
    call(
        &mut bridge,
        "PutTargets",
        json!({"Rule": "all", "Targets": [{"Id": "t", "Arn": topic_arn()}]}),
    );
    call(
        &mut bridge,
        "PutEvents",
        json!({"Entries": [
            {"Source": "s", "DetailType": "d", "Detail": "{}", "Time": 1_700_000_000.9},
            {"Source": "s", "DetailType": "d", "Detail": "{}", "Time": "2023-05-06T07:08:09Z"}
        ]}),
    );
    let events: Vec<Value> = bridge
        .take_deliveries()
        .iter()
        .map(|d| serde_json::from_str(&d.payload).expect("JSON"))
        .collect();
    assert_eq!(events[0]["time"], "2023-11-14T22:13:20Z");
    assert_eq!(events[0]["resources"], json!([]));
    assert_eq!(events[1]["time"], "2023-05-06T07:08:09Z");
}

#[test]
fn put_events_entries_fail_on_their_own_in_request_order() {
    let mut bridge = events();
    let out = call(
        &mut bridge,
        "PutEvents",
        json!({"Entries": [
            {"DetailType": "d", "Detail": "{}"},
            {"Source": "s", "Detail": "{}"},
            {"Source": "s", "DetailType": "d"},
            {"Source": "s", "DetailType": "d", "Detail": "{not json"},
            {"Source": "s", "DetailType": "d", "Detail": "[1, 2]"},
            {"Source": "s", "DetailType": "d", "Detail": "{\"ok\": 1}"}
        ]}),
    );
    assert_eq!(out["FailedEntryCount"], 5);
    let entries = out["Entries"].as_array().expect("entries");
    assert_eq!(
        entries[..5],
        [
            json!({"ErrorCode": "InvalidArgument", "ErrorMessage": "Parameter Source is not valid. Reason: Source is a required argument."}),
            json!({"ErrorCode": "InvalidArgument", "ErrorMessage": "Parameter DetailType is not valid. Reason: DetailType is a required argument."}),
            json!({"ErrorCode": "InvalidArgument", "ErrorMessage": "Parameter Detail is not valid. Reason: Detail is a required argument."}),
            json!({"ErrorCode": "MalformedDetail", "ErrorMessage": "Detail is malformed."}),
            json!({"ErrorCode": "MalformedDetail", "ErrorMessage": "Detail is malformed."}),
        ]
    );
    assert!(entries[5]["EventId"].is_string());
}

#[test]
fn put_events_takes_one_to_ten_entries() {
    let mut bridge = events();
    let error = fails(&mut bridge, "PutEvents", json!({"Entries": []}));
    assert_eq!(error.code, "ValidationException");
    assert!(
        error
            .message
            .contains("Member must have length greater than or equal to 1"),
        "{}",
        error.message
    );
    let eleven: Vec<Value> = (0..11)
        .map(|_| json!({"Source": "s", "DetailType": "d", "Detail": "{}"}))
        .collect();
    let error = fails(&mut bridge, "PutEvents", json!({"Entries": eleven}));
    assert_eq!(error.code, "ValidationException");
    assert!(
        error
            .message
            .contains("Member must have length less than or equal to 10"),
        "{}",
        error.message
    );
    let error = fails(&mut bridge, "PutEvents", json!({}));
    assert_eq!(error.code, "ValidationException");
}

#[test]
fn put_events_route_on_their_own_bus() {
    let mut bridge = events();
    for bus in ["default", "apps"] {
        call(
            &mut bridge,
            "PutRule",
            json!({"Name": "r", "EventPattern": r#"{"source":["s"]}"#, "EventBusName": bus}),
        );
        call(
            &mut bridge,
            "PutTargets",
            json!({"Rule": "r", "EventBusName": bus, "Targets": [{"Id": bus, "Arn": topic_arn()}]}),
        );
    }
    call(
        &mut bridge,
        "PutEvents",
        json!({"Entries": [{"Source": "s", "DetailType": "d", "Detail": "{}", "EventBusName": "apps"}]}),
    );
    let deliveries = bridge.take_deliveries();
    assert_eq!(deliveries.len(), 1);
    assert_eq!(deliveries[0].target_id, "apps");
    assert_eq!(
        deliveries[0].rule_arn,
        "arn:aws:events:us-east-1:123456789012:rule/apps/r"
    );
}

// ---- TestEventPattern (5.2) ----

#[test]
fn test_event_pattern() {
    let mut bridge = events();
    let test = |bridge: &mut EventBridge, pattern: &str, event: &Value| {
        bridge.call(
            "TestEventPattern",
            &json!({"EventPattern": pattern, "Event": event.to_string()}),
            now(),
        )
    };
    assert_eq!(
        test(&mut bridge, SEED_PATTERN, &interruption_warning()),
        Ok(json!({"Result": true}))
    );
    assert_eq!(
        test(&mut bridge, SEED_PATTERN, &state_change()),
        Ok(json!({"Result": false}))
    );
    for missing in ["id", "account", "source", "time", "region", "detail-type"] {
        let mut event = interruption_warning();
        if let Some(fields) = event.as_object_mut() {
            fields.remove(missing);
        }
        let error = test(&mut bridge, SEED_PATTERN, &event).expect_err(missing);
        assert_eq!(error.code, "ValidationException");
        assert_eq!(error.message, "Parameter Event is not valid.");
    }
    let error = test(
        &mut bridge,
        r#"{"source": [{"numeric": ["<", "x"]}]}"#,
        &interruption_warning(),
    )
    .expect_err("bad pattern");
    assert_eq!(error.code, "InvalidEventPatternException");
    assert_eq!(
        error.message,
        "Event pattern is not valid. Reason: Value of < must be numeric"
    );
    let error = fails(
        &mut bridge,
        "TestEventPattern",
        json!({"EventPattern": SEED_PATTERN, "Event": "not json"}),
    );
    assert_eq!(error.message, "Parameter Event is not valid.");
}

#[test]
fn unknown_actions_are_refused() {
    let mut bridge = events();
    let error = fails(&mut bridge, "CreateEventBus", json!({"Name": "x"}));
    assert_eq!(error.code, "UnknownOperationException");
}

#[test]
fn events_for_the_region_use_the_envelope() {
    let mut bridge = events();
    let event = bridge.event(
        "aws.cloudwatch",
        "CloudWatch Alarm State Change",
        &["arn:aws:cloudwatch:us-east-1:123456789012:alarm:a".to_owned()],
        json!({"alarmName": "a"}),
        now(),
    );
    assert_eq!(event["time"], "2024-01-02T03:04:05Z");
    assert_eq!(event["account"], ACCOUNT);
    assert_eq!(event["region"], REGION);
    assert_eq!(event["version"], "0");
    let text = event_text(&event);
    assert!(text.starts_with(r#"{"version":"0","id":""#), "{text}");
    assert!(text.ends_with(r#""detail":{"alarmName":"a"}}"#), "{text}");
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn list_rules_pages_cover_every_rule_once(
            names in prop::collection::btree_set("[a-zA-Z0-9._-]{1,10}", 1..20),
            limit in 1usize..6,
        ) {
            let mut bridge = events();
            for name in &names {
                call(&mut bridge, "PutRule", json!({"Name": name, "EventPattern": SEED_PATTERN}));
            }
            let mut seen: Vec<String> = Vec::new();
            let mut token: Option<String> = None;
            loop {
                let mut input = json!({"Limit": limit});
                if let Some(token) = &token {
                    input["NextToken"] = json!(token);
                }
                let page = call(&mut bridge, "ListRules", input);
                let rules = page["Rules"].as_array().cloned().unwrap_or_default();
                prop_assert!(rules.len() <= limit);
                seen.extend(rules.iter().filter_map(|r| r["Name"].as_str().map(str::to_owned)));
                match page.get("NextToken").and_then(Value::as_str) {
                    Some(next) => token = Some(next.to_owned()),
                    None => break,
                }
            }
            let expected: Vec<String> = names.into_iter().collect();
            prop_assert_eq!(seen, expected);
        }

        #[test]
        fn put_events_answers_every_entry_in_order(
            entries in prop::collection::vec((any::<bool>(), any::<bool>(), 0u8..3), 1..=10),
        ) {
            let mut bridge = events();
            let input: Vec<Value> = entries
                .iter()
                .map(|(source, detail_type, detail)| {
                    let mut entry = json!({});
                    if *source {
                        entry["Source"] = json!("s");
                    }
                    if *detail_type {
                        entry["DetailType"] = json!("d");
                    }
                    match detail {
                        0 => {}
                        1 => entry["Detail"] = json!("{\"k\": 1}"),
                        _ => entry["Detail"] = json!("[]"),
                    }
                    entry
                })
                .collect();
            let out = call(&mut bridge, "PutEvents", json!({"Entries": input}));
            let answers = out["Entries"].as_array().cloned().unwrap_or_default();
            prop_assert_eq!(answers.len(), entries.len());
            let mut failed = 0;
            for ((source, detail_type, detail), answer) in entries.iter().zip(&answers) {
                let ok = *source && *detail_type && *detail == 1;
                prop_assert_eq!(answer.get("EventId").is_some(), ok);
                prop_assert_eq!(answer.get("ErrorCode").is_some(), !ok);
                if !ok {
                    failed += 1;
                }
            }
            prop_assert_eq!(out["FailedEntryCount"].as_u64(), Some(failed));
        }
    }
}
