//! AWS JSON 1.0 (CloudWatch) and 1.1 (EventBridge) against botocore, both ways, for
//! every served operation, plus the fact sheet's captured examples (monitoring-semantics
//! 1.3, 1.5, 1.8) as fixed vectors.

#[path = "monitoring/support.rs"]
mod support;

use aws_wire::json::{self, InputError};
use aws_wire::model::Model;
use aws_wire::protocol::{self, Protocol, RequestParts, Service};
use proptest::prelude::*;
use serde_json::{Value, json};

fn headers_of(recorded: &support::Recorded) -> Vec<(&str, &str)> {
    recorded
        .headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect()
}

#[test]
fn every_body_botocore_writes_decodes_to_its_parameters() {
    let mut seen = std::collections::BTreeSet::new();
    for case in support::recorded().iter().filter(|c| c.protocol == "json") {
        let headers = headers_of(case);
        let detected = protocol::detect(&RequestParts {
            method: &case.method,
            path: &case.path,
            query: &case.query,
            headers: &headers,
            body: &case.body,
        })
        .unwrap_or_else(|e| panic!("{} {}: {e}", case.service, case.operation));
        let (service, version) = match case.service.as_str() {
            "cloudwatch" => (Service::CloudWatch, Protocol::Json10),
            _ => (Service::EventBridge, Protocol::Json11),
        };
        assert_eq!(
            (
                detected.service,
                detected.protocol,
                detected.operation.as_str()
            ),
            (service, version, case.operation.as_str())
        );
        let model = support::model(&case.service);
        let decoded = json::decode_input(model, &case.operation, &case.body)
            .unwrap_or_else(|e| panic!("{}: {e}", case.operation));
        assert_eq!(
            decoded,
            case.params,
            "{} {}: {}",
            case.service,
            case.operation,
            String::from_utf8_lossy(&case.body)
        );
        seen.insert((case.service.clone(), case.operation.clone()));
    }
    for (service, model) in [
        ("cloudwatch", Model::cloudwatch()),
        ("events", Model::events()),
    ] {
        for operation in model.operation_names() {
            assert!(
                seen.contains(&(service.to_owned(), operation.to_owned())),
                "{service} {operation} has no recorded JSON request"
            );
        }
    }
}

#[test]
fn the_fact_sheets_put_metric_data_decodes() {
    // Fact sheet 1.8: what boto3 and the CLI send to CloudWatch (JSON 1.0), with the
    // second datum (Values/Counts, fractional timestamp) of the CBOR capture.
    let body = br#"{"Namespace": "App", "MetricData": [{"MetricName": "Latency", "Dimensions": [{"Name": "Svc", "Value": "api"}], "Timestamp": 1704164645, "Value": 12.5, "Unit": "Milliseconds", "StorageResolution": 1}, {"MetricName": "Sizes", "Values": [1.0, 2.0, 3.5], "Counts": [3.0, 1.0, 2.0], "Timestamp": 1704164645.5}]}"#;
    let decoded = json::decode_input(Model::cloudwatch(), "PutMetricData", body).expect("decodes");
    assert_eq!(
        decoded,
        json!({"Namespace": "App", "MetricData": [
            {"MetricName": "Latency", "Dimensions": [{"Name": "Svc", "Value": "api"}],
             "Timestamp": 1_704_164_645, "Value": 12.5, "Unit": "Milliseconds", "StorageResolution": 1},
            {"MetricName": "Sizes", "Values": [1.0, 2.0, 3.5], "Counts": [3.0, 1.0, 2.0],
             "Timestamp": 1_704_164_645.5}]})
    );
    // Fact sheet 1.8: EventBridge PutRule.
    let body = br#"{"Name": "spot", "EventPattern": "{\"source\": [\"aws.ec2\"], \"detail-type\": [\"EC2 Spot Instance Interruption Warning\"]}", "State": "ENABLED"}"#;
    let decoded = json::decode_input(Model::events(), "PutRule", body).expect("decodes");
    assert_eq!(decoded["State"], "ENABLED");
    assert_eq!(
        serde_json::from_str::<Value>(decoded["EventPattern"].as_str().expect("text"))
            .expect("pattern JSON")["detail-type"][0],
        "EC2 Spot Instance Interruption Warning"
    );
}

#[test]
fn values_are_checked_against_their_shapes() {
    let cw = Model::cloudwatch();
    let decode = |body: &str| json::decode_input(cw, "GetMetricStatistics", body.as_bytes());
    let invalid = |body: &str| match decode(body) {
        Err(InputError::InvalidValue { path, .. }) => path,
        other => panic!("{body}: {other:?}"),
    };
    assert_eq!(invalid(r#"{"Namespace": 1}"#), "Namespace");
    assert_eq!(invalid(r#"{"Period": "60"}"#), "Period");
    assert_eq!(invalid(r#"{"Period": 60.5}"#), "Period");
    assert_eq!(invalid(r#"{"Period": 4294967296}"#), "Period");
    assert_eq!(invalid(r#"{"Dimensions": {"Name": "a"}}"#), "Dimensions");
    assert_eq!(
        invalid(r#"{"Dimensions": [{"Name": 1}]}"#),
        "Dimensions[0].Name"
    );
    assert_eq!(invalid(r#"{"Statistics": [null]}"#), "Statistics[0]");
    assert_eq!(invalid(r#"{"StartTime": "yesterday"}"#), "StartTime");
    assert_eq!(invalid(r#"{"StartTime": true}"#), "StartTime");
    // Integral floats, ISO timestamps, unknown members, nulls and an empty body pass.
    assert_eq!(
        decode(r#"{"Period": 60.0, "StartTime": "2024-01-02T03:04:05.5Z", "EndTime": 1704164645, "Bogus": [1], "Unit": null}"#)
            .expect("decodes"),
        json!({"Period": 60, "StartTime": 1_704_164_645.5, "EndTime": 1_704_164_645})
    );
    assert_eq!(decode("").expect("empty"), json!({}));
    assert_eq!(decode(" \n").expect("blank"), json!({}));
    let put = |body: &str| json::decode_input(cw, "PutMetricData", body.as_bytes());
    assert_eq!(
        put(r#"{"MetricData": [{"Value": 3}]}"#).expect("int as double"),
        json!({"MetricData": [{"Value": 3.0}]})
    );
    match put(r#"{"MetricData": [{"Value": "NaN"}]}"#) {
        Err(InputError::InvalidValue { path, reason }) => {
            assert_eq!(path, "MetricData[0].Value");
            assert!(reason.contains("finite number"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn malformed_bodies_and_unknown_operations_have_smithy_codes() {
    let cw = Model::cloudwatch();
    let events = Model::events();
    let err = json::decode_input(cw, "PutMetricData", b"{\"Namespace\": ").unwrap_err();
    assert!(matches!(err, InputError::Malformed(_)));
    assert_eq!(err.code(cw), "SerializationException");
    let err = json::decode_input(cw, "PutMetricData", b"[1, 2]").unwrap_err();
    assert!(matches!(err, InputError::Malformed(_)), "{err:?}");
    let err = json::decode_input(cw, "CreateDashboard", b"{}").unwrap_err();
    assert_eq!(err.code(cw), "UnknownOperationException");
    // A wrongly typed value: CloudWatch's typed InvalidParameterValue, as its CBOR
    // codec answers; EventBridge, without that code, Smithy's SerializationException.
    let err = json::decode_input(cw, "PutMetricData", br#"{"Namespace": 1}"#).unwrap_err();
    assert_eq!(err.code(cw), "InvalidParameterValue");
    let err = json::decode_input(events, "PutRule", br#"{"Name": 1}"#).unwrap_err();
    assert_eq!(err.code(events), "SerializationException");
    assert_eq!(json::content_type(cw), "application/x-amz-json-1.0");
    assert_eq!(json::content_type(events), "application/x-amz-json-1.1");
}

#[test]
fn answers_drop_nulls_and_refuse_what_the_shape_lacks() {
    let cw = Model::cloudwatch();
    let value = json!({"Label": "Latency", "NextToken": null, "Datapoints": [
        {"Timestamp": "2024-01-02T03:00:00Z", "Average": 12, "Unit": "Milliseconds"}]});
    let body = json::encode_output(cw, "GetMetricStatistics", &value).expect("renders");
    assert_eq!(
        serde_json::from_slice::<Value>(&body).expect("JSON"),
        json!({"Label": "Latency", "Datapoints": [{"Timestamp": 1_704_164_400, "Average": 12.0, "Unit": "Milliseconds"}]})
    );
    let bad = json!({"Datapoints": [{"Bogus": 1}]});
    let err = json::encode_output(cw, "GetMetricStatistics", &bad).unwrap_err();
    assert_eq!(err.path, "Datapoints[0].Bogus");
    let bad = json!({"Datapoints": [{"Average": "12"}]});
    let err = json::encode_output(cw, "GetMetricStatistics", &bad).unwrap_err();
    assert_eq!(err.path, "Datapoints[0].Average");
}

#[test]
fn the_fact_sheets_answers_are_reproduced() {
    // Fact sheet 1.8, CloudWatch JSON 1.0 and EventBridge JSON 1.1 rows.
    let cw = Model::cloudwatch();
    let body = json::encode_output(
        cw,
        "GetMetricStatistics",
        &json!({"Label":"Latency","Datapoints":[{"Timestamp":1704164400,"Average":12.5,"Unit":"Milliseconds"}]}),
    )
    .expect("renders");
    assert_eq!(
        String::from_utf8(body).expect("text"),
        r#"{"Datapoints":[{"Average":12.5,"Timestamp":1704164400,"Unit":"Milliseconds"}],"Label":"Latency"}"#
    );
    let error = json::encode_error(
        cw,
        "InvalidParameterValue",
        "The value -1 for parameter Period is not a valid value.",
    );
    assert_eq!(error.status, 400);
    assert_eq!(
        String::from_utf8(error.body).expect("text"),
        r#"{"__type":"com.amazonaws.cloudwatch#InvalidParameterValueException","message":"The value -1 for parameter Period is not a valid value."}"#
    );
    assert_eq!(
        error.headers,
        vec![
            ("Content-Type", "application/x-amz-json-1.0".to_owned()),
            (
                "x-amzn-query-error",
                "InvalidParameterValue;Sender".to_owned()
            ),
        ]
    );
    let events = Model::events();
    let body = json::encode_output(
        events,
        "PutRule",
        &json!({"RuleArn": "arn:aws:events:us-east-1:123456789012:rule/spot"}),
    )
    .expect("renders");
    assert_eq!(
        body,
        br#"{"RuleArn":"arn:aws:events:us-east-1:123456789012:rule/spot"}"#
    );
    let body =
        json::encode_output(events, "TestEventPattern", &json!({"Result": true})).expect("renders");
    assert_eq!(body, br#"{"Result":true}"#);
    let error = json::encode_error(
        events,
        "ResourceNotFoundException",
        "Rule nope does not exist on EventBus default.",
    );
    assert_eq!(error.status, 400);
    assert_eq!(
        error.body,
        br#"{"__type":"ResourceNotFoundException","message":"Rule nope does not exist on EventBus default."}"#
    );
    assert_eq!(
        error.headers,
        vec![("Content-Type", "application/x-amz-json-1.1".to_owned())]
    );
}

#[test]
fn errors_take_status_and_query_code_from_the_shape() {
    // Fact sheet 1.5: shape, query code, status.
    let cw = Model::cloudwatch();
    for (code, type_name, header, status) in [
        (
            "InvalidParameterValue",
            "com.amazonaws.cloudwatch#InvalidParameterValueException",
            "InvalidParameterValue;Sender",
            400,
        ),
        (
            "InvalidParameterValueException",
            "com.amazonaws.cloudwatch#InvalidParameterValueException",
            "InvalidParameterValue;Sender",
            400,
        ),
        (
            "MissingParameter",
            "com.amazonaws.cloudwatch#MissingRequiredParameterException",
            "MissingParameter;Sender",
            400,
        ),
        (
            "InvalidParameterCombination",
            "com.amazonaws.cloudwatch#InvalidParameterCombinationException",
            "InvalidParameterCombination;Sender",
            400,
        ),
        (
            "LimitExceeded",
            "com.amazonaws.cloudwatch#LimitExceededFault",
            "LimitExceeded;Sender",
            400,
        ),
        (
            "ResourceNotFound",
            "com.amazonaws.cloudwatch#ResourceNotFound",
            "ResourceNotFound;Sender",
            404,
        ),
        (
            "InternalServiceError",
            "com.amazonaws.cloudwatch#InternalServiceFault",
            "InternalServiceError;Receiver",
            500,
        ),
        (
            "InvalidNextToken",
            "com.amazonaws.cloudwatch#InvalidNextToken",
            "InvalidNextToken;Sender",
            400,
        ),
        (
            "InvalidFormat",
            "com.amazonaws.cloudwatch#InvalidFormatFault",
            "InvalidFormat;Sender",
            400,
        ),
        (
            "UnknownOperationException",
            "UnknownOperationException",
            "UnknownOperationException;Sender",
            400,
        ),
        (
            "SerializationException",
            "SerializationException",
            "SerializationException;Sender",
            400,
        ),
        (
            "InternalFailure",
            "InternalFailure",
            "InternalFailure;Receiver",
            500,
        ),
    ] {
        let error = json::encode_error(cw, code, "m");
        let body: Value = serde_json::from_slice(&error.body).expect("JSON");
        assert_eq!(body, json!({"__type": type_name, "message": "m"}), "{code}");
        assert_eq!(error.status, status, "{code}");
        assert!(
            error
                .headers
                .contains(&("x-amzn-query-error", header.to_owned())),
            "{code}"
        );
    }
    let events = Model::events();
    for (code, status) in [
        ("ResourceNotFoundException", 400),
        ("InternalException", 500),
        ("ValidationException", 400),
    ] {
        let error = json::encode_error(events, code, "m");
        let body: Value = serde_json::from_slice(&error.body).expect("JSON");
        assert_eq!(body["__type"], code);
        assert_eq!(error.status, status, "{code}");
        assert!(
            !error
                .headers
                .iter()
                .any(|(name, _)| *name == "x-amzn-query-error")
        );
    }
}

const REQUEST_ID: &str = "5b3c5f8e-1b2a-4f3e-9a6b-0c1d2e3f4a5b";

fn success_case(service: &str, model: &Model, operation: &str, value: &Value) -> Value {
    let body =
        json::encode_output(model, operation, value).unwrap_or_else(|e| panic!("{operation}: {e}"));
    let headers = [
        ("Content-Type", json::content_type(model).to_owned()),
        ("x-amzn-RequestId", REQUEST_ID.to_owned()),
    ];
    let mut case = support::answer_case(service, "json", operation, 200, &headers, &body);
    case["expected"] = value.clone();
    case["request_id"] = json!(REQUEST_ID);
    case
}

fn error_case(service: &str, model: &Model, operation: &str, code: &str) -> Value {
    let message = format!("{code} happened: <&> \"é\"");
    let error = json::encode_error(model, code, &message);
    let mut headers = error.headers.clone();
    headers.push(("x-amzn-RequestId", REQUEST_ID.to_owned()));
    let modeled = model.error_by_code(code);
    let (wire_code, class, query_error_code, side) = match (modeled, model.aws_query_compatible) {
        (Some((id, info)), true) => (
            info.code.clone(),
            model.shape_name(id).to_owned(),
            json!(model.shape_name(id)),
            json!(if info.sender_fault {
                "Sender"
            } else {
                "Receiver"
            }),
        ),
        (Some((id, _)), false) => (
            model.shape_name(id).to_owned(),
            model.shape_name(id).to_owned(),
            Value::Null,
            Value::Null,
        ),
        (None, true) => (
            code.to_owned(),
            "ClientError".to_owned(),
            json!(code),
            Value::Null,
        ),
        (None, false) => (
            code.to_owned(),
            "ClientError".to_owned(),
            Value::Null,
            Value::Null,
        ),
    };
    let mut case = support::answer_case(
        service,
        "json",
        operation,
        error.status,
        &headers,
        &error.body,
    );
    case["error"] = json!({"code": wire_code, "message": message, "class": class,
                           "query_error_code": query_error_code, "type": side});
    case["request_id"] = json!(REQUEST_ID);
    case
}

#[test]
fn botocore_parses_every_answer_as_meant() {
    let mut cases = Vec::new();
    for (service, model, any_operation) in [
        ("cloudwatch", Model::cloudwatch(), "PutMetricData"),
        ("events", Model::events(), "PutRule"),
    ] {
        for (operation, value) in support::sample_outputs(model) {
            cases.push(success_case(service, model, &operation, &value));
        }
        for (shape, operation) in support::modeled_errors(model) {
            let info = model
                .error_info(model.shape_id(&shape).expect("shape"))
                .expect("error");
            // By query code (what the services raise) and, where it differs, by name.
            cases.push(error_case(service, model, &operation, &info.code));
            if info.code != shape {
                cases.push(error_case(service, model, &operation, &shape));
            }
        }
        for code in [
            "UnknownOperationException",
            "SerializationException",
            "ValidationException",
        ] {
            cases.push(error_case(service, model, any_operation, code));
        }
    }
    // The fact sheet's captured answers (1.8).
    let cw = Model::cloudwatch();
    cases.push(success_case(
        "cloudwatch",
        cw,
        "GetMetricStatistics",
        &json!({"Label":"Latency","Datapoints":[{"Timestamp":1704164400,"Average":12.5,"Unit":"Milliseconds"}]}),
    ));
    cases.push(success_case(
        "events",
        Model::events(),
        "TestEventPattern",
        &json!({"Result": true}),
    ));
    support::botocore_check("json-answers.json", &cases);
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        // A range serde_json reads back exactly (its default float parser is not exact
        // for every f64, which says nothing about the codec).
        (-1e12..1e12_f64).prop_map(|f| json!(f)),
        "[A-Za-z0-9:. -]{0,24}".prop_map(Value::String),
        Just(json!("2024-01-02T03:04:05Z")),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map(
                prop_oneof![
                    Just("MetricData".to_owned()),
                    Just("Dimensions".to_owned()),
                    Just("Value".to_owned()),
                    Just("Timestamp".to_owned()),
                    Just("Targets".to_owned()),
                    Just("Entries".to_owned()),
                    Just("Time".to_owned()),
                    "[A-Za-z]{1,10}",
                ],
                inner,
                0..5
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn any_bytes_decode_or_err_without_panicking(body in proptest::collection::vec(any::<u8>(), 0..256)) {
        for model in [Model::cloudwatch(), Model::events()] {
            for operation in model.operation_names() {
                let _ = json::decode_input(model, operation, &body);
            }
        }
    }

    #[test]
    fn any_json_decodes_or_errs_and_decoding_is_idempotent(value in arb_json()) {
        let body = serde_json::to_vec(&json!({"MetricData": [value.clone()], "Entries": [value.clone()], "Targets": value})).expect("JSON");
        for (model, operation) in [(Model::cloudwatch(), "PutMetricData"), (Model::events(), "PutEvents"), (Model::events(), "PutTargets")] {
            if let Ok(decoded) = json::decode_input(model, operation, &body) {
                // What decodes is canonical: decoding it again changes nothing.
                let again = json::decode_input(model, operation, &serde_json::to_vec(&decoded).expect("JSON"));
                prop_assert_eq!(again.as_ref(), Ok(&decoded));
            }
        }
    }
}
