//! Callers: one task each, sending on its [`Schedule`] over keep-alive HTTP/1.1
//! connections, open model.
//!
//! A caller keeps a few connections. When a send is due it takes an idle one (or opens
//! one) and puts the exchange in flight without waiting for it, so a slow or failing
//! response never delays the next send, of this caller or any other. Completions are
//! recorded in the shared [`Tally`] with latency from the scheduled and from the actual
//! send time. When told to stop, a caller sends nothing more and waits for its in-flight
//! exchanges (each bounded by the request timeout); if it is told to abandon them, they
//! are counted as timeouts. Either way every send ends in exactly one outcome.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::{Pin, pin};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;

use agent_wire::Outcome;
use bytes::Bytes;
use clock::Clock;
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use http_body_util::{BodyExt, Empty};
use hyper::client::conn::http1::SendRequest;
use hyper::header::{HOST, HeaderValue};
use hyper::{Request, Uri};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::schedule::Schedule;
use crate::tally::{Completion, Tally};

/// The service under test, resolved once at start.
#[derive(Clone, Debug)]
pub struct Target {
    /// Where to connect.
    pub addr: SocketAddr,
    /// Path and query to request.
    pub path: Uri,
    /// The Host header.
    pub host: HeaderValue,
}

/// Why a target URL was refused.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    /// Not a URL we can call.
    #[error("target {url:?}: {reason}")]
    Invalid {
        /// The URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// The host did not resolve.
    #[error("target {url:?} does not resolve: {source}")]
    Resolve {
        /// The URL.
        url: String,
        /// The resolver's error.
        source: std::io::Error,
    },
}

impl Target {
    /// Parses and resolves an `http://` URL.
    pub async fn resolve(text: &str) -> Result<Target, TargetError> {
        let invalid = |reason: &str| TargetError::Invalid {
            url: text.to_owned(),
            reason: reason.to_owned(),
        };
        let url = url::Url::parse(text).map_err(|e| invalid(&e.to_string()))?;
        if url.scheme() != "http" {
            return Err(invalid("only http:// is supported"));
        }
        let host = url.host_str().ok_or_else(|| invalid("no host"))?;
        let port = url.port_or_known_default().unwrap_or(80);
        let mut path = url.path().to_owned();
        if let Some(query) = url.query() {
            path.push('?');
            path.push_str(query);
        }
        let path: Uri = path.parse().map_err(|_| invalid("bad path"))?;
        let host_header = match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        };
        let host_header = HeaderValue::from_str(&host_header).map_err(|_| invalid("bad host"))?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let addr = tokio::net::lookup_host((host, port))
            .await
            .map_err(|source| TargetError::Resolve {
                url: text.to_owned(),
                source,
            })?
            .next()
            .ok_or_else(|| invalid("host has no address"))?;
        Ok(Target {
            addr,
            path,
            host: host_header,
        })
    }
}

/// What every caller shares.
#[derive(Debug)]
pub struct Shared {
    /// Virtual time.
    pub clock: Clock,
    /// Where to send.
    pub target: Target,
    /// The books.
    pub tally: Mutex<Tally>,
    /// Request timeout, real time.
    pub timeout: Duration,
    /// Virtual ns after its due time past which a send counts as late.
    pub late_after_ns: u64,
    /// Connections one caller may have in flight at once.
    pub max_connections: usize,
    /// Connection driver tasks.
    pub connections: TaskTracker,
}

impl Shared {
    /// The books, even if a panicking thread poisoned the lock (the counts stay valid:
    /// every update is a plain increment).
    pub fn tally(&self) -> MutexGuard<'_, Tally> {
        self.tally
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// One keep-alive connection's request side.
pub type Sender = SendRequest<Empty<Bytes>>;

/// Most connection attempts in progress at once while warming up.
const CONNECT_CONCURRENCY: usize = 256;

/// An exchange that finished, successfully or not.
struct Done {
    /// The connection, if it can carry another request.
    sender: Option<Sender>,
    outcome: Outcome,
    due: Instant,
    sent: Instant,
    completed: Instant,
}

/// Opens `count` connections (some attempts may fail: `None`), a bounded number at a
/// time, each within `timeout`, so that the first sends do not pay for handshakes.
pub async fn preconnect(
    target: &Target,
    connections: &TaskTracker,
    count: u32,
    timeout: Duration,
) -> Vec<Option<Sender>> {
    futures_util::stream::iter(0..count)
        .map(|_| async move {
            tokio::time::timeout(timeout, open(target, connections))
                .await
                .ok()
                .flatten()
        })
        .buffer_unordered(CONNECT_CONCURRENCY)
        .collect()
        .await
}

/// Opens one keep-alive connection for `shared`'s target.
async fn connect(shared: &Shared) -> Option<Sender> {
    open(&shared.target, &shared.connections).await
}

/// Opens one keep-alive connection and spawns its driver.
async fn open(target: &Target, connections: &TaskTracker) -> Option<Sender> {
    let stream = TcpStream::connect(target.addr).await.ok()?;
    stream.set_nodelay(true).ok()?;
    // Test services answer small bodies; a 4 KiB read buffer (instead of hyper's 8 KiB
    // and growing) keeps 10,000 callers' connections small. Larger bodies still work,
    // read in 4 KiB steps.
    let (sender, connection) = hyper::client::conn::http1::Builder::new()
        .read_buf_exact_size(Some(4096))
        .handshake(TokioIo::new(stream))
        .await
        .ok()?;
    connections.spawn(async move {
        // Ends when the sender is dropped or the peer closes; errors surface on the
        // sender side as failed requests.
        let _ = connection.await;
    });
    Some(sender)
}

/// One request on `sender` (or a fresh connection), with the status it got.
async fn exchange(shared: &Shared, sender: Option<Sender>) -> Result<(Sender, u16), ()> {
    let mut sender = match sender {
        Some(sender) if !sender.is_closed() => sender,
        _ => connect(shared).await.ok_or(())?,
    };
    if sender.ready().await.is_err() {
        // The idle connection went away (the server closed it): one fresh attempt.
        sender = connect(shared).await.ok_or(())?;
        sender.ready().await.map_err(|_| ())?;
    }
    let request = Request::get(shared.target.path.clone())
        .header(HOST, shared.target.host.clone())
        .body(Empty::new())
        .map_err(|_| ())?;
    let response = sender.send_request(request).await.map_err(|_| ())?;
    let status = response.status().as_u16();
    response.into_body().collect().await.map_err(|_| ())?;
    Ok((sender, status))
}

async fn timed_exchange(
    shared: &Shared,
    sender: Option<Sender>,
    due: Instant,
    sent: Instant,
) -> Done {
    let result = tokio::time::timeout(shared.timeout, exchange(shared, sender)).await;
    let (sender, outcome) = match result {
        Ok(Ok((sender, status))) => (Some(sender), Outcome::of_status(status)),
        Ok(Err(())) => (None, Outcome::ConnectionError),
        Err(_) => (None, Outcome::Timeout),
    };
    Done {
        sender,
        outcome,
        due,
        sent,
        completed: Instant::now(),
    }
}

pin_project_lite::pin_project! {
    /// An exchange in flight, with its times kept outside the future so that an
    /// abandoned one can still be counted with its latency.
    struct InFlight<F> {
        due: Instant,
        sent: Instant,
        #[pin]
        future: F,
    }
}

impl<F: Future<Output = Done>> Future for InFlight<F> {
    type Output = Done;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Done> {
        self.project().future.poll(cx)
    }
}

fn micros(shared: &Shared, from: Instant, to: Instant) -> u64 {
    let real = to.saturating_duration_since(from);
    u64::try_from(shared.clock.scale().to_virtual(real).as_micros()).unwrap_or(u64::MAX)
}

fn settle(shared: &Shared, idle: &mut Vec<Sender>, done: Done) {
    shared.tally().completed(Completion {
        outcome: done.outcome,
        from_scheduled_us: micros(shared, done.due, done.completed),
        from_sent_us: micros(shared, done.sent, done.completed),
    });
    if let Some(sender) = done.sender {
        idle.push(sender);
    }
}

/// Runs one caller until `stop` (or, with an `end_ns`, until its next slot is due at
/// or after it), then waits for its in-flight exchanges; on `abandon` the ones still in
/// flight are counted as timeouts.
pub async fn run_caller(
    shared: Arc<Shared>,
    schedule: Schedule,
    connection: Option<Sender>,
    end_ns: Option<u64>,
    stop: CancellationToken,
    abandon: CancellationToken,
) {
    let mut idle: Vec<Sender> = connection.into_iter().collect();
    let mut in_flight = FuturesUnordered::new();
    let mut next = 0u64;
    // One timer for the caller's life, moved to the next slot after each send, so that
    // a completion waking the task does not register a new timer.
    let mut sleep = pin!(tokio::time::sleep_until(
        shared.clock.instant_at_nanos(schedule.due(next))
    ));
    let mut stopped = pin!(stop.cancelled());
    loop {
        if end_ns.is_some_and(|end| schedule.due(next) >= end) {
            break;
        }
        tokio::select! {
            biased;
            () = &mut stopped => break,
            Some(done) = in_flight.next(), if !in_flight.is_empty() => {
                settle(&shared, &mut idle, done);
            }
            () = &mut sleep => {
                let now = Instant::now();
                let now_ns = shared.clock.virtual_nanos_at(now);
                let wake = schedule.wake(next, now_ns);
                next = wake.slot + 1;
                sleep
                    .as_mut()
                    .reset(shared.clock.instant_at_nanos(schedule.due(next)));
                let due_ns = schedule.due(wake.slot);
                if in_flight.len() >= shared.max_connections {
                    shared.tally().skipped(wake.skipped + 1);
                    continue;
                }
                let late = now_ns.saturating_sub(due_ns) > shared.late_after_ns;
                {
                    let mut tally = shared.tally();
                    tally.skipped(wake.skipped);
                    tally.sent(shared.clock.time_at(now), late);
                }
                let due = shared.clock.instant_at_nanos(due_ns);
                in_flight.push(InFlight {
                    due,
                    sent: now,
                    future: timed_exchange(&shared, idle.pop(), due, now),
                });
            }
        }
    }
    drop(idle);
    let abandoned = abandon.cancelled();
    let mut abandoned = pin!(abandoned);
    loop {
        tokio::select! {
            biased;
            done = in_flight.next() => match done {
                Some(done) => settle(&shared, &mut Vec::new(), done),
                None => break,
            },
            () = &mut abandoned => {
                // The instance is going away: what is still in flight will never be
                // answered in time. Count it, so nothing sent goes missing.
                let now = Instant::now();
                let mut tally = shared.tally();
                for exchange in Pin::new(&in_flight).iter_pin_ref() {
                    let exchange = exchange.get_ref();
                    tally.completed(Completion {
                        outcome: Outcome::Timeout,
                        from_scheduled_us: micros(&shared, exchange.due, now),
                        from_sent_us: micros(&shared, exchange.sent, now),
                    });
                }
                break;
            }
        }
    }
}
