//! The CloudWatch sink's edge: an SDK client from the standard chain and one
//! `PutMetricData` call per batch. What goes in a call is decided in `crate::cloudwatch`;
//! retrying is the sink's, so the SDK's own retries are off (one owner of the backoff,
//! and no hidden resend of a call CloudWatch may have accepted).

use std::time::Duration;

use aws_sdk_cloudwatch::Client;
use aws_sdk_cloudwatch::error::{DisplayErrorContext, ProvideErrorMetadata as _};
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, MetricDatum, StandardUnit};

use crate::cloudwatch::{Datum, Unit};

/// Longest a call may take; like the HTTP sink's timeout.
const CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// CloudWatch error codes that say the request itself is wrong: resending it cannot help.
const REJECTIONS: [&str; 6] = [
    "InvalidParameterValue",
    "InvalidParameterValueException",
    "InvalidParameterCombination",
    "InvalidParameterCombinationException",
    "MissingParameter",
    "MissingRequiredParameterException",
];

/// A namespace in one region, as the standard SDK chain finds it (`AWS_REGION`,
/// `AWS_ENDPOINT_URL`, credentials).
pub(super) struct CloudWatch {
    /// The client.
    client: Client,
    /// Where the metrics go.
    pub(super) namespace: String,
}

/// Why a call did not deliver its batch.
pub(super) enum PutError {
    /// Perhaps transient (network, throttling, server error, timeout): try again later.
    /// Whether CloudWatch stored the batch is unknown when the call timed out after
    /// sending.
    Retry(String),
    /// CloudWatch refused the request as invalid: drop it.
    Rejected(String),
}

/// Loads the SDK configuration from the standard chain; fails when no region can be
/// found.
pub(super) async fn connect(namespace: &str) -> anyhow::Result<CloudWatch> {
    connect_with(
        aws_config::defaults(aws_config::BehaviorVersion::latest()),
        namespace,
    )
    .await
}

/// [`connect`] with a given loader (tests set the endpoint and credentials on it).
pub(super) async fn connect_with(
    loader: aws_config::ConfigLoader,
    namespace: &str,
) -> anyhow::Result<CloudWatch> {
    let config = loader
        .retry_config(aws_config::retry::RetryConfig::disabled())
        .timeout_config(
            aws_config::timeout::TimeoutConfig::builder()
                .operation_timeout(CALL_TIMEOUT)
                .build(),
        )
        .load()
        .await;
    if config.region().is_none() {
        anyhow::bail!(
            "the CloudWatch report sink needs a region: set AWS_REGION (or a profile's region)"
        );
    }
    Ok(CloudWatch {
        client: Client::new(&config),
        namespace: namespace.to_owned(),
    })
}

impl CloudWatch {
    /// One `PutMetricData` call with `datums` (already within the call's limits).
    pub(super) async fn put(&self, datums: &[&Datum]) -> Result<(), PutError> {
        let data = datums.iter().map(|datum| metric_datum(datum)).collect();
        let result = self
            .client
            .put_metric_data()
            .namespace(&self.namespace)
            .set_metric_data(Some(data))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(error) => {
                let text = DisplayErrorContext(&error).to_string();
                if error.code().is_some_and(|code| REJECTIONS.contains(&code)) {
                    Err(PutError::Rejected(text))
                } else {
                    Err(PutError::Retry(text))
                }
            }
        }
    }
}

fn metric_datum(datum: &Datum) -> MetricDatum {
    let millis = i64::try_from(datum.timestamp.as_millis()).unwrap_or(i64::MAX);
    let dimensions = datum.dimension.as_ref().map(|(name, value)| {
        vec![
            Dimension::builder()
                .name(*name)
                .value(value.as_str())
                .build(),
        ]
    });
    MetricDatum::builder()
        .metric_name(datum.metric)
        .set_dimensions(dimensions)
        .timestamp(DateTime::from_millis(millis))
        .set_values(Some(datum.values.clone()))
        .set_counts(Some(datum.counts.clone()))
        .unit(match datum.unit {
            Unit::Count => StandardUnit::Count,
            Unit::Milliseconds => StandardUnit::Milliseconds,
        })
        .storage_resolution(1)
        .build()
}
