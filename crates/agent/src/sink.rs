//! Report sinks: JSON lines on stdout or in a file, the control plane's metrics API, and
//! CloudWatch's `PutMetricData`.
//!
//! One task owns every sink and takes reports from a bounded channel in order, each time
//! every report already waiting (up to a batch), so a slow receiver gets fewer, larger
//! posts instead of a growing queue. Files and stdout are written and flushed per take.
//! The HTTP sink keeps every report it has not yet delivered and posts them in batches,
//! retrying with backoff; the receiver de-duplicates by run id and sequence number, so a
//! retry after an ambiguous failure is safe. On close, delivery is retried until a
//! deadline, which also cuts a post in flight, and what could not be delivered is
//! reported (the checkpoint still holds the totals).
//!
//! The CloudWatch sink turns each report into datums (`crate::cloudwatch`) and puts them
//! in calls of whole reports within CloudWatch's limits, with the same backoff and close
//! deadline. `PutMetricData` has no de-duplication, so a call CloudWatch accepted is
//! never sent again; its known limit is the ambiguous failure (a timeout after the
//! request left, or the close deadline cutting a call in flight): the batch is then
//! retried and may be counted twice. A call CloudWatch rejects as invalid is dropped
//! and counted undelivered.

mod cloudwatch;

use std::collections::VecDeque;
use std::path::PathBuf;
use std::time::Duration;

use agent_wire::{REPORTS_PATH, Report};
use cloudwatch::{CloudWatch, PutError};
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio::time::Instant;
use url::Url;

/// Most reports per POST.
const BATCH: usize = 100;
/// Longest wait between HTTP retries.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Where reports go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SinkSpec {
    /// JSON lines on standard output.
    Stdout,
    /// JSON lines appended to a file.
    File(PathBuf),
    /// POSTed to the metrics API at this URL.
    Http(Url),
    /// Published with CloudWatch's `PutMetricData` in this namespace; region, endpoint
    /// and credentials from the standard AWS SDK chain.
    CloudWatch {
        /// The metrics' namespace.
        namespace: String,
    },
}

/// A sink setting that makes no sense.
#[derive(Debug, thiserror::Error)]
#[error(
    "report sink {0:?} is not -, stdout, a file path, file://PATH, http://HOST[:PORT][/PATH] \
     or cloudwatch[:NAMESPACE]"
)]
pub struct SinkSpecError(pub String);

impl SinkSpec {
    /// Parses one `--report` value.
    pub fn parse(text: &str) -> Result<SinkSpec, SinkSpecError> {
        let error = || SinkSpecError(text.to_owned());
        match text {
            "" => Err(error()),
            "-" | "stdout" => Ok(SinkSpec::Stdout),
            "cloudwatch" => Ok(SinkSpec::CloudWatch {
                namespace: crate::cloudwatch::DEFAULT_NAMESPACE.to_owned(),
            }),
            _ if text.starts_with("cloudwatch:") => {
                let namespace = &text["cloudwatch:".len()..];
                // CloudWatch's rules: 1 to 255 characters, not starting with `:`, and
                // `AWS/` is reserved for AWS's own metrics.
                let valid = (1..=255).contains(&namespace.len())
                    && !namespace.starts_with(':')
                    && !namespace.starts_with("AWS/")
                    && namespace.chars().all(|c| c.is_ascii_graphic() || c == ' ');
                if valid {
                    Ok(SinkSpec::CloudWatch {
                        namespace: namespace.to_owned(),
                    })
                } else {
                    Err(error())
                }
            }
            _ if text.starts_with("http://") || text.starts_with("https://") => {
                let mut url = Url::parse(text).map_err(|_| error())?;
                if url.path() == "/" || url.path().is_empty() {
                    url.set_path(REPORTS_PATH);
                }
                Ok(SinkSpec::Http(url))
            }
            _ if text.starts_with("file://") => {
                let url = Url::parse(text).map_err(|_| error())?;
                url.to_file_path().map(SinkSpec::File).map_err(|_| error())
            }
            _ if text.contains("://") => Err(error()),
            _ => Ok(SinkSpec::File(PathBuf::from(text))),
        }
    }

    /// Whether this sink writes to standard output.
    pub fn is_stdout(&self) -> bool {
        matches!(self, SinkSpec::Stdout)
    }
}

/// How delivery went, per sink.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Delivery {
    /// Per sink: (description, delivered, undelivered).
    pub sinks: Vec<(String, u64, u64)>,
}

enum Sink {
    Lines {
        name: String,
        out: Box<dyn AsyncWrite + Send + Unpin>,
        delivered: u64,
        failed: u64,
    },
    Http {
        url: Url,
        client: reqwest::Client,
        pending: VecDeque<Report>,
        delivered: u64,
        retry_at: Option<Instant>,
        backoff: Duration,
    },
    CloudWatch {
        cloudwatch: CloudWatch,
        /// Per report not yet delivered, in order: its datums.
        pending: VecDeque<Vec<crate::cloudwatch::Datum>>,
        delivered: u64,
        /// Reports in calls CloudWatch refused as invalid.
        rejected: u64,
        retry_at: Option<Instant>,
        backoff: Duration,
    },
}

async fn open(spec: &SinkSpec) -> anyhow::Result<Sink> {
    use anyhow::Context as _;
    Ok(match spec {
        SinkSpec::Stdout => Sink::Lines {
            name: "stdout".into(),
            out: Box::new(tokio::io::stdout()),
            delivered: 0,
            failed: 0,
        },
        SinkSpec::File(path) => {
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                tokio::fs::create_dir_all(parent)
                    .await
                    .with_context(|| format!("creating {}", parent.display()))?;
            }
            let file = tokio::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .await
                .with_context(|| format!("opening report file {}", path.display()))?;
            Sink::Lines {
                name: path.display().to_string(),
                out: Box::new(file),
                delivered: 0,
                failed: 0,
            }
        }
        SinkSpec::Http(url) => Sink::Http {
            url: url.clone(),
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .no_proxy()
                .build()
                .context("building the HTTP client")?,
            pending: VecDeque::new(),
            delivered: 0,
            retry_at: None,
            backoff: Duration::from_millis(100),
        },
        SinkSpec::CloudWatch { namespace } => Sink::CloudWatch {
            cloudwatch: cloudwatch::connect(namespace).await?,
            pending: VecDeque::new(),
            delivered: 0,
            rejected: 0,
            retry_at: None,
            backoff: Duration::from_millis(100),
        },
    })
}

impl Sink {
    /// Takes reports in order; `lines` holds their JSON lines.
    async fn take(&mut self, reports: &[Report], lines: &[u8]) {
        match self {
            Sink::Lines {
                name,
                out,
                delivered,
                failed,
            } => {
                let written = async {
                    out.write_all(lines).await?;
                    out.flush().await
                }
                .await;
                match written {
                    Ok(()) => *delivered += reports.len() as u64,
                    Err(error) => {
                        *failed += reports.len() as u64;
                        tracing::warn!(sink = %name, %error, "reports not written");
                    }
                }
            }
            Sink::Http { pending, .. } => {
                pending.extend(reports.iter().cloned());
                self.post(false).await;
            }
            Sink::CloudWatch { pending, .. } => {
                pending.extend(reports.iter().map(crate::cloudwatch::datums));
                self.post(false).await;
            }
        }
    }

    /// Delivers pending reports, batch by batch, unless backing off (or `force`).
    async fn post(&mut self, force: bool) {
        match self {
            Sink::Lines { .. } => {}
            Sink::Http { .. } => self.post_http(force).await,
            Sink::CloudWatch { .. } => self.put_cloudwatch(force).await,
        }
    }

    /// Puts pending reports' datums, a call of whole reports at a time, unless backing
    /// off (or `force`). A call is only repeated when it failed.
    async fn put_cloudwatch(&mut self, force: bool) {
        let Sink::CloudWatch {
            cloudwatch,
            pending,
            delivered,
            rejected,
            retry_at,
            backoff,
        } = self
        else {
            return;
        };
        if !force && retry_at.is_some_and(|at| Instant::now() < at) {
            return;
        }
        while !pending.is_empty() {
            let taken = crate::cloudwatch::next_batch(pending.iter().map(Vec::as_slice));
            let datums: Vec<&crate::cloudwatch::Datum> =
                pending.iter().take(taken).flatten().collect();
            // A second with nothing completed has no datum: nothing to call for.
            let result = if datums.is_empty() {
                Ok(())
            } else {
                cloudwatch.put(&datums).await
            };
            match result {
                Ok(()) => {
                    pending.drain(..taken);
                    *delivered += taken as u64;
                    *retry_at = None;
                    *backoff = Duration::from_millis(100);
                }
                Err(PutError::Rejected(why)) => {
                    tracing::error!(namespace = %cloudwatch.namespace, %why, reports = taken, "CloudWatch refused reports; dropped");
                    pending.drain(..taken);
                    *rejected += taken as u64;
                }
                Err(PutError::Retry(why)) => {
                    tracing::debug!(namespace = %cloudwatch.namespace, %why, pending = pending.len(), "CloudWatch delivery failed; will retry");
                    *retry_at = Some(Instant::now() + *backoff);
                    *backoff = (*backoff * 2).min(MAX_BACKOFF);
                    return;
                }
            }
        }
    }

    /// Posts pending reports, batch by batch, unless backing off (or `force`).
    async fn post_http(&mut self, force: bool) {
        let Sink::Http {
            url,
            client,
            pending,
            delivered,
            retry_at,
            backoff,
        } = self
        else {
            return;
        };
        if !force && retry_at.is_some_and(|at| Instant::now() < at) {
            return;
        }
        while !pending.is_empty() {
            let batch: Vec<&Report> = pending.iter().take(BATCH).collect();
            let result = client.post(url.clone()).json(&batch).send().await;
            match result {
                Ok(response) if response.status().is_success() => {
                    let sent = batch.len();
                    pending.drain(..sent);
                    *delivered += sent as u64;
                    *retry_at = None;
                    *backoff = Duration::from_millis(100);
                }
                outcome => {
                    let why = match outcome {
                        Ok(response) => format!("HTTP {}", response.status()),
                        Err(error) => error.to_string(),
                    };
                    tracing::debug!(%url, %why, pending = pending.len(), "report delivery failed; will retry");
                    *retry_at = Some(Instant::now() + *backoff);
                    *backoff = (*backoff * 2).min(MAX_BACKOFF);
                    return;
                }
            }
        }
    }

    fn delivery(&self) -> (String, u64, u64) {
        match self {
            Sink::Lines {
                name,
                delivered,
                failed,
                ..
            } => (name.clone(), *delivered, *failed),
            Sink::Http {
                url,
                pending,
                delivered,
                ..
            } => (url.to_string(), *delivered, pending.len() as u64),
            Sink::CloudWatch {
                cloudwatch,
                pending,
                delivered,
                rejected,
                ..
            } => (
                format!("cloudwatch:{}", cloudwatch.namespace),
                *delivered,
                pending.len() as u64 + *rejected,
            ),
        }
    }

    /// Reports kept to retry.
    fn waiting(&self) -> usize {
        match self {
            Sink::Lines { .. } => 0,
            Sink::Http { pending, .. } => pending.len(),
            Sink::CloudWatch { pending, .. } => pending.len(),
        }
    }
}

/// Opens every sink; fails if a file cannot be opened.
pub async fn spawn(
    specs: &[SinkSpec],
    close_deadline: tokio::sync::watch::Receiver<Option<Instant>>,
) -> anyhow::Result<(mpsc::Sender<Report>, tokio::task::JoinHandle<Delivery>)> {
    let mut sinks = Vec::with_capacity(specs.len());
    for spec in specs {
        sinks.push(open(spec).await?);
    }
    let (sender, receiver) = mpsc::channel(1024);
    let task = tokio::spawn(run(sinks, receiver, close_deadline));
    Ok((sender, task))
}

async fn run(
    mut sinks: Vec<Sink>,
    mut reports: mpsc::Receiver<Report>,
    close_deadline: tokio::sync::watch::Receiver<Option<Instant>>,
) -> Delivery {
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            report = reports.recv() => {
                let Some(first) = report else { break };
                let mut batch = vec![first];
                while batch.len() < BATCH {
                    match reports.try_recv() {
                        Ok(report) => batch.push(report),
                        Err(_) => break,
                    }
                }
                let mut lines = Vec::new();
                batch.retain(|report| match serde_json::to_vec(report) {
                    Ok(line) => {
                        lines.extend_from_slice(&line);
                        lines.push(b'\n');
                        true
                    }
                    Err(error) => {
                        tracing::error!(%error, "report does not serialise");
                        false
                    }
                });
                for sink in &mut sinks {
                    sink.take(&batch, &lines).await;
                }
            }
            _ = tick.tick() => {
                for sink in &mut sinks {
                    sink.post(false).await;
                }
            }
        }
    }
    // Closing: keep retrying what is pending until the deadline.
    let deadline = (*close_deadline.borrow()).unwrap_or_else(|| Instant::now() + MAX_BACKOFF);
    for sink in &mut sinks {
        loop {
            if tokio::time::timeout_at(deadline, sink.post(true))
                .await
                .is_err()
            {
                break;
            }
            if sink.waiting() == 0 || Instant::now() >= deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100).min(deadline - Instant::now())).await;
        }
    }
    Delivery {
        sinks: sinks.iter().map(Sink::delivery).collect(),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use agent_wire::{Counts, Latency, Source};
    use simtime::SimTime;

    use super::*;

    /// A loopback CloudWatch that answers its calls in turn with `answers` (status,
    /// `x-amzn-query-error`), then 200; returns its URL and the number of calls so far.
    async fn fake_cloudwatch(answers: Vec<(u16, &'static str)>) -> (String, Arc<AtomicUsize>) {
        use http_body_util::{BodyExt as _, Full};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free loopback port");
        let url = format!(
            "http://{}",
            listener.local_addr().expect("a free loopback port")
        );
        let calls = Arc::new(AtomicUsize::new(0));
        let seen = calls.clone();
        let answers = Arc::new(answers);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (seen, answers) = (seen.clone(), answers.clone());
                let service = hyper::service::service_fn(
                    move |request: hyper::Request<hyper::body::Incoming>| {
                        let (seen, answers) = (seen.clone(), answers.clone());
                        async move {
                            assert!(request.uri().path().ends_with("/operation/PutMetricData"));
                            let _ = request.into_body().collect().await;
                            let call = seen.fetch_add(1, Ordering::SeqCst);
                            let (status, code) = answers.get(call).copied().unwrap_or((200, ""));
                            let mut response = hyper::Response::builder()
                                .status(status)
                                .header("smithy-protocol", "rpc-v2-cbor");
                            let mut body = Vec::new();
                            if !code.is_empty() {
                                response = response
                                    .header("content-type", "application/cbor")
                                    .header("x-amzn-query-error", format!("{code};Sender"));
                                // {"__type": code}, in CBOR.
                                body.extend([0xa1, 0x66]);
                                body.extend(b"__type");
                                body.push(0x60 + code.len() as u8);
                                body.extend(code.as_bytes());
                            }
                            response.body(Full::new(bytes::Bytes::from(body)))
                        }
                    },
                );
                tokio::spawn(
                    hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service),
                );
            }
        });
        (url, calls)
    }

    fn report(seq: u64) -> Report {
        let mut latency = Latency::new();
        latency.record_micros(1_500);
        Report {
            source: Source {
                instance_id: Some("i-1".into()),
                fleet_id: None,
                instance_type: None,
                availability_zone: None,
                run_id: "run".into(),
            },
            seq,
            start: SimTime::from_millis(1_700_000_000_000 + seq * 1_000),
            end: SimTime::from_millis(1_700_000_001_000 + seq * 1_000),
            counts: Counts {
                sent: 1,
                success: 1,
                ..Counts::default()
            },
            latency_scheduled: latency.clone(),
            latency_actual: latency,
            last: false,
        }
    }

    /// Sends three reports to a CloudWatch sink at `url`, closes it and returns what it
    /// says it delivered.
    async fn deliver_three(url: &str) -> (u64, u64) {
        let loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .endpoint_url(url)
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_cloudwatch::config::Credentials::new(
                "test", "test", None, None, "test",
            ));
        let sink = Sink::CloudWatch {
            cloudwatch: cloudwatch::connect_with(loader, "spotlab")
                .await
                .expect("a client for the fake CloudWatch"),
            pending: VecDeque::new(),
            delivered: 0,
            rejected: 0,
            retry_at: None,
            backoff: Duration::from_millis(100),
        };
        let (sender, receiver) = mpsc::channel(8);
        for seq in 0..3 {
            sender
                .send(report(seq))
                .await
                .expect("the sink is listening");
        }
        drop(sender);
        let (_deadline, deadline) = tokio::sync::watch::channel(None);
        let delivery = run(vec![sink], receiver, deadline).await;
        let (_, delivered, undelivered) = delivery.sinks[0].clone();
        (delivered, undelivered)
    }

    #[tokio::test]
    async fn cloudwatch_retries_a_failed_call_and_never_resends_an_accepted_one() {
        let (url, calls) = fake_cloudwatch(vec![(500, "InternalServiceError")]).await;
        assert_eq!(deliver_three(&url).await, (3, 0));
        // The three reports went in one call, failed, then once more, accepted.
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn cloudwatch_drops_a_call_it_rejects_as_invalid() {
        let (url, calls) = fake_cloudwatch(vec![(400, "InvalidParameterValue")]).await;
        assert_eq!(deliver_three(&url).await, (0, 3));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn parses_sinks() {
        assert_eq!(
            SinkSpec::parse("-").expect("a valid test input"),
            SinkSpec::Stdout
        );
        assert_eq!(
            SinkSpec::parse("reports.jsonl").expect("a valid test input"),
            SinkSpec::File("reports.jsonl".into())
        );
        assert_eq!(
            SinkSpec::parse("file:///tmp/r.jsonl").expect("a valid test input"),
            SinkSpec::File("/tmp/r.jsonl".into())
        );
        let SinkSpec::Http(url) =
            SinkSpec::parse("http://127.0.0.1:4566").expect("a valid test input")
        else {
            panic!("not http");
        };
        assert_eq!(url.as_str(), "http://127.0.0.1:4566/spotlab/v1/reports");
        let SinkSpec::Http(url) =
            SinkSpec::parse("http://127.0.0.1:4566/custom").expect("a valid test input")
        else {
            panic!("not http");
        };
        assert_eq!(url.path(), "/custom");
        assert_eq!(
            SinkSpec::parse("cloudwatch").expect("it parses"),
            SinkSpec::CloudWatch {
                namespace: "spotlab".into()
            }
        );
        assert_eq!(
            SinkSpec::parse("cloudwatch:Load Test/1").expect("it parses"),
            SinkSpec::CloudWatch {
                namespace: "Load Test/1".into()
            }
        );
        assert!(SinkSpec::parse("cloudwatch:").is_err());
        assert!(SinkSpec::parse("cloudwatch::x").is_err());
        assert!(SinkSpec::parse("cloudwatch:AWS/EC2").is_err());
        assert_eq!(
            SinkSpec::parse("./cloudwatch").expect("it parses"),
            SinkSpec::File("./cloudwatch".into())
        );
        assert!(SinkSpec::parse("ftp://x").is_err());
        assert!(SinkSpec::parse("").is_err());
    }
}
