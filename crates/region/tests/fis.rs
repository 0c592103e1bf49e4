//! FIS calls as region commands: only successful writes are marked as changed, the
//! journal's form reads back as the same command, an experiment's interruption
//! warnings reach the region's bus, and replaying the changed commands at their times
//! on a new region rebuilds the same experiment and the same bus, as
//! `controlplane::recover` does after a restart.

use region::ec2::{CloudConfig, INITIATING};
use region::{Command, Region, RegionConfig};
use serde_json::{Value, json};
use simtime::{SimDuration, SimTime};

fn config() -> RegionConfig {
    let mut ec2 = CloudConfig::new(5, SimTime::parse("2026-05-01T00:00:00Z").expect("time"));
    ec2.interruption_scale = 0.0;
    RegionConfig {
        ec2,
        endpoint_url: "http://127.0.0.1:4747/".to_owned(),
    }
}

fn ec2(action: &str, input: Value) -> Command {
    Command::Ec2 {
        action: action.to_owned(),
        input,
    }
}

fn fis(operation: &str, input: Value) -> Command {
    Command::Fis {
        operation: operation.to_owned(),
        input,
    }
}

fn answer(region: &mut Region, command: &Command) -> Value {
    match region.apply(command) {
        Ok(value) => value,
        Err(error) => json!({"code": error.code(), "message": error.message()}),
    }
}

fn warnings(region: &Region) -> Vec<Value> {
    region
        .bus()
        .since(0)
        .filter(|e| e.event["detail-type"] == "EC2 Spot Instance Interruption Warning")
        .map(|e| e.event["detail"]["instance-id"].clone())
        .collect()
}

#[test]
fn fis_writes_are_journaled_and_replay_to_the_same_experiment() {
    let mut live = Region::new(config());
    let mut journal = Vec::new();
    let mut record = |region: &mut Region, command: Command, changes: bool| {
        let at = region.now();
        let (result, changed) = region.apply_and_tell(&command);
        assert_eq!(changed, changes, "{}: {result:?}", command.describe());
        if changed {
            let text = serde_json::to_string(&command).expect("journal form");
            let read: Command = serde_json::from_str(&text).expect("reads back");
            assert_eq!(read, command);
            journal.push((at, read, result.clone().expect("a change is a success")));
        }
        result.unwrap_or_else(|e| json!({"code": e.code()}))
    };
    let lt = record(
        &mut live,
        ec2(
            "CreateLaunchTemplate",
            json!({"LaunchTemplateName": "web", "LaunchTemplateData": {"ImageId": "ami-1"}}),
        ),
        true,
    );
    record(
        &mut live,
        ec2(
            "CreateFleet",
            json!({
                "Type": "maintain",
                "TargetCapacitySpecification": {"TotalTargetCapacity": 3, "DefaultTargetCapacityType": "spot"},
                "LaunchTemplateConfigs": [{
                    "LaunchTemplateSpecification": {"LaunchTemplateId": lt["LaunchTemplate"]["LaunchTemplateId"], "Version": "$Default"},
                    "Overrides": [{"InstanceType": "t2.small", "AvailabilityZone": "us-east-1a"}]
                }]
            }),
        ),
        true,
    );
    live.advance_to(live.now() + SimDuration::from_mins(1));
    let template = json!({
        "clientToken": "t-1",
        "description": "two of three",
        "roleArn": "arn:aws:iam::000000000000:role/fis",
        "targets": {"SpotInstances": {
            "resourceType": "aws:ec2:spot-instance",
            "filters": [{"path": "InstanceType", "values": ["t2.small"]}],
            "resourceTags": {"aws:ec2:fleet-id": "placeholder"},
            "selectionMode": "COUNT(2)"
        }},
        "actions": {"interrupt": {
            "actionId": "aws:ec2:send-spot-instance-interruptions",
            "parameters": {"durationBeforeInterruption": "PT2M"},
            "targets": {"SpotInstances": "SpotInstances"}
        }},
        "stopConditions": [{"source": "none"}]
    });
    let fleets = answer(&mut live, &ec2("DescribeFleets", json!({})));
    let mut template = template;
    template["targets"]["SpotInstances"]["resourceTags"]["aws:ec2:fleet-id"] =
        fleets["Fleets"][0]["FleetId"].clone();
    let created = record(&mut live, fis("CreateExperimentTemplate", template), true);
    let template_id = created["experimentTemplate"]["id"].clone();
    // Refused: not a served action.
    record(
        &mut live,
        fis("GetExperimentTemplate", json!({"id": "EXTnone"})),
        false,
    );
    let started = record(
        &mut live,
        fis(
            "StartExperiment",
            json!({"experimentTemplateId": template_id, "clientToken": "s-1"}),
        ),
        true,
    );
    let id = started["experiment"]["id"].clone();
    record(&mut live, fis("GetExperiment", json!({"id": id})), false);
    live.advance_to(live.now() + INITIATING + SimDuration::from_mins(3));
    let get = fis("GetExperiment", json!({"id": id}));
    let shown = answer(&mut live, &get);
    assert_eq!(shown["experiment"]["state"]["status"], "completed");
    assert_eq!(warnings(&live).len(), 2, "two warnings on the region's bus");
    let end = live.now();

    let mut rebuilt = Region::new(config());
    for (at, command, original) in &journal {
        rebuilt.advance_to(*at);
        assert_eq!(
            &answer(&mut rebuilt, command),
            original,
            "{}",
            command.describe()
        );
    }
    rebuilt.advance_to(end);
    assert_eq!(answer(&mut rebuilt, &get), shown);
    assert_eq!(warnings(&rebuilt), warnings(&live));
}
