#!/usr/bin/env python3
"""Parses the local cloud's rendered EC2 answers with botocore's own response parser and
checks that it reads back exactly the answer the cloud meant (`expected`), value for
value: names, nesting, lists, numbers, booleans, timestamps.

Usage: check_responses.py FILE, where FILE is JSON: [{"operation", "xml", "expected"}].
Prints one line per operation; exits 1 on the first mismatch. Run by
crates/ec2/tests/botocore.rs with the AWS CLI tests' virtual environment.
"""

import datetime
import json
import sys

import botocore.session
from botocore.parsers import create_parser


def normalise(value, reference):
    """Our JSON, typed like botocore's output: timestamps become datetimes."""
    if isinstance(reference, datetime.datetime) and isinstance(value, str):
        text = value.replace("Z", "+00:00")
        return datetime.datetime.fromisoformat(text)
    if isinstance(value, dict):
        ref = reference if isinstance(reference, dict) else {}
        return {k: normalise(v, ref.get(k)) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        ref = reference if isinstance(reference, list) else []
        return [normalise(v, ref[i] if i < len(ref) else None) for i, v in enumerate(value)]
    return value


def diff(a, b, path=""):
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            if key not in a:
                return f"{path}.{key}: missing from botocore's parse"
            if key not in b:
                return f"{path}.{key}: botocore read a member the answer does not have"
            found = diff(a[key], b[key], f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{path}: {len(a)} items parsed, {len(b)} meant"
        for i, (x, y) in enumerate(zip(a, b)):
            found = diff(x, y, f"{path}[{i}]")
            if found:
                return found
        return None
    if isinstance(a, float) or isinstance(b, float):
        return None if float(a) == float(b) else f"{path}: {a!r} != {b!r}"
    return None if a == b else f"{path}: parsed {a!r}, meant {b!r}"


def main():
    cases = json.load(open(sys.argv[1], encoding="utf-8"))
    model = botocore.session.get_session().get_service_model("ec2")
    parser = create_parser("ec2")
    for case in cases:
        operation = model.operation_model(case["operation"])
        parsed = parser.parse(
            {"body": case["xml"].encode(), "headers": {}, "status_code": 200},
            operation.output_shape,
        )
        parsed.pop("ResponseMetadata", None)
        expected = normalise(case["expected"], parsed)
        problem = diff(parsed, expected, case["operation"])
        if problem:
            print(f"MISMATCH {problem}")
            sys.exit(1)
        print(f"ok {case['operation']}")


if __name__ == "__main__":
    main()
