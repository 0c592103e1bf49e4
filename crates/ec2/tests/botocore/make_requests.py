#!/usr/bin/env python3
"""Records the request bodies botocore's own EC2 serializer writes for every operation
the local cloud serves, with the parameters they came from, into requests.json.

The Rust test `crates/ec2/tests/botocore.rs` decodes each body and checks that it gets
the parameters back, member for member: the codec reads exactly what botocore writes.
Run with a Python that has botocore (scripts/python-env.sh makes one):

    target/spotlab-venv/bin/python3 crates/ec2/tests/botocore/make_requests.py
"""

import datetime
import json
import os

import botocore
import botocore.session
from botocore.serialize import create_serializer

HERE = os.path.dirname(os.path.abspath(__file__))
WHEN = datetime.datetime(2026, 5, 1, 10, 0, 0, tzinfo=datetime.timezone.utc)

TAGS = [{"ResourceType": "fleet", "Tags": [{"Key": "team", "Value": "perf & load"}]}]
FILTERS = [{"Name": "tag:aws:ec2:fleet-id", "Values": ["fleet-1", "fleet-2"]},
           {"Name": "instance-state-name", "Values": ["running"]}]
OVERRIDES = [
    {"InstanceType": "t2.small", "WeightedCapacity": 1.0, "SubnetId": "subnet-0aaa", "MaxPrice": "0.05"},
    {"InstanceType": "c5.large", "WeightedCapacity": 2.5, "AvailabilityZone": "us-east-1b", "Priority": 1.0,
     "Placement": {"GroupName": "pg", "Tenancy": "default"}},
    {"InstanceRequirements": {"VCpuCount": {"Min": 2, "Max": 4}, "MemoryMiB": {"Min": 1024},
                              "CpuManufacturers": ["intel", "amd"], "InstanceGenerations": ["current"],
                              "ExcludedInstanceTypes": ["t2.*"]}},
]

OPERATIONS = {
    "AuthorizeSecurityGroupIngress": {"GroupId": "sg-1", "IpPermissions": [
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0", "Description": "ssh"}]}]},
    "CreateFleet": {
        "DryRun": False, "ClientToken": "token-1", "Type": "maintain",
        "SpotOptions": {"AllocationStrategy": "lowest-price", "InstancePoolsToUseCount": 2,
                        "InstanceInterruptionBehavior": "terminate",
                        "MaintenanceStrategies": {"CapacityRebalance": {"ReplacementStrategy": "launch-before-terminate", "TerminationDelay": 300}},
                        "MaxTotalPrice": "1.5"},
        "OnDemandOptions": {"AllocationStrategy": "prioritized", "MinTargetCapacity": 1, "SingleInstanceType": True},
        "ExcessCapacityTerminationPolicy": "termination",
        "LaunchTemplateConfigs": [{"LaunchTemplateSpecification": {"LaunchTemplateId": "lt-1", "Version": "$Latest"},
                                   "Overrides": OVERRIDES}],
        "TargetCapacitySpecification": {"TotalTargetCapacity": 4, "OnDemandTargetCapacity": 1,
                                        "SpotTargetCapacity": 3, "DefaultTargetCapacityType": "spot"},
        "TerminateInstancesWithExpiration": True, "ValidFrom": WHEN, "ValidUntil": WHEN,
        "ReplaceUnhealthyInstances": False, "TagSpecifications": TAGS, "Context": "ctx",
    },
    "CreateLaunchTemplate": {"LaunchTemplateName": "web", "VersionDescription": "v1", "LaunchTemplateData": {
        "ImageId": "ami-1", "InstanceType": "t2.small", "KeyName": "key", "UserData": "IyEvYmluL3NoCg==",
        "SecurityGroupIds": ["sg-1", "sg-2"],
        "MetadataOptions": {"HttpTokens": "required", "HttpPutResponseHopLimit": 2, "InstanceMetadataTags": "enabled"},
        "TagSpecifications": [{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "agent"}]}],
        "BlockDeviceMappings": [{"DeviceName": "/dev/xvda", "Ebs": {"VolumeSize": 8, "VolumeType": "gp3"}}],
        "IamInstanceProfile": {"Name": "profile"}},
        "TagSpecifications": [{"ResourceType": "launch-template", "Tags": [{"Key": "k", "Value": "v"}]}]},
    "CreateLaunchTemplateVersion": {"LaunchTemplateName": "web", "SourceVersion": "1",
                                    "LaunchTemplateData": {"ImageId": "ami-2"}},
    "CreateSecurityGroup": {"GroupName": "g", "Description": "d", "VpcId": "vpc-1"},
    "CreateSubnet": {"VpcId": "vpc-1", "CidrBlock": "10.0.1.0/24", "AvailabilityZone": "us-east-1a",
                     "TagSpecifications": [{"ResourceType": "subnet", "Tags": [{"Key": "k", "Value": "v"}]}]},
    "CreateTags": {"Resources": ["i-1", "fleet-1"], "Tags": [{"Key": "a", "Value": "b"}, {"Key": "c", "Value": ""}]},
    "CreateVpc": {"CidrBlock": "10.0.0.0/16", "InstanceTenancy": "default"},
    "DeleteFleets": {"FleetIds": ["fleet-1", "fleet-2"], "TerminateInstances": True},
    "DeleteLaunchTemplate": {"LaunchTemplateId": "lt-1"},
    "DeleteSecurityGroup": {"GroupId": "sg-1"},
    "DeleteSubnet": {"SubnetId": "subnet-1"},
    "DeleteTags": {"Resources": ["i-1"], "Tags": [{"Key": "a"}]},
    "DeleteVpc": {"VpcId": "vpc-1"},
    "DescribeAvailabilityZones": {"ZoneNames": ["us-east-1a"], "Filters": FILTERS, "AllAvailabilityZones": True},
    "DescribeFleetHistory": {"FleetId": "fleet-1", "StartTime": WHEN, "EventType": "instance-change", "MaxResults": 10, "NextToken": "t"},
    "DescribeFleetInstances": {"FleetId": "fleet-1", "Filters": [{"Name": "instance-type", "Values": ["t2.small"]}], "MaxResults": 10},
    "DescribeFleets": {"FleetIds": ["fleet-1"], "Filters": [{"Name": "fleet-state", "Values": ["active"]}], "MaxResults": 10, "NextToken": "t"},
    "DescribeInstanceStatus": {"InstanceIds": ["i-1"], "IncludeAllInstances": True, "Filters": FILTERS},
    "DescribeInstanceTypeOfferings": {"LocationType": "availability-zone", "Filters": [{"Name": "instance-type", "Values": ["t2.*"]}], "MaxResults": 100},
    "DescribeInstanceTypes": {"InstanceTypes": ["t2.small", "c5.large"], "Filters": [{"Name": "current-generation", "Values": ["true"]}]},
    "DescribeInstances": {"Filters": FILTERS, "MaxResults": 1000, "NextToken": "t"},
    "DescribeLaunchTemplateVersions": {"LaunchTemplateId": "lt-1", "Versions": ["$Latest", "1"], "MinVersion": "1", "MaxVersion": "3"},
    "DescribeLaunchTemplates": {"LaunchTemplateNames": ["web"], "Filters": [{"Name": "tag:k", "Values": ["v"]}]},
    "DescribeRegions": {"RegionNames": ["us-east-1"], "AllRegions": False},
    "DescribeSecurityGroups": {"GroupIds": ["sg-1"], "GroupNames": ["default"]},
    "DescribeSpotInstanceRequests": {"SpotInstanceRequestIds": ["sir-1"], "Filters": [{"Name": "state", "Values": ["active"]}]},
    "DescribeSpotPriceHistory": {"StartTime": WHEN, "EndTime": WHEN, "InstanceTypes": ["t2.small", "c5.large"],
                                 "ProductDescriptions": ["Linux/UNIX"], "AvailabilityZone": "us-east-1a", "MaxResults": 5},
    "DescribeSubnets": {"SubnetIds": ["subnet-1"], "Filters": [{"Name": "vpc-id", "Values": ["vpc-1"]}]},
    "DescribeTags": {"Filters": [{"Name": "resource-type", "Values": ["instance"]}], "MaxResults": 5},
    "DescribeVpcs": {"VpcIds": ["vpc-1"], "Filters": [{"Name": "is-default", "Values": ["true"]}]},
    "GetConsoleOutput": {"InstanceId": "i-1", "Latest": True},
    "ModifyFleet": {"FleetId": "fleet-1", "ExcessCapacityTerminationPolicy": "no-termination",
                    "LaunchTemplateConfigs": [{"LaunchTemplateSpecification": {"LaunchTemplateName": "web", "Version": "2"},
                                               "Overrides": OVERRIDES[:1]}],
                    "TargetCapacitySpecification": {"TotalTargetCapacity": 8}},
    "ModifyLaunchTemplate": {"LaunchTemplateId": "lt-1", "DefaultVersion": "2"},
    "TerminateInstances": {"InstanceIds": ["i-1", "i-2"]},
}


def jsonable(value):
    if isinstance(value, datetime.datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    return value


def main():
    model = botocore.session.get_session().get_service_model("ec2")
    serializer = create_serializer("ec2")
    cases = []
    for name in sorted(OPERATIONS):
        params = OPERATIONS[name]
        operation = model.operation_model(name)
        request = serializer.serialize_to_request(params, operation)
        body = request["body"]
        if isinstance(body, dict):
            from urllib.parse import urlencode
            body = urlencode(body)
        cases.append({"operation": name, "params": jsonable(params), "body": body})
    out = {"botocore": botocore.__version__, "cases": cases}
    with open(os.path.join(HERE, "requests.json"), "w", encoding="utf-8") as f:
        json.dump(out, f, indent=1, sort_keys=True)
        f.write("\n")
    print(f"{len(cases)} operations recorded with botocore {botocore.__version__}")


if __name__ == "__main__":
    main()
