//! `spotlab target` and `spotlab agent` end to end: the real binaries on loopback, with
//! a time scale so that a virtual minute takes a few real seconds. A fake instance
//! metadata service and a fake metrics API, both on loopback, stand in for the cloud.

#![allow(clippy::unwrap_used)] // A panic in a test helper is a failed test with a message.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use agent_wire::{Checkpoint, Counts, IngestResponse, Latency, Ledger, Report, StopReason};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::http::request::Parts;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::Value;

/// A `spotlab target` child process, killed on drop.
struct TargetProcess {
    child: Child,
    url: String,
}

impl Drop for TargetProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_target(args: &[&str]) -> TargetProcess {
    let mut child = Command::new(env!("CARGO_BIN_EXE_spotlab"))
        .arg("target")
        .args(["--listen", "127.0.0.1:0", "--threads", "1"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting spotlab target");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("starting spotlab target"))
        .read_line(&mut line)
        .expect("starting spotlab target");
    let url = line
        .trim()
        .strip_prefix("spotlab target listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    TargetProcess { child, url }
}

fn agent(args: &[&str], env: &[(&str, String)], dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_spotlab"));
    command
        .arg("agent")
        .args(args)
        .current_dir(dir)
        .env_remove("SPOTLAB_TIME_ORIGIN")
        .env_remove("AWS_EC2_METADATA_SERVICE_ENDPOINT")
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())));
    command
}

fn read_reports(path: &Path) -> Vec<Report> {
    std::fs::read_to_string(path)
        .expect("reading the agent report file")
        .lines()
        .map(|line| serde_json::from_str(line).expect("reading the agent report file"))
        .collect()
}

fn sum(reports: &[Report]) -> (Counts, Latency) {
    let mut counts = Counts::default();
    let mut latency = Latency::new();
    for report in reports {
        counts.merge(&report.counts);
        latency.merge(&report.latency_scheduled);
    }
    (counts, latency)
}

fn assert_success(output: &Output) {
    assert!(
        output.status.success(),
        "agent failed: {}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Every report in order, no gaps, one last report, and every send accounted for.
fn assert_complete_run(reports: &[Report]) {
    let mut ledger = Ledger::new();
    for report in reports {
        ledger.accept(report);
    }
    let run = &reports[0].source.run_id;
    assert!(ledger.complete(run), "gaps: {:?}", ledger.gaps(run));
    assert_eq!(reports.iter().filter(|r| r.last).count(), 1);
    let (totals, _) = sum(reports);
    assert_eq!(
        totals.sent,
        totals.completed(),
        "a request is unaccounted for"
    );
}

/// At time scale 10: exact counts need the callers to keep their schedule, which a
/// machine busy with other builds can upset at higher scales.
fn run_against_target(callers: &str, dir: &Path) -> Vec<Report> {
    let target = start_target(&["--rate", "5", "--burst", "5", "--time-scale", "10"]);
    let reports = dir.join(format!("reports-{callers}.jsonl"));
    let output = agent(
        &[
            "--url",
            &target.url,
            "--callers",
            callers,
            "--duration",
            "60s",
            "--imds",
            "off",
            "--time-scale",
            "10",
            "--report",
            reports
                .to_str()
                .expect("running the agent against the target"),
        ],
        &[],
        dir,
    )
    .output()
    .expect("running the agent against the target");
    assert_success(&output);
    let reports = read_reports(&reports);
    assert_complete_run(&reports);
    reports
}

#[test]
fn four_callers_stay_under_a_five_per_second_limit() {
    let dir = tempfile::tempdir().unwrap();
    let reports = run_against_target("4", dir.path());
    let (totals, latency) = sum(&reports);
    assert_eq!(totals.errors(), 0, "{totals:?}");
    // 4 callers x 1/s for 60 virtual seconds.
    assert!((236..=244).contains(&totals.sent), "{totals:?}");
    assert_eq!(latency.count(), totals.completed());
    assert_eq!(totals.skipped, 0);
}

#[test]
fn eight_callers_settle_at_three_eighths_errors() {
    let dir = tempfile::tempdir().unwrap();
    let reports = run_against_target("8", dir.path());
    // Leave out the first seconds, where the burst allowance is still being spent.
    let (settled, _) = sum(&reports[5..]);
    let share = settled.throttled as f64 / settled.completed() as f64;
    assert!(
        (share - 3.0 / 8.0).abs() <= 0.02,
        "throttled share {share:.3} of {settled:?}"
    );
    assert_eq!(settled.errors(), settled.throttled, "only 429s expected");
}

/// A fake metadata service: IMDSv2 tokens, identity, and an interruption notice that
/// appears at a given virtual time.
#[derive(Clone)]
struct FakeImds {
    /// Real Unix ms and virtual Unix ms at which the two clocks agreed.
    origin: (u64, u64),
    scale: u64,
    /// Virtual ms at which the notice appears, and the action time.
    notice_at: u64,
    action_at: u64,
}

impl FakeImds {
    fn virtual_now(&self) -> u64 {
        let real = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("wall clock after the Unix epoch")
            .as_millis() as u64;
        self.origin.1 + (real - self.origin.0) * self.scale
    }

    fn answer(&self, request: &Parts) -> Response<Full<Bytes>> {
        let path = request.uri.path();
        let text = |status: u16, body: String| {
            Response::builder()
                .status(status)
                .header("content-type", "text/plain")
                .body(Full::new(Bytes::from(body)))
                .expect("building a fake IMDS response")
        };
        if path == "/latest/api/token" {
            if request.method != hyper::Method::PUT {
                return text(405, String::new());
            }
            let mut response = text(200, "token-1".into());
            response.headers_mut().insert(
                "x-aws-ec2-metadata-token-ttl-seconds",
                "21600".parse().expect("building a fake IMDS response"),
            );
            return response;
        }
        if request
            .headers
            .get("x-aws-ec2-metadata-token")
            .is_none_or(|t| t != "token-1")
        {
            return text(401, String::new());
        }
        let iso = |ms: u64| simtime::SimTime::from_millis(ms).to_iso_seconds();
        match path.strip_prefix("/latest/meta-data/").unwrap_or("") {
            "instance-id" => text(200, "i-0fa4e000000000001".into()),
            "instance-type" => text(200, "c5.large".into()),
            "placement/availability-zone" => text(200, "us-east-1a".into()),
            "instance-life-cycle" => text(200, "spot".into()),
            "spot/instance-action" if self.virtual_now() >= self.notice_at => text(
                200,
                format!(
                    r#"{{"action":"terminate","time":"{}"}}"#,
                    iso(self.action_at)
                ),
            ),
            _ => text(404, "<html>Not Found</html>".into()),
        }
    }
}

/// Serves `handler` on a loopback port from a background thread's runtime.
fn serve<H>(handler: H) -> SocketAddr
where
    H: Fn(&Parts, Bytes) -> Response<Full<Bytes>> + Send + Sync + 'static,
{
    let handler = Arc::new(handler);
    let listener =
        std::net::TcpListener::bind("127.0.0.1:0").expect("serving a fake loopback endpoint");
    listener
        .set_nonblocking(true)
        .expect("serving a fake loopback endpoint");
    let addr = listener
        .local_addr()
        .expect("serving a fake loopback endpoint");
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("serving a fake loopback endpoint");
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener)
                .expect("serving a fake loopback endpoint");
            loop {
                let (stream, _) = listener
                    .accept()
                    .await
                    .expect("serving a fake loopback endpoint");
                let handler = handler.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request: Request<Incoming>| {
                        let handler = handler.clone();
                        async move {
                            let (parts, body) = request.into_parts();
                            let body = body
                                .collect()
                                .await
                                .map(|b| b.to_bytes())
                                .unwrap_or_default();
                            Ok::<_, Infallible>(handler(&parts, body))
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
    });
    addr
}

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("wall clock after the Unix epoch")
        .as_millis() as u64
}

fn read_checkpoint(dir: &Path) -> Checkpoint {
    let mut found = Vec::new();
    for holder in std::fs::read_dir(dir).expect("reading the checkpoint directory") {
        for file in std::fs::read_dir(holder.expect("reading the checkpoint directory").path())
            .expect("reading the checkpoint directory")
        {
            found.push(file.expect("reading the checkpoint directory").path());
        }
    }
    assert_eq!(found.len(), 1, "expected one checkpoint: {found:?}");
    serde_json::from_slice(&std::fs::read(&found[0]).expect("reading the checkpoint directory"))
        .expect("reading the checkpoint directory")
}

fn assert_checkpoint_is_the_sum(checkpoint: &Checkpoint, reports: &[Report]) {
    let (counts, latency) = sum(reports);
    assert_eq!(checkpoint.totals, counts);
    assert_eq!(checkpoint.latency_scheduled, latency);
    assert_eq!(checkpoint.reports, reports.len() as u64);
}

#[test]
fn an_interruption_notice_drains_checkpoints_and_exits_before_the_action() {
    let dir = tempfile::tempdir().unwrap();
    let target = start_target(&["--rate", "100000", "--time-scale", "30"]);
    let scale = 30;
    let virtual_start = 1_767_225_600_000; // 2026-01-01T00:00:00Z
    let origin = (unix_ms(), virtual_start);
    // The notice appears 20 virtual seconds in; EC2 acts two minutes later.
    let notice_at = virtual_start + 20_000;
    let action_at = notice_at + 120_000;
    let imds = FakeImds {
        origin,
        scale,
        notice_at,
        action_at,
    };
    let imds_addr = serve(move |parts, _| imds.answer(parts));
    let reports = dir.path().join("reports.jsonl");
    let checkpoints = dir.path().join("checkpoints");
    let action_real = Instant::now() + Duration::from_millis((action_at - virtual_start) / scale);
    let output = agent(
        &[
            "--url",
            &target.url,
            "--report",
            reports.to_str().unwrap(),
            "--checkpoint",
            &format!("file://{}/", checkpoints.display()),
            "--summary-json",
        ],
        &[
            ("SPOTLAB_TIME_SCALE", scale.to_string()),
            ("SPOTLAB_TIME_ORIGIN", format!("{}:{}", origin.0, origin.1)),
            (
                "AWS_EC2_METADATA_SERVICE_ENDPOINT",
                format!("http://{imds_addr}/"),
            ),
        ],
        dir.path(),
    )
    .output()
    .unwrap();
    let exited = Instant::now();
    assert_success(&output);
    assert!(exited < action_real, "the agent outlived its instance");

    let reports = read_reports(&reports);
    assert_complete_run(&reports);
    let source = &reports[0].source;
    assert_eq!(source.instance_id.as_deref(), Some("i-0fa4e000000000001"));
    assert_eq!(source.instance_type.as_deref(), Some("c5.large"));

    let checkpoint = read_checkpoint(&checkpoints);
    assert_checkpoint_is_the_sum(&checkpoint, &reports);
    assert_eq!(
        checkpoint.reason,
        StopReason::SpotInterruption {
            action: "terminate".into(),
            time: simtime::SimTime::from_millis(action_at),
        }
    );
    // c5.large has 2 vCPUs: one caller each, by default.
    assert_eq!(checkpoint.callers, 2);
    assert!(checkpoint.written.as_millis() < action_at);
    // Testing went on after the notice, until the drain deadline 20 s before the action.
    let last_send = checkpoint.last_send.unwrap().as_millis();
    assert!(
        last_send > notice_at + 60_000,
        "stopped too early: {last_send}"
    );
    assert!(
        last_send < action_at - 20_000 + 1_000,
        "sent past the drain deadline"
    );
    assert!(checkpoint.totals.sent > 200, "{:?}", checkpoint.totals);
    assert_eq!(checkpoint.totals.errors(), 0);

    let summary: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        summary["checkpoint"]["totals"]["sent"],
        checkpoint.totals.sent
    );
}

#[test]
fn sigterm_drains_fast_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let target = start_target(&[
        "--rate",
        "100000",
        "--latency",
        "300ms",
        "--time-scale",
        "10",
    ]);
    let reports = dir.path().join("reports.jsonl");
    let checkpoints = dir.path().join("checkpoints");
    let child = agent(
        &[
            "--url",
            &target.url,
            "--callers",
            "20",
            "--rate",
            "2",
            "--imds",
            "off",
            "--time-scale",
            "10",
            "--report",
            reports.to_str().unwrap(),
            "--checkpoint",
            &format!("file://{}/", checkpoints.display()),
        ],
        &[],
        dir.path(),
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let signalled = Instant::now();
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let output = child.wait_with_output().unwrap();
    assert_success(&output);
    // The in-flight bound after a signal is 2 virtual seconds (0.2 s here).
    assert!(signalled.elapsed() < Duration::from_secs(5));

    let reports = read_reports(&reports);
    assert_complete_run(&reports);
    let checkpoint = read_checkpoint(&checkpoints);
    assert_checkpoint_is_the_sum(&checkpoint, &reports);
    assert_eq!(
        checkpoint.reason,
        StopReason::Signal {
            signal: "SIGTERM".into()
        }
    );
    // Requests were in flight (300 ms of latency) when the signal came; every one
    // completed during the drain.
    assert!(checkpoint.totals.success > 0);
    assert_eq!(checkpoint.totals.timeout, 0, "{:?}", checkpoint.totals);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("stopped: SIGTERM"), "{text}");
}

#[test]
fn reports_reach_the_metrics_api_through_failures_without_gaps_or_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let target = start_target(&["--rate", "100000", "--time-scale", "10"]);
    // The metrics API fails its first three calls, then stores every batch it gets.
    let received: Arc<Mutex<(u32, Vec<Report>)>> = Arc::new(Mutex::new((0, Vec::new())));
    let store = received.clone();
    let api = serve(move |parts, body| {
        assert_eq!(parts.uri.path(), agent_wire::REPORTS_PATH);
        let mut store = store.lock().unwrap();
        store.0 += 1;
        if store.0 <= 3 {
            return Response::builder()
                .status(503)
                .body(Full::new(Bytes::new()))
                .unwrap();
        }
        let batch: Vec<Report> = serde_json::from_slice(&body).unwrap();
        let accepted = batch.len() as u64;
        store.1.extend(batch);
        let answer = IngestResponse {
            accepted,
            duplicates: 0,
        };
        Response::new(Full::new(Bytes::from(serde_json::to_vec(&answer).unwrap())))
    });
    let output = agent(
        &[
            "--url",
            &target.url,
            "--callers",
            "3",
            "--duration",
            "20s",
            "--imds",
            "off",
            "--time-scale",
            "10",
            "--report",
            &format!("http://{api}"),
            "--checkpoint",
            &format!("file://{}/", dir.path().join("checkpoints").display()),
        ],
        &[],
        dir.path(),
    )
    .output()
    .unwrap();
    assert_success(&output);
    let received = received.lock().unwrap().1.clone();
    let mut in_order: VecDeque<u64> = received.iter().map(|r| r.seq).collect();
    in_order.make_contiguous().sort_unstable();
    assert_eq!(
        in_order.iter().copied().collect::<Vec<_>>(),
        (0..received.len() as u64).collect::<Vec<_>>(),
        "every report exactly once"
    );
    assert_complete_run(&received);
    let checkpoint = read_checkpoint(&dir.path().join("checkpoints"));
    assert_checkpoint_is_the_sum(&checkpoint, &received);
    assert_eq!(checkpoint.totals.sent, 60);
    assert_eq!(checkpoint.reason, StopReason::Finished);
}

#[test]
fn checkpoints_go_to_s3_through_object_store() {
    let dir = tempfile::tempdir().unwrap();
    let target = start_target(&["--rate", "100000", "--time-scale", "20"]);
    // A fake S3 that stores each PUT: path-style `/bucket/key`, answered with an ETag.
    let puts: Arc<Mutex<Vec<(String, Bytes)>>> = Arc::default();
    let store = puts.clone();
    let s3 = serve(move |parts, body| {
        assert_eq!(parts.method, hyper::Method::PUT);
        assert!(
            parts.headers.contains_key("authorization"),
            "unsigned request"
        );
        store
            .lock()
            .unwrap()
            .push((parts.uri.path().to_owned(), body));
        Response::builder()
            .header("etag", "\"0123\"")
            .body(Full::new(Bytes::new()))
            .unwrap()
    });
    let output = agent(
        &[
            "--url",
            &target.url,
            "--callers",
            "2",
            "--duration",
            "3s",
            "--imds",
            "off",
            "--time-scale",
            "20",
            "--instance-id",
            "i-0abc",
            "--checkpoint",
            "s3://checkpoints/runs/",
        ],
        &[
            ("AWS_ENDPOINT_URL", format!("http://{s3}")),
            ("AWS_ACCESS_KEY_ID", "test".into()),
            ("AWS_SECRET_ACCESS_KEY", "test".into()),
            ("AWS_REGION", "us-east-1".into()),
        ],
        dir.path(),
    )
    .output()
    .unwrap();
    assert_success(&output);
    let puts = puts.lock().unwrap();
    assert_eq!(puts.len(), 1);
    let (path, body) = &puts[0];
    assert!(path.starts_with("/checkpoints/runs/i-0abc/"), "{path}");
    let checkpoint: Checkpoint = serde_json::from_slice(body).unwrap();
    assert_eq!(checkpoint.totals.sent, 6);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("s3://checkpoints/runs/i-0abc/"), "{text}");
}

/// Open model: a service that takes 3 virtual seconds to answer does not slow the
/// senders down, and one slower than the timeout gets every request counted as a timeout.
#[test]
fn a_slow_service_never_delays_sends() {
    let dir = tempfile::tempdir().unwrap();
    let target = start_target(&["--rate", "100000", "--latency", "3s", "--time-scale", "20"]);
    for (timeout, expect_timeouts) in [("5s", false), ("1s", true)] {
        let checkpoints = dir.path().join(format!("checkpoints-{timeout}"));
        let output = agent(
            &[
                "--url",
                &target.url,
                "--callers",
                "2",
                "--rate",
                "2",
                "--duration",
                "10s",
                "--timeout",
                timeout,
                // Lateness here is timer jitter of a loaded test machine, not the point.
                "--late-after",
                "400ms",
                "--imds",
                "off",
                "--time-scale",
                "20",
                "--checkpoint",
                &format!("file://{}/", checkpoints.display()),
            ],
            &[],
            dir.path(),
        )
        .output()
        .unwrap();
        assert_success(&output);
        let checkpoint = read_checkpoint(&checkpoints);
        let totals = checkpoint.totals;
        assert_eq!(totals.sent, 40, "{totals:?}");
        assert_eq!((totals.late, totals.skipped), (0, 0), "{totals:?}");
        if expect_timeouts {
            assert_eq!(totals.timeout, 40, "{totals:?}");
        } else {
            assert_eq!(totals.success, 40, "{totals:?}");
            let p50 = checkpoint.latency_scheduled.quantile_micros(0.5);
            assert!(p50 >= 3_000_000, "p50 {p50} us");
        }
    }
}

#[test]
fn a_metadata_service_slow_to_answer_at_boot_is_tried_again() {
    let dir = tempfile::tempdir().expect("tempdir");
    let target = start_target(&["--rate", "100000", "--time-scale", "30"]);
    let imds = FakeImds {
        origin: (unix_ms(), 1_767_225_600_000),
        scale: 30,
        notice_at: u64::MAX,
        action_at: u64::MAX,
    };
    // The first three requests fail as a busy host's would: 503.
    let refused = Arc::new(Mutex::new(0u32));
    let counter = refused.clone();
    let imds_addr = serve(move |parts, _| {
        let mut failed = counter.lock().expect("counter");
        if *failed < 3 {
            *failed += 1;
            return Response::builder()
                .status(503)
                .body(Full::new(Bytes::new()))
                .expect("a 503");
        }
        imds.answer(parts)
    });
    let reports = dir.path().join("reports.jsonl");
    let output = agent(
        &[
            "--url",
            &target.url,
            "--duration",
            "5s",
            "--report",
            reports.to_str().expect("path"),
        ],
        &[
            ("SPOTLAB_TIME_SCALE", "30".to_owned()),
            (
                "AWS_EC2_METADATA_SERVICE_ENDPOINT",
                format!("http://{imds_addr}/"),
            ),
        ],
        dir.path(),
    )
    .output()
    .expect("agent runs");
    assert_success(&output);
    assert_eq!(*refused.lock().expect("counter"), 3);
    let reports = read_reports(&reports);
    assert_eq!(
        reports[0].source.instance_id.as_deref(),
        Some("i-0fa4e000000000001"),
        "the identity was read once the service answered"
    );
}
