//! CloudWatch, SNS and EventBridge on the endpoint, and IAM: each request decoded in the
//! protocol it arrived in (Smithy RPC v2 CBOR, AWS JSON 1.0/1.1, the query protocol),
//! applied to the region as a [`Command::Monitoring`] (a [`Command::Iam`] for IAM), and
//! answered in the same protocol, errors included. The codecs live in `aws-wire`, the
//! services in `monitoring` and `iam`.

use aws_wire::protocol::{Detected, EncodedError, Protocol, Service};
use aws_wire::{awsquery, cbor, json, query};
use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::Response;
use region::{Command, RegionError};
use serde_json::Value;

use crate::shared::Shared;

/// The monitoring service a detected request is for (`None` for EC2 and IAM).
pub fn service_of(service: Service) -> Option<monitoring::Service> {
    match service {
        Service::Ec2 | Service::Iam => None,
        Service::CloudWatch => Some(monitoring::Service::CloudWatch),
        Service::Sns => Some(monitoring::Service::Sns),
        Service::EventBridge => Some(monitoring::Service::EventBridge),
    }
}

/// The region's command for a call of `service` (`None` for EC2, which has its own
/// codec).
fn command(service: Service, action: String, input: Value) -> Option<Command> {
    match (service, service_of(service)) {
        (Service::Iam, _) => Some(Command::Iam { action, input }),
        (_, Some(service)) => Some(Command::Monitoring {
            service,
            action,
            input,
        }),
        (_, None) => None,
    }
}

/// Serves one CloudWatch, SNS, EventBridge or IAM request.
pub async fn serve(
    shared: &Shared,
    detected: Detected,
    url_query: &str,
    body: &[u8],
    request_id: &str,
) -> Response {
    let model = detected.service.model();
    let operation = detected.operation.as_str();
    let decoded = match detected.protocol {
        Protocol::Json10 | Protocol::Json11 => {
            json::decode_input(model, operation, body).map_err(|e| (e.code(model), e.to_string()))
        }
        Protocol::RpcV2Cbor => {
            cbor::decode_input(model, operation, body).map_err(|e| (e.code(), e.to_string()))
        }
        Protocol::Query => match query::decode(url_query, body) {
            Ok(request) => awsquery::decode_input(model, operation, &request.params)
                .map_err(|e| (e.code(model), e.to_string())),
            Err(e) => Err((invalid_parameter(detected.service), e.to_string())),
        },
        Protocol::Ec2Query => Err(("InvalidAction", "not a monitoring protocol".to_owned())),
    };
    let input = match decoded {
        Ok(input) => input,
        Err((code, message)) => {
            return error(
                detected.service,
                detected.protocol,
                code,
                &message,
                request_id,
            );
        }
    };
    let Some(command) = command(detected.service, detected.operation.clone(), input) else {
        return error(
            detected.service,
            detected.protocol,
            "InternalFailure",
            "an EC2 request reached the monitoring services",
            request_id,
        );
    };
    match shared.apply(command).await {
        Ok(output) => answer(&detected, &output, request_id),
        Err(failure) => {
            if matches!(failure, RegionError::Monitoring(_) | RegionError::Iam(_)) {
                tracing::debug!(service = detected.service.signing_name(), action = %detected.operation, code = %failure.code(), message = %failure.message(), "call refused");
            }
            error(
                detected.service,
                detected.protocol,
                failure.code(),
                failure.message(),
                request_id,
            )
        }
    }
}

/// The code for a request the query decoder could not read at all.
fn invalid_parameter(service: Service) -> &'static str {
    match service {
        Service::Sns => "InvalidParameter",
        _ => "InvalidParameterValue",
    }
}

fn answer(detected: &Detected, output: &Value, request_id: &str) -> Response {
    let model = detected.service.model();
    let operation = detected.operation.as_str();
    let encoded = match detected.protocol {
        Protocol::Json10 | Protocol::Json11 => {
            json::encode_output(model, operation, output).map(|body| {
                (
                    body,
                    vec![("Content-Type", json::content_type(model).to_owned())],
                )
            })
        }
        Protocol::RpcV2Cbor => cbor::encode_output(model, operation, output).map(|body| {
            let headers = cbor::response_headers(&body)
                .into_iter()
                .map(|(name, value)| (name, value.to_owned()))
                .collect();
            (body, headers)
        }),
        Protocol::Query | Protocol::Ec2Query => {
            awsquery::encode_output(model, operation, output, request_id).map(|body| {
                (
                    body.into_bytes(),
                    vec![("Content-Type", awsquery::CONTENT_TYPE.to_owned())],
                )
            })
        }
    };
    match encoded {
        Ok((body, headers)) => respond(200, headers, body, request_id),
        Err(e) => {
            tracing::error!(action = %operation, error = %e, "an answer did not fit its output shape");
            error(
                detected.service,
                detected.protocol,
                "InternalFailure",
                "The answer could not be rendered.",
                request_id,
            )
        }
    }
}

/// An error in the request's protocol.
pub fn error(
    service: Service,
    protocol: Protocol,
    code: &str,
    message: &str,
    request_id: &str,
) -> Response {
    let model = service.model();
    let EncodedError {
        status,
        headers,
        body,
    } = match protocol {
        Protocol::Json10 | Protocol::Json11 => json::encode_error(model, code, message),
        Protocol::RpcV2Cbor => cbor::encode_error(model, code, message),
        Protocol::Query | Protocol::Ec2Query => {
            awsquery::encode_error(model, code, message, request_id)
        }
    };
    respond(status, headers, body, request_id)
}

/// A response with `status`, `headers`, `body` and the request's id.
pub(crate) fn respond(
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
    request_id: &str,
) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let map = response.headers_mut();
    for (name, value) in headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            map.insert(name, value);
        }
    }
    if let Ok(id) = HeaderValue::from_str(request_id) {
        map.insert(HeaderName::from_static("x-amzn-requestid"), id);
    }
    map.insert(header::SERVER, HeaderValue::from_static("spotlab"));
    response
}
