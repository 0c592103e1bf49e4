//! Which service, protocol and operation a request is for, from its method, path,
//! headers and body, so that one endpoint serves EC2, CloudWatch, SNS and EventBridge
//! in every protocol their clients speak (fact sheet 1.7), and IAM, in this order:
//!
//! 1. Smithy RPC v2 CBOR: `smithy-protocol: rpc-v2-cbor` and a path ending
//!    `/service/GraniteServiceVersion20100801/operation/<Op>` (the absolute shape id
//!    `com.amazonaws.cloudwatch.GraniteServiceVersion20100801` too). Such a request
//!    carrying `X-Amz-Target` or `X-Amzn-Target` is rejected, as the protocol requires.
//! 2. AWS JSON: `X-Amz-Target: <prefix>.<Op>`; `GraniteServiceVersion20100801` is
//!    CloudWatch (JSON 1.0), `AWSEvents` is EventBridge (JSON 1.1). The protocol is the
//!    service's JSON version whatever `Content-Type` says.
//! 3. The query protocols: `Action` and `Version` in the form body or the URL query
//!    string; `2010-08-01` is CloudWatch, `2010-03-31` SNS, `2016-11-15` EC2,
//!    `2010-05-08` IAM (global: any region in its credential scope). Without a
//!    `Version`: SNS's unsigned confirmation and unsubscribe links (`GET
//!    ?Action=ConfirmSubscription&TopicArn=..&Token=..`, `?Action=Unsubscribe&
//!    SubscriptionArn=..`), then the SigV4 credential scope's service
//!    (`.../monitoring/aws4_request`), then the one service that has the action.
//!
//! A SigV4 scope naming another of the served services than the one detected is an error
//! (a client pointed at the wrong service). The body must already be decompressed
//! (`Content-Encoding: gzip`, fact sheet 1.6). Parsing the whole request and checking
//! its signature are the codecs' and [`crate::sigv4`]'s business.
//!
//! This module also holds what the protocol codecs share: [`EncodedError`],
//! [`OutputError`] and the status of AWS's common, unmodeled error codes.

use crate::model::Model;

/// The CloudWatch service's shape name: the `X-Amz-Target` prefix and the CBOR path's
/// service segment.
const CLOUDWATCH_SERVICE: &str = "GraniteServiceVersion20100801";

/// The absolute shape id form of [`CLOUDWATCH_SERVICE`] (`#` written as `.`).
const CLOUDWATCH_SHAPE_ID: &str = "com.amazonaws.cloudwatch.GraniteServiceVersion20100801";

/// A service the local cloud serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Service {
    /// EC2 (EC2 query protocol).
    Ec2,
    /// CloudWatch (CBOR, JSON 1.0 or query).
    CloudWatch,
    /// SNS (query).
    Sns,
    /// EventBridge (JSON 1.1).
    EventBridge,
    /// IAM (query).
    Iam,
}

impl Service {
    /// Every service, in detection's tie-breaking order.
    pub const ALL: [Service; 5] = [
        Service::Ec2,
        Service::CloudWatch,
        Service::Sns,
        Service::EventBridge,
        Service::Iam,
    ];

    /// The service's model.
    pub fn model(self) -> &'static Model {
        match self {
            Service::Ec2 => Model::ec2(),
            Service::CloudWatch => Model::cloudwatch(),
            Service::Sns => Model::sns(),
            Service::EventBridge => Model::events(),
            Service::Iam => Model::iam(),
        }
    }

    /// The service name of its SigV4 credential scope (`monitoring` for CloudWatch).
    pub fn signing_name(self) -> &'static str {
        match self {
            Service::Ec2 => "ec2",
            Service::CloudWatch => "monitoring",
            Service::Sns => "sns",
            Service::EventBridge => "events",
            Service::Iam => "iam",
        }
    }

    /// The query protocol's `Version` for the services that speak it.
    pub fn query_version(self) -> Option<&'static str> {
        match self {
            Service::Ec2 => Some("2016-11-15"),
            Service::CloudWatch => Some("2010-08-01"),
            Service::Sns => Some("2010-03-31"),
            Service::Iam => Some("2010-05-08"),
            Service::EventBridge => None,
        }
    }

    /// The service whose SigV4 signing name is `name`.
    pub fn from_signing_name(name: &str) -> Option<Service> {
        Service::ALL.into_iter().find(|s| s.signing_name() == name)
    }
}

/// A wire protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Protocol {
    /// EC2's variant of the query protocol ([`crate::ec2`]).
    Ec2Query,
    /// The query protocol ([`crate::awsquery`]).
    Query,
    /// AWS JSON 1.0 ([`crate::json`]).
    Json10,
    /// AWS JSON 1.1 ([`crate::json`]).
    Json11,
    /// Smithy RPC v2 CBOR ([`crate::cbor`]).
    RpcV2Cbor,
}

impl Protocol {
    /// The `Content-Type` of its answers.
    pub fn content_type(self) -> &'static str {
        match self {
            Protocol::Ec2Query | Protocol::Query => "text/xml",
            Protocol::Json10 => "application/x-amz-json-1.0",
            Protocol::Json11 => "application/x-amz-json-1.1",
            Protocol::RpcV2Cbor => "application/cbor",
        }
    }
}

/// What a request is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detected {
    /// The service it is for.
    pub service: Service,
    /// The protocol it speaks (and must be answered in).
    pub protocol: Protocol,
    /// The operation, one the service's model has (e.g. `PutMetricData`).
    pub operation: String,
}

/// A request as received, with its body decompressed.
#[derive(Debug, Clone, Copy)]
pub struct RequestParts<'a> {
    /// The HTTP method, e.g. `POST`.
    pub method: &'a str,
    /// The path, e.g. `/` or `/service/GraniteServiceVersion20100801/operation/PutMetricData`.
    pub path: &'a str,
    /// The URL query string without the `?`; empty when there is none.
    pub query: &'a str,
    /// Every header: names in any case.
    pub headers: &'a [(&'a str, &'a str)],
    /// The body, already gunzipped.
    pub body: &'a [u8],
}

impl RequestParts<'_> {
    /// The first header named `name` (case-insensitive), trimmed.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim())
    }
}

/// Why a request could not be routed. Each variant says how to answer it: see
/// [`DetectError::code`] and [`DetectError::answer_in`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DetectError {
    /// Nothing identifies a protocol: no `smithy-protocol`, no `X-Amz-Target`, no
    /// `Action`.
    #[error("The request does not identify an operation (no X-Amz-Target, no Action).")]
    Unrecognized,
    /// `smithy-protocol` names a protocol other than `rpc-v2-cbor`.
    #[error("Unsupported smithy-protocol {0:?}; only rpc-v2-cbor is served.")]
    UnsupportedSmithyProtocol(String),
    /// A CBOR request whose path is not `.../service/<Service>/operation/<Op>`, or a
    /// path of that form without `smithy-protocol: rpc-v2-cbor`.
    #[error("Malformed RPC v2 CBOR request: {0}")]
    MalformedCborRequest(String),
    /// A CBOR request carrying `X-Amz-Target` or `X-Amzn-Target`, which the protocol
    /// forbids.
    #[error("RPC v2 CBOR requests must not carry an X-Amz-Target header.")]
    CborWithTarget,
    /// A CBOR path naming a service that is not served.
    #[error("Unknown service {0:?}.")]
    UnknownCborService(String),
    /// An `X-Amz-Target` that is not `<prefix>.<Operation>`.
    #[error("Malformed X-Amz-Target {0:?}.")]
    MalformedTarget(String),
    /// An `X-Amz-Target` prefix no served service has.
    #[error("Unknown X-Amz-Target prefix {0:?}.")]
    UnknownTargetPrefix(String),
    /// A JSON or CBOR request sent with a method other than POST.
    #[error("Method {method} is not allowed; use POST.")]
    MethodNotAllowed {
        /// The method sent.
        method: String,
        /// The protocol the request otherwise speaks.
        protocol: Protocol,
        /// Its service.
        service: Service,
    },
    /// A query request without `Action` (but with a `Version`).
    #[error("The request must contain the parameter Action.")]
    MissingAction {
        /// The service the `Version` names, if it names one.
        service: Option<Service>,
    },
    /// A query request whose `Version` no served service has.
    #[error("Unknown Version {0:?}.")]
    UnknownVersion(String),
    /// A query request without `Version` whose service nothing else tells.
    #[error("The request must contain the parameter Version.")]
    MissingVersion {
        /// The action sent.
        action: String,
    },
    /// The service has no such operation (or does not serve it).
    #[error("The action {operation} is not valid for this web service.")]
    UnknownOperation {
        /// The service.
        service: Service,
        /// The protocol to answer in.
        protocol: Protocol,
        /// The operation sent.
        operation: String,
    },
    /// The SigV4 credential scope names another served service than the request.
    #[error(
        "Credential should be scoped to a valid service: the request is for {} but is signed for {scope:?}.",
        .service.signing_name()
    )]
    ScopeMismatch {
        /// The scope's service name.
        scope: String,
        /// The service the request is for.
        service: Service,
        /// Its protocol.
        protocol: Protocol,
    },
}

impl DetectError {
    /// The AWS error code to answer with.
    pub fn code(&self) -> &'static str {
        match self {
            DetectError::Unrecognized => "InvalidAction",
            DetectError::UnsupportedSmithyProtocol(_)
            | DetectError::MalformedCborRequest(_)
            | DetectError::CborWithTarget
            | DetectError::UnknownCborService(_)
            | DetectError::MalformedTarget(_)
            | DetectError::UnknownTargetPrefix(_) => "UnknownOperationException",
            DetectError::MethodNotAllowed { protocol, .. } => match protocol {
                Protocol::Ec2Query | Protocol::Query => "InvalidAction",
                _ => "UnknownOperationException",
            },
            DetectError::MissingAction { .. } => "MissingAction",
            DetectError::UnknownVersion(_) => "InvalidAction",
            DetectError::MissingVersion { .. } => "MissingParameter",
            DetectError::UnknownOperation { protocol, .. } => match protocol {
                Protocol::Ec2Query | Protocol::Query => "InvalidAction",
                _ => "UnknownOperationException",
            },
            DetectError::ScopeMismatch { .. } => "IncompleteSignature",
        }
    }

    /// The service and protocol the answer should speak, when the request showed them;
    /// `None` when it did not (the caller's default, e.g. EC2's error document).
    pub fn answer_in(&self) -> Option<(Service, Protocol)> {
        match self {
            DetectError::Unrecognized
            | DetectError::UnknownVersion(_)
            | DetectError::MissingVersion { .. } => None,
            // A JSON client of some service: EventBridge's plain AWS JSON error
            // (`{"__type": "UnknownOperationException", ...}`) is what any JSON client
            // understands.
            DetectError::UnknownTargetPrefix(_) | DetectError::MalformedTarget(_) => {
                Some((Service::EventBridge, Protocol::Json11))
            }
            DetectError::UnsupportedSmithyProtocol(_)
            | DetectError::MalformedCborRequest(_)
            | DetectError::CborWithTarget
            | DetectError::UnknownCborService(_) => {
                Some((Service::CloudWatch, Protocol::RpcV2Cbor))
            }
            DetectError::MissingAction { service } => service.map(|s| (s, query_protocol(s))),
            DetectError::MethodNotAllowed {
                service, protocol, ..
            }
            | DetectError::UnknownOperation {
                service, protocol, ..
            }
            | DetectError::ScopeMismatch {
                service, protocol, ..
            } => Some((*service, *protocol)),
        }
    }
}

/// Decides which service, protocol and operation `request` is for.
pub fn detect(request: &RequestParts<'_>) -> Result<Detected, DetectError> {
    let detected = if let Some(detected) = detect_cbor(request)? {
        detected
    } else if let Some(target) = request
        .header("x-amz-target")
        .or_else(|| request.header("x-amzn-target"))
    {
        detect_json(request, target)?
    } else {
        detect_query(request)?
    };
    if let Some(scope) = scope_service(request)
        && let Some(signed_for) = Service::from_signing_name(&scope)
        && signed_for != detected.service
    {
        return Err(DetectError::ScopeMismatch {
            scope,
            service: detected.service,
            protocol: detected.protocol,
        });
    }
    Ok(detected)
}

/// Checks that `service` has `operation`.
fn served(service: Service, protocol: Protocol, operation: &str) -> Result<Detected, DetectError> {
    if service.model().operation(operation).is_none() {
        return Err(DetectError::UnknownOperation {
            service,
            protocol,
            operation: operation.to_owned(),
        });
    }
    Ok(Detected {
        service,
        protocol,
        operation: operation.to_owned(),
    })
}

fn require_post(
    request: &RequestParts<'_>,
    service: Service,
    protocol: Protocol,
) -> Result<(), DetectError> {
    if request.method.eq_ignore_ascii_case("POST") {
        Ok(())
    } else {
        Err(DetectError::MethodNotAllowed {
            method: request.method.to_owned(),
            protocol,
            service,
        })
    }
}

/// `(service, operation)` of a path ending `/service/<S>/operation/<Op>`.
fn cbor_path(path: &str) -> Option<(&str, &str)> {
    let segments: Vec<&str> = path.split('/').collect();
    let [.., service_word, service, operation_word, operation] = segments[..] else {
        return None;
    };
    (service_word == "service" && operation_word == "operation").then_some((service, operation))
}

fn detect_cbor(request: &RequestParts<'_>) -> Result<Option<Detected>, DetectError> {
    let header = request.header("smithy-protocol");
    let path = cbor_path(request.path);
    match (header, path) {
        (None, None) => Ok(None),
        // A path of the CBOR form alone is not enough: an unrelated request could
        // have it. It is only an error when nothing else identifies the request.
        (None, Some(_)) => {
            if request.header("x-amz-target").is_some() || query_param(request, "Action").is_some()
            {
                Ok(None)
            } else {
                Err(DetectError::MalformedCborRequest(
                    "the smithy-protocol: rpc-v2-cbor header is missing".to_owned(),
                ))
            }
        }
        (Some(protocol), _) if protocol != "rpc-v2-cbor" => {
            Err(DetectError::UnsupportedSmithyProtocol(protocol.to_owned()))
        }
        (Some(_), None) => Err(DetectError::MalformedCborRequest(format!(
            "the path {:?} does not end /service/<service>/operation/<operation>",
            request.path
        ))),
        (Some(_), Some((service, operation))) => {
            if request.header("x-amz-target").is_some() || request.header("x-amzn-target").is_some()
            {
                return Err(DetectError::CborWithTarget);
            }
            if service != CLOUDWATCH_SERVICE && service != CLOUDWATCH_SHAPE_ID {
                return Err(DetectError::UnknownCborService(service.to_owned()));
            }
            require_post(request, Service::CloudWatch, Protocol::RpcV2Cbor)?;
            served(Service::CloudWatch, Protocol::RpcV2Cbor, operation).map(Some)
        }
    }
}

fn detect_json(request: &RequestParts<'_>, target: &str) -> Result<Detected, DetectError> {
    let Some((prefix, operation)) = target.split_once('.') else {
        return Err(DetectError::MalformedTarget(target.to_owned()));
    };
    if prefix.is_empty() || operation.is_empty() {
        return Err(DetectError::MalformedTarget(target.to_owned()));
    }
    let service = [Service::CloudWatch, Service::EventBridge]
        .into_iter()
        .find(|s| s.model().target_prefix.as_deref() == Some(prefix))
        .ok_or_else(|| DetectError::UnknownTargetPrefix(prefix.to_owned()))?;
    let protocol = match service.model().json_version.as_deref() {
        Some("1.0") => Protocol::Json10,
        _ => Protocol::Json11,
    };
    require_post(request, service, protocol)?;
    served(service, protocol, operation)
}

/// The query protocol a service speaks.
fn query_protocol(service: Service) -> Protocol {
    match service {
        Service::Ec2 => Protocol::Ec2Query,
        _ => Protocol::Query,
    }
}

/// Whether the body is a form (POST with a form content type, or none).
fn body_is_form(request: &RequestParts<'_>) -> bool {
    if !request.method.eq_ignore_ascii_case("POST") {
        return false;
    }
    match request.header("content-type") {
        None => true,
        Some(kind) => kind
            .to_ascii_lowercase()
            .starts_with("application/x-www-form-urlencoded"),
    }
}

/// A query parameter from the form body (which wins, as in [`crate::query::decode`]) or
/// the URL query string.
fn query_param(request: &RequestParts<'_>, name: &str) -> Option<String> {
    let find = |bytes: &[u8]| {
        form_urlencoded::parse(bytes)
            .filter(|(key, _)| key == name)
            .map(|(_, value)| value.into_owned())
            .last()
    };
    let from_body = if body_is_form(request) {
        find(request.body)
    } else {
        None
    };
    from_body.or_else(|| find(request.query.as_bytes()))
}

fn detect_query(request: &RequestParts<'_>) -> Result<Detected, DetectError> {
    let is_get = request.method.eq_ignore_ascii_case("GET");
    let action = query_param(request, "Action").filter(|a| !a.is_empty());
    let version = query_param(request, "Version").filter(|v| !v.is_empty());
    let by_version = |version: &str| {
        Service::ALL
            .into_iter()
            .find(|s| s.query_version() == Some(version))
    };
    let Some(action) = action else {
        return match version {
            Some(version) => Err(DetectError::MissingAction {
                service: by_version(&version),
            }),
            None => Err(DetectError::Unrecognized),
        };
    };
    if !is_get && !request.method.eq_ignore_ascii_case("POST") {
        let service = version
            .as_deref()
            .and_then(by_version)
            .unwrap_or(Service::Ec2);
        return Err(DetectError::MethodNotAllowed {
            method: request.method.to_owned(),
            protocol: query_protocol(service),
            service,
        });
    }
    let service = match version {
        Some(version) => by_version(&version).ok_or(DetectError::UnknownVersion(version))?,
        None => versionless_service(request, &action, is_get).ok_or_else(|| {
            DetectError::MissingVersion {
                action: action.clone(),
            }
        })?,
    };
    served(service, query_protocol(service), &action)
}

/// The service of a query request without `Version`.
fn versionless_service(request: &RequestParts<'_>, action: &str, is_get: bool) -> Option<Service> {
    let has = |name: &str| query_param(request, name).is_some_and(|v| !v.is_empty());
    let sns_link = match action {
        "ConfirmSubscription" => has("TopicArn") && has("Token"),
        "Unsubscribe" => has("SubscriptionArn"),
        _ => false,
    };
    if is_get && sns_link {
        return Some(Service::Sns);
    }
    if let Some(service) = scope_service(request).and_then(|s| Service::from_signing_name(&s))
        && service.query_version().is_some()
    {
        return Some(service);
    }
    let mut having = Service::ALL
        .into_iter()
        .filter(|s| s.query_version().is_some() && s.model().operation(action).is_some());
    match (having.next(), having.next()) {
        (Some(only), None) => Some(only),
        _ => None,
    }
}

/// The service name of the request's SigV4 credential scope, from the `Authorization`
/// header (`Credential=AKID/20240101/us-east-1/monitoring/aws4_request`) or a presigned
/// URL's `X-Amz-Credential`.
pub fn scope_service(request: &RequestParts<'_>) -> Option<String> {
    let credential = match request.header("authorization") {
        Some(authorization) => {
            let start = authorization.find("Credential=")? + "Credential=".len();
            let rest = &authorization[start..];
            let end = rest.find([',', ' ']).unwrap_or(rest.len());
            rest[..end].to_owned()
        }
        None => form_urlencoded::parse(request.query.as_bytes())
            .find(|(key, _)| key == "X-Amz-Credential")
            .map(|(_, value)| value.into_owned())?,
    };
    let parts: Vec<&str> = credential.split('/').collect();
    match parts[..] {
        [_, _, _, service, "aws4_request"] if !service.is_empty() => Some(service.to_owned()),
        _ => None,
    }
}

/// An error response, ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedError {
    /// The HTTP status: the error shape's, else [`common_error`]'s, else 400.
    pub status: u16,
    /// `Content-Type` and the protocol's own headers (`x-amzn-query-error`,
    /// `x-amzn-RequestId`), as each codec documents.
    pub headers: Vec<(&'static str, String)>,
    /// The error document.
    pub body: Vec<u8>,
}

/// Why an answer could not be rendered: the service built JSON its output shape does
/// not have. A defect, answered as an internal error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot render {path}: {reason}")]
pub struct OutputError {
    /// Where in the answer, e.g. `MetricAlarms[0].Bogus`.
    pub path: String,
    /// What was wrong.
    pub reason: String,
}

/// How an error is sent: its code (the query code of a modeled shape), the name to show
/// as the JSON protocols' `__type`, the status and whether it is the client's fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ErrorSpec {
    /// The query protocol's code (`InvalidParameterValue`).
    pub code: String,
    /// The error shape's name, or the code when the model has none (`__type`).
    pub shape: String,
    /// Whether the model has it.
    pub modeled: bool,
    /// The HTTP status.
    pub status: u16,
    /// `Sender` rather than `Receiver`.
    pub sender_fault: bool,
}

/// Finds `code` (a query code or a shape name) in `model`, else among AWS's common
/// errors, else takes it as a client error with status 400.
pub(crate) fn error_spec(model: &Model, code: &str) -> ErrorSpec {
    match model.error_by_code(code) {
        Some((id, info)) => ErrorSpec {
            code: info.code.clone(),
            shape: model.shape_name(id).to_owned(),
            modeled: true,
            status: info.status,
            sender_fault: info.sender_fault,
        },
        None => {
            let (status, sender_fault) = common_error(code).unwrap_or((400, true));
            ErrorSpec {
                code: code.to_owned(),
                shape: code.to_owned(),
                modeled: false,
                status,
                sender_fault,
            }
        }
    }
}

/// The HTTP status and fault side (`true`: the client's) of AWS's common errors, which
/// no service model lists: the query protocol's (CloudWatch and SNS API references,
/// "Common Errors") and the JSON protocols' equivalents.
pub fn common_error(code: &str) -> Option<(u16, bool)> {
    Some(match code {
        "InternalFailure" | "InternalError" | "InternalServerError" | "InternalServiceError" => {
            (500, false)
        }
        "ServiceUnavailable" => (503, false),
        "MalformedQueryString" => (404, true),
        "InvalidClientTokenId"
        | "MissingAuthenticationToken"
        | "OptInRequired"
        | "SignatureDoesNotMatch" => (403, true),
        "AccessDeniedException"
        | "IncompleteSignature"
        | "InvalidAction"
        | "InvalidParameterCombination"
        | "InvalidParameterValue"
        | "InvalidQueryParameter"
        | "InvalidSignatureException"
        | "MissingAction"
        | "MissingAuthenticationTokenException"
        | "MissingParameter"
        | "NotAuthorized"
        | "RequestExpired"
        | "SerializationException"
        | "ThrottlingException"
        | "UnknownOperationException"
        | "UnrecognizedClientException"
        | "ValidationError"
        | "ValidationException" => (400, true),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts<'a>(headers: &'a [(&'a str, &'a str)], body: &'a [u8]) -> RequestParts<'a> {
        RequestParts {
            method: "POST",
            path: "/",
            query: "",
            headers,
            body,
        }
    }

    #[test]
    fn scope_comes_from_the_header_or_the_presigned_url() {
        let headers = [(
            "Authorization",
            "AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/monitoring/aws4_request, SignedHeaders=host, Signature=00",
        )];
        assert_eq!(
            scope_service(&parts(&headers, b"")).as_deref(),
            Some("monitoring")
        );
        let presigned = RequestParts {
            query: "X-Amz-Credential=AKID%2F20240101%2Fus-east-1%2Fsns%2Faws4_request",
            ..parts(&[], b"")
        };
        assert_eq!(scope_service(&presigned).as_deref(), Some("sns"));
        let broken = [("authorization", "AWS4-HMAC-SHA256 Credential=AKID/x")];
        assert_eq!(scope_service(&parts(&broken, b"")), None);
    }

    #[test]
    fn cbor_paths_need_all_four_segments() {
        assert_eq!(cbor_path("/service/S/operation/Op"), Some(("S", "Op")));
        assert_eq!(
            cbor_path("/prefix/x/service/S/operation/Op"),
            Some(("S", "Op"))
        );
        assert_eq!(cbor_path("/service/S/operation"), None);
        assert_eq!(cbor_path("/"), None);
    }
}
