#!/usr/bin/env python3
"""Records the Smithy RPC v2 CBOR bodies botocore's own CloudWatch client writes for
realistic parameters of every CloudWatch operation spotlab serves, with the canonical
JSON each must decode to (member names; timestamps as epoch seconds, whole ones as
integers; doubles as floats).

Usage: make_requests.py > requests.json (run with the venv's python; the output is
committed and read by crates/aws-wire/tests/cbor.rs, so the Rust test needs no Python).
"""

import base64
import calendar
import datetime
import json
import sys

import botocore

from botocore_client import CannedClient

UTC = datetime.timezone.utc
T0 = datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)  # 1704164645
T_HALF = datetime.datetime(2024, 1, 2, 3, 4, 5, 500000, tzinfo=UTC)
TOPIC = "arn:aws:sns:us-east-1:123456789012:alerts"
ALARM = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:HighLatency"
LONG_TEXT = "Fehlerquote über 10 % – " * 12  # > 255 bytes: a two-byte length head

CASES = [
    # Fact sheet 1.8: the captured PutMetricData, Content-Length 255.
    ("put-metric-data-captured", "PutMetricData", {
        "Namespace": "App",
        "MetricData": [
            {"MetricName": "Latency", "Dimensions": [{"Name": "Svc", "Value": "api"}],
             "Timestamp": T0, "Value": 12.5, "Unit": "Milliseconds", "StorageResolution": 1},
            {"MetricName": "Sizes", "Values": [1.0, 2.0, 3.5], "Counts": [3.0, 1.0, 2.0],
             "Timestamp": T_HALF},
        ],
    }),
    ("put-metric-data-statistic-sets", "PutMetricData", {
        "Namespace": "spotlab/test-dev",
        "MetricData": [
            {"MetricName": "Success", "Timestamp": 1704164645,
             "StatisticValues": {"SampleCount": 120, "Sum": 118.0, "Minimum": 0, "Maximum": 1.0},
             "Unit": "Count", "StorageResolution": 60,
             "Dimensions": [{"Name": "FleetId", "Value": "fleet-1"},
                            {"Name": "InstanceType", "Value": "c5.large"}]},
            {"MetricName": "Extremes", "Values": [-273.15, 1e300, 5e-324, 0.1, -0.0, 65504.0],
             "Timestamp": datetime.datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)},
            {"MetricName": "Integral", "Value": 3, "Timestamp": "2024-01-02T03:04:05Z"},
        ],
        "StrictEntityValidation": False,
        "EntityMetricData": [{
            "Entity": {"KeyAttributes": {"Type": "Service", "Name": "api", "Environment": "dev"},
                       "Attributes": {"PlatformType": "AWS::EC2"}},
            "MetricData": [{"MetricName": "Error", "Value": 0.0}],
        }],
    }),
    ("put-metric-alarm-single", "PutMetricAlarm", {
        "AlarmName": "HighLatency", "AlarmDescription": LONG_TEXT,
        "AlarmActions": [TOPIC], "OKActions": [TOPIC], "InsufficientDataActions": [],
        "ActionsEnabled": True, "MetricName": "Latency", "Namespace": "App",
        "Statistic": "Average", "Dimensions": [{"Name": "Svc", "Value": "api"}],
        "Period": 60, "EvaluationPeriods": 3, "DatapointsToAlarm": 2, "Threshold": 100,
        "ComparisonOperator": "GreaterThanThreshold", "TreatMissingData": "notBreaching",
        "Unit": "Milliseconds", "Tags": [{"Key": "team", "Value": "perf"}],
    }),
    ("put-metric-alarm-percentile", "PutMetricAlarm", {
        "AlarmName": "p99", "MetricName": "Latency", "Namespace": "App",
        "ExtendedStatistic": "p99.9", "EvaluateLowSampleCountPercentile": "ignore",
        "Period": 10, "EvaluationPeriods": 1, "Threshold": -1.5,
        "ComparisonOperator": "LessThanOrEqualToThreshold", "ActionsEnabled": False,
    }),
    ("put-metric-alarm-math", "PutMetricAlarm", {
        "AlarmName": "error-rate", "AlarmActions": [TOPIC],
        "EvaluationPeriods": 1, "DatapointsToAlarm": 1, "Threshold": 0.1,
        "ComparisonOperator": "GreaterThanThreshold", "TreatMissingData": "missing",
        "Metrics": [
            {"Id": "e1", "Expression": "errors / (errors + successes)", "Label": "Error rate",
             "ReturnData": True},
            {"Id": "errors", "ReturnData": False, "MetricStat": {
                "Metric": {"Namespace": "spotlab", "MetricName": "Error",
                           "Dimensions": [{"Name": "FleetId", "Value": "fleet-1"}]},
                "Period": 60, "Stat": "Sum"}},
            {"Id": "successes", "ReturnData": False, "AccountId": "123456789012", "MetricStat": {
                "Metric": {"Namespace": "spotlab", "MetricName": "Success"},
                "Period": 60, "Stat": "Sum", "Unit": "Count"}},
        ],
    }),
    ("get-metric-data", "GetMetricData", {
        "StartTime": T0, "EndTime": datetime.datetime(2024, 1, 2, 4, 4, 5, 250000, tzinfo=UTC),
        "ScanBy": "TimestampDescending", "MaxDatapoints": 100800, "NextToken": "tok",
        "LabelOptions": {"Timezone": "+0130"},
        "MetricDataQueries": [
            {"Id": "m1", "MetricStat": {"Metric": {"Namespace": "App", "MetricName": "Latency"},
                                        "Period": 1, "Stat": "p90"}},
            {"Id": "e1", "Expression": "SUM(METRICS())", "Period": 300},
        ],
    }),
    ("get-metric-statistics", "GetMetricStatistics", {
        "Namespace": "App", "MetricName": "Latency",
        "Dimensions": [{"Name": "Svc", "Value": "api"}],
        "StartTime": 1704160000, "EndTime": 1704164645.75, "Period": 60,
        "Statistics": ["SampleCount", "Average", "Sum", "Minimum", "Maximum"],
        "ExtendedStatistics": ["p50", "p99", "tm90"], "Unit": "Milliseconds",
    }),
    ("describe-alarms", "DescribeAlarms", {
        "AlarmNames": ["HighLatency", "error-rate"], "AlarmTypes": ["MetricAlarm", "CompositeAlarm"],
        "StateValue": "ALARM", "ActionPrefix": "arn:aws:sns", "MaxRecords": 100,
        "NextToken": "n-1",
    }),
    ("describe-alarms-empty", "DescribeAlarms", {}),
    ("describe-alarms-prefix", "DescribeAlarms", {
        "AlarmNamePrefix": "High", "ChildrenOfAlarmName": "parent",
    }),
    ("describe-alarms-for-metric", "DescribeAlarmsForMetric", {
        "MetricName": "Latency", "Namespace": "App", "Statistic": "Average",
        "Dimensions": [{"Name": "Svc", "Value": "api"}], "Period": 60, "Unit": "Milliseconds",
    }),
    ("describe-alarm-history", "DescribeAlarmHistory", {
        "AlarmName": "HighLatency", "AlarmTypes": ["MetricAlarm"],
        "HistoryItemType": "StateUpdate", "StartDate": T0, "EndDate": T_HALF,
        "MaxRecords": 50, "ScanBy": "TimestampAscending",
    }),
    ("delete-alarms", "DeleteAlarms", {"AlarmNames": ["HighLatency", "error-rate"]}),
    ("disable-alarm-actions", "DisableAlarmActions", {"AlarmNames": ["HighLatency"]}),
    ("enable-alarm-actions", "EnableAlarmActions", {"AlarmNames": ["a" * 255]}),
    ("list-metrics", "ListMetrics", {
        "Namespace": "App", "MetricName": "Latency", "RecentlyActive": "PT3H",
        "Dimensions": [{"Name": "Svc", "Value": "api"}, {"Name": "Host"}],
        "IncludeLinkedAccounts": False, "OwningAccount": "123456789012",
    }),
    ("list-metrics-empty", "ListMetrics", {}),
    ("set-alarm-state", "SetAlarmState", {
        "AlarmName": "HighLatency", "StateValue": "ALARM", "StateReason": "test ✓",
        "StateReasonData": json.dumps({"version": "1.0", "queryDate": "2024-01-02T03:04:05.000+0000"}),
    }),
    ("list-tags-for-resource", "ListTagsForResource", {"ResourceARN": ALARM}),
    ("tag-resource", "TagResource", {
        "ResourceARN": ALARM, "Tags": [{"Key": "spotlab:stack", "Value": "demo ✓"}, {"Key": "empty", "Value": ""}],
    }),
    ("untag-resource", "UntagResource", {"ResourceARN": ALARM, "TagKeys": ["spotlab:stack", "empty"]}),
]


def epoch(value):
    """A timestamp parameter (datetime, number or ISO text) as epoch seconds, whole ones
    as integers, exactly as botocore computes it."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value) if float(value).is_integer() else float(value)
    if isinstance(value, str):
        value = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    seconds = calendar.timegm(value.timetuple())
    if value.microsecond:
        return (seconds * 10**6 + value.microsecond) / 10**6
    return seconds


def canonical(value, shape):
    """A parameter as the canonical JSON of the Rust codecs."""
    kind = shape.type_name
    if kind == "structure":
        return {k: canonical(v, shape.members[k]) for k, v in value.items() if v is not None}
    if kind == "list":
        return [canonical(v, shape.member) for v in value]
    if kind == "map":
        return {k: canonical(v, shape.value) for k, v in value.items()}
    if kind == "timestamp":
        return epoch(value)
    if kind in ("double", "float"):
        return float(value)
    if kind == "blob":
        return base64.b64encode(value if isinstance(value, bytes) else value.encode()).decode()
    return value


def main():
    canned = CannedClient()
    cases = []
    for name, operation, params in CASES:
        op_model = canned.model.operation_model(operation)
        canned.answer = (200, {"smithy-protocol": "rpc-v2-cbor"}, b"" if op_model.output_shape is None else b"\xa0")
        canned.call(operation, params)
        request = canned.requests[-1]
        body = request.body or b""
        headers = {k: v for k, v in request.headers.items()
                   if k.lower() in ("smithy-protocol", "content-type", "accept", "x-amzn-query-mode")}
        cases.append({
            "name": name,
            "operation": operation,
            "path": request.url.split("localhost:1", 1)[1],
            "headers": {k: v.decode() if isinstance(v, bytes) else v for k, v in headers.items()},
            "body": body.hex(),
            "expected": canonical(params, op_model.input_shape),
        })
    captured = cases[0]
    assert len(bytes.fromhex(captured["body"])) == 255, "fact sheet 1.8: Content-Length 255"
    assert captured["body"].startswith("a2694e616d657370616365"), captured["body"][:40]
    json.dump({"botocore": botocore.__version__, "cases": cases}, sys.stdout, indent=1,
              ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
