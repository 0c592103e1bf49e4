//! Conformance with botocore, both ways, for every operation the cloud serves.
//!
//! - Requests: `botocore/requests.json` holds the bodies botocore's own EC2 serializer
//!   wrote for realistic parameters of each operation (`botocore/make_requests.py`);
//!   each body must decode to exactly those parameters.
//! - Answers: the cloud's answers to each operation, rendered as EC2 XML, are parsed by
//!   botocore's own response parser (`botocore/check_responses.py`, in the AWS CLI
//!   tests' virtual environment) and must read back as exactly the answer meant. This
//!   half needs Python with botocore: it is skipped without the environment unless
//!   `SPOTLAB_REQUIRE_AWS_CLI` is set (as `cargo xtask ci` sets it).

use std::path::{Path, PathBuf};

use ec2::wire::{decode_request, encode_response};
use ec2::{Cloud, CloudConfig, Command, HostLimits};
use serde_json::{Value, json};
use simtime::{SimDuration, SimTime};

fn here() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/botocore")
}

#[test]
fn every_body_botocore_writes_decodes_to_its_parameters() {
    let text = std::fs::read_to_string(here().join("requests.json")).expect("requests.json");
    let recorded: Value = serde_json::from_str(&text).expect("JSON");
    let cases = recorded["cases"].as_array().expect("cases");
    let served: Vec<&str> = ec2::actions().chain(["GetConsoleOutput"]).collect();
    assert_eq!(
        cases.len(),
        served.len(),
        "one recorded body per served operation"
    );
    for case in cases {
        let operation = case["operation"].as_str().expect("operation");
        let body = case["body"].as_str().expect("body");
        let request = decode_request("", body.as_bytes())
            .unwrap_or_else(|e| panic!("{operation}: {e}\n{body}"));
        assert_eq!(request.action, operation);
        assert_eq!(request.input, case["params"], "{operation}: {body}");
    }
}

struct Recorder {
    cloud: Cloud,
    cases: Vec<Value>,
}

impl Recorder {
    /// Calls `action`, renders its answer, and records both for botocore to check.
    fn call(&mut self, action: &str, input: Value) -> Value {
        let result = self.cloud.apply(&Command::Api {
            action: action.to_owned(),
            input,
        });
        let value = result
            .clone()
            .unwrap_or_else(|e| panic!("{action} failed: {e}"));
        self.record(action, value.clone());
        value
    }

    fn record(&mut self, action: &str, value: Value) {
        let (status, xml) = encode_response(
            action,
            &Ok(value.clone()),
            "7a62c49f-347e-4fc4-9331-6e8eEXAMPLE",
        );
        assert_eq!(status, 200, "{action}: {xml}");
        self.cases
            .push(json!({"operation": action, "xml": xml, "expected": value}));
    }
}

fn venv_python() -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).ancestors().nth(2)?;
    let venv = std::env::var_os("SPOTLAB_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target/spotlab-venv"));
    let python = venv.join("bin/python3");
    python.exists().then_some(python)
}

#[test]
fn botocore_parses_every_answer_as_meant() {
    let Some(python) = venv_python() else {
        assert!(
            std::env::var_os("SPOTLAB_REQUIRE_AWS_CLI").is_none(),
            "SPOTLAB_REQUIRE_AWS_CLI is set but there is no Python environment with botocore"
        );
        eprintln!("skipped: no Python environment with botocore (scripts/python-env.sh makes one)");
        return;
    };
    let mut config = CloudConfig::new(7, SimTime::parse("2026-06-01T00:00:00Z").expect("time"));
    config.host = Some(HostLimits {
        instances: 6,
        vcpus: 64,
    });
    let mut r = Recorder {
        cloud: Cloud::new(config),
        cases: Vec::new(),
    };
    let vpc = r.call("CreateVpc", json!({"CidrBlock": "10.0.0.0/16"}));
    let vpc_id = vpc["Vpc"]["VpcId"].clone();
    let subnet = r.call(
        "CreateSubnet",
        json!({"VpcId": vpc_id, "CidrBlock": "10.0.1.0/24", "AvailabilityZone": "us-east-1a"}),
    );
    let subnet_id = subnet["Subnet"]["SubnetId"].clone();
    let group = r.call(
        "CreateSecurityGroup",
        json!({"GroupName": "agents", "Description": "test agents", "VpcId": vpc_id}),
    );
    let group_id = group["GroupId"].clone();
    r.call(
        "AuthorizeSecurityGroupIngress",
        json!({"GroupId": group_id, "IpPermissions": [{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]}),
    );
    let lt = r.call(
        "CreateLaunchTemplate",
        json!({
            "LaunchTemplateName": "agents",
            "LaunchTemplateData": {
                "ImageId": "ami-0ff8a91507f77f867", "InstanceType": "t2.small", "KeyName": "key",
                "UserData": "IyEvYmluL3NoCg==", "SecurityGroupIds": [group_id],
                "MetadataOptions": {"HttpTokens": "required", "InstanceMetadataTags": "enabled"},
                "TagSpecifications": [{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "agent"}]}]
            },
            "TagSpecifications": [{"ResourceType": "launch-template", "Tags": [{"Key": "team", "Value": "perf"}]}]
        }),
    );
    let lt_id = lt["LaunchTemplate"]["LaunchTemplateId"].clone();
    r.call(
        "CreateLaunchTemplateVersion",
        json!({"LaunchTemplateId": lt_id, "SourceVersion": "1", "LaunchTemplateData": {"ImageId": "ami-2"}}),
    );
    r.call(
        "ModifyLaunchTemplate",
        json!({"LaunchTemplateId": lt_id, "DefaultVersion": "1"}),
    );
    let configs = json!([{
        "LaunchTemplateSpecification": {"LaunchTemplateId": lt_id, "Version": "1"},
        "Overrides": [
            {"InstanceType": "t2.small", "SubnetId": subnet_id, "WeightedCapacity": 1.0},
            {"InstanceType": "t2.small", "AvailabilityZone": "us-east-1b", "WeightedCapacity": 1.0},
            {"InstanceType": "c5.large", "AvailabilityZone": "us-east-1b", "WeightedCapacity": 2.0, "Priority": 1.0}
        ]
    }]);
    let maintain = r.call(
        "CreateFleet",
        json!({
            "Type": "maintain",
            "TargetCapacitySpecification": {"TotalTargetCapacity": 3, "DefaultTargetCapacityType": "spot"},
            "SpotOptions": {"AllocationStrategy": "lowest-price", "InstancePoolsToUseCount": 2},
            "LaunchTemplateConfigs": configs,
            "TagSpecifications": [{"ResourceType": "fleet", "Tags": [{"Key": "k", "Value": "v"}]}],
            "ValidUntil": "2027-01-01T00:00:00Z"
        }),
    );
    let fleet_id = maintain["FleetId"].clone();
    // An instant fleet beyond the host's room: instances and per-pool errors.
    let instant = r.call(
        "CreateFleet",
        json!({
            "Type": "instant",
            "TargetCapacitySpecification": {"TotalTargetCapacity": 8, "DefaultTargetCapacityType": "spot"},
            "LaunchTemplateConfigs": configs
        }),
    );
    assert!(instant["Errors"].as_array().is_some_and(|e| !e.is_empty()));
    let to = r.cloud.now() + SimDuration::from_mins(2);
    r.cloud.advance_to(to);

    r.call("DescribeRegions", json!({}));
    r.call("DescribeAvailabilityZones", json!({}));
    r.call("DescribeVpcs", json!({}));
    r.call("DescribeSubnets", json!({}));
    r.call("DescribeSecurityGroups", json!({}));
    r.call("DescribeLaunchTemplates", json!({}));
    r.call(
        "DescribeLaunchTemplateVersions",
        json!({"LaunchTemplateId": lt_id}),
    );
    r.call(
        "DescribeFleets",
        json!({"FleetIds": [fleet_id, instant["FleetId"]]}),
    );
    r.call("DescribeFleetInstances", json!({"FleetId": fleet_id}));
    r.call(
        "DescribeFleetHistory",
        json!({"FleetId": fleet_id, "StartTime": "2026-01-01T00:00:00Z"}),
    );
    let instances = r.call("DescribeInstances", json!({}));
    let first = instances["Reservations"][0]["Instances"][0]["InstanceId"].clone();
    r.call(
        "DescribeInstanceStatus",
        json!({"IncludeAllInstances": true}),
    );
    r.call("DescribeSpotInstanceRequests", json!({}));
    r.call(
        "DescribeInstanceTypes",
        json!({"InstanceTypes": ["t2.small", "c5.large", "m6g.medium"]}),
    );
    r.call(
        "DescribeInstanceTypeOfferings",
        json!({"LocationType": "availability-zone", "Filters": [{"Name": "instance-type", "Values": ["t2.small"]}]}),
    );
    r.call(
        "DescribeSpotPriceHistory",
        json!({"InstanceTypes": ["t2.small"], "StartTime": "2026-05-31T00:00:00Z"}),
    );
    r.call(
        "CreateTags",
        json!({"Resources": [first], "Tags": [{"Key": "owner", "Value": "ci"}]}),
    );
    r.call("DescribeTags", json!({}));
    r.call(
        "DeleteTags",
        json!({"Resources": [first], "Tags": [{"Key": "owner"}]}),
    );
    r.call(
        "ModifyFleet",
        json!({"FleetId": fleet_id, "TargetCapacitySpecification": {"TotalTargetCapacity": 2}}),
    );
    r.call("TerminateInstances", json!({"InstanceIds": [first]}));
    r.call(
        "DeleteFleets",
        json!({"FleetIds": [fleet_id, "fleet-00000000-0000-4000-8000-000000000000"], "TerminateInstances": true}),
    );
    let spare = r.call("CreateVpc", json!({"CidrBlock": "10.9.0.0/16"}));
    let spare_subnet = r.call(
        "CreateSubnet",
        json!({"VpcId": spare["Vpc"]["VpcId"], "CidrBlock": "10.9.0.0/24"}),
    );
    r.call(
        "DeleteSubnet",
        json!({"SubnetId": spare_subnet["Subnet"]["SubnetId"]}),
    );
    r.call("DeleteVpc", json!({"VpcId": spare["Vpc"]["VpcId"]}));
    r.call("DeleteSecurityGroup", json!({"GroupId": group_id}));
    r.call("DeleteLaunchTemplate", json!({"LaunchTemplateId": lt_id}));
    // GetConsoleOutput is answered by the shell; its answer renders the same way.
    r.record(
        "GetConsoleOutput",
        json!({"InstanceId": first, "Timestamp": "2026-06-01T00:02:00.000Z", "Output": "aGVsbG8K"}),
    );
    let covered: std::collections::BTreeSet<&str> = r
        .cases
        .iter()
        .filter_map(|c| c["operation"].as_str())
        .collect();
    for action in ec2::actions() {
        assert!(covered.contains(action), "{action} has no answer to check");
    }

    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("answers.json");
    std::fs::write(&file, serde_json::to_vec(&r.cases).expect("JSON")).expect("write");
    let out = std::process::Command::new(python)
        .arg(here().join("check_responses.py"))
        .arg(&file)
        .output()
        .expect("python runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "botocore disagrees:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        stdout.lines().filter(|l| l.starts_with("ok ")).count(),
        r.cases.len()
    );
}
