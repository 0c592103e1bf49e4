//! The official SDK clients the commands that speak AWS's APIs use (`stack`, `alarms`,
//! `topics`), built from aws-config with an endpoint override, and AWS errors turned
//! into messages that name the error code. Nothing here knows what a command does.

use aws_config::BehaviorVersion;
use aws_config::environment::EnvironmentVariableCredentialsProvider;
use aws_config::profile::ProfileFileCredentialsProvider;
use aws_sdk_ec2::config::http::HttpResponse;
use aws_sdk_ec2::config::{Credentials, Region, SharedCredentialsProvider};
use aws_sdk_ec2::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

use crate::cli::AwsArgs;

/// The region when neither the command line nor the standard chain names one (and the
/// local cloud's only region).
pub const DEFAULT_REGION: &str = "us-east-1";

/// One client per service, sharing one configuration.
#[derive(Clone, Debug)]
pub struct Clients {
    /// EC2: network, security group, launch template, fleets.
    pub ec2: aws_sdk_ec2::Client,
    /// CloudWatch: alarms.
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    /// SNS: topics and subscriptions.
    pub sns: aws_sdk_sns::Client,
    /// EventBridge: rules and targets.
    pub events: aws_sdk_eventbridge::Client,
    /// IAM: the instances' role and instance profile.
    pub iam: aws_sdk_iam::Client,
    /// S3: the checkpoint bucket.
    pub s3: aws_sdk_s3::Client,
    /// SQS: the queues a run on AWS counts notifications with.
    pub sqs: aws_sdk_sqs::Client,
    /// Fault Injection Service: a run's `interrupt` steps.
    pub fis: aws_sdk_fis::Client,
}

impl Clients {
    /// Clients for `endpoint`. Credentials come from the environment when it has some
    /// (`AWS_ACCESS_KEY_ID`..., or a profile named by `AWS_PROFILE`); otherwise they
    /// are the local cloud's dummy ones. The instance metadata service is never asked,
    /// neither for credentials nor for the region.
    pub async fn new(endpoint: &AwsArgs) -> Clients {
        if endpoint.aws {
            return Clients::aws(endpoint.region.as_deref(), None).await;
        }
        Clients::at(
            endpoint.endpoint.as_str(),
            endpoint.region.as_deref().unwrap_or(DEFAULT_REGION),
        )
        .await
    }

    /// Clients for AWS itself: region and credentials from the standard chain
    /// (environment, `profile`, shared files; never the instance metadata service's
    /// region unless the chain finds nothing else), endpoints only where the
    /// environment says (`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_<SERVICE>`).
    pub async fn aws(region: Option<&str>, profile: Option<&str>) -> Clients {
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        if let Some(profile) = profile {
            loader = loader.profile_name(profile);
        }
        if let Some(region) = region {
            loader = loader.region(Region::new(region.to_owned()));
        }
        let mut config = loader.load().await;
        // Nothing in the chain names a region: AWS's first, as the local cloud's.
        if config.region().is_none() {
            config = config
                .to_builder()
                .region(Region::new(DEFAULT_REGION))
                .build();
        }
        Clients::from_config(&config)
    }

    /// One client per service from `config`. AWS's service-specific endpoint variables
    /// (`AWS_ENDPOINT_URL_<SERVICE>`) win over the one endpoint, as in the AWS CLI: e.g.
    /// CloudWatch through a bridge and the rest on moto, whose CloudWatch does not speak
    /// aws-sdk-rust's RPC v2 CBOR. An endpoint such as the local cloud's or moto's
    /// serves every bucket under its own path: it has no `BUCKET.host` names.
    fn from_config(config: &aws_config::SdkConfig) -> Clients {
        let endpoint = |service: &str| {
            std::env::var(format!("AWS_ENDPOINT_URL_{service}"))
                .ok()
                .filter(|u| !u.is_empty())
                .map(|u| u.trim_end_matches('/').to_owned())
                .or_else(|| config.endpoint_url().map(str::to_owned))
        };
        macro_rules! client {
            ($sdk:ident, $service:literal) => {{
                let mut builder = $sdk::config::Builder::from(config);
                builder.set_endpoint_url(endpoint($service));
                $sdk::Client::from_conf(builder.build())
            }};
        }
        let s3_endpoint = endpoint("S3");
        Clients {
            ec2: client!(aws_sdk_ec2, "EC2"),
            cloudwatch: client!(aws_sdk_cloudwatch, "CLOUDWATCH"),
            sns: client!(aws_sdk_sns, "SNS"),
            events: client!(aws_sdk_eventbridge, "EVENTBRIDGE"),
            iam: client!(aws_sdk_iam, "IAM"),
            sqs: client!(aws_sdk_sqs, "SQS"),
            fis: client!(aws_sdk_fis, "FIS"),
            s3: {
                let mut builder = aws_sdk_s3::config::Builder::from(config)
                    .force_path_style(s3_endpoint.is_some());
                builder.set_endpoint_url(s3_endpoint);
                aws_sdk_s3::Client::from_conf(builder.build())
            },
        }
    }

    /// Clients for the endpoint at `url` in `region` (credentials as [`Clients::new`]).
    pub async fn at(url: &str, region: &str) -> Clients {
        let credentials = if std::env::var_os("AWS_ACCESS_KEY_ID").is_some() {
            SharedCredentialsProvider::new(EnvironmentVariableCredentialsProvider::new())
        } else if std::env::var_os("AWS_PROFILE").is_some() {
            SharedCredentialsProvider::new(ProfileFileCredentialsProvider::builder().build())
        } else {
            SharedCredentialsProvider::new(Credentials::new(
                "spotlab",
                "spotlab",
                None,
                None,
                "spotlab-local-cloud",
            ))
        };
        let config = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(region.to_owned()))
            .endpoint_url(url.trim_end_matches('/'))
            .credentials_provider(credentials)
            .load()
            .await;
        Clients::from_config(&config)
    }
}

/// `Code: message` for a service's error; for an answer without a code, its HTTP status
/// and what the SDK made of it; else the whole error chain (connection refused...).
pub fn describe<E>(error: &SdkError<E, HttpResponse>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match (error.code(), error.message(), error.raw_response()) {
        (Some(code), Some(message), _) if !message.is_empty() => format!("{code}: {message}"),
        (Some(code), _, _) => code.to_owned(),
        (None, _, Some(answer)) => {
            let body = answer
                .body()
                .bytes()
                .map(String::from_utf8_lossy)
                .unwrap_or_default();
            let body: String = body.chars().take(200).collect();
            format!(
                "HTTP {} without an AWS error code (body: {body:?})",
                answer.status().as_u16()
            )
        }
        (None, _, None) => DisplayErrorContext(error).to_string(),
    }
}

/// Adds what was being done to an SDK call's error.
pub trait Context<T> {
    /// `what: Code: message`.
    fn doing(self, what: impl FnOnce() -> String) -> anyhow::Result<T>;
}

impl<T, E> Context<T> for Result<T, SdkError<E, HttpResponse>>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    fn doing(self, what: impl FnOnce() -> String) -> anyhow::Result<T> {
        self.map_err(|error| anyhow::anyhow!("{}: {}", what(), describe(&error)))
    }
}

/// A member an answer must carry (an id, an ARN), or an error naming the call and the
/// member, rather than an empty string that fails later and elsewhere.
pub fn required<'a>(value: Option<&'a str>, call: &str, member: &str) -> anyhow::Result<&'a str> {
    value
        .filter(|v| !v.is_empty())
        .ok_or_else(|| anyhow::anyhow!("{call} answered without a {member}"))
}

/// A paginated call's next token: `None` when absent or empty (services differ).
pub fn next_token(token: Option<&str>) -> Option<String> {
    token.filter(|t| !t.is_empty()).map(str::to_owned)
}
