//! Any request to the shared endpoint: protocol detection must name a service, protocol
//! and operation or refuse, never panic; the detected protocol's decoder must then
//! answer a value or an error for the detected operation, and every refusal must render
//! as its protocol's error document. For the JSON protocols what decodes is canonical:
//! decoding its serialization gives it back unchanged.
//!
//! Input layout (see `seeds/make_seeds.py`, which writes botocore's recorded requests in
//! it): byte 0 picks a header set ([`headers`]), byte 1 the method ([`METHODS`]), then
//! `path \n query \n extra \n body`. `extra` fills the header set's variable part (an
//! operation for `X-Amz-Target`, a raw header value); the body is the rest, any bytes.
#![no_main]

use aws_wire::protocol::{self, DetectError, Detected, Protocol, RequestParts};
use aws_wire::{awsquery, cbor, json, query};
use libfuzzer_sys::fuzz_target;

/// Methods, by byte 1 (modulo their number).
const METHODS: [&str; 5] = ["POST", "GET", "PUT", "DELETE", "post"];

const FORM: &str = "application/x-www-form-urlencoded; charset=utf-8";
const AUTH_MONITORING: &str = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240102/us-east-1/monitoring/aws4_request, SignedHeaders=host, Signature=00";
const AUTH_SNS: &str = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240102/us-east-1/sns/aws4_request, SignedHeaders=host, Signature=00";
const AUTH_EVENTS: &str = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240102/us-east-1/events/aws4_request, SignedHeaders=host, Signature=00";

/// The header sets byte 0 chooses among; `extra` is the input's third line.
fn headers(selector: u8, extra: &str) -> Vec<(String, String)> {
    let pairs: Vec<(&str, String)> = match selector % 12 {
        // aws-sdk-rust's CloudWatch: Smithy RPC v2 CBOR.
        0 => vec![
            ("smithy-protocol", "rpc-v2-cbor".into()),
            ("Content-Type", "application/cbor".into()),
            ("Accept", "application/cbor".into()),
            ("Authorization", AUTH_MONITORING.into()),
        ],
        // botocore's CloudWatch: AWS JSON 1.0, query-compatible.
        1 => vec![
            ("Content-Type", "application/x-amz-json-1.0".into()),
            (
                "X-Amz-Target",
                format!("GraniteServiceVersion20100801.{extra}"),
            ),
            ("x-amzn-query-mode", "true".into()),
            ("Authorization", AUTH_MONITORING.into()),
        ],
        // EventBridge: AWS JSON 1.1.
        2 => vec![
            ("Content-Type", "application/x-amz-json-1.1".into()),
            ("X-Amz-Target", format!("AWSEvents.{extra}")),
            ("Authorization", AUTH_EVENTS.into()),
        ],
        // CloudWatch's query protocol (Action/Version in the form).
        3 => vec![
            ("Content-Type", FORM.into()),
            ("Authorization", AUTH_MONITORING.into()),
        ],
        // SNS's query protocol.
        4 => vec![
            ("Content-Type", FORM.into()),
            ("Authorization", AUTH_SNS.into()),
        ],
        // Nothing: unsigned links (SNS confirmations), bare forms.
        5 => Vec::new(),
        // A raw target, either spelling.
        6 => vec![("X-Amzn-Target", extra.into())],
        7 => vec![("X-Amz-Target", extra.into())],
        // A raw smithy-protocol.
        8 => vec![("smithy-protocol", extra.into())],
        // CBOR with a target, which the protocol forbids.
        9 => vec![
            ("smithy-protocol", "rpc-v2-cbor".into()),
            ("X-Amz-Target", extra.into()),
        ],
        // A raw Authorization (its credential scope steers detection).
        10 => vec![
            ("Content-Type", FORM.into()),
            ("Authorization", extra.into()),
        ],
        // A raw Content-Type (decides whether the body is a form).
        _ => vec![("Content-Type", extra.into())],
    };
    pairs
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value))
        .collect()
}

/// Splits off the next `\n`-terminated line; without one, the rest is the line.
fn line(data: &[u8]) -> (&[u8], &[u8]) {
    match data.iter().position(|b| *b == b'\n') {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &[]),
    }
}

fuzz_target!(|data: &[u8]| {
    let [selector, method, rest @ ..] = data else {
        return;
    };
    let (path, rest) = line(rest);
    let (url_query, rest) = line(rest);
    let (extra, body) = line(rest);
    let path = String::from_utf8_lossy(path);
    let url_query = String::from_utf8_lossy(url_query);
    let extra = String::from_utf8_lossy(extra);
    let owned = headers(*selector, &extra);
    let header_refs: Vec<(&str, &str)> = owned
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let request = RequestParts {
        method: METHODS[usize::from(*method) % METHODS.len()],
        path: &path,
        query: &url_query,
        headers: &header_refs,
        body,
    };
    match protocol::detect(&request) {
        Ok(detected) => decode(&detected, &url_query, body),
        Err(error) => refuse(&error),
    }
});

/// Runs the detected protocol's decoder on the detected operation.
fn decode(detected: &Detected, url_query: &str, body: &[u8]) {
    let model = detected.service.model();
    let operation = detected.operation.as_str();
    assert!(
        model.operation(operation).is_some(),
        "detect named {operation}, which {:?}'s model lacks",
        detected.service
    );
    match detected.protocol {
        Protocol::Json10 | Protocol::Json11 => match json::decode_input(model, operation, body) {
            Ok(decoded) => {
                let again = serde_json::to_vec(&decoded)
                    .map_err(|e| e.to_string())
                    .and_then(|bytes| {
                        json::decode_input(model, operation, &bytes).map_err(|e| e.to_string())
                    });
                assert_eq!(
                    again.as_ref(),
                    Ok(&decoded),
                    "{operation}: decoding is not idempotent"
                );
            }
            Err(error) => {
                let _ = json::encode_error(model, error.code(model), &error.to_string());
            }
        },
        Protocol::RpcV2Cbor => match cbor::decode_input(model, operation, body) {
            Ok(_) => {}
            Err(error) => {
                let _ = cbor::encode_error(model, error.code(), &error.to_string());
            }
        },
        Protocol::Query => match query::decode(url_query, body) {
            Ok(request) => match awsquery::decode_input(model, operation, &request.params) {
                Ok(_) => {}
                Err(error) => {
                    let _ = awsquery::encode_error(
                        model,
                        error.code(model),
                        &error.to_string(),
                        "fuzz",
                    );
                }
            },
            Err(error) => {
                let _ = awsquery::encode_error(
                    model,
                    "MalformedQueryString",
                    &error.to_string(),
                    "fuzz",
                );
            }
        },
        Protocol::Ec2Query => match ec2::wire::decode_request(url_query, body) {
            Ok(request) => {
                let echo = Ok(request.input.clone());
                let _ = ec2::wire::encode_response(&request.action, &echo, "fuzz");
            }
            Err(error) => {
                let _ = ec2::wire::encode_response("Fuzz", &Err(error), "fuzz");
            }
        },
    }
}

/// Renders a detection failure the way its answer says.
fn refuse(error: &DetectError) {
    let message = error.to_string();
    let code = error.code();
    match error.answer_in() {
        Some((service, Protocol::Json10 | Protocol::Json11)) => {
            let _ = json::encode_error(service.model(), code, &message);
        }
        Some((service, Protocol::RpcV2Cbor)) => {
            let _ = cbor::encode_error(service.model(), code, &message);
        }
        Some((service, Protocol::Query)) => {
            let _ = awsquery::encode_error(service.model(), code, &message, "fuzz");
        }
        // EC2's error document, the endpoint's default.
        Some((_, Protocol::Ec2Query)) | None => {
            let _ =
                ec2::wire::encode_response("Fuzz", &Err(ec2::ApiError::new(code, message)), "fuzz");
        }
    }
}
