//! The AWS path (`spotlab stack`, `spotlab ec2` and `spotlab cleanup`, on the official
//! SDKs) as a user runs it, with the same test code against two endpoints:
//!
//! - the local cloud (`spotlab up`, started by the test on loopback);
//! - moto's server (PyPI `moto[server]`, in the virtual environment
//!   `scripts/python-env.sh` makes, started by the test on loopback), standing in for
//!   AWS: every command runs with `--aws`, as on AWS, and finds moto through
//!   `AWS_ENDPOINT_URL`. moto's CloudWatch does not speak aws-sdk-rust's RPC v2 CBOR, so CloudWatch's
//!   calls go through `support/cbor_bridge.rs`, which re-encodes them as AWS JSON 1.0;
//!   moto answers ModifyFleet and DescribeFleetHistory with an internal error, so those
//!   two run on the local cloud only.
//!
//! The walkthrough's whole stack (`examples/aws-stack.toml`: network, launch template,
//! role and instance profile, bucket with the agent's binary, topics, alarm, rule),
//! priced first with `--dry-run`; the reference fleet from its CLI JSON (`ec2
//! create-fleet --cli-input-json file://...`), the describe calls in JSON, text and
//! table output, delete-fleets; a second fleet left running for `cleanup`, which finds
//! the stack by its tag; `up` again and `stack down`. After each teardown, the SDKs see
//! nothing tagged with the stack.

// Helpers here are not #[test] functions, where clippy allows unwrap already.
#![allow(clippy::unwrap_used)]

#[path = "support/cbor_bridge.rs"]
mod cbor_bridge;
mod support;
#[path = "support/tagged.rs"]
mod tagged;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use cbor_bridge::Bridge;
use serde_json::Value;
use support::moto::Moto;
use support::{Up, json, stdout};

/// Where the calls go.
struct Endpoints {
    /// Every service's endpoint.
    all: String,
    /// CloudWatch's, when elsewhere.
    cloudwatch: Option<String>,
    /// Whether the endpoint serves ModifyFleet and DescribeFleetHistory.
    fleet_changes: bool,
    /// Whether the commands run with `--aws` (the standard chain, which reads the
    /// endpoints from `AWS_ENDPOINT_URL*`), as a user on AWS runs them.
    aws: bool,
}

/// The checkpoint bucket of the stack the tests make.
const BUCKET: &str = "spotlab-test-checkpoints";

/// The stack's name in `examples/aws-stack.toml`.
const STACK: &str = "ReInvent-EC2SpotTestDev";

/// What is tagged with the stack at these endpoints, through the SDKs.
fn leftovers(endpoints: &Endpoints) -> Vec<String> {
    runtime().block_on(async {
        tagged::Clients::new(Some(&endpoints.all), endpoints.cloudwatch.as_deref())
            .await
            .leftovers(STACK)
            .await
    })
}

/// What `up` puts in the bucket for the instances to install: a stand-in for
/// spotlab's binary, small enough to keep the tests quick.
fn stand_in_agent(dir: &Path) -> std::path::PathBuf {
    let agent = dir.join("agent-binary");
    std::fs::write(&agent, STAND_IN).expect("writing a test file");
    agent
}

/// The stand-in's bytes.
const STAND_IN: &[u8] = b"#!/bin/sh\necho spotlab stand-in\n";

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// `spotlab ARGS` against `endpoint`, with dummy credentials.
fn spotlab(endpoints: &Endpoints, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_spotlab"));
    if let Some(cloudwatch) = &endpoints.cloudwatch {
        command.env("AWS_ENDPOINT_URL_CLOUDWATCH", cloudwatch);
    } else {
        command.env_remove("AWS_ENDPOINT_URL_CLOUDWATCH");
    }
    command.args(args);
    if endpoints.aws {
        command.arg("--aws");
    }
    command
        .env("AWS_ENDPOINT_URL", &endpoints.all)
        .env("AWS_ACCESS_KEY_ID", "spotlab")
        .env("AWS_SECRET_ACCESS_KEY", "spotlab")
        .env("TARGET_URL", "http://127.0.0.1:9/")
        .env("CHECKPOINT_BUCKET", BUCKET)
        .env_remove("AWS_PROFILE")
        .output()
        .expect("running spotlab")
}

fn local_cloud(state: &Path) -> Up {
    Up::start(
        state,
        &[
            "--listen",
            "127.0.0.1:0",
            "--time-scale",
            "20",
            "--seed",
            "11",
            "--interruption-scale",
            "0",
        ],
    )
}

#[test]
fn the_reference_fleet_on_the_local_cloud() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut up = local_cloud(&dir.path().join("state"));
    let endpoints = Endpoints {
        all: up.url.clone(),
        cloudwatch: None,
        fleet_changes: true,
        aws: false,
    };
    the_reference_fleet(&endpoints, dir.path());
    up.stop();
}

#[test]
fn the_reference_fleet_on_moto() {
    let Some(moto) = Moto::start() else { return };
    // moto's CloudWatch speaks AWS JSON, not aws-sdk-rust's RPC v2 CBOR: the bridge
    // translates.
    let bridge = Bridge::start(&moto.url);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let endpoints = Endpoints {
        all: moto.url.clone(),
        cloudwatch: Some(bridge.url.clone()),
        fleet_changes: false,
        aws: true,
    };
    the_reference_fleet(&endpoints, dir.path());
    drop(bridge);
    drop(moto);
}

/// The agent's checkpoint in S3 (moto's), through object_store: the bucket is made
/// with the AWS CLI, the agent runs against `spotlab target`, and the checkpoint read
/// back holds every request it made.
#[test]
fn the_agents_checkpoint_lands_in_s3() {
    let Some(moto) = Moto::start() else { return };
    let url = moto.url.clone();
    let aws = moto.bin.join("aws");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let cli = |args: &[&str]| {
        let output = Command::new(&aws)
            .args(["--endpoint-url", &url, "--region", "us-east-1"])
            .args(args)
            .env("AWS_ACCESS_KEY_ID", "spotlab")
            .env("AWS_SECRET_ACCESS_KEY", "spotlab")
            .output()
            .expect("the AWS CLI runs");
        assert!(
            output.status.success(),
            "aws {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    cli(&["s3api", "create-bucket", "--bucket", "spotlab-checkpoints"]);

    let mut target = Command::new(env!("CARGO_BIN_EXE_spotlab"))
        .args(["target", "--listen", "127.0.0.1:0", "--time-scale", "20"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spotlab target starts");
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(target.stdout.take().expect("a piped stream")),
        &mut line,
    )
    .expect("spotlab target prints its address");
    let target_url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("spotlab target printed {line:?}"))
        .to_owned();
    let agent = Command::new(env!("CARGO_BIN_EXE_spotlab"))
        .args([
            "agent",
            "--url",
            &target_url,
            "--callers",
            "2",
            "--duration",
            "10s",
            "--imds",
            "off",
            "--time-scale",
            "20",
            "--instance-id",
            "i-0123456789abcdef0",
            "--report",
            &dir.path().join("reports.jsonl").display().to_string(),
            "--checkpoint",
            "s3://spotlab-checkpoints/runs/",
        ])
        .env("AWS_ENDPOINT_URL", &url)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "spotlab")
        .env("AWS_SECRET_ACCESS_KEY", "spotlab")
        .current_dir(dir.path())
        .output()
        .expect("spotlab agent runs");
    let _ = target.kill();
    let _ = target.wait();
    assert!(
        agent.status.success(),
        "{}",
        String::from_utf8_lossy(&agent.stderr)
    );
    let listing = cli(&[
        "s3api",
        "list-objects-v2",
        "--bucket",
        "spotlab-checkpoints",
        "--prefix",
        "runs/i-0123456789abcdef0/",
        "--query",
        "Contents[].Key",
        "--output",
        "text",
    ]);
    let key = listing
        .split_whitespace()
        .next()
        .unwrap_or_else(|| panic!("no checkpoint in the bucket: {listing:?}"));
    let copy = dir.path().join("checkpoint.json");
    cli(&[
        "s3",
        "cp",
        &format!("s3://spotlab-checkpoints/{key}"),
        &copy.display().to_string(),
    ]);
    let checkpoint: Value =
        serde_json::from_slice(&std::fs::read(&copy).expect("the file is there"))
            .expect("valid JSON");
    assert_eq!(checkpoint["totals"]["sent"], 20, "{checkpoint}");
    assert_eq!(checkpoint["source"]["instance_id"], "i-0123456789abcdef0");
    drop(moto);
}

fn the_reference_fleet(url: &Endpoints, dir: &Path) {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let stack_file = examples.join("aws-stack.toml");
    let stack_file = stack_file.to_str().expect("a UTF-8 path");
    let agent = stand_in_agent(dir);
    let agent = agent.to_str().expect("a UTF-8 path");

    let plan = stdout(
        "stack up --dry-run",
        &spotlab(
            url,
            &[
                "stack",
                "up",
                stack_file,
                "--dry-run",
                "--fleet",
                examples
                    .join("reference-fleet.json")
                    .to_str()
                    .expect("a UTF-8 path"),
            ],
        ),
    );
    for what in [
        "IAM role /spotlab/ReInvent-EC2SpotTestDev-InstanceRole",
        "S3 bucket spotlab-test-checkpoints",
        "t2.small",
        "allowed",
    ] {
        assert!(plan.contains(what), "{what} not in\n{plan}");
    }
    assert!(leftovers(url).is_empty(), "a dry run created something");

    let outputs = json(
        "stack up",
        &spotlab(url, &["stack", "up", stack_file, "--agent-binary", agent]),
    );
    let profile_arn = outputs["InstanceProfile"]["InstanceProfileArn"]
        .as_str()
        .expect("an instance profile ARN")
        .to_owned();
    assert!(
        profile_arn.ends_with(":instance-profile/spotlab/ReInvent-EC2SpotTestDev-InstanceProfile"),
        "{profile_arn}"
    );
    assert_eq!(
        outputs["Bucket"]["AgentObject"],
        "s3://spotlab-test-checkpoints/bin/spotlab"
    );
    // A second `up` changes nothing and answers the same.
    let again = json(
        "stack up again",
        &spotlab(url, &["stack", "up", stack_file, "--agent-binary", agent]),
    );
    assert_eq!(again, outputs);
    runtime().block_on(async {
        let clients = tagged::Clients::new(Some(&url.all), url.cloudwatch.as_deref()).await;
        let object = clients
            .s3()
            .get_object()
            .bucket(BUCKET)
            .key("bin/spotlab")
            .send()
            .await
            .expect("the agent binary is in the bucket");
        let body = object.body.collect().await.expect("its body").into_bytes();
        assert_eq!(&body[..], STAND_IN);
        let versions = clients
            .ec2()
            .describe_launch_template_versions()
            .launch_template_name("ReInvent-EC2SpotTestDev-TestAsgTemplate")
            .versions("$Default")
            .send()
            .await
            .expect("DescribeLaunchTemplateVersions");
        let data = versions.launch_template_versions()[0]
            .launch_template_data()
            .expect("the version's data");
        assert_eq!(
            data.iam_instance_profile().and_then(|p| p.arn()),
            Some(profile_arn.as_str())
        );
    });
    let mut left = leftovers(url);
    left.sort();
    for what in [
        "VPC",
        "subnet",
        "security group",
        "launch template",
        "topic",
        "alarm",
        "rule",
        "role",
        "instance profile",
        "bucket",
    ] {
        assert!(
            left.iter().any(|l| l.starts_with(what)),
            "no {what} tagged with the stack: {left:?}"
        );
    }

    let template = outputs["LaunchTemplate"]["LaunchTemplateId"]
        .as_str()
        .expect("a launch template id");
    let subnets: Vec<&str> = outputs["SubnetIds"]
        .as_array()
        .expect("SubnetIds is a list")
        .iter()
        .map(|s| s.as_str().expect("a JSON string"))
        .collect();
    let request: String = std::fs::read_to_string(examples.join("reference-fleet.json"))
        .expect("the example fleet request is there")
        .replace("${LAUNCH_TEMPLATE_ID}", template)
        .replace("${SUBNET_ID_1}", subnets[0])
        .replace("${SUBNET_ID_2}", subnets[1]);
    let request_file = dir.join("create_fleet.json");
    std::fs::write(&request_file, &request).expect("writing a test file");

    let created = json(
        "create-fleet",
        &spotlab(
            url,
            &[
                "ec2",
                "create-fleet",
                "--cli-input-json",
                &format!("file://{}", request_file.display()),
            ],
        ),
    );
    let fleet = created["FleetId"].as_str().expect("a fleet id").to_owned();

    // Fulfilled, as describe-fleets --output text shows it.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let described = json(
            "describe-fleets",
            &spotlab(url, &["ec2", "describe-fleets", "--fleet-ids", &fleet]),
        );
        let f = &described["Fleets"][0];
        if f["FulfilledCapacity"].as_f64() == Some(4.0) {
            assert_eq!(f["FleetState"], "active");
            assert_eq!(f["TargetCapacitySpecification"]["TotalTargetCapacity"], 4);
            break;
        }
        assert!(Instant::now() < deadline, "never fulfilled: {described}");
        std::thread::sleep(Duration::from_millis(200));
    }
    let text = stdout(
        "describe-fleets --output text",
        &spotlab(
            url,
            &[
                "ec2",
                "describe-fleets",
                "--fleet-ids",
                &fleet,
                "--output",
                "text",
            ],
        ),
    );
    let line = text
        .lines()
        .find(|l| l.starts_with("FLEETS\t"))
        .unwrap_or_else(|| panic!("no FLEETS line in {text}"));
    assert!(
        line.contains(&fleet) && line.contains("\tactive\t"),
        "{line}"
    );

    let instances = json(
        "describe-fleet-instances",
        &spotlab(
            url,
            &["ec2", "describe-fleet-instances", "--fleet-id", &fleet],
        ),
    );
    let ids: Vec<&str> = instances["ActiveInstances"]
        .as_array()
        .expect("ActiveInstances is a list")
        .iter()
        .map(|i| i["InstanceId"].as_str().expect("a JSON string"))
        .collect();
    assert!(!ids.is_empty());

    let table = stdout(
        "describe-instances --output table",
        &spotlab(
            url,
            &[
                "ec2",
                "describe-instances",
                "--filters",
                "Name=instance-state-name,Values=pending,running",
                "--output",
                "table",
            ],
        ),
    );
    for id in &ids {
        assert!(table.contains(id), "{id} not in\n{table}");
    }
    // Every instance launched from the stack's template carries the stack's tag.
    let tagged = json(
        "describe-instances by the stack's tag",
        &spotlab(
            url,
            &[
                "ec2",
                "describe-instances",
                "--filters",
                "Name=tag:spotlab:stack,Values=ReInvent-EC2SpotTestDev",
            ],
        ),
    );
    let tagged = tagged.to_string();
    for id in &ids {
        assert!(
            tagged.contains(id),
            "{id} is not tagged with the stack: {tagged}"
        );
    }

    let prices = json(
        "describe-spot-price-history",
        &spotlab(
            url,
            &[
                "ec2",
                "describe-spot-price-history",
                "--instance-types",
                "t2.small",
                "--availability-zone",
                "us-east-1a",
                "--max-items",
                "3",
            ],
        ),
    );
    let prices = prices["SpotPriceHistory"].as_array().expect("a JSON array");
    assert!(!prices.is_empty() && prices.len() <= 3);
    assert_eq!(prices[0]["InstanceType"], "t2.small");

    if url.fleet_changes {
        let history = json(
            "describe-fleet-history",
            &spotlab(
                url,
                &[
                    "ec2",
                    "describe-fleet-history",
                    "--fleet-id",
                    &fleet,
                    "--start-time",
                    "2000-01-01T00:00:00Z",
                ],
            ),
        );
        assert!(
            !history["HistoryRecords"]
                .as_array()
                .expect("a JSON array")
                .is_empty()
        );

        let modified = json(
            "modify-fleet",
            &spotlab(
                url,
                &[
                    "ec2",
                    "modify-fleet",
                    "--fleet-id",
                    &fleet,
                    "--target-capacity-specification",
                    "TotalTargetCapacity=2",
                ],
            ),
        );
        assert_eq!(modified["Return"], true);
    }

    let deleted = json(
        "delete-fleets",
        &spotlab(
            url,
            &[
                "ec2",
                "delete-fleets",
                "--fleet-ids",
                &fleet,
                "--terminate-instances",
            ],
        ),
    );
    assert_eq!(
        deleted["SuccessfulFleetDeletions"][0]["FleetId"],
        fleet.as_str()
    );

    // A bad request names what is wrong.
    std::fs::write(&request_file, r#"{"Bogus": 1}"#).expect("writing a test file");
    let bad = spotlab(
        url,
        &[
            "ec2",
            "create-fleet",
            "--cli-input-json",
            &format!("file://{}", request_file.display()),
        ],
    );
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("Bogus"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );

    // A second fleet left running: cleanup finds the stack by its tag and deletes
    // the fleet (and its instances) first, then the network.
    std::fs::write(&request_file, &request).expect("writing a test file");
    let second = json(
        "create-fleet",
        &spotlab(
            url,
            &[
                "ec2",
                "create-fleet",
                "--cli-input-json",
                &format!("file://{}", request_file.display()),
            ],
        ),
    );
    let second = second["FleetId"]
        .as_str()
        .expect("a JSON string")
        .to_owned();
    let cleaned = spotlab(url, &["cleanup", "--wait", "60s"]);
    stdout("cleanup", &cleaned);
    let said = String::from_utf8_lossy(&cleaned.stderr);
    assert!(
        said.contains("ReInvent-EC2SpotTestDev: cleaned up"),
        "{said}"
    );
    let fleets = json(
        "describe-fleets",
        &spotlab(url, &["ec2", "describe-fleets", "--fleet-ids", &second]),
    );
    assert!(
        fleets["Fleets"][0]["FleetState"]
            .as_str()
            .is_some_and(|s| s.starts_with("deleted")),
        "{fleets}"
    );
    assert_eq!(leftovers(url), Vec::<String>::new(), "cleanup left these");

    // With the file, `down` deletes what `up` made.
    json(
        "stack up",
        &spotlab(url, &["stack", "up", stack_file, "--agent-binary", agent]),
    );
    stdout("stack down", &spotlab(url, &["stack", "down", stack_file]));
    assert_eq!(
        leftovers(url),
        Vec::<String>::new(),
        "stack down left these"
    );
    let again = spotlab(url, &["stack", "cleanup"]);
    stdout("stack cleanup again", &again);
    let said = String::from_utf8_lossy(&again.stderr);
    assert!(said.contains("no stack found"), "{said}");
    let left = json(
        "describe-instances",
        &spotlab(
            url,
            &[
                "ec2",
                "describe-instances",
                "--filters",
                "Name=instance-state-name,Values=pending,running,shutting-down",
            ],
        ),
    );
    assert_eq!(left["Reservations"], serde_json::json!([]), "{left}");
}

/// `spotlab run --aws` with moto standing in for AWS (`AWS_ENDPOINT_URL`, CloudWatch
/// through the CBOR bridge): the whole stack is made, the fleet created and seen
/// fulfilled, a message published to a topic meanwhile is counted through the run's
/// SQS queue, an `interrupt` step starts a Fault Injection Service experiment (moto
/// records it; it interrupts nothing), the fleet is deleted, and when the run ends
/// nothing of it is left: no stack resource, no experiment template, no queue.
#[test]
fn a_run_on_aws_counts_notifications_and_leaves_nothing() {
    let Some(moto) = Moto::start() else { return };
    let bridge = Bridge::start(&moto.url);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let scenario = dir.path().join("aws-smoke.toml");
    std::fs::write(
        &scenario,
        format!(
            r#"name = "aws-smoke"
[target]
url = "http://127.0.0.1:9/"
[stack]
file = "{stack}"
[fleet]
file = "{fleet}"
[[steps]]
phase = "4 units"
do = "create-fleet"
[[steps]]
do = "wait-fulfilled"
timeout = "2m"
expect = {{ capacity = 4 }}
[[steps]]
do = "hold"
duration = "12s"
expect = {{ notifications = [{{ topic = "ReInvent-EC2SpotTestDev-SpotInterruptionTopic", count = 1 }}, {{ topic = "ReInvent-EC2SpotTestDev-TestFailureAlarmTopic", count = 0 }}] }}
[[steps]]
do = "interrupt"
count = 1
[[steps]]
phase = "teardown"
do = "delete-fleet"
"#,
            stack = examples.join("aws-stack.toml").display(),
            fleet = examples.join("reference-fleet.json").display(),
        ),
    )
    .expect("writing the scenario");
    let agent = stand_in_agent(dir.path());
    let out = dir.path().join("run");
    let run = Command::new(env!("CARGO_BIN_EXE_spotlab"))
        .args(["run", "--aws", "--quiet", "--max-instances", "8", "--out"])
        .arg(&out)
        .arg("--agent-binary")
        .arg(&agent)
        .arg(&scenario)
        .env("AWS_ENDPOINT_URL", &moto.url)
        .env("AWS_ENDPOINT_URL_CLOUDWATCH", &bridge.url)
        .env("AWS_ACCESS_KEY_ID", "spotlab")
        .env("AWS_SECRET_ACCESS_KEY", "spotlab")
        .env("AWS_REGION", "us-east-1")
        .env("CHECKPOINT_BUCKET", BUCKET)
        .env_remove("AWS_PROFILE")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spotlab run starts");

    // Once the run has subscribed its queue, a message on the interruption topic.
    runtime().block_on(async {
        let config = tagged::config(Some(&moto.url)).await;
        let sns = aws_sdk_sns::Client::new(&config);
        let deadline = Instant::now() + Duration::from_secs(60);
        let topic = loop {
            let topics = sns.list_topics().send().await.expect("ListTopics");
            let mut found = None;
            for topic in topics.topics() {
                let arn = topic.topic_arn().unwrap_or_default();
                if !arn.ends_with(":ReInvent-EC2SpotTestDev-SpotInterruptionTopic") {
                    continue;
                }
                let subscriptions = sns
                    .list_subscriptions_by_topic()
                    .topic_arn(arn)
                    .send()
                    .await
                    .expect("ListSubscriptionsByTopic");
                if subscriptions
                    .subscriptions()
                    .iter()
                    .any(|s| s.protocol() == Some("sqs"))
                {
                    found = Some(arn.to_owned());
                }
            }
            if let Some(arn) = found {
                break arn;
            }
            assert!(Instant::now() < deadline, "the run never subscribed a queue");
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        sns.publish()
            .topic_arn(&topic)
            .message(r#"{"detail-type":"EC2 Spot Instance Interruption Warning","detail":{"instance-id":"i-0123456789abcdef0"}}"#)
            .send()
            .await
            .expect("Publish");
    });
    let finished = run.wait_with_output().expect("spotlab run finishes");
    let said = String::from_utf8_lossy(&finished.stdout);
    assert!(
        finished.status.success(),
        "spotlab run --aws failed:\n{said}\n{}",
        String::from_utf8_lossy(&finished.stderr)
    );
    assert!(out.join("report.html").is_file());
    // The interrupt step went through Fault Injection Service.
    let told = format!("{said}{}", String::from_utf8_lossy(&finished.stderr));
    assert!(
        told.contains("Fault Injection Service experiment"),
        "{told}"
    );
    let endpoints = Endpoints {
        all: moto.url.clone(),
        cloudwatch: Some(bridge.url.clone()),
        fleet_changes: false,
        aws: true,
    };
    assert_eq!(
        leftovers(&endpoints),
        Vec::<String>::new(),
        "the run left these"
    );
    let queues = runtime().block_on(async {
        let config = tagged::config(Some(&moto.url)).await;
        aws_sdk_sqs::Client::new(&config)
            .list_queues()
            .send()
            .await
            .expect("ListQueues")
            .queue_urls()
            .to_vec()
    });
    assert_eq!(queues, Vec::<String>::new(), "the run left its queues");
}

/// The scenario a user runs on AWS, run on the local cloud instead: the same stack file
/// (`examples/aws-stack.toml`: role, instance profile, bucket, fault-injection role),
/// agents reporting natively and checkpointing to the local cloud's S3, and an
/// `interrupt` step through the local cloud's Fault Injection Service, as on AWS. The
/// interrupted instance's notice reaches the interruption topic, its agent drains and
/// its checkpoint comes back from the bucket.
#[test]
fn the_aws_scenario_runs_on_the_local_cloud_with_fis() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let scenario = dir.path().join("aws-on-local.toml");
    std::fs::write(
        &scenario,
        format!(
            r#"name = "aws-on-local"
time_scale = 20
seed = 11
[target]
rate = 5
[stack]
file = "{stack}"
[fleet]
file = "{fleet}"
[agent]
rate = 1.0
drain_before = "20s"
[[steps]]
phase = "4 units"
do = "create-fleet"
[[steps]]
do = "wait-fulfilled"
timeout = "5m"
expect = {{ capacity = 4 }}
[[steps]]
do = "hold"
duration = "1m"
[[steps]]
phase = "interruption"
do = "interrupt"
count = 1
[[steps]]
do = "wait-replenished"
timeout = "6m"
[[steps]]
do = "hold"
duration = "1m"
expect = {{ interruptions = [1, 1], all_drained = true, notifications = [{{ topic = "ReInvent-EC2SpotTestDev-SpotInterruptionTopic", count = "per-interruption" }}] }}
[[steps]]
phase = "teardown"
do = "delete-fleet"
"#,
            stack = examples.join("aws-stack.toml").display(),
            fleet = examples.join("reference-fleet.json").display(),
        ),
    )
    .expect("writing the scenario");
    let agent = stand_in_agent(dir.path());
    let out = dir.path().join("run");
    let run = Command::new(env!("CARGO_BIN_EXE_spotlab"))
        .args(["run", "--quiet", "--out"])
        .arg(&out)
        .arg("--agent-binary")
        .arg(&agent)
        .arg(&scenario)
        .env("CHECKPOINT_BUCKET", BUCKET)
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("AWS_PROFILE")
        .output()
        .expect("spotlab run runs");
    let told = format!(
        "{}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(run.status.success(), "the run failed:\n{told}");
    assert!(
        told.contains("Fault Injection Service experiment"),
        "the interruption did not go through FIS:\n{told}"
    );
    // The drained agent's checkpoint came back from the local cloud's S3.
    let checkpoints = std::fs::read_dir(out.join("checkpoints"))
        .expect("the run's checkpoints")
        .count();
    assert!(checkpoints >= 1, "no checkpoint came back from the bucket");
}
