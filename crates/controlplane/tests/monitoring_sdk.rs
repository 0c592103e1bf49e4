//! The local cloud's CloudWatch, SNS and EventBridge driven by the official Rust SDKs
//! (aws-sdk-cloudwatch, which speaks only Smithy RPC v2 CBOR; aws-sdk-sns, the query
//! protocol; aws-sdk-eventbridge, JSON 1.1), against a control plane started in-process
//! on 127.0.0.1:0. Virtual time runs at the wall clock's pace (scale 1), so timestamps
//! a few minutes old are inside CloudWatch's windows.
//!
//! Every call goes through an interceptor that keeps the last request and response as
//! sent and received: when the SDK rejects an answer, the test prints both, which is
//! what a fix of the server needs.
//!
//! Rules cited are from the fact sheet `monitoring-semantics.md` (section numbers).

mod support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_cloudwatch::config::interceptors::{
    BeforeDeserializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
};
use aws_sdk_cloudwatch::config::{
    BehaviorVersion, ConfigBag, Credentials, Intercept, Region, RuntimeComponents,
};
use aws_sdk_cloudwatch::error::{BoxError, DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{
    ComparisonOperator, Dimension, DimensionFilter, HistoryItemType, Metric, MetricDataQuery,
    MetricDatum, MetricStat, StandardUnit, StateValue, Statistic, StatisticSet, StatusCode,
};
use serde_json::Value;
use support::Cloud;

// ---- Wire capture -----------------------------------------------------------------------

/// The last exchange an SDK client had with the server, as bytes.
#[derive(Clone, Debug, Default)]
struct Wire(Arc<Mutex<Exchange>>);

#[derive(Clone, Debug, Default)]
struct Exchange {
    /// `METHOD URI`, then the headers.
    request_head: String,
    /// The body as sent (after the SDK's gzip compression, if any).
    request_body: Vec<u8>,
    /// `Content-Encoding` of the request as sent.
    request_encoding: Option<String>,
    /// Status and headers of the answer.
    response_head: String,
    /// The answer's body.
    response_body: Vec<u8>,
}

impl Intercept for Wire {
    fn name(&self) -> &'static str {
        "Wire"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _config: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let request = context.request();
        let mut head = format!("{} {}", request.method(), request.uri());
        for (name, value) in request.headers() {
            head.push_str(&format!("\n{name}: {value}"));
        }
        let mut exchange = self.0.lock().expect("wire lock");
        *exchange = Exchange {
            request_head: head,
            request_body: request.body().bytes().unwrap_or_default().to_vec(),
            request_encoding: request.headers().get("content-encoding").map(str::to_owned),
            ..Exchange::default()
        };
        Ok(())
    }

    fn read_before_deserialization(
        &self,
        context: &BeforeDeserializationInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _config: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let response = context.response();
        let mut head = format!("{}", response.status().as_u16());
        for (name, value) in response.headers() {
            head.push_str(&format!("\n{name}: {value}"));
        }
        let mut exchange = self.0.lock().expect("wire lock");
        exchange.response_head = head;
        exchange.response_body = response.body().bytes().unwrap_or_default().to_vec();
        Ok(())
    }
}

impl Wire {
    fn last(&self) -> Exchange {
        self.0.lock().expect("wire lock").clone()
    }

    /// The last exchange, for a failure message: heads as text, bodies as text when
    /// they are UTF-8 and as hex otherwise.
    fn dump(&self) -> String {
        let exchange = self.last();
        let body = |bytes: &[u8]| match std::str::from_utf8(bytes) {
            Ok(text) => text.to_owned(),
            Err(_) => bytes.iter().map(|b| format!("{b:02x}")).collect::<String>(),
        };
        format!(
            "--- request\n{}\n\n{}\n--- response\n{}\n\n{}",
            exchange.request_head,
            body(&exchange.request_body),
            exchange.response_head,
            body(&exchange.response_body)
        )
    }

    /// The call's output, or a panic with the SDK's error and the bytes exchanged.
    fn ok<T, E>(&self, what: &str, result: Result<T, SdkError<E>>) -> T
    where
        E: std::error::Error + Send + Sync + 'static,
    {
        match result {
            Ok(output) => output,
            Err(error) => panic!("{what}: {}\n{}", DisplayErrorContext(&error), self.dump()),
        }
    }

    /// The call's service error, or a panic if it succeeded or failed otherwise.
    fn err<T: std::fmt::Debug, E>(&self, what: &str, result: Result<T, SdkError<E>>) -> E
    where
        E: std::error::Error + Send + Sync + 'static,
    {
        match result {
            Ok(output) => panic!("{what}: expected an error, got {output:?}"),
            Err(SdkError::ServiceError(failure)) => failure.into_err(),
            Err(error) => panic!(
                "{what}: expected a service error, got {}\n{}",
                DisplayErrorContext(&error),
                self.dump()
            ),
        }
    }
}

// ---- Clients ----------------------------------------------------------------------------

struct Clients {
    cloudwatch: aws_sdk_cloudwatch::Client,
    sns: aws_sdk_sns::Client,
    events: aws_sdk_eventbridge::Client,
    wire: Wire,
    endpoint: String,
}

fn clients(cloud: &Cloud) -> Clients {
    let endpoint = format!("http://{}", cloud.running.addr);
    let wire = Wire::default();
    let credentials = Credentials::new("AKIDEXAMPLE", "secret", None, None, "test");
    let cloudwatch = aws_sdk_cloudwatch::Client::from_conf(
        aws_sdk_cloudwatch::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url(&endpoint)
            .credentials_provider(credentials.clone())
            .interceptor(wire.clone())
            .build(),
    );
    let sns = aws_sdk_sns::Client::from_conf(
        aws_sdk_sns::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url(&endpoint)
            .credentials_provider(credentials.clone())
            .interceptor(wire.clone())
            .build(),
    );
    let events = aws_sdk_eventbridge::Client::from_conf(
        aws_sdk_eventbridge::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url(&endpoint)
            .credentials_provider(credentials)
            .interceptor(wire.clone())
            .build(),
    );
    Clients {
        cloudwatch,
        sns,
        events,
        wire,
        endpoint,
    }
}

async fn cloud() -> Cloud {
    Cloud::start(1, 5, |_| {}).await
}

/// The start of the minute ten minutes ago, in seconds: old enough that its minute is
/// complete, young enough for one-second retention (§2.3).
fn minute_ago() -> i64 {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs() as i64;
    now - now % 60 - 600
}

fn now_secs() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs_f64()
}

fn dimension(name: &str, value: &str) -> Dimension {
    Dimension::builder().name(name).value(value).build()
}

/// Polls `check` every 20 ms for up to 20 s of real time.
async fn eventually<F, Fut, T>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    for _ in 0..1_000 {
        if let Some(value) = check().await {
            return value;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("timed out waiting for {what}");
}

/// The envelopes SNS delivered to the local queue `arn`.
async fn queue(endpoint: &str, arn: &str) -> Vec<Value> {
    let text = reqwest::Client::new()
        // An ARN has no character a query string must escape.
        .get(format!("{endpoint}/spotlab/v1/queues?arn={arn}"))
        .send()
        .await
        .expect("queue")
        .text()
        .await
        .expect("queue body");
    // A line per message, as SQS would hold it: its Body is SNS's envelope.
    text.lines()
        .map(|line| {
            let message: Value = serde_json::from_str(line).expect("a JSON line");
            let envelope: Value =
                serde_json::from_str(message["Body"].as_str().expect("a body")).expect("JSON");
            assert_eq!(message["MessageId"], envelope["MessageId"], "{line}");
            envelope
        })
        .collect()
}

async fn queue_with(endpoint: &str, arn: &str, count: usize) -> Vec<Value> {
    eventually(&format!("{count} message(s) in {arn}"), || async {
        let messages = queue(endpoint, arn).await;
        (messages.len() >= count).then_some(messages)
    })
    .await
}

// ---- CloudWatch metrics -----------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_round_trip_through_cbor() {
    let cloud = cloud().await;
    let c = clients(&cloud);
    let cw = &c.cloudwatch;
    let t0 = minute_ago();
    let ns = "Sdk/Conformance";
    let api = dimension("Svc", "api");

    // One call with every value form (§2.1): a value, Values/Counts with a fractional
    // timestamp, a statistic set in the next minute, another dimension set, and a
    // high-resolution datum.
    let put = cw
        .put_metric_data()
        .namespace(ns)
        .metric_data(
            MetricDatum::builder()
                .metric_name("Latency")
                .dimensions(api.clone())
                .timestamp(DateTime::from_secs(t0 + 5))
                .value(12.5)
                .unit(StandardUnit::Milliseconds)
                .build(),
        )
        .metric_data(
            MetricDatum::builder()
                .metric_name("Latency")
                .dimensions(api.clone())
                .timestamp(DateTime::from_secs_f64(t0 as f64 + 10.5))
                .set_values(Some(vec![1.0, 2.0, 3.5]))
                .set_counts(Some(vec![3.0, 1.0, 2.0]))
                .unit(StandardUnit::Milliseconds)
                .build(),
        )
        .metric_data(
            MetricDatum::builder()
                .metric_name("Latency")
                .dimensions(api.clone())
                .timestamp(DateTime::from_secs(t0 + 70))
                .statistic_values(
                    StatisticSet::builder()
                        .sample_count(4.0)
                        .sum(40.0)
                        .minimum(5.0)
                        .maximum(15.0)
                        .build(),
                )
                .unit(StandardUnit::Milliseconds)
                .build(),
        )
        .metric_data(
            MetricDatum::builder()
                .metric_name("Latency")
                .dimensions(dimension("Svc", "web"))
                .timestamp(DateTime::from_secs(t0 + 5))
                .value(100.0)
                .unit(StandardUnit::Milliseconds)
                .build(),
        )
        .metric_data(
            MetricDatum::builder()
                .metric_name("Tick")
                .timestamp(DateTime::from_secs_f64(t0 as f64 + 1.25))
                .value(1.0)
                .storage_resolution(1)
                .build(),
        )
        .send()
        .await;
    c.wire.ok("PutMetricData", put);
    let sent = c.wire.last();
    assert!(
        sent.request_head
            .contains("/service/GraniteServiceVersion20100801/operation/PutMetricData"),
        "the Rust SDK speaks RPC v2 CBOR: {}",
        sent.request_head
    );
    assert_eq!(
        sent.request_encoding, None,
        "a small body is not compressed"
    );

    // Standard statistics per minute, timestamps at the buckets' starts (§2.2, §2.3).
    let stats = cw
        .get_metric_statistics()
        .namespace(ns)
        .metric_name("Latency")
        .dimensions(api.clone())
        .start_time(DateTime::from_secs(t0))
        .end_time(DateTime::from_secs(t0 + 120))
        .period(60)
        .statistics(Statistic::SampleCount)
        .statistics(Statistic::Sum)
        .statistics(Statistic::Average)
        .statistics(Statistic::Minimum)
        .statistics(Statistic::Maximum)
        .send()
        .await;
    let stats = c.wire.ok("GetMetricStatistics", stats);
    assert_eq!(stats.label(), Some("Latency"));
    let mut points: Vec<_> = stats.datapoints().to_vec();
    points.sort_by_key(|p| p.timestamp().map(|t| t.secs()));
    let seen: Vec<_> = points
        .iter()
        .map(|p| {
            (
                p.timestamp().map(|t| (t.secs(), t.subsec_nanos())),
                p.sample_count(),
                p.sum(),
                p.average(),
                p.minimum(),
                p.maximum(),
                p.unit().cloned(),
            )
        })
        .collect();
    let ms = Some(StandardUnit::Milliseconds);
    assert_eq!(
        seen,
        [
            // 12.5 once, then 1 x3, 2, 3.5 x2.
            (
                Some((t0, 0)),
                Some(7.0),
                Some(24.5),
                Some(3.5),
                Some(1.0),
                Some(12.5),
                ms.clone()
            ),
            // The statistic set.
            (
                Some((t0 + 60, 0)),
                Some(4.0),
                Some(40.0),
                Some(10.0),
                Some(5.0),
                Some(15.0),
                ms
            ),
        ]
    );

    // Extended statistics over the expanded values 1 1 1 2 3.5 3.5 12.5, nearest rank.
    let extended = cw
        .get_metric_statistics()
        .namespace(ns)
        .metric_name("Latency")
        .dimensions(api.clone())
        .start_time(DateTime::from_secs(t0))
        .end_time(DateTime::from_secs(t0 + 60))
        .period(60)
        .extended_statistics("p10")
        .extended_statistics("p50")
        .extended_statistics("p100")
        .send()
        .await;
    let extended = c.wire.ok("GetMetricStatistics (extended)", extended);
    let [point] = extended.datapoints() else {
        panic!("one minute: {:?}", extended.datapoints());
    };
    let percentiles = point.extended_statistics().expect("extended statistics");
    assert_eq!(percentiles.get("p10"), Some(&1.0));
    assert_eq!(percentiles.get("p50"), Some(&2.0));
    assert_eq!(percentiles.get("p100"), Some(&12.5));
    assert_eq!(
        point.timestamp().map(|t| t.secs()),
        Some(t0),
        "{}",
        c.wire.dump()
    );

    // High resolution: a one-second period sees the datum in its own second.
    let tick = cw
        .get_metric_statistics()
        .namespace(ns)
        .metric_name("Tick")
        .start_time(DateTime::from_secs(t0))
        .end_time(DateTime::from_secs(t0 + 5))
        .period(1)
        .statistics(Statistic::Sum)
        .send()
        .await;
    let tick = c.wire.ok("GetMetricStatistics (1 s)", tick);
    let ticks: Vec<_> = tick
        .datapoints()
        .iter()
        .map(|p| (p.timestamp().map(|t| t.secs()), p.sum()))
        .collect();
    assert_eq!(ticks, [(Some(t0 + 1), Some(1.0))]);

    // A body over 10,240 bytes is gzipped by the SDK (§1.6) and still counted exactly.
    let big: Vec<MetricDatum> = (0..500)
        .map(|i| {
            MetricDatum::builder()
                .metric_name("Big")
                .dimensions(dimension("Shard", &(i % 5).to_string()))
                .timestamp(DateTime::from_secs(t0 + 30))
                .value(f64::from(i))
                .build()
        })
        .collect();
    let put = cw
        .put_metric_data()
        .namespace(ns)
        .set_metric_data(Some(big))
        .send()
        .await;
    c.wire.ok("PutMetricData (500 datums)", put);
    assert_eq!(
        c.wire.last().request_encoding.as_deref(),
        Some("gzip"),
        "the SDK compresses PutMetricData bodies over 10 KiB"
    );
    let shard = cw
        .get_metric_statistics()
        .namespace(ns)
        .metric_name("Big")
        .dimensions(dimension("Shard", "3"))
        .start_time(DateTime::from_secs(t0))
        .end_time(DateTime::from_secs(t0 + 60))
        .period(60)
        .statistics(Statistic::Sum)
        .statistics(Statistic::SampleCount)
        .send()
        .await;
    let shard = c.wire.ok("GetMetricStatistics (Big)", shard);
    let sums: Vec<_> = shard
        .datapoints()
        .iter()
        .map(|p| (p.sample_count(), p.sum()))
        .collect();
    // i = 3, 8, ..., 498: 100 values summing to 100 x 3 + 5 x (0 + ... + 99).
    assert_eq!(sums, [(Some(100.0), Some(25_050.0))]);

    // ListMetrics: one metric per dimension set (§2.1), filtered by dimension.
    let listed = c
        .wire
        .ok("ListMetrics", cw.list_metrics().namespace(ns).send().await);
    let mut metrics: Vec<String> = listed
        .metrics()
        .iter()
        .map(|m| {
            let dims: Vec<String> = m
                .dimensions()
                .iter()
                .map(|d| {
                    format!(
                        "{}={}",
                        d.name().unwrap_or_default(),
                        d.value().unwrap_or_default()
                    )
                })
                .collect();
            format!(
                "{}[{}]",
                m.metric_name().unwrap_or_default(),
                dims.join(",")
            )
        })
        .collect();
    metrics.sort();
    assert_eq!(
        metrics,
        [
            "Big[Shard=0]",
            "Big[Shard=1]",
            "Big[Shard=2]",
            "Big[Shard=3]",
            "Big[Shard=4]",
            "Latency[Svc=api]",
            "Latency[Svc=web]",
            "Tick[]",
        ]
    );
    let filtered = c.wire.ok(
        "ListMetrics (filtered)",
        cw.list_metrics()
            .namespace(ns)
            .metric_name("Latency")
            .dimensions(DimensionFilter::builder().name("Svc").value("web").build())
            .send()
            .await,
    );
    assert_eq!(filtered.metrics().len(), 1);
    assert_eq!(filtered.metrics()[0].namespace(), Some(ns));

    cloud.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metric_math_error_rate() {
    let cloud = cloud().await;
    let c = clients(&cloud);
    let cw = &c.cloudwatch;
    let t0 = minute_ago();
    let ns = "Sdk/Rate";
    // As the walkthrough's script publishes them: 1 or 0 per request. Minute one has 1
    // error in 10 requests, minute two 4 in 10.
    for (minute, errors) in [(0, 1.0), (1, 4.0)] {
        let at = DateTime::from_secs(t0 + 60 * minute + 15);
        let put = cw
            .put_metric_data()
            .namespace(ns)
            .metric_data(
                MetricDatum::builder()
                    .metric_name("Error")
                    .timestamp(at)
                    .set_values(Some(vec![0.0, 1.0]))
                    .set_counts(Some(vec![10.0 - errors, errors]))
                    .build(),
            )
            .metric_data(
                MetricDatum::builder()
                    .metric_name("Success")
                    .timestamp(at)
                    .set_values(Some(vec![1.0, 0.0]))
                    .set_counts(Some(vec![10.0 - errors, errors]))
                    .build(),
            )
            .send()
            .await;
        c.wire.ok("PutMetricData", put);
    }
    let stat = |id: &str, name: &str, stat: &str, returned: bool| {
        MetricDataQuery::builder()
            .id(id)
            .metric_stat(
                MetricStat::builder()
                    .metric(Metric::builder().namespace(ns).metric_name(name).build())
                    .period(60)
                    .stat(stat)
                    .build(),
            )
            .return_data(returned)
            .build()
    };
    let data = cw
        .get_metric_data()
        .metric_data_queries(stat("e", "Error", "Sum", false))
        .metric_data_queries(stat("s", "Success", "Sum", false))
        .metric_data_queries(stat("avg", "Error", "Average", true))
        .metric_data_queries(
            MetricDataQuery::builder()
                .id("rate")
                .expression("e / (e + s)")
                .label("error rate")
                .build(),
        )
        .start_time(DateTime::from_secs(t0))
        .end_time(DateTime::from_secs(t0 + 120))
        .send()
        .await;
    let data = c.wire.ok("GetMetricData", data);
    let mut results: Vec<_> = data
        .metric_data_results()
        .iter()
        .map(|r| {
            (
                r.id().unwrap_or_default().to_owned(),
                r.timestamps().iter().map(|t| t.secs()).collect::<Vec<_>>(),
                r.values().to_vec(),
                r.status_code().cloned(),
            )
        })
        .collect();
    results.sort_by(|a, b| a.0.cmp(&b.0));
    // Only ReturnData queries come back, newest first (ScanBy's default).
    let expected_times = vec![t0 + 60, t0];
    assert_eq!(
        results,
        [
            (
                "avg".to_owned(),
                expected_times.clone(),
                vec![0.4, 0.1],
                Some(StatusCode::Complete)
            ),
            (
                "rate".to_owned(),
                expected_times,
                vec![0.4, 0.1],
                Some(StatusCode::Complete)
            ),
        ],
        "{}",
        c.wire.dump()
    );
    let rate = data
        .metric_data_results()
        .iter()
        .find(|r| r.id() == Some("rate"))
        .expect("rate");
    assert_eq!(rate.label(), Some("error rate"));

    // An expression naming an unknown id is refused with CloudWatch's typed error.
    let bad = cw
        .get_metric_data()
        .metric_data_queries(
            MetricDataQuery::builder()
                .id("rate")
                .expression("nope / 2")
                .build(),
        )
        .start_time(DateTime::from_secs(t0))
        .end_time(DateTime::from_secs(t0 + 120))
        .send()
        .await;
    // GetMetricData models no InvalidParameterValue: the SDK keeps the code.
    let error = c.wire.err("GetMetricData (bad expression)", bad);
    assert_eq!(error.code(), Some("InvalidParameterValue"), "{error:?}");
    cloud.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metric_errors_are_typed() {
    let cloud = cloud().await;
    let c = clients(&cloud);
    let cw = &c.cloudwatch;
    let t0 = minute_ago();

    // Two value forms in one datum (§2.1).
    let both = cw
        .put_metric_data()
        .namespace("Sdk/Errors")
        .metric_data(
            MetricDatum::builder()
                .metric_name("X")
                .value(1.0)
                .set_values(Some(vec![1.0]))
                .build(),
        )
        .send()
        .await;
    let error = c.wire.err("PutMetricData (Value and Values)", both);
    assert!(
        error.is_invalid_parameter_combination_exception(),
        "{error:?}\n{}",
        c.wire.dump()
    );
    assert_eq!(error.code(), Some("InvalidParameterCombination"));

    // NaN is refused (§2.1).
    let nan = cw
        .put_metric_data()
        .namespace("Sdk/Errors")
        .metric_data(
            MetricDatum::builder()
                .metric_name("X")
                .value(f64::NAN)
                .build(),
        )
        .send()
        .await;
    let error = c.wire.err("PutMetricData (NaN)", nan);
    assert!(
        error.is_invalid_parameter_value_exception(),
        "{error:?}\n{}",
        c.wire.dump()
    );
    assert_eq!(error.code(), Some("InvalidParameterValue"));

    // StartTime after EndTime; both kinds of statistics at once (§2.3).
    let backwards = cw
        .get_metric_statistics()
        .namespace("Sdk/Errors")
        .metric_name("X")
        .start_time(DateTime::from_secs(t0 + 60))
        .end_time(DateTime::from_secs(t0))
        .period(60)
        .statistics(Statistic::Sum)
        .send()
        .await;
    let error = c.wire.err("GetMetricStatistics (backwards)", backwards);
    assert!(error.is_invalid_parameter_value_exception(), "{error:?}");
    let both = cw
        .get_metric_statistics()
        .namespace("Sdk/Errors")
        .metric_name("X")
        .start_time(DateTime::from_secs(t0))
        .end_time(DateTime::from_secs(t0 + 60))
        .period(60)
        .statistics(Statistic::Sum)
        .extended_statistics("p99")
        .send()
        .await;
    let error = c.wire.err("GetMetricStatistics (both kinds)", both);
    assert!(
        error.is_invalid_parameter_combination_exception(),
        "{error:?}"
    );
    cloud.stop().await;
}

// ---- CloudWatch alarms ------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alarms_through_cbor() {
    let cloud = cloud().await;
    let c = clients(&cloud);
    let cw = &c.cloudwatch;
    let before = now_secs();

    // The alarm notifies a topic whose local queue we can read.
    let topic = c.wire.ok(
        "CreateTopic",
        c.sns.create_topic().name("alarms").send().await,
    );
    let topic = topic.topic_arn().expect("arn").to_owned();
    let queue_arn = "arn:aws:sqs:us-east-1:000000000000:alarm-queue";
    c.wire.ok(
        "Subscribe",
        c.sns
            .subscribe()
            .topic_arn(&topic)
            .protocol("sqs")
            .endpoint(queue_arn)
            .send()
            .await,
    );

    // The walkthrough's alarm (§3.2, worked seed alarm).
    let name = "ReInvent-EC2SpotTestDev-Alarm";
    let put = cw
        .put_metric_alarm()
        .alarm_name(name)
        .alarm_description("More than 10% errors over one minute")
        .namespace("ReInvent-EC2SpotTestDev-Metrics")
        .metric_name("Error")
        .statistic(Statistic::Average)
        .period(60)
        .evaluation_periods(1)
        .threshold(0.1)
        .comparison_operator(ComparisonOperator::GreaterThanOrEqualToThreshold)
        .treat_missing_data("ignore")
        .alarm_actions(&topic)
        .send()
        .await;
    c.wire.ok("PutMetricAlarm", put);
    // A percentile alarm and a metric-math alarm (§3.1).
    let put = cw
        .put_metric_alarm()
        .alarm_name("p99")
        .namespace("spotlab")
        .metric_name("Latency")
        .extended_statistic("p99")
        .dimensions(dimension("FleetId", "fleet-1"))
        .period(60)
        .evaluation_periods(3)
        .datapoints_to_alarm(2)
        .threshold(250.0)
        .comparison_operator(ComparisonOperator::GreaterThanThreshold)
        .unit(StandardUnit::Milliseconds)
        .send()
        .await;
    c.wire.ok("PutMetricAlarm (p99)", put);
    let stat = |id: &str, metric: &str| {
        MetricDataQuery::builder()
            .id(id)
            .metric_stat(
                MetricStat::builder()
                    .metric(
                        Metric::builder()
                            .namespace("spotlab")
                            .metric_name(metric)
                            .build(),
                    )
                    .period(60)
                    .stat("Sum")
                    .build(),
            )
            .return_data(false)
            .build()
    };
    let put = cw
        .put_metric_alarm()
        .alarm_name("error-rate")
        .metrics(stat("e", "Error"))
        .metrics(stat("s", "Success"))
        .metrics(
            MetricDataQuery::builder()
                .id("rate")
                .expression("e / (e + s)")
                .return_data(true)
                .build(),
        )
        .evaluation_periods(1)
        .threshold(0.1)
        .comparison_operator(ComparisonOperator::GreaterThanThreshold)
        .send()
        .await;
    c.wire.ok("PutMetricAlarm (math)", put);

    let described = c.wire.ok(
        "DescribeAlarms",
        cw.describe_alarms()
            .alarm_names(name)
            .alarm_names("p99")
            .alarm_names("error-rate")
            .send()
            .await,
    );
    let alarms = described.metric_alarms();
    assert_eq!(alarms.len(), 3, "{alarms:?}");
    let alarm = alarms
        .iter()
        .find(|a| a.alarm_name() == Some(name))
        .expect("the walkthrough's alarm");
    // A new alarm has insufficient data (§3.1); the configuration comes back as put.
    assert_eq!(alarm.state_value(), Some(&StateValue::InsufficientData));
    assert_eq!(
        alarm.state_reason(),
        Some("Unchecked: Initial alarm creation")
    );
    assert_eq!(
        alarm.alarm_arn(),
        Some(format!("arn:aws:cloudwatch:us-east-1:000000000000:alarm:{name}").as_str())
    );
    assert_eq!(alarm.threshold(), Some(0.1));
    assert_eq!(alarm.period(), Some(60));
    assert_eq!(alarm.evaluation_periods(), Some(1));
    assert_eq!(alarm.statistic(), Some(&Statistic::Average));
    assert_eq!(
        alarm.comparison_operator(),
        Some(&ComparisonOperator::GreaterThanOrEqualToThreshold)
    );
    assert_eq!(alarm.treat_missing_data(), Some("ignore"));
    assert_eq!(alarm.alarm_actions(), [topic.as_str()]);
    assert_eq!(alarm.actions_enabled(), Some(true));
    let updated = alarm
        .alarm_configuration_updated_timestamp()
        .expect("configuration timestamp")
        .as_secs_f64();
    assert!(
        (before - 60.0..now_secs() + 60.0).contains(&updated),
        "virtual time runs with the wall clock at scale 1: {updated} vs {before}"
    );
    let p99 = alarms
        .iter()
        .find(|a| a.alarm_name() == Some("p99"))
        .expect("p99");
    assert_eq!(p99.extended_statistic(), Some("p99"));
    assert_eq!(p99.statistic(), None);
    assert_eq!(p99.datapoints_to_alarm(), Some(2));
    assert_eq!(p99.unit(), Some(&StandardUnit::Milliseconds));
    assert_eq!(p99.dimensions(), [dimension("FleetId", "fleet-1")]);
    let math = alarms
        .iter()
        .find(|a| a.alarm_name() == Some("error-rate"))
        .expect("error-rate");
    let ids: Vec<_> = math.metrics().iter().filter_map(|m| m.id()).collect();
    assert_eq!(ids, ["e", "s", "rate"]);
    assert_eq!(math.metrics()[2].expression(), Some("e / (e + s)"));
    assert_eq!(math.metric_name(), None);

    // SetAlarmState changes the state now and runs the ALARM actions (§3.3).
    let set = cw
        .set_alarm_state()
        .alarm_name(name)
        .state_value(StateValue::Alarm)
        .state_reason("testing the topic")
        .state_reason_data(r#"{"a":1}"#)
        .send()
        .await;
    c.wire.ok("SetAlarmState", set);
    let after = c.wire.ok(
        "DescribeAlarms (ALARM)",
        cw.describe_alarms()
            .alarm_names(name)
            .state_value(StateValue::Alarm)
            .send()
            .await,
    );
    let [alarm] = after.metric_alarms() else {
        panic!("one alarm in ALARM: {:?}", after.metric_alarms());
    };
    assert_eq!(alarm.state_reason(), Some("testing the topic"));
    assert_eq!(alarm.state_reason_data(), Some(r#"{"a":1}"#));
    let messages = queue_with(&c.endpoint, queue_arn, 1).await;
    let envelope = &messages[0];
    assert_eq!(envelope["Type"], "Notification");
    assert_eq!(envelope["TopicArn"], topic.as_str());
    assert_eq!(
        envelope["Subject"],
        format!("ALARM: \"{name}\" in US East (N. Virginia)")
    );
    let message: Value =
        serde_json::from_str(envelope["Message"].as_str().expect("message")).expect("JSON");
    assert_eq!(message["AlarmName"], name);
    assert_eq!(message["NewStateValue"], "ALARM");
    assert_eq!(message["OldStateValue"], "INSUFFICIENT_DATA");
    assert_eq!(message["Trigger"]["Threshold"], 0.1);

    // History: created, then the state change (§3.3), with timestamps.
    let history = c.wire.ok(
        "DescribeAlarmHistory",
        cw.describe_alarm_history().alarm_name(name).send().await,
    );
    let mut kinds: Vec<_> = history
        .alarm_history_items()
        .iter()
        .map(|item| {
            (
                item.history_item_type().cloned(),
                item.history_summary().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    kinds.sort_by(|a, b| a.1.cmp(&b.1));
    assert!(
        kinds.contains(&(
            Some(HistoryItemType::ConfigurationUpdate),
            format!("Alarm \"{name}\" created")
        )),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&(
            Some(HistoryItemType::StateUpdate),
            "Alarm updated from INSUFFICIENT_DATA to ALARM".to_owned()
        )),
        "{kinds:?}"
    );
    for item in history.alarm_history_items() {
        let at = item.timestamp().expect("timestamp").as_secs_f64();
        assert!((before - 60.0..now_secs() + 60.0).contains(&at), "{item:?}");
    }

    // Typed errors: unknown alarm (ResourceNotFound, 404) and reason data that is not
    // JSON (InvalidFormat), mapped through x-amzn-query-error (§1.5).
    let missing = cw
        .set_alarm_state()
        .alarm_name("nope")
        .state_value(StateValue::Ok)
        .state_reason("x")
        .send()
        .await;
    let error = c.wire.err("SetAlarmState (unknown)", missing);
    assert!(
        error.is_resource_not_found(),
        "{error:?}\n{}",
        c.wire.dump()
    );
    assert_eq!(error.code(), Some("ResourceNotFound"));
    let bad = cw
        .set_alarm_state()
        .alarm_name(name)
        .state_value(StateValue::Ok)
        .state_reason("x")
        .state_reason_data("not json")
        .send()
        .await;
    let error = c.wire.err("SetAlarmState (bad data)", bad);
    assert!(
        error.is_invalid_format_fault(),
        "{error:?}\n{}",
        c.wire.dump()
    );
    let bad_period = cw
        .put_metric_alarm()
        .alarm_name("bad")
        .namespace("n")
        .metric_name("m")
        .statistic(Statistic::Sum)
        .period(45)
        .evaluation_periods(1)
        .threshold(1.0)
        .comparison_operator(ComparisonOperator::GreaterThanThreshold)
        .send()
        .await;
    // PutMetricAlarm models no InvalidParameterValue: the SDK keeps the code.
    let error = c.wire.err("PutMetricAlarm (period 45)", bad_period);
    assert_eq!(error.code(), Some("InvalidParameterValue"), "{error:?}");

    // DeleteAlarms: gone from DescribeAlarms, history kept; an unknown name refuses
    // the whole call.
    c.wire.ok(
        "DeleteAlarms",
        cw.delete_alarms()
            .alarm_names(name)
            .alarm_names("p99")
            .alarm_names("error-rate")
            .send()
            .await,
    );
    let left = c
        .wire
        .ok("DescribeAlarms (empty)", cw.describe_alarms().send().await);
    assert!(left.metric_alarms().is_empty(), "{left:?}");
    let again = cw.delete_alarms().alarm_names(name).send().await;
    let error = c.wire.err("DeleteAlarms (gone)", again);
    assert!(error.is_resource_not_found(), "{error:?}");
    let history = c.wire.ok(
        "DescribeAlarmHistory (after delete)",
        cw.describe_alarm_history().alarm_name(name).send().await,
    );
    assert!(history.alarm_history_items().len() >= 3);
    cloud.stop().await;
}

// ---- SNS --------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sns_through_the_query_protocol() {
    let cloud = cloud().await;
    let c = clients(&cloud);
    let sns = &c.sns;

    // CreateTopic is idempotent (§4.1).
    let arn = c
        .wire
        .ok(
            "CreateTopic",
            sns.create_topic().name("conformance").send().await,
        )
        .topic_arn()
        .expect("arn")
        .to_owned();
    assert_eq!(arn, "arn:aws:sns:us-east-1:000000000000:conformance");
    let again = c.wire.ok(
        "CreateTopic (again)",
        sns.create_topic().name("conformance").send().await,
    );
    assert_eq!(again.topic_arn(), Some(arn.as_str()));

    // A queue needs no confirmation; an http endpoint waits for one.
    let queue_arn = "arn:aws:sqs:us-east-1:000000000000:conformance-queue";
    let queued = c.wire.ok(
        "Subscribe (sqs)",
        sns.subscribe()
            .topic_arn(&arn)
            .protocol("sqs")
            .endpoint(queue_arn)
            .send()
            .await,
    );
    let queued = queued.subscription_arn().expect("arn").to_owned();
    assert!(queued.starts_with(&format!("{arn}:")), "{queued}");
    let pending = c.wire.ok(
        "Subscribe (http)",
        sns.subscribe()
            .topic_arn(&arn)
            .protocol("http")
            .endpoint("http://127.0.0.1:9/hook")
            .send()
            .await,
    );
    assert_eq!(pending.subscription_arn(), Some("pending confirmation"));
    let listed = c
        .wire
        .ok("ListSubscriptions", sns.list_subscriptions().send().await);
    let mut subscriptions: Vec<_> = listed
        .subscriptions()
        .iter()
        .map(|s| {
            (
                s.protocol().unwrap_or_default().to_owned(),
                s.endpoint().unwrap_or_default().to_owned(),
                s.subscription_arn().unwrap_or_default().to_owned(),
                s.topic_arn().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    subscriptions.sort();
    assert_eq!(
        subscriptions,
        [
            (
                "http".to_owned(),
                "http://127.0.0.1:9/hook".to_owned(),
                "PendingConfirmation".to_owned(),
                arn.clone()
            ),
            (
                "sqs".to_owned(),
                queue_arn.to_owned(),
                queued.clone(),
                arn.clone()
            ),
        ]
    );
    let by_topic = c.wire.ok(
        "ListSubscriptionsByTopic",
        sns.list_subscriptions_by_topic()
            .topic_arn(&arn)
            .send()
            .await,
    );
    assert_eq!(by_topic.subscriptions().len(), 2);
    let attributes = c.wire.ok(
        "GetTopicAttributes",
        sns.get_topic_attributes().topic_arn(&arn).send().await,
    );
    let attributes = attributes.attributes().expect("attributes");
    assert_eq!(
        attributes.get("SubscriptionsConfirmed").map(String::as_str),
        Some("1")
    );
    assert_eq!(
        attributes.get("SubscriptionsPending").map(String::as_str),
        Some("1")
    );
    assert_eq!(attributes.get("TopicArn"), Some(&arn));

    // Publish: a message id, and the queue gets SNS's envelope with the attributes.
    let published = c.wire.ok(
        "Publish",
        sns.publish()
            .topic_arn(&arn)
            .message("hello, queue")
            .subject("greeting")
            .message_attributes(
                "kind",
                aws_sdk_sns::types::MessageAttributeValue::builder()
                    .data_type("String")
                    .string_value("test")
                    .build()
                    .expect("attribute"),
            )
            .send()
            .await,
    );
    let id = published.message_id().expect("message id").to_owned();
    assert_eq!(id.len(), 36, "{id}");
    assert_eq!(id, id.to_lowercase());
    let messages = queue_with(&c.endpoint, queue_arn, 1).await;
    let envelope = &messages[0];
    assert_eq!(envelope["Type"], "Notification");
    assert_eq!(envelope["MessageId"], id.as_str());
    assert_eq!(envelope["Message"], "hello, queue");
    assert_eq!(envelope["Subject"], "greeting");
    assert_eq!(envelope["MessageAttributes"]["kind"]["Value"], "test");

    // Typed errors (§1.8: NotFound is 404 and NotFoundException).
    let missing = "arn:aws:sns:us-east-1:000000000000:missing";
    let error = c.wire.err(
        "Publish (unknown topic)",
        sns.publish().topic_arn(missing).message("x").send().await,
    );
    assert!(
        error.is_not_found_exception(),
        "{error:?}\n{}",
        c.wire.dump()
    );
    assert_eq!(error.code(), Some("NotFound"));
    let error = c.wire.err(
        "GetTopicAttributes (unknown topic)",
        sns.get_topic_attributes().topic_arn(missing).send().await,
    );
    assert!(error.is_not_found_exception(), "{error:?}");
    let error = c.wire.err(
        "Subscribe (bad protocol)",
        sns.subscribe()
            .topic_arn(&arn)
            .protocol("carrier-pigeon")
            .endpoint("x")
            .send()
            .await,
    );
    assert!(error.is_invalid_parameter_exception(), "{error:?}");

    // Unsubscribe and DeleteTopic.
    c.wire.ok(
        "Unsubscribe",
        sns.unsubscribe().subscription_arn(&queued).send().await,
    );
    c.wire.ok(
        "DeleteTopic",
        sns.delete_topic().topic_arn(&arn).send().await,
    );
    let topics = c.wire.ok("ListTopics", sns.list_topics().send().await);
    assert!(topics.topics().is_empty(), "{topics:?}");
    cloud.stop().await;
}

// ---- EventBridge ------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eventbridge_through_json_1_1() {
    let cloud = cloud().await;
    let c = clients(&cloud);
    let events = &c.events;

    let topic = c
        .wire
        .ok(
            "CreateTopic",
            c.sns
                .create_topic()
                .name("ReInvent-EC2SpotTestDev-SpotInterruptionTopic")
                .send()
                .await,
        )
        .topic_arn()
        .expect("arn")
        .to_owned();
    let queue_arn = "arn:aws:sqs:us-east-1:000000000000:interruptions";
    c.wire.ok(
        "Subscribe",
        c.sns
            .subscribe()
            .topic_arn(&topic)
            .protocol("sqs")
            .endpoint(queue_arn)
            .send()
            .await,
    );

    // The walkthrough's rule (§5.5).
    let pattern =
        r#"{"source":["aws.ec2"],"detail-type":["EC2 Spot Instance Interruption Warning"]}"#;
    let rule = "ReInvent-EC2SpotTestDev-SpotInterruptionRule";
    let put = c.wire.ok(
        "PutRule",
        events
            .put_rule()
            .name(rule)
            .event_pattern(pattern)
            .description("interruptions")
            .send()
            .await,
    );
    assert_eq!(
        put.rule_arn(),
        Some(format!("arn:aws:events:us-east-1:000000000000:rule/{rule}").as_str())
    );
    let described = c.wire.ok(
        "DescribeRule",
        events.describe_rule().name(rule).send().await,
    );
    let stored: Value =
        serde_json::from_str(described.event_pattern().expect("pattern")).expect("JSON");
    assert_eq!(
        stored,
        serde_json::from_str::<Value>(pattern).expect("JSON")
    );
    assert_eq!(
        described.state(),
        Some(&aws_sdk_eventbridge::types::RuleState::Enabled)
    );
    assert_eq!(described.description(), Some("interruptions"));
    let targets = c.wire.ok(
        "PutTargets",
        events
            .put_targets()
            .rule(rule)
            .targets(
                aws_sdk_eventbridge::types::Target::builder()
                    .id("ReInvent-EC2SpotTestDev-SpotInterruptionTopic")
                    .arn(&topic)
                    .build()
                    .expect("target"),
            )
            .send()
            .await,
    );
    assert_eq!(targets.failed_entry_count(), 0);
    let listed = c.wire.ok(
        "ListTargetsByRule",
        events.list_targets_by_rule().rule(rule).send().await,
    );
    let arns: Vec<_> = listed.targets().iter().map(|t| t.arn()).collect();
    assert_eq!(arns, [topic.as_str()]);
    let rules = c.wire.ok("ListRules", events.list_rules().send().await);
    let names: Vec<_> = rules.rules().iter().filter_map(|r| r.name()).collect();
    assert_eq!(names, [rule]);

    // PutEvents: the warning matches, the state change does not; the topic gets the
    // whole event (§5.4), its time as given.
    let at = DateTime::from_secs(1_767_225_600); // 2026-01-01T00:00:00Z
    let entry = |detail_type: &str, detail: &str| {
        aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
            .source("aws.ec2")
            .detail_type(detail_type)
            .detail(detail)
            .resources("arn:aws:ec2:us-east-1a:instance/i-0123456789abcdef0")
            .time(at)
            .build()
    };
    let put = c.wire.ok(
        "PutEvents",
        events
            .put_events()
            .entries(entry(
                "EC2 Spot Instance Interruption Warning",
                r#"{"instance-id":"i-0123456789abcdef0","instance-action":"terminate"}"#,
            ))
            .entries(entry(
                "EC2 Instance State-change Notification",
                r#"{"instance-id":"i-0123456789abcdef0","state":"running"}"#,
            ))
            .send()
            .await,
    );
    assert_eq!(put.failed_entry_count(), 0);
    assert_eq!(put.entries().len(), 2);
    assert!(put.entries().iter().all(|e| e.event_id().is_some()));
    let messages = queue_with(&c.endpoint, queue_arn, 1).await;
    for envelope in &messages {
        let event: Value =
            serde_json::from_str(envelope["Message"].as_str().expect("message")).expect("event");
        assert_eq!(
            event["detail-type"],
            "EC2 Spot Instance Interruption Warning"
        );
        assert_eq!(event["detail"]["instance-id"], "i-0123456789abcdef0");
        assert_eq!(event["time"], "2026-01-01T00:00:00Z");
        assert_eq!(event["source"], "aws.ec2");
        assert_eq!(
            event["id"].as_str(),
            put.entries()[0].event_id(),
            "the delivered event is the one PutEvents accepted"
        );
    }

    // TestEventPattern both ways.
    let event = |detail_type: &str| {
        serde_json::json!({
            "id": "1", "account": "000000000000", "source": "aws.ec2",
            "time": "2026-01-01T00:00:00Z", "region": "us-east-1", "resources": [],
            "detail-type": detail_type, "detail": {}
        })
        .to_string()
    };
    for (detail_type, expected) in [
        ("EC2 Spot Instance Interruption Warning", true),
        ("EC2 Instance Rebalance Recommendation", false),
    ] {
        let tested = c.wire.ok(
            "TestEventPattern",
            events
                .test_event_pattern()
                .event_pattern(pattern)
                .event(event(detail_type))
                .send()
                .await,
        );
        assert_eq!(tested.result(), expected, "{detail_type}");
    }

    // Typed errors.
    let error = c.wire.err(
        "PutTargets (unknown rule)",
        events
            .put_targets()
            .rule("nope")
            .targets(
                aws_sdk_eventbridge::types::Target::builder()
                    .id("t")
                    .arn(&topic)
                    .build()
                    .expect("target"),
            )
            .send()
            .await,
    );
    assert!(
        error.is_resource_not_found_exception(),
        "{error:?}\n{}",
        c.wire.dump()
    );
    let error = c.wire.err(
        "DescribeRule (unknown)",
        events.describe_rule().name("nope").send().await,
    );
    assert!(error.is_resource_not_found_exception(), "{error:?}");
    let error = c.wire.err(
        "PutRule (bad pattern)",
        events
            .put_rule()
            .name("bad")
            .event_pattern(r#"{"source":"aws.ec2"}"#)
            .send()
            .await,
    );
    assert!(error.is_invalid_event_pattern_exception(), "{error:?}");

    // RemoveTargets and DeleteRule.
    let removed = c.wire.ok(
        "RemoveTargets",
        events
            .remove_targets()
            .rule(rule)
            .ids("ReInvent-EC2SpotTestDev-SpotInterruptionTopic")
            .send()
            .await,
    );
    assert_eq!(removed.failed_entry_count(), 0);
    c.wire
        .ok("DeleteRule", events.delete_rule().name(rule).send().await);
    let rules = c
        .wire
        .ok("ListRules (empty)", events.list_rules().send().await);
    assert!(rules.rules().is_empty(), "{rules:?}");
    cloud.stop().await;
}

// ---- The region's bus ---------------------------------------------------------------------

/// `GET /spotlab/v1/events?QUERY`: the bus's JSON lines.
async fn bus(endpoint: &str, query: &str) -> Vec<Value> {
    reqwest::get(format!("{endpoint}/spotlab/v1/events?{query}"))
        .await
        .expect("events")
        .error_for_status()
        .expect("events answer 200")
        .text()
        .await
        .expect("events body")
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect()
}

/// The region's bus carries what PutEvents puts on the default bus (not what it puts
/// on another), and `wait=SECS` holds an answer that would be empty until the next
/// event, or SECS.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bus_shows_put_events_and_answers_long_polls() {
    let cloud = cloud().await;
    let c = clients(&cloud);
    let health: Value = reqwest::get(format!("{}/spotlab/v1/health", c.endpoint))
        .await
        .expect("health")
        .json()
        .await
        .expect("health JSON");
    let last = health["events"]
        .as_u64()
        .expect("the bus's last sequence number");

    let started = std::time::Instant::now();
    let nothing = bus(&c.endpoint, &format!("after={last}&wait=1")).await;
    assert!(nothing.is_empty(), "{nothing:?}");
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "a long poll with nothing new waits: {:?}",
        started.elapsed()
    );

    let started = std::time::Instant::now();
    let endpoint = c.endpoint.clone();
    let poll = tokio::spawn(async move { bus(&endpoint, &format!("after={last}&wait=60")).await });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let entry = |bus: &str, detail_type: &str| {
        aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
            .event_bus_name(bus)
            .source("com.example.orders")
            .detail_type(detail_type)
            .detail(r#"{"order":1}"#)
            .build()
    };
    let put = c.wire.ok(
        "PutEvents",
        c.events
            .put_events()
            .entries(entry("default", "Order Placed"))
            .entries(entry("elsewhere", "Order Elsewhere"))
            .send()
            .await,
    );
    assert_eq!(put.failed_entry_count(), 0);
    let lines = poll.await.expect("the long poll");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "a long poll ends with the first event"
    );
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["seq"], last + 1);
    assert_eq!(lines[0]["event"]["detail-type"], "Order Placed");
    assert_eq!(lines[0]["event"]["source"], "com.example.orders");
    assert_eq!(lines[0]["event"]["detail"]["order"], 1);
    assert_eq!(
        lines[0]["event"]["id"].as_str(),
        put.entries()[0].event_id()
    );
    assert_eq!(
        bus(&c.endpoint, &format!("after={last}")).await,
        lines,
        "the other bus's event is not on the region's bus"
    );
    cloud.stop().await;
}
