//! FIS on the pure cloud: experiment templates of `aws:ec2:send-spot-instance-interruptions`
//! checked at creation with FIS's codes, experiments stepping through `initiating`,
//! `running` and `completed` in virtual time, their interruptions going through the
//! fault path (notices, rebalance recommendations, the bus, replacement), targets by
//! ARN, tag, filter and selection mode, empty targets, StopExperiment, tags, lists, and
//! the same commands at the same times rebuilding the same experiments.

use ec2::{ApiError, Cloud, CloudConfig, Command, INITIATING};
use serde_json::{Value, json};
use simtime::{SimDuration, SimTime};

const ROLE: &str = "arn:aws:iam::000000000000:role/spotlab-fis";
const ACTION: &str = "aws:ec2:send-spot-instance-interruptions";

fn cloud(seed: u64) -> Cloud {
    let mut config = CloudConfig::new(seed, SimTime::parse("2026-04-01T00:00:00Z").expect("time"));
    config.interruption_scale = 0.0;
    Cloud::new(config)
}

fn ec2(cloud: &mut Cloud, action: &str, input: Value) -> Value {
    cloud
        .apply(&Command::Api {
            action: action.to_owned(),
            input,
        })
        .unwrap_or_else(|e| panic!("{action}: {e}"))
}

fn fis(cloud: &mut Cloud, operation: &str, input: Value) -> Result<Value, ApiError> {
    cloud.apply(&Command::Fis {
        operation: operation.to_owned(),
        input,
    })
}

fn ok(cloud: &mut Cloud, operation: &str, input: Value) -> Value {
    fis(cloud, operation, input).unwrap_or_else(|e| panic!("{operation}: {e}"))
}

fn refused(cloud: &mut Cloud, operation: &str, input: Value) -> ApiError {
    fis(cloud, operation, input).expect_err("the call should be refused")
}

fn advance(cloud: &mut Cloud, span: SimDuration) {
    let to = cloud.now() + span;
    cloud.advance_to(to);
}

/// A maintain fleet of `target` t2.small Spot instances, running.
fn fleet(cloud: &mut Cloud, target: u32) -> Vec<String> {
    let lt = ec2(
        cloud,
        "CreateLaunchTemplate",
        json!({"LaunchTemplateName": "spotlab-lt", "LaunchTemplateData": {"ImageId": "ami-1"}}),
    );
    let lt = lt["LaunchTemplate"]["LaunchTemplateId"].clone();
    ec2(
        cloud,
        "CreateFleet",
        json!({
            "Type": "maintain",
            "TargetCapacitySpecification": {"TotalTargetCapacity": target, "DefaultTargetCapacityType": "spot"},
            "LaunchTemplateConfigs": [{
                "LaunchTemplateSpecification": {"LaunchTemplateId": lt, "Version": "$Default"},
                "Overrides": [
                    {"InstanceType": "t2.small", "AvailabilityZone": "us-east-1a"},
                    {"InstanceType": "t2.small", "AvailabilityZone": "us-east-1b"}
                ]
            }]
        }),
    );
    advance(cloud, SimDuration::from_mins(1));
    instances(cloud, "running")
}

fn instances(cloud: &mut Cloud, state: &str) -> Vec<String> {
    let out = ec2(
        cloud,
        "DescribeInstances",
        json!({"Filters": [{"Name": "instance-state-name", "Values": [state]}]}),
    );
    let mut ids: Vec<String> = out["Reservations"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|r| r["Instances"].as_array().cloned().unwrap_or_default())
        .map(|i| i["InstanceId"].as_str().unwrap_or_default().to_owned())
        .collect();
    ids.sort();
    ids
}

fn arn(id: &str) -> String {
    format!("arn:aws:ec2:us-east-1:000000000000:instance/{id}")
}

fn template_input(target: Value, duration: &str) -> Value {
    json!({
        "clientToken": "token-1",
        "description": "interrupt two",
        "roleArn": ROLE,
        "targets": {"SpotInstances": target},
        "actions": {"interrupt": {
            "actionId": ACTION,
            "parameters": {"durationBeforeInterruption": duration},
            "targets": {"SpotInstances": "SpotInstances"}
        }},
        "stopConditions": [{"source": "none"}],
        "tags": {"purpose": "test"}
    })
}

fn by_arns(ids: &[String]) -> Value {
    json!({
        "resourceType": "aws:ec2:spot-instance",
        "resourceArns": ids.iter().map(|id| arn(id)).collect::<Vec<_>>(),
        "selectionMode": "ALL"
    })
}

/// Creates a template and starts an experiment from it; the experiment's id.
fn start(cloud: &mut Cloud, template: Value) -> String {
    let created = ok(cloud, "CreateExperimentTemplate", template);
    let template_id = created["experimentTemplate"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let started = ok(
        cloud,
        "StartExperiment",
        json!({"experimentTemplateId": template_id, "clientToken": "start-1"}),
    );
    started["experiment"]["id"].as_str().expect("id").to_owned()
}

fn experiment(cloud: &mut Cloud, id: &str) -> Value {
    ok(cloud, "GetExperiment", json!({"id": id}))["experiment"].clone()
}

fn status(cloud: &mut Cloud, id: &str) -> String {
    experiment(cloud, id)["state"]["status"]
        .as_str()
        .expect("status")
        .to_owned()
}

fn detail_types(cloud: &Cloud, after: u64, instance: &str) -> Vec<String> {
    cloud
        .bus()
        .since(after)
        .filter(|e| e.event["detail"]["instance-id"] == instance)
        .map(|e| {
            e.event["detail-type"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
}

#[test]
fn an_experiment_interrupts_its_targets_through_the_fault_path_and_completes() {
    let mut c = cloud(7);
    let running = fleet(&mut c, 4);
    assert_eq!(running.len(), 4);
    let chosen = running[..2].to_vec();
    let bus_before = c.bus().last_seq();
    let started_at = c.now();
    let id = start(&mut c, template_input(by_arns(&chosen), "PT2M"));
    assert_eq!(status(&mut c, &id), "initiating");
    let shown = experiment(&mut c, &id);
    assert_eq!(shown["actions"]["interrupt"]["state"]["status"], "pending");
    assert_eq!(shown["roleArn"], ROLE);

    advance(&mut c, INITIATING);
    let shown = experiment(&mut c, &id);
    assert_eq!(shown["state"]["status"], "running");
    assert_eq!(shown["actions"]["interrupt"]["state"]["status"], "running");
    let started = (started_at + INITIATING).as_millis() / 1000;
    assert_eq!(shown["actions"]["interrupt"]["startTime"], json!(started));
    for instance in &chosen {
        assert_eq!(
            detail_types(&c, bus_before, instance),
            ["EC2 Spot Instance Interruption Warning"],
            "{instance}: a 2-minute notice, no rebalance recommendation first"
        );
    }
    for untouched in &running[2..] {
        assert!(detail_types(&c, bus_before, untouched).is_empty());
    }

    advance(&mut c, SimDuration::from_mins(2));
    let shown = experiment(&mut c, &id);
    assert_eq!(shown["state"]["status"], "completed");
    assert_eq!(
        shown["actions"]["interrupt"]["state"]["status"],
        "completed"
    );
    assert_eq!(
        shown["endTime"],
        json!((started_at + INITIATING + SimDuration::from_mins(2)).as_millis() / 1000)
    );
    advance(&mut c, SimDuration::from_mins(1));
    let terminated = instances(&mut c, "terminated");
    for instance in &chosen {
        assert!(terminated.contains(instance), "{instance} interrupted");
    }
    assert_eq!(
        instances(&mut c, "running").len(),
        4,
        "the fleet replaced them"
    );
}

#[test]
fn a_longer_duration_sends_the_rebalance_recommendation_first() {
    let mut c = cloud(8);
    let running = fleet(&mut c, 2);
    let bus_before = c.bus().last_seq();
    let id = start(&mut c, template_input(by_arns(&running[..1]), "PT5M"));
    advance(&mut c, INITIATING);
    assert_eq!(
        detail_types(&c, bus_before, &running[0]),
        ["EC2 Instance Rebalance Recommendation"]
    );
    advance(&mut c, SimDuration::from_mins(3));
    assert_eq!(
        detail_types(&c, bus_before, &running[0]),
        [
            "EC2 Instance Rebalance Recommendation",
            "EC2 Spot Instance Interruption Warning"
        ]
    );
    assert_eq!(status(&mut c, &id), "running");
    advance(&mut c, SimDuration::from_mins(2));
    assert_eq!(status(&mut c, &id), "completed");
}

#[test]
fn templates_the_local_cloud_cannot_run_are_refused_with_fis_codes() {
    let mut c = cloud(9);
    let running = fleet(&mut c, 1);
    let good = template_input(by_arns(&running), "PT2M");
    let cases: Vec<(&str, Value)> = vec![
        ("bad action id", {
            let mut t = good.clone();
            t["actions"]["interrupt"]["actionId"] = json!("aws:ec2:stop-instances");
            t
        }),
        ("too short", template_input(by_arns(&running), "PT1M")),
        ("too long", template_input(by_arns(&running), "PT16M")),
        (
            "not ISO 8601",
            template_input(by_arns(&running), "2 minutes"),
        ),
        ("no duration", {
            let mut t = good.clone();
            t["actions"]["interrupt"]["parameters"] = json!({});
            t
        }),
        ("unknown target", {
            let mut t = good.clone();
            t["actions"]["interrupt"]["targets"] = json!({"SpotInstances": "Others"});
            t
        }),
        ("other resource type", {
            let mut t = good.clone();
            t["targets"]["SpotInstances"]["resourceType"] = json!("aws:ec2:instance");
            t
        }),
        ("bad selection", {
            let mut t = good.clone();
            t["targets"]["SpotInstances"]["selectionMode"] = json!("SOME");
            t
        }),
        ("no role", {
            let mut t = good.clone();
            t.as_object_mut().expect("object").remove("roleArn");
            t
        }),
        ("no stop conditions", {
            let mut t = good.clone();
            t.as_object_mut().expect("object").remove("stopConditions");
            t
        }),
        ("alarm stop condition", {
            let mut t = good.clone();
            t["stopConditions"] = json!([{"source": "aws:cloudwatch:alarm", "value": "arn:x"}]);
            t
        }),
        ("unserved filter", {
            let mut t = good.clone();
            t["targets"]["SpotInstances"]["filters"] =
                json!([{"path": "ImageId", "values": ["x"]}]);
            t
        }),
    ];
    for (case, input) in cases {
        let error = refused(&mut c, "CreateExperimentTemplate", input);
        assert_eq!(
            (error.code.as_str(), error.status),
            ("ValidationException", 400),
            "{case}: {error}"
        );
    }
    let listed = ok(&mut c, "ListExperimentTemplates", json!({}));
    assert_eq!(
        listed["experimentTemplates"],
        json!([]),
        "nothing was created"
    );

    for (operation, input) in [
        ("GetExperimentTemplate", json!({"id": "EXTnope"})),
        ("DeleteExperimentTemplate", json!({"id": "EXTnope"})),
        (
            "StartExperiment",
            json!({"experimentTemplateId": "EXTnope"}),
        ),
        ("GetExperiment", json!({"id": "EXPnope"})),
        ("StopExperiment", json!({"id": "EXPnope"})),
    ] {
        let error = refused(&mut c, operation, input);
        assert_eq!(
            (error.code.as_str(), error.status),
            ("ResourceNotFoundException", 404),
            "{operation}"
        );
    }
}

#[test]
fn targets_by_tag_filter_and_selection_mode_choose_from_the_seeded_stream() {
    let choose = |seed: u64| {
        let mut c = cloud(seed);
        let running = fleet(&mut c, 6);
        ec2(
            &mut c,
            "CreateTags",
            json!({"Resources": running[..4], "Tags": [{"Key": "role", "Value": "web"}]}),
        );
        let target = json!({
            "resourceType": "aws:ec2:spot-instance",
            "resourceTags": {"role": "web"},
            "filters": [{"path": "State.Name", "values": ["running"]}],
            "selectionMode": "PERCENT(50)"
        });
        let bus_before = c.bus().last_seq();
        let id = start(&mut c, template_input(target, "PT2M"));
        advance(&mut c, INITIATING);
        assert_eq!(status(&mut c, &id), "running");
        let noticed: Vec<String> = running
            .iter()
            .filter(|i| !detail_types(&c, bus_before, i).is_empty())
            .cloned()
            .collect();
        assert_eq!(noticed.len(), 2, "half of the four tagged instances");
        assert!(noticed.iter().all(|i| running[..4].contains(i)));
        noticed
    };
    assert_eq!(
        choose(21),
        choose(21),
        "the same seed picks the same instances"
    );

    let mut c = cloud(22);
    let running = fleet(&mut c, 3);
    let target = json!({
        "resourceType": "aws:ec2:spot-instance",
        "resourceArns": running.iter().map(|id| arn(id)).collect::<Vec<_>>(),
        "selectionMode": "COUNT(1)"
    });
    let bus_before = c.bus().last_seq();
    start(&mut c, template_input(target, "PT2M"));
    advance(&mut c, INITIATING);
    let noticed = running
        .iter()
        .filter(|i| !detail_types(&c, bus_before, i).is_empty())
        .count();
    assert_eq!(noticed, 1);
}

#[test]
fn a_target_resolving_to_nothing_fails_the_experiment_unless_told_to_skip() {
    let mut c = cloud(10);
    fleet(&mut c, 2);
    let nobody = json!({
        "resourceType": "aws:ec2:spot-instance",
        "resourceTags": {"role": "nobody"},
        "selectionMode": "ALL"
    });
    let id = start(&mut c, template_input(nobody.clone(), "PT2M"));
    advance(&mut c, INITIATING);
    let shown = experiment(&mut c, &id);
    assert_eq!(shown["state"]["status"], "failed");
    assert_eq!(
        shown["state"]["reason"],
        "Target resolution returned empty set."
    );
    assert_eq!(shown["state"]["error"]["code"], "InvalidTarget");
    assert_eq!(shown["state"]["error"]["location"], "targets.SpotInstances");
    assert_eq!(
        shown["actions"]["interrupt"]["state"]["status"],
        "cancelled"
    );
    assert!(shown["endTime"].is_number());

    let mut skipping = template_input(nobody, "PT2M");
    skipping["clientToken"] = json!("token-2");
    skipping["experimentOptions"] = json!({"emptyTargetResolutionMode": "skip"});
    let created = ok(&mut c, "CreateExperimentTemplate", skipping);
    let template_id = created["experimentTemplate"]["id"].clone();
    let started = ok(
        &mut c,
        "StartExperiment",
        json!({"experimentTemplateId": template_id, "clientToken": "start-2"}),
    );
    let id = started["experiment"]["id"].as_str().expect("id").to_owned();
    advance(&mut c, INITIATING);
    let shown = experiment(&mut c, &id);
    assert_eq!(shown["state"]["status"], "completed");
    assert_eq!(shown["actions"]["interrupt"]["state"]["status"], "skipped");
}

#[test]
fn a_stopped_experiment_sends_nothing_and_stopping_again_changes_nothing() {
    let mut c = cloud(11);
    let running = fleet(&mut c, 2);
    let bus_before = c.bus().last_seq();
    let id = start(&mut c, template_input(by_arns(&running), "PT2M"));
    let stopped = ok(&mut c, "StopExperiment", json!({"id": id}));
    assert_eq!(stopped["experiment"]["state"]["status"], "stopped");
    assert_eq!(
        stopped["experiment"]["actions"]["interrupt"]["state"]["status"],
        "cancelled"
    );
    advance(&mut c, SimDuration::from_mins(5));
    assert_eq!(status(&mut c, &id), "stopped");
    for instance in &running {
        assert!(detail_types(&c, bus_before, instance).is_empty());
    }
    let (again, changed) = c.apply_and_tell(&Command::Fis {
        operation: "StopExperiment".to_owned(),
        input: json!({"id": id}),
    });
    assert_eq!(
        again.expect("answered")["experiment"]["state"]["status"],
        "stopped"
    );
    assert!(!changed, "stopping a stopped experiment changes nothing");
}

#[test]
fn client_tokens_tags_lists_and_deletion() {
    let mut c = cloud(12);
    let running = fleet(&mut c, 1);
    let input = template_input(by_arns(&running), "PT2M");
    let first = ok(&mut c, "CreateExperimentTemplate", input.clone());
    let (again, changed) = c.apply_and_tell(&Command::Fis {
        operation: "CreateExperimentTemplate".to_owned(),
        input,
    });
    assert_eq!(
        again.expect("answered"),
        first,
        "the same client token, the same template"
    );
    assert!(!changed);
    let template = first["experimentTemplate"].clone();
    let template_id = template["id"].as_str().expect("id").to_owned();
    let template_arn = template["arn"].as_str().expect("arn").to_owned();
    assert!(template_arn.ends_with(&format!(":experiment-template/{template_id}")));
    assert_eq!(template["tags"], json!({"purpose": "test"}));
    assert_eq!(
        template["actions"]["interrupt"]["parameters"]["durationBeforeInterruption"],
        "PT2M"
    );

    ok(
        &mut c,
        "TagResource",
        json!({"resourceArn": template_arn, "tags": {"team": "spot"}}),
    );
    ok(
        &mut c,
        "UntagResource",
        json!({"resourceArn": template_arn, "tagKeys": ["purpose"]}),
    );
    let tags = ok(
        &mut c,
        "ListTagsForResource",
        json!({"resourceArn": template_arn}),
    );
    assert_eq!(tags["tags"], json!({"team": "spot"}));
    let error = refused(
        &mut c,
        "ListTagsForResource",
        json!({"resourceArn": "arn:aws:fis:us-east-1:000000000000:experiment/EXPnope"}),
    );
    assert_eq!(error.status, 404);

    let mut second = template_input(by_arns(&running), "PT3M");
    second["clientToken"] = json!("token-2");
    ok(&mut c, "CreateExperimentTemplate", second);
    let page = ok(&mut c, "ListExperimentTemplates", json!({"maxResults": 1}));
    assert_eq!(
        page["experimentTemplates"].as_array().map(Vec::len),
        Some(1)
    );
    let token = page["nextToken"].clone();
    assert!(token.is_string());
    let rest = ok(
        &mut c,
        "ListExperimentTemplates",
        json!({"maxResults": 1, "nextToken": token}),
    );
    assert_eq!(
        rest["experimentTemplates"].as_array().map(Vec::len),
        Some(1)
    );
    assert!(rest["nextToken"].is_null());

    let started = ok(
        &mut c,
        "StartExperiment",
        json!({"experimentTemplateId": template_id, "tags": {"run": "1"}}),
    );
    let listed = ok(
        &mut c,
        "ListExperiments",
        json!({"experimentTemplateId": template_id}),
    );
    assert_eq!(listed["experiments"][0]["id"], started["experiment"]["id"]);
    assert_eq!(listed["experiments"][0]["tags"], json!({"run": "1"}));

    let deleted = ok(
        &mut c,
        "DeleteExperimentTemplate",
        json!({"id": template_id}),
    );
    assert_eq!(deleted["experimentTemplate"]["id"], json!(template_id));
    let error = refused(&mut c, "GetExperimentTemplate", json!({"id": template_id}));
    assert_eq!(error.code, "ResourceNotFoundException");
}

#[test]
fn the_same_commands_at_the_same_times_rebuild_the_same_experiments() {
    let run = |steps: &[u64]| {
        let mut c = cloud(13);
        let running = fleet(&mut c, 4);
        let target = json!({
            "resourceType": "aws:ec2:spot-instance",
            "resourceArns": running.iter().map(|id| arn(id)).collect::<Vec<_>>(),
            "selectionMode": "COUNT(2)"
        });
        let id = start(&mut c, template_input(target, "PT4M"));
        let end = c.now() + SimDuration::from_mins(10);
        for step in steps {
            advance(&mut c, SimDuration::from_secs(*step));
        }
        c.advance_to(end);
        let events: Vec<Value> = c.bus().since(0).map(|e| e.event.clone()).collect();
        (experiment(&mut c, &id), events)
    };
    let coarse = run(&[]);
    let fine = run(&[1, 2, 3, 4, 5, 60, 61, 120]);
    assert_eq!(coarse.0["state"]["status"], "completed");
    assert_eq!(coarse, fine, "how finely time is stepped changes nothing");
}
