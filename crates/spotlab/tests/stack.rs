//! `spotlab stack up` / `spotlab stack down` as a user runs them, against a `spotlab up`
//! started by the test (virtual time at scale 60), with the walkthrough's stack file
//! (`examples/walkthrough-stack.toml`). What the commands did is checked through the
//! official SDKs, independently of the command's own output:
//!
//! - `up` creates the VPC, two subnets, the security group and its rule, the launch
//!   template with the file's user data, the two topics, the alarm and the rule with
//!   its target, and prints their ids as JSON;
//! - a second `up` prints the same outputs and creates nothing;
//! - `down` deletes a fleet launched from the stack's template (its instances
//!   terminated), then everything the stack created; a second `down` has nothing to do;
//! - a bad file, an unset placeholder, and a call AWS refuses give errors that name the
//!   file's line, the variable, or the resource and AWS's error code.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use aws_sdk_ec2::types::{
    DefaultTargetCapacityType, Filter, FleetLaunchTemplateConfigRequest,
    FleetLaunchTemplateOverridesRequest, FleetLaunchTemplateSpecificationRequest, FleetType,
    TargetCapacitySpecificationRequest,
};
use base64::Engine as _;
use serde_json::Value;
use support::{Sdk, Up, client, sdk};

const TARGET_URL: &str = "http://127.0.0.1:9/";

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/walkthrough-stack.toml")
}

/// `spotlab stack ACTION FILE --endpoint URL`, with `TARGET_URL` set (unless `target`
/// is `None`) and no AWS credentials in the environment (so the local cloud's dummy ones
/// are used).
fn stack(action: &str, file: &Path, url: &str, target: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_spotlab"));
    command
        .args(["stack", action])
        .arg(file)
        .args(["--endpoint", url, "--wait", "60s"])
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("TARGET_URL");
    if let Some(target) = target {
        command.env("TARGET_URL", target);
    }
    command.output().expect("spotlab stack runs")
}

fn succeeded(what: &str, output: &Output) -> (Value, String) {
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "{what} failed: {stderr}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let outputs = if stdout.trim().is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{what}: {e}: {stdout}"))
    };
    (outputs, stderr)
}

fn failed(what: &str, output: &Output) -> String {
    assert!(!output.status.success(), "{what} should have failed");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn up(state: &Path) -> Up {
    Up::start(
        state,
        &[
            "--listen",
            "127.0.0.1:0",
            "--time-scale",
            "60",
            "--seed",
            "4",
            "--interruption-scale",
            "0",
        ],
    )
}

fn stack_filter() -> Filter {
    Filter::builder()
        .name("tag:spotlab:stack")
        .values("ReInvent-EC2SpotTestDev")
        .build()
}

/// Everything of the stack the services show, as one comparable value: the same
/// before and after a second `up`, empty after `down`.
async fn inventory(sdk: &Sdk) -> Value {
    let vpcs = sdk
        .ec2
        .describe_vpcs()
        .filters(stack_filter())
        .send()
        .await
        .expect("vpcs");
    let subnets = sdk
        .ec2
        .describe_subnets()
        .filters(stack_filter())
        .send()
        .await
        .expect("subnets");
    let groups = sdk
        .ec2
        .describe_security_groups()
        .filters(stack_filter())
        .send()
        .await
        .expect("groups");
    let templates = sdk
        .ec2
        .describe_launch_templates()
        .filters(stack_filter())
        .send()
        .await
        .expect("templates");
    let alarms = sdk
        .cloudwatch
        .describe_alarms()
        .send()
        .await
        .expect("alarms");
    let topics = sdk.sns.list_topics().send().await.expect("topics");
    let subscriptions = sdk
        .sns
        .list_subscriptions()
        .send()
        .await
        .expect("subscriptions");
    let rules = sdk.events.list_rules().send().await.expect("rules");
    let mut targets = Vec::new();
    for rule in rules.rules() {
        let listed = sdk
            .events
            .list_targets_by_rule()
            .rule(rule.name().expect("name"))
            .send()
            .await
            .expect("targets");
        targets.extend(
            listed
                .targets()
                .iter()
                .map(|t| format!("{} {}", t.id(), t.arn())),
        );
    }
    serde_json::json!({
        "vpcs": vpcs.vpcs().iter().map(|v| v.vpc_id()).collect::<Vec<_>>(),
        "subnets": subnets.subnets().iter().map(|s| s.subnet_id()).collect::<Vec<_>>(),
        "groups": groups.security_groups().iter().map(|g| {
            let rules: Vec<String> = g.ip_permissions().iter().map(|p| format!(
                "{} {:?}-{:?} {:?}",
                p.ip_protocol().unwrap_or_default(),
                p.from_port(),
                p.to_port(),
                p.ip_ranges().iter().map(|r| r.cidr_ip()).collect::<Vec<_>>()
            )).collect();
            serde_json::json!([g.group_id(), g.group_name(), rules])
        }).collect::<Vec<_>>(),
        "templates": templates.launch_templates().iter().map(|t| serde_json::json!([
            t.launch_template_id(), t.launch_template_name(), t.latest_version_number()
        ])).collect::<Vec<_>>(),
        "alarms": alarms.metric_alarms().iter().map(|a| a.alarm_arn()).collect::<Vec<_>>(),
        "topics": topics.topics().iter().map(|t| t.topic_arn()).collect::<Vec<_>>(),
        "subscriptions": subscriptions.subscriptions().len(),
        "rules": rules.rules().iter().map(|r| r.arn()).collect::<Vec<_>>(),
        "targets": targets,
    })
}

fn text(value: &Value) -> &str {
    value
        .as_str()
        .unwrap_or_else(|| panic!("not a string: {value}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_walkthrough_stack_up_twice_then_down_twice() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cloud = up(&dir.path().join("cloud"));
    let sdk = sdk(&cloud.url);
    let file = example();

    // --- up: everything is created, and the outputs say where ---------------------
    let (outputs, _) = succeeded(
        "stack up",
        &stack("up", &file, &cloud.url, Some(TARGET_URL)),
    );
    assert_eq!(outputs["StackName"], "ReInvent-EC2SpotTestDev");
    let vpc_id = text(&outputs["VpcId"]).to_owned();
    assert!(vpc_id.starts_with("vpc-"), "{outputs}");
    let zones: Vec<&str> = outputs["Subnets"]
        .as_array()
        .expect("subnets")
        .iter()
        .map(|s| text(&s["AvailabilityZone"]))
        .collect();
    assert_eq!(zones, ["us-east-1a", "us-east-1b"]);
    let subnet_ids: Vec<String> = outputs["SubnetIds"]
        .as_array()
        .expect("subnet ids")
        .iter()
        .map(|s| text(s).to_owned())
        .collect();
    assert_eq!(subnet_ids.len(), 2);
    let template = &outputs["LaunchTemplate"];
    let template_id = text(&template["LaunchTemplateId"]).to_owned();
    assert_eq!(
        template["LaunchTemplateName"],
        "ReInvent-EC2SpotTestDev-TestAsgTemplate"
    );
    assert_eq!(template["DefaultVersionNumber"], 1);
    let alarm_topic =
        text(&outputs["TopicArns"]["ReInvent-EC2SpotTestDev-TestFailureAlarmTopic"]).to_owned();
    let spot_topic =
        text(&outputs["TopicArns"]["ReInvent-EC2SpotTestDev-SpotInterruptionTopic"]).to_owned();
    assert_eq!(
        outputs["AlarmArns"]["ReInvent-EC2SpotTestDev-Alarm"],
        "arn:aws:cloudwatch:us-east-1:000000000000:alarm:ReInvent-EC2SpotTestDev-Alarm"
    );
    assert_eq!(
        outputs["RuleArns"]["ReInvent-EC2SpotTestDev-SpotInterruptionRule"],
        "arn:aws:events:us-east-1:000000000000:rule/ReInvent-EC2SpotTestDev-SpotInterruptionRule"
    );

    // What the services show, read with the SDKs.
    let vpcs = sdk
        .ec2
        .describe_vpcs()
        .vpc_ids(&vpc_id)
        .send()
        .await
        .expect("vpc");
    assert_eq!(vpcs.vpcs()[0].cidr_block(), Some("10.0.0.0/16"));
    let subnets = sdk
        .ec2
        .describe_subnets()
        .set_subnet_ids(Some(subnet_ids.clone()))
        .send()
        .await
        .expect("subnets");
    let mut blocks: Vec<_> = subnets
        .subnets()
        .iter()
        .map(|s| (s.cidr_block().expect("block"), s.vpc_id().expect("vpc")))
        .collect();
    blocks.sort();
    assert_eq!(
        blocks,
        [
            ("10.0.1.0/24", vpc_id.as_str()),
            ("10.0.2.0/24", vpc_id.as_str())
        ]
    );
    let group_id = text(&outputs["SecurityGroupId"]).to_owned();
    let groups = sdk
        .ec2
        .describe_security_groups()
        .group_ids(&group_id)
        .send()
        .await
        .expect("group");
    let group = &groups.security_groups()[0];
    assert_eq!(group.group_name(), Some("ReInvent-EC2SpotTestDev-TestSg"));
    let ssh = &group.ip_permissions()[0];
    assert_eq!(
        (ssh.ip_protocol(), ssh.from_port(), ssh.to_port()),
        (Some("tcp"), Some(22), Some(22))
    );
    let versions = sdk
        .ec2
        .describe_launch_template_versions()
        .launch_template_id(&template_id)
        .send()
        .await
        .expect("versions");
    let [version] = versions.launch_template_versions() else {
        panic!("one version: {versions:?}");
    };
    let data = version.launch_template_data().expect("data");
    assert_eq!(data.image_id(), Some("ami-0ff8a91507f77f867"));
    assert_eq!(data.security_group_ids(), [group_id.as_str()]);
    let user_data = base64::engine::general_purpose::STANDARD
        .decode(data.user_data().expect("user data"))
        .expect("base64");
    assert_eq!(
        String::from_utf8(user_data).expect("utf-8"),
        format!(
            // ${AGENT_ARGS:-} is unset here: nothing after the report endpoint.
            "#!/bin/sh\nexec spotlab agent --url \"{TARGET_URL}\" --report \"$AWS_ENDPOINT_URL\" \n"
        )
    );
    let instance_tags = &data.tag_specifications()[0];
    assert_eq!(
        instance_tags.resource_type().map(|r| r.as_str()),
        Some("instance")
    );
    let alarms = sdk
        .cloudwatch
        .describe_alarms()
        .alarm_names("ReInvent-EC2SpotTestDev-Alarm")
        .send()
        .await
        .expect("alarms");
    let alarm = &alarms.metric_alarms()[0];
    assert_eq!(alarm.threshold(), Some(0.1));
    assert_eq!(alarm.period(), Some(60));
    assert_eq!(alarm.treat_missing_data(), Some("ignore"));
    assert_eq!(alarm.alarm_actions(), [alarm_topic.as_str()]);
    let targets = sdk
        .events
        .list_targets_by_rule()
        .rule("ReInvent-EC2SpotTestDev-SpotInterruptionRule")
        .send()
        .await
        .expect("targets");
    assert_eq!(targets.targets()[0].arn(), spot_topic);
    let first = inventory(&sdk).await;
    assert_eq!(first["topics"].as_array().map(Vec::len), Some(2), "{first}");

    // --- up again: the same outputs, nothing new --------------------------------------
    let (again, stderr) = succeeded(
        "second stack up",
        &stack("up", &file, &cloud.url, Some(TARGET_URL)),
    );
    assert_eq!(again, outputs);
    assert!(!stderr.contains("created"), "{stderr}");
    assert_eq!(inventory(&sdk).await, first);

    // --- a fleet from the stack's template, then down -------------------------------
    let fleet = sdk
        .ec2
        .create_fleet()
        .r#type(FleetType::Maintain)
        .target_capacity_specification(
            TargetCapacitySpecificationRequest::builder()
                .total_target_capacity(2)
                .default_target_capacity_type(DefaultTargetCapacityType::Spot)
                .build(),
        )
        .launch_template_configs(
            FleetLaunchTemplateConfigRequest::builder()
                .launch_template_specification(
                    FleetLaunchTemplateSpecificationRequest::builder()
                        .launch_template_id(&template_id)
                        .version("1")
                        .build(),
                )
                .overrides(
                    FleetLaunchTemplateOverridesRequest::builder()
                        .instance_type("t2.small".into())
                        .subnet_id(&subnet_ids[0])
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .expect("fleet");
    let fleet_id = fleet.fleet_id().expect("fleet id").to_owned();
    let by_fleet = Filter::builder()
        .name("tag:aws:ec2:fleet-id")
        .values(&fleet_id)
        .build();
    let mut launched = Vec::new();
    for _ in 0..500 {
        let found = sdk
            .ec2
            .describe_instances()
            .filters(by_fleet.clone())
            .send()
            .await
            .expect("instances");
        launched = found
            .reservations()
            .iter()
            .flat_map(|r| r.instances())
            .filter_map(|i| i.instance_id().map(str::to_owned))
            .collect();
        if launched.len() == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(launched.len(), 2, "the fleet launched its instances");

    let (_, stderr) = succeeded("stack down", &stack("down", &file, &cloud.url, None));
    assert!(
        stderr.contains(&format!("deleted fleet(s) {fleet_id}")),
        "{stderr}"
    );
    let fleets = sdk
        .ec2
        .describe_fleets()
        .fleet_ids(&fleet_id)
        .send()
        .await
        .expect("fleets");
    let state = fleets.fleets()[0]
        .fleet_state()
        .map(|s| s.as_str().to_owned());
    assert!(
        matches!(state.as_deref(), Some("deleted" | "deleted_terminating")),
        "{state:?}"
    );
    let instances = sdk
        .ec2
        .describe_instances()
        .filters(by_fleet.clone())
        .send()
        .await
        .expect("instances");
    let states: Vec<_> = instances
        .reservations()
        .iter()
        .flat_map(|r| r.instances())
        .map(|i| {
            i.state()
                .and_then(|s| s.name())
                .map(|n| n.as_str().to_owned())
        })
        .collect();
    assert_eq!(
        states,
        [Some("terminated".to_owned()), Some("terminated".to_owned())]
    );
    let empty = serde_json::json!({
        "vpcs": [], "subnets": [], "groups": [], "templates": [], "alarms": [],
        "topics": [], "subscriptions": 0, "rules": [], "targets": [],
    });
    assert_eq!(inventory(&sdk).await, empty);

    // --- down again: nothing to do ----------------------------------------------------
    let (_, stderr) = succeeded("second stack down", &stack("down", &file, &cloud.url, None));
    assert!(!stderr.contains("deleted"), "{stderr}");
    assert_eq!(inventory(&sdk).await, empty);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_files_and_refused_calls_are_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cloud = up(&dir.path().join("cloud"));
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).expect("write");
        path
    };

    let missing = failed(
        "a missing file",
        &stack("up", &dir.path().join("nope.toml"), &cloud.url, None),
    );
    assert!(
        missing.contains("cannot read the stack file") && missing.contains("nope.toml"),
        "{missing}"
    );

    let typo = write(
        "typo.toml",
        "name = \"s\"\n\n[vpc]\nCidrBlok = \"10.0.0.0/16\"\n",
    );
    let error = failed("a misspelt key", &stack("up", &typo, &cloud.url, None));
    assert!(
        error.contains("typo.toml") && error.contains("line 4") && error.contains("CidrBlok"),
        "{error}"
    );

    let error = failed(
        "an unset placeholder",
        &stack("up", &example(), &cloud.url, None),
    );
    assert!(error.contains("${TARGET_URL} is not set"), "{error}");

    let dangling = write(
        "dangling.toml",
        "name = \"s\"\n[[alarms]]\nAlarmName = \"a\"\nNamespace = \"n\"\nMetricName = \"m\"\n\
         Statistic = \"Average\"\nPeriod = 60\nEvaluationPeriods = 1\nThreshold = 1\n\
         ComparisonOperator = \"GreaterThanThreshold\"\nAlarmActions = [\"alarms\"]\n",
    );
    let error = failed(
        "an unknown topic",
        &stack("up", &dangling, &cloud.url, None),
    );
    assert!(
        error.contains("alarm a") && error.contains("\"alarms\" is neither a topic"),
        "{error}"
    );

    // The local cloud refuses a subnet outside its VPC with EC2's code.
    let outside = write(
        "outside.toml",
        "name = \"outside\"\n[vpc]\nCidrBlock = \"10.0.0.0/16\"\n[[subnets]]\n\
         CidrBlock = \"10.1.0.0/24\"\nAvailabilityZone = \"us-east-1a\"\n",
    );
    let error = failed(
        "a subnet outside the VPC",
        &stack("up", &outside, &cloud.url, None),
    );
    assert!(
        error.contains("stack outside")
            && error.contains("creating the subnet 10.1.0.0/24 in us-east-1a")
            && error.contains("InvalidSubnet.Range"),
        "{error}"
    );
    // What it created before the refusal goes with `down`.
    succeeded(
        "down after a failed up",
        &stack("down", &outside, &cloud.url, None),
    );
    let vpcs = client(&cloud.url)
        .describe_vpcs()
        .filters(
            Filter::builder()
                .name("tag:spotlab:stack")
                .values("outside")
                .build(),
        )
        .send()
        .await
        .expect("vpcs");
    assert!(vpcs.vpcs().is_empty(), "{vpcs:?}");

    // Nothing listening: the endpoint is named.
    let error = failed(
        "no cloud",
        &stack("up", &outside, "http://127.0.0.1:9", None),
    );
    assert!(error.contains("http://127.0.0.1:9"), "{error}");
}
