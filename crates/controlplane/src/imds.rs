//! One instance metadata service per instance, on its own loopback port (the instance's
//! processes find it through `AWS_EC2_METADATA_SERVICE_ENDPOINT`). The answers come
//! from the cloud ([`ec2::Cloud::imds`]); this module owns HTTP and IMDSv2 sessions:
//!
//! - `PUT /latest/api/token` with `X-aws-ec2-metadata-token-ttl-seconds` (1-21600)
//!   returns a token and echoes the TTL header; a missing or bad TTL is 400, a request
//!   carrying `X-Forwarded-For` is 403, a token PUT on any other path is 403.
//! - `GET` with `X-aws-ec2-metadata-token`: an unknown or expired token is 401; the
//!   answer carries the token's remaining TTL. Without a token (IMDSv1) the answer is
//!   401 when the instance requires tokens (`HttpTokens=required`).
//! - `HttpEndpoint=disabled`: every request is 403.
//!
//! Token lifetimes are virtual time, like every duration of the local cloud.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use fleet::InstanceId;
use simtime::{SimDuration, SimTime};
use tokio_util::sync::CancellationToken;

use crate::shared::Shared;

const TTL_HEADER: &str = "x-aws-ec2-metadata-token-ttl-seconds";
const TOKEN_HEADER: &str = "x-aws-ec2-metadata-token";
const MAX_TTL_SECS: u64 = 21_600;

/// A running metadata service.
pub struct ImdsServer {
    port: u16,
    stop: CancellationToken,
}

impl ImdsServer {
    /// Its port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops serving.
    pub fn stop(self) {
        self.stop.cancel();
    }
}

struct Service {
    shared: Arc<Shared>,
    instance: InstanceId,
    /// Token -> expiry (virtual).
    tokens: Mutex<HashMap<String, SimTime>>,
}

/// Serves `instance`'s metadata on 127.0.0.1, on `port` if given (an adopted instance
/// was told it), else on a free one.
pub async fn start(
    shared: Arc<Shared>,
    instance: InstanceId,
    port: Option<u16>,
) -> std::io::Result<ImdsServer> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port.unwrap_or(0)));
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let port = listener.local_addr()?.port();
    let stop = CancellationToken::new();
    let service = Arc::new(Service {
        shared,
        instance,
        tokens: Mutex::new(HashMap::new()),
    });
    let app = axum::Router::new().fallback(handle).with_state(service);
    let cancelled = stop.clone();
    tokio::spawn(async move {
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(async move { cancelled.cancelled().await })
            .await;
        if let Err(error) = served {
            tracing::warn!(%error, "metadata service stopped");
        }
    });
    Ok(ImdsServer { port, stop })
}

fn reply(status: StatusCode, content_type: &str, body: impl Into<Body>) -> Response {
    let mut response = Response::new(body.into());
    *response.status_mut() = status;
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(content_type) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    headers.insert(header::SERVER, HeaderValue::from_static("EC2ws"));
    response
}

fn plain(status: StatusCode, text: &'static str) -> Response {
    reply(status, "text/plain", text)
}

async fn handle(State(service): State<Arc<Service>>, request: Request) -> Response {
    let (parts, _) = request.into_parts();
    let path = parts.uri.path().to_owned();
    let options = service
        .shared
        .with_cloud(|cloud| cloud.metadata_options(&service.instance));
    let Some(options) = options else {
        return plain(StatusCode::NOT_FOUND, "instance not found");
    };
    if !options.enabled {
        return plain(StatusCode::FORBIDDEN, "Forbidden");
    }
    let now = service.shared.clock.now();
    match parts.method {
        Method::PUT => issue_token(&service, &path, &parts.headers, now),
        Method::GET | Method::HEAD => {
            let remaining = match parts.headers.get(TOKEN_HEADER) {
                Some(token) => {
                    let token = token.to_str().unwrap_or_default().to_owned();
                    let expiry = service
                        .tokens
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .get(&token)
                        .copied();
                    match expiry {
                        Some(expiry) if expiry > now => {
                            Some(expiry.saturating_since(now).as_secs().max(1))
                        }
                        _ => return plain(StatusCode::UNAUTHORIZED, "Unauthorized"),
                    }
                }
                None if options.tokens_required => {
                    return plain(StatusCode::UNAUTHORIZED, "Unauthorized");
                }
                None => None,
            };
            let answer = service
                .shared
                .with_cloud(|cloud| cloud.imds(&service.instance, &path));
            let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::NOT_FOUND);
            let mut response = reply(status, answer.content_type, answer.body);
            if let Some(ttl) = remaining
                && let Ok(value) = HeaderValue::from_str(&ttl.to_string())
            {
                response.headers_mut().insert(TTL_HEADER, value);
            }
            response
        }
        _ => plain(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed"),
    }
}

fn issue_token(service: &Service, path: &str, headers: &HeaderMap, now: SimTime) -> Response {
    if path != "/latest/api/token" {
        return plain(StatusCode::FORBIDDEN, "Forbidden");
    }
    if headers.contains_key("x-forwarded-for") {
        return plain(StatusCode::FORBIDDEN, "Forbidden");
    }
    let ttl = headers
        .get(TTL_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|t| (1..=MAX_TTL_SECS).contains(t));
    let Some(ttl) = ttl else {
        return plain(StatusCode::BAD_REQUEST, "Bad Request");
    };
    let token = new_token();
    {
        let mut tokens = service.tokens.lock().unwrap_or_else(|p| p.into_inner());
        tokens.retain(|_, expiry| *expiry > now);
        tokens.insert(token.clone(), now + SimDuration::from_secs(ttl));
    }
    let mut response = reply(StatusCode::OK, "text/plain", token);
    if let Ok(value) = HeaderValue::from_str(&ttl.to_string()) {
        response.headers_mut().insert(TTL_HEADER, value);
    }
    response
}

/// An opaque token like EC2's: 56 base64 characters of randomness.
fn new_token() -> String {
    use base64::Engine as _;
    let mut bytes = Vec::with_capacity(42);
    while bytes.len() < 42 {
        bytes.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
    }
    bytes.truncate(42);
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
