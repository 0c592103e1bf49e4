//! The reference walkthrough's EC2 steps against the pure cloud, through the EC2 query
//! protocol: network and launch template, a maintain fleet of 4 units over two pools,
//! scale to 8, scale to 2 with interruption notices, delete with termination. Time is
//! virtual and advanced by hand.

use ec2::wire::{decode_request, encode_response};
use ec2::{Cloud, CloudConfig, Command, ProcessGoal};
use fleet::InstanceId;
use serde_json::Value;
use simtime::{SimDuration, SimTime};

struct Harness {
    cloud: Cloud,
}

impl Harness {
    fn new() -> Harness {
        let start = SimTime::parse("2026-03-01T00:00:00Z").expect("time");
        Harness {
            cloud: Cloud::new(CloudConfig::new(7, start)),
        }
    }

    /// Sends a query body; returns the JSON answer or (status, code).
    fn ec2(&mut self, body: &str) -> Result<Value, (u16, String)> {
        let request = decode_request("", body.as_bytes()).map_err(|e| (e.status, e.code))?;
        let result = self.cloud.apply(&Command::Api {
            action: request.action.clone(),
            input: request.input,
        });
        let (status, xml) = encode_response(&request.action, &result, "req-1");
        match result {
            Ok(value) => {
                assert_eq!(status, 200, "{xml}");
                Ok(value)
            }
            Err(error) => {
                assert!(
                    xml.contains(&format!("<Code>{}</Code>", error.code)),
                    "{xml}"
                );
                Err((status, error.code))
            }
        }
    }

    fn ok(&mut self, body: &str) -> Value {
        self.ec2(body)
            .unwrap_or_else(|e| panic!("{body} failed: {e:?}"))
    }

    fn advance(&mut self, span: SimDuration) {
        let to = self.cloud.now() + span;
        self.cloud.advance_to(to);
    }
}

fn enc(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

#[test]
fn reference_walkthrough_end_to_end() {
    let mut h = Harness::new();
    let vpc = h.ok("Action=CreateVpc&Version=2016-11-15&CidrBlock=10.0.0.0%2F16");
    let vpc_id = vpc["Vpc"]["VpcId"].as_str().expect("vpc id").to_owned();
    let subnet = |h: &mut Harness, cidr: &str, zone: &str| -> String {
        let body = format!(
            "Action=CreateSubnet&Version=2016-11-15&VpcId={vpc_id}&CidrBlock={}&AvailabilityZone={zone}",
            enc(cidr)
        );
        h.ok(&body)["Subnet"]["SubnetId"]
            .as_str()
            .expect("subnet")
            .to_owned()
    };
    let subnet_1 = subnet(&mut h, "10.0.0.0/24", "us-east-1a");
    let subnet_2 = subnet(&mut h, "10.0.1.0/24", "us-east-1b");
    let user_data = "IyEvYmluL3NoCmVjaG8gaGVsbG8K"; // #!/bin/sh\necho hello
    let template = h.ok(&format!(
        "Action=CreateLaunchTemplate&Version=2016-11-15&LaunchTemplateName=test-fleet\
         &LaunchTemplateData.ImageId=ami-0abcdef1234567890&LaunchTemplateData.UserData={}\
         &LaunchTemplateData.TagSpecification.1.ResourceType=instance\
         &LaunchTemplateData.TagSpecification.1.Tag.1.Key=Name\
         &LaunchTemplateData.TagSpecification.1.Tag.1.Value=test-agent",
        enc(user_data)
    ));
    let lt = template["LaunchTemplate"]["LaunchTemplateId"]
        .as_str()
        .expect("lt")
        .to_owned();

    // Step 5: the walkthrough's fleet.
    let create = format!(
        "Action=CreateFleet&Version=2016-11-15&ClientToken=tok-1\
         &LaunchTemplateConfigs.1.LaunchTemplateSpecification.LaunchTemplateId={lt}\
         &LaunchTemplateConfigs.1.LaunchTemplateSpecification.Version=1\
         &LaunchTemplateConfigs.1.Overrides.1.InstanceType=t2.small\
         &LaunchTemplateConfigs.1.Overrides.1.SubnetId={subnet_1}\
         &LaunchTemplateConfigs.1.Overrides.1.WeightedCapacity=1\
         &LaunchTemplateConfigs.1.Overrides.2.InstanceType=t2.small\
         &LaunchTemplateConfigs.1.Overrides.2.SubnetId={subnet_2}\
         &LaunchTemplateConfigs.1.Overrides.2.WeightedCapacity=1\
         &TargetCapacitySpecification.TotalTargetCapacity=4\
         &TargetCapacitySpecification.SpotTargetCapacity=4\
         &TargetCapacitySpecification.DefaultTargetCapacityType=spot\
         &SpotOptions.AllocationStrategy=lowestPrice&SpotOptions.InstancePoolsToUseCount=2\
         &Type=maintain"
    );
    let fleet_id = h.ok(&create)["FleetId"].as_str().expect("fleet").to_owned();
    assert_eq!(
        h.ok(&create)["FleetId"].as_str(),
        Some(fleet_id.as_str()),
        "same ClientToken, same fleet"
    );
    h.advance(SimDuration::from_mins(1));
    let fleets = h.ok(&format!(
        "Action=DescribeFleets&Version=2016-11-15&FleetId.1={fleet_id}"
    ));
    assert_eq!(fleets["Fleets"][0]["ActivityStatus"], "fulfilled");
    assert_eq!(fleets["Fleets"][0]["FulfilledCapacity"], 4.0);

    let by_tag = format!(
        "Action=DescribeInstances&Version=2016-11-15&Filter.1.Name=tag%3Aaws%3Aec2%3Afleet-id&Filter.1.Value.1={fleet_id}\
         &Filter.2.Name=instance-state-name&Filter.2.Value.1=running"
    );
    let instances = h.ok(&by_tag);
    let listed: Vec<&Value> = instances["Reservations"]
        .as_array()
        .expect("reservations")
        .iter()
        .flat_map(|r| r["Instances"].as_array().expect("instances"))
        .collect();
    assert_eq!(listed.len(), 4);
    let zones: std::collections::BTreeSet<&str> = listed
        .iter()
        .map(|i| i["Placement"]["AvailabilityZone"].as_str().expect("zone"))
        .collect();
    assert_eq!(zones.len(), 2, "two pools");
    for instance in &listed {
        assert_eq!(instance["InstanceLifecycle"], "spot");
        assert_eq!(instance["CpuOptions"]["CoreCount"], 1);
        assert_eq!(instance["ImageId"], "ami-0abcdef1234567890");
        let tags = instance["Tags"].as_array().expect("tags");
        assert!(
            tags.iter()
                .any(|t| t["Key"] == "Name" && t["Value"] == "test-agent")
        );
        let subnet = instance["SubnetId"].as_str().expect("subnet");
        assert!(subnet == subnet_1 || subnet == subnet_2);
        assert!(
            instance["PrivateIpAddress"]
                .as_str()
                .expect("ip")
                .starts_with("10.0.")
        );
    }
    let first = InstanceId::new(listed[0]["InstanceId"].as_str().expect("id"));
    let runtime = h.cloud.runtime(&first).expect("runtime");
    assert_eq!(runtime.goal, ProcessGoal::Run);
    assert_eq!(runtime.user_data.as_deref(), Some(user_data));
    let answer = h
        .cloud
        .imds(&first, "/latest/meta-data/spot/instance-action");
    assert_eq!(answer.status, 404);
    let answer = h.cloud.imds(&first, "/latest/meta-data/instance-type");
    assert_eq!((answer.status, answer.body), (200, b"t2.small".to_vec()));

    // Step 7: scale to 8.
    h.ok(&format!(
        "Action=ModifyFleet&Version=2016-11-15&FleetId={fleet_id}&TargetCapacitySpecification.TotalTargetCapacity=8"
    ));
    h.advance(SimDuration::from_mins(1));
    let fleets = h.ok(&format!(
        "Action=DescribeFleets&Version=2016-11-15&FleetId.1={fleet_id}"
    ));
    assert_eq!(fleets["Fleets"][0]["FulfilledCapacity"], 8.0);
    let history = h.ok(&format!(
        "Action=DescribeFleetHistory&Version=2016-11-15&FleetId={fleet_id}&StartTime=2026-01-01T00%3A00%3A00Z"
    ));
    let launched = history["HistoryRecords"]
        .as_array()
        .expect("records")
        .iter()
        .filter(|r| r["EventInformation"]["EventSubType"] == "launched")
        .count();
    assert_eq!(launched, 8);

    // Step 10: scale to 2; the removed Spot instances get the 2-minute notice.
    let seen = h.cloud.bus().last_seq();
    h.ok(&format!(
        "Action=ModifyFleet&Version=2016-11-15&FleetId={fleet_id}&ExcessCapacityTerminationPolicy=termination&TargetCapacitySpecification.TotalTargetCapacity=2"
    ));
    h.advance(SimDuration::from_secs(1));
    let warnings: Vec<String> = h
        .cloud
        .bus()
        .since(seen)
        .filter(|e| e.event["detail-type"] == "EC2 Spot Instance Interruption Warning")
        .map(|e| {
            e.event["detail"]["instance-id"]
                .as_str()
                .expect("id")
                .to_owned()
        })
        .collect();
    assert_eq!(warnings.len(), 6);
    let noticed = InstanceId::new(warnings[0].as_str());
    let action = h
        .cloud
        .imds(&noticed, "/latest/meta-data/spot/instance-action");
    assert_eq!(action.status, 200);
    let body: Value = serde_json::from_slice(&action.body).expect("json");
    assert_eq!(body["action"], "terminate");
    h.advance(SimDuration::from_mins(2));
    assert!(matches!(
        h.cloud.runtime(&noticed).expect("runtime").goal,
        ProcessGoal::Ending { .. }
    ));
    h.advance(SimDuration::from_mins(1));
    assert_eq!(
        h.cloud.runtime(&noticed).expect("runtime").goal,
        ProcessGoal::Gone
    );
    let fleets = h.ok(&format!(
        "Action=DescribeFleets&Version=2016-11-15&FleetId.1={fleet_id}"
    ));
    assert_eq!(fleets["Fleets"][0]["FulfilledCapacity"], 2.0);
    assert_eq!(fleets["Fleets"][0]["ActivityStatus"], "fulfilled");

    // Cleanup: delete with termination.
    let deleted = h.ok(&format!(
        "Action=DeleteFleets&Version=2016-11-15&FleetId.1={fleet_id}&TerminateInstances=true"
    ));
    assert_eq!(
        deleted["SuccessfulFleetDeletions"][0]["CurrentFleetState"],
        "deleted_terminating"
    );
    h.advance(SimDuration::from_mins(1));
    let fleets = h.ok(&format!(
        "Action=DescribeFleets&Version=2016-11-15&FleetId.1={fleet_id}"
    ));
    assert_eq!(fleets["Fleets"][0]["FleetState"], "deleted");
    let running = h.ok(&by_tag);
    assert_eq!(running["Reservations"].as_array().map(Vec::len), Some(0));
}

#[test]
fn errors_are_ec2_errors() {
    let mut h = Harness::new();
    assert_eq!(
        h.ec2("Action=RunInstances&Version=2016-11-15"),
        Err((400, "InvalidAction".to_owned()))
    );
    assert_eq!(
        h.ec2("Action=DescribeFleets&Version=2016-11-15&FleetId.1=fleet-nope"),
        Err((400, "InvalidFleetId.Malformed".to_owned()))
    );
    assert_eq!(
        h.ec2("Action=DescribeInstances&Version=2016-11-15&InstanceId.1=i-0123456789abcdef0"),
        Err((400, "InvalidInstanceID.NotFound".to_owned()))
    );
    assert_eq!(
        h.ec2("Action=CreateVpc&Version=2016-11-15&CidrBlock=10.0.0.0%2F16&DryRun=true"),
        Err((412, "DryRunOperation".to_owned()))
    );
    assert_eq!(
        h.ec2("Action=CreateVpc&Version=2016-11-15&CidrBlock=10.0.0.0%2F8"),
        Err((400, "InvalidVpc.Range".to_owned()))
    );
    assert_eq!(
        h.ec2("Action=DescribeVpcs&Version=2016-11-15&Bogus=1"),
        Err((400, "UnknownParameter".to_owned()))
    );
    assert_eq!(
        h.ec2("Action=CreateLaunchTemplate&Version=2016-11-15&LaunchTemplateName=abc&LaunchTemplateData.UserData=%21%21"),
        Err((400, "InvalidUserData.Malformed".to_owned()))
    );
    assert_eq!(
        h.ec2("Version=2016-11-15"),
        Err((400, "MissingAction".to_owned()))
    );
}
