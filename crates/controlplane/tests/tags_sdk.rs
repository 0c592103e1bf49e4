//! Tags on SNS topics, CloudWatch alarms and EventBridge rules through the official
//! Rust SDKs (aws-sdk-sns over the query protocol, aws-sdk-cloudwatch over RPC v2
//! CBOR, aws-sdk-eventbridge over JSON 1.1), as `spotlab stack up` sets them and
//! `spotlab cleanup` finds them: tags on create, listed, more added, some removed,
//! gone with the resource, a new resource under the same name untagged; and the tags
//! a cloud held before a restart held after it (tagging calls are journaled).

mod support;

use aws_sdk_cloudwatch::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_cloudwatch::error::{DisplayErrorContext, SdkError};
use aws_sdk_cloudwatch::types::ComparisonOperator;
use controlplane::Running;

const STACK_KEY: &str = "spotlab:stack";

struct Clients {
    sns: aws_sdk_sns::Client,
    cloudwatch: aws_sdk_cloudwatch::Client,
    events: aws_sdk_eventbridge::Client,
}

fn clients(running: &Running) -> Clients {
    let endpoint = format!("http://{}", running.addr);
    let credentials = Credentials::new("AKIDEXAMPLE", "secret", None, None, "test");
    let region = Region::new("us-east-1");
    Clients {
        sns: aws_sdk_sns::Client::from_conf(
            aws_sdk_sns::Config::builder()
                .behavior_version(BehaviorVersion::latest())
                .region(region.clone())
                .endpoint_url(&endpoint)
                .credentials_provider(credentials.clone())
                .build(),
        ),
        cloudwatch: aws_sdk_cloudwatch::Client::from_conf(
            aws_sdk_cloudwatch::Config::builder()
                .behavior_version(BehaviorVersion::latest())
                .region(region.clone())
                .endpoint_url(&endpoint)
                .credentials_provider(credentials.clone())
                .build(),
        ),
        events: aws_sdk_eventbridge::Client::from_conf(
            aws_sdk_eventbridge::Config::builder()
                .behavior_version(BehaviorVersion::latest())
                .region(region)
                .endpoint_url(&endpoint)
                .credentials_provider(credentials)
                .build(),
        ),
    }
}

/// The call's output, or a panic with the SDK's whole error.
fn ok<T, E>(what: &str, result: Result<T, SdkError<E>>) -> T
where
    E: std::error::Error + Send + Sync + 'static,
{
    result.unwrap_or_else(|error| panic!("{what}: {}", DisplayErrorContext(&error)))
}

/// The call's service error, or a panic if it succeeded or failed otherwise.
fn service_error<T: std::fmt::Debug, E>(what: &str, result: Result<T, SdkError<E>>) -> E
where
    E: std::error::Error + Send + Sync + 'static,
{
    match result {
        Ok(output) => panic!("{what}: expected an error, got {output:?}"),
        Err(SdkError::ServiceError(failure)) => failure.into_err(),
        Err(error) => panic!(
            "{what}: expected a service error, got {}",
            DisplayErrorContext(&error)
        ),
    }
}

/// `(key, value)` pairs as owned strings, for comparing with what a list returned.
fn pairs(tags: &[(&str, &str)]) -> Vec<(String, String)> {
    tags.iter()
        .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
        .collect()
}

// ---- SNS --------------------------------------------------------------------------------

fn sns_tag(key: &str, value: &str) -> aws_sdk_sns::types::Tag {
    aws_sdk_sns::types::Tag::builder()
        .key(key)
        .value(value)
        .build()
        .expect("a tag has a key and a value")
}

async fn sns_tags(sns: &aws_sdk_sns::Client, arn: &str) -> Vec<(String, String)> {
    ok(
        "sns ListTagsForResource",
        sns.list_tags_for_resource().resource_arn(arn).send().await,
    )
    .tags()
    .iter()
    .map(|tag| (tag.key().to_owned(), tag.value().to_owned()))
    .collect()
}

async fn create_topic(sns: &aws_sdk_sns::Client, name: &str, tags: &[(&str, &str)]) -> String {
    let mut call = sns.create_topic().name(name);
    for (key, value) in tags {
        call = call.tags(sns_tag(key, value));
    }
    ok("CreateTopic", call.send().await)
        .topic_arn()
        .expect("TopicArn")
        .to_owned()
}

// ---- CloudWatch -------------------------------------------------------------------------

async fn put_alarm(cloudwatch: &aws_sdk_cloudwatch::Client, name: &str, tags: &[(&str, &str)]) {
    let mut call = cloudwatch
        .put_metric_alarm()
        .alarm_name(name)
        .namespace("App")
        .metric_name("Error")
        .statistic(aws_sdk_cloudwatch::types::Statistic::Average)
        .period(60)
        .evaluation_periods(1)
        .threshold(0.1)
        .comparison_operator(ComparisonOperator::GreaterThanThreshold);
    for (key, value) in tags {
        call = call.tags(
            aws_sdk_cloudwatch::types::Tag::builder()
                .key(*key)
                .value(*value)
                .build(),
        );
    }
    ok("PutMetricAlarm", call.send().await);
}

async fn alarm_arn(cloudwatch: &aws_sdk_cloudwatch::Client, name: &str) -> String {
    let described = ok(
        "DescribeAlarms",
        cloudwatch.describe_alarms().alarm_names(name).send().await,
    );
    described.metric_alarms()[0]
        .alarm_arn()
        .expect("AlarmArn")
        .to_owned()
}

async fn alarm_tags(cloudwatch: &aws_sdk_cloudwatch::Client, arn: &str) -> Vec<(String, String)> {
    ok(
        "cloudwatch ListTagsForResource",
        cloudwatch
            .list_tags_for_resource()
            .resource_arn(arn)
            .send()
            .await,
    )
    .tags()
    .iter()
    .map(|tag| {
        (
            tag.key().unwrap_or_default().to_owned(),
            tag.value().unwrap_or_default().to_owned(),
        )
    })
    .collect()
}

// ---- EventBridge ------------------------------------------------------------------------

fn events_tag(key: &str, value: &str) -> aws_sdk_eventbridge::types::Tag {
    aws_sdk_eventbridge::types::Tag::builder()
        .key(key)
        .value(value)
        .build()
        .expect("a tag has a key and a value")
}

async fn put_rule(
    events: &aws_sdk_eventbridge::Client,
    name: &str,
    tags: &[(&str, &str)],
) -> String {
    let mut call = events
        .put_rule()
        .name(name)
        .event_pattern(r#"{"source":["aws.ec2"]}"#);
    for (key, value) in tags {
        call = call.tags(events_tag(key, value));
    }
    ok("PutRule", call.send().await)
        .rule_arn()
        .expect("RuleArn")
        .to_owned()
}

async fn rule_tags(events: &aws_sdk_eventbridge::Client, arn: &str) -> Vec<(String, String)> {
    ok(
        "events ListTagsForResource",
        events
            .list_tags_for_resource()
            .resource_arn(arn)
            .send()
            .await,
    )
    .tags()
    .iter()
    .map(|tag| (tag.key().to_owned(), tag.value().to_owned()))
    .collect()
}

// ---- Tests ------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn topics_alarms_and_rules_are_tagged_until_deleted() {
    let dir = tempfile::tempdir().expect("state dir");
    let running = support::start_in(dir.path(), 1, 17).await;
    let Clients {
        sns,
        cloudwatch,
        events,
    } = clients(&running);

    // SNS: tagged on create, more tags, one removed, the limit, gone with the topic.
    let topic = create_topic(&sns, "alerts", &[(STACK_KEY, "demo")]).await;
    assert_eq!(sns_tags(&sns, &topic).await, pairs(&[(STACK_KEY, "demo")]));
    ok(
        "sns TagResource",
        sns.tag_resource()
            .resource_arn(&topic)
            .tags(sns_tag("team", "perf"))
            .tags(sns_tag("cost-center", "42"))
            .send()
            .await,
    );
    assert_eq!(
        sns_tags(&sns, &topic).await,
        pairs(&[(STACK_KEY, "demo"), ("team", "perf"), ("cost-center", "42")])
    );
    ok(
        "sns UntagResource",
        sns.untag_resource()
            .resource_arn(&topic)
            .tag_keys("cost-center")
            .send()
            .await,
    );
    assert_eq!(
        sns_tags(&sns, &topic).await,
        pairs(&[(STACK_KEY, "demo"), ("team", "perf")])
    );
    let mut too_many = sns.tag_resource().resource_arn(&topic);
    for i in 0..49 {
        too_many = too_many.tags(sns_tag(&format!("k{i}"), "v"));
    }
    let refused = service_error("51 tags", too_many.send().await);
    assert!(refused.is_tag_limit_exceeded_exception(), "{refused:?}");
    // Creating it again with a tag it does not carry is AWS's InvalidParameter.
    let conflict = service_error(
        "CreateTopic with other tags",
        sns.create_topic()
            .name("alerts")
            .tags(sns_tag("team", "infra"))
            .send()
            .await,
    );
    assert!(conflict.is_invalid_parameter_exception(), "{conflict:?}");
    ok(
        "DeleteTopic",
        sns.delete_topic().topic_arn(&topic).send().await,
    );
    let gone = service_error(
        "tags of a deleted topic",
        sns.list_tags_for_resource()
            .resource_arn(&topic)
            .send()
            .await,
    );
    assert!(gone.is_resource_not_found_exception(), "{gone:?}");
    assert_eq!(create_topic(&sns, "alerts", &[]).await, topic);
    assert_eq!(sns_tags(&sns, &topic).await, pairs(&[]));

    // CloudWatch: tags on create only (an update ignores them), then the same calls.
    put_alarm(&cloudwatch, "errors", &[(STACK_KEY, "demo")]).await;
    let alarm = alarm_arn(&cloudwatch, "errors").await;
    put_alarm(&cloudwatch, "errors", &[("ignored", "on update")]).await;
    assert_eq!(
        alarm_tags(&cloudwatch, &alarm).await,
        pairs(&[(STACK_KEY, "demo")])
    );
    ok(
        "cloudwatch TagResource",
        cloudwatch
            .tag_resource()
            .resource_arn(&alarm)
            .tags(
                aws_sdk_cloudwatch::types::Tag::builder()
                    .key("team")
                    .value("perf")
                    .build(),
            )
            .send()
            .await,
    );
    ok(
        "cloudwatch UntagResource",
        cloudwatch
            .untag_resource()
            .resource_arn(&alarm)
            .tag_keys(STACK_KEY)
            .send()
            .await,
    );
    assert_eq!(
        alarm_tags(&cloudwatch, &alarm).await,
        pairs(&[("team", "perf")])
    );
    ok(
        "DeleteAlarms",
        cloudwatch
            .delete_alarms()
            .alarm_names("errors")
            .send()
            .await,
    );
    let gone = service_error(
        "tags of a deleted alarm",
        cloudwatch
            .list_tags_for_resource()
            .resource_arn(&alarm)
            .send()
            .await,
    );
    assert!(gone.is_resource_not_found_exception(), "{gone:?}");
    put_alarm(&cloudwatch, "errors", &[]).await;
    assert_eq!(alarm_tags(&cloudwatch, &alarm).await, pairs(&[]));

    // EventBridge: the same.
    let rule = put_rule(&events, "spot", &[(STACK_KEY, "demo")]).await;
    assert_eq!(
        rule_tags(&events, &rule).await,
        pairs(&[(STACK_KEY, "demo")])
    );
    ok(
        "events TagResource",
        events
            .tag_resource()
            .resource_arn(&rule)
            .tags(events_tag("team", "perf"))
            .send()
            .await,
    );
    ok(
        "events UntagResource",
        events
            .untag_resource()
            .resource_arn(&rule)
            .tag_keys(STACK_KEY)
            .send()
            .await,
    );
    assert_eq!(rule_tags(&events, &rule).await, pairs(&[("team", "perf")]));
    ok("DeleteRule", events.delete_rule().name("spot").send().await);
    let gone = service_error(
        "tags of a deleted rule",
        events
            .list_tags_for_resource()
            .resource_arn(&rule)
            .send()
            .await,
    );
    assert!(gone.is_resource_not_found_exception(), "{gone:?}");
    assert_eq!(put_rule(&events, "spot", &[]).await, rule);
    assert_eq!(rule_tags(&events, &rule).await, pairs(&[]));

    support::stop(running).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tags_survive_a_restart() {
    let dir = tempfile::tempdir().expect("state dir");
    let running = support::start_in(dir.path(), 1, 17).await;
    let before = clients(&running);
    let topic = create_topic(&before.sns, "alerts", &[(STACK_KEY, "demo")]).await;
    ok(
        "sns TagResource",
        before
            .sns
            .tag_resource()
            .resource_arn(&topic)
            .tags(sns_tag("team", "perf"))
            .send()
            .await,
    );
    put_alarm(&before.cloudwatch, "errors", &[(STACK_KEY, "demo")]).await;
    let alarm = alarm_arn(&before.cloudwatch, "errors").await;
    ok(
        "cloudwatch UntagResource",
        before
            .cloudwatch
            .untag_resource()
            .resource_arn(&alarm)
            .tag_keys(STACK_KEY)
            .send()
            .await,
    );
    let rule = put_rule(&before.events, "spot", &[(STACK_KEY, "demo")]).await;
    ok(
        "events TagResource",
        before
            .events
            .tag_resource()
            .resource_arn(&rule)
            .tags(events_tag(STACK_KEY, "demo2"))
            .send()
            .await,
    );
    support::stop(running).await;

    let running = support::start_in(dir.path(), 1, 17).await;
    assert!(running.replayed > 0, "the journal was replayed");
    let after = clients(&running);
    assert_eq!(
        sns_tags(&after.sns, &topic).await,
        pairs(&[(STACK_KEY, "demo"), ("team", "perf")])
    );
    assert_eq!(alarm_tags(&after.cloudwatch, &alarm).await, pairs(&[]));
    assert_eq!(
        rule_tags(&after.events, &rule).await,
        pairs(&[(STACK_KEY, "demo2")])
    );
    support::stop(running).await;
}
