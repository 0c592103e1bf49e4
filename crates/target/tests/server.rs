//! The server over real loopback sockets: bodies and statuses, Retry-After, /health,
//! /metrics, keep-alive, the time scale, and graceful shutdown.
#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use clock::{Clock, TimeScale};
use target::{Decision, ErrorRatio, Latency, Limiter, Quota, Target, TargetConfig};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Generous bound on anything that should happen promptly; reaching it is a hang, not
/// slowness.
const HANG: Duration = Duration::from_secs(30);

/// A server running in this test's runtime.
struct Server {
    address: SocketAddr,
    target: Arc<Target>,
    stop: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
}

impl Server {
    async fn start(config: TargetConfig, scale: u32) -> Server {
        Server::start_with_drain(config, scale, target::server::DRAIN_TIMEOUT).await
    }

    async fn start_with_drain(config: TargetConfig, scale: u32, drain: Duration) -> Server {
        let clock = Clock::new(
            TimeScale::new(scale).expect("starting the test server"),
            None,
        );
        let target = Arc::new(Target::new(config, clock).expect("starting the test server"));
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("starting the test server");
        let address = listener.local_addr().expect("starting the test server");
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(target::serve_with_drain_timeout(
            listener,
            Arc::clone(&target),
            stopped,
            drain,
        ));
        Server {
            address,
            target,
            stop,
            task,
        }
    }

    /// Asks the server to stop and waits until `serve` returns.
    async fn shut_down(self) {
        self.stop.send(()).expect("shutting the test server down");
        let served = tokio::time::timeout(HANG, self.task)
            .await
            .expect("shutting the test server down");
        served
            .expect("shutting the test server down")
            .expect("shutting the test server down");
    }

    /// Waits until the target has decided `n` limited requests.
    async fn wait_for_decisions(&self, n: u64) {
        tokio::time::timeout(HANG, async {
            loop {
                let counts = self.target.snapshot();
                if counts.allowed + counts.throttled + counts.errors >= n {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        })
        .await
        .expect("waiting for the target to decide");
    }
}

/// A response as read off the wire.
#[derive(Debug)]
struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// The value of one unlabelled or labelled sample in a metrics page.
    fn metric(&self, series: &str) -> f64 {
        self.body
            .lines()
            .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
            .unwrap_or_else(|| panic!("{series} missing from\n{}", self.body))
            .parse()
            .expect("metric present in /metrics")
    }
}

/// One keep-alive HTTP/1.1 connection spoken by hand.
struct Client {
    stream: BufReader<TcpStream>,
}

impl Client {
    async fn connect(address: SocketAddr) -> Client {
        let stream = TcpStream::connect(address)
            .await
            .expect("connecting to the test server");
        Client {
            stream: BufReader::new(stream),
        }
    }

    async fn send(&mut self, path: &str) {
        let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n");
        self.stream
            .get_mut()
            .write_all(request.as_bytes())
            .await
            .expect("writing the request");
    }

    /// The next response, or `None` if the server closed the connection first.
    async fn receive(&mut self) -> Option<Response> {
        let mut line = String::new();
        if self.stream.read_line(&mut line).await.unwrap_or(0) == 0 {
            return None;
        }
        let status = line
            .split(' ')
            .nth(1)
            .expect("reading a well-formed response")
            .parse()
            .expect("reading a well-formed response");
        let mut headers = Vec::new();
        loop {
            line.clear();
            self.stream
                .read_line(&mut line)
                .await
                .expect("reading a well-formed response");
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            let (name, value) = header
                .split_once(':')
                .expect("reading a well-formed response");
            headers.push((name.to_owned(), value.trim().to_owned()));
        }
        let mut response = Response {
            status,
            headers,
            body: String::new(),
        };
        let length: usize = response
            .header("content-length")
            .expect("reading a well-formed response")
            .parse()
            .expect("reading a well-formed response");
        let mut body = vec![0; length];
        self.stream
            .read_exact(&mut body)
            .await
            .expect("reading a well-formed response");
        response.body = String::from_utf8(body).expect("reading a well-formed response");
        Some(response)
    }

    async fn get(&mut self, path: &str) -> Response {
        self.send(path).await;
        tokio::time::timeout(HANG, self.receive())
            .await
            .expect("GET on the test server")
            .expect("GET on the test server")
    }
}

/// A config with this quota and nothing else.
fn limited(rate_per_sec: f64, burst: u32) -> TargetConfig {
    TargetConfig {
        quota: Quota {
            rate_per_sec,
            burst,
        },
        ..TargetConfig::default()
    }
}

#[tokio::test]
async fn allows_the_burst_then_throttles_with_retry_after() {
    // One request per 1000 virtual seconds: nothing refills during the test.
    let server = Server::start(limited(0.001, 2), 1).await;
    let mut client = Client::connect(server.address).await;
    for _ in 0..2 {
        let response = client.get("/").await;
        assert_eq!(response.status, 200);
        assert_eq!(response.body, "Hello World!");
        assert!(
            response
                .header("content-type")
                .unwrap()
                .starts_with("text/plain")
        );
    }
    let response = client.get("/").await;
    assert_eq!(response.status, 429);
    assert_eq!(response.body, "Throttling!");
    let retry_after: u64 = response.header("retry-after").unwrap().parse().unwrap();
    assert!((900..=1000).contains(&retry_after), "{retry_after}");
    // Any other path is limited too.
    assert_eq!(client.get("/some/path?x=1").await.status, 429);
    server.shut_down().await;
}

#[tokio::test]
async fn health_is_never_throttled() {
    let server = Server::start(limited(0.001, 1), 1).await;
    let mut client = Client::connect(server.address).await;
    assert_eq!(client.get("/").await.status, 200);
    for _ in 0..50 {
        let response = client.get("/health").await;
        assert_eq!((response.status, response.body.as_str()), (200, "OK"));
    }
    assert_eq!(client.get("/").await.status, 429);
    server.shut_down().await;
}

#[tokio::test]
async fn error_ratio_fails_allowed_requests_only() {
    let config = TargetConfig {
        error_ratio: ErrorRatio::ALWAYS,
        ..limited(0.001, 1)
    };
    let server = Server::start(config, 1).await;
    let mut client = Client::connect(server.address).await;
    let response = client.get("/").await;
    assert_eq!((response.status, response.body.as_str()), (500, "Error!"));
    assert_eq!(client.get("/").await.status, 429);
    let metrics = client.get("/metrics").await;
    assert_eq!(
        metrics.metric(r#"spotlab_target_requests_total{outcome="error"}"#),
        1.0
    );
    assert_eq!(
        metrics.metric(r#"spotlab_target_requests_total{outcome="allowed"}"#),
        0.0
    );
    server.shut_down().await;
}

#[tokio::test]
async fn metrics_count_what_was_sent() {
    let server = Server::start(limited(0.001, 3), 1).await;
    let mut first = Client::connect(server.address).await;
    for _ in 0..5 {
        first.get("/").await;
    }
    let mut second = Client::connect(server.address).await;
    second.get("/health").await;
    second.get("/health").await;
    second.get("/elsewhere").await;
    let mut third = Client::connect(server.address).await;
    let metrics = third.get("/metrics").await;
    assert_eq!(metrics.status, 200);
    assert_eq!(
        metrics.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    let expected = [
        (r#"spotlab_target_requests_total{outcome="allowed"}"#, 3.0),
        (r#"spotlab_target_requests_total{outcome="throttled"}"#, 3.0),
        (r#"spotlab_target_requests_total{outcome="error"}"#, 0.0),
        ("spotlab_target_health_requests_total", 2.0),
        ("spotlab_target_connections_total", 3.0),
        ("spotlab_target_connections_open", 3.0),
        ("spotlab_target_rate_limit_per_second", 0.001),
        ("spotlab_target_burst", 3.0),
        ("spotlab_target_time_scale", 1.0),
    ];
    for (series, value) in expected {
        assert_eq!(metrics.metric(series), value, "{series}");
    }
    server.shut_down().await;
}

#[tokio::test]
async fn keep_alive_serves_many_requests_on_one_connection() {
    let server = Server::start(limited(0.001, 10), 1).await;
    let mut client = Client::connect(server.address).await;
    let mut statuses = Vec::new();
    for n in 0..200 {
        let path = if n % 2 == 0 { "/" } else { "/health" };
        statuses.push(client.get(path).await.status);
    }
    assert_eq!(
        statuses.iter().filter(|&&status| status == 200).count(),
        110
    );
    assert_eq!(statuses.iter().filter(|&&status| status == 429).count(), 90);
    let metrics = client.get("/metrics").await;
    assert_eq!(metrics.metric("spotlab_target_connections_total"), 1.0);
    // Pipelined requests are answered in order on the same connection.
    for path in ["/health", "/", "/health"] {
        client.send(path).await;
    }
    let bodies = [
        client.receive().await.unwrap().body,
        client.receive().await.unwrap().body,
        client.receive().await.unwrap().body,
    ];
    assert_eq!(bodies, ["OK", "Throttling!", "OK"]);
    server.shut_down().await;
}

#[test]
fn time_scale_speeds_up_the_limiter() {
    // Rate 5 at scale 1000: 5000 allowed per real second. Poll for 100 ms of real time,
    // then compare with what the elapsed virtual time permits.
    let quota = Quota {
        rate_per_sec: 5.0,
        burst: 5,
    };
    let limiter = Limiter::new(quota).unwrap();
    let clock = Clock::new(TimeScale::new(1000).unwrap(), None);
    let start = clock.elapsed_nanos();
    let real_start = std::time::Instant::now();
    let mut allowed = 0u64;
    while real_start.elapsed() < Duration::from_millis(100) {
        if limiter.check(clock.elapsed_nanos()) == Decision::Allowed {
            allowed += 1;
        }
    }
    let elapsed = clock.elapsed_nanos() - start;
    // At scale 1, 100 ms allows the burst and at most one more.
    assert!(allowed > 5 + 10, "only {allowed} allowed");
    // Never more than the window bound, however the thread was scheduled.
    assert!(
        allowed <= elapsed / limiter.interval_ns() + 5,
        "{allowed} allowed"
    );
}

#[tokio::test]
async fn time_scale_applies_to_the_server() {
    // Rate 5 at scale 10000: an interval is 20 real microseconds, shorter than a
    // round trip, so most sequential requests are allowed; at scale 1 one would be.
    let server = Server::start(limited(5.0, 1), 10_000).await;
    let mut client = Client::connect(server.address).await;
    let mut allowed = 0;
    for _ in 0..300 {
        if client.get("/").await.status == 200 {
            allowed += 1;
        }
    }
    assert!(allowed > 50, "only {allowed} of 300 allowed");
    let metrics = client.get("/metrics").await;
    assert_eq!(metrics.metric("spotlab_target_time_scale"), 10_000.0);
    server.shut_down().await;
}

#[tokio::test]
async fn graceful_shutdown_finishes_the_in_flight_request() {
    let config = TargetConfig {
        latency: Latency::Fixed(Duration::from_millis(300)),
        ..limited(0.001, 5)
    };
    let server = Server::start(config, 1).await;
    let mut idle = Client::connect(server.address).await;
    assert_eq!(idle.get("/health").await.status, 200);
    let mut busy = Client::connect(server.address).await;
    busy.send("/").await;
    // The request is counted when decided, before its latency sleep.
    server.wait_for_decisions(1).await;
    let target = Arc::clone(&server.target);
    server.shut_down().await;
    // `serve` has returned, and the in-flight request was answered first.
    let response = busy.receive().await.unwrap();
    assert_eq!(
        (response.status, response.body.as_str()),
        (200, "Hello World!")
    );
    assert_eq!(busy.receive().await.map(|r| r.status), None);
    // The idle keep-alive connection was closed.
    assert_eq!(idle.receive().await.map(|r| r.status), None);
    assert_eq!(target.snapshot().connections_open, 0);
}

#[tokio::test]
async fn drain_timeout_drops_requests_that_outstay_it() {
    let config = TargetConfig {
        latency: Latency::Fixed(Duration::from_secs(3_600)),
        ..limited(0.001, 5)
    };
    let server = Server::start_with_drain(config, 1, Duration::from_millis(50)).await;
    let mut busy = Client::connect(server.address).await;
    busy.send("/").await;
    server.wait_for_decisions(1).await;
    server.shut_down().await;
    assert_eq!(busy.receive().await.map(|r| r.status), None);
}
