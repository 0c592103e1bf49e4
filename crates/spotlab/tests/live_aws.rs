//! The live smoke test on real AWS. It spends money and needs credentials, so it runs
//! only when `SPOTLAB_LIVE_AWS=1` is set (never in CI); otherwise it passes at once.
//!
//! ```text
//! SPOTLAB_LIVE_AWS=1 CHECKPOINT_BUCKET=<unique name> \
//!   IMAGE_ID=resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64 \
//!   TARGET_URL=<a service the instances can reach> \
//!   SPOTLAB_LIVE_AGENT_BINARY=<spotlab built for the image, e.g. x86_64-unknown-linux-musl> \
//!   AWS_PROFILE=<profile> AWS_REGION=us-east-1 \
//!   cargo test -p spotlab --test live_aws -- --nocapture
//! ```
//!
//! The reference walkthrough at its smallest: the stack (`examples/aws-stack.toml`),
//! its price checked against tight guardrails first (`--dry-run --fleet`), the reference
//! fleet at 1 unit, fulfilled and held for a minute, deleted; then `spotlab cleanup`
//! and a check through the SDKs that nothing tagged with the stack remains.

#[path = "support/tagged.rs"]
mod tagged;

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use serde_json::Value;

const STACK: &str = "ReInvent-EC2SpotTestDev";

fn spotlab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_spotlab"))
        .args(args)
        .env_remove("AWS_ENDPOINT_URL")
        .output()
        .expect("running spotlab")
}

fn ok(what: &str, output: &Output) -> String {
    assert!(
        output.status.success(),
        "{what} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn json(what: &str, output: &Output) -> Value {
    let text = ok(what, output);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{what}: {e}: {text}"))
}

#[test]
fn the_walkthrough_at_its_smallest_on_aws() {
    if std::env::var_os("SPOTLAB_LIVE_AWS").is_none_or(|v| v != "1") {
        eprintln!("skipped: set SPOTLAB_LIVE_AWS=1 to run the live smoke test on AWS");
        return;
    }
    for needed in [
        "CHECKPOINT_BUCKET",
        "IMAGE_ID",
        "TARGET_URL",
        "SPOTLAB_LIVE_AGENT_BINARY",
    ] {
        assert!(
            std::env::var_os(needed).is_some(),
            "the live smoke test needs {needed}"
        );
    }
    let region = std::env::var("AWS_REGION").unwrap_or_else(|_| "us-east-1".to_owned());
    let binary = std::env::var("SPOTLAB_LIVE_AGENT_BINARY").expect("checked above");
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let stack_file = examples.join("aws-stack.toml");
    let stack_file = stack_file.to_str().expect("a UTF-8 path");
    let dir = tempfile::tempdir().expect("a temporary directory");

    // Guardrails first: at 1 unit the fleet must fit 2 instances and $0.50 an hour.
    let fleet_text = std::fs::read_to_string(examples.join("reference-fleet.json"))
        .expect("the reference fleet");
    let mut fleet: Value = serde_json::from_str(&fleet_text).expect("JSON");
    fleet["TargetCapacitySpecification"]["TotalTargetCapacity"] = 1.into();
    let fleet_file = dir.path().join("fleet.json");
    std::fs::write(&fleet_file, fleet.to_string()).expect("writing the fleet request");
    let fleet_path = fleet_file.to_str().expect("a UTF-8 path");
    let plan = ok(
        "stack up --dry-run",
        &spotlab(&[
            "stack",
            "up",
            "--aws",
            "--region",
            &region,
            stack_file,
            "--dry-run",
            "--fleet",
            fleet_path,
            "--max-instances",
            "2",
            "--max-hourly-usd",
            "0.5",
        ]),
    );
    eprintln!("{plan}");
    assert!(
        plan.contains("allowed"),
        "the guardrails refuse 1 unit:\n{plan}"
    );

    let outcome = std::panic::catch_unwind(|| {
        let outputs = json(
            "stack up",
            &spotlab(&[
                "stack",
                "up",
                "--aws",
                "--region",
                &region,
                stack_file,
                "--agent-binary",
                &binary,
            ]),
        );
        let template = outputs["LaunchTemplate"]["LaunchTemplateId"]
            .as_str()
            .expect("a launch template id")
            .to_owned();
        let subnets: Vec<String> = outputs["SubnetIds"]
            .as_array()
            .expect("SubnetIds")
            .iter()
            .map(|s| s.as_str().expect("a string").to_owned())
            .collect();
        let request = fleet
            .to_string()
            .replace("${LAUNCH_TEMPLATE_ID}", &template)
            .replace("${SUBNET_ID_1}", &subnets[0])
            .replace("${SUBNET_ID_2}", &subnets[1]);
        std::fs::write(&fleet_file, request).expect("writing the fleet request");
        // A new instance profile takes a few seconds to be usable by EC2.
        std::thread::sleep(Duration::from_secs(15));
        let created = json(
            "create-fleet",
            &spotlab(&[
                "ec2",
                "create-fleet",
                "--aws",
                "--region",
                &region,
                "--cli-input-json",
                &format!("file://{fleet_path}"),
            ]),
        );
        let id = created["FleetId"].as_str().expect("a fleet id").to_owned();
        let deadline = Instant::now() + Duration::from_secs(600);
        loop {
            let described = json(
                "describe-fleets",
                &spotlab(&[
                    "ec2",
                    "describe-fleets",
                    "--aws",
                    "--region",
                    &region,
                    "--fleet-ids",
                    &id,
                ]),
            );
            if described["Fleets"][0]["FulfilledCapacity"].as_f64() >= Some(1.0) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "not fulfilled in 10 minutes: {described}"
            );
            std::thread::sleep(Duration::from_secs(10));
        }
        std::thread::sleep(Duration::from_secs(60));
        json(
            "delete-fleets",
            &spotlab(&[
                "ec2",
                "delete-fleets",
                "--aws",
                "--region",
                &region,
                "--fleet-ids",
                &id,
                "--terminate-instances",
            ]),
        );
    });
    // Whatever happened, nothing may be left behind.
    ok(
        "cleanup",
        &spotlab(&[
            "cleanup", "--aws", "--region", &region, "--stack", STACK, "--wait", "15m",
        ]),
    );
    let left = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
        .block_on(async {
            tagged::Clients::new(None, None)
                .await
                .leftovers(STACK)
                .await
        });
    assert_eq!(left, Vec::<String>::new(), "left on AWS after cleanup");
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}
