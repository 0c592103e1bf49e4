//! Routing requests on one endpoint (monitoring-semantics 1.7): every request botocore
//! writes for CloudWatch (JSON 1.0, query, RPC v2 CBOR), SNS, EventBridge and IAM, and a
//! table of the rules' edges.

#[path = "monitoring/support.rs"]
mod support;

use aws_wire::protocol::{self, DetectError, Detected, Protocol, RequestParts, Service};
use proptest::prelude::*;

#[test]
fn every_request_botocore_writes_is_routed_to_its_operation() {
    let cases = support::recorded();
    assert!(cases.iter().any(|c| c.protocol == "smithy-rpc-v2-cbor"));
    for case in &cases {
        let headers: Vec<(&str, &str)> = case
            .headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let detected = protocol::detect(&RequestParts {
            method: &case.method,
            path: &case.path,
            query: &case.query,
            headers: &headers,
            body: &case.body,
        })
        .unwrap_or_else(|e| panic!("{} {} {}: {e}", case.service, case.protocol, case.operation));
        let expected = match (case.service.as_str(), case.protocol.as_str()) {
            ("cloudwatch", "json") => (Service::CloudWatch, Protocol::Json10),
            ("cloudwatch", "query") => (Service::CloudWatch, Protocol::Query),
            ("cloudwatch", "smithy-rpc-v2-cbor") => (Service::CloudWatch, Protocol::RpcV2Cbor),
            ("sns", "query") => (Service::Sns, Protocol::Query),
            ("events", "json") => (Service::EventBridge, Protocol::Json11),
            ("iam", "query") => (Service::Iam, Protocol::Query),
            other => panic!("unexpected case {other:?}"),
        };
        assert_eq!(
            detected,
            Detected {
                service: expected.0,
                protocol: expected.1,
                operation: case.operation.clone(),
            }
        );
    }
}

/// A request for the table below.
struct Req {
    method: &'static str,
    path: &'static str,
    query: &'static str,
    headers: Vec<(&'static str, &'static str)>,
    body: &'static str,
}

impl Req {
    fn post(headers: &[(&'static str, &'static str)], body: &'static str) -> Req {
        Req {
            method: "POST",
            path: "/",
            query: "",
            headers: headers.to_vec(),
            body,
        }
    }

    fn get(query: &'static str) -> Req {
        Req {
            method: "GET",
            path: "/",
            query,
            headers: Vec::new(),
            body: "",
        }
    }

    fn detect(&self) -> Result<Detected, DetectError> {
        protocol::detect(&RequestParts {
            method: self.method,
            path: self.path,
            query: self.query,
            headers: &self.headers,
            body: self.body.as_bytes(),
        })
    }
}

fn ok(service: Service, protocol: Protocol, operation: &str) -> Result<Detected, DetectError> {
    Ok(Detected {
        service,
        protocol,
        operation: operation.to_owned(),
    })
}

const CBOR_PATH: &str = "/service/GraniteServiceVersion20100801/operation/PutMetricData";
const FORM: (&str, &str) = (
    "Content-Type",
    "application/x-www-form-urlencoded; charset=utf-8",
);
const SIGNED_SNS: (&str, &str) = (
    "Authorization",
    "AWS4-HMAC-SHA256 Credential=AKID/20240102/us-east-1/sns/aws4_request, SignedHeaders=host, Signature=00",
);
const SIGNED_MONITORING: (&str, &str) = (
    "Authorization",
    "AWS4-HMAC-SHA256 Credential=AKID/20240102/us-east-1/monitoring/aws4_request, SignedHeaders=host, Signature=00",
);

#[test]
fn cbor_requests_need_header_and_path_and_no_target() {
    let cbor = |path: &'static str, headers: &[(&'static str, &'static str)]| Req {
        path,
        ..Req::post(headers, "")
    };
    let smithy = ("smithy-protocol", "rpc-v2-cbor");
    assert_eq!(
        cbor(CBOR_PATH, &[smithy]).detect(),
        ok(Service::CloudWatch, Protocol::RpcV2Cbor, "PutMetricData")
    );
    // A prefix before the four segments, and the absolute shape id form.
    assert_eq!(
        cbor(
            "/prefix/service/GraniteServiceVersion20100801/operation/ListMetrics",
            &[smithy]
        )
        .detect(),
        ok(Service::CloudWatch, Protocol::RpcV2Cbor, "ListMetrics")
    );
    assert_eq!(
        cbor("/service/com.amazonaws.cloudwatch.GraniteServiceVersion20100801/operation/DescribeAlarms", &[("Smithy-Protocol", "rpc-v2-cbor")]).detect(),
        ok(Service::CloudWatch, Protocol::RpcV2Cbor, "DescribeAlarms")
    );
    // The protocol forbids X-Amz-Target (and X-Amzn-Target) on CBOR requests.
    assert_eq!(
        cbor(
            CBOR_PATH,
            &[
                smithy,
                (
                    "X-Amz-Target",
                    "GraniteServiceVersion20100801.PutMetricData"
                )
            ]
        )
        .detect(),
        Err(DetectError::CborWithTarget)
    );
    assert_eq!(
        cbor(CBOR_PATH, &[smithy, ("x-amzn-target", "x.y")]).detect(),
        Err(DetectError::CborWithTarget)
    );
    assert_eq!(
        cbor(CBOR_PATH, &[("smithy-protocol", "rpc-v2-json")]).detect(),
        Err(DetectError::UnsupportedSmithyProtocol(
            "rpc-v2-json".to_owned()
        ))
    );
    assert!(matches!(
        cbor("/", &[smithy]).detect(),
        Err(DetectError::MalformedCborRequest(_))
    ));
    assert!(matches!(
        cbor(CBOR_PATH, &[]).detect(),
        Err(DetectError::MalformedCborRequest(_))
    ));
    assert_eq!(
        cbor("/service/Other/operation/PutMetricData", &[smithy]).detect(),
        Err(DetectError::UnknownCborService("Other".to_owned()))
    );
    let unknown = cbor(
        "/service/GraniteServiceVersion20100801/operation/CreateDashboard",
        &[smithy],
    )
    .detect();
    let err = unknown.unwrap_err();
    assert_eq!(err.code(), "UnknownOperationException");
    assert_eq!(
        err.answer_in(),
        Some((Service::CloudWatch, Protocol::RpcV2Cbor))
    );
    let get = Req {
        method: "GET",
        ..cbor(CBOR_PATH, &[smithy])
    };
    assert!(matches!(
        get.detect(),
        Err(DetectError::MethodNotAllowed { .. })
    ));
}

#[test]
fn json_requests_go_by_target_prefix() {
    assert_eq!(
        Req::post(
            &[
                (
                    "X-Amz-Target",
                    "GraniteServiceVersion20100801.GetMetricData"
                ),
                ("Content-Type", "application/x-amz-json-1.0")
            ],
            "{}"
        )
        .detect(),
        ok(Service::CloudWatch, Protocol::Json10, "GetMetricData")
    );
    assert_eq!(
        Req::post(
            &[
                ("x-amz-target", "AWSEvents.PutRule"),
                ("Content-Type", "application/x-amz-json-1.1")
            ],
            "{}"
        )
        .detect(),
        ok(Service::EventBridge, Protocol::Json11, "PutRule")
    );
    let err = Req::post(&[("X-Amz-Target", "DynamoDB_20120810.PutItem")], "{}")
        .detect()
        .unwrap_err();
    assert_eq!(
        err,
        DetectError::UnknownTargetPrefix("DynamoDB_20120810".to_owned())
    );
    assert_eq!(err.code(), "UnknownOperationException");
    assert_eq!(
        err.answer_in(),
        Some((Service::EventBridge, Protocol::Json11))
    );
    assert_eq!(
        Req::post(&[("X-Amz-Target", "AWSEvents")], "{}").detect(),
        Err(DetectError::MalformedTarget("AWSEvents".to_owned()))
    );
    let err = Req::post(&[("X-Amz-Target", "AWSEvents.CreateEventBus")], "{}")
        .detect()
        .unwrap_err();
    assert_eq!(
        err,
        DetectError::UnknownOperation {
            service: Service::EventBridge,
            protocol: Protocol::Json11,
            operation: "CreateEventBus".to_owned(),
        }
    );
    assert_eq!(err.code(), "UnknownOperationException");
    // The target wins over a form-looking body.
    assert_eq!(
        Req::post(
            &[("X-Amz-Target", "AWSEvents.ListRules")],
            "Action=Publish&Version=2010-03-31"
        )
        .detect(),
        ok(Service::EventBridge, Protocol::Json11, "ListRules")
    );
}

#[test]
fn query_requests_go_by_version_then_links_then_scope_then_action() {
    assert_eq!(
        Req::post(
            &[FORM],
            "Action=PutMetricAlarm&Version=2010-08-01&AlarmName=a"
        )
        .detect(),
        ok(Service::CloudWatch, Protocol::Query, "PutMetricAlarm")
    );
    assert_eq!(
        Req::post(
            &[("content-type", "application/x-www-form-urlencoded")],
            "Action=Publish&Version=2010-03-31"
        )
        .detect(),
        ok(Service::Sns, Protocol::Query, "Publish")
    );
    assert_eq!(
        Req::post(&[FORM], "Action=DescribeRegions&Version=2016-11-15").detect(),
        ok(Service::Ec2, Protocol::Ec2Query, "DescribeRegions")
    );
    // GET with the query string; the body wins over the query string.
    assert_eq!(
        Req::get("Action=ListTopics&Version=2010-03-31").detect(),
        ok(Service::Sns, Protocol::Query, "ListTopics")
    );
    let both = Req {
        query: "Action=ListTopics&Version=2010-03-31",
        ..Req::post(&[FORM], "Action=DescribeAlarms&Version=2010-08-01")
    };
    assert_eq!(
        both.detect(),
        ok(Service::CloudWatch, Protocol::Query, "DescribeAlarms")
    );
    // SNS's confirmation and unsubscribe links: unsigned GETs without Version.
    assert_eq!(
        Req::get("Action=ConfirmSubscription&TopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A123456789012%3At&Token=abc").detect(),
        ok(Service::Sns, Protocol::Query, "ConfirmSubscription")
    );
    assert_eq!(
        Req::get(
            "Action=Unsubscribe&SubscriptionArn=arn%3Aaws%3Asns%3Aus-east-1%3A123456789012%3At%3A1"
        )
        .detect(),
        ok(Service::Sns, Protocol::Query, "Unsubscribe")
    );
    // Without Version: the SigV4 scope, else the one service with the action.
    assert_eq!(
        Req::post(&[FORM, SIGNED_SNS], "Action=ListTopics").detect(),
        ok(Service::Sns, Protocol::Query, "ListTopics")
    );
    assert_eq!(
        Req::post(&[FORM], "Action=DescribeInstances").detect(),
        ok(Service::Ec2, Protocol::Ec2Query, "DescribeInstances")
    );
    assert_eq!(
        Req::get("Action=DescribeAlarms").detect(),
        ok(Service::CloudWatch, Protocol::Query, "DescribeAlarms")
    );
    // Errors: each says how to answer.
    let err = Req::post(&[FORM], "Version=2010-03-31&TopicArn=x")
        .detect()
        .unwrap_err();
    assert_eq!(
        err,
        DetectError::MissingAction {
            service: Some(Service::Sns)
        }
    );
    assert_eq!(err.code(), "MissingAction");
    assert_eq!(err.answer_in(), Some((Service::Sns, Protocol::Query)));
    let err = Req::post(&[FORM], "Action=Publish&Version=2099-01-01")
        .detect()
        .unwrap_err();
    assert_eq!(err, DetectError::UnknownVersion("2099-01-01".to_owned()));
    assert_eq!(err.answer_in(), None);
    let err = Req::post(&[FORM], "Action=Nonsense").detect().unwrap_err();
    assert_eq!(
        err,
        DetectError::MissingVersion {
            action: "Nonsense".to_owned()
        }
    );
    let err = Req::post(
        &[FORM],
        "Action=CreatePlatformApplication&Version=2010-03-31",
    )
    .detect()
    .unwrap_err();
    assert_eq!(err.code(), "InvalidAction");
    assert_eq!(err.answer_in(), Some((Service::Sns, Protocol::Query)));
    assert_eq!(Req::post(&[], "").detect(), Err(DetectError::Unrecognized));
    assert_eq!(Req::get("").detect(), Err(DetectError::Unrecognized));
    // A JSON body is not a form: its Action text is not read.
    assert_eq!(
        Req::post(
            &[("Content-Type", "application/json")],
            "Action=ListTopics&Version=2010-03-31"
        )
        .detect(),
        Err(DetectError::Unrecognized)
    );
}

#[test]
fn iam_goes_by_its_version_or_its_scope_from_any_region() {
    assert_eq!(
        Req::post(&[FORM], "Action=CreateRole&Version=2010-05-08&RoleName=r").detect(),
        ok(Service::Iam, Protocol::Query, "CreateRole")
    );
    let signed_iam = (
        "Authorization",
        "AWS4-HMAC-SHA256 Credential=AKID/20240102/eu-west-1/iam/aws4_request, SignedHeaders=host, Signature=00",
    );
    assert_eq!(
        Req::post(&[FORM, signed_iam], "Action=ListRoles").detect(),
        ok(Service::Iam, Protocol::Query, "ListRoles")
    );
    assert_eq!(
        Req::post(&[FORM], "Action=GetInstanceProfile").detect(),
        ok(Service::Iam, Protocol::Query, "GetInstanceProfile")
    );
    let err = Req::post(&[FORM], "Action=CreateUser&Version=2010-05-08")
        .detect()
        .unwrap_err();
    assert_eq!(err.code(), "InvalidAction");
    assert_eq!(err.answer_in(), Some((Service::Iam, Protocol::Query)));
    assert!(matches!(
        Req::post(&[FORM, SIGNED_SNS], "Action=ListRoles&Version=2010-05-08").detect(),
        Err(DetectError::ScopeMismatch {
            service: Service::Iam,
            ..
        })
    ));
}

#[test]
fn a_scope_naming_another_service_is_refused() {
    let err = Req::post(
        &[FORM, SIGNED_MONITORING],
        "Action=Publish&Version=2010-03-31",
    )
    .detect()
    .unwrap_err();
    assert_eq!(
        err,
        DetectError::ScopeMismatch {
            scope: "monitoring".to_owned(),
            service: Service::Sns,
            protocol: Protocol::Query,
        }
    );
    assert_eq!(err.answer_in(), Some((Service::Sns, Protocol::Query)));
    assert!(matches!(
        Req::post(&[SIGNED_SNS, ("X-Amz-Target", "AWSEvents.PutRule")], "{}").detect(),
        Err(DetectError::ScopeMismatch { .. })
    ));
    // A scope of a service this endpoint does not serve says nothing.
    assert_eq!(
        Req::post(
            &[("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20240102/us-east-1/execute-api/aws4_request, SignedHeaders=host, Signature=00"), ("X-Amz-Target", "AWSEvents.PutRule")],
            "{}"
        )
        .detect(),
        ok(Service::EventBridge, Protocol::Json11, "PutRule")
    );
}

proptest! {
    #[test]
    fn any_request_is_routed_or_refused_without_panicking(
        method in prop_oneof![Just("GET".to_owned()), Just("POST".to_owned()), "[A-Z]{0,6}"],
        path in prop_oneof![
            Just("/".to_owned()),
            Just(CBOR_PATH.to_owned()),
            "(/[a-zA-Z0-9.#%]{0,12}){0,6}",
        ],
        query in "[A-Za-z0-9=&%.]{0,60}",
        headers in proptest::collection::vec(
            (
                prop_oneof![
                    Just("smithy-protocol".to_owned()), Just("X-Amz-Target".to_owned()),
                    Just("Content-Type".to_owned()), Just("Authorization".to_owned()),
                    "[a-zA-Z-]{1,12}",
                ],
                "[ -~]{0,60}",
            ),
            0..5,
        ),
        body in proptest::collection::vec(any::<u8>(), 0..120),
    ) {
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let request = RequestParts { method: &method, path: &path, query: &query, headers: &headers, body: &body };
        match protocol::detect(&request) {
            Ok(detected) => prop_assert!(detected.service.model().operation(&detected.operation).is_some()),
            Err(error) => {
                prop_assert!(!error.code().is_empty());
                prop_assert!(!error.to_string().is_empty());
            }
        }
    }
}
