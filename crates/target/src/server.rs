//! The HTTP/1.1 server: accepting connections, serving them with keep-alive, and
//! shutting down gracefully.
//!
//! One task per connection, each tracked by a `TaskTracker`. On shutdown the server
//! stops accepting, asks every connection to finish its in-flight request and close
//! (hyper's graceful shutdown), and waits for them up to a drain timeout (real time);
//! connections still busy then are dropped. What each request gets is decided by
//! [`Target::handle`]; this module only does the transport, the latency sleep, and the
//! mapping of a [`Reply`] to bytes. It does not build the runtime or listen for signals
//! (see `run.rs`).

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use rand_chacha::ChaCha8Rng;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::metrics;
use crate::target::{Reply, Route, Target};

/// How long [`serve`] waits (real time) for connections to finish after shutdown.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// How long to pause accepting after an accept error (real time), so that running out
/// of file descriptors does not become a busy loop.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// The body of an allowed request.
pub const HELLO_BODY: &str = "Hello World!";
/// The body of an allowed request failed by the error ratio.
pub const ERROR_BODY: &str = "Error!";
/// The body of a throttled request.
pub const THROTTLED_BODY: &str = "Throttling!";
/// The body of `/health`.
pub const HEALTH_BODY: &str = "OK";

/// Serves `target` on `listener` until `shutdown` completes, then drains connections
/// for at most [`DRAIN_TIMEOUT`] and returns.
pub async fn serve(
    listener: TcpListener,
    target: Arc<Target>,
    shutdown: impl Future,
) -> io::Result<()> {
    serve_with_drain_timeout(listener, target, shutdown, DRAIN_TIMEOUT).await
}

/// [`serve`] with a chosen drain timeout (real time).
pub async fn serve_with_drain_timeout(
    listener: TcpListener,
    target: Arc<Target>,
    shutdown: impl Future,
    drain_timeout: Duration,
) -> io::Result<()> {
    // `graceful` asks connections to finish; `abort` drops those that outstay the drain.
    let graceful = CancellationToken::new();
    let abort = CancellationToken::new();
    let tracker = TaskTracker::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        tokio::select! {
            biased;
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let connection = Connection {
                        target: Arc::clone(&target),
                        graceful: graceful.clone(),
                        abort: abort.clone(),
                    };
                    tracker.spawn(connection.serve(stream, peer.port()));
                }
                Err(error) => {
                    tracing::warn!(%error, "accept failed; pausing");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                }
            },
        }
    }
    drop(listener);
    graceful.cancel();
    tracker.close();
    if tokio::time::timeout(drain_timeout, tracker.wait())
        .await
        .is_err()
    {
        tracing::warn!(
            connections = tracker.len(),
            "drain timeout reached; dropping connections"
        );
        abort.cancel();
        tracker.wait().await;
    }
    Ok(())
}

/// One accepted connection and what it needs to serve itself.
struct Connection {
    /// The shared decisions and counters.
    target: Arc<Target>,
    /// Cancelled when the server stops accepting: finish the in-flight request, close.
    graceful: CancellationToken,
    /// Cancelled when the drain timeout passes: drop everything.
    abort: CancellationToken,
}

impl Connection {
    async fn serve(self, stream: TcpStream, remote_port: u16) {
        let metrics = self.target.metrics();
        metrics.connection_opened();
        // Responses are small; waiting for the next segment only adds latency.
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%error, "set_nodelay failed");
        }
        let service = {
            let target = Arc::clone(&self.target);
            // Requests on one connection are handled one after another, so this lock is
            // never contended; it is taken only when a reply needs randomness.
            let rng = Arc::new(Mutex::new(target.connection_rng()));
            service_fn(move |request| {
                respond(Arc::clone(&target), Arc::clone(&rng), request, remote_port)
            })
        };
        let connection = http1::Builder::new()
            .keep_alive(true)
            // Responses are tiny: one flat buffer and one write() beat a writev of
            // headers and body.
            .writev(false)
            .serve_connection(TokioIo::new(stream), service);
        let mut connection = std::pin::pin!(connection);
        let result = tokio::select! {
            result = connection.as_mut() => result,
            () = self.graceful.cancelled() => {
                connection.as_mut().graceful_shutdown();
                tokio::select! {
                    result = connection.as_mut() => result,
                    () = self.abort.cancelled() => Ok(()),
                }
            }
        };
        if let Err(error) = result {
            tracing::debug!(%error, "connection ended with an error");
        }
        metrics.connection_closed();
    }
}

/// Answers one request: decide now, sleep for the reply's latency, then respond.
async fn respond(
    target: Arc<Target>,
    rng: Arc<Mutex<ChaCha8Rng>>,
    request: Request<Incoming>,
    remote_port: u16,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let route = Route::of(request.uri().path());
    let now = target.clock().elapsed_nanos();
    let reply = if route == Route::Limited && target.needs_rng() {
        let mut rng = rng.lock().unwrap_or_else(PoisonError::into_inner);
        target.handle(route, now, &mut *rng)
    } else {
        // No draw will happen; the lock would only cost time.
        target.handle(route, now, &mut NoDraws)
    };
    let latency = reply.latency();
    if !latency.is_zero() {
        target.clock().sleep(latency).await;
    }
    let response = response(reply);
    if let Some(log) = target.access_log() {
        log.record(
            target.clock().now(),
            remote_port,
            response.status().as_u16(),
        );
    }
    Ok(response)
}

/// `Retry-After` values for the common small waits, built once: a throttled answer
/// then costs no allocation for its header.
fn retry_after(secs: u64) -> HeaderValue {
    const SMALL: [&str; 11] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10"];
    match usize::try_from(secs).ok().and_then(|i| SMALL.get(i)) {
        Some(text) => HeaderValue::from_static(text),
        None => HeaderValue::from(secs),
    }
}

/// The HTTP response for a reply.
pub fn response(reply: Reply) -> Response<Full<Bytes>> {
    const TEXT: HeaderValue = HeaderValue::from_static("text/plain; charset=utf-8");
    let (status, body, content_type) = match reply {
        Reply::Hello { .. } => (
            StatusCode::OK,
            Bytes::from_static(HELLO_BODY.as_bytes()),
            TEXT,
        ),
        Reply::Error { .. } => (
            StatusCode::INTERNAL_SERVER_ERROR,
            Bytes::from_static(ERROR_BODY.as_bytes()),
            TEXT,
        ),
        Reply::Throttled { retry_after_secs } => {
            let mut response =
                Response::new(Full::new(Bytes::from_static(THROTTLED_BODY.as_bytes())));
            *response.status_mut() = StatusCode::TOO_MANY_REQUESTS;
            let headers = response.headers_mut();
            headers.insert(CONTENT_TYPE, TEXT);
            headers.insert(RETRY_AFTER, retry_after(retry_after_secs));
            return response;
        }
        Reply::Health => (
            StatusCode::OK,
            Bytes::from_static(HEALTH_BODY.as_bytes()),
            TEXT,
        ),
        Reply::Metrics(text) => (
            StatusCode::OK,
            Bytes::from(text),
            HeaderValue::from_static(metrics::CONTENT_TYPE),
        ),
    };
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = status;
    response.headers_mut().insert(CONTENT_TYPE, content_type);
    response
}

/// An RNG for calls that [`Target::needs_rng`] says draw nothing. Should one draw
/// anyway, it gets zeros, which are valid draws, rather than a panic.
struct NoDraws;

impl rand::TryRng for NoDraws {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok(0)
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        Ok(0)
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        dst.fill(0);
        Ok(())
    }
}
