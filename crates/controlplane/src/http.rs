//! The local cloud's endpoint: one HTTP listener for every AWS client and for spotlab's
//! own API.
//!
//! - `POST /` (and `GET /?Action=...`): the EC2 query protocol. With required
//!   credentials, requests must carry a valid SigV4 signature (`AuthFailure`
//!   otherwise). State-changing calls answer once their command is durable.
//! - FIS's REST-JSON paths (`/experimentTemplates`, `/experiments`, `/tags/{arn}`), and
//!   any request signed for `fis`: FIS (see [`crate::fis_api`]).
//! - `GET /` (without an `Action`): the live dashboard page; `GET /spotlab/v1/dashboard`
//!   its snapshot as JSON, `GET /spotlab/v1/live` the same every second as Server-Sent
//!   Events (see [`crate::dashboard`]).
//! - Any path and method signed for `s3` (SigV4 scope `.../s3/aws4_request`): the S3
//!   subset ([`crate::s3`]).
//! - `GET /spotlab/v1/health`: the cloud's clock and address.
//! - `GET /spotlab/v1/events?after=N`: the event bus as JSON lines, after sequence
//!   number N; `&follow=true` keeps the response open for new events, `&wait=SECS`
//!   waits up to SECS for one when there is none yet (a long poll).
//! - `POST /spotlab/v1/faults`: fault injection ([`ec2::FaultRequest`] as JSON).
//! - `GET /metrics`: CloudWatch's current series in Prometheus's text format.
//! - `GET /spotlab/v1/queues?arn=ARN`: the messages SNS delivered to the local queue of
//!   an `sqs` subscription, as JSON lines.
//! - `POST /spotlab/v1/reports`: agents' native reports (a JSON array of
//!   [`agent_wire::Report`]), answered with [`agent_wire::IngestResponse`] once durable;
//!   a report seen before is counted as a duplicate and ignored.
//!
//! Handlers are thin: decoding and semantics live in `ec2` and `aws-wire`.

use std::io::{Read as _, Seek as _, SeekFrom};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_wire::protocol::{Detected, Protocol, Service};
use aws_wire::sigv4::{self, Credentials, SignedRequest};
use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{Query, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use base64::Engine as _;
use ec2::wire::{decode_request, encode_response};
use ec2::{ApiError, FaultRequest};
use region::{Command, RegionError};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::processes::instance_dir;
use crate::shared::Shared;
use crate::{dashboard, fis_api, monitoring_api};

/// The largest request body accepted (EC2's own limit is far lower for every call).
const MAX_BODY: usize = 10 * 1024 * 1024;
/// GetConsoleOutput returns at most the last 64 KiB, as EC2 does.
const CONSOLE_TAIL: u64 = 64 * 1024;

/// The endpoint's state.
pub struct Endpoint {
    /// The cloud and its channels.
    pub shared: Arc<Shared>,
    /// Credentials requests must be signed with, if any.
    pub require_auth: Option<Credentials>,
    /// Cancelled when the cloud stops: long-lived responses (event follows) end.
    pub stop: tokio_util::sync::CancellationToken,
    /// S3's buckets, served to requests signed for `s3` ([`crate::s3`]).
    pub s3: crate::s3::Buckets,
}

/// The endpoint's routes.
pub fn app(endpoint: Arc<Endpoint>) -> axum::Router {
    axum::Router::new()
        .route("/", post(aws_request).get(dashboard::root))
        // Smithy RPC v2 CBOR (aws-sdk-rust's CloudWatch): `/service/<S>/operation/<Op>`.
        .route("/service/{*operation}", post(aws_request))
        // FIS's REST-JSON routes; `fis_api` matches them against the model.
        .route("/experimentTemplates", any(aws_request))
        .route("/experimentTemplates/{*id}", any(aws_request))
        .route("/experiments", any(aws_request))
        .route("/experiments/{*id}", any(aws_request))
        .route("/tags/{*arn}", any(aws_request))
        .route("/spotlab/v1/health", get(health))
        .route("/spotlab/v1/dashboard", get(dashboard::snapshot))
        .route("/spotlab/v1/live", get(dashboard::live))
        .route("/spotlab/v1/events", get(events))
        .route("/spotlab/v1/faults", post(fault))
        .route(agent_wire::REPORTS_PATH, post(reports))
        .route("/spotlab/v1/queues", get(queue))
        .route("/metrics", get(prometheus))
        // S3 is path-style REST (`/{bucket}/{key}`, any method): told by its signature's
        // scope before any route above.
        .fallback(|| async { StatusCode::NOT_FOUND })
        .layer(axum::middleware::from_fn_with_state(
            endpoint.clone(),
            crate::s3::route,
        ))
        .with_state(endpoint)
}

fn xml(status: u16, body: String) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/xml;charset=UTF-8"),
    );
    response
        .headers_mut()
        .insert(header::SERVER, HeaderValue::from_static("AmazonEC2"));
    response
}

/// The body as sent before compression (`Content-Encoding: gzip`, which clients use for
/// large PutMetricData calls), bounded like any body.
fn decompress(headers: &axum::http::HeaderMap, body: Bytes) -> Result<Bytes, String> {
    let gzip = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("gzip"));
    if !gzip {
        return Ok(body);
    }
    let mut out = Vec::new();
    let decoder = flate2::read::GzDecoder::new(&body[..]);
    decoder
        .take(MAX_BODY as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| format!("The gzip body could not be decompressed: {e}"))?;
    if out.len() > MAX_BODY {
        return Err("The request is too large.".to_owned());
    }
    Ok(Bytes::from(out))
}

fn request_id() -> String {
    uuid::Uuid::new_v4().hyphenated().to_string()
}

pub(crate) async fn aws_request(
    State(endpoint): State<Arc<Endpoint>>,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let id = request_id();
    let body = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(body) => body,
        Err(_) => {
            let error = ApiError::new("RequestEntityTooLarge", "The request is too large.");
            return xml(413, ec2_error(&error, &id));
        }
    };
    let query = parts.uri.query().unwrap_or_default().to_owned();
    let body = match decompress(&parts.headers, body) {
        Ok(body) => body,
        Err(message) => {
            let error = ApiError::new("InvalidParameterValue", message);
            return xml(400, ec2_error(&error, &id));
        }
    };
    let headers: Vec<(&str, &str)> = parts
        .headers
        .iter()
        .filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?)))
        .collect();
    let request = aws_wire::protocol::RequestParts {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: &query,
        headers: &headers,
        body: &body,
    };
    let fis = fis_api::is_fis(&request);
    // CloudWatch, SNS, EventBridge and IAM are told apart from EC2 by the request's protocol;
    // anything else (EC2, or nothing recognisable) is answered as EC2 answers.
    let monitoring = match aws_wire::protocol::detect(&request) {
        Ok(detected) if detected.service != Service::Ec2 => Ok(detected),
        Err(error) => match error.answer_in() {
            Some((service, protocol)) if service != Service::Ec2 => Err((service, protocol, error)),
            _ => Ok(Detected {
                service: Service::Ec2,
                protocol: Protocol::Ec2Query,
                operation: String::new(),
            }),
        },
        Ok(detected) => Ok(detected),
    };
    if let Some(credentials) = &endpoint.require_auth {
        let signed = SignedRequest {
            method: parts.method.as_str(),
            path: parts.uri.path(),
            query: &query,
            headers: &headers,
            body: &body,
        };
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        let secrets = std::slice::from_ref(credentials);
        if let Err(error) = sigv4::verify(&signed, sigv4::lookup_in(secrets), now) {
            if fis {
                let mut response = fis_api::error(error.aws_code(), &error.aws_message(), &id);
                *response.status_mut() = StatusCode::FORBIDDEN;
                return response;
            }
            let (service, protocol) = match &monitoring {
                Ok(detected) => (detected.service, detected.protocol),
                Err((service, protocol, _)) => (*service, *protocol),
            };
            if service != Service::Ec2 {
                let mut response = monitoring_api::error(
                    service,
                    protocol,
                    error.aws_code(),
                    &error.aws_message(),
                    &id,
                );
                *response.status_mut() = StatusCode::FORBIDDEN;
                return response;
            }
            let api = ApiError {
                code: error.aws_code().to_owned(),
                message: error.aws_message(),
                status: 401,
            };
            return xml(401, ec2_error(&api, &id));
        }
    }
    if fis {
        return fis_api::serve(&endpoint.shared, &request, &id).await;
    }
    match monitoring {
        Ok(detected) if detected.service != Service::Ec2 => {
            return monitoring_api::serve(&endpoint.shared, detected, &query, &body, &id).await;
        }
        Err((service, protocol, error)) => {
            return monitoring_api::error(service, protocol, error.code(), &error.to_string(), &id);
        }
        Ok(_) => {}
    }
    if parts.method != Method::POST && parts.method != Method::GET {
        return xml(
            405,
            ec2_error(&ApiError::new("InvalidAction", "Unsupported method."), &id),
        );
    }
    let decoded = match decode_request(&query, &body) {
        Ok(decoded) => decoded,
        Err(error) => return xml(error.status, ec2_error(&error, &id)),
    };
    let result = if decoded.action == "GetConsoleOutput" {
        console_output(&endpoint.shared, &decoded.input)
    } else {
        endpoint
            .shared
            .apply(Command::Ec2 {
                action: decoded.action.clone(),
                input: decoded.input,
            })
            .await
            .map_err(ec2_api_error)
    };
    if let Err(error) = &result {
        tracing::debug!(action = %decoded.action, code = %error.code, message = %error.message, "EC2 call refused");
    }
    let (status, body) = encode_response(&decoded.action, &result, &id);
    xml(status, body)
}

/// An EC2 command's failure as EC2 answers it (a monitoring error cannot come from an
/// EC2 command, but is answered sensibly if it does).
fn ec2_api_error(error: RegionError) -> ApiError {
    match error {
        RegionError::Ec2(error) => error,
        RegionError::Monitoring(error) => ApiError::new(&error.code, error.message),
        RegionError::Iam(error) => ApiError::new(error.code(), error.message()),
    }
}

fn ec2_error(error: &ApiError, id: &str) -> String {
    aws_wire::ec2::encode_error(&error.code, &error.message, id)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ConsoleInput {
    instance_id: Option<String>,
    dry_run: Option<bool>,
}

/// GetConsoleOutput: the last 64 KiB the instance's processes wrote, base64.
fn console_output(shared: &Shared, input: &Value) -> Result<Value, ApiError> {
    let input: ConsoleInput = serde_json::from_value(input.clone())
        .map_err(|e| ApiError::invalid_value(e.to_string()))?;
    let id = input
        .instance_id
        .ok_or_else(|| ApiError::missing("InstanceId"))?;
    let now = shared.with_cloud(|cloud| cloud.instance_exists(&id).map(|()| cloud.now()))?;
    if input.dry_run == Some(true) {
        return Err(ApiError::dry_run());
    }
    let path = instance_dir(&shared.state_dir, &id).join("console.log");
    let tail = read_tail(&path, CONSOLE_TAIL).unwrap_or_default();
    let mut out = json!({"InstanceId": id, "Timestamp": now.to_iso_millis()});
    if !tail.is_empty() {
        out["Output"] = json!(base64::engine::general_purpose::STANDARD.encode(tail));
    }
    Ok(out)
}

fn read_tail(path: &std::path::Path, limit: u64) -> std::io::Result<Vec<u8>> {
    let mut file = std::fs::File::open(path)?;
    let len = file.metadata()?.len();
    file.seek(SeekFrom::Start(len.saturating_sub(limit)))?;
    let mut out = Vec::new();
    file.read_to_end(&mut out)?;
    Ok(out)
}

async fn health(State(endpoint): State<Arc<Endpoint>>) -> Json<Value> {
    let shared = &endpoint.shared;
    let (now, events) = shared.with_region(|region| (region.now(), region.bus().last_seq()));
    Json(json!({
        "status": "ok",
        "virtual_time": now,
        "time_scale": shared.clock.scale().factor(),
        "endpoint": shared.endpoint_url,
        "events": events,
    }))
}

#[derive(Deserialize)]
struct EventsQuery {
    #[serde(default)]
    after: u64,
    #[serde(default)]
    follow: bool,
    /// Seconds to wait for an event when there is none after `after` yet.
    #[serde(default)]
    wait: u64,
}

/// The longest `wait` honoured: a long poll, not a subscription (that is `follow`).
const MAX_EVENTS_WAIT: Duration = Duration::from_secs(300);
/// Most events written at once.
const EVENTS_BATCH: usize = 1_000;

/// Where an events response stands between two batches.
struct EventsCursor {
    shared: Arc<Shared>,
    watch: tokio::sync::watch::Receiver<u64>,
    /// The last sequence number written (or `after`).
    after: u64,
    /// Until when to wait for a first event (`wait`); `None` once one was written.
    wait_until: Option<tokio::time::Instant>,
}

/// The bus as JSON lines (`{"seq": N, "event": {...}}`), from `after` (the bus keeps
/// the latest 100,000 events). With `follow`, the response stays open and carries new
/// events as they are published; with `wait=SECS` (a long poll), a response that would
/// be empty waits up to SECS for the first new event, then ends with what there is.
async fn events(
    State(endpoint): State<Arc<Endpoint>>,
    Query(query): Query<EventsQuery>,
) -> Response {
    let shared = endpoint.shared.clone();
    let cursor = EventsCursor {
        watch: shared.events.subscribe(),
        shared,
        after: query.after,
        wait_until: (query.wait > 0).then(|| {
            tokio::time::Instant::now() + Duration::from_secs(query.wait).min(MAX_EVENTS_WAIT)
        }),
    };
    let follow = query.follow;
    let stop = endpoint.stop.clone();
    let stream = futures_util::stream::unfold(cursor, move |mut cursor| {
        let stop = stop.clone();
        async move {
            loop {
                let (lines, last) = cursor.shared.with_region(|region| {
                    let mut lines = String::new();
                    let mut last = None;
                    for event in region.bus().since(cursor.after).take(EVENTS_BATCH) {
                        // A bus event is plain JSON; serialising it cannot fail.
                        if let Ok(line) = serde_json::to_string(event) {
                            lines.push_str(&line);
                            lines.push('\n');
                        }
                        last = Some(event.seq);
                    }
                    (lines, last)
                });
                if let Some(last) = last {
                    cursor.after = last;
                    cursor.wait_until = None;
                    return Some((Ok::<Bytes, std::io::Error>(Bytes::from(lines)), cursor));
                }
                // Nothing newer: wait for the next publication (re-checking every 15 s),
                // until the end of a follow, the end of a long poll's wait, or the end.
                let until = if follow {
                    tokio::time::Instant::now() + Duration::from_secs(15)
                } else {
                    cursor.wait_until?
                };
                tokio::select! {
                    changed = tokio::time::timeout_at(until, cursor.watch.changed()) => {
                        match changed {
                            Ok(Ok(())) => {}
                            // The cloud is stopping.
                            Ok(Err(_)) => return None,
                            Err(_elapsed) if follow => {}
                            Err(_elapsed) => return None,
                        }
                    }
                    () = stop.cancelled() => return None,
                }
            }
        }
    });
    let mut response = Response::new(Body::from_stream(stream));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-ndjson"),
    );
    response
}

async fn fault(State(endpoint): State<Arc<Endpoint>>, body: Bytes) -> Response {
    let request: FaultRequest = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(error) => {
            return (
                StatusCode::BAD_REQUEST,
                Json(json!({"code": "InvalidParameterValue", "message": error.to_string()})),
            )
                .into_response();
        }
    };
    match endpoint
        .shared
        .apply(Command::Fault(request))
        .await
        .map_err(ec2_api_error)
    {
        Ok(outcome) => Json(outcome).into_response(),
        Err(error) => (
            StatusCode::from_u16(error.status).unwrap_or(StatusCode::BAD_REQUEST),
            Json(json!({"code": error.code, "message": error.message})),
        )
            .into_response(),
    }
}

async fn reports(State(endpoint): State<Arc<Endpoint>>, body: Bytes) -> Response {
    let reports: Vec<agent_wire::Report> = match serde_json::from_slice(&body) {
        Ok(reports) => reports,
        Err(error) => {
            return (
                StatusCode::BAD_REQUEST,
                Json(json!({"code": "InvalidParameterValue", "message": error.to_string()})),
            )
                .into_response();
        }
    };
    match endpoint.shared.apply(Command::Reports { reports }).await {
        Ok(answer) => Json(answer).into_response(),
        Err(error) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"code": error.code(), "message": error.message()})),
        )
            .into_response(),
    }
}

#[derive(Deserialize)]
struct QueueQuery {
    arn: String,
}

async fn queue(State(endpoint): State<Arc<Endpoint>>, Query(query): Query<QueueQuery>) -> Response {
    let path = crate::deliveries::queue_path(&endpoint.shared.state_dir, &query.arn);
    match tokio::fs::read(&path).await {
        Ok(bytes) => {
            let mut response = Response::new(Body::from(bytes));
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/x-ndjson"),
            );
            response
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Response::new(Body::empty()),
        Err(error) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({"code": "InternalFailure", "message": error.to_string()})),
        )
            .into_response(),
    }
}

async fn prometheus(State(endpoint): State<Arc<Endpoint>>) -> Response {
    let text = endpoint
        .shared
        .with_region(|region| region.monitoring().prometheus(region.now()));
    let mut response = Response::new(Body::from(text));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    response
}
