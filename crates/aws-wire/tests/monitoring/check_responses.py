#!/usr/bin/env python3
"""Parses the local cloud's CloudWatch, SNS, EventBridge and IAM answers with botocore's own
response parsers and checks that botocore reads back exactly what was meant.

Usage: check_responses.py FILE, where FILE is a JSON list of cases, each an answer
{"service", "protocol", "operation", "status", "headers": [[name, value]], "body"} and:

- "expected": the canonical JSON of the output (timestamps epoch seconds, blobs base64),
  which botocore's parse must equal value for value once typed by the output shape
  (datetimes, bytes, floats); "request_id": what ResponseMetadata.RequestId must be;
- or "error": {"code", "message", "class", "query_error_code", "type"}: the Error.Code
  botocore reads, the exception class its client maps that code to (fact sheet 1.5:
  typed exceptions by query code), and for query-compatible JSON errors the
  QueryErrorCode (the __type's shape name) and Type (Sender/Receiver) botocore keeps.
  When the protocol is the one botocore's client picks for the service, the error is
  also fed to a real client call (through the `before-send` hook), which must raise
  that exception class.

Prints one line per case; exits 1 on the first mismatch. Run by the Rust tests
crates/aws-wire/tests/{json,awsquery}.rs with the AWS CLI tests' virtual environment.
"""

import base64
import datetime
import json
import os
import sys

import botocore.session
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.parsers import create_parser
from botocore import xform_name

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_requests  # noqa: E402  (the parameters of a valid call of every operation)

UTC = datetime.timezone.utc
PARAMS = {"cloudwatch": make_requests.CLOUDWATCH, "sns": make_requests.SNS, "events": make_requests.EVENTS,
          "iam": make_requests.IAM}


def typed(value, shape):
    """Canonical JSON typed as botocore types a parse of `shape`."""
    if value is None:
        return None
    kind = shape.type_name
    if kind == "structure":
        return {k: typed(v, shape.members[k]) for k, v in value.items() if v is not None}
    if kind == "list":
        return [typed(v, shape.member) for v in value]
    if kind == "map":
        return {k: typed(v, shape.value) for k, v in value.items()}
    if kind == "timestamp":
        return datetime.datetime.fromtimestamp(value, tz=UTC)
    if kind == "blob":
        return base64.b64decode(value)
    if kind in ("double", "float"):
        return float(value)
    return value


def diff(parsed, meant, path):
    if isinstance(parsed, dict) and isinstance(meant, dict):
        for key in sorted(set(parsed) | set(meant)):
            if key not in parsed:
                return f"{path}.{key}: missing from botocore's parse"
            if key not in meant:
                return f"{path}.{key}: botocore read a member the answer does not have"
            found = diff(parsed[key], meant[key], f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(parsed, list) and isinstance(meant, list):
        if len(parsed) != len(meant):
            return f"{path}: {len(parsed)} items parsed, {len(meant)} meant"
        for i, (x, y) in enumerate(zip(parsed, meant)):
            found = diff(x, y, f"{path}[{i}]")
            if found:
                return found
        return None
    if type(parsed) is not type(meant) and not (
        isinstance(parsed, (int, float)) and isinstance(meant, (int, float)) and not isinstance(parsed, bool)
    ):
        return f"{path}: parsed {parsed!r} ({type(parsed).__name__}), meant {meant!r} ({type(meant).__name__})"
    return None if parsed == meant else f"{path}: parsed {parsed!r}, meant {meant!r}"


def http_response(case):
    return {
        "body": case["body"].encode(),
        "headers": {k.lower(): v for k, v in case["headers"]},
        "status_code": case["status"],
    }


class Raw:
    """The raw body botocore's AWSResponse reads."""

    def __init__(self, body):
        self.body = body

    def stream(self, **_):
        yield self.body


def client_error(session, case):
    """Feeds an error answer to a real client call; returns the exception it raises."""
    client = session.create_client(
        case["service"], region_name="us-east-1", endpoint_url="https://localhost:4566",
        aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret",
        config=Config(retries={"total_max_attempts": 1}),
    )
    headers = {k.lower(): v for k, v in case["headers"]}

    def answer(request, **_):
        return AWSResponse(request.url, case["status"], headers, Raw(case["body"].encode()))

    client.meta.events.register("before-send", answer)
    params = PARAMS[case["service"]][case["operation"]]
    try:
        getattr(client, xform_name(case["operation"]))(**params)
    except ClientError as error:
        return error
    return None


def check(session, case):
    model = session.get_service_model(case["service"])
    operation = model.operation_model(case["operation"])
    parser = create_parser(case["protocol"])
    parsed = parser.parse(http_response(case), operation.output_shape)
    where = f"{case['service']} {case['protocol']} {case['operation']}"
    metadata = parsed.pop("ResponseMetadata", {})
    if metadata.get("RequestId") != case["request_id"]:
        return f"{where}: request id {metadata.get('RequestId')!r}, meant {case['request_id']!r}"
    if "expected" in case:
        meant = typed(case["expected"], operation.output_shape) if operation.output_shape else {}
        return diff(parsed, meant or {}, where)
    want = case["error"]
    error = parsed.get("Error", {})
    if error.get("Code") != want["code"]:
        return f"{where}: Error.Code {error.get('Code')!r}, meant {want['code']!r}"
    if error.get("Message") != want["message"]:
        return f"{where}: Error.Message {error.get('Message')!r}, meant {want['message']!r}"
    for key, field in (("query_error_code", "QueryErrorCode"), ("type", "Type")):
        if want.get(key) is not None and error.get(field) != want[key]:
            return f"{where}: Error.{field} {error.get(field)!r}, meant {want[key]!r}"
    client = session.create_client(case["service"], region_name="us-east-1",
                                   aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret")
    mapped = client.exceptions.from_code(error["Code"]).__name__
    if mapped != want["class"]:
        return f"{where}: code {error['Code']!r} maps to {mapped}, meant {want['class']}"
    if model.resolved_protocol == case["protocol"]:
        raised = client_error(session, case)
        if raised is None:
            return f"{where}: the client call did not fail"
        if type(raised).__name__ != want["class"] or raised.response["Error"]["Code"] != want["code"]:
            return (f"{where}: the client raised {type(raised).__name__} ({raised.response['Error']}), "
                    f"meant {want['class']} with code {want['code']}")
    return None


def main():
    cases = json.load(open(sys.argv[1], encoding="utf-8"))
    session = botocore.session.get_session()
    for case in cases:
        problem = check(session, case)
        if problem:
            print(f"MISMATCH {problem}")
            sys.exit(1)
        label = case["error"]["code"] if "error" in case else "output"
        print(f"ok {case['service']} {case['protocol']} {case['operation']} {label}")


if __name__ == "__main__":
    main()
