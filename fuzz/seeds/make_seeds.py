#!/usr/bin/env python3
"""Writes the seed corpora of the monitoring fuzz targets from the committed test data.

- seeds/monitoring_request/: every request botocore wrote in
  crates/aws-wire/tests/monitoring/requests.json (CloudWatch in JSON 1.0, query and
  RPC v2 CBOR; SNS in query; EventBridge in JSON 1.1), in the target's layout (byte 0:
  header set, byte 1: method, then `path\\nquery\\nextra\\nbody`), plus a few requests
  for the header sets no recorded request uses (raw targets, raw smithy-protocol,
  CBOR with a target, SNS's unsigned GET links, a foreign credential scope).
- seeds/cbor_decode/: every CBOR body of crates/aws-wire/tests/cbor/requests.json and
  of the monitoring requests, behind the byte that selects its operation.
- seeds/event_pattern/: every JSON literal of crates/watch/tests/pattern.rs (its
  patterns and events) and its raw-string patterns (the invalid ones included), each
  followed by a NUL and event-ruler's sample event.

Standard library only; run from anywhere: `python3 fuzz/seeds/make_seeds.py`.
"""

import hashlib
import json
import re
from pathlib import Path

FUZZ = Path(__file__).resolve().parent.parent
ROOT = FUZZ.parent
SEEDS = FUZZ / "seeds"

# Must match fuzz_targets/monitoring_request.rs.
METHODS = ["POST", "GET", "PUT", "DELETE", "post"]
CBOR, CLOUDWATCH_JSON, EVENTS_JSON, CLOUDWATCH_FORM, SNS_FORM, BARE = 0, 1, 2, 3, 4, 5
RAW_AMZN_TARGET, RAW_AMZ_TARGET, RAW_SMITHY, CBOR_WITH_TARGET, RAW_AUTH, RAW_TYPE = (
    6, 7, 8, 9, 10, 11)


def cloudwatch_operations():
    """CloudWatch's operations in Model::operation_names' (byte-wise sorted) order."""
    model = json.loads((ROOT / "crates/aws-wire/models/cloudwatch.json").read_text())
    return sorted(model["operations"])


def request_seed(selector, method, path, query, extra, body):
    head = f"{path}\n{query}\n{extra}\n".encode()
    return bytes([selector, METHODS.index(method)]) + head + body


def write(target, name, data):
    folder = SEEDS / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)


def monitoring_requests():
    """Yields (service, protocol, operation, method, path, query, headers, body)."""
    data = json.loads(
        (ROOT / "crates/aws-wire/tests/monitoring/requests.json").read_text())
    for case in data["cases"]:
        if "body_hex" in case:
            body = bytes.fromhex(case["body_hex"])
        else:
            body = case["body"].encode()
        yield case, body


def monitoring_request_seeds():
    counts = {}
    for case, body in monitoring_requests():
        service, protocol, operation = case["service"], case["protocol"], case["operation"]
        headers = {name.lower(): value for name, value in case["headers"]}
        extra = ""
        if protocol == "smithy-rpc-v2-cbor":
            selector = CBOR
        elif protocol == "json":
            selector = CLOUDWATCH_JSON if service == "cloudwatch" else EVENTS_JSON
            prefix, extra = headers["x-amz-target"].split(".", 1)
            assert extra == operation, case
        elif service == "cloudwatch":
            selector = CLOUDWATCH_FORM
        else:
            selector = SNS_FORM
        key = f"{service}-{protocol}-{operation}"
        counts[key] = counts.get(key, 0) + 1
        write("monitoring_request", f"{key}-{counts[key]}",
              request_seed(selector, case["method"], case["path"], case["query"], extra,
                           body))
    cbor_path = "/service/GraniteServiceVersion20100801/operation/"
    topic = "arn%3Aaws%3Asns%3Aus-east-1%3A123456789012%3Aalerts"
    extras = {
        "sns-get-confirm": request_seed(
            BARE, "GET", "/", f"Action=ConfirmSubscription&TopicArn={topic}&Token=abc", "",
            b""),
        "sns-get-unsubscribe": request_seed(
            BARE, "GET", "/", f"Action=Unsubscribe&SubscriptionArn={topic}%3Aid", "", b""),
        "versionless-form": request_seed(
            BARE, "POST", "/", "", "", b"Action=ListTopics"),
        "amzn-target-events": request_seed(
            RAW_AMZN_TARGET, "POST", "/", "", "AWSEvents.PutEvents",
            b'{"Entries": [{"Source": "a", "DetailType": "b", "Detail": "{}"}]}'),
        "amz-target-unknown-prefix": request_seed(
            RAW_AMZ_TARGET, "POST", "/", "", "DynamoDB_20120810.GetItem", b"{}"),
        "smithy-rpc-v2-json": request_seed(
            RAW_SMITHY, "POST", cbor_path + "ListMetrics", "", "rpc-v2-json", b"\xa0"),
        "cbor-with-target": request_seed(
            CBOR_WITH_TARGET, "POST", cbor_path + "ListMetrics", "",
            "GraniteServiceVersion20100801.ListMetrics", b"\xa0"),
        "cbor-get": request_seed(CBOR, "GET", cbor_path + "ListMetrics", "", "", b""),
        "scope-mismatch": request_seed(
            RAW_AUTH, "POST", "/", "",
            "AWS4-HMAC-SHA256 Credential=AKID/20240102/us-east-1/sns/aws4_request, "
            "SignedHeaders=host, Signature=00",
            b"Action=ListMetrics&Version=2010-08-01"),
        "json-content-type-form-body": request_seed(
            RAW_TYPE, "POST", "/", "Action=ListTopics&Version=2010-03-31",
            "application/json", b"Action=ListMetrics&Version=2010-08-01"),
        "ec2-form": request_seed(
            BARE, "POST", "/", "", "", b"Action=DescribeInstances&Version=2016-11-15"),
    }
    for name, data in extras.items():
        write("monitoring_request", name, data)


def cbor_decode_seeds():
    operations = cloudwatch_operations()
    data = json.loads((ROOT / "crates/aws-wire/tests/cbor/requests.json").read_text())
    for case in data["cases"]:
        write("cbor_decode", case["name"],
              bytes([operations.index(case["operation"])]) + bytes.fromhex(case["body"]))
    for case, body in monitoring_requests():
        if case["protocol"] == "smithy-rpc-v2-cbor":
            write("cbor_decode", f"botocore-{case['operation']}",
                  bytes([operations.index(case["operation"])]) + body)


def json_literals(text):
    """The arguments of every `json!(...)` in `text` that are plain JSON."""
    for match in re.finditer(r"json!\(", text):
        depth, at = 0, match.end() - 1
        for i in range(at, len(text)):
            depth += {"(": 1, ")": -1}.get(text[i], 0)
            if depth == 0:
                break
        literal = re.sub(r",(\s*[}\]])", r"\1", text[at + 1:i])
        try:
            yield json.loads(literal)
        except json.JSONDecodeError:
            continue  # Rust expressions inside: not a literal.


def event_pattern_seeds():
    text = (ROOT / "crates/watch/tests/pattern.rs").read_text()
    values = list(json_literals(text))
    sample = next(v for v in values if isinstance(v, dict) and v.get("source") == "aws.ec2"
                  and "detail" in v)
    sample_text = json.dumps(sample).encode()
    patterns = [json.dumps(v) for v in values if isinstance(v, dict)]
    patterns += re.findall(r'r#"(.*?)"#', text, flags=re.S)
    for pattern in dict.fromkeys(patterns):
        data = pattern.encode() + b"\0" + sample_text
        write("event_pattern", hashlib.sha1(data).hexdigest()[:16], data)


if __name__ == "__main__":
    monitoring_request_seeds()
    cbor_decode_seeds()
    event_pattern_seeds()
    for target in ["monitoring_request", "cbor_decode", "event_pattern"]:
        print(target, len(list((SEEDS / target).iterdir())))
