//! The query protocol (CloudWatch's fallback, SNS, IAM) against botocore, both ways, for every
//! served operation, plus the fact sheet's captured examples (monitoring-semantics 1.4,
//! 1.8) as fixed vectors.

#[path = "monitoring/support.rs"]
mod support;

use aws_wire::awsquery::{self, InputError};
use aws_wire::model::Model;
use aws_wire::protocol::{self, Protocol, RequestParts, Service};
use aws_wire::query;
use proptest::prelude::*;
use serde_json::{Value, json};

/// Decodes a form body for `model` the way the endpoint does.
fn decode(model: &Model, body: &str) -> Result<Value, InputError> {
    let request = query::decode("", body.as_bytes()).expect("query decodes");
    awsquery::decode_input(model, &request.action, &request.params)
}

#[test]
fn every_body_botocore_writes_decodes_to_its_parameters() {
    let mut seen = std::collections::BTreeSet::new();
    for case in support::recorded().iter().filter(|c| c.protocol == "query") {
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
        .unwrap_or_else(|e| panic!("{} {}: {e}", case.service, case.operation));
        let service = match case.service.as_str() {
            "cloudwatch" => Service::CloudWatch,
            "iam" => Service::Iam,
            _ => Service::Sns,
        };
        assert_eq!(
            (
                detected.service,
                detected.protocol,
                detected.operation.as_str()
            ),
            (service, Protocol::Query, case.operation.as_str())
        );
        let request = query::decode(&case.query, &case.body).expect("query decodes");
        assert_eq!(request.action, case.operation);
        let model = support::model(&case.service);
        let decoded = awsquery::decode_input(model, &request.action, &request.params)
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
        ("sns", Model::sns()),
        ("iam", Model::iam()),
    ] {
        for operation in model.operation_names() {
            assert!(
                seen.contains(&(service.to_owned(), operation.to_owned())),
                "{service} {operation} has no recorded query request"
            );
        }
    }
}

#[test]
fn the_fact_sheets_requests_decode() {
    // Fact sheet 1.8: CloudWatch's query fallback.
    let body = "Action=PutMetricAlarm&Version=2010-08-01&AlarmName=HighLatency&AlarmActions.member.1=arn%3Aaws%3Asns%3Aus-east-1%3A123456789012%3Aalerts&MetricName=Latency&Namespace=App&Statistic=Average&Dimensions.member.1.Name=Svc&Dimensions.member.1.Value=api&Period=60&EvaluationPeriods=3&DatapointsToAlarm=2&Threshold=100.0&ComparisonOperator=GreaterThanThreshold&TreatMissingData=notBreaching";
    assert_eq!(
        decode(Model::cloudwatch(), body).expect("decodes"),
        json!({
            "AlarmName": "HighLatency",
            "AlarmActions": ["arn:aws:sns:us-east-1:123456789012:alerts"],
            "MetricName": "Latency", "Namespace": "App", "Statistic": "Average",
            "Dimensions": [{"Name": "Svc", "Value": "api"}],
            "Period": 60, "EvaluationPeriods": 3, "DatapointsToAlarm": 2, "Threshold": 100.0,
            "ComparisonOperator": "GreaterThanThreshold", "TreatMissingData": "notBreaching"
        })
    );
    // Fact sheet 1.8: SNS Publish, message attributes under their locationNames.
    let body = "Action=Publish&Version=2010-03-31&TopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A123456789012%3Aalerts&Message=hello&Subject=hi&MessageAttributes.entry.1.Name=k&MessageAttributes.entry.1.Value.DataType=String&MessageAttributes.entry.1.Value.StringValue=v";
    assert_eq!(
        decode(Model::sns(), body).expect("decodes"),
        json!({
            "TopicArn": "arn:aws:sns:us-east-1:123456789012:alerts",
            "Message": "hello", "Subject": "hi",
            "MessageAttributes": {"k": {"DataType": "String", "StringValue": "v"}}
        })
    );
}

#[test]
fn wire_forms_follow_botocores_serializer() {
    let cw = Model::cloudwatch();
    let sns = Model::sns();
    // Fact sheet 1.4: an empty list is `Name=`; timestamps with or without fractions.
    assert_eq!(
        decode(cw, "Action=PutMetricAlarm&AlarmName=a&OKActions=").expect("decodes"),
        json!({"AlarmName": "a", "OKActions": []})
    );
    assert_eq!(
        decode(
            cw,
            "Action=GetMetricStatistics&StartTime=2024-01-02T03%3A04%3A05Z&EndTime=2024-01-02T03%3A04%3A05.500000Z"
        )
        .expect("decodes"),
        json!({"StartTime": 1_704_164_645, "EndTime": 1_704_164_645.5})
    );
    // SNS attribute maps: lower-case key/value.
    assert_eq!(
        decode(
            sns,
            "Action=CreateTopic&Name=t&Attributes.entry.1.key=DisplayName&Attributes.entry.1.value=D&Attributes.entry.2.key=Policy&Attributes.entry.2.value=%7B%7D"
        )
        .expect("decodes"),
        json!({"Name": "t", "Attributes": {"DisplayName": "D", "Policy": "{}"}})
    );
    // Booleans are `true`/`false`; blobs base64; unknown parameters are ignored.
    assert_eq!(
        decode(
            sns,
            "Action=Subscribe&TopicArn=t&Protocol=sqs&ReturnSubscriptionArn=true&Bogus.member.1=x"
        )
        .expect("decodes"),
        json!({"TopicArn": "t", "Protocol": "sqs", "ReturnSubscriptionArn": true})
    );
    assert_eq!(
        decode(
            sns,
            "Action=Publish&Message=m&MessageAttributes.entry.1.Name=b&MessageAttributes.entry.1.Value.DataType=Binary&MessageAttributes.entry.1.Value.BinaryValue=AP9i"
        )
        .expect("decodes")["MessageAttributes"]["b"]["BinaryValue"],
        "AP9i"
    );
}

#[test]
fn bad_parameters_name_their_wire_path() {
    let cw = Model::cloudwatch();
    let sns = Model::sns();
    let parameter = |model: &Model, body: &str| match decode(model, body) {
        Err(InputError::InvalidValue { parameter, .. }) => parameter,
        other => panic!("{body}: {other:?}"),
    };
    for (body, path) in [
        ("Action=GetMetricStatistics&Period=sixty", "Period"),
        ("Action=GetMetricStatistics&Period=4294967296", "Period"),
        (
            "Action=GetMetricStatistics&StartTime=yesterday",
            "StartTime",
        ),
        ("Action=PutMetricAlarm&ActionsEnabled=yes", "ActionsEnabled"),
        ("Action=PutMetricAlarm&Threshold=NaN", "Threshold"),
        // EC2's list form where the query protocol wants `.member.N`.
        ("Action=PutMetricAlarm&AlarmActions.1=arn", "AlarmActions"),
        (
            "Action=PutMetricAlarm&AlarmActions.member.1=a&AlarmActions.extra=b",
            "AlarmActions",
        ),
        ("Action=PutMetricAlarm&AlarmName.member.1=a", "AlarmName"),
        (
            "Action=PutMetricAlarm&Dimensions.member.1.Name.x=a",
            "Dimensions.member.1.Name",
        ),
        (
            "Action=PutMetricData&MetricData.member.2.MetricName=b",
            "MetricData.member.1",
        ),
        (
            "Action=PutMetricData&MetricData.member.1.Values.member.1=x",
            "MetricData.member.1.Values.member.1",
        ),
    ] {
        assert_eq!(parameter(cw, body), path, "{body}");
    }
    for (body, path) in [
        (
            "Action=Publish&MessageAttributes.entry.1.Name=k",
            "MessageAttributes.entry.1",
        ),
        (
            "Action=Publish&MessageAttributes.entry.2.Name=k&MessageAttributes.entry.2.Value.DataType=String",
            "MessageAttributes.entry.1",
        ),
        (
            "Action=Publish&MessageAttributes.1.Name=k",
            "MessageAttributes",
        ),
        (
            "Action=Publish&MessageAttributes.entry.1.Name=k&MessageAttributes.entry.1.Value.DataType=String&MessageAttributes.entry.2.Name=k&MessageAttributes.entry.2.Value.DataType=String",
            "MessageAttributes.entry.2.Name",
        ),
        (
            "Action=Publish&MessageAttributes.entry.1.Name=b&MessageAttributes.entry.1.Value.DataType=Binary&MessageAttributes.entry.1.Value.BinaryValue=%21%21",
            "MessageAttributes.entry.1.Value.BinaryValue",
        ),
        (
            "Action=Subscribe&ReturnSubscriptionArn=1",
            "ReturnSubscriptionArn",
        ),
    ] {
        assert_eq!(parameter(sns, body), path, "{body}");
    }
    // Each service's own code for a bad value.
    let err = decode(cw, "Action=GetMetricStatistics&Period=x").unwrap_err();
    assert_eq!(err.code(cw), "InvalidParameterValue");
    let err = decode(sns, "Action=Subscribe&ReturnSubscriptionArn=1").unwrap_err();
    assert_eq!(err.code(sns), "InvalidParameter");
    let err = decode(sns, "Action=CreatePlatformApplication").unwrap_err();
    assert_eq!(
        err,
        InputError::UnknownOperation("CreatePlatformApplication".to_owned())
    );
    assert_eq!(err.code(sns), "InvalidAction");
}

#[test]
fn the_fact_sheets_answers_are_reproduced() {
    // Fact sheet 1.8, SNS query row: byte for byte.
    let sns = Model::sns();
    let xml = awsquery::encode_output(
        sns,
        "Publish",
        &json!({"MessageId": "94f20ce6-13c5-43a0-9a9e-ca52d816e90b"}),
        "f187a3c1-376f-11df-8963-01868b7c937a",
    )
    .expect("renders");
    assert_eq!(
        xml,
        r#"<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>94f20ce6-13c5-43a0-9a9e-ca52d816e90b</MessageId></PublishResult><ResponseMetadata><RequestId>f187a3c1-376f-11df-8963-01868b7c937a</RequestId></ResponseMetadata></PublishResponse>"#
    );
    let error = awsquery::encode_error(sns, "NotFound", "Topic does not exist", "rid-3");
    assert_eq!(error.status, 404);
    assert_eq!(
        String::from_utf8(error.body).expect("text"),
        r#"<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type><Code>NotFound</Code><Message>Topic does not exist</Message></Error><RequestId>rid-3</RequestId></ErrorResponse>"#
    );
    assert_eq!(
        error.headers,
        vec![
            ("Content-Type", "text/xml".to_owned()),
            ("x-amzn-RequestId", "rid-3".to_owned()),
        ]
    );
    // The shape's name finds the same query code.
    let by_name = awsquery::encode_error(sns, "NotFoundException", "Topic does not exist", "rid-3");
    assert_eq!(by_name.status, 404);
    assert!(String::from_utf8_lossy(&by_name.body).contains("<Code>NotFound</Code>"));
    // Fact sheet 1.8, CloudWatch query row. Members come in name order and timestamps
    // carry milliseconds; element order and precision are free in XML answers.
    let cw = Model::cloudwatch();
    let xml = awsquery::encode_output(
        cw,
        "GetMetricStatistics",
        &json!({"Label":"Latency","Datapoints":[{"Timestamp":1704164400,"Average":12.5,"Unit":"Milliseconds"}]}),
        "rid-1",
    )
    .expect("renders");
    assert_eq!(
        xml,
        r#"<GetMetricStatisticsResponse xmlns="http://monitoring.amazonaws.com/doc/2010-08-01/"><GetMetricStatisticsResult><Datapoints><member><Average>12.5</Average><Timestamp>2024-01-02T03:00:00.000Z</Timestamp><Unit>Milliseconds</Unit></member></Datapoints><Label>Latency</Label></GetMetricStatisticsResult><ResponseMetadata><RequestId>rid-1</RequestId></ResponseMetadata></GetMetricStatisticsResponse>"#
    );
    let error = awsquery::encode_error(
        cw,
        "InvalidParameterValue",
        "The value -1 for parameter Period is not a valid value.",
        "rid-2",
    );
    assert_eq!(error.status, 400);
    assert_eq!(
        String::from_utf8(error.body).expect("text"),
        r#"<ErrorResponse xmlns="http://monitoring.amazonaws.com/doc/2010-08-01/"><Error><Type>Sender</Type><Code>InvalidParameterValue</Code><Message>The value -1 for parameter Period is not a valid value.</Message></Error><RequestId>rid-2</RequestId></ErrorResponse>"#
    );
    let fault = awsquery::encode_error(cw, "InternalServiceFault", "oops", "rid-4");
    assert_eq!(fault.status, 500);
    assert!(
        String::from_utf8_lossy(&fault.body)
            .contains("<Type>Receiver</Type><Code>InternalServiceError</Code>")
    );
}

#[test]
fn answers_shape_lists_maps_and_output_less_operations() {
    let cw = Model::cloudwatch();
    let sns = Model::sns();
    let xml = awsquery::encode_output(cw, "PutMetricData", &Value::Null, "r").expect("renders");
    assert_eq!(
        xml,
        r#"<PutMetricDataResponse xmlns="http://monitoring.amazonaws.com/doc/2010-08-01/"><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></PutMetricDataResponse>"#
    );
    let xml = awsquery::encode_output(
        sns,
        "GetTopicAttributes",
        &json!({"Attributes": {"DisplayName": "a&b", "Owner": "1"}}),
        "r",
    )
    .expect("renders");
    assert!(
        xml.contains("<Attributes><entry><key>DisplayName</key><value>a&amp;b</value></entry><entry><key>Owner</key><value>1</value></entry></Attributes>"),
        "{xml}"
    );
    let xml =
        awsquery::encode_output(sns, "ListTopics", &json!({"Topics": []}), "r").expect("renders");
    assert!(
        xml.contains("<ListTopicsResult><Topics/></ListTopicsResult>"),
        "{xml}"
    );
    let xml = awsquery::encode_output(sns, "ListTopics", &Value::Null, "r").expect("renders");
    assert!(xml.contains("<ListTopicsResult/>"), "{xml}");
    let err = awsquery::encode_output(sns, "ListTopics", &json!({"Topics": [{"Arn": "x"}]}), "r")
        .unwrap_err();
    assert_eq!(err.path, "Topics[0].Arn");
    let err = awsquery::encode_output(
        cw,
        "DescribeAlarms",
        &json!({"MetricAlarms": [{"Period": "60"}]}),
        "r",
    )
    .unwrap_err();
    assert_eq!(err.path, "MetricAlarms[0].Period");
    assert!(awsquery::encode_output(cw, "PutMetricData", &json!({"A": 1}), "r").is_err());
}

const REQUEST_ID: &str = "f187a3c1-376f-11df-8963-01868b7c937a";

fn success_case(service: &str, model: &Model, operation: &str, value: &Value) -> Value {
    let xml = awsquery::encode_output(model, operation, value, REQUEST_ID)
        .unwrap_or_else(|e| panic!("{operation}: {e}"));
    let headers = [("Content-Type", awsquery::CONTENT_TYPE.to_owned())];
    let mut case = support::answer_case(service, "query", operation, 200, &headers, xml.as_bytes());
    case["expected"] = value.clone();
    case["request_id"] = json!(REQUEST_ID);
    case
}

fn error_case(service: &str, model: &Model, operation: &str, code: &str) -> Value {
    let message = format!("{code} happened: <&> \"é\"");
    let error = awsquery::encode_error(model, code, &message, REQUEST_ID);
    let (wire_code, class) = match model.error_by_code(code) {
        Some((id, info)) => (info.code.clone(), model.shape_name(id).to_owned()),
        None => (code.to_owned(), "ClientError".to_owned()),
    };
    let mut case = support::answer_case(
        service,
        "query",
        operation,
        error.status,
        &error.headers,
        &error.body,
    );
    case["error"] = json!({"code": wire_code, "message": message, "class": class,
                           "query_error_code": null, "type": null});
    case["request_id"] = json!(REQUEST_ID);
    case
}

#[test]
fn botocore_parses_every_answer_as_meant() {
    let mut cases = Vec::new();
    for (service, model, any_operation) in [
        ("cloudwatch", Model::cloudwatch(), "PutMetricData"),
        ("sns", Model::sns(), "Publish"),
        ("iam", Model::iam(), "GetRole"),
    ] {
        for (operation, value) in support::sample_outputs(model) {
            cases.push(success_case(service, model, &operation, &value));
        }
        for (shape, operation) in support::modeled_errors(model) {
            let info = model
                .error_info(model.shape_id(&shape).expect("shape"))
                .expect("error");
            cases.push(error_case(service, model, &operation, &info.code));
            if info.code != shape {
                cases.push(error_case(service, model, &operation, &shape));
            }
        }
        for code in ["InvalidAction", "MissingAction", "InternalFailure"] {
            cases.push(error_case(service, model, any_operation, code));
        }
    }
    // The fact sheet's captured answers (1.8).
    cases.push(success_case(
        "sns",
        Model::sns(),
        "Publish",
        &json!({"MessageId": "94f20ce6-13c5-43a0-9a9e-ca52d816e90b"}),
    ));
    cases.push(success_case(
        "cloudwatch",
        Model::cloudwatch(),
        "GetMetricStatistics",
        &json!({"Label":"Latency","Datapoints":[{"Timestamp":1704164400,"Average":12.5,"Unit":"Milliseconds"}]}),
    ));
    support::botocore_check("query-answers.json", &cases);
}

proptest! {
    #[test]
    fn any_form_body_decodes_or_errs_without_panicking(body in proptest::collection::vec(any::<u8>(), 0..256)) {
        if let Ok(request) = query::decode("", &body) {
            for model in [Model::cloudwatch(), Model::sns(), Model::iam()] {
                let _ = awsquery::decode_input(model, &request.action, &request.params);
            }
        }
    }

    #[test]
    fn path_shaped_bodies_decode_or_err_without_panicking(
        pairs in proptest::collection::vec(
            (
                proptest::collection::vec(
                    prop_oneof![
                        Just("MetricData"), Just("member"), Just("entry"), Just("Dimensions"),
                        Just("Values"), Just("Counts"), Just("Name"), Just("Value"), Just("key"),
                        Just("value"), Just("MessageAttributes"), Just("Attributes"),
                        Just("StatisticValues"), Just("Timestamp"), Just("1"), Just("2"), Just("3"),
                    ],
                    1..7,
                ),
                prop_oneof![Just(""), Just("1.5"), Just("x"), Just("true"), Just("2024-01-02T03:04:05Z"), Just("AP9i")],
            ),
            0..10,
        ),
    ) {
        let mut body = String::from("Action=PutMetricData");
        for (path, value) in &pairs {
            body.push('&');
            body.push_str(&path.join("."));
            body.push('=');
            body.push_str(value);
        }
        if let Ok(request) = query::decode("", body.as_bytes()) {
            for (model, action) in [(Model::cloudwatch(), "PutMetricData"), (Model::sns(), "Publish"), (Model::sns(), "CreateTopic")] {
                let _ = awsquery::decode_input(model, action, &request.params);
            }
        }
    }
}
