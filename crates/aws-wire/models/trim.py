#!/usr/bin/env python3
"""Writes the trimmed service models spotlab's wire codecs read.

botocore's service models name every shape, member and wire name of an AWS API. The
local cloud needs only the operations it serves, so this script keeps those operations
and the shapes they reach, and drops documentation, examples and enums (semantics are
checked by the services, not by the codec). Run it with a Python that has botocore:

    python3 crates/aws-wire/models/trim.py

The output (one JSON document per service, one shape per line) is committed; the
botocore version it came from is recorded in it.
"""

import json
import os
import sys

import botocore
import botocore.loaders

HERE = os.path.dirname(os.path.abspath(__file__))

SERVICES = {
    "ec2": [
        "AuthorizeSecurityGroupIngress",
        "CreateFleet",
        "CreateLaunchTemplate",
        "CreateLaunchTemplateVersion",
        "CreateSecurityGroup",
        "CreateSubnet",
        "CreateTags",
        "CreateVpc",
        "DeleteFleets",
        "DeleteLaunchTemplate",
        "DeleteSecurityGroup",
        "DeleteSubnet",
        "DeleteTags",
        "DeleteVpc",
        "DescribeAvailabilityZones",
        "DescribeFleetHistory",
        "DescribeFleetInstances",
        "DescribeFleets",
        "DescribeInstanceStatus",
        "DescribeInstanceTypeOfferings",
        "DescribeInstanceTypes",
        "DescribeInstances",
        "DescribeLaunchTemplateVersions",
        "DescribeLaunchTemplates",
        "DescribeRegions",
        "DescribeSecurityGroups",
        "DescribeSpotInstanceRequests",
        "DescribeSpotPriceHistory",
        "DescribeSubnets",
        "DescribeTags",
        "DescribeVpcs",
        "GetConsoleOutput",
        "ModifyFleet",
        "ModifyLaunchTemplate",
        "TerminateInstances",
    ],
    "cloudwatch": [
        "DeleteAlarms",
        "DescribeAlarmHistory",
        "DescribeAlarms",
        "DescribeAlarmsForMetric",
        "DisableAlarmActions",
        "EnableAlarmActions",
        "GetMetricData",
        "GetMetricStatistics",
        "ListMetrics",
        "ListTagsForResource",
        "PutMetricAlarm",
        "PutMetricData",
        "SetAlarmState",
        "TagResource",
        "UntagResource",
    ],
    "sns": [
        "ConfirmSubscription",
        "CreateTopic",
        "DeleteTopic",
        "GetSubscriptionAttributes",
        "GetTopicAttributes",
        "ListSubscriptions",
        "ListSubscriptionsByTopic",
        "ListTagsForResource",
        "ListTopics",
        "Publish",
        "SetSubscriptionAttributes",
        "SetTopicAttributes",
        "Subscribe",
        "TagResource",
        "Unsubscribe",
        "UntagResource",
    ],
    "events": [
        "DeleteRule",
        "DescribeRule",
        "DisableRule",
        "EnableRule",
        "ListRules",
        "ListTagsForResource",
        "ListTargetsByRule",
        "PutEvents",
        "PutRule",
        "PutTargets",
        "RemoveTargets",
        "TagResource",
        "TestEventPattern",
        "UntagResource",
    ],
    "iam": [
        "AddRoleToInstanceProfile",
        "AttachRolePolicy",
        "CreateInstanceProfile",
        "CreateRole",
        "DeleteInstanceProfile",
        "DeleteRole",
        "DeleteRolePolicy",
        "DetachRolePolicy",
        "GetInstanceProfile",
        "GetRole",
        "GetRolePolicy",
        "ListAttachedRolePolicies",
        "ListInstanceProfileTags",
        "ListInstanceProfiles",
        "ListInstanceProfilesForRole",
        "ListRolePolicies",
        "ListRoleTags",
        "ListRoles",
        "PutRolePolicy",
        "RemoveRoleFromInstanceProfile",
        "TagInstanceProfile",
        "TagRole",
        "UntagInstanceProfile",
        "UntagRole",
    ],
    "fis": [
        "CreateExperimentTemplate",
        "DeleteExperimentTemplate",
        "GetExperiment",
        "GetExperimentTemplate",
        "ListExperimentTemplates",
        "ListExperiments",
        "ListTagsForResource",
        "StartExperiment",
        "StopExperiment",
        "TagResource",
        "UntagResource",
    ],
}

MEMBER_KEYS = ("shape", "location", "locationName", "queryName", "flattened", "xmlNamespace")
SHAPE_KEYS = ("type", "timestampFormat", "flattened", "locationName", "required", "error", "exception", "fault")
METADATA_KEYS = ("apiVersion", "protocol", "protocols", "xmlNamespace", "endpointPrefix", "signingName", "jsonVersion", "targetPrefix", "awsQueryCompatible", "serviceId")


def trim(service, operations):
    loader = botocore.loaders.Loader()
    model = loader.load_service_model(service, "service-2")
    shapes = model["shapes"]
    keep = {}

    def visit(name):
        if name in keep:
            return
        shape = shapes[name]
        out = {k: shape[k] for k in SHAPE_KEYS if k in shape}
        keep[name] = out
        if shape["type"] == "structure":
            out["members"] = {}
            for member, spec in shape["members"].items():
                out["members"][member] = {k: spec[k] for k in MEMBER_KEYS if k in spec}
                visit(spec["shape"])
        elif shape["type"] == "list":
            out["member"] = {k: shape["member"][k] for k in MEMBER_KEYS if k in shape["member"]}
            visit(shape["member"]["shape"])
        elif shape["type"] == "map":
            for part in ("key", "value"):
                out[part] = {k: shape[part][k] for k in MEMBER_KEYS if k in shape[part]}
                visit(shape[part]["shape"])

    ops = {}
    for op in operations:
        spec = model["operations"][op]
        entry = {}
        for part in ("input", "output"):
            if part in spec:
                entry[part] = spec[part]["shape"]
                visit(spec[part]["shape"])
        if model["metadata"]["protocol"] == "rest-json":
            # REST protocols route by method and path; the others have one path.
            entry["http"] = {k: spec["http"][k] for k in ("method", "requestUri")}
        errors = [e["shape"] for e in spec.get("errors", [])]
        for error in errors:
            visit(error)
        if errors:
            entry["errors"] = sorted(errors)
        ops[op] = entry
    metadata = {k: model["metadata"][k] for k in METADATA_KEYS if k in model["metadata"]}
    metadata["botocoreVersion"] = botocore.__version__
    return metadata, ops, keep


def write(service, metadata, ops, shapes):
    path = os.path.join(HERE, f"{service}.json")
    with open(path, "w", encoding="utf-8") as out:
        out.write("{\n")
        out.write(f'"metadata": {json.dumps(metadata, sort_keys=True)},\n')
        out.write('"operations": {\n')
        out.write(",\n".join(f"{json.dumps(k)}: {json.dumps(v, sort_keys=True)}" for k, v in sorted(ops.items())))
        out.write("\n},\n")
        out.write('"shapes": {\n')
        out.write(",\n".join(f"{json.dumps(k)}: {json.dumps(v, sort_keys=True)}" for k, v in sorted(shapes.items())))
        out.write("\n}\n}\n")
    return path


def main():
    for service, operations in SERVICES.items():
        metadata, ops, shapes = trim(service, operations)
        path = write(service, metadata, ops, shapes)
        print(f"{path}: {len(ops)} operations, {len(shapes)} shapes", file=sys.stderr)


if __name__ == "__main__":
    main()
