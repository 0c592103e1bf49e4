#!/usr/bin/env python3
"""Records the requests botocore's own serializers write for every operation the local
cloud serves of CloudWatch (AWS JSON 1.0, the query protocol and RPC v2 CBOR), SNS (query),
EventBridge (AWS JSON 1.1) and IAM (query), with the parameters they came from, into requests.json.

Each request is what goes on the wire: botocore's serializer, then its request preparer
(form bodies url-encoded) and its SigV4 signer, at a fixed time with fixed credentials.
The Rust tests `crates/aws-wire/tests/{json,awsquery,protocol}.rs` route each request and
decode its body, and check that they get the parameters back, member for member, as the
canonical JSON every protocol shares: member names, timestamps as epoch seconds, blobs
base64. Run with a Python that has botocore (scripts/python-env.sh makes one):

    target/spotlab-venv/bin/python crates/aws-wire/tests/monitoring/make_requests.py
"""

import base64
import calendar
import datetime
import json
import os

import botocore
import botocore.auth
import botocore.session
from botocore.auth import SigV4Auth
from botocore.awsrequest import create_request_object, prepare_request_dict
from botocore.credentials import Credentials
from botocore.serialize import create_serializer

HERE = os.path.dirname(os.path.abspath(__file__))
UTC = datetime.timezone.utc
WHEN = datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
HALF = datetime.datetime(2024, 1, 2, 3, 4, 5, 500000, tzinfo=UTC)
MICRO = datetime.datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)
SIGNED_AT = datetime.datetime(2024, 1, 2, 3, 4, 5)
TOPIC = "arn:aws:sns:us-east-1:123456789012:alerts"
SUBSCRIPTION = TOPIC + ":2bcfbf39-05c3-41de-beaa-fcfcc21c8f55"
ALARM = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:HighLatency"
RULE = "arn:aws:events:us-east-1:123456789012:rule/spot"
DIMENSIONS = [{"Name": "Svc", "Value": "api"}, {"Name": "Host", "Value": "i-0abc & <b>"}]
METRIC = {"Namespace": "App", "MetricName": "Latency", "Dimensions": DIMENSIONS}
QUERIES = [
    {"Id": "errors", "MetricStat": {"Metric": {"Namespace": "App", "MetricName": "Error", "Dimensions": DIMENSIONS[:1]},
                                    "Period": 60, "Stat": "Sum", "Unit": "Count"}, "ReturnData": False},
    {"Id": "total", "MetricStat": {"Metric": {"Namespace": "App", "MetricName": "Success"}, "Period": 60, "Stat": "Sum"},
     "ReturnData": False, "Label": "successes"},
    {"Id": "rate", "Expression": "errors / (errors + total)", "Label": "Error rate", "ReturnData": True, "Period": 60},
]

CLOUDWATCH = {
    "DeleteAlarms": {"AlarmNames": ["HighLatency", "spot errors"]},
    "DescribeAlarmHistory": {"AlarmName": "HighLatency", "AlarmTypes": ["MetricAlarm", "CompositeAlarm"],
                             "HistoryItemType": "StateUpdate", "StartDate": WHEN, "EndDate": HALF,
                             "MaxRecords": 50, "NextToken": "t-1", "ScanBy": "TimestampDescending"},
    "DescribeAlarms": {"AlarmNames": ["HighLatency"], "AlarmNamePrefix": "High", "AlarmTypes": ["MetricAlarm"],
                       "StateValue": "ALARM", "ActionPrefix": "arn:aws:sns", "MaxRecords": 10, "NextToken": "t-2"},
    "DescribeAlarmsForMetric": {**METRIC, "Statistic": "Average", "Period": 60, "Unit": "Milliseconds"},
    "DisableAlarmActions": {"AlarmNames": ["HighLatency"]},
    "EnableAlarmActions": {"AlarmNames": ["HighLatency", "Other"]},
    "GetMetricData": {"MetricDataQueries": QUERIES, "StartTime": WHEN, "EndTime": MICRO, "NextToken": "t-3",
                      "ScanBy": "TimestampAscending", "MaxDatapoints": 1000, "LabelOptions": {"Timezone": "+0130"}},
    "GetMetricStatistics": {**METRIC, "StartTime": WHEN, "EndTime": HALF, "Period": 60,
                            "Statistics": ["Average", "SampleCount", "Maximum"], "ExtendedStatistics": ["p99", "p99.9"],
                            "Unit": "Milliseconds"},
    "ListMetrics": {"Namespace": "App", "MetricName": "Latency", "Dimensions": [{"Name": "Svc", "Value": "api"}, {"Name": "Host"}],
                    "NextToken": "t-4", "RecentlyActive": "PT3H", "IncludeLinkedAccounts": True, "OwningAccount": "123456789012"},
    "PutMetricAlarm": {
        "AlarmName": "HighLatency", "AlarmDescription": "p99 over 100 ms", "ActionsEnabled": True,
        "OKActions": [TOPIC], "AlarmActions": [TOPIC, TOPIC + "-2"], "InsufficientDataActions": [],
        "MetricName": "Latency", "Namespace": "App", "Statistic": "Average", "Dimensions": DIMENSIONS,
        "Period": 60, "Unit": "Milliseconds", "EvaluationPeriods": 3, "DatapointsToAlarm": 2, "Threshold": 100.0,
        "ComparisonOperator": "GreaterThanThreshold", "TreatMissingData": "notBreaching",
        "EvaluateLowSampleCountPercentile": "evaluate", "Tags": [{"Key": "team", "Value": "perf"}],
    },
    "PutMetricData": {
        "Namespace": "App",
        "MetricData": [
            {"MetricName": "Latency", "Dimensions": DIMENSIONS[:1], "Timestamp": WHEN, "Value": 12.5,
             "Unit": "Milliseconds", "StorageResolution": 1},
            {"MetricName": "Sizes", "Values": [1.0, 2.0, 3.5, 0.1, 1e21], "Counts": [3.0, 1.0, 2.0, 1.0, 1.0],
             "Timestamp": HALF},
            {"MetricName": "Stats", "StatisticValues": {"SampleCount": 4.0, "Sum": 10.0, "Minimum": -1.5, "Maximum": 7.25},
             "Timestamp": MICRO, "Unit": "Count"},
        ],
        "EntityMetricData": [{"Entity": {"KeyAttributes": {"Type": "Service", "Name": "api"},
                                         "Attributes": {"Environment": "test"}},
                              "MetricData": [{"MetricName": "Error", "Value": 0.0}]}],
        "StrictEntityValidation": False,
    },
    "SetAlarmState": {"AlarmName": "HighLatency", "StateValue": "ALARM", "StateReason": "testing <it> & more",
                      "StateReasonData": "{\"version\": \"1.0\"}"},
    "ListTagsForResource": {"ResourceARN": ALARM},
    "TagResource": {"ResourceARN": ALARM, "Tags": [{"Key": "spotlab:stack", "Value": "demo & <1>"},
                                                   {"Key": "empty", "Value": ""}]},
    "UntagResource": {"ResourceARN": ALARM, "TagKeys": ["spotlab:stack", "empty"]},
}

# A second PutMetricAlarm: the metric-math form, with nested lists of structures.
CLOUDWATCH_EXTRA = {
    "PutMetricAlarm": {"AlarmName": "ErrorRate", "EvaluationPeriods": 1, "Threshold": 0.1,
                       "ComparisonOperator": "GreaterThanThreshold", "Metrics": QUERIES, "ActionsEnabled": False},
}

SNS = {
    "ConfirmSubscription": {"TopicArn": TOPIC, "Token": "2336412f37fb687f5d51e6e2425", "AuthenticateOnUnsubscribe": "true"},
    "CreateTopic": {"Name": "alerts", "Attributes": {"DisplayName": "Alerts", "Policy": "{\"Version\": \"2012-10-17\"}"},
                    "Tags": [{"Key": "team", "Value": "perf"}, {"Key": "empty", "Value": ""}]},
    "DeleteTopic": {"TopicArn": TOPIC},
    "GetSubscriptionAttributes": {"SubscriptionArn": SUBSCRIPTION},
    "GetTopicAttributes": {"TopicArn": TOPIC},
    "ListSubscriptions": {"NextToken": "n-1"},
    "ListSubscriptionsByTopic": {"TopicArn": TOPIC, "NextToken": "n-2"},
    "ListTopics": {},
    "Publish": {"TopicArn": TOPIC, "Message": "hello\nworld & <all> \u00e9", "Subject": "hi",
                "MessageStructure": "raw",
                "MessageAttributes": {"k": {"DataType": "String", "StringValue": "v"},
                                      "n": {"DataType": "Number", "StringValue": "42"},
                                      "b": {"DataType": "Binary", "BinaryValue": b"\x00\xffbytes"}}},
    "SetSubscriptionAttributes": {"SubscriptionArn": SUBSCRIPTION, "AttributeName": "RawMessageDelivery",
                                  "AttributeValue": "true"},
    "SetTopicAttributes": {"TopicArn": TOPIC, "AttributeName": "DisplayName", "AttributeValue": "Alerts 2"},
    "Subscribe": {"TopicArn": TOPIC, "Protocol": "https", "Endpoint": "https://example.com/hook",
                  "Attributes": {"RawMessageDelivery": "false"}, "ReturnSubscriptionArn": True},
    "Unsubscribe": {"SubscriptionArn": SUBSCRIPTION},
    "ListTagsForResource": {"ResourceArn": TOPIC},
    "TagResource": {"ResourceArn": TOPIC, "Tags": [{"Key": "spotlab:stack", "Value": "demo & <1>"},
                                                   {"Key": "empty", "Value": ""}]},
    "UntagResource": {"ResourceArn": TOPIC, "TagKeys": ["spotlab:stack", "empty"]},
}

PATTERN = json.dumps({"source": ["aws.ec2"], "detail-type": ["EC2 Spot Instance Interruption Warning"]})
EVENT = json.dumps({"id": "1", "source": "aws.ec2", "detail-type": "EC2 Spot Instance Interruption Warning",
                    "account": "123456789012", "time": "2024-01-02T03:04:05Z", "region": "us-east-1",
                    "resources": [], "detail": {"instance-id": "i-1", "instance-action": "terminate"}})

EVENTS = {
    "DeleteRule": {"Name": "spot", "EventBusName": "default", "Force": True},
    "DescribeRule": {"Name": "spot", "EventBusName": "default"},
    "DisableRule": {"Name": "spot"},
    "EnableRule": {"Name": "spot"},
    "ListRules": {"NamePrefix": "sp", "EventBusName": "default", "NextToken": "n", "Limit": 10},
    "ListTargetsByRule": {"Rule": "spot", "NextToken": "n", "Limit": 100},
    "PutEvents": {"Entries": [
        {"Time": WHEN, "Source": "app", "Resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-1"],
         "DetailType": "Test", "Detail": "{\"a\": 1}", "EventBusName": "default"},
        {"Time": HALF, "Source": "app", "DetailType": "Test", "Detail": "{}"},
    ]},
    "PutRule": {"Name": "spot", "EventPattern": PATTERN, "State": "ENABLED", "Description": "Spot warnings",
                "Tags": [{"Key": "team", "Value": "perf"}]},
    "PutTargets": {"Rule": "spot", "Targets": [
        {"Id": "1", "Arn": TOPIC},
        {"Id": "2", "Arn": TOPIC, "InputTransformer": {"InputPathsMap": {"instance": "$.detail.instance-id"},
                                                       "InputTemplate": "\"<instance> is going away\""},
         "RetryPolicy": {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 3600}},
        {"Id": "3", "Arn": "arn:aws:events:us-east-1:123456789012:api-destination/x",
         "HttpParameters": {"HeaderParameters": {"X-A": "b"}, "PathParameterValues": ["p"],
                            "QueryStringParameters": {"q": "1"}}, "Input": "{}"},
    ]},
    "RemoveTargets": {"Rule": "spot", "Ids": ["1", "2"], "Force": False},
    "TestEventPattern": {"EventPattern": PATTERN, "Event": EVENT},
    "ListTagsForResource": {"ResourceARN": RULE},
    "TagResource": {"ResourceARN": RULE, "Tags": [{"Key": "spotlab:stack", "Value": "demo"}, {"Key": "empty", "Value": ""}]},
    "UntagResource": {"ResourceARN": RULE, "TagKeys": ["spotlab:stack", "empty"]},
}

TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                                                         "Action": "sts:AssumeRole"}]})
POLICY = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "cloudwatch:PutMetricData",
                                                          "Resource": "*"}]})
ROLE_TAGS = [{"Key": "app", "Value": "spotlab"}, {"Key": "empty", "Value": ""}]
MANAGED = "arn:aws:iam::aws:policy/service-role/AmazonEC2RoleforSSM"

IAM = {
    "AddRoleToInstanceProfile": {"InstanceProfileName": "spotlab-agent", "RoleName": "spotlab-agent"},
    "AttachRolePolicy": {"RoleName": "spotlab-agent", "PolicyArn": MANAGED},
    "CreateInstanceProfile": {"InstanceProfileName": "spotlab-agent", "Path": "/spotlab/", "Tags": ROLE_TAGS},
    "CreateRole": {"RoleName": "spotlab-agent", "Path": "/spotlab/", "AssumeRolePolicyDocument": TRUST,
                   "Description": "agents & <their> \"checkpoints\"", "MaxSessionDuration": 7200,
                   "PermissionsBoundary": "arn:aws:iam::123456789012:policy/boundary", "Tags": ROLE_TAGS},
    "DeleteInstanceProfile": {"InstanceProfileName": "spotlab-agent"},
    "DeleteRole": {"RoleName": "spotlab-agent"},
    "DeleteRolePolicy": {"RoleName": "spotlab-agent", "PolicyName": "agent"},
    "DetachRolePolicy": {"RoleName": "spotlab-agent", "PolicyArn": MANAGED},
    "GetInstanceProfile": {"InstanceProfileName": "spotlab-agent"},
    "GetRole": {"RoleName": "spotlab-agent"},
    "GetRolePolicy": {"RoleName": "spotlab-agent", "PolicyName": "agent"},
    "ListAttachedRolePolicies": {"RoleName": "spotlab-agent", "PathPrefix": "/service-role/", "Marker": "m-1",
                                 "MaxItems": 10},
    "ListInstanceProfileTags": {"InstanceProfileName": "spotlab-agent", "Marker": "m-2", "MaxItems": 10},
    "ListInstanceProfiles": {"PathPrefix": "/spotlab/", "Marker": "m-3", "MaxItems": 10},
    "ListInstanceProfilesForRole": {"RoleName": "spotlab-agent", "Marker": "m-4", "MaxItems": 10},
    "ListRolePolicies": {"RoleName": "spotlab-agent", "Marker": "m-5", "MaxItems": 10},
    "ListRoleTags": {"RoleName": "spotlab-agent", "Marker": "m-6", "MaxItems": 10},
    "ListRoles": {"PathPrefix": "/spotlab/", "Marker": "m-7", "MaxItems": 1000},
    "PutRolePolicy": {"RoleName": "spotlab-agent", "PolicyName": "agent", "PolicyDocument": POLICY},
    "RemoveRoleFromInstanceProfile": {"InstanceProfileName": "spotlab-agent", "RoleName": "spotlab-agent"},
    "TagInstanceProfile": {"InstanceProfileName": "spotlab-agent", "Tags": ROLE_TAGS},
    "TagRole": {"RoleName": "spotlab-agent", "Tags": ROLE_TAGS},
    "UntagInstanceProfile": {"InstanceProfileName": "spotlab-agent", "TagKeys": ["app", "empty"]},
    "UntagRole": {"RoleName": "spotlab-agent", "TagKeys": ["app"]},
}

# (service, protocol, operations)
PLAN = [
    ("cloudwatch", "json", CLOUDWATCH),
    ("cloudwatch", "query", CLOUDWATCH),
    ("cloudwatch", "smithy-rpc-v2-cbor", CLOUDWATCH),
    ("cloudwatch", "json", CLOUDWATCH_EXTRA),
    ("cloudwatch", "query", CLOUDWATCH_EXTRA),
    ("sns", "query", SNS),
    ("events", "json", EVENTS),
    ("iam", "query", IAM),
]

SIGNING_NAMES = {"cloudwatch": "monitoring", "sns": "sns", "events": "events", "iam": "iam"}


def canonical(value):
    """The parameters as the canonical JSON: epoch seconds, base64 blobs."""
    if isinstance(value, datetime.datetime):
        seconds = calendar.timegm(value.timetuple())
        if value.microsecond:
            return (seconds * 10**6 + value.microsecond) / 10**6
        return seconds
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, dict):
        return {k: canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        return [canonical(v) for v in value]
    return value


def record(session, service, protocol, operation, params):
    model = session.get_service_model(service)
    op = model.operation_model(operation)
    serialized = create_serializer(protocol).serialize_to_request(params, op)
    prepare_request_dict(serialized, "https://localhost:4566")
    request = create_request_object(serialized)
    SigV4Auth(Credentials("AKIDEXAMPLE", "secret"), SIGNING_NAMES[service], "us-east-1").add_auth(request)
    prepared = request.prepare()
    body = prepared.body or b""
    if isinstance(body, str):
        body = body.encode()
    path, _, query = prepared.url.partition("://")[2].partition("/")[2].partition("?")
    case = {
        "service": service, "protocol": protocol, "operation": operation, "params": canonical(params),
        "method": prepared.method, "path": "/" + path, "query": query,
        "headers": sorted([k, v if isinstance(v, str) else v.decode()] for k, v in prepared.headers.items()),
    }
    if protocol == "smithy-rpc-v2-cbor":
        case["body_hex"] = body.hex()
    else:
        case["body"] = body.decode()
    return case


def main():
    # Signatures carry the time: sign at a fixed one so the file only changes with botocore.
    botocore.auth.get_current_datetime = lambda: SIGNED_AT
    session = botocore.session.get_session()
    cases = []
    for service, protocol, operations in PLAN:
        for name in sorted(operations):
            cases.append(record(session, service, protocol, name, operations[name]))
    out = {"botocore": botocore.__version__, "cases": cases}
    with open(os.path.join(HERE, "requests.json"), "w", encoding="utf-8") as f:
        json.dump(out, f, indent=1, sort_keys=True, ensure_ascii=False)
        f.write("\n")
    print(f"{len(cases)} requests recorded with botocore {botocore.__version__}")


if __name__ == "__main__":
    main()
