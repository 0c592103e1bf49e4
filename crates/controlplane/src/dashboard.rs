//! The live dashboard: the page at `GET /` (one self-contained HTML file embedded in the
//! binary), the snapshot as JSON at `GET /spotlab/v1/dashboard`, and the same snapshot
//! every real second as Server-Sent Events at `GET /spotlab/v1/live`.
//!
//! What the snapshot holds is computed by [`region::dashboard::snapshot`]; this module
//! only serves it. `GET /` is also the EC2 query protocol (`GET /?Action=...`): a request
//! whose query names an `Action` goes to the AWS endpoint, as every AWS client sends one.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::http::{Endpoint, aws_request};
use crate::shared::Shared;

/// The page: HTML, CSS and vanilla JavaScript, no external resources.
const PAGE: &str = include_str!("dashboard.html");
/// How often the live stream sends a snapshot (real time).
const LIVE_EVERY: Duration = Duration::from_secs(1);

/// Whether a query string names an `Action` (an AWS query-protocol request).
fn names_action(query: &str) -> bool {
    query
        .split('&')
        .any(|pair| pair.split('=').next() == Some("Action"))
}

/// `GET /`: the dashboard page, unless the query names an `Action`.
pub(crate) async fn root(State(endpoint): State<Arc<Endpoint>>, request: Request) -> Response {
    if names_action(request.uri().query().unwrap_or_default()) {
        return aws_request(State(endpoint), request).await;
    }
    let mut response = Response::new(Body::from(PAGE));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    // Everything is inline; nothing may be loaded from elsewhere.
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'",
        ),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The snapshot as JSON text.
fn snapshot_json(shared: &Shared) -> Result<String, serde_json::Error> {
    let dashboard = shared.with_region(region::dashboard::snapshot);
    serde_json::to_string(&dashboard)
}

/// `GET /spotlab/v1/dashboard`: the snapshot as JSON.
pub(crate) async fn snapshot(State(endpoint): State<Arc<Endpoint>>) -> Response {
    match snapshot_json(&endpoint.shared) {
        Ok(json) => {
            let mut response = Response::new(Body::from(json));
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            response
        }
        Err(error) => (StatusCode::INTERNAL_SERVER_ERROR, error.to_string()).into_response(),
    }
}

/// `GET /spotlab/v1/live`: a snapshot at once, then one every real second, as
/// Server-Sent Events (`data: {...}`), until the client goes or the cloud stops.
pub(crate) async fn live(State(endpoint): State<Arc<Endpoint>>) -> Response {
    let shared = endpoint.shared.clone();
    let stop = endpoint.stop.clone();
    let mut ticks = tokio::time::interval(LIVE_EVERY);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let stream = futures_util::stream::unfold((shared, ticks), move |(shared, mut ticks)| {
        let stop = stop.clone();
        async move {
            tokio::select! {
                _ = ticks.tick() => {}
                () = stop.cancelled() => return None,
            }
            let frame = match snapshot_json(&shared) {
                Ok(json) => format!("data: {json}\n\n"),
                Err(error) => format!("event: failure\ndata: {error}\n\n"),
            };
            Some((
                Ok::<Bytes, std::io::Error>(Bytes::from(frame)),
                (shared, ticks),
            ))
        }
    });
    let mut response = Response::new(Body::from_stream(stream));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
mod tests {
    use super::names_action;

    #[test]
    fn only_a_query_naming_an_action_is_an_aws_request() {
        assert!(names_action("Action=DescribeRegions&Version=2016-11-15"));
        assert!(names_action("Version=2016-11-15&Action=DescribeRegions"));
        assert!(!names_action(""));
        assert!(!names_action("once"));
        assert!(!names_action("NoAction=1&x=Action="));
    }
}
