//! SNS on the pure core: every served call's answers and errors as AWS gives them (fact
//! sheet section 4), the confirmation handshake, deliveries and their retries, and
//! determinism.

#![allow(clippy::unwrap_used)] // A panic in a test helper is a failed test with a message.

use monitoring::ApiError;
use monitoring::sns::{Attempt, MessageKind, Outcome, Protocol, Reported, Sns};
use proptest::prelude::*;
use serde_json::{Value, json};
use simtime::{SimDuration, SimTime};

const REGION: &str = "us-east-1";
const ACCOUNT: &str = "123456789012";
const BASE: &str = "http://127.0.0.1:4747/";

fn t0() -> SimTime {
    SimTime::parse("2026-05-01T10:00:00Z").unwrap()
}

fn at(seconds: u64) -> SimTime {
    t0() + SimDuration::from_secs(seconds)
}

fn sns() -> Sns {
    Sns::new(REGION, ACCOUNT, 42, BASE)
}

fn ok(sns: &mut Sns, action: &str, input: Value) -> Value {
    sns.call(action, &input, t0())
        .unwrap_or_else(|e| panic!("{action} {input}: {e}"))
}

fn ok_at(sns: &mut Sns, action: &str, input: Value, now: SimTime) -> Value {
    sns.call(action, &input, now)
        .unwrap_or_else(|e| panic!("{action} {input}: {e}"))
}

fn fails(sns: &mut Sns, action: &str, input: Value) -> (String, String) {
    match sns.call(action, &input, t0()) {
        Ok(output) => panic!("{action} {input} succeeded: {output}"),
        Err(ApiError { code, message }) => (code, message),
    }
}

fn error(code: &str, message: &str) -> (String, String) {
    (code.to_owned(), message.to_owned())
}

fn create(sns: &mut Sns, name: &str) -> String {
    ok(sns, "CreateTopic", json!({ "Name": name }))["TopicArn"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn subscribe(sns: &mut Sns, topic: &str, protocol: &str, endpoint: &str) -> String {
    ok(
        sns,
        "Subscribe",
        json!({ "TopicArn": topic, "Protocol": protocol, "Endpoint": endpoint, "ReturnSubscriptionArn": true }),
    )["SubscriptionArn"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Subscribes an http endpoint and confirms it with the token of its confirmation,
/// which is delivered and taken out of the outbox.
fn confirmed_http(sns: &mut Sns, topic: &str, endpoint: &str) -> String {
    let arn = subscribe(sns, topic, "http", endpoint);
    let confirmation = sns
        .take_due(t0())
        .into_iter()
        .find(|a| a.subscription_arn == arn)
        .unwrap();
    sns.report(confirmation.delivery, 0, Outcome::Delivered, t0());
    let token = body(&confirmation)["Token"].as_str().unwrap().to_owned();
    ok(
        sns,
        "ConfirmSubscription",
        json!({ "TopicArn": topic, "Token": token }),
    );
    arn
}

fn body(attempt: &Attempt) -> Value {
    serde_json::from_str(&attempt.body).unwrap_or_else(|e| panic!("{e}: {}", attempt.body))
}

fn header<'a>(attempt: &'a Attempt, name: &str) -> Option<&'a str> {
    attempt
        .headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

fn publish(sns: &mut Sns, topic: &str, message: &str, now: SimTime) -> String {
    ok_at(
        sns,
        "Publish",
        json!({ "TopicArn": topic, "Message": message }),
        now,
    )["MessageId"]
        .as_str()
        .unwrap()
        .to_owned()
}

// ---------------------------------------------------------------------------------------
// Topics (fact sheet 4.1)

#[test]
fn create_topic_is_idempotent_by_name() {
    let mut sns = sns();
    let arn = create(&mut sns, "alarms");
    assert_eq!(arn, "arn:aws:sns:us-east-1:123456789012:alarms");
    assert_eq!(create(&mut sns, "alarms"), arn);
    assert_eq!(
        ok(&mut sns, "ListTopics", json!({}))["Topics"],
        json!([{ "TopicArn": arn }])
    );
}

#[test]
fn topic_names_are_checked() {
    let mut sns = sns();
    for name in ["", "has space", "dot.ted", &"x".repeat(257), "orders.fifo"] {
        assert_eq!(
            fails(&mut sns, "CreateTopic", json!({ "Name": name })),
            error("InvalidParameter", "Invalid parameter: Topic Name"),
            "{name}"
        );
    }
    assert_eq!(
        fails(&mut sns, "CreateTopic", json!({})),
        error(
            "ValidationError",
            "1 validation error detected: Value null at 'name' failed to satisfy constraint: \
             Member must not be null"
        )
    );
    let fifo = ok(
        &mut sns,
        "CreateTopic",
        json!({ "Name": "orders.fifo", "Attributes": { "FifoTopic": "true" } }),
    );
    assert_eq!(
        fifo["TopicArn"],
        "arn:aws:sns:us-east-1:123456789012:orders.fifo"
    );
    let (code, _) = fails(
        &mut sns,
        "CreateTopic",
        json!({ "Name": "orders", "Attributes": { "FifoTopic": "true" } }),
    );
    assert_eq!(code, "InvalidParameter");
}

#[test]
fn an_existing_topic_with_other_attributes_or_tags_is_refused() {
    let mut sns = sns();
    ok(
        &mut sns,
        "CreateTopic",
        json!({ "Name": "t", "Attributes": { "DisplayName": "One" }, "Tags": [{ "Key": "team", "Value": "a" }] }),
    );
    // The same, or a subset, is fine.
    ok(
        &mut sns,
        "CreateTopic",
        json!({ "Name": "t", "Attributes": { "DisplayName": "One" } }),
    );
    assert_eq!(
        fails(
            &mut sns,
            "CreateTopic",
            json!({ "Name": "t", "Attributes": { "DisplayName": "Two" } })
        ),
        error(
            "InvalidParameter",
            "Invalid parameter: Attributes Reason: Topic already exists with different attributes"
        )
    );
    assert_eq!(
        fails(
            &mut sns,
            "CreateTopic",
            json!({ "Name": "t", "Tags": [{ "Key": "team", "Value": "b" }] })
        ),
        error(
            "InvalidParameter",
            "Invalid parameter: Tags Reason: Topic already exists with different tags"
        )
    );
}

#[test]
fn topic_attributes_have_aws_defaults() {
    let mut sns = sns();
    let arn = create(&mut sns, "alarms");
    let attributes =
        ok(&mut sns, "GetTopicAttributes", json!({ "TopicArn": arn }))["Attributes"].clone();
    let keys: Vec<&str> = attributes
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "DisplayName",
            "EffectiveDeliveryPolicy",
            "Owner",
            "Policy",
            "SubscriptionsConfirmed",
            "SubscriptionsDeleted",
            "SubscriptionsPending",
            "TopicArn"
        ]
    );
    assert_eq!(attributes["Owner"], ACCOUNT);
    assert_eq!(attributes["DisplayName"], "");
    assert_eq!(attributes["TopicArn"], arn);
    assert_eq!(attributes["SubscriptionsConfirmed"], "0");
    assert_eq!(attributes["SubscriptionsPending"], "0");
    assert_eq!(attributes["SubscriptionsDeleted"], "0");
    assert_eq!(
        attributes["EffectiveDeliveryPolicy"],
        "{\"http\":{\"defaultHealthyRetryPolicy\":{\"minDelayTarget\":20,\"maxDelayTarget\":20,\
         \"numRetries\":3,\"numMaxDelayRetries\":0,\"numNoDelayRetries\":0,\"numMinDelayRetries\":0,\
         \"backoffFunction\":\"linear\"},\"disableSubscriptionOverrides\":false,\
         \"defaultRequestPolicy\":{\"headerContentType\":\"text/plain; charset=UTF-8\"}}}"
    );
    let policy: Value = serde_json::from_str(attributes["Policy"].as_str().unwrap()).unwrap();
    assert_eq!(policy["Version"], "2008-10-17");
    assert_eq!(policy["Id"], "__default_policy_ID");
    assert_eq!(policy["Statement"][0]["Resource"], arn);
    assert_eq!(
        policy["Statement"][0]["Condition"]["StringEquals"]["AWS:SourceOwner"],
        ACCOUNT
    );

    // Subscription counts are strings and follow the subscriptions.
    subscribe(
        &mut sns,
        &arn,
        "sqs",
        "arn:aws:sqs:us-east-1:123456789012:q",
    );
    let pending = subscribe(&mut sns, &arn, "https", "https://example.com/hook");
    ok(
        &mut sns,
        "Unsubscribe",
        json!({ "SubscriptionArn": pending }),
    );
    subscribe(&mut sns, &arn, "email", "ops@example.com");
    let attributes =
        ok(&mut sns, "GetTopicAttributes", json!({ "TopicArn": arn }))["Attributes"].clone();
    assert_eq!(attributes["SubscriptionsConfirmed"], "1");
    assert_eq!(attributes["SubscriptionsPending"], "1");
    assert_eq!(attributes["SubscriptionsDeleted"], "1");
}

#[test]
fn set_topic_attributes_checks_names_and_values() {
    let mut sns = sns();
    let arn = create(&mut sns, "t");
    ok(
        &mut sns,
        "SetTopicAttributes",
        json!({ "TopicArn": arn, "AttributeName": "DisplayName", "AttributeValue": "Ops" }),
    );
    let attributes =
        ok(&mut sns, "GetTopicAttributes", json!({ "TopicArn": arn }))["Attributes"].clone();
    assert_eq!(attributes["DisplayName"], "Ops");
    for name in ["Bogus", "FifoTopic"] {
        assert_eq!(
            fails(
                &mut sns,
                "SetTopicAttributes",
                json!({ "TopicArn": arn, "AttributeName": name, "AttributeValue": "x" })
            ),
            error("InvalidParameter", "Invalid parameter: AttributeName")
        );
    }
    assert_eq!(
        fails(
            &mut sns,
            "SetTopicAttributes",
            json!({ "TopicArn": arn, "AttributeName": "DeliveryPolicy", "AttributeValue": "{" })
        ),
        error(
            "InvalidParameter",
            "Invalid parameter: DeliveryPolicy: failed to parse JSON."
        )
    );
    let (code, _) = fails(
        &mut sns,
        "SetTopicAttributes",
        json!({ "TopicArn": arn, "AttributeName": "DeliveryPolicy",
                "AttributeValue": r#"{"http":{"defaultHealthyRetryPolicy":{"numRetries":101}}}"# }),
    );
    assert_eq!(code, "InvalidParameter");
    assert_eq!(
        fails(
            &mut sns,
            "SetTopicAttributes",
            json!({ "TopicArn": arn, "AttributeName": "SignatureVersion", "AttributeValue": "3" })
        ),
        error("InvalidParameter", "Invalid parameter: SignatureVersion")
    );
    ok(
        &mut sns,
        "SetTopicAttributes",
        json!({ "TopicArn": arn, "AttributeName": "DeliveryPolicy",
                "AttributeValue": r#"{"http":{"defaultHealthyRetryPolicy":{"numRetries":5,"minDelayTarget":5,"maxDelayTarget":30,"backoffFunction":"exponential"},"defaultRequestPolicy":{"headerContentType":"application/json"}}}"# }),
    );
    let attributes =
        ok(&mut sns, "GetTopicAttributes", json!({ "TopicArn": arn }))["Attributes"].clone();
    assert_eq!(
        attributes["EffectiveDeliveryPolicy"],
        "{\"http\":{\"defaultHealthyRetryPolicy\":{\"minDelayTarget\":5,\"maxDelayTarget\":30,\
         \"numRetries\":5,\"numMaxDelayRetries\":0,\"numNoDelayRetries\":0,\"numMinDelayRetries\":0,\
         \"backoffFunction\":\"exponential\"},\"disableSubscriptionOverrides\":false,\
         \"defaultRequestPolicy\":{\"headerContentType\":\"application/json\"}}}"
    );
    assert!(
        attributes["DeliveryPolicy"]
            .as_str()
            .unwrap()
            .contains("exponential")
    );
}

#[test]
fn unknown_topics_are_not_found_and_malformed_arns_invalid() {
    let mut sns = sns();
    let missing = "arn:aws:sns:us-east-1:123456789012:missing";
    let not_found = error("NotFound", "Topic does not exist");
    assert_eq!(
        fails(
            &mut sns,
            "GetTopicAttributes",
            json!({ "TopicArn": missing })
        ),
        not_found
    );
    assert_eq!(
        fails(
            &mut sns,
            "Publish",
            json!({ "TopicArn": missing, "Message": "m" })
        ),
        not_found
    );
    assert_eq!(
        fails(
            &mut sns,
            "Subscribe",
            json!({ "TopicArn": missing, "Protocol": "sqs", "Endpoint": "arn:aws:sqs:us-east-1:1:q" })
        ),
        not_found
    );
    assert_eq!(
        fails(
            &mut sns,
            "ListSubscriptionsByTopic",
            json!({ "TopicArn": missing })
        ),
        not_found
    );
    assert_eq!(
        fails(
            &mut sns,
            "SetTopicAttributes",
            json!({ "TopicArn": missing, "AttributeName": "DisplayName", "AttributeValue": "x" })
        ),
        not_found
    );
    assert_eq!(
        fails(
            &mut sns,
            "GetTopicAttributes",
            json!({ "TopicArn": "alarms" })
        ),
        error(
            "InvalidParameter",
            "Invalid parameter: TopicArn Reason: An ARN must have at least 6 elements, not 1"
        )
    );
    assert_eq!(
        fails(
            &mut sns,
            "GetTopicAttributes",
            json!({ "TopicArn": "arn:aws:sns:eu-west-1:123456789012:alarms" })
        ),
        error("InvalidParameter", "Invalid parameter: TopicArn")
    );
    assert_eq!(
        sns.publish_internal(missing, None, "m", t0()),
        Err(ApiError::new("NotFound", "Topic does not exist"))
    );
}

#[test]
fn delete_topic_is_idempotent_and_takes_its_subscriptions() {
    let mut sns = sns();
    let arn = create(&mut sns, "t");
    let queue = subscribe(
        &mut sns,
        &arn,
        "sqs",
        "arn:aws:sqs:us-east-1:123456789012:q",
    );
    publish(&mut sns, &arn, "m", t0());
    assert_eq!(sns.outbox_len(), 1);
    ok(&mut sns, "DeleteTopic", json!({ "TopicArn": arn }));
    ok(&mut sns, "DeleteTopic", json!({ "TopicArn": arn }));
    assert_eq!(sns.outbox_len(), 0);
    assert_eq!(ok(&mut sns, "ListTopics", json!({}))["Topics"], json!([]));
    assert_eq!(
        ok(&mut sns, "ListSubscriptions", json!({}))["Subscriptions"],
        json!([])
    );
    assert_eq!(
        fails(
            &mut sns,
            "GetSubscriptionAttributes",
            json!({ "SubscriptionArn": queue })
        ),
        error("NotFound", "Subscription does not exist")
    );
    assert_eq!(
        fails(&mut sns, "DeleteTopic", json!({ "TopicArn": "nope" })).0,
        "InvalidParameter"
    );
}

#[test]
fn list_topics_pages_by_one_hundred() {
    let mut sns = sns();
    for i in 0..250 {
        create(&mut sns, &format!("topic-{i:03}"));
    }
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = Vec::new();
    loop {
        let input = match &token {
            Some(token) => json!({ "NextToken": token }),
            None => json!({}),
        };
        let page = ok(&mut sns, "ListTopics", input);
        let topics = page["Topics"].as_array().unwrap();
        pages.push(topics.len());
        seen.extend(
            topics
                .iter()
                .map(|t| t["TopicArn"].as_str().unwrap().to_owned()),
        );
        match page.get("NextToken").and_then(Value::as_str) {
            Some(next) => token = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(pages, [100, 100, 50]);
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted, seen);
    assert_eq!(
        fails(&mut sns, "ListTopics", json!({ "NextToken": "%%%" })),
        error("InvalidParameter", "Invalid parameter: NextToken")
    );
}

// ---------------------------------------------------------------------------------------
// Subscriptions

#[test]
fn subscribe_answers_pending_confirmation_for_http_and_email() {
    let mut sns = sns();
    let topic = create(&mut sns, "t");
    for (protocol, endpoint) in [
        ("http", "http://127.0.0.1:9000/a"),
        ("https", "https://example.com/b"),
        ("email", "a@example.com"),
        ("email-json", "b@example.com"),
    ] {
        let answer = ok(
            &mut sns,
            "Subscribe",
            json!({ "TopicArn": topic, "Protocol": protocol, "Endpoint": endpoint }),
        );
        assert_eq!(
            answer["SubscriptionArn"], "pending confirmation",
            "{protocol}"
        );
    }
    for (protocol, endpoint) in [
        ("sqs", "arn:aws:sqs:us-east-1:123456789012:q"),
        ("lambda", "arn:aws:lambda:us-east-1:123456789012:function:f"),
        ("file", "/var/tmp/alarms.jsonl"),
        ("command", "logger -t sns"),
        ("log", "alarms"),
    ] {
        let answer = ok(
            &mut sns,
            "Subscribe",
            json!({ "TopicArn": topic, "Protocol": protocol, "Endpoint": endpoint }),
        );
        let arn = answer["SubscriptionArn"].as_str().unwrap();
        assert!(arn.starts_with(&format!("{topic}:")), "{protocol}: {arn}");
        let id = &arn[topic.len() + 1..];
        assert_eq!(id.len(), 36);
        assert_eq!(id, id.to_lowercase());
    }
    let listed = ok(&mut sns, "ListSubscriptions", json!({}))["Subscriptions"].clone();
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 9);
    assert_eq!(
        listed[0],
        json!({
            "SubscriptionArn": "PendingConfirmation",
            "Owner": ACCOUNT,
            "Protocol": "http",
            "Endpoint": "http://127.0.0.1:9000/a",
            "TopicArn": topic,
        })
    );
    assert!(
        listed[4]["SubscriptionArn"]
            .as_str()
            .unwrap()
            .starts_with("arn:aws:sns:")
    );
    assert_eq!(
        ok(
            &mut sns,
            "ListSubscriptionsByTopic",
            json!({ "TopicArn": topic })
        )["Subscriptions"]
            .as_array()
            .unwrap()
            .len(),
        9
    );
}

#[test]
fn subscribe_checks_protocol_endpoint_and_attributes() {
    let mut sns = sns();
    let topic = create(&mut sns, "t");
    let mut subscribe_fails = |protocol: &str, endpoint: &str, attributes: Value| {
        fails(
            &mut sns,
            "Subscribe",
            json!({ "TopicArn": topic, "Protocol": protocol, "Endpoint": endpoint, "Attributes": attributes }),
        )
    };
    assert_eq!(
        subscribe_fails("carrier-pigeon", "x", json!({})),
        error(
            "InvalidParameter",
            "Invalid parameter: Amazon SNS does not support this protocol string: carrier-pigeon"
        )
    );
    assert_eq!(
        subscribe_fails("https", "http://example.com/", json!({})),
        error(
            "InvalidParameter",
            "Invalid parameter: Endpoint must match the specified protocol"
        )
    );
    assert_eq!(
        subscribe_fails("sqs", "my-queue", json!({})),
        error("InvalidParameter", "Invalid parameter: SQS endpoint ARN")
    );
    assert_eq!(
        subscribe_fails("email", "nobody", json!({})),
        error("InvalidParameter", "Invalid parameter: Email address")
    );
    assert_eq!(
        subscribe_fails(
            "sqs",
            "arn:aws:sqs:us-east-1:123456789012:q.fifo",
            json!({})
        ),
        error(
            "InvalidParameter",
            "Invalid parameter: Invalid parameter: Endpoint Reason: FIFO SQS Queues can not be \
             subscribed to standard SNS topics"
        )
    );
    assert_eq!(
        subscribe_fails(
            "sqs",
            "arn:aws:sqs:us-east-1:123456789012:q",
            json!({ "Colour": "blue" })
        ),
        error(
            "InvalidParameter",
            "Invalid parameter: Attributes Reason: AttributeName"
        )
    );
    assert_eq!(
        subscribe_fails(
            "sqs",
            "arn:aws:sqs:us-east-1:123456789012:q",
            json!({ "RawMessageDelivery": "yes" })
        ),
        error(
            "InvalidParameter",
            "Invalid parameter: Attributes Reason: RawMessageDelivery: Invalid value [yes]. Must be true or false."
        )
    );
    assert_eq!(
        subscribe_fails(
            "lambda",
            "arn:aws:lambda:us-east-1:123456789012:function:f",
            json!({ "RawMessageDelivery": "true" })
        ),
        error(
            "InvalidParameter",
            "Invalid parameter: Attributes Reason: Delivery protocol [lambda] does not support raw message delivery."
        )
    );
    assert_eq!(
        subscribe_fails(
            "sqs",
            "arn:aws:sqs:us-east-1:123456789012:q",
            json!({ "FilterPolicyScope": "Everything" })
        ),
        error(
            "InvalidParameter",
            "Invalid parameter: Attributes Reason: FilterPolicyScope: Invalid value [Everything]. \
             Please use either MessageBody or MessageAttributes"
        )
    );
    assert_eq!(
        subscribe_fails(
            "sqs",
            "arn:aws:sqs:us-east-1:123456789012:q",
            json!({ "FilterPolicy": "{" })
        ),
        error(
            "InvalidParameter",
            "Invalid parameter: Attributes Reason: FilterPolicy: failed to parse JSON."
        )
    );
    // Nothing refused was created.
    assert_eq!(
        ok(&mut sns, "ListSubscriptions", json!({}))["Subscriptions"],
        json!([])
    );
}

#[test]
fn subscribing_an_endpoint_again_returns_the_existing_subscription() {
    let mut sns = sns();
    let topic = create(&mut sns, "t");
    let queue = "arn:aws:sqs:us-east-1:123456789012:q";
    let first = subscribe(&mut sns, &topic, "sqs", queue);
    assert_eq!(subscribe(&mut sns, &topic, "sqs", queue), first);
    let again = ok(
        &mut sns,
        "Subscribe",
        json!({ "TopicArn": topic, "Protocol": "sqs", "Endpoint": queue, "Attributes": { "RawMessageDelivery": "false" } }),
    );
    assert_eq!(again["SubscriptionArn"], first);
    assert_eq!(
        fails(
            &mut sns,
            "Subscribe",
            json!({ "TopicArn": topic, "Protocol": "sqs", "Endpoint": queue, "Attributes": { "RawMessageDelivery": "true" } })
        ),
        error(
            "InvalidParameter",
            "Invalid parameter: Attributes Reason: Subscription already exists with different attributes"
        )
    );
    // A pending http subscription asked for again gets a fresh confirmation request.
    let hook = subscribe(&mut sns, &topic, "http", "http://127.0.0.1:9000/");
    assert_eq!(
        subscribe(&mut sns, &topic, "http", "http://127.0.0.1:9000/"),
        hook
    );
    let confirmations: Vec<Attempt> = sns.take_due(t0());
    assert_eq!(confirmations.len(), 2);
    assert!(
        confirmations
            .iter()
            .all(|a| a.kind == MessageKind::SubscriptionConfirmation)
    );
    assert_ne!(
        body(&confirmations[0])["Token"],
        body(&confirmations[1])["Token"]
    );
    assert_eq!(
        ok(&mut sns, "ListSubscriptions", json!({}))["Subscriptions"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn http_handshake_pending_until_confirmed_then_notifications_flow() {
    let mut sns = sns();
    let topic = create(&mut sns, "alarms");
    let answer = ok(
        &mut sns,
        "Subscribe",
        json!({ "TopicArn": topic, "Protocol": "http", "Endpoint": "http://127.0.0.1:9000/hook" }),
    );
    assert_eq!(answer["SubscriptionArn"], "pending confirmation");

    // Fact sheet 4.2: SNS immediately POSTs a SubscriptionConfirmation.
    assert_eq!(sns.next_due(), Some(t0()));
    let due = sns.take_due(t0());
    assert_eq!(due.len(), 1);
    let confirmation = &due[0];
    assert_eq!(confirmation.kind, MessageKind::SubscriptionConfirmation);
    assert_eq!(confirmation.protocol, Protocol::Http);
    assert_eq!(confirmation.endpoint, "http://127.0.0.1:9000/hook");
    assert_eq!(
        confirmation.headers,
        vec![
            (
                "Content-Type".to_owned(),
                "text/plain; charset=UTF-8".to_owned()
            ),
            (
                "User-Agent".to_owned(),
                "Amazon Simple Notification Service Agent".to_owned()
            ),
            (
                "x-amz-sns-message-type".to_owned(),
                "SubscriptionConfirmation".to_owned()
            ),
            (
                "x-amz-sns-message-id".to_owned(),
                confirmation.message_id.clone()
            ),
            ("x-amz-sns-topic-arn".to_owned(), topic.clone()),
        ]
    );
    let envelope = body(confirmation);
    let token = envelope["Token"].as_str().unwrap().to_owned();
    assert_eq!(envelope["Type"], "SubscriptionConfirmation");
    assert_eq!(envelope["MessageId"], confirmation.message_id.as_str());
    assert_eq!(envelope["TopicArn"], topic.as_str());
    assert_eq!(
        envelope["Message"],
        format!(
            "You have chosen to subscribe to the topic {topic}.\nTo confirm the subscription, \
             visit the SubscribeURL included in this message."
        )
    );
    assert_eq!(
        envelope["SubscribeURL"],
        format!("{BASE}?Action=ConfirmSubscription&TopicArn={topic}&Token={token}")
    );
    assert_eq!(envelope["Timestamp"], "2026-05-01T10:00:00.000Z");
    assert_eq!(envelope["SignatureVersion"], "1");
    assert!(!envelope["Signature"].as_str().unwrap().is_empty());
    assert_eq!(
        envelope["SigningCertURL"],
        format!("{BASE}SimpleNotificationService-spotlab.pem")
    );
    sns.report(confirmation.delivery, 0, Outcome::Delivered, t0());

    // Until confirmed the endpoint gets nothing but the confirmation.
    publish(&mut sns, &topic, "before", at(1));
    assert!(sns.take_due(at(1)).is_empty());
    assert_eq!(sns.outbox_len(), 0);

    let confirmed = ok_at(
        &mut sns,
        "ConfirmSubscription",
        json!({ "TopicArn": topic, "Token": token }),
        at(2),
    );
    let arn = confirmed["SubscriptionArn"].as_str().unwrap().to_owned();
    assert!(arn.starts_with(&format!("{topic}:")));
    // Confirming again is idempotent.
    assert_eq!(
        ok_at(
            &mut sns,
            "ConfirmSubscription",
            json!({ "TopicArn": topic, "Token": token }),
            at(3)
        )["SubscriptionArn"],
        arn.as_str()
    );
    let listed = ok(
        &mut sns,
        "ListSubscriptionsByTopic",
        json!({ "TopicArn": topic }),
    );
    assert_eq!(listed["Subscriptions"][0]["SubscriptionArn"], arn.as_str());

    let message_id = ok_at(
        &mut sns,
        "Publish",
        json!({ "TopicArn": topic, "Message": "the error rate is 12%", "Subject": "ALARM: errors",
                "MessageAttributes": { "severity": { "DataType": "String", "StringValue": "high" },
                                       "count": { "DataType": "Number", "StringValue": "3" },
                                       "raw": { "DataType": "Binary", "BinaryValue": "AQID" } } }),
        at(4),
    )["MessageId"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(message_id.len(), 36);
    assert_eq!(message_id, message_id.to_lowercase());
    let due = sns.take_due(at(4));
    assert_eq!(due.len(), 1);
    let notification = &due[0];
    assert_eq!(notification.kind, MessageKind::Notification);
    assert_eq!(notification.message_id, message_id);
    assert_eq!(notification.subscription_arn, arn);
    assert_eq!(
        header(notification, "x-amz-sns-message-type"),
        Some("Notification")
    );
    assert_eq!(
        header(notification, "x-amz-sns-message-id"),
        Some(message_id.as_str())
    );
    assert_eq!(
        header(notification, "x-amz-sns-topic-arn"),
        Some(topic.as_str())
    );
    assert_eq!(
        header(notification, "x-amz-sns-subscription-arn"),
        Some(arn.as_str())
    );
    assert_eq!(header(notification, "x-amz-sns-rawdelivery"), None);
    assert_eq!(
        header(notification, "Content-Type"),
        Some("text/plain; charset=UTF-8")
    );
    let envelope = body(notification);
    let keys: Vec<&str> = {
        // The body keeps AWS's key order; read it back from the text.
        let mut keys = Vec::new();
        for line in notification.body.lines().skip(1) {
            if let Some(rest) = line.strip_prefix("  \"") {
                keys.push(rest.split('"').next().unwrap());
            }
        }
        keys
    };
    assert_eq!(
        keys,
        [
            "Type",
            "MessageId",
            "TopicArn",
            "Subject",
            "Message",
            "Timestamp",
            "SignatureVersion",
            "Signature",
            "SigningCertURL",
            "UnsubscribeURL",
            "MessageAttributes"
        ]
    );
    assert_eq!(envelope["Subject"], "ALARM: errors");
    assert_eq!(envelope["Message"], "the error rate is 12%");
    assert_eq!(envelope["Timestamp"], "2026-05-01T10:00:04.000Z");
    assert_eq!(
        envelope["UnsubscribeURL"],
        format!("{BASE}?Action=Unsubscribe&SubscriptionArn={arn}")
    );
    assert_eq!(
        envelope["MessageAttributes"],
        json!({
            "count": { "Type": "Number", "Value": "3" },
            "raw": { "Type": "Binary", "Value": "AQID" },
            "severity": { "Type": "String", "Value": "high" },
        })
    );
    assert!(
        notification
            .body
            .contains("  \"Type\" : \"Notification\",\n")
    );
}

#[test]
fn confirm_subscription_refuses_bad_and_expired_tokens() {
    let mut sns = sns();
    let topic = create(&mut sns, "t");
    let other = create(&mut sns, "other");
    subscribe(&mut sns, &topic, "https", "https://example.com/");
    let token = body(&sns.take_due(t0())[0])["Token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(token.len(), 256);
    let invalid_token = error("InvalidParameter", "Invalid parameter: Token");
    assert_eq!(
        fails(
            &mut sns,
            "ConfirmSubscription",
            json!({ "TopicArn": topic, "Token": "abc" })
        ),
        invalid_token
    );
    assert_eq!(
        fails(
            &mut sns,
            "ConfirmSubscription",
            json!({ "TopicArn": other, "Token": token })
        ),
        invalid_token
    );
    // Tokens are valid for two days.
    let expired = t0() + SimDuration::from_days(2) + SimDuration::from_millis(1);
    assert_eq!(
        sns.call(
            "ConfirmSubscription",
            &json!({ "TopicArn": topic, "Token": token }),
            expired
        )
        .map_err(|e| (e.code, e.message)),
        Err(invalid_token.clone())
    );
    let last_moment = t0() + SimDuration::from_days(2);
    ok_at(
        &mut sns,
        "ConfirmSubscription",
        json!({ "TopicArn": topic, "Token": token }),
        last_moment,
    );
    assert_eq!(
        fails(
            &mut sns,
            "ConfirmSubscription",
            json!({ "TopicArn": topic })
        ),
        error(
            "ValidationError",
            "1 validation error detected: Value null at 'token' failed to satisfy constraint: \
             Member must not be null"
        )
    );
}

#[test]
fn email_subscriptions_confirm_with_the_token_they_are_sent() {
    let mut sns = sns();
    let topic = create(&mut sns, "t");
    let mail = subscribe(&mut sns, &topic, "email", "ops@example.com");
    let json_mail = subscribe(&mut sns, &topic, "email-json", "bot@example.com");
    let due = sns.take_due(t0());
    assert_eq!(due.len(), 2);
    let plain = due.iter().find(|a| a.subscription_arn == mail).unwrap();
    assert_eq!(
        plain.subject.as_deref(),
        Some("AWS Notification - Subscription Confirmation")
    );
    assert!(plain.headers.is_empty());
    assert!(plain.body.contains("?Action=ConfirmSubscription&TopicArn="));
    let structured = due
        .iter()
        .find(|a| a.subscription_arn == json_mail)
        .unwrap();
    let token = body(structured)["Token"].as_str().unwrap().to_owned();
    ok(
        &mut sns,
        "ConfirmSubscription",
        json!({ "TopicArn": topic, "Token": token }),
    );
    let attributes = ok(
        &mut sns,
        "GetSubscriptionAttributes",
        json!({ "SubscriptionArn": json_mail }),
    );
    assert_eq!(attributes["Attributes"]["PendingConfirmation"], "false");
    let attributes = ok(
        &mut sns,
        "GetSubscriptionAttributes",
        json!({ "SubscriptionArn": mail }),
    );
    assert_eq!(attributes["Attributes"]["PendingConfirmation"], "true");
    assert_eq!(
        attributes["Attributes"]["ConfirmationWasAuthenticated"],
        "false"
    );

    ok(
        &mut sns,
        "Publish",
        json!({ "TopicArn": topic, "Message": "hello", "Subject": "greeting" }),
    );
    let due = sns.take_due(t0());
    assert_eq!(due.len(), 1, "only the confirmed address");
    assert_eq!(due[0].subscription_arn, json_mail);
    assert_eq!(due[0].subject.as_deref(), Some("greeting"));
    assert_eq!(body(&due[0])["Message"], "hello");
}

#[test]
fn unsubscribe_is_idempotent_and_http_endpoints_are_told() {
    let mut sns = sns();
    let topic = create(&mut sns, "t");
    let hook = confirmed_http(&mut sns, &topic, "http://127.0.0.1:9000/");
    let queue = subscribe(
        &mut sns,
        &topic,
        "sqs",
        "arn:aws:sqs:us-east-1:123456789012:q",
    );
    ok(&mut sns, "Unsubscribe", json!({ "SubscriptionArn": queue }));
    assert!(sns.take_due(t0()).is_empty(), "queues are not told");
    ok(&mut sns, "Unsubscribe", json!({ "SubscriptionArn": queue }));

    ok(&mut sns, "Unsubscribe", json!({ "SubscriptionArn": hook }));
    let due = sns.take_due(t0());
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].kind, MessageKind::UnsubscribeConfirmation);
    assert_eq!(
        header(&due[0], "x-amz-sns-subscription-arn"),
        Some(hook.as_str())
    );
    let envelope = body(&due[0]);
    assert_eq!(envelope["Type"], "UnsubscribeConfirmation");
    assert_eq!(
        envelope["Message"],
        format!(
            "You have chosen to deactivate subscription {hook}.\nTo cancel this operation and \
             restore the subscription, visit the SubscribeURL included in this message."
        )
    );
    assert_eq!(
        ok(&mut sns, "ListSubscriptions", json!({}))["Subscriptions"],
        json!([])
    );

    // Visiting its SubscribeURL restores the subscription, with its ARN.
    let token = envelope["Token"].as_str().unwrap();
    let restored = ok(
        &mut sns,
        "ConfirmSubscription",
        json!({ "TopicArn": topic, "Token": token }),
    );
    assert_eq!(restored["SubscriptionArn"], hook.as_str());
    assert_eq!(
        ok(&mut sns, "ListSubscriptions", json!({}))["Subscriptions"][0]["SubscriptionArn"],
        hook.as_str()
    );

    assert_eq!(
        fails(
            &mut sns,
            "Unsubscribe",
            json!({ "SubscriptionArn": "pending confirmation" })
        ),
        error(
            "InvalidParameter",
            "Invalid parameter: SubscriptionArn Reason: An ARN must have at least 6 elements, not 1"
        )
    );
    assert_eq!(
        fails(&mut sns, "Unsubscribe", json!({ "SubscriptionArn": topic })),
        error("InvalidParameter", "Invalid parameter: SubscriptionId")
    );
}

#[test]
fn subscription_attributes_as_aws_shows_them() {
    let mut sns = sns();
    let topic = create(&mut sns, "t");
    let hook = confirmed_http(&mut sns, &topic, "http://127.0.0.1:9000/");
    let attributes = ok(
        &mut sns,
        "GetSubscriptionAttributes",
        json!({ "SubscriptionArn": hook }),
    )["Attributes"]
        .clone();
    assert_eq!(
        attributes,
        json!({
            "ConfirmationWasAuthenticated": "false",
            "EffectiveDeliveryPolicy": "{\"healthyRetryPolicy\":{\"minDelayTarget\":20,\"maxDelayTarget\":20,\"numRetries\":3,\"numMaxDelayRetries\":0,\"numNoDelayRetries\":0,\"numMinDelayRetries\":0,\"backoffFunction\":\"linear\"},\"sicklyRetryPolicy\":null,\"throttlePolicy\":null,\"guaranteed\":false}",
            "Endpoint": "http://127.0.0.1:9000/",
            "Owner": ACCOUNT,
            "PendingConfirmation": "false",
            "Protocol": "http",
            "RawMessageDelivery": "false",
            "SubscriptionArn": hook,
            "TopicArn": topic,
        })
    );
    let queue = subscribe(
        &mut sns,
        &topic,
        "sqs",
        "arn:aws:sqs:us-east-1:123456789012:q",
    );
    ok(
        &mut sns,
        "SetSubscriptionAttributes",
        json!({ "SubscriptionArn": queue, "AttributeName": "RawMessageDelivery", "AttributeValue": "TRUE" }),
    );
    ok(
        &mut sns,
        "SetSubscriptionAttributes",
        json!({ "SubscriptionArn": queue, "AttributeName": "FilterPolicy", "AttributeValue": r#"{"severity":["high"]}"# }),
    );
    let attributes = ok(
        &mut sns,
        "GetSubscriptionAttributes",
        json!({ "SubscriptionArn": queue }),
    )["Attributes"]
        .clone();
    assert_eq!(attributes["RawMessageDelivery"], "true");
    assert_eq!(attributes["ConfirmationWasAuthenticated"], "true");
    assert_eq!(attributes["FilterPolicy"], r#"{"severity":["high"]}"#);
    assert_eq!(attributes["FilterPolicyScope"], "MessageAttributes");
    assert!(attributes.get("EffectiveDeliveryPolicy").is_none());
    assert_eq!(
        fails(
            &mut sns,
            "SetSubscriptionAttributes",
            json!({ "SubscriptionArn": queue, "AttributeName": "Colour", "AttributeValue": "x" })
        ),
        error("InvalidParameter", "Invalid parameter: AttributeName")
    );
    assert_eq!(
        fails(
            &mut sns,
            "SetSubscriptionAttributes",
            json!({ "SubscriptionArn": queue, "AttributeName": "DeliveryPolicy", "AttributeValue": "{}" })
        ),
        error(
            "InvalidParameter",
            "Invalid parameter: DeliveryPolicy: Delivery protocol [sqs] does not support delivery policy"
        )
    );
    let missing = format!("{topic}:00000000-0000-4000-8000-000000000000");
    assert_eq!(
        fails(
            &mut sns,
            "GetSubscriptionAttributes",
            json!({ "SubscriptionArn": missing })
        ),
        error("NotFound", "Subscription does not exist")
    );
    assert_eq!(
        fails(
            &mut sns,
            "SetSubscriptionAttributes",
            json!({ "SubscriptionArn": missing, "AttributeName": "RawMessageDelivery", "AttributeValue": "true" })
        ),
        error("NotFound", "Subscription does not exist")
    );
}

#[test]
fn list_subscriptions_pages_by_one_hundred_in_creation_order() {
    let mut sns = sns();
    let topic = create(&mut sns, "t");
    let mut created = Vec::new();
    for i in 0..150 {
        created.push(subscribe(
            &mut sns,
            &topic,
            "sqs",
            &format!("arn:aws:sqs:us-east-1:123456789012:q{i}"),
        ));
    }
    let first = ok(
        &mut sns,
        "ListSubscriptionsByTopic",
        json!({ "TopicArn": topic }),
    );
    assert_eq!(first["Subscriptions"].as_array().unwrap().len(), 100);
    let token = first["NextToken"].as_str().unwrap();
    let second = ok(&mut sns, "ListSubscriptions", json!({ "NextToken": token }));
    let second = second["Subscriptions"].as_array().unwrap();
    assert_eq!(second.len(), 50);
    assert_eq!(second[0]["SubscriptionArn"], created[100].as_str());
    assert_eq!(second[49]["SubscriptionArn"], created[149].as_str());
}

// ---------------------------------------------------------------------------------------
// Publish (fact sheet 4.1)

#[test]
fn publish_checks_message_subject_target_and_size() {
    let mut sns = sns();
    let topic = create(&mut sns, "t");
    let mut publish_fails = |input: Value| fails(&mut sns, "Publish", input);
    assert_eq!(
        publish_fails(json!({ "TopicArn": topic, "Message": "" })),
        error("InvalidParameter", "Invalid parameter: Empty message")
    );
    assert_eq!(
        publish_fails(json!({ "TopicArn": topic })),
        error(
            "ValidationError",
            "1 validation error detected: Value null at 'message' failed to satisfy constraint: \
             Member must not be null"
        )
    );
    assert_eq!(
        publish_fails(json!({ "Message": "m" })),
        error(
            "InvalidParameter",
            "Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter"
        )
    );
    for subject in ["", "line\nbreak", &"s".repeat(100)] {
        assert_eq!(
            publish_fails(json!({ "TopicArn": topic, "Message": "m", "Subject": subject })),
            error("InvalidParameter", "Invalid parameter: Subject"),
            "{subject:?}"
        );
    }
    // 262,144 bytes of body and attributes are accepted, one more is not.
    assert!(
        sns.call(
            "Publish",
            &json!({ "TopicArn": topic, "Message": "x".repeat(262_144) }),
            t0()
        )
        .is_ok()
    );
    let too_long = error("InvalidParameter", "Invalid parameter: Message too long");
    assert_eq!(
        fails(
            &mut sns,
            "Publish",
            json!({ "TopicArn": topic, "Message": "x".repeat(262_145) })
        ),
        too_long
    );
    // Attribute name "a" + type "String" + value "bcd" = 10 bytes.
    assert_eq!(
        fails(
            &mut sns,
            "Publish",
            json!({ "TopicArn": topic, "Message": "x".repeat(262_135),
                    "MessageAttributes": { "a": { "DataType": "String", "StringValue": "bcd" } } })
        ),
        too_long
    );
    assert!(sns
        .call(
            "Publish",
            &json!({ "TopicArn": topic, "Message": "x".repeat(262_134),
                     "MessageAttributes": { "a": { "DataType": "String", "StringValue": "bcd" } } }),
            t0()
        )
        .is_ok());
    // TargetArn naming a topic works like TopicArn.
    assert!(
        sns.call(
            "Publish",
            &json!({ "TargetArn": topic, "Message": "m" }),
            t0()
        )
        .is_ok()
    );
    assert_eq!(
        fails(
            &mut sns,
            "Publish",
            json!({ "PhoneNumber": "555", "Message": "m" })
        ),
        error(
            "InvalidParameter",
            "Invalid parameter: PhoneNumber Reason: 555 is not valid to publish to"
        )
    );
    assert!(
        sns.call(
            "Publish",
            &json!({ "PhoneNumber": "+14155552671", "Message": "m" }),
            t0()
        )
        .is_ok()
    );
}

#[test]
fn message_attributes_are_checked_like_aws() {
    let mut sns = sns();
    let topic = create(&mut sns, "t");
    let mut with = |attributes: Value| {
        fails(
            &mut sns,
            "Publish",
            json!({ "TopicArn": topic, "Message": "m", "MessageAttributes": attributes }),
        )
    };
    assert_eq!(
        with(json!({ "a": { "DataType": "Text", "StringValue": "x" } })),
        error(
            "ParameterValueInvalid",
            "The message attribute 'a' has an invalid message attribute type, the set of supported \
             type prefixes is Binary, Number, and String."
        )
    );
    assert_eq!(
        with(json!({ "a": { "DataType": "Number", "StringValue": "ten" } })),
        error(
            "ParameterValueInvalid",
            "Could not cast message attribute 'a' value to number."
        )
    );
    assert_eq!(
        with(json!({ "a": { "DataType": "String", "StringValue": "" } })),
        error(
            "ParameterValueInvalid",
            "The message attribute 'a' must contain non-empty message attribute value for message \
             attribute type 'String'."
        )
    );
    assert_eq!(
        with(json!({ "a": { "DataType": "Binary", "StringValue": "x" } })),
        error(
            "ParameterValueInvalid",
            "The message attribute 'a' with type 'Binary' must use field 'Binary'."
        )
    );
    assert_eq!(
        with(json!({ "a": { "StringValue": "x" } })),
        error(
            "ValidationError",
            "1 validation error detected: Value null at 'messageAttributes.a.member.dataType' failed \
             to satisfy constraint: Member must not be null"
        )
    );
    assert_eq!(
        with(json!({ "a": { "DataType": "String.Array", "StringValue": "x" } })).0,
        "ParameterValueInvalid"
    );
    for ok_attributes in [
        json!({ "a": { "DataType": "String.Array", "StringValue": "[\"x\",1,true]" } }),
        json!({ "price": { "DataType": "Number.float", "StringValue": "-1.5e3" } }),
        json!({ "custom": { "DataType": "String.custom", "StringValue": "x" } }),
    ] {
        assert!(
            sns.call(
                "Publish",
                &json!({ "TopicArn": topic, "Message": "m", "MessageAttributes": ok_attributes }),
                t0()
            )
            .is_ok()
        );
    }
}

#[test]
fn message_structure_json_picks_each_protocol_its_text() {
    let mut sns = sns();
    let topic = create(&mut sns, "t");
    let hook = confirmed_http(&mut sns, &topic, "http://127.0.0.1:9000/");
    let queue = subscribe(
        &mut sns,
        &topic,
        "sqs",
        "arn:aws:sqs:us-east-1:123456789012:q",
    );
    let file = subscribe(&mut sns, &topic, "file", "/tmp/out.jsonl");
    let message =
        json!({ "default": "for everyone", "http": "for http", "sqs": "for queues", "email": 7 })
            .to_string();
    ok(
        &mut sns,
        "Publish",
        json!({ "TopicArn": topic, "Message": message, "MessageStructure": "json" }),
    );
    let due = sns.take_due(t0());
    let text = |arn: &str| {
        body(due.iter().find(|a| a.subscription_arn == arn).unwrap())["Message"].clone()
    };
    assert_eq!(text(&hook), "for http");
    assert_eq!(text(&queue), "for queues");
    assert_eq!(text(&file), "for everyone");

    let mut structure_fails = |message: &str| {
        fails(
            &mut sns,
            "Publish",
            json!({ "TopicArn": topic, "Message": message, "MessageStructure": "json" }),
        )
    };
    assert_eq!(
        structure_fails(r#"{"http":"x"}"#),
        error(
            "InvalidParameter",
            "Invalid parameter: Message Structure - No default entry in JSON message body"
        )
    );
    assert_eq!(
        structure_fails("not json"),
        error(
            "InvalidParameter",
            "Invalid parameter: Message Structure - JSON message body failed to parse"
        )
    );
    // A non-string default is ignored, so there is no default.
    assert_eq!(
        structure_fails(r#"{"default":1}"#),
        error(
            "InvalidParameter",
            "Invalid parameter: Message Structure - No default entry in JSON message body"
        )
    );
}

#[test]
fn raw_delivery_sends_the_bare_message() {
    let mut sns = sns();
    let topic = create(&mut sns, "t");
    let hook = confirmed_http(&mut sns, &topic, "http://127.0.0.1:9000/");
    ok(
        &mut sns,
        "SetSubscriptionAttributes",
        json!({ "SubscriptionArn": hook, "AttributeName": "RawMessageDelivery", "AttributeValue": "true" }),
    );
    let queue = ok(
        &mut sns,
        "Subscribe",
        json!({ "TopicArn": topic, "Protocol": "sqs", "Endpoint": "arn:aws:sqs:us-east-1:123456789012:q",
                "Attributes": { "RawMessageDelivery": "true" } }),
    )["SubscriptionArn"]
        .as_str()
        .unwrap()
        .to_owned();
    ok(
        &mut sns,
        "Publish",
        json!({ "TopicArn": topic, "Message": "{\"bare\":true}",
                "MessageAttributes": { "k": { "DataType": "String", "StringValue": "v" } } }),
    );
    let due = sns.take_due(t0());
    assert_eq!(due.len(), 2);
    let http = due.iter().find(|a| a.subscription_arn == hook).unwrap();
    assert_eq!(http.body, "{\"bare\":true}");
    assert!(http.raw);
    assert_eq!(header(http, "x-amz-sns-rawdelivery"), Some("true"));
    let sqs = due.iter().find(|a| a.subscription_arn == queue).unwrap();
    assert_eq!(sqs.body, "{\"bare\":true}");
    // The attributes travel beside the raw body, to become the queue message's.
    assert_eq!(sqs.message_attributes["k"].value, "v");
}

#[test]
fn each_protocol_gets_its_body() {
    let mut sns = sns();
    let topic = create(&mut sns, "t");
    let function = subscribe(
        &mut sns,
        &topic,
        "lambda",
        "arn:aws:lambda:us-east-1:123456789012:function:f",
    );
    let file = subscribe(&mut sns, &topic, "file", "/tmp/out.jsonl");
    let command = subscribe(&mut sns, &topic, "command", "jq .");
    let log = subscribe(&mut sns, &topic, "log", "alarms");
    let id = publish(&mut sns, &topic, "hello\nworld", t0());
    let due = sns.take_due(t0());
    let find = |arn: &str| due.iter().find(|a| a.subscription_arn == arn).unwrap();

    let event = body(find(&function));
    let record = &event["Records"][0];
    assert_eq!(record["EventSource"], "aws:sns");
    assert_eq!(record["EventVersion"], "1.0");
    assert_eq!(record["EventSubscriptionArn"], function.as_str());
    assert_eq!(record["Sns"]["MessageId"], id.as_str());
    assert_eq!(record["Sns"]["Subject"], Value::Null);
    assert_eq!(record["Sns"]["Message"], "hello\nworld");
    assert_eq!(record["Sns"]["MessageAttributes"], json!({}));
    assert!(
        record["Sns"]["UnsubscribeUrl"]
            .as_str()
            .unwrap()
            .starts_with(BASE)
    );
    assert!(record["Sns"]["SigningCertUrl"].is_string());

    // A JSON-lines file gets the envelope on one line.
    let line = &find(&file).body;
    assert!(!line.contains('\n'));
    assert_eq!(body(find(&file))["Message"], "hello\nworld");
    assert!(!find(&log).body.contains('\n'));
    // A command reads the envelope as SNS sends it over HTTP.
    assert!(
        find(&command)
            .body
            .starts_with("{\n  \"Type\" : \"Notification\",\n")
    );
    assert!(due.iter().all(|a| a.headers.is_empty()));
}

#[test]
fn exactly_one_delivery_per_subscription_per_publish() {
    let mut sns = sns();
    let topic = create(&mut sns, "t");
    let other = create(&mut sns, "other");
    let hook = confirmed_http(&mut sns, &topic, "http://127.0.0.1:9000/");
    let queue = subscribe(
        &mut sns,
        &topic,
        "sqs",
        "arn:aws:sqs:us-east-1:123456789012:q",
    );
    let file = subscribe(&mut sns, &topic, "file", "/tmp/a.jsonl");
    subscribe(&mut sns, &topic, "https", "https://pending.example.com/");
    subscribe(
        &mut sns,
        &other,
        "sqs",
        "arn:aws:sqs:us-east-1:123456789012:q",
    );
    sns.take_due(t0());
    let first = publish(&mut sns, &topic, "one", at(1));
    let second = publish(&mut sns, &topic, "two", at(1));
    let due = sns.take_due(at(1));
    assert_eq!(due.len(), 6);
    for id in [&first, &second] {
        let mut arns: Vec<&str> = due
            .iter()
            .filter(|a| &a.message_id == id)
            .map(|a| a.subscription_arn.as_str())
            .collect();
        arns.sort_unstable();
        let mut expected = vec![hook.as_str(), queue.as_str(), file.as_str()];
        expected.sort_unstable();
        assert_eq!(arns, expected);
    }
    let deliveries: std::collections::BTreeSet<_> = due.iter().map(|a| a.delivery).collect();
    assert_eq!(deliveries.len(), 6);
    let view = sns.topics_view();
    let t = view.iter().find(|v| v.arn == topic).unwrap();
    assert_eq!(t.published, 2);
    assert!(
        t.subscriptions
            .iter()
            .filter(|s| s.confirmed)
            .all(|s| s.counters.pending == 2)
    );
}

#[test]
fn filter_policies_choose_subscribers() {
    let mut sns = sns();
    let topic = create(&mut sns, "t");
    let high = ok(
        &mut sns,
        "Subscribe",
        json!({ "TopicArn": topic, "Protocol": "sqs", "Endpoint": "arn:aws:sqs:us-east-1:123456789012:high",
                "Attributes": { "FilterPolicy": r#"{"severity":["high","critical"]}"# } }),
    )["SubscriptionArn"]
        .as_str()
        .unwrap()
        .to_owned();
    let alarms = ok(
        &mut sns,
        "Subscribe",
        json!({ "TopicArn": topic, "Protocol": "sqs", "Endpoint": "arn:aws:sqs:us-east-1:123456789012:alarms",
                "Attributes": { "FilterPolicyScope": "MessageBody",
                                "FilterPolicy": r#"{"NewStateValue":["ALARM"]}"# } }),
    )["SubscriptionArn"]
        .as_str()
        .unwrap()
        .to_owned();
    ok(
        &mut sns,
        "Publish",
        json!({ "TopicArn": topic, "Message": r#"{"NewStateValue":"OK"}"#,
                "MessageAttributes": { "severity": { "DataType": "String", "StringValue": "high" } } }),
    );
    ok(
        &mut sns,
        "Publish",
        json!({ "TopicArn": topic, "Message": r#"{"NewStateValue":"ALARM"}"# }),
    );
    let due = sns.take_due(t0());
    let to = |arn: &str| due.iter().filter(|a| a.subscription_arn == arn).count();
    assert_eq!((to(&high), to(&alarms)), (1, 1));
}

// ---------------------------------------------------------------------------------------
// Deliveries and retries (fact sheet 4.2)

/// Fails every attempt of the one due delivery, retryably, reporting at its due time;
/// returns the due times of the retries and the final report.
fn fail_until_given_up(sns: &mut Sns, start: SimTime) -> (Vec<SimTime>, Reported) {
    let mut now = start;
    let mut retries = Vec::new();
    loop {
        let due = sns.take_due(now);
        assert_eq!(due.len(), 1, "at {now}");
        let attempt = &due[0];
        match sns.report(
            attempt.delivery,
            attempt.attempt,
            Outcome::Failed { retryable: true },
            now,
        ) {
            Reported::Retry { due } => {
                assert_eq!(sns.next_due(), Some(due));
                assert!(sns.take_due(due - SimDuration::from_millis(1)).is_empty());
                retries.push(due);
                now = due;
            }
            other => return (retries, other),
        }
    }
}

#[test]
fn default_policy_retries_three_times_twenty_seconds_apart() {
    let mut sns = sns();
    let topic = create(&mut sns, "t");
    let hook = confirmed_http(&mut sns, &topic, "http://127.0.0.1:9000/");
    let id = publish(&mut sns, &topic, "m", at(10));
    let first = sns.take_due(at(10));
    let body_first = first[0].body.clone();
    // Report the failure at 10.5 s (the attempt took half a second): the retry is due
    // 20 s after the failure.
    let failed_at = at(10) + SimDuration::from_millis(500);
    let reported = sns.report(
        first[0].delivery,
        0,
        Outcome::Failed { retryable: true },
        failed_at,
    );
    assert_eq!(
        reported,
        Reported::Retry {
            due: failed_at + SimDuration::from_secs(20)
        }
    );
    let (retries, last) = fail_until_given_up(&mut sns, failed_at + SimDuration::from_secs(20));
    assert_eq!(
        retries,
        [
            failed_at + SimDuration::from_secs(40),
            failed_at + SimDuration::from_secs(60)
        ]
    );
    assert_eq!(last, Reported::GaveUp);
    assert_eq!(sns.outbox_len(), 0);
    let counters = sns.counters(&hook).unwrap();
    assert_eq!(
        (
            counters.delivered,
            counters.failed,
            counters.pending,
            counters.retries
        ),
        (0, 1, 0, 3)
    );

    // Every retry carries the same message id and body.
    let id2 = publish(&mut sns, &topic, "m", at(200));
    let a = sns.take_due(at(200)).remove(0);
    sns.report(a.delivery, 0, Outcome::Failed { retryable: true }, at(200));
    let b = sns.take_due(at(220)).remove(0);
    assert_eq!((b.delivery, b.attempt), (a.delivery, 1));
    assert_eq!(b.message_id, id2);
    assert_eq!(b.body, a.body);
    assert_eq!(b.headers, a.headers);
    assert_ne!(id, id2);
    assert_ne!(body_first, a.body);
    assert_eq!(
        sns.report(b.delivery, 1, Outcome::Delivered, at(221)),
        Reported::Delivered
    );
    assert_eq!(sns.counters(&hook).unwrap().delivered, 1);
}

#[test]
fn a_custom_delivery_policy_sets_the_schedule() {
    let mut sns = sns();
    let topic = create(&mut sns, "t");
    let hook = confirmed_http(&mut sns, &topic, "http://127.0.0.1:9000/");
    // 1 immediate retry, 1 at the minimum, 3 backing off exponentially from 1 s to 8 s
    // (2, 4, 8 s), 1 at the maximum.
    let policy = r#"{"healthyRetryPolicy":{"minDelayTarget":1,"maxDelayTarget":8,"numRetries":6,
        "numNoDelayRetries":1,"numMinDelayRetries":1,"numMaxDelayRetries":1,"backoffFunction":"exponential"}}"#;
    ok(
        &mut sns,
        "SetSubscriptionAttributes",
        json!({ "SubscriptionArn": hook, "AttributeName": "DeliveryPolicy", "AttributeValue": policy }),
    );
    let effective = ok(
        &mut sns,
        "GetSubscriptionAttributes",
        json!({ "SubscriptionArn": hook }),
    )["Attributes"]["EffectiveDeliveryPolicy"]
        .clone();
    assert_eq!(
        effective,
        "{\"healthyRetryPolicy\":{\"minDelayTarget\":1,\"maxDelayTarget\":8,\"numRetries\":6,\
         \"numMaxDelayRetries\":1,\"numNoDelayRetries\":1,\"numMinDelayRetries\":1,\
         \"backoffFunction\":\"exponential\"},\"sicklyRetryPolicy\":null,\"throttlePolicy\":null,\
         \"guaranteed\":false}"
    );
    publish(&mut sns, &topic, "m", at(0));
    let (retries, last) = fail_until_given_up(&mut sns, at(0));
    assert_eq!(retries, [at(0), at(1), at(3), at(7), at(15), at(23)]);
    assert_eq!(last, Reported::GaveUp);

    // A topic that disables overrides imposes its own policy.
    ok(
        &mut sns,
        "SetTopicAttributes",
        json!({ "TopicArn": topic, "AttributeName": "DeliveryPolicy",
                "AttributeValue": r#"{"http":{"defaultHealthyRetryPolicy":{"numRetries":2,"minDelayTarget":5,"maxDelayTarget":5},"disableSubscriptionOverrides":true}}"# }),
    );
    publish(&mut sns, &topic, "m", at(100));
    let (retries, _) = fail_until_given_up(&mut sns, at(100));
    assert_eq!(retries, [at(105), at(110)]);
}

#[test]
fn a_4xx_is_not_retried() {
    let mut sns = sns();
    let topic = create(&mut sns, "t");
    let hook = confirmed_http(&mut sns, &topic, "http://127.0.0.1:9000/");
    publish(&mut sns, &topic, "m", at(1));
    let attempt = sns.take_due(at(1)).remove(0);
    assert_eq!(
        sns.report(
            attempt.delivery,
            0,
            Outcome::Failed { retryable: false },
            at(1)
        ),
        Reported::GaveUp
    );
    assert_eq!(sns.next_due(), None);
    assert_eq!(sns.counters(&hook).unwrap().failed, 1);
    // Reports for finished deliveries or other attempts change nothing.
    assert_eq!(
        sns.report(attempt.delivery, 0, Outcome::Delivered, at(2)),
        Reported::Stale
    );
    assert_eq!(sns.counters(&hook).unwrap().delivered, 0);
}

#[test]
fn take_due_hands_each_attempt_out_once() {
    let mut sns = sns();
    let topic = create(&mut sns, "t");
    subscribe(
        &mut sns,
        &topic,
        "sqs",
        "arn:aws:sqs:us-east-1:123456789012:q",
    );
    publish(&mut sns, &topic, "later", at(30));
    publish(&mut sns, &topic, "now", at(5));
    assert_eq!(sns.next_due(), Some(at(5)));
    assert!(sns.take_due(at(4)).is_empty());
    let due = sns.take_due(at(40));
    assert_eq!(due.len(), 2);
    assert_eq!(due[0].due, at(5), "earliest first");
    assert!(sns.take_due(at(40)).is_empty(), "in flight");
    assert_eq!(sns.next_due(), None);
    assert_eq!(
        sns.report(due[0].delivery, 1, Outcome::Delivered, at(41)),
        Reported::Stale
    );
    assert_eq!(
        sns.report(due[0].delivery, 0, Outcome::Delivered, at(41)),
        Reported::Delivered
    );
    // Unreported attempts are still owed (after a restart they are due again).
    assert_eq!(sns.outbox().len(), 1);
}

#[test]
fn throttle_policy_spaces_notifications() {
    let mut sns = sns();
    let topic = create(&mut sns, "t");
    let hook = confirmed_http(&mut sns, &topic, "http://127.0.0.1:9000/");
    ok(
        &mut sns,
        "SetSubscriptionAttributes",
        json!({ "SubscriptionArn": hook, "AttributeName": "DeliveryPolicy",
                "AttributeValue": r#"{"throttlePolicy":{"maxReceivesPerSecond":2}}"# }),
    );
    for _ in 0..3 {
        publish(&mut sns, &topic, "m", at(1));
    }
    let dues: Vec<SimTime> = sns.outbox().iter().map(|a| a.due).collect();
    assert_eq!(dues, [at(1), at(1) + SimDuration::from_millis(500), at(2)]);
}

#[test]
fn fifo_topics_need_group_ids_and_drop_duplicates() {
    let mut sns = sns();
    let topic = ok(
        &mut sns,
        "CreateTopic",
        json!({ "Name": "orders.fifo", "Attributes": { "FifoTopic": "true" } }),
    )["TopicArn"]
        .as_str()
        .unwrap()
        .to_owned();
    let attributes =
        ok(&mut sns, "GetTopicAttributes", json!({ "TopicArn": topic }))["Attributes"].clone();
    assert_eq!(attributes["FifoTopic"], "true");
    assert_eq!(attributes["ContentBasedDeduplication"], "false");
    subscribe(
        &mut sns,
        &topic,
        "sqs",
        "arn:aws:sqs:us-east-1:123456789012:orders.fifo",
    );
    assert_eq!(
        fails(
            &mut sns,
            "Publish",
            json!({ "TopicArn": topic, "Message": "m" })
        ),
        error(
            "InvalidParameter",
            "Invalid parameter: The MessageGroupId parameter is required for FIFO topics"
        )
    );
    assert_eq!(
        fails(
            &mut sns,
            "Publish",
            json!({ "TopicArn": topic, "Message": "m", "MessageGroupId": "g" })
        ),
        error(
            "InvalidParameter",
            "Invalid parameter: The topic should either have ContentBasedDeduplication enabled or \
             MessageDeduplicationId provided explicitly"
        )
    );
    let input = json!({ "TopicArn": topic, "Message": "m", "MessageGroupId": "g", "MessageDeduplicationId": "d1" });
    let first = ok_at(&mut sns, "Publish", input.clone(), at(0));
    assert_eq!(first["SequenceNumber"], "10000000000000000001");
    let duplicate = ok_at(&mut sns, "Publish", input.clone(), at(299));
    assert_eq!(duplicate, first);
    assert_eq!(sns.outbox_len(), 1);
    let later = ok_at(&mut sns, "Publish", input, at(300));
    assert_ne!(later["MessageId"], first["MessageId"]);
    assert_eq!(later["SequenceNumber"], "10000000000000000002");
    assert_eq!(sns.outbox_len(), 2);
    // FIFO envelopes carry the sequence number and no signature.
    let envelope = body(&sns.outbox()[0]);
    assert_eq!(envelope["SequenceNumber"], "10000000000000000001");
    assert!(envelope.get("Signature").is_none());

    let standard = create(&mut sns, "standard");
    assert_eq!(
        fails(
            &mut sns,
            "Publish",
            json!({ "TopicArn": standard, "Message": "m", "MessageDeduplicationId": "d" })
        ),
        error(
            "InvalidParameter",
            "Invalid parameter: MessageDeduplicationId Reason: The request includes \
             MessageDeduplicationId parameter that is not valid for this topic type"
        )
    );
}

#[test]
fn publish_internal_is_publish() {
    let mut sns = sns();
    let topic = create(&mut sns, "alarms");
    subscribe(
        &mut sns,
        &topic,
        "sqs",
        "arn:aws:sqs:us-east-1:123456789012:q",
    );
    let id = sns
        .publish_internal(
            &topic,
            Some("ALARM: \"errors\" in US East (N. Virginia)"),
            "{}",
            t0(),
        )
        .unwrap();
    let due = sns.take_due(t0());
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].message_id, id);
    assert_eq!(
        body(&due[0])["Subject"],
        "ALARM: \"errors\" in US East (N. Virginia)"
    );
    assert_eq!(
        sns.publish_internal(&topic, Some("bad\nsubject"), "{}", t0()),
        Err(ApiError::new(
            "InvalidParameter",
            "Invalid parameter: Subject"
        ))
    );
}

#[test]
fn calls_that_change_state_are_the_ones_to_journal() {
    let changing: Vec<&str> = Sns::actions().filter(|a| Sns::changes_state(a)).collect();
    assert_eq!(
        changing,
        [
            "ConfirmSubscription",
            "CreateTopic",
            "DeleteTopic",
            "Publish",
            "SetSubscriptionAttributes",
            "SetTopicAttributes",
            "Subscribe",
            "TagResource",
            "Unsubscribe",
            "UntagResource"
        ]
    );
    assert_eq!(Sns::actions().count(), 16);
    let mut sns = sns();
    assert_eq!(
        fails(&mut sns, "AddPermission", json!({})),
        error(
            "InvalidAction",
            "The action AddPermission is not valid for this web service."
        )
    );
}

// ---------------------------------------------------------------------------------------
// Determinism and replay

/// A fixed script of calls and reports; returns every answer and the outbox.
fn script(seed: u64, with_refusals: bool) -> (Vec<String>, Vec<Attempt>, Sns) {
    let mut sns = Sns::new(REGION, ACCOUNT, seed, BASE);
    let mut answers = Vec::new();
    let mut record = |sns: &mut Sns, action: &str, input: Value, now: SimTime| {
        let answer = sns.call(action, &input, now);
        answers.push(format!("{answer:?}"));
        answer.unwrap_or_default()
    };
    let topic = record(&mut sns, "CreateTopic", json!({ "Name": "t" }), at(0))["TopicArn"]
        .as_str()
        .unwrap()
        .to_owned();
    record(
        &mut sns,
        "Subscribe",
        json!({ "TopicArn": topic, "Protocol": "sqs", "Endpoint": "arn:aws:sqs:us-east-1:123456789012:q" }),
        at(1),
    );
    record(
        &mut sns,
        "Subscribe",
        json!({ "TopicArn": topic, "Protocol": "http", "Endpoint": "http://127.0.0.1:9/" }),
        at(2),
    );
    for (i, attempt) in sns.take_due(at(2)).into_iter().enumerate() {
        let outcome = if i % 2 == 0 {
            Outcome::Delivered
        } else {
            Outcome::Failed { retryable: true }
        };
        sns.report(attempt.delivery, attempt.attempt, outcome, at(3));
    }
    for i in 0..5 {
        if with_refusals {
            // Refused calls are not journaled, so they must not draw ids.
            let refused = sns.call(
                "Publish",
                &json!({ "TopicArn": topic, "Message": "" }),
                at(10 + i),
            );
            assert!(refused.is_err());
            let refused = sns.call(
                "Subscribe",
                &json!({ "TopicArn": topic, "Protocol": "http", "Endpoint": "ftp://x" }),
                at(10 + i),
            );
            assert!(refused.is_err());
        }
        record(
            &mut sns,
            "Publish",
            json!({ "TopicArn": topic, "Message": format!("m{i}") }),
            at(10 + i),
        );
    }
    let outbox = sns.outbox();
    (answers, outbox, sns)
}

#[test]
fn same_calls_same_ids_and_bodies() {
    let (answers, outbox, _) = script(7, false);
    let (again, outbox_again, _) = script(7, false);
    assert_eq!(answers, again);
    assert_eq!(outbox, outbox_again);
    let (other_seed, other_outbox, _) = script(8, false);
    assert_ne!(answers, other_seed);
    assert_ne!(outbox, other_outbox);
    let (with_refusals, outbox_with_refusals, _) = script(7, true);
    assert_eq!(answers, with_refusals);
    assert_eq!(outbox, outbox_with_refusals);
}

proptest! {
    /// Whatever the outcomes, every notification ends in exactly one of delivered,
    /// failed or pending, and replaying the same calls and reports rebuilds the same
    /// outbox and counters.
    #[test]
    fn counters_add_up_and_replays_rebuild(
        outcomes in proptest::collection::vec(0u8..3, 1..60),
        publishes in 1usize..6,
    ) {
        let run = || {
            let mut sns = Sns::new(REGION, ACCOUNT, 3, BASE);
            let topic = create(&mut sns, "t");
            let queue = subscribe(&mut sns, &topic, "sqs", "arn:aws:sqs:us-east-1:123456789012:q");
            let hook = confirmed_http(&mut sns, &topic, "http://127.0.0.1:9000/");
            for i in 0..publishes {
                publish(&mut sns, &topic, &format!("m{i}"), at(0));
            }
            let mut now = at(0);
            let mut outcomes = outcomes.iter();
            'outer: while let Some(next) = sns.next_due() {
                now = now.max(next);
                for attempt in sns.take_due(now) {
                    let Some(code) = outcomes.next() else { break 'outer };
                    let outcome = match code {
                        0 => Outcome::Delivered,
                        1 => Outcome::Failed { retryable: true },
                        _ => Outcome::Failed { retryable: false },
                    };
                    sns.report(attempt.delivery, attempt.attempt, outcome, now);
                }
            }
            (sns, queue, hook)
        };
        let (sns, queue, hook) = run();
        for arn in [&queue, &hook] {
            let c = sns.counters(arn).unwrap();
            prop_assert_eq!(c.delivered + c.failed + c.pending, publishes as u64);
            let owed = sns.outbox().iter().filter(|a| &a.subscription_arn == arn).count() as u64;
            prop_assert_eq!(c.pending, owed);
        }
        let (again, _, _) = run();
        prop_assert_eq!(sns.outbox(), again.outbox());
        prop_assert_eq!(sns.topics_view(), again.topics_view());
    }
}
