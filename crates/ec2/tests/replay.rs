//! The property a durable control plane stands on: a cloud is rebuilt exactly by
//! applying its recorded state-changing commands again at their virtual times. Reads,
//! extra time steps and the order of queries in between must not matter.
//!
//! Cloud A runs a random scenario (fleets created, scaled, deleted, instances
//! terminated, faults injected) with reads and time steps interleaved, recording what
//! a control plane records (the calls that changed something; refused calls and
//! idempotent repeats are not recorded); cloud B applies only the record. Their fleets, instances,
//! histories and event buses must be identical.

use ec2::{Cloud, CloudConfig, Command, FaultRequest, Targets};
use proptest::prelude::*;
use serde_json::{Value, json};
use simtime::{SimDuration, SimTime};

#[derive(Clone, Debug)]
enum Op {
    CreateFleet {
        target: u32,
        strategy: usize,
        request: bool,
    },
    Modify {
        fleet: usize,
        target: u32,
    },
    Terminate {
        instance: usize,
    },
    Interrupt {
        fleet: usize,
        percent: u32,
        lead_mins: u64,
    },
    DropCapacity {
        zone_b: bool,
        level: u32,
    },
    Delete {
        fleet: usize,
        terminate: bool,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (1u32..8, 0usize..3, any::<bool>()).prop_map(|(target, strategy, request)| {
            Op::CreateFleet {
                target,
                strategy,
                request,
            }
        }),
        (0usize..4, 0u32..10).prop_map(|(fleet, target)| Op::Modify { fleet, target }),
        (0usize..20).prop_map(|instance| Op::Terminate { instance }),
        (0usize..4, 1u32..=100, 2u64..6).prop_map(|(fleet, percent, lead_mins)| Op::Interrupt {
            fleet,
            percent,
            lead_mins
        }),
        (any::<bool>(), 0u32..3).prop_map(|(zone_b, level)| Op::DropCapacity { zone_b, level }),
        (0usize..4, any::<bool>()).prop_map(|(fleet, terminate)| Op::Delete { fleet, terminate }),
    ]
}

/// One step: wait `gap` seconds (with `reads` reads and time steps on the way), then `op`.
#[derive(Clone, Debug)]
struct Step {
    gap: u64,
    reads: u8,
    op: Op,
}

fn step() -> impl Strategy<Value = Step> {
    (0u64..900, 0u8..4, op()).prop_map(|(gap, reads, op)| Step { gap, reads, op })
}

fn start() -> SimTime {
    SimTime::parse("2026-05-01T00:00:00Z").expect("time")
}

fn api(action: &str, input: Value) -> Command {
    Command::Api {
        action: action.to_owned(),
        input,
    }
}

fn fleet_ids(cloud: &Cloud) -> Vec<String> {
    cloud
        .world()
        .engine()
        .fleets()
        .map(|f| f.id.to_string())
        .collect()
}

fn live_instances(cloud: &Cloud) -> Vec<String> {
    cloud
        .world()
        .engine()
        .instances()
        .filter(|i| i.state.is_live())
        .map(|i| i.id.to_string())
        .collect()
}

/// Turns an abstract op into a concrete command against the cloud's current state.
fn command(cloud: &Cloud, op: &Op, lt: &str, subnets: &[String]) -> Option<Command> {
    let fleets = fleet_ids(cloud);
    let pick = |i: usize| (!fleets.is_empty()).then(|| fleets[i % fleets.len()].clone());
    Some(match op {
        Op::CreateFleet {
            target,
            strategy,
            request,
        } => {
            let strategy = ["lowest-price", "capacity-optimized", "diversified"][*strategy];
            let overrides: Vec<Value> = subnets
                .iter()
                .flat_map(|s| {
                    [("t2.small", 1.0), ("c5.large", 2.0)].map(
                        |(t, w)| json!({"InstanceType": t, "SubnetId": s, "WeightedCapacity": w}),
                    )
                })
                .collect();
            api(
                "CreateFleet",
                json!({
                    "Type": if *request { "request" } else { "maintain" },
                    "TargetCapacitySpecification": {"TotalTargetCapacity": target, "DefaultTargetCapacityType": "spot"},
                    "SpotOptions": {"AllocationStrategy": strategy},
                    "LaunchTemplateConfigs": [{
                        "LaunchTemplateSpecification": {"LaunchTemplateId": lt, "Version": "$Latest"},
                        "Overrides": overrides
                    }]
                }),
            )
        }
        Op::Modify { fleet, target } => api(
            "ModifyFleet",
            json!({"FleetId": pick(*fleet)?, "TargetCapacitySpecification": {"TotalTargetCapacity": target}}),
        ),
        Op::Terminate { instance } => {
            let live = live_instances(cloud);
            let id = live.get(instance % live.len().max(1))?.clone();
            api("TerminateInstances", json!({"InstanceIds": [id]}))
        }
        Op::Interrupt {
            fleet,
            percent,
            lead_mins,
        } => Command::Fault(FaultRequest::Interrupt {
            targets: Targets::Fleet {
                fleet_id: pick(*fleet)?,
                percent: *percent,
            },
            before_ms: Some(lead_mins * 60_000),
        }),
        Op::DropCapacity { zone_b, level } => Command::Fault(FaultRequest::DropCapacity {
            instance_type: "t2.small".to_owned(),
            availability_zone: if *zone_b { "us-east-1b" } else { "us-east-1a" }.to_owned(),
            level: *level,
            for_ms: Some(600_000),
        }),
        Op::Delete { fleet, terminate } => api(
            "DeleteFleets",
            json!({"FleetIds": [pick(*fleet)?], "TerminateInstances": terminate}),
        ),
    })
}

fn snapshot(cloud: &mut Cloud) -> Vec<Value> {
    let mut out = Vec::new();
    let fleets = fleet_ids(cloud);
    out.push(
        cloud
            .call("DescribeFleets", json!({}))
            .unwrap_or(Value::Null),
    );
    out.push(
        cloud
            .call("DescribeInstances", json!({}))
            .unwrap_or(Value::Null),
    );
    out.push(
        cloud
            .call("DescribeSpotInstanceRequests", json!({}))
            .unwrap_or(Value::Null),
    );
    for id in fleets {
        out.push(
            cloud
                .call(
                    "DescribeFleetHistory",
                    json!({"FleetId": id, "StartTime": "2026-01-01T00:00:00Z"}),
                )
                .unwrap_or(Value::Null),
        );
    }
    out.push(Value::Array(
        cloud.bus().since(0).map(|e| e.event.clone()).collect(),
    ));
    out
}

fn setup(cloud: &mut Cloud, record: &mut Vec<(SimTime, Command)>) -> (String, Vec<String>) {
    let mut run = |cloud: &mut Cloud, command: Command| {
        record.push((cloud.now(), command.clone()));
        cloud.apply(&command).expect("setup succeeds")
    };
    let vpc = run(cloud, api("CreateVpc", json!({"CidrBlock": "10.0.0.0/16"})));
    let vpc_id = vpc["Vpc"]["VpcId"].as_str().expect("vpc").to_owned();
    let mut subnets = Vec::new();
    for (cidr, zone) in [("10.0.1.0/24", "us-east-1a"), ("10.0.2.0/24", "us-east-1b")] {
        let subnet = run(
            cloud,
            api(
                "CreateSubnet",
                json!({"VpcId": vpc_id, "CidrBlock": cidr, "AvailabilityZone": zone}),
            ),
        );
        subnets.push(
            subnet["Subnet"]["SubnetId"]
                .as_str()
                .expect("subnet")
                .to_owned(),
        );
    }
    let lt = run(
        cloud,
        api(
            "CreateLaunchTemplate",
            json!({"LaunchTemplateName": "replay", "LaunchTemplateData": {"ImageId": "ami-1"}}),
        ),
    );
    let lt = lt["LaunchTemplate"]["LaunchTemplateId"]
        .as_str()
        .expect("lt")
        .to_owned();
    (lt, subnets)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]

    #[test]
    fn replaying_the_record_rebuilds_the_same_cloud(steps in proptest::collection::vec(step(), 1..16)) {
        let config = CloudConfig {
            interruption_scale: 200.0,
            ..CloudConfig::new(5, start())
        };
        let mut a = Cloud::new(config.clone());
        let mut record = Vec::new();
        let (lt, subnets) = setup(&mut a, &mut record);
        for step in &steps {
            // Reads and extra time steps on the way to the next command.
            let target = a.now() + SimDuration::from_secs(step.gap);
            for i in 0..step.reads {
                let t = a.now() + SimDuration::from_secs(step.gap * u64::from(i + 1) / u64::from(step.reads + 1));
                a.advance_to(t);
                let _ = a.call("DescribeInstances", json!({}));
                let _ = a.call("DescribeSpotPriceHistory", json!({"InstanceTypes": ["t2.small", "c5.large"]}));
                let _ = a.call("DescribeFleets", json!({}));
            }
            a.advance_to(target);
            if let Some(command) = command(&a, &step.op, &lt, &subnets) {
                // As a control plane does: only what changed the cloud is recorded.
                let at = a.now();
                let (_, changed) = a.apply_and_tell(&command);
                if changed {
                    record.push((at, command));
                }
            }
        }
        let end = a.now() + SimDuration::from_mins(30);
        a.advance_to(end);

        let mut b = Cloud::new(config);
        for (at, command) in &record {
            b.advance_to(*at);
            let _ = b.apply(command);
        }
        b.advance_to(end);
        prop_assert_eq!(snapshot(&mut a), snapshot(&mut b));
    }
}
