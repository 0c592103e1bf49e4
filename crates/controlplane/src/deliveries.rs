//! The delivery worker: performs the SNS deliveries the region says are due, and
//! reports each attempt's outcome back as a journaled command, so retries follow the
//! delivery policy and nothing is lost across a restart (an attempt not reported before
//! a crash is simply made again: SNS's at-least-once delivery).
//!
//! By protocol (the core has built every byte; this only moves them):
//! - `http`: POST the body with the attempt's headers, 15 s timeout; 2xx delivered, 4xx a
//!   permanent failure, anything else retried. `https` the same over TLS (rustls),
//!   trusting the system's certificate authorities and those given to `spotlab up
//!   --trust-ca`.
//! - `file`: the body and a newline appended to the file.
//! - `sqs`: the message appended to the local queue of that ARN, a JSON-lines file under
//!   the state directory's `queues/` (read back with `GET /spotlab/v1/queues?arn=`).
//! - `command`: `sh -c ENDPOINT` with the body on standard input; exit status 0 is
//!   delivered, anything else retried.
//! - `log`, `email`, `email-json`, `lambda`: a line in spotlab's log (no mail is sent,
//!   no function runs), which counts as delivered.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;

use monitoring::sns::{Attempt, DeliveryId, Outcome, Protocol};
use region::Command;
use serde_json::json;
use tokio::io::AsyncWriteExt as _;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::shared::Shared;

/// How long an HTTP endpoint may take to answer, as SNS allows.
const HTTP_TIMEOUT: Duration = Duration::from_secs(15);
/// How long a `command` subscriber may run.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

/// Where the local queue of an `sqs` subscription's ARN is kept.
pub fn queue_path(state_dir: &Path, arn: &str) -> PathBuf {
    let name: String = arn
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    state_dir.join("queues").join(format!("{name}.jsonl"))
}

/// The client of `http` and `https` deliveries, trusting the system's certificate
/// authorities and those in `trusted_cas` (PEM files, each one or more certificates).
pub fn client(trusted_cas: &[PathBuf]) -> anyhow::Result<reqwest::Client> {
    let mut extra = Vec::new();
    for path in trusted_cas {
        let pem = std::fs::read(path)
            .with_context(|| format!("reading the certificate authority {}", path.display()))?;
        let certificates = reqwest::Certificate::from_pem_bundle(&pem)
            .with_context(|| format!("{} is not a PEM certificate (bundle)", path.display()))?;
        anyhow::ensure!(
            !certificates.is_empty(),
            "{} holds no PEM certificate",
            path.display()
        );
        extra.extend(certificates);
    }
    reqwest::Client::builder()
        .timeout(HTTP_TIMEOUT)
        .no_proxy()
        .user_agent("Amazon Simple Notification Service Agent")
        .tls_certs_merge(extra)
        .build()
        .context("building the SNS delivery client")
}

/// Runs until `stop`: takes due attempts, performs them concurrently, reports outcomes.
pub async fn run(shared: Arc<Shared>, client: reqwest::Client, stop: CancellationToken) {
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<(DeliveryId, u32, Outcome)>();
    let mut in_flight: BTreeSet<(DeliveryId, u32)> = BTreeSet::new();
    loop {
        let (attempts, next) =
            shared.with_region(|region| (region.take_due_deliveries(), region.next_delivery_due()));
        for attempt in attempts {
            if !in_flight.insert((attempt.delivery, attempt.attempt)) {
                continue;
            }
            let client = client.clone();
            let done = done_tx.clone();
            let state_dir = shared.state_dir.clone();
            tokio::spawn(async move {
                let (outcome, detail) = perform(&client, &state_dir, &attempt).await;
                tracing::debug!(
                    delivery = %attempt.delivery,
                    attempt = attempt.attempt,
                    protocol = attempt.protocol.as_str(),
                    endpoint = %attempt.endpoint,
                    ?outcome,
                    detail = %detail,
                    "SNS delivery attempt"
                );
                let _ = done.send((attempt.delivery, attempt.attempt, outcome));
            });
        }
        let sleep = async {
            match next {
                Some(t) => tokio::time::sleep_until(shared.clock.instant_at(t)).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = sleep => {}
            () = shared.deliveries.notified() => {}
            Some((delivery, attempt, outcome)) = done_rx.recv() => {
                in_flight.remove(&(delivery, attempt));
                if let Err(error) = shared
                    .apply(Command::Delivery { delivery, attempt, outcome })
                    .await
                {
                    tracing::warn!(%delivery, %error, "could not record a delivery's outcome; it will be attempted again");
                }
            }
            () = stop.cancelled() => break,
        }
    }
}

/// Performs one attempt: its outcome, and a word on what happened for the log.
async fn perform(
    client: &reqwest::Client,
    state_dir: &Path,
    attempt: &Attempt,
) -> (Outcome, String) {
    let retry = |detail: String| (Outcome::Failed { retryable: true }, detail);
    match attempt.protocol {
        Protocol::Http | Protocol::Https => {
            let mut request = client.post(&attempt.endpoint).body(attempt.body.clone());
            for (name, value) in &attempt.headers {
                request = request.header(name.as_str(), value.as_str());
            }
            match request.send().await {
                Ok(answer) => {
                    let status = answer.status();
                    let detail = format!("HTTP {}", status.as_u16());
                    if status.is_success() {
                        (Outcome::Delivered, detail)
                    } else if status.is_client_error() {
                        (Outcome::Failed { retryable: false }, detail)
                    } else {
                        retry(detail)
                    }
                }
                Err(error) => retry(error.to_string()),
            }
        }
        Protocol::File => match append_line(Path::new(&attempt.endpoint), &attempt.body).await {
            Ok(()) => (Outcome::Delivered, "appended".to_owned()),
            Err(error) => retry(error.to_string()),
        },
        Protocol::Sqs => {
            let line = json!({
                "MessageId": attempt.message_id,
                "TopicArn": attempt.topic_arn,
                "Body": attempt.body,
                "MessageAttributes": if attempt.raw {
                    serde_json::to_value(&attempt.message_attributes).unwrap_or_default()
                } else {
                    json!({})
                },
            })
            .to_string();
            match append_line(&queue_path(state_dir, &attempt.endpoint), &line).await {
                Ok(()) => (Outcome::Delivered, "enqueued".to_owned()),
                Err(error) => retry(error.to_string()),
            }
        }
        Protocol::Command => run_command(&attempt.endpoint, &attempt.body).await,
        Protocol::Log | Protocol::Email | Protocol::EmailJson | Protocol::Lambda => {
            tracing::info!(
                topic = %attempt.topic_arn,
                protocol = attempt.protocol.as_str(),
                endpoint = %attempt.endpoint,
                subject = attempt.subject.as_deref().unwrap_or(""),
                message = %attempt.body,
                "SNS message"
            );
            (Outcome::Delivered, "logged".to_owned())
        }
    }
}

async fn append_line(path: &Path, line: &str) -> std::io::Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        tokio::fs::create_dir_all(parent).await?;
    }
    let mut file = tokio::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .await?;
    let mut bytes = Vec::with_capacity(line.len() + 1);
    bytes.extend_from_slice(line.as_bytes());
    bytes.push(b'\n');
    file.write_all(&bytes).await?;
    file.sync_data().await
}

async fn run_command(command: &str, input: &str) -> (Outcome, String) {
    let retry = |detail: String| (Outcome::Failed { retryable: true }, detail);
    let child = tokio::process::Command::new("/bin/sh")
        .arg("-c")
        .arg(command)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(error) => return retry(error.to_string()),
    };
    if let Some(mut stdin) = child.stdin.take() {
        // A command that does not read its input still gets to exit as it likes.
        let _ = stdin.write_all(input.as_bytes()).await;
    }
    match tokio::time::timeout(COMMAND_TIMEOUT, child.wait()).await {
        Ok(Ok(status)) if status.success() => (Outcome::Delivered, "exit 0".to_owned()),
        Ok(Ok(status)) => retry(format!("exited with {status}")),
        Ok(Err(error)) => retry(error.to_string()),
        Err(_) => retry("timed out".to_owned()),
    }
}
