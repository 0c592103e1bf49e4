//! EC2 semantics of the pure cloud beyond the walkthrough: fault injection as FIS does
//! it, the host's capacity limit as `InsufficientInstanceCapacity`, pagination, tags,
//! launch template versions, and the metadata service's paths.

use ec2::{Cloud, CloudConfig, Command, FaultRequest, HostLimits, Targets};
use fleet::InstanceId;
use serde_json::{Value, json};
use simtime::{SimDuration, SimTime};

fn cloud(host: Option<HostLimits>) -> Cloud {
    let mut config = CloudConfig::new(3, SimTime::parse("2026-04-01T00:00:00Z").expect("time"));
    config.host = host;
    config.interruption_scale = 0.0;
    Cloud::new(config)
}

fn ok(cloud: &mut Cloud, action: &str, input: Value) -> Value {
    cloud
        .apply(&Command::Api {
            action: action.to_owned(),
            input,
        })
        .unwrap_or_else(|e| panic!("{action}: {e}"))
}

fn advance(cloud: &mut Cloud, span: SimDuration) {
    let to = cloud.now() + span;
    cloud.advance_to(to);
}

/// A launch template and a maintain (or instant) fleet of t2.small in us-east-1a/b.
fn fleet(cloud: &mut Cloud, target: u32, kind: &str, template_data: Value) -> Value {
    let name = format!("lt-{}", cloud.world().engine().fleets().count());
    let lt = ok(
        cloud,
        "CreateLaunchTemplate",
        json!({"LaunchTemplateName": name, "LaunchTemplateData": template_data}),
    );
    let lt = lt["LaunchTemplate"]["LaunchTemplateId"].clone();
    ok(
        cloud,
        "CreateFleet",
        json!({
            "Type": kind,
            "TargetCapacitySpecification": {"TotalTargetCapacity": target, "DefaultTargetCapacityType": "spot"},
            "LaunchTemplateConfigs": [{
                "LaunchTemplateSpecification": {"LaunchTemplateId": lt, "Version": "$Default"},
                "Overrides": [
                    {"InstanceType": "t2.small", "AvailabilityZone": "us-east-1a"},
                    {"InstanceType": "t2.small", "AvailabilityZone": "us-east-1b"}
                ]
            }]
        }),
    )
}

fn instance_ids(cloud: &mut Cloud, state: &str) -> Vec<String> {
    let out = ok(
        cloud,
        "DescribeInstances",
        json!({"Filters": [{"Name": "instance-state-name", "Values": [state]}]}),
    );
    out["Reservations"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|r| r["Instances"].as_array().cloned().unwrap_or_default())
        .map(|i| i["InstanceId"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[test]
fn fis_style_interruption_sends_rebalance_first_then_the_notice() {
    let mut c = cloud(None);
    let fleet_id = fleet(&mut c, 4, "maintain", json!({"ImageId": "ami-1"}))["FleetId"]
        .as_str()
        .expect("fleet")
        .to_owned();
    advance(&mut c, SimDuration::from_mins(1));
    let before = c.bus().last_seq();
    let outcome = c
        .apply(&Command::Fault(FaultRequest::Interrupt {
            targets: Targets::Fleet {
                fleet_id: fleet_id.clone(),
                percent: 50,
            },
            before_ms: Some(5 * 60_000),
        }))
        .expect("fault");
    let chosen: Vec<String> = serde_json::from_value(outcome["instances"].clone()).expect("ids");
    assert_eq!(chosen.len(), 2, "50% of 4, rounded up");
    let now = c.now();
    assert_eq!(
        outcome["notice_at"],
        json!((now + SimDuration::from_mins(3)).to_iso_millis())
    );
    let kinds = |c: &Cloud, after: u64| -> Vec<String> {
        c.bus()
            .since(after)
            .map(|e| {
                e.event["detail-type"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned()
            })
            .collect()
    };
    let first = kinds(&c, before);
    assert_eq!(
        first
            .iter()
            .filter(|k| *k == "EC2 Instance Rebalance Recommendation")
            .count(),
        2
    );
    assert!(
        !first
            .iter()
            .any(|k| k == "EC2 Spot Instance Interruption Warning")
    );
    let id = InstanceId::new(chosen[0].as_str());
    assert_eq!(
        c.imds(&id, "/latest/meta-data/events/recommendations/rebalance")
            .status,
        200
    );
    assert_eq!(
        c.imds(&id, "/latest/meta-data/spot/instance-action").status,
        404
    );

    let mid = c.bus().last_seq();
    advance(&mut c, SimDuration::from_mins(3));
    assert_eq!(
        kinds(&c, mid)
            .iter()
            .filter(|k| *k == "EC2 Spot Instance Interruption Warning")
            .count(),
        2
    );
    let action = c.imds(&id, "/latest/meta-data/spot/instance-action");
    let notice: Value = serde_json::from_slice(&action.body).expect("json");
    assert_eq!(notice["action"], "terminate");
    assert_eq!(
        notice["time"],
        json!((now + SimDuration::from_mins(5)).to_iso_seconds())
    );
    let termination = c.imds(&id, "/latest/meta-data/spot/termination-time");
    assert_eq!(
        termination.body,
        notice["time"].as_str().expect("time").as_bytes()
    );

    // The maintain fleet replaces both after the interruption.
    advance(&mut c, SimDuration::from_mins(5));
    assert_eq!(instance_ids(&mut c, "terminated").len(), 2);
    assert_eq!(instance_ids(&mut c, "running").len(), 4);
    let requests = ok(
        &mut c,
        "DescribeSpotInstanceRequests",
        json!({"Filters": [{"Name": "instance-id", "Values": [chosen[0]]}]}),
    );
    assert_eq!(
        requests["SpotInstanceRequests"][0]["Status"]["Code"],
        "instance-terminated-no-capacity"
    );
}

#[test]
fn faults_refuse_what_cannot_be_interrupted() {
    let mut c = cloud(None);
    let err = c
        .apply(&Command::Fault(FaultRequest::Interrupt {
            targets: Targets::Instances(vec!["i-0123456789abcdef0".to_owned()]),
            before_ms: None,
        }))
        .expect_err("unknown instance");
    assert_eq!(err.code, "InvalidInstanceID.NotFound");
    let err = c
        .apply(&Command::Fault(FaultRequest::Interrupt {
            targets: Targets::Instances(vec![]),
            before_ms: Some(60_000),
        }))
        .expect_err("lead under 2 minutes");
    assert_eq!(err.code, "InvalidParameterValue");
}

#[test]
fn capacity_drops_reclaim_instances_above_the_new_level() {
    let mut c = cloud(None);
    fleet(&mut c, 4, "maintain", json!({"ImageId": "ami-1"}));
    advance(&mut c, SimDuration::from_mins(1));
    // Lowest price puts every instance in the cheaper pool; take its capacity away.
    let running = ok(&mut c, "DescribeInstances", json!({}));
    let zone = running["Reservations"][0]["Instances"][0]["Placement"]["AvailabilityZone"]
        .as_str()
        .expect("zone")
        .to_owned();
    let other = if zone == "us-east-1a" {
        "us-east-1b"
    } else {
        "us-east-1a"
    };
    let outcome = c
        .apply(&Command::Fault(FaultRequest::DropCapacity {
            instance_type: "t2.small".to_owned(),
            availability_zone: zone.clone(),
            level: 0,
            for_ms: Some(3_600_000),
        }))
        .expect("drop");
    let reclaimed = outcome["instances"].as_array().map_or(0, Vec::len);
    assert_eq!(
        reclaimed, 4,
        "every instance of the pool is reclaimed: {outcome}"
    );
    advance(&mut c, SimDuration::from_mins(10));
    // Replacements went to the other zone.
    let running = ok(
        &mut c,
        "DescribeInstances",
        json!({"Filters": [{"Name": "instance-state-name", "Values": ["running"]}]}),
    );
    let zones: Vec<&str> = running["Reservations"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|r| r["Instances"].as_array().into_iter().flatten())
        .map(|i| {
            i["Placement"]["AvailabilityZone"]
                .as_str()
                .unwrap_or_default()
        })
        .collect();
    assert_eq!(zones.len(), 4);
    assert!(zones.iter().all(|z| *z == other), "{zones:?}");
}

#[test]
fn the_host_limit_surfaces_as_insufficient_capacity() {
    let mut c = cloud(Some(HostLimits {
        instances: 3,
        vcpus: 64,
    }));
    let instant = fleet(&mut c, 5, "instant", json!({"ImageId": "ami-1"}));
    let launched: usize = instant["Instances"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|g| g["InstanceIds"].as_array().map_or(0, Vec::len))
        .sum();
    assert_eq!(launched, 3);
    let codes: Vec<&str> = instant["Errors"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| e["ErrorCode"].as_str().unwrap_or_default())
        .collect();
    assert!(codes.contains(&"InsufficientInstanceCapacity"), "{instant}");

    // A maintain fleet waits for room, records why, and fills in when room returns.
    let maintain = fleet(&mut c, 2, "maintain", json!({"ImageId": "ami-1"}));
    let id = maintain["FleetId"].as_str().expect("id").to_owned();
    advance(&mut c, SimDuration::from_mins(1));
    let history = ok(
        &mut c,
        "DescribeFleetHistory",
        json!({"FleetId": id, "StartTime": "2026-01-01T00:00:00Z"}),
    );
    assert!(
        history["HistoryRecords"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|r| r["EventInformation"]["EventSubType"] == "launchSpecTemporarilyBlacklisted"),
        "{history}"
    );
    let fleets = ok(&mut c, "DescribeFleets", json!({"FleetIds": [id]}));
    assert_eq!(fleets["Fleets"][0]["FulfilledCapacity"], 0.0);
    let instant_id = instant["FleetId"].as_str().expect("id");
    ok(
        &mut c,
        "DeleteFleets",
        json!({"FleetIds": [instant_id], "TerminateInstances": true}),
    );
    advance(&mut c, SimDuration::from_mins(10));
    let fleets = ok(&mut c, "DescribeFleets", json!({"FleetIds": [id]}));
    assert_eq!(fleets["Fleets"][0]["FulfilledCapacity"], 2.0);
}

#[test]
fn describe_instances_pages_and_filters() {
    let mut c = cloud(None);
    fleet(
        &mut c,
        12,
        "maintain",
        json!({"ImageId": "ami-1", "InstanceType": "t2.small"}),
    );
    advance(&mut c, SimDuration::from_mins(1));
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut input = json!({"MaxResults": 5});
        if let Some(t) = &token {
            input["NextToken"] = json!(t);
        }
        let page = ok(&mut c, "DescribeInstances", input);
        pages += 1;
        for r in page["Reservations"].as_array().into_iter().flatten() {
            for i in r["Instances"].as_array().into_iter().flatten() {
                seen.push(i["InstanceId"].as_str().unwrap_or_default().to_owned());
            }
        }
        token = page["NextToken"].as_str().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    assert_eq!((pages, seen.len()), (3, 12));
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 12, "no instance twice");
    let err = c
        .call(
            "DescribeInstances",
            json!({"MaxResults": 5, "InstanceIds": [seen[0]]}),
        )
        .expect_err("ids and MaxResults");
    assert_eq!(err.code, "InvalidParameterCombination");
    let wild = ok(
        &mut c,
        "DescribeInstances",
        json!({"Filters": [{"Name": "availability-zone", "Values": ["us-east-1?"]}, {"Name": "instance-type", "Values": ["t2.*"]}]}),
    );
    let count: usize = wild["Reservations"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| r["Instances"].as_array().map_or(0, Vec::len))
        .sum();
    assert_eq!(count, 12);
}

#[test]
fn tags_on_instances_fleets_and_reserved_keys() {
    let mut c = cloud(None);
    let out = fleet(
        &mut c,
        1,
        "maintain",
        json!({"ImageId": "ami-1", "MetadataOptions": {"InstanceMetadataTags": "enabled", "HttpTokens": "required"}}),
    );
    let fleet_id = out["FleetId"].as_str().expect("fleet").to_owned();
    advance(&mut c, SimDuration::from_mins(1));
    let id = instance_ids(&mut c, "running").remove(0);
    ok(
        &mut c,
        "CreateTags",
        json!({"Resources": [id, fleet_id], "Tags": [{"Key": "team", "Value": "perf"}]}),
    );
    let err = c
        .call(
            "CreateTags",
            json!({"Resources": [id], "Tags": [{"Key": "aws:mine", "Value": "x"}]}),
        )
        .expect_err("reserved");
    assert_eq!(err.code, "InvalidParameterValue");
    let tags = ok(
        &mut c,
        "DescribeTags",
        json!({"Filters": [{"Name": "key", "Values": ["team"]}]}),
    );
    assert_eq!(tags["Tags"].as_array().map(Vec::len), Some(2));
    let fleets = ok(&mut c, "DescribeFleets", json!({"FleetIds": [fleet_id]}));
    assert_eq!(fleets["Fleets"][0]["Tags"][0]["Key"], "team");
    let instance = InstanceId::new(id.as_str());
    let listing = c.imds(&instance, "/latest/meta-data/tags/instance");
    let keys = String::from_utf8(listing.body).expect("text");
    assert!(keys.lines().any(|k| k == "aws:ec2:fleet-id"), "{keys}");
    assert!(keys.lines().any(|k| k == "team"));
    let value = c.imds(
        &instance,
        "/latest/meta-data/tags/instance/aws:ec2:fleet-id",
    );
    assert_eq!(value.body, fleet_id.as_bytes());
    assert!(
        c.metadata_options(&instance)
            .expect("options")
            .tokens_required
    );
    ok(
        &mut c,
        "DeleteTags",
        json!({"Resources": [id], "Tags": [{"Key": "team"}]}),
    );
    let tags = ok(
        &mut c,
        "DescribeTags",
        json!({"Filters": [{"Name": "resource-id", "Values": [id]}]}),
    );
    assert!(
        tags["Tags"]
            .as_array()
            .into_iter()
            .flatten()
            .all(|t| t["Key"] != "team")
    );
}

#[test]
fn launch_template_versions_resolve_latest_and_default() {
    let mut c = cloud(None);
    let lt = ok(
        &mut c,
        "CreateLaunchTemplate",
        json!({"LaunchTemplateName": "web", "LaunchTemplateData": {"ImageId": "ami-1", "InstanceType": "t2.small"}}),
    );
    let id = lt["LaunchTemplate"]["LaunchTemplateId"]
        .as_str()
        .expect("id")
        .to_owned();
    let v2 = ok(
        &mut c,
        "CreateLaunchTemplateVersion",
        json!({"LaunchTemplateId": id, "SourceVersion": "1", "LaunchTemplateData": {"ImageId": "ami-2"}}),
    );
    assert_eq!(v2["LaunchTemplateVersion"]["VersionNumber"], 2);
    assert_eq!(
        v2["LaunchTemplateVersion"]["LaunchTemplateData"]["InstanceType"], "t2.small",
        "the source version's members carry over"
    );
    let versions = ok(
        &mut c,
        "DescribeLaunchTemplateVersions",
        json!({"LaunchTemplateName": "web", "Versions": ["$Latest", "$Default"]}),
    );
    let numbers: Vec<i64> = versions["LaunchTemplateVersions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v["VersionNumber"].as_i64())
        .collect();
    assert_eq!(numbers, [2, 1]);
    ok(
        &mut c,
        "ModifyLaunchTemplate",
        json!({"LaunchTemplateId": id, "DefaultVersion": "2"}),
    );
    let described = ok(
        &mut c,
        "DescribeLaunchTemplates",
        json!({"LaunchTemplateNames": ["web"]}),
    );
    assert_eq!(described["LaunchTemplates"][0]["DefaultVersionNumber"], 2);
    let err = c
        .call(
            "CreateLaunchTemplate",
            json!({"LaunchTemplateName": "web", "LaunchTemplateData": {}}),
        )
        .expect_err("duplicate");
    assert_eq!(err.code, "InvalidLaunchTemplateName.AlreadyExistsException");
    let err = c
        .call(
            "CreateFleet",
            json!({
                "TargetCapacitySpecification": {"TotalTargetCapacity": 1},
                "LaunchTemplateConfigs": [{"LaunchTemplateSpecification": {"LaunchTemplateId": id, "Version": "9"}}]
            }),
        )
        .expect_err("no version 9");
    assert_eq!(err.code, "InvalidLaunchTemplateId.VersionNotFound");
}

#[test]
fn network_dependencies_and_conflicts() {
    let mut c = cloud(None);
    let vpc = ok(&mut c, "CreateVpc", json!({"CidrBlock": "10.1.0.0/16"}));
    let vpc_id = vpc["Vpc"]["VpcId"].as_str().expect("vpc").to_owned();
    ok(
        &mut c,
        "CreateSubnet",
        json!({"VpcId": vpc_id, "CidrBlock": "10.1.1.0/24", "AvailabilityZone": "us-east-1c"}),
    );
    let err = c
        .call(
            "CreateSubnet",
            json!({"VpcId": vpc_id, "CidrBlock": "10.1.1.128/25", "AvailabilityZone": "us-east-1c"}),
        )
        .expect_err("overlap");
    assert_eq!(err.code, "InvalidSubnet.Conflict");
    let err = c
        .call(
            "CreateSubnet",
            json!({"VpcId": vpc_id, "CidrBlock": "10.2.0.0/24"}),
        )
        .expect_err("outside");
    assert_eq!(err.code, "InvalidSubnet.Range");
    let err = c
        .call("DeleteVpc", json!({"VpcId": vpc_id}))
        .expect_err("subnets left");
    assert_eq!(err.code, "DependencyViolation");
    let defaults = ok(
        &mut c,
        "DescribeSubnets",
        json!({"Filters": [{"Name": "default-for-az", "Values": ["true"]}]}),
    );
    assert_eq!(defaults["Subnets"].as_array().map(Vec::len), Some(6));
}

#[test]
fn a_hibernated_instance_stays_frozen_until_its_fleet_needs_it_again() {
    let mut c = cloud(None);
    let lt = ok(
        &mut c,
        "CreateLaunchTemplate",
        json!({"LaunchTemplateName": "hib", "LaunchTemplateData": {"ImageId": "ami-1"}}),
    );
    let lt = lt["LaunchTemplate"]["LaunchTemplateId"].clone();
    ok(
        &mut c,
        "CreateFleet",
        json!({
            "Type": "maintain",
            "SpotOptions": {"InstanceInterruptionBehavior": "hibernate"},
            "TargetCapacitySpecification": {"TotalTargetCapacity": 1, "DefaultTargetCapacityType": "spot"},
            "LaunchTemplateConfigs": [{
                "LaunchTemplateSpecification": {"LaunchTemplateId": lt, "Version": "1"},
                "Overrides": [{"InstanceType": "t2.small", "AvailabilityZone": "us-east-1a"}]
            }]
        }),
    );
    advance(&mut c, SimDuration::from_mins(1));
    let id = instance_ids(&mut c, "running").remove(0);
    c.apply(&Command::Fault(FaultRequest::Interrupt {
        targets: Targets::Instances(vec![id.clone()]),
        before_ms: None,
    }))
    .expect("fault");
    let instance = InstanceId::new(id.as_str());
    // Hibernation starts at once, with no lead; the memory (the processes) is kept.
    assert_eq!(
        c.runtime(&instance).expect("runtime").goal,
        ec2::ProcessGoal::Frozen
    );
    advance(&mut c, SimDuration::from_mins(1));
    assert_eq!(
        c.runtime(&instance).expect("runtime").goal,
        ec2::ProcessGoal::Frozen
    );
    assert_eq!(instance_ids(&mut c, "stopped"), std::slice::from_ref(&id));
    // The fleet replaced it; when the replacement goes, the hibernated one resumes.
    let replacement = instance_ids(&mut c, "running").remove(0);
    ok(
        &mut c,
        "TerminateInstances",
        json!({"InstanceIds": [replacement]}),
    );
    assert_eq!(
        c.runtime(&instance).expect("runtime").goal,
        ec2::ProcessGoal::Hold
    );
    advance(&mut c, SimDuration::from_mins(1));
    assert_eq!(
        c.runtime(&instance).expect("runtime").goal,
        ec2::ProcessGoal::Run
    );
    assert_eq!(instance_ids(&mut c, "running"), [id]);
}

#[test]
fn only_calls_that_change_the_cloud_need_recording() {
    let mut c = cloud(None);
    let api = |action: &str, input: Value| Command::Api {
        action: action.to_owned(),
        input,
    };
    let (result, changed) =
        c.apply_and_tell(&api("CreateVpc", json!({"CidrBlock": "10.0.0.0/16"})));
    assert!(result.is_ok() && changed);
    let (result, changed) = c.apply_and_tell(&api(
        "CreateVpc",
        json!({"CidrBlock": "10.0.0.0/16", "DryRun": true}),
    ));
    assert!(result.is_err() && !changed, "a DryRun changes nothing");
    let (result, changed) = c.apply_and_tell(&api("CreateVpc", json!({"CidrBlock": "bad"})));
    assert!(
        result.is_err() && !changed,
        "a refused call changes nothing"
    );
    let (result, changed) = c.apply_and_tell(&api("DescribeVpcs", json!({})));
    assert!(result.is_ok() && !changed, "a read changes nothing");
    let lt = ok(
        &mut c,
        "CreateLaunchTemplate",
        json!({"LaunchTemplateName": "rec", "LaunchTemplateData": {"ImageId": "ami-1"}}),
    );
    let create = api(
        "CreateFleet",
        json!({
            "ClientToken": "same",
            "TargetCapacitySpecification": {"TotalTargetCapacity": 1, "DefaultTargetCapacityType": "spot"},
            "LaunchTemplateConfigs": [{
                "LaunchTemplateSpecification": {"LaunchTemplateId": lt["LaunchTemplate"]["LaunchTemplateId"], "Version": "1"},
                "Overrides": [{"InstanceType": "t2.small", "AvailabilityZone": "us-east-1a"}]
            }]
        }),
    );
    let (first, changed) = c.apply_and_tell(&create);
    assert!(first.is_ok() && changed);
    let (again, changed) = c.apply_and_tell(&create);
    assert_eq!(again.ok(), first.ok());
    assert!(!changed, "an idempotent repeat changes nothing");
}
