#!/usr/bin/env python3
"""botocore's side of the REST-JSON tests (crates/aws-wire/tests/restjson.rs), for FIS.

    fis_botocore.py requests         prints, as JSON, the request botocore's serializer
                                     writes for every served FIS operation, with the
                                     parameters it came from
    fis_botocore.py responses FILE   parses each answer in FILE (a JSON list of
                                     {operation, status, headers, body, expect}) with
                                     botocore's REST-JSON parser and checks it reads
                                     `expect` (the output, or {"Error": {"Code": ...}});
                                     prints "ok <operation>" for each
"""

import datetime
import json
import sys

import botocore.session
from botocore.awsrequest import prepare_request_dict
from botocore.parsers import create_parser
from botocore.serialize import create_serializer

TEMPLATE_ARN = "arn:aws:fis:us-east-1:000000000000:experiment-template/EXT1"
INSTANCE = "arn:aws:ec2:us-east-1:000000000000:instance/i-0123456789abcdef0"

PARAMS = {
    "CreateExperimentTemplate": {
        "clientToken": "token-1",
        "description": "interrupt",
        "roleArn": "arn:aws:iam::000000000000:role/fis",
        "targets": {"SpotInstances": {
            "resourceType": "aws:ec2:spot-instance",
            "resourceArns": [INSTANCE],
            "resourceTags": {"role": "web & api"},
            "filters": [{"path": "State.Name", "values": ["running"]}],
            "selectionMode": "COUNT(2)",
        }},
        "actions": {"interrupt": {
            "actionId": "aws:ec2:send-spot-instance-interruptions",
            "description": "two minutes",
            "parameters": {"durationBeforeInterruption": "PT2M"},
            "targets": {"SpotInstances": "SpotInstances"},
        }},
        "stopConditions": [{"source": "none"}],
        "tags": {"spotlab:run": "r-1"},
        "experimentOptions": {"accountTargeting": "single-account", "emptyTargetResolutionMode": "skip"},
    },
    "GetExperimentTemplate": {"id": "EXT1"},
    "DeleteExperimentTemplate": {"id": "EXT1"},
    "ListExperimentTemplates": {"maxResults": 5, "nextToken": "EXT0"},
    "StartExperiment": {"clientToken": "token-2", "experimentTemplateId": "EXT1", "tags": {"a": "b"},
                        "experimentOptions": {"actionsMode": "run-all"}},
    "GetExperiment": {"id": "EXP1"},
    "ListExperiments": {"maxResults": 7, "nextToken": "EXP0", "experimentTemplateId": "EXT1"},
    "StopExperiment": {"id": "EXP1"},
    "TagResource": {"resourceArn": TEMPLATE_ARN, "tags": {"k": "v w"}},
    "UntagResource": {"resourceArn": TEMPLATE_ARN, "tagKeys": ["k", "other key"]},
    "ListTagsForResource": {"resourceArn": TEMPLATE_ARN},
}


def model():
    return botocore.session.get_session().get_service_model("fis")


def requests():
    service = model()
    serializer = create_serializer("rest-json")
    cases = []
    for operation, params in sorted(PARAMS.items()):
        request = serializer.serialize_to_request(params, service.operation_model(operation))
        prepare_request_dict(request, endpoint_url="https://fis.us-east-1.amazonaws.com")
        url = request["url"].split("://", 1)[1]
        path_and_query = url[url.index("/"):]
        path, _, query = path_and_query.partition("?")
        body = request["body"]
        if isinstance(body, bytes):
            body = body.decode("utf-8")
        cases.append({
            "operation": operation,
            "params": params,
            "method": request["method"],
            "path": path,
            "query": query,
            "body": body or "",
        })
    print(json.dumps(cases))


def plain(value):
    if isinstance(value, datetime.datetime):
        return value.timestamp()
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items() if k != "ResponseMetadata"}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def responses(path):
    service = model()
    parser = create_parser("rest-json")
    failed = False
    with open(path, encoding="utf-8") as f:
        cases = json.load(f)
    for case in cases:
        operation = case["operation"]
        response = {
            "status_code": case["status"],
            "headers": dict(case["headers"]),
            "body": case["body"].encode("utf-8"),
        }
        parsed = plain(parser.parse(response, service.operation_model(operation).output_shape))
        expect = case["expect"]
        if "Error" in expect:
            parsed = {"Error": {"Code": parsed.get("Error", {}).get("Code")}}
        if parsed == expect:
            print(f"ok {operation}")
        else:
            failed = True
            print(f"MISMATCH {operation}: botocore read {json.dumps(parsed)}, expected {json.dumps(expect)}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    if sys.argv[1] == "requests":
        requests()
    else:
        responses(sys.argv[2])
