#!/usr/bin/env python3
"""Feeds the local cloud's CBOR answers to botocore's own CloudWatch client, speaking
Smithy RPC v2 CBOR (see botocore_client.py), and checks that it reads back exactly what
was meant, value for value and type for type: timestamps as datetimes, doubles as
floats (never ints), integers as ints; errors as the modeled exception class with the
query code (from `x-amzn-query-error`), message, fault side and status.

Usage: check_responses.py FILE, where FILE is JSON {"cases": [{"name", "operation",
"status", "headers", "body" (hex), "expected" (canonical JSON) or "error" ({"class",
"code", "message", "type"})}]}. Prints `ok NAME` per case; exits 1 on the first
mismatch. Run by crates/aws-wire/tests/cbor.rs.
"""

import base64
import datetime
import json
import sys

from botocore.exceptions import ClientError

from botocore_client import CannedClient

T = datetime.datetime(2024, 1, 2, tzinfo=datetime.timezone.utc)

# The least each operation needs to pass botocore's parameter validation.
PARAMS = {
    "DeleteAlarms": {"AlarmNames": ["a"]},
    "DescribeAlarmHistory": {},
    "DescribeAlarms": {},
    "DescribeAlarmsForMetric": {"MetricName": "m", "Namespace": "n"},
    "DisableAlarmActions": {"AlarmNames": ["a"]},
    "EnableAlarmActions": {"AlarmNames": ["a"]},
    "GetMetricData": {"MetricDataQueries": [{"Id": "e1", "Expression": "1"}],
                      "StartTime": T, "EndTime": T},
    "GetMetricStatistics": {"Namespace": "n", "MetricName": "m", "StartTime": T,
                            "EndTime": T, "Period": 60, "Statistics": ["Sum"]},
    "ListMetrics": {},
    "PutMetricAlarm": {"AlarmName": "a", "EvaluationPeriods": 1,
                       "ComparisonOperator": "GreaterThanThreshold"},
    "PutMetricData": {"Namespace": "n", "MetricData": [{"MetricName": "m", "Value": 1.0}]},
    "SetAlarmState": {"AlarmName": "a", "StateValue": "OK", "StateReason": "r"},
    "ListTagsForResource": {"ResourceARN": "arn"},
    "TagResource": {"ResourceARN": "arn", "Tags": [{"Key": "k", "Value": "v"}]},
    "UntagResource": {"ResourceARN": "arn", "TagKeys": ["k"]},
}


def compare(parsed, expected, shape, path):
    """None when botocore's parse equals the canonical JSON, typed by the shape."""
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(parsed, dict):
            return f"{path}: parsed {parsed!r}, meant a structure"
        wanted = {k: v for k, v in expected.items() if v is not None}
        for key in sorted(set(parsed) | set(wanted)):
            if key not in parsed:
                return f"{path}.{key}: missing from botocore's parse"
            if key not in wanted:
                return f"{path}.{key}: botocore read a member the answer does not have"
            found = compare(parsed[key], wanted[key], shape.members[key], f"{path}.{key}")
            if found:
                return found
        return None
    if kind == "list":
        if not isinstance(parsed, list) or len(parsed) != len(expected):
            return f"{path}: parsed {parsed!r}, meant {expected!r}"
        for i, (p, e) in enumerate(zip(parsed, expected)):
            found = compare(p, e, shape.member, f"{path}[{i}]")
            if found:
                return found
        return None
    if kind == "map":
        if not isinstance(parsed, dict) or set(parsed) != set(expected):
            return f"{path}: parsed {parsed!r}, meant {expected!r}"
        for key in sorted(parsed):
            found = compare(parsed[key], expected[key], shape.value, f"{path}.{key}")
            if found:
                return found
        return None
    if kind == "timestamp":
        if not isinstance(parsed, datetime.datetime) or parsed.tzinfo is None:
            return f"{path}: parsed {parsed!r}, meant an aware datetime"
        meant = datetime.datetime.fromtimestamp(expected, datetime.timezone.utc)
        # botocore rounds to microseconds.
        if abs((parsed - meant).total_seconds()) > 1e-6:
            return f"{path}: parsed {parsed.isoformat()}, meant {meant.isoformat()}"
        return None
    if kind in ("double", "float"):
        if type(parsed) is not float:
            return f"{path}: parsed {parsed!r} ({type(parsed).__name__}), meant a float"
        return None if parsed == float(expected) else f"{path}: parsed {parsed!r}, meant {expected!r}"
    if kind in ("integer", "long"):
        if type(parsed) is not int:
            return f"{path}: parsed {parsed!r} ({type(parsed).__name__}), meant an int"
        return None if parsed == expected else f"{path}: parsed {parsed!r}, meant {expected!r}"
    if kind == "boolean":
        return None if parsed is expected else f"{path}: parsed {parsed!r}, meant {expected!r}"
    if kind == "blob":
        meant = base64.b64decode(expected)
        return None if parsed == meant else f"{path}: parsed {parsed!r}, meant {meant!r}"
    if type(parsed) is not str or parsed != expected:
        return f"{path}: parsed {parsed!r}, meant {expected!r}"
    return None


def check(canned, case):
    operation = case["operation"]
    headers = case["headers"]
    canned.answer = (case["status"], headers, bytes.fromhex(case["body"]))
    try:
        parsed = canned.call(operation, PARAMS[operation])
    except ClientError as error:
        meant = case.get("error")
        if meant is None:
            return f"raised {error!r}"
        got = error.response["Error"]
        found = [
            (type(error).__name__, meant["class"], "exception class"),
            (got.get("Code"), meant["code"], "Code"),
            (got.get("Message"), meant["message"], "Message"),
            (got.get("Type"), meant.get("type"), "Type"),
            (error.response["ResponseMetadata"]["HTTPStatusCode"], case["status"], "status"),
            (error.response["ResponseMetadata"].get("RequestId"),
             headers.get("x-amzn-RequestId"), "RequestId"),
        ]
        for got_value, meant_value, what in found:
            if got_value != meant_value:
                return f"{what}: botocore read {got_value!r}, meant {meant_value!r}"
        return None
    if case.get("error") is not None:
        return f"parsed {parsed!r}, meant an error"
    # botocore's RPC v2 parser reports metadata only for operations with an output.
    metadata = parsed.pop("ResponseMetadata", {})
    shape = canned.model.operation_model(operation).output_shape
    if shape is None:
        return None if parsed == {} else f"parsed {parsed!r} for an output-less operation"
    if metadata.get("RequestId") != headers.get("x-amzn-RequestId"):
        return f"RequestId: botocore read {metadata.get('RequestId')!r}"
    return compare(parsed, case["expected"], shape, operation)


def main():
    cases = json.load(open(sys.argv[1], encoding="utf-8"))["cases"]
    canned = CannedClient()
    for case in cases:
        problem = check(canned, case)
        if problem:
            print(f"FAIL {case['name']}: {problem}")
            sys.exit(1)
        print(f"ok {case['name']}")


if __name__ == "__main__":
    main()
