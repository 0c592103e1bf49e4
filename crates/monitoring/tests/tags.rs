//! Tags on SNS topics, CloudWatch alarms and EventBridge rules, through `Monitoring`
//! as the control plane calls it: tags on create, TagResource (new keys appended,
//! known keys replaced), UntagResource, ListTagsForResource, each service's errors,
//! the 50-tag limit, tags on update, and deletion taking the tags with the resource.

use monitoring::{ApiError, Monitoring, MonitoringConfig, Service};
use serde_json::{Value, json};
use simtime::SimTime;

const ACCOUNT: &str = "123456789012";

fn now() -> SimTime {
    SimTime::parse("2026-05-01T10:00:00Z").expect("timestamp")
}

fn monitoring() -> Monitoring {
    Monitoring::new(MonitoringConfig {
        region: "us-east-1".to_owned(),
        account: ACCOUNT.to_owned(),
        seed: 9,
        endpoint_url: "http://127.0.0.1:4747/".to_owned(),
    })
}

fn ok(m: &mut Monitoring, service: Service, action: &str, input: Value) -> Value {
    m.call(service, action, &input, now())
        .unwrap_or_else(|e| panic!("{action} {input}: {e}"))
}

fn fails(m: &mut Monitoring, service: Service, action: &str, input: Value) -> (String, String) {
    match m.call(service, action, &input, now()) {
        Ok(output) => panic!("{action} {input} succeeded: {output}"),
        Err(ApiError { code, message }) => (code, message),
    }
}

fn error(code: &str, message: &str) -> (String, String) {
    (code.to_owned(), message.to_owned())
}

/// `[{"Key": k, "Value": v}]` from pairs.
fn tag_list(pairs: &[(&str, &str)]) -> Value {
    Value::Array(
        pairs
            .iter()
            .map(|(key, value)| json!({ "Key": key, "Value": value }))
            .collect(),
    )
}

/// `count` tags `k0`..: `v`.
fn many(count: usize) -> Value {
    Value::Array(
        (0..count)
            .map(|i| json!({ "Key": format!("k{i}"), "Value": "v" }))
            .collect(),
    )
}

/// The three tagging calls of one service, with its ARN member's name.
struct Tagging {
    service: Service,
    arn_member: &'static str,
}

impl Tagging {
    const SNS: Tagging = Tagging {
        service: Service::Sns,
        arn_member: "ResourceArn",
    };
    const CLOUDWATCH: Tagging = Tagging {
        service: Service::CloudWatch,
        arn_member: "ResourceARN",
    };
    const EVENTBRIDGE: Tagging = Tagging {
        service: Service::EventBridge,
        arn_member: "ResourceARN",
    };

    fn list(&self, m: &mut Monitoring, arn: &str) -> Value {
        ok(
            m,
            self.service,
            "ListTagsForResource",
            json!({ self.arn_member: arn }),
        )["Tags"]
            .clone()
    }

    fn tag(&self, m: &mut Monitoring, arn: &str, tags: Value) -> Result<Value, ApiError> {
        m.call(
            self.service,
            "TagResource",
            &json!({ self.arn_member: arn, "Tags": tags }),
            now(),
        )
    }

    fn untag(&self, m: &mut Monitoring, arn: &str, keys: &[&str]) -> Result<Value, ApiError> {
        m.call(
            self.service,
            "UntagResource",
            &json!({ self.arn_member: arn, "TagKeys": keys }),
            now(),
        )
    }

    /// What every service shares: tag on top of the creation tags (a known key
    /// replaced in place, a new one appended), untag (unknown keys ignored), and the
    /// 50-tag limit, which changes nothing; returns the error past the limit.
    fn check_lifecycle(&self, m: &mut Monitoring, arn: &str) -> ApiError {
        assert_eq!(self.list(m, arn), tag_list(&[("spotlab:stack", "demo")]));
        self.tag(
            m,
            arn,
            tag_list(&[("team", "perf"), ("spotlab:stack", "demo2")]),
        )
        .expect("tag");
        assert_eq!(
            self.list(m, arn),
            tag_list(&[("spotlab:stack", "demo2"), ("team", "perf")])
        );
        self.untag(m, arn, &["spotlab:stack", "never-set"])
            .expect("untag");
        assert_eq!(self.list(m, arn), tag_list(&[("team", "perf")]));
        // 49 more is 50 in all; one more than that is refused and changes nothing.
        self.tag(m, arn, many(49)).expect("50 tags");
        let refused = self
            .tag(m, arn, tag_list(&[("one-too-many", "x")]))
            .expect_err("51 tags");
        assert_eq!(self.list(m, arn).as_array().map(Vec::len), Some(50));
        // Replacing a value at the limit is fine.
        self.tag(m, arn, tag_list(&[("team", "infra")]))
            .expect("replace at the limit");
        refused
    }
}

#[test]
fn sns_topics_carry_tags_until_deleted() {
    let mut m = monitoring();
    let sns = Tagging::SNS;
    let arn = ok(
        &mut m,
        Service::Sns,
        "CreateTopic",
        json!({ "Name": "alerts", "Tags": tag_list(&[("spotlab:stack", "demo")]) }),
    )["TopicArn"]
        .as_str()
        .expect("TopicArn")
        .to_owned();
    let refused = sns.check_lifecycle(&mut m, &arn);
    assert_eq!(
        (refused.code.as_str(), refused.message.as_str()),
        (
            "TagLimitExceeded",
            "Could not complete request: tag quota of per resource exceeded"
        )
    );
    // CreateTopic again: tags the topic carries may be repeated or left out; one it
    // does not carry is refused (AWS's message).
    ok(
        &mut m,
        Service::Sns,
        "CreateTopic",
        json!({ "Name": "alerts", "Tags": tag_list(&[("team", "infra")]) }),
    );
    assert_eq!(
        fails(
            &mut m,
            Service::Sns,
            "CreateTopic",
            json!({ "Name": "alerts", "Tags": tag_list(&[("team", "perf")]) }),
        ),
        error(
            "InvalidParameter",
            "Invalid parameter: Tags Reason: Topic already exists with different tags"
        )
    );
    // DeleteTopic takes the tags: the same name starts untagged, then the tags it is
    // created with are its own.
    ok(
        &mut m,
        Service::Sns,
        "DeleteTopic",
        json!({ "TopicArn": arn }),
    );
    assert_eq!(
        fails(
            &mut m,
            Service::Sns,
            "ListTagsForResource",
            json!({ "ResourceArn": arn }),
        ),
        error("ResourceNotFound", "Resource does not exist")
    );
    ok(
        &mut m,
        Service::Sns,
        "CreateTopic",
        json!({ "Name": "alerts", "Tags": tag_list(&[("team", "perf")]) }),
    );
    assert_eq!(sns.list(&mut m, &arn), tag_list(&[("team", "perf")]));
}

#[test]
fn sns_tagging_errors_are_aws_ones() {
    let mut m = monitoring();
    let arn = ok(&mut m, Service::Sns, "CreateTopic", json!({ "Name": "t" }))["TopicArn"]
        .as_str()
        .expect("TopicArn")
        .to_owned();
    let unknown = format!("arn:aws:sns:us-east-1:{ACCOUNT}:nope");
    let not_found = error("ResourceNotFound", "Resource does not exist");
    for (action, input) in [
        (
            "TagResource",
            json!({ "ResourceArn": unknown, "Tags": tag_list(&[("a", "b")]) }),
        ),
        (
            "UntagResource",
            json!({ "ResourceArn": unknown, "TagKeys": ["a"] }),
        ),
        ("ListTagsForResource", json!({ "ResourceArn": unknown })),
    ] {
        assert_eq!(fails(&mut m, Service::Sns, action, input), not_found);
    }
    let long_key = "k".repeat(129);
    assert_eq!(
        fails(
            &mut m,
            Service::Sns,
            "TagResource",
            json!({ "ResourceArn": arn, "Tags": tag_list(&[("ok", "v"), (&long_key, "v")]) }),
        ),
        error(
            "ValidationError",
            &format!(
                "1 validation error detected: Value '{long_key}' at 'tags.2.member.key' failed \
                 to satisfy constraint: Member must have length less than or equal to 128"
            )
        )
    );
    let long_value = "v".repeat(257);
    assert_eq!(
        fails(
            &mut m,
            Service::Sns,
            "CreateTopic",
            json!({ "Name": "u", "Tags": tag_list(&[("k", &long_value)]) }),
        )
        .0,
        "ValidationError"
    );
    assert_eq!(
        fails(
            &mut m,
            Service::Sns,
            "CreateTopic",
            json!({ "Name": "u", "Tags": many(51) }),
        ),
        error(
            "TagLimitExceeded",
            "Could not complete request: tag quota of per resource exceeded"
        )
    );
    assert_eq!(
        fails(
            &mut m,
            Service::Sns,
            "TagResource",
            json!({ "ResourceArn": arn, "Tags": tag_list(&[("a", "1"), ("a", "2")]) }),
        ),
        error(
            "InvalidParameter",
            "Invalid parameter: Duplicated keys are not allowed."
        )
    );
    assert_eq!(
        fails(
            &mut m,
            Service::Sns,
            "UntagResource",
            json!({ "ResourceArn": arn, "TagKeys": [""] }),
        )
        .0,
        "ValidationError"
    );
    assert_eq!(
        fails(
            &mut m,
            Service::Sns,
            "TagResource",
            json!({ "ResourceArn": arn }),
        )
        .0,
        "ValidationError"
    );
    // Nothing refused left a tag behind.
    assert_eq!(Tagging::SNS.list(&mut m, &arn), json!([]));
}

fn alarm(name: &str, tags: Value) -> Value {
    json!({
        "AlarmName": name,
        "Namespace": "App",
        "MetricName": "Error",
        "Statistic": "Average",
        "Period": 60,
        "EvaluationPeriods": 1,
        "Threshold": 0.1,
        "ComparisonOperator": "GreaterThanThreshold",
        "Tags": tags,
    })
}

#[test]
fn cloudwatch_alarms_carry_tags_until_deleted() {
    let mut m = monitoring();
    let cloudwatch = Tagging::CLOUDWATCH;
    ok(
        &mut m,
        Service::CloudWatch,
        "PutMetricAlarm",
        alarm("errors", tag_list(&[("spotlab:stack", "demo")])),
    );
    let arn = format!("arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:errors");
    let refused = cloudwatch.check_lifecycle(&mut m, &arn);
    assert_eq!(refused.code, "InvalidParameterValue");
    // An update ignores `Tags` (AWS's documented behaviour): the alarm keeps its own.
    let before = cloudwatch.list(&mut m, &arn);
    ok(
        &mut m,
        Service::CloudWatch,
        "PutMetricAlarm",
        alarm("errors", tag_list(&[("other", "x")])),
    );
    assert_eq!(cloudwatch.list(&mut m, &arn), before);
    // DeleteAlarms takes them; the same name starts with its creation tags only.
    ok(
        &mut m,
        Service::CloudWatch,
        "DeleteAlarms",
        json!({ "AlarmNames": ["errors"] }),
    );
    assert_eq!(
        fails(
            &mut m,
            Service::CloudWatch,
            "ListTagsForResource",
            json!({ "ResourceARN": arn }),
        )
        .0,
        "ResourceNotFoundException"
    );
    ok(
        &mut m,
        Service::CloudWatch,
        "PutMetricAlarm",
        alarm("errors", json!([])),
    );
    assert_eq!(cloudwatch.list(&mut m, &arn), json!([]));
}

#[test]
fn cloudwatch_tagging_errors() {
    let mut m = monitoring();
    ok(
        &mut m,
        Service::CloudWatch,
        "PutMetricAlarm",
        alarm("errors", json!([])),
    );
    for arn in [
        format!("arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:nope"),
        format!("arn:aws:cloudwatch:eu-west-1:{ACCOUNT}:alarm:errors"),
        "not an arn".to_owned(),
    ] {
        for (action, input) in [
            (
                "TagResource",
                json!({ "ResourceARN": arn, "Tags": tag_list(&[("a", "b")]) }),
            ),
            (
                "UntagResource",
                json!({ "ResourceARN": arn, "TagKeys": ["a"] }),
            ),
            ("ListTagsForResource", json!({ "ResourceARN": arn })),
        ] {
            assert_eq!(
                fails(&mut m, Service::CloudWatch, action, input).0,
                "ResourceNotFoundException",
                "{action} {arn}"
            );
        }
    }
    let arn = format!("arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:errors");
    assert_eq!(
        fails(
            &mut m,
            Service::CloudWatch,
            "TagResource",
            json!({ "ResourceARN": arn, "Tags": tag_list(&[("", "v")]) }),
        ),
        error(
            "ValidationError",
            "1 validation error detected: Value '' at 'tags.member.key' failed to satisfy \
             constraint: Member must have length greater than or equal to 1"
        )
    );
    assert_eq!(
        fails(
            &mut m,
            Service::CloudWatch,
            "UntagResource",
            json!({ "ResourceARN": arn }),
        ),
        error("MissingParameter", "The parameter TagKeys is required.")
    );
}

#[test]
fn eventbridge_rules_carry_tags_until_deleted() {
    let mut m = monitoring();
    let events = Tagging::EVENTBRIDGE;
    let arn = ok(
        &mut m,
        Service::EventBridge,
        "PutRule",
        json!({
            "Name": "spot",
            "EventPattern": r#"{"source":["aws.ec2"]}"#,
            "Tags": tag_list(&[("spotlab:stack", "demo")]),
        }),
    )["RuleArn"]
        .as_str()
        .expect("RuleArn")
        .to_owned();
    let refused = events.check_lifecycle(&mut m, &arn);
    assert_eq!(refused.code, "LimitExceededException");
    // An update ignores `Tags`.
    let before = events.list(&mut m, &arn);
    ok(
        &mut m,
        Service::EventBridge,
        "PutRule",
        json!({ "Name": "spot", "EventPattern": r#"{"source":["aws.ec2"]}"#, "Tags": tag_list(&[("other", "x")]) }),
    );
    assert_eq!(events.list(&mut m, &arn), before);
    ok(
        &mut m,
        Service::EventBridge,
        "DeleteRule",
        json!({ "Name": "spot" }),
    );
    assert_eq!(
        fails(
            &mut m,
            Service::EventBridge,
            "ListTagsForResource",
            json!({ "ResourceARN": arn }),
        ),
        error(
            "ResourceNotFoundException",
            "Rule spot does not exist on EventBus default."
        )
    );
    ok(
        &mut m,
        Service::EventBridge,
        "PutRule",
        json!({ "Name": "spot", "EventPattern": r#"{"source":["aws.ec2"]}"# }),
    );
    assert_eq!(events.list(&mut m, &arn), json!([]));
}

#[test]
fn eventbridge_tags_rules_on_custom_buses_and_refuses_the_rest() {
    let mut m = monitoring();
    let events = Tagging::EVENTBRIDGE;
    let arn = ok(
        &mut m,
        Service::EventBridge,
        "PutRule",
        json!({ "Name": "r", "EventBusName": "orders", "EventPattern": r#"{"source":["app"]}"# }),
    )["RuleArn"]
        .as_str()
        .expect("RuleArn")
        .to_owned();
    assert_eq!(
        arn,
        format!("arn:aws:events:us-east-1:{ACCOUNT}:rule/orders/r")
    );
    events
        .tag(&mut m, &arn, tag_list(&[("a", "1")]))
        .expect("tag");
    assert_eq!(events.list(&mut m, &arn), tag_list(&[("a", "1")]));
    // The same name on the default bus is another rule, which does not exist.
    let default_arn = format!("arn:aws:events:us-east-1:{ACCOUNT}:rule/r");
    assert_eq!(
        fails(
            &mut m,
            Service::EventBridge,
            "TagResource",
            json!({ "ResourceARN": default_arn, "Tags": tag_list(&[("a", "1")]) }),
        ),
        error(
            "ResourceNotFoundException",
            "Rule r does not exist on EventBus default."
        )
    );
    let bus = format!("arn:aws:events:us-east-1:{ACCOUNT}:event-bus/default");
    assert_eq!(
        fails(
            &mut m,
            Service::EventBridge,
            "ListTagsForResource",
            json!({ "ResourceARN": bus }),
        )
        .0,
        "ResourceNotFoundException"
    );
    assert_eq!(
        fails(
            &mut m,
            Service::EventBridge,
            "TagResource",
            json!({ "ResourceARN": arn, "Tags": tag_list(&[("k", &"v".repeat(257))]) }),
        )
        .0,
        "ValidationException"
    );
    assert_eq!(
        fails(
            &mut m,
            Service::EventBridge,
            "PutRule",
            json!({ "Name": "big", "EventPattern": r#"{"source":["app"]}"#, "Tags": many(51) }),
        )
        .0,
        "LimitExceededException"
    );
}

#[test]
fn tagging_calls_are_journaled_and_listing_is_not() {
    for service in [Service::Sns, Service::CloudWatch, Service::EventBridge] {
        assert!(Monitoring::changes_state(service, "TagResource"));
        assert!(Monitoring::changes_state(service, "UntagResource"));
        assert!(!Monitoring::changes_state(service, "ListTagsForResource"));
    }
}
