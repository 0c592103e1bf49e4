//! A protocol bridge for tests: Smithy RPC v2 CBOR in front, AWS JSON 1.0 behind, so
//! aws-sdk-cloudwatch can talk to moto's CloudWatch.
//!
//! Why: aws-sdk-cloudwatch speaks only RPC v2 CBOR (`POST
//! /service/GraniteServiceVersion20100801/operation/<Op>`), while moto 5.2.5's
//! CloudWatch serves AWS JSON 1.0 and the query protocol and answers CBOR with 404.
//! The bridge is a loopback server that, per request:
//!
//! 1. routes it with `aws_wire::protocol::detect` (CloudWatch over CBOR only) and
//!    decodes its body (gunzipped if need be) with the model-driven CBOR codec into
//!    canonical JSON of the input shape;
//! 2. sends that to moto as AWS JSON 1.0 (`X-Amz-Target: <prefix>.<Op>`, timestamps as
//!    epoch seconds, blobs as base64: `aws_wire::json::encode_input`), with the
//!    client's `Authorization` and `X-Amz-Date` unchanged: moto reads the region from
//!    the credential scope and verifies no signature, so nothing is re-signed;
//! 3. translates moto's answer back: a success is decoded with the output shape and
//!    re-encoded as CBOR (`cbor::encode_output`, `cbor::response_headers`); an error
//!    keeps moto's code, message and HTTP status in CBOR's error document
//!    (`cbor::encode_error`).
//!
//! What it does not do: other services, streaming, retries (the SDK retries), or
//! anything moto itself does not (it adds no semantics). A failure of the bridge itself
//! (moto unreachable, an answer that does not fit the model) is an `InternalFailure`
//! (500) whose message says what went wrong, also printed to stderr, since the SDK's
//! retries would otherwise hide it.

use std::convert::Infallible;
use std::io::Read as _;

use aws_wire::model::Model;
use aws_wire::protocol::{self, Protocol, RequestParts, Service};
use aws_wire::{cbor, json};
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::Value;

/// A running bridge to one upstream; stopped when dropped.
pub struct Bridge {
    /// Its endpoint, `http://127.0.0.1:PORT`: what the SDK's `AWS_ENDPOINT_URL` names.
    pub url: String,
    /// Tells the server's thread to stop.
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    /// The server's thread (its own runtime, so a test blocking its own threads on a
    /// child process never starves the bridge).
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Bridge {
    /// Serves on a free loopback port, forwarding to the AWS JSON 1.0 endpoint
    /// `upstream` (`http://127.0.0.1:PORT`).
    pub fn start(upstream: &str) -> Bridge {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free loopback port");
        listener
            .set_nonblocking(true)
            .expect("a non-blocking listener");
        let url = format!(
            "http://{}",
            listener.local_addr().expect("the listener's address")
        );
        let upstream = format!("{}/", upstream.trim_end_matches('/'));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime for the bridge");
            runtime.block_on(serve(listener, upstream, stopped));
        });
        Bridge {
            url,
            stop: Some(stop),
            thread: Some(thread),
        }
    }
}

impl Drop for Bridge {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Accepts connections until `stopped`, one task each.
async fn serve(
    listener: std::net::TcpListener,
    upstream: String,
    mut stopped: tokio::sync::oneshot::Receiver<()>,
) {
    let listener = tokio::net::TcpListener::from_std(listener).expect("a tokio listener");
    let client = reqwest::Client::new();
    loop {
        let stream = tokio::select! {
            _ = &mut stopped => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(_) => continue,
            },
        };
        let (client, upstream) = (client.clone(), upstream.clone());
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request: Request<Incoming>| {
                let (client, upstream) = (client.clone(), upstream.clone());
                async move {
                    let answer = handle(&client, &upstream, request).await;
                    Ok::<_, Infallible>(answer.into_response())
                }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// An HTTP answer to send back to the SDK.
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn into_response(self) -> Response<Full<Bytes>> {
        let mut response = Response::builder().status(self.status);
        for (name, value) in &self.headers {
            response = response.header(name, value);
        }
        response
            .body(Full::new(Bytes::from(self.body)))
            .expect("valid status and headers")
    }

    /// CBOR's error document for `code` (a query code or an error shape's name), with
    /// `status` in place of the model's when given.
    fn error(code: &str, message: &str, status: Option<u16>) -> Answer {
        let encoded = cbor::encode_error(Model::cloudwatch(), code, message);
        Answer {
            status: status.unwrap_or(encoded.status),
            headers: encoded
                .headers
                .into_iter()
                .map(|(name, value)| (name.to_owned(), value))
                .collect(),
            body: encoded.body,
        }
    }

    /// The bridge's own failure, loudly.
    fn failure(message: String) -> Answer {
        eprintln!("cbor bridge: {message}");
        Answer::error("InternalFailure", &message, Some(500))
    }
}

/// One request: CBOR in, JSON to moto, CBOR back.
async fn handle(client: &reqwest::Client, upstream: &str, request: Request<Incoming>) -> Answer {
    let (parts, body) = request.into_parts();
    let body = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(error) => return Answer::failure(format!("reading the request: {error}")),
    };
    let headers: Vec<(&str, &str)> = parts
        .headers
        .iter()
        .filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?)))
        .collect();
    let header = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    };
    let body = match gunzip(header("content-encoding"), &body) {
        Ok(body) => body,
        Err(message) => return Answer::error("SerializationException", &message, None),
    };
    let (operation, json_body) = match to_json(&parts, &headers, &body) {
        Ok(translated) => translated,
        Err(answer) => return answer,
    };
    let model = Model::cloudwatch();
    let target = format!(
        "{}.{operation}",
        model.target_prefix.as_deref().unwrap_or_default()
    );
    let mut forward = client
        .post(upstream)
        .header("Content-Type", json::content_type(model))
        .header("X-Amz-Target", target)
        .body(json_body);
    for name in ["authorization", "x-amz-date", "x-amz-security-token"] {
        if let Some(value) = header(name) {
            forward = forward.header(name, value);
        }
    }
    let response = match forward.send().await {
        Ok(response) => response,
        Err(error) => return Answer::failure(format!("{operation}: moto did not answer: {error}")),
    };
    let status = response.status().as_u16();
    let request_id = response
        .headers()
        .get("x-amzn-requestid")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = match response.bytes().await {
        Ok(body) => body,
        Err(error) => {
            return Answer::failure(format!("{operation}: reading moto's answer: {error}"));
        }
    };
    let mut answer = to_cbor(&operation, status, &body);
    if let Some(id) = request_id {
        answer.headers.push(("x-amzn-RequestId".to_owned(), id));
    }
    answer
}

/// The body as sent before compression: the SDK gzips large `PutMetricData` calls.
fn gunzip(encoding: Option<&str>, body: &[u8]) -> Result<Vec<u8>, String> {
    if !encoding.is_some_and(|e| e.eq_ignore_ascii_case("gzip")) {
        return Ok(body.to_vec());
    }
    let mut plain = Vec::new();
    flate2::read::GzDecoder::new(body)
        .read_to_end(&mut plain)
        .map_err(|e| format!("The gzip body could not be decompressed: {e}"))?;
    Ok(plain)
}

/// The operation a CBOR request calls and its input as an AWS JSON 1.0 body, or the
/// CBOR error to answer instead (what the local cloud would answer).
fn to_json(
    parts: &hyper::http::request::Parts,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Result<(String, Vec<u8>), Answer> {
    let model = Model::cloudwatch();
    let request = RequestParts {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query().unwrap_or_default(),
        headers,
        body,
    };
    let detected = protocol::detect(&request)
        .map_err(|error| Answer::error(error.code(), &error.to_string(), None))?;
    if detected.service != Service::CloudWatch || detected.protocol != Protocol::RpcV2Cbor {
        return Err(Answer::error(
            "UnknownOperationException",
            &format!(
                "the bridge forwards CloudWatch's RPC v2 CBOR only, not {:?} over {:?}",
                detected.service, detected.protocol
            ),
            None,
        ));
    }
    let operation = detected.operation;
    let input = cbor::decode_input(model, &operation, body)
        .map_err(|error| Answer::error(error.code(), &error.to_string(), None))?;
    let json_body = json::encode_input(model, &operation, &input)
        .map_err(|error| Answer::failure(format!("{operation}: encoding for moto: {error:?}")))?;
    Ok((operation, json_body))
}

/// moto's JSON answer to `operation` as the CBOR answer the SDK expects.
fn to_cbor(operation: &str, status: u16, body: &[u8]) -> Answer {
    let model = Model::cloudwatch();
    if !(200..300).contains(&status) {
        let document: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        let text = |key: &str| document.get(key).and_then(Value::as_str);
        // `__type` is `<prefix or namespace>#<Shape>`, sometimes with `:<url>` after it.
        let Some(kind) = text("__type") else {
            return Answer::failure(format!(
                "{operation}: moto answered HTTP {status} without an error document: {}",
                String::from_utf8_lossy(&body[..body.len().min(300)])
            ));
        };
        let code = kind.rsplit('#').next().unwrap_or(kind);
        let code = code.split(':').next().unwrap_or(code);
        let message = text("message")
            .or_else(|| text("Message"))
            .unwrap_or_default();
        return Answer::error(code, message, Some(status));
    }
    let output = match json::decode_output(model, operation, body) {
        Ok(output) => output,
        Err(error) => return Answer::failure(format!("{operation}: moto's answer: {error}")),
    };
    match cbor::encode_output(model, operation, &output) {
        Ok(body) => Answer {
            status: 200,
            headers: cbor::response_headers(&body)
                .into_iter()
                .map(|(name, value)| (name.to_owned(), value.to_owned()))
                .collect(),
            body,
        },
        Err(error) => Answer::failure(format!("{operation}: encoding CBOR: {error:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header<'a>(answer: &'a Answer, name: &str) -> Option<&'a str> {
        answer
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn contains(haystack: &[u8], needle: &str) -> bool {
        haystack
            .windows(needle.len())
            .any(|window| window == needle.as_bytes())
    }

    #[test]
    fn motos_error_document_keeps_its_code_message_and_status() {
        let answer = to_cbor(
            "GetMetricStatistics",
            400,
            br#"{"__type": "GraniteServiceVersion20100801#InvalidParameterValueException",
                 "message": "The parameter StartTime must be less than the parameter EndTime."}"#,
        );
        assert_eq!(answer.status, 400);
        assert_eq!(
            header(&answer, "x-amzn-query-error"),
            Some("InvalidParameterValue;Sender")
        );
        assert_eq!(header(&answer, "smithy-protocol"), Some(cbor::PROTOCOL));
        assert!(contains(
            &answer.body,
            "com.amazonaws.cloudwatch#InvalidParameterValueException"
        ));
        assert!(contains(&answer.body, "must be less than"));
    }

    #[test]
    fn an_answer_that_fits_no_document_is_the_bridges_internal_failure() {
        let not_an_error = to_cbor("DescribeAlarms", 404, b"<html>Not Found</html>");
        assert_eq!(not_an_error.status, 500);
        assert!(contains(&not_an_error.body, "InternalFailure"));
        let off_model = to_cbor(
            "DescribeAlarms",
            200,
            br#"{"MetricAlarms": [{"Threshold": "high"}]}"#,
        );
        assert_eq!(off_model.status, 500);
        assert!(contains(&off_model.body, "MetricAlarms[0].Threshold"));
    }

    #[test]
    fn a_success_becomes_cbor_and_an_empty_one_has_no_body() {
        let stored = to_cbor("PutMetricData", 200, b"{}");
        assert_eq!((stored.status, stored.body.len()), (200, 0));
        assert_eq!(header(&stored, "content-type"), None);
        let alarms = to_cbor(
            "DescribeAlarms",
            200,
            br#"{"MetricAlarms": [{"AlarmName": "errors", "Threshold": 0.1}]}"#,
        );
        assert_eq!(header(&alarms, "content-type"), Some(cbor::CONTENT_TYPE));
        let model = Model::cloudwatch();
        let output = model
            .operation("DescribeAlarms")
            .and_then(|op| op.output)
            .expect("DescribeAlarms has an output");
        assert_eq!(
            cbor::decode_value(model, output, &alarms.body).expect("valid CBOR"),
            serde_json::json!({"MetricAlarms": [{"AlarmName": "errors", "Threshold": 0.1}]})
        );
    }
}
